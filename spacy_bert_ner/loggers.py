"""Training-time hooks: spaCy's console table, plus every evaluation as one JSON
line in the output folder, plus plots when training ends."""
import json
import sys
import time
from pathlib import Path
from typing import IO, Any, Callable, Dict, List, Optional

from spacy.training.loggers import console_logger_v3
from spacy.util import registry
from wasabi import msg

from .errors import BertNerError

Logger = Callable[..., Any]
LOG_NAME = "train_log.jsonl"


def training_output_dir(argv: List[str]) -> Path:
    """The folder `spacy train ... --output DIR` writes to (else the current one)."""
    for i, arg in enumerate(argv):
        if arg in ("--output", "-o", "--output-path") and i + 1 < len(argv):
            return Path(argv[i + 1])
        if arg.startswith("--output="):
            return Path(arg.split("=", 1)[1])
    return Path(".")


@registry.loggers("spacy_bert_ner.JsonlLogger.v1")
def jsonl_logger(
    output_dir: Optional[str] = None,
    progress_bar: bool = True,
    plots: bool = True,
    chain: Optional[Logger] = None,
) -> Logger:
    """spaCy's console table, and a JSON line per evaluation in `output_dir`/train_log.jsonl.

    output_dir (Optional[str]): where the log and plots go; None: the folder
        given to `spacy train --output`.
    progress_bar (bool): a progress bar within each eval interval, when stdout is a terminal.
    plots (bool): write train_loss.png and train_scores.png when training ends.
    chain (Optional[Logger]): another logger to call too, e.g. spacy.WandbLogger.v5
        or spacy.MLflowLogger.v2 from spacy-loggers.
    """

    def setup(nlp, stdout: IO = sys.stdout, stderr: IO = sys.stderr):
        bar = "eval" if progress_bar and hasattr(stdout, "isatty") and stdout.isatty() else None
        loggers = [console_logger_v3(progress_bar=bar)(nlp, stdout, stderr)]
        if chain is not None:
            loggers.append(chain(nlp, stdout, stderr))
        folder = Path(output_dir) if output_dir else training_output_dir(sys.argv)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / LOG_NAME
        stream = path.open("w", encoding="utf8")
        start = time.time()
        state: Dict[str, Any] = {"best_score": None, "best_step": None, "words": 0, "seconds": 0.0, "step": -1}

        def log_step(info: Optional[Dict[str, Any]]) -> None:
            for log, _ in loggers:
                log(info)
            if info is None:
                return
            elapsed = time.time() - start
            is_best = state["best_score"] is None or info["score"] > state["best_score"]
            if is_best:
                state["best_score"], state["best_step"] = float(info["score"]), info["step"]
            words = info["words"] - state["words"]
            seconds = elapsed - state["seconds"]
            steps = max(info["step"] - state["step"], 1)  # spaCy sums losses since the last evaluation
            state["words"], state["seconds"], state["step"] = info["words"], elapsed, info["step"]
            record = {
                "step": info["step"],
                "epoch": info["epoch"],
                "elapsed_seconds": round(elapsed, 2),
                "score": float(info["score"]),
                "is_best": is_best,
                "best_step": state["best_step"],
                "best_score": state["best_score"],
                "losses": {k: float(v) for k, v in info["losses"].items()},
                "loss_per_step": {k: float(v) / steps for k, v in info["losses"].items()},
                "words_seen": info["words"],
                "train_words_per_second": words / seconds if seconds > 0 else 0.0,
                "scores": info["other_scores"],
            }
            stream.write(json.dumps(record, default=float) + "\n")
            stream.flush()

        def finalize() -> None:
            for _, close in loggers:
                close()
            stream.close()
            if plots:
                from .plots import plot_training_log

                try:
                    written = plot_training_log(path, folder)
                    msg.info(f"Training log {path}; plots: {', '.join(str(p) for p in written)}")
                except ImportError:
                    msg.warn("matplotlib is not installed: no training plots (pip install matplotlib)")
                except BertNerError as err:
                    msg.warn(f"No training plots: {err}")

        return log_step, finalize

    return setup
