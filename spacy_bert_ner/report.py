"""What `evaluate` writes: metrics.json, report.md, confusion.png and errors.html."""
import html
import json
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example

from .files import write_text_atomic
from .plots import save_figure
from .scoring import ERROR_CLASSES, score_entities

MAX_ERROR_DOCS = 50


def predict_examples(nlp: Language, gold_docs: Sequence[Doc], batch_size: int = 64) -> List[Example]:
    """Run the pipeline on the gold docs' words (not their entities) and pair
    each prediction with its gold doc."""
    inputs = (
        Doc(nlp.vocab, words=[t.text for t in d], spaces=[bool(t.whitespace_) for t in d]) for d in gold_docs
    )
    predicted = nlp.pipe(inputs, batch_size=batch_size)
    return [Example(p, g) for p, g in zip(predicted, gold_docs)]


def calibration(examples: Sequence[Example], spans_key: str, n_bins: int = 10) -> Optional[Dict[str, Any]]:
    """How well entity confidences match precision: per confidence bin, the mean
    confidence and the share of entities that are exactly right, and the
    expected calibration error (ECE)."""
    pairs = []
    for eg in examples:
        if spans_key not in eg.predicted.spans:
            return None
        group = eg.predicted.spans[spans_key]
        gold = {(e.start_char, e.end_char, e.label_) for e in eg.reference.ents}
        for span, score in zip(group, group.attrs.get("scores", [])):
            pairs.append((float(score), (span.start_char, span.end_char, span.label_) in gold))
    if not pairs:
        return {"ece": 0.0, "n": 0, "bins": []}
    bins = []
    ece = 0.0
    for b in range(n_bins):
        lo, hi = b / n_bins, (b + 1) / n_bins
        members = [(s, ok) for s, ok in pairs if lo <= s < hi or (b == n_bins - 1 and s == 1.0)]
        if not members:
            continue
        confidence = sum(s for s, _ in members) / len(members)
        accuracy = sum(ok for _, ok in members) / len(members)
        ece += len(members) / len(pairs) * abs(accuracy - confidence)
        bins.append({"from": lo, "to": hi, "n": len(members), "confidence": confidence, "precision": accuracy})
    return {"ece": ece, "n": len(pairs), "bins": bins}


def evaluate_pipeline(nlp: Language, gold_docs: Sequence[Doc], batch_size: int = 64) -> Dict[str, Any]:
    """Scores, speed and confidence calibration of `nlp` on `gold_docs`."""
    start = time.perf_counter()
    examples = predict_examples(nlp, gold_docs, batch_size)
    seconds = time.perf_counter() - start
    n_words = sum(len(d) for d in gold_docs)
    scores = score_entities(examples)
    ner = next((pipe for _, pipe in nlp.pipeline if hasattr(pipe, "cfg") and "spans_key" in pipe.cfg), None)
    if ner is not None:
        scores["confidence_calibration"] = calibration(examples, ner.cfg["spans_key"])
    scores.update({"n_docs": len(gold_docs), "n_words": n_words, "words_per_second": n_words / max(seconds, 1e-9)})
    scores["_examples"] = examples
    return scores


def write_report(scores: Dict[str, Any], output: Path) -> List[Path]:
    """Write all report files into `output` (each atomically); returns their paths."""
    output.mkdir(parents=True, exist_ok=True)
    examples = scores.pop("_examples", [])
    written = [
        write_text_atomic(output / "metrics.json", json.dumps(scores, indent=2, sort_keys=True)),
        write_text_atomic(output / "report.md", markdown_report(scores)),
        write_text_atomic(output / "errors.html", errors_html(examples)),
    ]
    png = confusion_png(scores["ents_confusion"], output / "confusion.png")
    if png is not None:
        written.append(png)
    return written


def _pct(x: float) -> str:
    return f"{x * 100:.2f}"


