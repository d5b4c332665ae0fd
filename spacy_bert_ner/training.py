"""`spacy train` whose checkpoints survive being killed at any moment.

spaCy writes `model-last` in place and rebuilds `model-best` with rmtree +
copytree, and wipes both when a run starts: a SIGKILL at the wrong moment
leaves a half-written model, and a restart loses the last good one. Here
spaCy trains into a staging folder inside the output folder, and every
checkpoint is written to a temporary folder and renamed into place, so
`model-last` and `model-best` are always complete (and the previous run's stay
until the new run has better ones to put there).
"""
import os
import shutil
from pathlib import Path
from typing import Any, Callable, Dict, Optional

from spacy.language import Language
from spacy.util import registry
from wasabi import msg

from .errors import BertNerError

STAGING = ".staging"
CHECKPOINTS = ("model-last", "model-best")


def swap_in(new_dir: Path, target: Path) -> None:
    """Replace `target` by the complete folder `new_dir` with two renames; a kill
    between them leaves `.{name}.old`, which `recover` puts back."""
    backup = target.with_name(f".{target.name}.old")
    if backup.exists():
        shutil.rmtree(backup)
    if target.exists():
        os.replace(target, backup)
    os.replace(new_dir, target)
    shutil.rmtree(backup, ignore_errors=True)


def recover(output_dir: Path) -> None:
    """Undo what a kill can leave behind: put back a checkpoint caught between
    its two renames, and remove unfinished temporary folders."""
    for name in CHECKPOINTS:
        target, backup = output_dir / name, output_dir / f".{name}.old"
        if backup.exists():
            if target.exists():
                shutil.rmtree(backup)
            else:
                os.replace(backup, target)
        for tmp in output_dir.glob(f".{name}.tmp-*"):
            shutil.rmtree(tmp, ignore_errors=True)


def save_atomically(nlp: Language, target: Path) -> None:
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    if tmp.exists():
        shutil.rmtree(tmp)
    nlp.to_disk(tmp)
    swap_in(tmp, target)


@registry.callbacks("spacy_bert_ner.publish_checkpoints.v1")
def publish_checkpoints(
    output_dir: str, then: Optional[Callable[[Language], Language]] = None
) -> Callable[[Language], Language]:
    """A `before_to_disk` callback that saves each checkpoint atomically into
    `output_dir` (model-last always, model-best when the score improved).

    then (Optional[Callable]): the config's own before_to_disk, applied first.
    """
    best: Dict[str, Any] = {"score": None}

    def before_to_disk(nlp: Language) -> Language:
        if then is not None:
            nlp = then(nlp)
        folder = Path(output_dir)
        save_atomically(nlp, folder / "model-last")
        score = weighted_score(nlp)
        if score is not None and (best["score"] is None or score > best["score"]):
            best["score"] = score
            tmp = folder / f".model-best.tmp-{os.getpid()}"
            if tmp.exists():
                shutil.rmtree(tmp)
            shutil.copytree(folder / "model-last", tmp)
            swap_in(tmp, folder / "model-best")
        return nlp

    return before_to_disk


def weighted_score(nlp: Language) -> Optional[float]:
    """The training score of the last evaluation, from the meta spaCy updates."""
    weights = {key: w for key, w in nlp.config["training"]["score_weights"].items() if w}
    performance = nlp.meta.get("performance") or {}
    if not any(key in performance for key in weights):
        return None
    return sum(float(performance.get(key) or 0.0) * w for key, w in weights.items())


def train(
    config_path: Path,
    output_dir: Path,
    *,
    use_gpu: int = -1,
    overrides: Optional[Dict[str, Any]] = None,
    resume: bool = False,
) -> None:
    """Run `spacy train` with atomic checkpoints in `output_dir`.

    resume (bool): start from `output_dir/model-last` (its weights and labels;
        the optimizer and learning-rate schedule start afresh).
    """
    from spacy.cli.train import train as spacy_train
    from spacy.util import load_config

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    recover(output_dir)
    overrides = dict(overrides or {})
    source = output_dir / "model-last"
    if resume and not (source / "config.cfg").exists():
        raise BertNerError(f"{source}: no complete model to resume from; train without --resume first")
    staging = output_dir / STAGING
    staging.mkdir(exist_ok=True)
    config = load_config(config_path, overrides=overrides, interpolate=False)
    if resume:  # every component sourced from model-last, user overrides applied
        for name in config["nlp"]["pipeline"]:
            config["components"][name] = {"source": str(source)}
        config_path = staging / "resume.cfg"
        config.to_disk(config_path)
        overrides = {}
    inner = config["training"].get("before_to_disk")
    callback: Dict[str, Any] = {"@callbacks": "spacy_bert_ner.publish_checkpoints.v1", "output_dir": str(output_dir)}
    if inner:
        callback["then"] = inner
    overrides["training.before_to_disk"] = callback
    if config["training"].get("logger", {}).get("@loggers") == "spacy_bert_ner.JsonlLogger.v1":
        overrides.setdefault("training.logger.output_dir", str(output_dir))
    try:
        spacy_train(config_path, staging, use_gpu=use_gpu, overrides=overrides)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    msg.good(f"Checkpoints in {output_dir}: {', '.join(CHECKPOINTS)}")

