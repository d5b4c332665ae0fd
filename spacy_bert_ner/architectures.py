"""Registered model builders: thin chains of layers."""
from typing import List, Optional

from spacy.ml.models.tok2vec import MultiHashEmbed
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Dropout, Linear, Model, Relu, chain, concatenate, with_array
from thinc.types import Floats2d

from .layers.hf_encoder import hf_encoder


# The encoder layer's own signature is the architecture's: nothing to chain.
build_hf_encoder = registry.architectures("spacy_bert_ner.HFEncoder.v1")(hf_encoder)


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
