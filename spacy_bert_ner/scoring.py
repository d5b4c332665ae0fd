"""The entity scorer: exact span-and-type matching, per type."""
from typing import Any, Dict, Iterable

from spacy.scorer import get_ner_prf
from spacy.training import Example
from spacy.util import registry


def score_entities(examples: Iterable[Example], **kwargs) -> Dict[str, Any]:
    """spaCy's entity keys (ents_p, ents_r, ents_f, ents_per_type)."""
    return get_ner_prf(examples)


@registry.scorers("spacy_bert_ner.entity_scorer.v1")
def make_entity_scorer():
    return score_entities
