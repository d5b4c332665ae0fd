"""Docs → wordpiece windows → padded batches, with the word ↔ piece alignment.

Everything here is numpy over whole documents: no Python work per token.
Words are never split across windows and every word is *owned* by exactly one
window (the one whose output it takes), so a word's vector comes from one place.
"""
from dataclasses import dataclass
from typing import Iterator, List, Sequence

import numpy as np
from spacy.attrs import ORTH, SENT_START
from spacy.tokens import Doc

CONTEXTS = ("document", "sentence")
SENTENCE_FINAL = (".", "!", "?", "...", "…", "。", "！", "？")


@dataclass
class Windows:
    """Wordpiece windows over a batch of docs and where each word sits in them."""

    windows: List[np.ndarray]  # piece ids with the special tokens, one array per window
    word_window: np.ndarray  # (n_words,) the window that owns each word
    word_start: np.ndarray  # (n_words,) position of the word's first piece in that window
    word_pieces: np.ndarray  # (n_words,) number of pieces of the word
    doc_lengths: List[int]


@dataclass
class PaddedBatch:
    """One forward pass: padded windows and the pieces to pool into words."""

    input_ids: np.ndarray  # (B, L) int64
    attention_mask: np.ndarray  # (B, L) int64
    words: np.ndarray  # (n,) global indices of the words this batch produces
    piece_index: np.ndarray  # flat (row * L + position) index of the pooled pieces
    piece_to_word: np.ndarray  # for mean pooling: local word of each pooled piece


def make_windows(
    docs: Sequence[Doc],
    tokenizer,
    specials: dict,
    window_size: int,
    context: str = "document",
    max_pieces_per_word: int = 32,
) -> Windows:
    """Tokenize docs into wordpieces and cut them into windows.

    context "document" packs consecutive sentences into windows of up to
    `window_size` pieces, so each sentence is read with its neighbours;
    "sentence" gives every sentence a window of its own. Without sentence
    annotation, sentence-final punctuation marks the units. A sentence longer
    than a window is cut into windows that overlap by a margin, and each word is
    owned by the window where it is furthest from an edge. Windows never overlap
    otherwise.
    """
    if context not in CONTEXTS:
        raise ValueError(f"context must be one of {CONTEXTS}, not '{context}'")
    capacity = min(window_size, specials["max_length"]) - 2
    encodings = tokenizer.encode_batch(
        [[t.text for t in doc] for doc in docs], is_pretokenized=True, add_special_tokens=False
    )
    windows: List[np.ndarray] = []
    word_window, word_start, word_pieces = [], [], []
    for doc, encoding in zip(docs, encodings):
        if len(doc) == 0:
            continue
        ids, lengths = _pieces_per_word(doc, encoding, specials["unk_id"], max_pieces_per_word)
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        owner = np.empty(len(doc), dtype=np.int64)
        start = np.empty(len(doc), dtype=np.int64)
        for lo, hi, own_lo, own_hi in _plan_windows(_segments(doc, context), lengths, capacity, context):
            window_id = len(windows)
            piece_lo = offsets[lo]
            windows.append(
                np.concatenate(
                    [[specials["cls_id"]], ids[piece_lo : offsets[hi]], [specials["sep_id"]]]
                ).astype(np.int64)
            )
            owner[own_lo:own_hi] = window_id
            start[own_lo:own_hi] = offsets[own_lo:own_hi] - piece_lo + 1
        word_window.append(owner)
        word_start.append(start)
        word_pieces.append(lengths)
    empty = np.zeros((0,), dtype=np.int64)
    return Windows(
        windows=windows,
        word_window=np.concatenate(word_window) if word_window else empty,
        word_start=np.concatenate(word_start) if word_start else empty,
        word_pieces=np.concatenate(word_pieces) if word_pieces else empty,
        doc_lengths=[len(doc) for doc in docs],
    )


def _pieces_per_word(doc: Doc, encoding, unk_id: int, max_pieces: int):
    """Piece ids of a doc with every word given 1..max_pieces pieces.

    Words the tokenizer drops (whitespace, control characters) get [UNK], so
    every word has a vector; very long words keep their first pieces only.
    """
    n = len(doc)
    ids = np.asarray(encoding.ids, dtype=np.int64)
    piece_word = np.asarray(encoding.word_ids, dtype=np.int64)
    counts = np.bincount(piece_word, minlength=n)[:n]
    first = np.searchsorted(piece_word, np.arange(n))
    lengths = np.clip(counts, 1, max_pieces)
    word_of_piece = np.repeat(np.arange(n), lengths)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    source = first[word_of_piece] + np.arange(len(word_of_piece)) - starts[word_of_piece]
    has_pieces = counts[word_of_piece] > 0
    out = np.full(len(word_of_piece), unk_id, dtype=np.int64)
    out[has_pieces] = ids[source[has_pieces]]
    return out, lengths


