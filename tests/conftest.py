"""Shared fixtures: a tiny random BERT made offline, so no test downloads anything."""
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
SHARED_CONLL = REPO.parent / "shared" / "data" / "conll2003"

WORDS = (
    "the a an of in on at to and for with by from is was were has have had will said "
    "met visited told called left joined says after before new old first last today "
    "president minister company bank city country team club league government police "
    "paris london berlin germany france china japan india brazil york washington "
    "angela merkel emmanuel macron john smith maria garcia apple google reuters "
    "united nations european union world cup monday tuesday year years million "
)


def make_tiny_encoder(path: Path, seed: int = 0) -> Path:
    """A 2-layer, 32-wide random BERT with a small cased-by-character vocab."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    path.mkdir(parents=True, exist_ok=True)
    chars = [chr(c) for c in range(33, 127)]
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    pieces = chars + ["##" + c for c in chars]
    vocab = specials + sorted(set(WORDS.split())) + pieces
    (path / "vocab.txt").write_text("\n".join(dict.fromkeys(vocab)) + "\n", encoding="utf8")
    tokenizer = BertTokenizerFast(vocab_file=str(path / "vocab.txt"), do_lower_case=True)
    tokenizer.save_pretrained(str(path))
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    BertModel(config).save_pretrained(str(path))
    return path


@pytest.fixture(scope="session")
def tiny_encoder(tmp_path_factory) -> str:
    return str(make_tiny_encoder(tmp_path_factory.mktemp("tiny_bert")))


TRAIN_DATA = [
    ("Angela Merkel visited Paris today .", [(0, 13, "PER"), (22, 27, "LOC")]),
    ("Reuters said Google joined the United Nations .", [(0, 7, "ORG"), (13, 19, "ORG"), (31, 45, "ORG")]),
]
TEXTS = [text for text, _ in TRAIN_DATA]


def entities(doc):
    return [(e.start_char, e.end_char, e.label_) for e in doc.ents]


@pytest.fixture(scope="session")
def overfit_nlp(tiny_encoder):
    """bert_ner on the tiny encoder, overfit to TRAIN_DATA (spaCy's overfitting pattern)."""
    import spacy
    from spacy.training import Example
    from spacy.util import fix_random_seed

    fix_random_seed(0)
    nlp = spacy.blank("en")
    nlp.add_pipe("bert_ner", config={"model": {"encoder": {"name": tiny_encoder}}})
    examples = [Example.from_dict(nlp.make_doc(t), {"entities": e}) for t, e in TRAIN_DATA]
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(60):
        losses = nlp.update(examples, sgd=optimizer)
    assert losses["bert_ner"] < 0.01
    return nlp
