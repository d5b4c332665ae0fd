"""Conversion speed: our `convert` against `spacy convert -c ner`, on one CoNLL file.

Two measurements for each, best of --repeats runs:
- command: `python -m spacy_bert_ner convert` and `python -m spacy convert -c ner`
  as fresh processes, so each time includes starting Python and importing spaCy;
- in-process: the conversion call alone (`spacy_bert_ner.convert.convert` and
  `spacy.cli.convert.convert`), the file read and the .spacy file written.
Throughput is the input's tokens (as we count them) per second. spaCy names its
output by the input's stem, so it runs on a copy in a temporary folder.

    python bench/convert_speed.py                       # eng.train of shared/data/conll2003
    python bench/convert_speed.py path/to/file.conll --repeats 3 --min-ratio 3
"""
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, List

import typer
from wasabi import msg

DEFAULT_INPUT = Path(__file__).resolve().parents[2] / "shared" / "data" / "conll2003" / "eng.train"


def best_time(func: Callable[[], None], repeats: int) -> float:
    times: List[float] = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def run(command: List[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        msg.fail(f"{' '.join(command)} failed ({result.returncode})", result.stderr[-2000:], exits=1)


def main(
    input_path: Path = typer.Argument(DEFAULT_INPUT, help="A CoNLL NER file (-DOCSTART- -X- O O markers)"),
    repeats: int = typer.Option(1, "--repeats", "-r", min=1, help="Runs per measurement (the best counts)"),
    min_ratio: float = typer.Option(0.0, "--min-ratio", help="Exit 1 if the command speed-up is below this"),
) -> None:
    """Print tokens/s of our converter and of spaCy's, side by side, and the ratio."""
    from spacy.cli.convert import convert as spacy_convert

    from spacy_bert_ner.convert import convert

    if not input_path.is_file():
        msg.fail(f"{input_path}: no such file", exits=1)
    python = sys.executable
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        source = tmp / "input" / input_path.name
        source.parent.mkdir()
        shutil.copyfile(input_path, source)
        for name in ("ours", "spacy_cmd", "spacy_lib"):
            (tmp / name).mkdir()
        n_tokens = convert(source, tmp / "ours" / "count.spacy").total("tokens")
        ours_cmd = [python, "-m", "spacy_bert_ner", "convert", str(source), str(tmp / "ours" / "cmd.spacy")]
        spacy_cmd = [python, "-m", "spacy", "convert", "-c", "ner", str(source), str(tmp / "spacy_cmd")]
        msg.info(f"{input_path} ({n_tokens:,} tokens), best of {repeats}")
        rows = []
        timings = {
            "command": (
                best_time(lambda: run(ours_cmd), repeats),
                best_time(lambda: run(spacy_cmd), repeats),
            ),
            "in-process": (
                best_time(lambda: convert(source, tmp / "ours" / "lib.spacy"), repeats),
                best_time(
                    lambda: spacy_convert(
                        source, tmp / "spacy_lib", file_type="spacy", converter="ner", silent=True
                    ),
                    repeats,
                ),
            ),
        }
        for kind, (ours, theirs) in timings.items():
            rows.append(
                (
                    kind,
                    f"{ours:.2f}s",
                    f"{n_tokens / ours:,.0f}",
                    f"{theirs:.2f}s",
                    f"{n_tokens / theirs:,.0f}",
                    f"{theirs / ours:.1f}x",
                )
            )
    header = ("", "ours", "ours tokens/s", "spacy convert", "spacy tokens/s", "speed-up")
    msg.table(rows, header=header, divider=True, aligns=("l", "r", "r", "r", "r", "r"))
    ratio = timings["command"][1] / timings["command"][0]
    if min_ratio and ratio < min_ratio:
        msg.fail(f"command speed-up {ratio:.1f}x is below --min-ratio {min_ratio}", exits=1)


if __name__ == "__main__":
    typer.run(main)