def markdown_report(scores: Dict[str, Any]) -> str:
    lines = [
        f"# Evaluation of `{scores.get('model', '?')}`",
        "",
        f"Data: `{scores.get('data', '?')}` ({scores['n_docs']} docs, {scores['n_words']} words). "
        f"Speed: {scores['words_per_second']:.0f} words/s.",
        "",
        "## Entities (exact span and type)",
        "",
        "| type | P | R | F | support |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, v in scores["ents_per_type"].items():
        lines.append(f"| {label} | {_pct(v['p'])} | {_pct(v['r'])} | {_pct(v['f'])} | {v['support']} |")
    lines.append(
        f"| **all (micro)** | {_pct(scores['ents_p'])} | {_pct(scores['ents_r'])} | "
        f"{_pct(scores['ents_f'])} | {scores['ents_support']} |"
    )
    lines.append(f"| macro F | | | {_pct(scores['ents_macro_f'])} | |")
    lines += ["", "## Tokens (IOB2 tags)", "", "| tag | P | R | F | support |", "|---|---:|---:|---:|---:|"]
    for tag, v in scores["ents_token_report"].items():
        lines.append(f"| {tag} | {_pct(v['p'])} | {_pct(v['r'])} | {_pct(v['f'])} | {v['support']} |")
    lines += ["", "## Error classes", "", "| type | " + " | ".join(ERROR_CLASSES) + " |"]
    lines.append("|---|" + "---:|" * len(ERROR_CLASSES))
    for label, counts in scores["ents_errors"].items():
        lines.append(f"| {label} | " + " | ".join(str(counts[c]) for c in ERROR_CLASSES) + " |")
    names = scores["ents_confusion"]["labels"]
    lines += ["", "## Confusion (rows: gold type, columns: predicted type)", ""]
    lines.append("| gold \\ predicted | " + " | ".join(names) + " |")
    lines.append("|---|" + "---:|" * len(names))
    for name, row in zip(names, scores["ents_confusion"]["matrix"]):
        lines.append(f"| {name} | " + " | ".join(str(x) for x in row) + " |")
    cal = scores.get("confidence_calibration")
    if cal:
        lines += [
            "",
            f"## Confidence calibration (ECE {cal['ece']:.4f} over {cal['n']} predicted entities)",
            "",
            "| confidence | entities | mean confidence | precision |",
            "|---|---:|---:|---:|",
        ]
        for b in cal["bins"]:
            lines.append(f"| {b['from']:.1f}–{b['to']:.1f} | {b['n']} | {b['confidence']:.3f} | {b['precision']:.3f} |")
    return "\n".join(lines) + "\n"


def confusion_png(confusion: Dict[str, Any], path: Path) -> Optional[Path]:
    """A heatmap of the confusion matrix; None where matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    names, matrix = confusion["labels"], confusion["matrix"]
    fig, ax = plt.subplots(figsize=(1.2 * len(names) + 2, 1.1 * len(names) + 1.5))
    ax.imshow([[min(x, 10**9) for x in row] for row in matrix], cmap="Blues")
    ax.set_xticks(range(len(names)), names)
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("predicted type")
    ax.set_ylabel("gold type")
    peak = max((max(row) for row in matrix), default=0) or 1
    for i, row in enumerate(matrix):
        for j, value in enumerate(row):
            ax.text(j, i, str(value), ha="center", va="center", color="white" if value > peak / 2 else "black")
    ax.set_title("Entity type confusion")
    return save_figure(fig, path)


def errors_html(examples: Sequence[Example], cap: int = MAX_ERROR_DOCS) -> str:
    """displaCy renderings, gold next to predicted, of the docs with errors, worst first."""
    from spacy import displacy

    def n_errors(eg: Example) -> int:
        gold = {(e.start_char, e.end_char, e.label_) for e in eg.reference.ents}
        pred = {(e.start_char, e.end_char, e.label_) for e in eg.predicted.ents}
        return len(gold ^ pred)

    ranked = sorted(((n_errors(eg), i, eg) for i, eg in enumerate(examples)), key=lambda x: (-x[0], x[1]))
    ranked = [r for r in ranked if r[0] > 0][:cap]
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>NER errors</title>",
        "<style>body{font-family:sans-serif} td{vertical-align:top;width:50%} h2{font-size:1em}</style>",
        f"</head><body><h1>Documents with errors ({len(ranked)} shown, worst first)</h1>",
    ]
    for count, i, eg in ranked:
        gold = displacy.render(eg.reference, style="ent", page=False, jupyter=False)
        pred = displacy.render(eg.predicted, style="ent", page=False, jupyter=False)
        parts.append(
            f"<h2>Doc {i}: {count} differing entities</h2><table><tr><th>gold</th><th>predicted</th></tr>"
            f"<tr><td>{gold}</td><td>{pred}</td></tr></table>"
        )
    if not ranked:
        parts.append(f"<p>{html.escape('No errors.')}</p>")
    parts.append("</body></html>")
    return "\n".join(parts)
