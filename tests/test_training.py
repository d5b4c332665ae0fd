"""Training with the project's config on the tiny encoder: the JSONL log, the
plots, atomic checkpoints that survive SIGKILL and SIGINT, and resuming."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import spacy

from conftest import REPO
from spacy_bert_ner.convert import convert
from spacy_bert_ner.loggers import training_output_dir
from spacy_bert_ner.plots import read_log
from spacy_bert_ner.errors import BertNerError
from spacy_bert_ner.training import recover, swap_in, train


@pytest.fixture(scope="module")
def trained(tiny_encoder, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("train")
    convert(REPO / "corpus" / "dev.conll", tmp / "dev.spacy")
    output = tmp / "out"
    train(REPO / "configs" / "cpu.cfg", output, overrides=tiny_overrides(tmp, tiny_encoder))
    return output


def tiny_overrides(tmp, encoder, steps=6, every=3):
    return {
        "paths.train": str(tmp / "dev.spacy"),
        "paths.dev": str(tmp / "dev.spacy"),
        "paths.encoder": encoder,
        "training.max_steps": steps,
        "training.eval_frequency": every,
    }


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


def test_checkpoints_are_published_and_staging_removed(trained):
    assert not (trained / ".staging").exists()
    assert not [p for p in trained.iterdir() if p.name.startswith(".")]
    best = spacy.load(trained / "model-best")
    assert best.meta["performance"]["ents_f"] >= 0.0


def test_resume_starts_from_model_last(trained, tiny_encoder, tmp_path):
    output = tmp_path / "resumed"
    shutil_copy = __import__("shutil").copytree
    shutil_copy(trained / "model-last", output / "model-last")
    overrides = tiny_overrides(trained.parent, tiny_encoder, steps=2, every=1)
    train(REPO / "configs" / "cpu.cfg", output, overrides=overrides, resume=True)
    nlp = spacy.load(output / "model-last")
    assert nlp.get_pipe("bert_ner").labels == ("LOC", "MISC", "ORG", "PER")


def test_resume_without_a_model_is_a_clear_error(tmp_path):
    with pytest.raises(BertNerError, match="no complete model to resume from"):
        train(REPO / "configs" / "cpu.cfg", tmp_path / "empty", resume=True)


def test_swap_and_recover_never_lose_a_complete_folder(tmp_path):
    target = tmp_path / "model-last"
    target.mkdir()
    (target / "v").write_text("1")
    new = tmp_path / "new"
    new.mkdir()
    (new / "v").write_text("2")
    swap_in(new, target)
    assert (target / "v").read_text() == "2"
    # a kill between the two renames: only the backup is left
    os.replace(target, tmp_path / ".model-last.old")
    (tmp_path / ".model-last.tmp-123").mkdir()
    recover(tmp_path)
    assert (target / "v").read_text() == "2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model-last"]


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_killed_training_keeps_complete_checkpoints(tiny_encoder, tmp_path, sig):
    convert(REPO / "corpus" / "dev.conll", tmp_path / "dev.spacy")
    output = tmp_path / "out"
    args = [sys.executable, "-m", "spacy_bert_ner", "train", str(REPO / "configs" / "cpu.cfg"), "--output", str(output)]
    for key, value in tiny_overrides(tmp_path, tiny_encoder, steps=10_000, every=1).items():
        args += [f"--{key}", str(value)]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    while not (output / "model-best").exists() and time.time() < deadline:
        time.sleep(0.5)
    time.sleep(3)  # well inside later checkpoint writes
    process.send_signal(sig)
    process.wait(timeout=120)
    recover(output)
    for name in ("model-last", "model-best"):
        nlp = spacy.load(output / name)
        assert nlp.pipe_names == ["bert_ner"]
        nlp("Angela Merkel visited Paris .")
