"""The command line: `python -m spacy_bert_ner COMMAND ...` (or `spacy-bert-ner COMMAND`).

Commands stay thin: parse the arguments, call the library, print. A
`BertNerError` (bad data, bad paths, bad options) ends a command with one red
line on stderr and exit status 1, never a traceback: `main()` does that for the
whole app, and `@fails_cleanly` does it for a command wherever it is mounted.

    @app.command("evaluate")
    @fails_cleanly
    def evaluate_cli(...): ...
"""
import functools
import sys
from pathlib import Path
from typing import Any, Callable, Optional, TypeVar

import typer
from wasabi import msg
from wasabi.util import color, locale_escape

from .errors import BertNerError

F = TypeVar("F", bound=Callable[..., Any])

app = typer.Typer(
    name="spacy-bert-ner",
    help="spacy-bert-ner: transformer NER for spaCy, on the command line.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def print_error(message: str) -> None:
    """One red line on stderr (wasabi's fail style, never wrapped)."""
    line = " ".join(str(message).split("\n"))
    icon = msg.icons.get("fail") if msg.pretty else None
    if icon:
        line = locale_escape(f"{icon} {line}")
    if msg.pretty and msg.show_color:
        line = color(line, fg=msg.colors.get("fail"))
    print(line, file=sys.stderr, flush=True)


def fails_cleanly(func: F) -> F:
    """Decorate a command: a BertNerError becomes print_error + exit status 1."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except BertNerError as e:
            print_error(str(e))
            raise typer.Exit(1)

    return wrapper  # type: ignore[return-value]


def main() -> None:
    """Run the app (the console script and `python -m spacy_bert_ner`)."""
    try:
        app()
    except BertNerError as e:  # from a command not decorated with fails_cleanly
        print_error(str(e))
        sys.exit(1)


@app.command("convert")
@fails_cleanly
def convert_cli(
    input_path: Path = typer.Argument(..., help="A CoNLL file (plain or .gz), or a folder of them"),
    output_path: Path = typer.Argument(
        ..., help="The .spacy file (or a folder to put it in); for an input folder, the output folder"
    ),
    n_sents: Optional[int] = typer.Option(
        None, "--n-sents", "-n", min=1,
        help="Sentences per Doc for files without -DOCSTART- markers (default 1); "
        "files with markers follow them",
    ),
    scheme: str = typer.Option("auto", "--scheme", "-s", help="auto, iob1, iob2, bioes or biluo"),
    tag_column: int = typer.Option(
        -1, "--tag-column", "-t", help="The tag's column, from 1 (the word), or from the end (-1: last)"
    ),
    lang: str = typer.Option(
        "xx", "--lang", "-l", help="spaCy language code (checked and recorded; the output does not depend on it)"
    ),
    strict: bool = typer.Option(False, "--strict", help="Fail on tag sequences instead of repairing them"),
    summary: Optional[Path] = typer.Option(None, "--summary", help="Write the statistics to this JSON file"),
    encoding: str = typer.Option("utf-8", "--encoding", "-e", help="The input's text encoding"),
) -> None:
    """Convert CoNLL NER data (CoNLL-2002/2003, WNUT, ...; IOB1/IOB2/BIOES/BILUO)
    to .spacy files: exact words, sentence starts, entities. Outputs appear only
    when every input has converted."""
    from .convert import FileStats, convert

    def report(stats: FileStats) -> None:
        msg.good(
            f"{stats.input} → {stats.output}: {stats.docs:,} docs, {stats.sentences:,} sentences, "
            f"{stats.tokens:,} tokens, {stats.entities:,} entities ({stats.scheme.upper()}, "
            f"{stats.columns} {stats.delimiter}-separated columns)"
        )
        for warning in stats.warnings:
            msg.warn(warning)
        n_repairs = sum(stats.repairs.values())
        if n_repairs:
            kinds = ", ".join(f"{n} {kind}" for kind, n in stats.repairs.items())
            msg.warn(f"{n_repairs} tag sequences repaired ({kinds}); --strict makes them errors")
            for example in stats.repair_examples:
                msg.text(f"  {example}")

    result = convert(
        input_path,
        output_path,
        scheme=scheme,
        n_sents=n_sents,
        tag_column=tag_column,
        strict=strict,
        encoding=encoding,
        lang=lang,
        summary_path=summary,
        on_file=report,
    )
    total = result.to_dict()["total"]
    msg.info(
        f"Wrote {len(result.files)} file(s) in {result.seconds:.2f}s "
        f"({total['tokens_per_second']:,} tokens/s)" + (f"; summary: {summary}" if summary else "")
    )


@app.command("train", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
@fails_cleanly
def train_cli(
    ctx: typer.Context,
    config_path: Path = typer.Argument(..., help="Training config", exists=True, dir_okay=False),
    output: Path = typer.Option(..., "--output", "-o", help="Folder for model-last, model-best and the training log"),
    gpu_id: int = typer.Option(-1, "--gpu-id", "-g", help="GPU to use, -1 for CPU"),
    resume: bool = typer.Option(False, "--resume", help="Continue from OUTPUT/model-last"),
) -> None:
    """`spacy train` with checkpoints that are always complete: each is written
    aside and renamed into place, so killing the run never loses the last good
    model. Extra `--section.key value` options override the config, as in spaCy."""
    from spacy.cli._util import parse_config_overrides

    from .training import train

    train(config_path, output, use_gpu=gpu_id, overrides=parse_config_overrides(ctx.args), resume=resume)


@app.command("evaluate")
@fails_cleanly
def evaluate_cli(
    model: str = typer.Argument(..., help="A pipeline: package name or folder"),
    data: Path = typer.Argument(..., help="Gold data: a .spacy file, or a CoNLL file read directly", exists=True),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Folder for metrics.json, report.md, confusion.png, errors.html"),
    gpu_id: int = typer.Option(-1, "--gpu-id", "-g", help="GPU to use, -1 for CPU"),
    batch_size: int = typer.Option(64, "--batch-size", "-b", help="Docs per nlp.pipe batch"),
    int8: bool = typer.Option(False, "--int8", help="Predict with int8 dynamic quantisation (CPU)"),
) -> None:
    """Score a pipeline's entities per type: exact-match P/R/F, token report,
    error classes, confusion matrix, confidence calibration and speed."""
    from .evaluate import evaluate, print_summary

    scores = evaluate(model, data, output=output, gpu_id=gpu_id, batch_size=batch_size, int8=int8)
    print_summary(scores)
    if output is not None:
        msg.good(f"Wrote metrics.json, report.md, confusion.png and errors.html to {output}")


@app.command("plot")
@fails_cleanly
def plot_cli(
    log: Path = typer.Argument(..., help="train_log.jsonl written by spacy_bert_ner.JsonlLogger.v1", exists=True),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Folder for the PNGs (default: the log's)"),
) -> None:
    """Plot loss and F per entity type against step from a training log."""
    from .plots import plot_training_log

    for path in plot_training_log(log, output or log.parent):
        msg.good(f"Wrote {path}")


if __name__ == "__main__":
    main()
