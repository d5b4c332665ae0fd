"""Wordpiece windows: every word owned once, windows within size, context packing."""
import numpy as np
import pytest
import spacy
from spacy.tokens import Doc

from spacy_bert_ner.encoder_loading import load_pretrained
from spacy_bert_ner.layers.pooled_encoder import PooledEncoder
from spacy_bert_ner.wordpieces import make_windows, pad_batches


@pytest.fixture(scope="module")
def encoder(tiny_encoder):
    transformer, info = load_pretrained(tiny_encoder)
    return PooledEncoder(transformer, info)


def make_doc(n_sents: int, sent_len: int, word: str = "paris") -> Doc:
    nlp = spacy.blank("en")
    words = [f"{word}" for _ in range(n_sents * sent_len)]
    starts = [i % sent_len == 0 for i in range(len(words))]
    return Doc(nlp.vocab, words=words, sent_starts=starts)


def check_invariants(windows, docs, window_size):
    n_words = sum(len(d) for d in docs)
    assert len(windows.word_window) == n_words
    for w in windows.windows:
        assert len(w) <= window_size
    # every word's pieces lie inside its window, after [CLS] and before [SEP]
    lengths = np.asarray([len(w) for w in windows.windows])
    assert np.all(windows.word_start >= 1)
    assert np.all(windows.word_start + windows.word_pieces <= lengths[windows.word_window] - 1)


@pytest.mark.parametrize("context,expected_windows", [("document", 3), ("sentence", 10)])
def test_document_context_packs_sentences(encoder, context, expected_windows):
    doc = make_doc(n_sents=10, sent_len=10)  # 100 one-piece words
    windows = make_windows([doc], encoder.tokenizer, encoder.tokenizer_info, 42, context)
    assert len(windows.windows) == expected_windows
    check_invariants(windows, [doc], 42)


def test_long_sentence_is_strided_with_each_word_owned_once(encoder):
    doc = make_doc(n_sents=1, sent_len=500)
    windows = make_windows([doc], encoder.tokenizer, encoder.tokenizer_info, 64, "document")
    check_invariants(windows, [doc], 64)
    assert len(windows.windows) > 500 // 62
    # the owner windows are in order, and each window owns a contiguous run
    assert np.all(np.diff(windows.word_window) >= 0)


def test_words_without_pieces_get_unk_and_huge_words_are_capped(encoder):
    nlp = spacy.blank("en")
    doc = Doc(nlp.vocab, words=["paris", "\u200b", "x" * 5000, "\x00"], spaces=[True, True, True, False])
    windows = make_windows([doc], encoder.tokenizer, encoder.tokenizer_info, 64, "document", max_pieces_per_word=8)
    assert windows.word_pieces.tolist()[0] == 1
    assert np.all((windows.word_pieces >= 1) & (windows.word_pieces <= 8))
    check_invariants(windows, [doc], 64)


@pytest.mark.parametrize("pooling", ["first", "mean"])
def test_padded_batches_cover_every_word_once(encoder, pooling):
    docs = [make_doc(3, n) for n in (1, 5, 17, 40)] + [Doc(spacy.blank("en").vocab, words=[])]
    windows = make_windows(docs, encoder.tokenizer, encoder.tokenizer_info, 32, "sentence")
    batches = pad_batches(windows, encoder.tokenizer_info["pad_id"], 100, pooling)
    words = np.concatenate([b.words for b in batches])
    assert sorted(words.tolist()) == list(range(sum(len(d) for d in docs)))
    for b in batches:
        assert b.input_ids.shape == b.attention_mask.shape
        assert b.input_ids.size <= max(100, b.input_ids.shape[1])
        assert np.all(b.piece_index < b.input_ids.size)


def test_raw_text_packs_at_sentence_final_punctuation(encoder):
    nlp = spacy.blank("en")
    words = (["paris", "paris", "paris", "."] * 30)[:-1]
    doc = Doc(nlp.vocab, words=words)  # no sentence annotation
    windows = make_windows([doc], encoder.tokenizer, encoder.tokenizer_info, 22, "document")
    check_invariants(windows, [doc], 22)
    # windows end at a period, and no word is read twice (no overlap)
    assert sum(len(w) - 2 for w in windows.windows) == len(words)
    assert all(w[-2] == windows.windows[0][4] for w in windows.windows[:-1])
