"""The entity scorer: agreement with seqeval (strict, IOB2) and edge cases."""
import random

import pytest
import spacy
from spacy.tokens import Doc, Span
from spacy.training import Example

from spacy_bert_ner.scoring import score_entities, score_entity_sets

NLP = spacy.blank("en")
LABELS = ["LOC", "MISC", "ORG", "PER"]


def example(words, gold, pred) -> Example:
    reference = Doc(NLP.vocab, words=words)
    reference.ents = [Span(reference, s, e, label=l) for s, e, l in gold]
    predicted = Doc(NLP.vocab, words=words)
    predicted.ents = [Span(predicted, s, e, label=l) for s, e, l in pred]
    return Example(predicted, reference)


def random_entities(rng, n):
    ents, i = [], 0
    while i < n:
        if rng.random() < 0.3:
            length = rng.randint(1, 3)
            if i + length <= n:
                ents.append((i, i + length, rng.choice(LABELS)))
                i += length + rng.randint(0, 1)
                continue
        i += 1
    return ents


def iob2(n, ents):
    tags = ["O"] * n
    for s, e, l in ents:
        tags[s] = f"B-{l}"
        for k in range(s + 1, e):
            tags[k] = f"I-{l}"
    return tags


@pytest.mark.parametrize("seed", range(5))
def test_agrees_with_seqeval_strict(seed):
    from seqeval.metrics import classification_report, f1_score, precision_score, recall_score
    from seqeval.scheme import IOB2

    rng = random.Random(seed)
    examples, y_true, y_pred = [], [], []
    for _ in range(40):
        n = rng.randint(1, 30)
        gold = random_entities(rng, n)
        # predictions: mostly the gold entities, some perturbed, some invented
        pred = [g for g in gold if rng.random() < 0.7] + [e for e in random_entities(rng, n) if rng.random() < 0.2]
        pred = sorted(set(pred))
        kept = []
        for ent in pred:  # keep predictions non-overlapping, as doc.ents must be
            if all(ent[1] <= k[0] or ent[0] >= k[1] for k in kept):
                kept.append(ent)
        examples.append(example(["w"] * n, gold, kept))
        y_true.append(iob2(n, gold))
        y_pred.append(iob2(n, kept))
    scores = score_entities(examples)
    kw = {"mode": "strict", "scheme": IOB2}
    assert scores["ents_p"] == pytest.approx(precision_score(y_true, y_pred, **kw), abs=1e-9)
    assert scores["ents_r"] == pytest.approx(recall_score(y_true, y_pred, **kw), abs=1e-9)
    assert scores["ents_f"] == pytest.approx(f1_score(y_true, y_pred, **kw), abs=1e-9)
    report = classification_report(y_true, y_pred, output_dict=True, **kw)
    for label, values in scores["ents_per_type"].items():
        assert values["p"] == pytest.approx(report[label]["precision"], abs=1e-9)
        assert values["r"] == pytest.approx(report[label]["recall"], abs=1e-9)
        assert values["f"] == pytest.approx(report[label]["f1-score"], abs=1e-9)
        assert values["support"] == report[label]["support"]


def test_no_gold_and_no_predictions():
    scores = score_entities([example(["a", "b"], [], [])])
    assert (scores["ents_p"], scores["ents_r"], scores["ents_f"]) == (0.0, 0.0, 0.0)
    assert scores["ents_per_type"] == {}
    assert scores["ents_token_report"]["O"]["f"] == 1.0


def test_no_predictions_all_missed():
    scores = score_entities([example(["Ann", "ran"], [(0, 1, "PER")], [])])
    assert scores["ents_r"] == 0.0 and scores["ents_p"] == 0.0
    assert scores["ents_errors"]["PER"]["missed"] == 1
    assert scores["ents_confusion"]["matrix"][0] == [0, 1]


def test_no_gold_all_spurious():
    scores = score_entities([example(["Ann", "ran"], [], [(0, 1, "PER")])])
    assert scores["ents_errors"]["PER"]["spurious"] == 1
    labels = scores["ents_confusion"]["labels"]
    assert scores["ents_confusion"]["matrix"][labels.index("none")][labels.index("PER")] == 1


def test_empty_docs():
    scores = score_entities([example([], [], []), example(["x"], [], [])])
    assert scores["ents_f"] == 0.0
    assert scores["ents_token_report"]["micro avg"]["support"] == 1


def test_error_classes():
    gold = [(0, 0, 2, "PER"), (0, 3, 4, "LOC"), (0, 5, 7, "ORG"), (0, 8, 10, "MISC"), (0, 11, 12, "PER")]
    pred = [
        (0, 0, 2, "PER"),  # correct
        (0, 3, 4, "ORG"),  # wrong type, right span
        (0, 5, 6, "ORG"),  # right type, wrong boundary
        (0, 8, 9, "LOC"),  # wrong type and boundary
        (0, 13, 14, "LOC"),  # spurious
    ]  # (0, 11, 12, PER) missed
    scores = score_entity_sets(gold, pred, [15])
    errors = scores["ents_errors"]
    assert errors["PER"]["correct"] == 1 and errors["PER"]["missed"] == 1
    assert errors["LOC"]["wrong_type"] == 1
    assert errors["ORG"]["wrong_boundary"] == 1
    assert errors["MISC"]["wrong_type_and_boundary"] == 1
    assert errors["LOC"]["spurious"] == 1
    labels = scores["ents_confusion"]["labels"]
    matrix = scores["ents_confusion"]["matrix"]
    assert matrix[labels.index("LOC")][labels.index("ORG")] == 1
    assert matrix[labels.index("MISC")][labels.index("LOC")] == 1
    assert matrix[labels.index("none")][labels.index("LOC")] == 1
    assert matrix[labels.index("PER")][labels.index("none")] == 1


def test_overlapping_types_count_once_per_span():
    # the same span predicted with the wrong type is neither correct nor spurious
    scores = score_entity_sets([(0, 0, 1, "PER")], [(0, 0, 1, "ORG")], [1])
    assert scores["ents_per_type"]["PER"]["r"] == 0.0
    assert scores["ents_per_type"]["ORG"]["p"] == 0.0
    assert scores["ents_errors"]["PER"]["wrong_type"] == 1
    assert sum(v["spurious"] for v in scores["ents_errors"].values()) == 0
