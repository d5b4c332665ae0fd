"""The entity scorer: exact span-and-type scores per type, the token-level tag
report of the classic recipe, error classes and a type confusion matrix."""
from collections import Counter, defaultdict
from typing import Any, Dict, Iterable, List, Sequence, Set, Tuple

from spacy.training import Example
from spacy.util import registry

# An entity as (doc index, start token, end token, label), in reference tokens.
Entity = Tuple[int, int, int, str]
NONE = "none"
ERROR_CLASSES = (
    "correct",
    "wrong_type",
    "wrong_boundary",
    "wrong_type_and_boundary",
    "spurious",
    "missed",
)


def prf(tp: int, n_pred: int, n_gold: int) -> Dict[str, float]:
    """Precision, recall and F1 as seqeval computes them (0.0 where undefined)."""
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"p": p, "r": r, "f": f}


def entities_of(examples: Iterable[Example]) -> Tuple[List[Entity], List[Entity], List[int]]:
    """Gold and predicted entities (aligned to the reference tokens), and doc lengths."""
    gold: List[Entity] = []
    pred: List[Entity] = []
    lengths: List[int] = []
    for i, eg in enumerate(examples):
        lengths.append(len(eg.reference))
        gold.extend((i, e.start, e.end, e.label_) for e in eg.reference.ents)
        aligned = eg.get_aligned_spans_x2y(eg.predicted.ents, allow_overlap=False)
        pred.extend((i, e.start, e.end, e.label_) for e in aligned)
    return gold, pred, lengths


def score_entity_sets(gold: Sequence[Entity], pred: Sequence[Entity], lengths: Sequence[int]) -> Dict[str, Any]:
    """All entity scores from gold and predicted entity tuples."""
    gold_set, pred_set = set(gold), set(pred)
    labels = sorted({e[3] for e in gold_set} | {e[3] for e in pred_set})
    correct = gold_set & pred_set
    tp = Counter(e[3] for e in correct)
    n_gold = Counter(e[3] for e in gold_set)
    n_pred = Counter(e[3] for e in pred_set)
    overall = prf(len(correct), len(pred_set), len(gold_set))
    per_type = {}
    for label in labels:
        per_type[label] = {**prf(tp[label], n_pred[label], n_gold[label]), "support": n_gold[label]}
    macro_f = sum(v["f"] for v in per_type.values()) / len(per_type) if per_type else 0.0
    errors, confusion = error_analysis(gold_set, pred_set, labels)
    return {
        "ents_p": overall["p"],
        "ents_r": overall["r"],
        "ents_f": overall["f"],
        "ents_macro_f": macro_f,
        "ents_support": len(gold_set),
        "ents_predicted": len(pred_set),
        "ents_per_type": per_type,
        "ents_token_report": token_report(gold_set, pred_set, lengths),
        "ents_errors": errors,
        "ents_confusion": confusion,
    }


def error_analysis(gold: Set[Entity], pred: Set[Entity], labels: List[str]):
    """Count the error classes per type and build the gold × predicted type matrix.

    A prediction is correct (same span and type), wrong_type (same span),
    wrong_boundary (overlaps a gold entity of its type), wrong_type_and_boundary
    (overlaps only other types) or spurious (overlaps nothing); a gold entity no
    prediction overlaps is missed. Classes are counted under the gold type where
    one is involved, else the predicted type. The matrix pairs each gold entity
    with the prediction overlapping it most (or "none").
    """
    by_doc: Dict[int, List[Entity]] = defaultdict(list)
    for g in gold:
        by_doc[g[0]].append(g)
    pred_by_doc: Dict[int, List[Entity]] = defaultdict(list)
    for p in pred:
        pred_by_doc[p[0]].append(p)

    def overlap(a: Entity, b: Entity) -> int:
        return max(0, min(a[2], b[2]) - max(a[1], b[1]))

    errors = {label: dict.fromkeys(ERROR_CLASSES, 0) for label in labels}
    for p in pred:
        hits = [g for g in by_doc[p[0]] if overlap(p, g) > 0]
        same_span = [g for g in hits if (g[1], g[2]) == (p[1], p[2])]
        if p in gold:
            errors[p[3]]["correct"] += 1
        elif same_span:
            errors[same_span[0][3]]["wrong_type"] += 1
        elif any(g[3] == p[3] for g in hits):
            errors[p[3]]["wrong_boundary"] += 1
        elif hits:
            errors[max(hits, key=lambda g: overlap(p, g))[3]]["wrong_type_and_boundary"] += 1
        else:
            errors[p[3]]["spurious"] += 1
    names = labels + [NONE]
    matrix = [[0] * len(names) for _ in names]
    paired: Set[Entity] = set()
    for g in gold:
        hits = [p for p in pred_by_doc[g[0]] if overlap(p, g) > 0]
        if not hits:
            errors[g[3]]["missed"] += 1
            matrix[names.index(g[3])][names.index(NONE)] += 1
            continue
        best = max(hits, key=lambda p: (overlap(p, g), p[3] == g[3]))
        paired.add(best)
        matrix[names.index(g[3])][names.index(best[3])] += 1
    for p in pred - paired:
        if not any(overlap(p, g) > 0 for g in by_doc[p[0]]):
            matrix[names.index(NONE)][names.index(p[3])] += 1
    return errors, {"labels": names, "matrix": matrix}


def token_report(gold: Set[Entity], pred: Set[Entity], lengths: Sequence[int]) -> Dict[str, Dict[str, float]]:
    """Per-tag precision/recall/F1/support over IOB2 token tags, with micro,
    macro and weighted averages (the classic recipe's classification report)."""

    def tags(entities: Set[Entity]) -> List[str]:
        offsets = [0]
        for n in lengths:
            offsets.append(offsets[-1] + n)
        out = ["O"] * offsets[-1]
        for doc, start, end, label in entities:
            base = offsets[doc]
            out[base + start] = f"B-{label}"
            for k in range(start + 1, end):
                out[base + k] = f"I-{label}"
        return out

    gold_tags, pred_tags = tags(gold), tags(pred)
    names = sorted(set(gold_tags) | set(pred_tags), key=lambda t: (t == "O", t[2:], t))
    tp, n_pred, n_gold = Counter(), Counter(pred_tags), Counter(gold_tags)
    for g, p in zip(gold_tags, pred_tags):
        if g == p:
            tp[g] += 1
    report = {name: {**prf(tp[name], n_pred[name], n_gold[name]), "support": n_gold[name]} for name in names}
    total = len(gold_tags)
    micro = prf(sum(tp.values()), total, total)
    report["micro avg"] = {**micro, "support": total}
    if names:
        report["macro avg"] = {
            k: sum(report[n][k] for n in names) / len(names) for k in ("p", "r", "f")
        }
        report["macro avg"]["support"] = total
        report["weighted avg"] = {
            k: sum(report[n][k] * n_gold[n] for n in names) / max(total, 1) for k in ("p", "r", "f")
        }
        report["weighted avg"]["support"] = total
    return report


def score_entities(examples: Iterable[Example], **kwargs) -> Dict[str, Any]:
    """Score predicted against gold entities (exact span and type).

    RETURNS (Dict[str, Any]): spaCy's keys (`ents_p`, `ents_r`, `ents_f`,
        `ents_per_type` with `p`/`r`/`f` and `support`) plus `ents_macro_f`,
        `ents_token_report`, `ents_errors` and `ents_confusion`.
    """
    gold, pred, lengths = entities_of(examples)
    return score_entity_sets(gold, pred, lengths)


@registry.scorers("spacy_bert_ner.entity_scorer.v1")
def make_entity_scorer():
    return score_entities