def _segments(doc: Doc, context: str) -> np.ndarray:
    """Word offsets [0, s1, s2, ..., n] of the units windows are built from: the
    doc's sentences where they are set, else spans ending in sentence-final
    punctuation, so raw text packs into windows without overlap too."""
    n = len(doc)
    if doc.has_annotation("SENT_START"):
        starts = np.flatnonzero(doc.to_array([SENT_START]).reshape(-1) == 1)
    else:
        final = [doc.vocab.strings.add(p) for p in SENTENCE_FINAL]
        starts = np.flatnonzero(np.isin(doc.to_array([ORTH]).reshape(-1), final)) + 1
    starts = starts[(starts > 0) & (starts < n)]
    return np.concatenate([[0], starts, [n]]).astype(np.int64)


def _plan_windows(bounds: np.ndarray, lengths: np.ndarray, capacity: int, context: str) -> Iterator:
    """Yield (lo, hi, own_lo, own_hi) word ranges: the window and the words it owns."""
    seg_pieces = np.add.reduceat(lengths, bounds[:-1]) if len(bounds) > 1 else np.zeros(0)
    lo = hi = 0
    used = 0
    for i, pieces in enumerate(seg_pieces):
        seg_lo, seg_hi = int(bounds[i]), int(bounds[i + 1])
        if pieces > capacity:
            if hi > lo:
                yield lo, hi, lo, hi
            yield from _strided(lengths, seg_lo, seg_hi, capacity)
            lo = hi = seg_hi
            used = 0
        elif context == "sentence" or used + pieces > capacity:
            if hi > lo:
                yield lo, hi, lo, hi
            lo, hi, used = seg_lo, seg_hi, int(pieces)
        else:
            hi = seg_hi
            used += int(pieces)
    if hi > lo:
        yield lo, hi, lo, hi


def _strided(lengths: np.ndarray, lo: int, hi: int, capacity: int) -> Iterator:
    """Overlapping windows over words lo..hi whose pieces exceed one window.

    Each window owns a core of at most capacity - 2 * margin pieces and reads up
    to `margin` pieces of context on either side.
    """
    margin = capacity // 8
    core = capacity - 2 * margin
    cum = np.concatenate([[0], np.cumsum(lengths[lo:hi])])  # pieces before word lo + k
    own_lo = 0
    n = hi - lo
    while own_lo < n:
        # The largest core that fits, but always at least one word.
        own_hi = max(own_lo + 1, int(np.searchsorted(cum, cum[own_lo] + core, side="right")) - 1)
        own_hi = min(own_hi, n)
        win_lo = int(np.searchsorted(cum, cum[own_lo] - margin, side="left"))
        win_hi = int(np.searchsorted(cum, cum[own_hi] + margin, side="right")) - 1
        win_lo, win_hi = min(win_lo, own_lo), max(min(win_hi, n), own_hi)
        # Trim context if a very long word made the window too wide.
        while cum[win_hi] - cum[win_lo] > capacity and win_hi > own_hi:
            win_hi -= 1
        while cum[win_hi] - cum[win_lo] > capacity and win_lo < own_lo:
            win_lo += 1
        yield lo + win_lo, lo + win_hi, lo + own_lo, lo + own_hi
        own_lo = own_hi


def pad_batches(
    windows: Windows, pad_id: int, max_batch_pieces: int, pooling: str
) -> List[PaddedBatch]:
    """Group windows of similar length into padded batches of at most
    `max_batch_pieces` (rows × longest) pieces, longest first."""
    lengths = np.asarray([len(w) for w in windows.windows], dtype=np.int64)
    order = np.argsort(-lengths, kind="stable")
    groups: List[List[int]] = []
    current: List[int] = []
    for w in order:
        longest = lengths[current[0]] if current else lengths[w]
        if current and (len(current) + 1) * longest > max_batch_pieces:
            groups.append(current)
            current = []
        current.append(int(w))
    if current:
        groups.append(current)

    group_of_window = np.empty(len(lengths), dtype=np.int64)
    row_of_window = np.empty(len(lengths), dtype=np.int64)
    for g, members in enumerate(groups):
        group_of_window[members] = g
        row_of_window[members] = np.arange(len(members))
    word_group = group_of_window[windows.word_window]
    word_order = np.argsort(word_group, kind="stable")
    bounds = np.searchsorted(word_group[word_order], np.arange(len(groups) + 1))

    batches = []
    for g, members in enumerate(groups):
        width = int(lengths[members[0]])
        input_ids = np.full((len(members), width), pad_id, dtype=np.int64)
        attention_mask = np.zeros((len(members), width), dtype=np.int64)
        for row, w in enumerate(members):
            input_ids[row, : lengths[w]] = windows.windows[w]
            attention_mask[row, : lengths[w]] = 1
        words = word_order[bounds[g] : bounds[g + 1]]
        first = row_of_window[windows.word_window[words]] * width + windows.word_start[words]
        if pooling == "first":
            piece_index, piece_to_word = first, np.zeros(0, dtype=np.int64)
        else:
            counts = windows.word_pieces[words]
            piece_to_word = np.repeat(np.arange(len(words)), counts)
            starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
            piece_index = first[piece_to_word] + np.arange(len(piece_to_word)) - starts[piece_to_word]
        batches.append(PaddedBatch(input_ids, attention_mask, words, piece_index, piece_to_word))
    return batches
