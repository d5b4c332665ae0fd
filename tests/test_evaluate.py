"""`evaluate`: the report files, agreement with seqeval, clear errors."""
import json
import subprocess
import sys

import pytest
import spacy
from spacy.tokens import Doc

from conftest import REPO
from spacy_bert_ner.conll import ConllReader
from spacy_bert_ner.convert import make_doc
from spacy_bert_ner.evaluate import evaluate

DATA = REPO / "corpus" / "test.conll"


@pytest.fixture(scope="module")
def saved_model(overfit_nlp, tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "pipeline"
    overfit_nlp.to_disk(path)
    return path


def iob2(doc):
    tags = ["O"] * len(doc)
    for ent in doc.ents:
        tags[ent.start] = f"B-{ent.label_}"
        for i in range(ent.start + 1, ent.end):
            tags[i] = f"I-{ent.label_}"
    return tags


def test_cli_writes_every_report_file(saved_model, tmp_path):
    out = tmp_path / "report"
    result = subprocess.run(
        [sys.executable, "-m", "spacy_bert_ner", "evaluate", str(saved_model), str(DATA), "--output", str(out)],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "ALL" in result.stdout
    metrics = json.loads((out / "metrics.json").read_text())
    for key in ("ents_p", "ents_r", "ents_f", "ents_per_type", "ents_macro_f", "ents_token_report",
                "ents_errors", "ents_confusion", "confidence_calibration", "words_per_second", "model", "data"):
        assert key in metrics
    report = (out / "report.md").read_text()
    for heading in ("## Entities", "## Tokens", "## Error classes", "## Confusion"):
        assert heading in report
    assert (out / "confusion.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "errors.html").read_text().startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in out.iterdir()) == ["confusion.png", "errors.html", "metrics.json", "report.md"]


def test_metrics_agree_with_seqeval_on_the_same_predictions(saved_model):
    from seqeval.metrics import f1_score, precision_score, recall_score
    from seqeval.scheme import IOB2

    scores = evaluate(str(saved_model), DATA)
    nlp = spacy.load(saved_model)
    gold = [make_doc(nlp.vocab, d) for d in ConllReader(DATA)]
    predicted = nlp.pipe(Doc(nlp.vocab, words=[t.text for t in g]) for g in gold)
    y_true = [iob2(g) for g in gold]
    y_pred = [iob2(p) for p in predicted]
    kw = {"mode": "strict", "scheme": IOB2}
    assert scores["ents_p"] == pytest.approx(precision_score(y_true, y_pred, **kw), abs=1e-9)
    assert scores["ents_r"] == pytest.approx(recall_score(y_true, y_pred, **kw), abs=1e-9)
    assert scores["ents_f"] == pytest.approx(f1_score(y_true, y_pred, **kw), abs=1e-9)


def test_int8_evaluation_runs(saved_model):
    scores = evaluate(str(saved_model), DATA, int8=True)
    assert scores["int8"] is True and 0.0 <= scores["ents_f"] <= 1.0


@pytest.mark.parametrize(
    "model,data,message",
    [
        ("no-such-model", DATA, "Cannot load the pipeline 'no-such-model'"),
        (None, REPO / "README.md", "README.md:"),
    ],
)
def test_bad_inputs_are_one_line_errors(saved_model, tmp_path, model, data, message):
    out = tmp_path / "report"
    result = subprocess.run(
        [sys.executable, "-m", "spacy_bert_ner", "evaluate", model or str(saved_model), str(data), "--output", str(out)],
        capture_output=True, text=True,
    )
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()
