"""Smoke test of the spaCy project: the whole `all` workflow with a few training
steps, then the packaged model installed and loaded in a clean virtualenv."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

PROJECT_FILES = ["project.yml", "setup.py", "README.md", "requirements.txt", "configs", "scripts", "spacy_bert_ner"]
CORPUS_FILES = ["train.conll", "dev.conll", "test.conll"]


def run(args, cwd, env=None, timeout=900):
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{args} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def workflow(tmp_path_factory):
    project = tmp_path_factory.mktemp("project")
    for name in PROJECT_FILES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, project / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, project / name)
    (project / "corpus").mkdir()
    for name in CORPUS_FILES:
        shutil.copy(REPO / "corpus" / name, project / "corpus" / name)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    args = [sys.executable, "-m", "spacy", "project", "run", "all", str(project)]
    run(args + ["--vars.max_steps", "2", "--vars.eval_frequency", "1"], cwd=project, env=env)
    return project


def test_workflow_writes_every_output(workflow):
    for name in ("train.spacy", "dev.spacy", "test.spacy"):
        assert (workflow / "corpus" / name).stat().st_size > 0
    for name in ("model-best", "model-last"):
        assert (workflow / "training" / name / "bert_ner" / "model").exists()
    for name in ("metrics.json", "report.md", "errors.html", "confusion.png"):
        assert (workflow / "metrics" / name).exists()
    assert len(list((workflow / "packages" / "en_bert_ner-0.1.0" / "dist").glob("*.whl"))) == 1
    assert len(list((workflow / "packages").glob("spacy_bert_ner-*.whl"))) == 1


def test_package_carries_the_test_scores(workflow):
    metrics = json.loads((workflow / "metrics" / "metrics.json").read_text())
    meta = json.loads((workflow / "packages" / "en_bert_ner-0.1.0" / "meta.json").read_text())
    assert meta["performance"]["ents_f"] == pytest.approx(metrics["ents_f"], abs=1e-6)
    assert set(meta["performance"]["ents_per_type"]) == {"LOC", "MISC", "ORG", "PER"}
    assert any(req.startswith("spacy-bert-ner") for req in meta["requirements"])
    card = (workflow / "packages" / "en_bert_ner-0.1.0" / "README.md").read_text()
    assert "ENTS_F" in card or "ents_f" in card.lower()


@pytest.mark.slow
def test_packaged_model_loads_in_a_clean_venv_without_importing_the_plugin(workflow, tmp_path):
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path)
    python = venv / "bin" / "python"
    wheels = [str(p) for p in (workflow / "packages").glob("**/*.whl")]
    run([str(python), "-m", "pip", "install", "-q", "torch==2.13.0", *wheels], cwd=tmp_path, timeout=1200)
    code = (
        "import sys, spacy\n"
        "nlp = spacy.load('en_bert_ner')\n"
        "doc = nlp('Angela Merkel met Emmanuel Macron in Paris.')\n"
        "group = doc.spans['bert_ner']\n"
        "assert len(group.attrs['scores']) == len(group) == len(doc.ents)\n"
        "print(nlp.pipe_names, [(e.text, e.label_) for e in doc.ents])\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    result = run([str(python), "-c", code], cwd=tmp_path, env=env)
    assert "['bert_ner']" in result.stdout
