"""Every entry point declared in the package metadata resolves (catches typos)."""
from importlib.metadata import distribution

import pytest
from spacy.language import Language
from spacy.util import registry

GROUPS = {
    "spacy_architectures": registry.architectures,
    "spacy_readers": registry.readers,
    "spacy_scorers": registry.scorers,
    "spacy_loggers": registry.loggers,
    "spacy_callbacks": registry.callbacks,
}


def declared():
    for ep in distribution("spacy-bert-ner").entry_points:
        if ep.group.startswith("spacy_"):
            yield ep.group, ep.name, ep


def test_every_registered_kind_is_declared():
    groups = {group for group, _, _ in declared()}
    assert {"spacy_factories", "spacy_architectures", "spacy_readers", "spacy_scorers"} <= groups


@pytest.mark.parametrize("group,name,ep", list(declared()), ids=lambda x: getattr(x, "name", str(x)))
def test_entry_point_resolves(group, name, ep):
    assert callable(ep.load())
    if group == "spacy_factories":
        assert Language.has_factory(name)
    elif group in GROUPS:
        assert callable(GROUPS[group].get(name))
