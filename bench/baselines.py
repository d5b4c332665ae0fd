"""The alternatives we measure against, on the same encoder:

- stock spaCy: `transformer` + `ner` from `spacy init config -p ner -G`;
- the Hugging Face recipe: `AutoModelForTokenClassification`, first-wordpiece
  labels, AdamW with linear decay, sentence inputs.
"""
import random
import time
from typing import Dict, Iterable, List, Sequence, Tuple

import numpy as np
import torch
from spacy.tokens import Doc, Span
from thinc.api import Config

from spacy_bert_ner.encoder_loading import resolve_encoder


def stock_spacy_config(encoder: str, train: str, dev: str) -> Config:
    """`spacy init config -p ner -G`, pointed at `encoder` and the corpora."""
    from spacy.cli.init_config import init_config

    config = init_config(lang="en", pipeline=["ner"], optimize="efficiency", gpu=True)
    config["components"]["transformer"]["model"]["name"] = resolve_encoder(encoder)
    config["paths"]["train"] = train
    config["paths"]["dev"] = dev
    return config


# ---------------------------------------------------------------- HF recipe


def sentences(docs: Iterable[Doc]) -> List[Tuple[List[str], List[Tuple[int, int, str]]]]:
    """(words, entities as (start, end, label) in sentence tokens) per sentence."""
    out = []
    for doc in docs:
        for sent in doc.sents:
            ents = [(e.start - sent.start, e.end - sent.start, e.label_) for e in doc.ents if sent.start <= e.start < sent.end]
            out.append(([t.text for t in sent], ents))
    return out


def iob2_tags(n: int, ents: Sequence[Tuple[int, int, str]]) -> List[str]:
    tags = ["O"] * n
    for start, end, label in ents:
        tags[start] = f"B-{label}"
        for i in range(start + 1, end):
            tags[i] = f"I-{label}"
    return tags


def iob2_spans(tags: Sequence[str]) -> List[Tuple[int, int, str]]:
    """Entities from IOB2 tags, read leniently as seqeval's default mode does:
    an I- after O or after another type starts an entity."""
    spans, start, label = [], None, None
    for i, tag in enumerate(list(tags) + ["O"]):
        prefix, _, kind = tag.partition("-")
        if start is not None and (prefix != "I" or kind != label):
            spans.append((start, i, label))
            start = None
        if prefix == "B" or (prefix == "I" and start is None):
            start, label = i, kind
    return spans


class HFRecipe:
    """The classic fine-tuning recipe for token classification."""

    def __init__(self, encoder: str, labels: Sequence[str], max_length: int = 256, seed: int = 0):
        from transformers import AutoModelForTokenClassification, AutoTokenizer

        torch.manual_seed(seed)
        self.tags = ["O"] + [f"{p}-{label}" for label in labels for p in "BI"]
        path = resolve_encoder(encoder)
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = AutoModelForTokenClassification.from_pretrained(path, num_labels=len(self.tags))
        self.max_length = max_length
        self.rng = random.Random(seed)

    def _encode(self, batch: Sequence[List[str]]):
        enc = self.tokenizer(
            list(batch), is_split_into_words=True, truncation=True, max_length=self.max_length,
            padding=True, return_tensors="pt",
        )
        return enc, [enc.word_ids(i) for i in range(len(batch))]

    def train(self, data, epochs: int = 2, batch_size: int = 16, lr: float = 5e-5) -> float:
        """Fine-tune; returns the training time in seconds."""
        from transformers import get_linear_schedule_with_warmup

        index = {t: i for i, t in enumerate(self.tags)}
        n_steps = epochs * ((len(data) + batch_size - 1) // batch_size)
        optimizer = torch.optim.AdamW(self.model.parameters(), lr=lr)
        schedule = get_linear_schedule_with_warmup(optimizer, 0, n_steps)
        self.model.train()
        start = time.time()
        for _ in range(epochs):
            order = list(range(len(data)))
            self.rng.shuffle(order)
            for b in range(0, len(order), batch_size):
                batch = [data[i] for i in order[b : b + batch_size]]
                enc, word_ids = self._encode([words for words, _ in batch])
                labels = torch.full(enc["input_ids"].shape, -100, dtype=torch.long)
                for row, ((words, ents), ids) in enumerate(zip(batch, word_ids)):
                    tags = iob2_tags(len(words), ents)
                    previous = None
                    for col, w in enumerate(ids):
                        if w is not None and w != previous:
                            labels[row, col] = index[tags[w]]
                        previous = w
                loss = self.model(**enc, labels=labels).loss
                loss.backward()
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
                optimizer.step()
                schedule.step()
                optimizer.zero_grad()
        return time.time() - start

    def predict(self, sentences_words: Sequence[List[str]], batch_size: int = 64) -> List[List[Tuple[int, int, str]]]:
        """Entities per sentence: argmax on each word's first wordpiece."""
        self.model.eval()
        order = sorted(range(len(sentences_words)), key=lambda i: len(sentences_words[i]))
        out: Dict[int, List[Tuple[int, int, str]]] = {}
        with torch.inference_mode():
            for b in range(0, len(order), batch_size):
                ids = order[b : b + batch_size]
                enc, word_ids = self._encode([sentences_words[i] for i in ids])
                best = self.model(**enc).logits.argmax(-1).numpy()
                for row, i in enumerate(ids):
                    tags = ["O"] * len(sentences_words[i])
                    previous = None
                    for col, w in enumerate(word_ids[row]):
                        if w is not None and w != previous:
                            tags[w] = self.tags[best[row, col]]
                        previous = w
                    out[i] = iob2_spans(tags)
        return [out[i] for i in range(len(sentences_words))]


def hf_ner_pipeline(encoder: str, labels: Sequence[str], gpu_id: int = -1):
    """`pipeline("token-classification", aggregation_strategy="simple")` on the
    encoder with a (fresh) token-classification head; long texts in strides."""
    from transformers import AutoModelForTokenClassification, AutoTokenizer, pipeline

    path = resolve_encoder(encoder)
    tags = ["O"] + [f"{p}-{label}" for label in labels for p in "BI"]
    model = AutoModelForTokenClassification.from_pretrained(
        path, num_labels=len(tags), id2label=dict(enumerate(tags)), label2id={t: i for i, t in enumerate(tags)}
    )
    tokenizer = AutoTokenizer.from_pretrained(path, model_max_length=512)
    return pipeline(
        "token-classification", model=model, tokenizer=tokenizer, aggregation_strategy="simple",
        device=gpu_id if gpu_id >= 0 else -1, stride=64,
    )


def with_predicted_ents(docs: Sequence[Doc], recipe: HFRecipe) -> List[Doc]:
    """Copies of `docs` carrying the recipe's entities (for the shared scorer)."""
    predicted = []
    for doc in docs:
        sents = list(doc.sents)
        spans = recipe.predict([[t.text for t in s] for s in sents])
        copy = Doc(doc.vocab, words=[t.text for t in doc], spaces=[bool(t.whitespace_) for t in doc])
        copy.ents = [
            Span(copy, s.start + a, s.start + b, label=label) for s, ents in zip(sents, spans) for a, b, label in ents
        ]
        predicted.append(copy)
    return predicted


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
