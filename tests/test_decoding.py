"""Constrained BILUO decoding: always valid, optimal, with confidences in [0, 1]."""
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spacy_bert_ner.decoding import Decoder, TagSet, span_confidences

TAGS = TagSet(("LOC", "ORG", "PER"))
DECODER = Decoder(TAGS)


def log_softmax(x: np.ndarray) -> np.ndarray:
    x = x - x.max(axis=1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=1, keepdims=True))


def test_tag_set_layout():
    assert TAGS.tags[:5] == ["O", "B-LOC", "I-LOC", "L-LOC", "U-LOC"]
    assert len(TAGS) == 13
    assert TAGS.index("U", 2) == TAGS.tags.index("U-PER")


@pytest.mark.parametrize(
    "seq,valid",
    [
        (["O", "U-PER", "O"], True),
        (["B-PER", "I-PER", "L-PER"], True),
        (["B-PER", "L-ORG"], False),
        (["I-PER"], False),
        (["B-LOC"], False),
        (["U-LOC", "L-LOC"], False),
        ([], True),
    ],
)
def test_is_valid(seq, valid):
    tags = np.asarray([TAGS.tags.index(t) for t in seq], dtype=np.int64)
    assert DECODER.is_valid(tags) is valid


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=40), min_size=1, max_size=8), st.integers(0, 2**31 - 1))
def test_random_logits_decode_to_valid_non_overlapping_spans(lengths, seed):
    rng = np.random.default_rng(seed)
    log_probs = [log_softmax(rng.normal(scale=3.0, size=(n, len(TAGS)))) for n in lengths]
    for lp, tags in zip(log_probs, DECODER.decode(log_probs)):
        assert len(tags) == len(lp)
        assert DECODER.is_valid(tags)
        starts, ends, labels = DECODER.spans(tags)
        assert np.all(starts < ends)
        assert np.all(starts[1:] >= ends[:-1])  # sorted, never overlapping
        assert np.all((0 <= labels) & (labels < len(TAGS.labels)))
        scores = span_confidences(np.exp(lp), tags, starts, ends)
        assert len(scores) == len(starts)
        assert np.all((scores >= 0.0) & (scores <= 1.0))


def test_viterbi_finds_the_best_valid_sequence():
    small = TagSet(("A",))
    decoder = Decoder(small)
    rng = np.random.default_rng(0)
    for n in (1, 2, 3, 4):
        for _ in range(20):
            lp = log_softmax(rng.normal(scale=2.0, size=(n, len(small))))
            best = max(
                (seq for seq in itertools.product(range(len(small)), repeat=n) if decoder.is_valid(np.asarray(seq))),
                key=lambda seq: lp[np.arange(n), seq].sum(),
            )
            (found,) = decoder.decode([lp])
            assert lp[np.arange(n), found].sum() == pytest.approx(lp[np.arange(n), best].sum(), abs=1e-5)


def test_confidence_is_the_product_of_token_probabilities():
    probs = np.full((3, len(TAGS)), 0.01)
    tags = np.asarray([TAGS.index("B", 2), TAGS.index("L", 2), 0])
    probs[0, tags[0]], probs[1, tags[1]], probs[2, 0] = 0.9, 0.5, 0.99
    starts, ends, _ = DECODER.spans(tags)
    assert span_confidences(probs, tags, starts, ends).tolist() == pytest.approx([0.45])
