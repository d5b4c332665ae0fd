"""Plots of a training log (train_log.jsonl): loss and F per entity type against step."""
import json
import os
from pathlib import Path
from typing import Dict, List

from .errors import BertNerError


def read_log(path: Path) -> List[Dict]:
    records = []
    for number, line in enumerate(Path(path).read_text(encoding="utf8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as err:
            raise BertNerError(f"{path}:{number}: not a JSON line ({err.msg}); is this a train_log.jsonl?") from None
    if not records:
        raise BertNerError(f"{path}: no evaluations logged yet")
    return records


def plot_training_log(path: Path, output_dir: Path) -> List[Path]:
    """Write train_loss.png and train_scores.png next to each other; return their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    records = read_log(path)
    steps = [r["step"] for r in records]
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)

    fig, ax = plt.subplots(figsize=(7, 4))
    for name in records[-1]["loss_per_step"]:
        ax.plot(steps, [r["loss_per_step"].get(name, float("nan")) for r in records], marker="o", label=name)
    ax.set_xlabel("step")
    ax.set_ylabel("mean loss per step since the previous evaluation")
    ax.set_yscale("log")
    ax.set_title("Training loss")
    ax.legend()
    loss_png = save_figure(fig, output_dir / "train_loss.png")

    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(steps, [r["scores"].get("ents_f", 0.0) * 100 for r in records], marker="o", linewidth=2.5, label="all (F)")
    per_type = records[-1]["scores"].get("ents_per_type") or {}
    for label in sorted(per_type):
        values = [((r["scores"].get("ents_per_type") or {}).get(label) or {}).get("f", 0.0) * 100 for r in records]
        ax.plot(steps, values, marker=".", label=label)
    best = next((r for r in reversed(records) if r["is_best"]), records[-1])
    ax.axvline(best["step"], color="grey", linestyle=":", label=f"best (step {best['step']})")
    ax.set_xlabel("step")
    ax.set_ylabel("dev F1 (%)")
    ax.set_title("Entity F1 per type")
    ax.legend(fontsize="small")
    scores_png = save_figure(fig, output_dir / "train_scores.png")
    return [loss_png, scores_png]


def save_figure(fig, path: Path) -> Path:
    """Save a matplotlib figure to `path` atomically and close it."""
    import matplotlib.pyplot as plt

    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.png")
    fig.tight_layout()
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.replace(tmp, path)
    return path
