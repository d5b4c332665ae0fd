"""Hostile text, batching, serialization and broken model folders."""
import pickle
import shutil
from pathlib import Path

import pytest
import spacy
import srsly
from spacy.tokens import DocBin

from conftest import TEXTS, entities
from spacy_bert_ner.errors import EncoderLoadError

HOSTILE = {
    "empty": "",
    "whitespace": "  \n\t \r\n  ",
    "one_mb_line": "x" * 1_000_000,
    "long_url": "https://example.com/" + "a1b2/" * 1000,
    "emoji": "👩‍👩‍👧 Angela Merkel 🇩🇪 visited Paris 🎉🎉",
    "cjk": "安格拉·默克尔访问了巴黎。東京で会議が開かれた。",
    "rtl": "أنجيلا ميركل زارت باريس. שלום עולם",
    "control": "Angela\x00Merkel\x07 visited\x1b Paris\x0c today\x7f .",
    "mixed_line_ends": "Angela Merkel\r\nvisited\rParis\n.\r\n\r\nReuters said",
}


def check_doc(doc, text):
    assert doc.text == text  # nothing dropped or truncated
    for ent in doc.ents:
        assert 0 <= ent.start < ent.end <= len(doc)
    group = doc.spans["bert_ner"]
    assert len(group.attrs["scores"]) == len(group) == len(doc.ents)
    assert all(0.0 <= s <= 1.0 for s in group.attrs["scores"])


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_text(overfit_nlp, name):
    text = HOSTILE[name]
    check_doc(overfit_nlp(text), text)
    (doc,) = list(overfit_nlp.pipe([text]))
    check_doc(doc, text)


def test_document_of_200_000_tokens(overfit_nlp):
    text = "the a of in the . " * 33_334
    doc = overfit_nlp(text)
    assert len(doc) >= 200_000
    check_doc(doc, text)


def test_entity_planted_after_the_encoder_maximum_length_is_found(overfit_nlp):
    max_length = overfit_nlp.get_pipe("bert_ner").model.get_ref("encoder").shims[0]._model.tokenizer_info["max_length"]
    filler = "the a of in the . " * (3 * max_length // 6)
    text = filler + TEXTS[0]
    doc = overfit_nlp(text)
    assert len(doc) > 3 * max_length // 2
    found = [(e.text, e.label_) for e in doc.ents if e.start_char >= len(filler)]
    assert ("Angela Merkel", "PER") in found and ("Paris", "LOC") in found


def test_two_processes_give_the_same_entities_and_scores(overfit_nlp):
    texts = TEXTS * 4 + [HOSTILE["emoji"], ""]
    single = [(entities(d), d.spans["bert_ner"].attrs["scores"]) for d in overfit_nlp.pipe(texts)]
    multi = [(entities(d), d.spans["bert_ner"].attrs["scores"]) for d in overfit_nlp.pipe(texts, n_process=2, batch_size=3)]
    assert [e for e, _ in multi] == [e for e, _ in single]
    for (_, a), (_, b) in zip(multi, single):
        assert a == pytest.approx(b, abs=1e-5)


def test_predicted_docs_survive_docbin_and_pickle(overfit_nlp):
    docs = list(overfit_nlp.pipe(TEXTS))
    restored = list(DocBin().from_bytes(DocBin(docs=docs).to_bytes()).get_docs(overfit_nlp.vocab))
    pickled = pickle.loads(pickle.dumps(docs))
    for original in (restored, pickled):
        for doc, copy in zip(docs, original):
            assert entities(copy) == entities(doc)
            assert [s.text for s in copy.spans["bert_ner"]] == [s.text for s in doc.spans["bert_ner"]]
            assert copy.spans["bert_ner"].attrs["scores"] == doc.spans["bert_ner"].attrs["scores"]


@pytest.fixture
def saved(overfit_nlp, tmp_path) -> Path:
    path = tmp_path / "pipeline"
    overfit_nlp.to_disk(path)
    return path


def test_missing_weights_file_names_it(saved):
    (saved / "bert_ner" / "model").unlink()
    with pytest.raises(EncoderLoadError, match=r"bert_ner/model: missing"):
        spacy.load(saved)


def test_truncated_weights_file_names_it(saved):
    model_file = saved / "bert_ner" / "model"
    model_file.write_bytes(model_file.read_bytes()[: model_file.stat().st_size // 2])
    with pytest.raises(EncoderLoadError, match=r"bert_ner/model: cannot be loaded"):
        spacy.load(saved)


def test_incompatible_plugin_version_is_named(saved):
    model_file = saved / "bert_ner" / "model"
    msg = srsly.msgpack_loads(model_file.read_bytes())
    for shims in msg["shims"]:
        for i, data in enumerate(shims):
            inner = srsly.msgpack_loads(data)
            state = srsly.msgpack_loads(inner["state"])
            state.update({"format": 99, "plugin_version": "9.0.0"})
            inner["state"] = srsly.msgpack_dumps(state)
            shims[i] = srsly.msgpack_dumps(inner)
    model_file.write_bytes(srsly.msgpack_dumps(msg))
    with pytest.raises(EncoderLoadError, match=r"incompatible spacy-bert-ner \(9.0.0\)"):
        spacy.load(saved)


def test_unknown_architecture_is_named(saved):
    config = (saved / "config.cfg").read_text()
    (saved / "config.cfg").write_text(config.replace("spacy_bert_ner.TokenClassifier.v1", "spacy_bert_ner.TokenClassifier.v9"))
    with pytest.raises(Exception, match=r"spacy_bert_ner.TokenClassifier.v9"):
        spacy.load(saved)


def test_no_unsafe_deserialization_in_the_package():
    source = Path(spacy_bert_ner_path()).rglob("*.py")
    for path in source:
        text = path.read_text()
        assert "torch.load(" not in text or "weights_only=True" in text, path
        assert "pickle.load" not in text, path


def spacy_bert_ner_path() -> str:
    import spacy_bert_ner

    return str(Path(spacy_bert_ner.__file__).parent)


def test_copy_of_pipeline_folder_predicts_the_same(overfit_nlp, saved, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(saved, copy)
    nlp = spacy.load(copy)
    assert [entities(nlp(t)) for t in TEXTS] == [entities(overfit_nlp(t)) for t in TEXTS]


def snapshot(folder: Path):
    return {p: p.stat().st_mtime_ns for p in folder.rglob("*")}


def test_commands_write_only_inside_their_output(saved, tmp_path):
    import subprocess
    import sys

    from conftest import REPO

    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(REPO / "corpus" / "test.conll", work / "test.conll")
    before = snapshot(work)
    commands = [
        ["convert", "test.conll", "out/test.spacy"],
        ["evaluate", str(saved), "test.conll", "--output", "report"],
    ]
    (work / "out").mkdir()
    before[work / "out"] = (work / "out").stat().st_mtime_ns
    for args in commands:
        done = subprocess.run([sys.executable, "-m", "spacy_bert_ner", *args], cwd=work, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    after = snapshot(work)
    new = {p for p in after if p not in before}
    assert all(p.is_relative_to(work / "out") or p.is_relative_to(work / "report") for p in new), new
    assert all(after[p] == before[p] for p in before if p != work / "out"), "an existing file was modified"
    assert not [p for p in snapshot(saved) if p.stat().st_mtime_ns > max(before.values())]
