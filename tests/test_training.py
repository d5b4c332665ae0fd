"""`spacy train` with the project's config on the tiny encoder: the JSONL log,
the plots, and the saved pipeline."""
import json

import pytest
import spacy
from spacy.cli.train import train

from conftest import REPO
from spacy_bert_ner.convert import convert
from spacy_bert_ner.loggers import training_output_dir
from spacy_bert_ner.plots import read_log
from spacy_bert_ner.errors import BertNerError


@pytest.fixture(scope="module")
def trained(tiny_encoder, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("train")
    convert(REPO / "corpus" / "dev.conll", tmp / "dev.spacy")
    output = tmp / "out"
    overrides = {
        "paths.train": str(tmp / "dev.spacy"),
        "paths.dev": str(tmp / "dev.spacy"),
        "paths.encoder": tiny_encoder,
        "training.max_steps": 6,
        "training.eval_frequency": 3,
        "training.logger.output_dir": str(output),
    }
    train(REPO / "configs" / "cpu.cfg", output, overrides=overrides)
    return output


def test_jsonl_log_has_one_line_per_evaluation_with_per_type_scores(trained):
    records = read_log(trained / "train_log.jsonl")
    assert [r["step"] for r in records] == [0, 3, 6]
    for r in records:
        assert set(r["scores"]["ents_per_type"]) <= {"LOC", "MISC", "ORG", "PER"}
        assert {"ents_f", "ents_p", "ents_r", "ents_macro_f"} <= set(r["scores"])
        assert r["losses"]["bert_ner"] >= 0.0
        assert r["elapsed_seconds"] >= 0.0
    assert records[0]["is_best"]
    best = [r for r in records if r["is_best"]][-1]
    assert all(r["best_step"] == best["step"] for r in records if r["step"] >= best["step"])
    json.dumps(records)  # everything serializable


def test_plots_and_models_are_written(trained):
    for name in ("train_loss.png", "train_scores.png"):
        assert (trained / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    nlp = spacy.load(trained / "model-last")
    assert nlp.pipe_names == ["bert_ner"]
    nlp("Angela Merkel visited Paris .")


def test_output_dir_comes_from_the_command_line():
    assert str(training_output_dir(["spacy", "train", "c.cfg", "--output", "out"])) == "out"
    assert str(training_output_dir(["spacy", "train", "c.cfg", "-o", "x/y"])) == "x/y"
    assert str(training_output_dir(["spacy", "train", "c.cfg"])) == "."


def test_bad_log_line_is_a_clear_error(tmp_path):
    path = tmp_path / "train_log.jsonl"
    path.write_text('{"step": 0}\nnot json\n')
    with pytest.raises(BertNerError, match="train_log.jsonl:2"):
        read_log(path)
