"""The registered CoNLL corpus reader, in a tiny spacy.training flow."""
from pathlib import Path

import pytest
import spacy
from spacy.training import Example
from spacy.util import registry
from thinc.api import Config

from spacy_bert_ner.errors import BertNerError
from spacy_bert_ner.readers import ConllCorpus, create_conll_corpus

TEXT = """-DOCSTART- -X- O O

Angela B-PER
Merkel I-PER
visited O
Paris B-LOC
. O

Reuters B-ORG
said O

-DOCSTART- -X- O O

Google B-ORG
met O
John B-PER
"""

CONFIG = """
[paths]
train = null

[corpora]

[corpora.train]
@readers = "spacy_bert_ner.ConllCorpus.v1"
path = ${paths.train}
scheme = "iob2"
n_sents = null
max_length = 0
limit = 0
"""


@pytest.fixture
def conll_path(tmp_path) -> Path:
    path = tmp_path / "train.conll"
    path.write_text(TEXT, encoding="utf8")
    return path


def test_resolved_from_a_config(conll_path):
    config = Config().from_str(CONFIG, overrides={"paths.train": str(conll_path)})
    corpus = registry.resolve(config)["corpora"]["train"]
    assert isinstance(corpus, ConllCorpus)
    nlp = spacy.blank("en")
    examples = list(corpus(nlp))
    assert len(examples) == 2 and all(isinstance(eg, Example) for eg in examples)
    first = examples[0]
    assert [t.text for t in first.predicted] == [t.text for t in first.reference]  # no re-tokenizing
    assert not first.predicted.has_annotation("ENT_IOB")
    assert [(e.text, e.label_) for e in first.reference.ents] == [
        ("Angela Merkel", "PER"), ("Paris", "LOC"), ("Reuters", "ORG")
    ]
    assert [t.is_sent_start for t in first.reference] == [True, False, False, False, False, True, False]
    assert corpus.reader.scheme == "iob2" and corpus.reader.n_ents == 5


def test_trains_a_spacy_ner(conll_path):
    nlp = spacy.blank("en")
    nlp.add_pipe("ner")
    corpus = create_conll_corpus(conll_path)
    nlp.initialize(lambda: corpus(nlp))
    assert set(nlp.get_pipe("ner").labels) == {"PER", "LOC", "ORG"}
    losses = {}
    for _ in range(2):
        nlp.update(list(corpus(nlp)), losses=losses)
    assert losses["ner"] > 0
    scores = nlp.evaluate(list(corpus(nlp)))
    assert "ents_f" in scores


def test_max_length_limit_and_augmenter(conll_path):
    nlp = spacy.blank("en")
    parts = list(create_conll_corpus(conll_path, max_length=4)(nlp))
    assert [len(eg.reference) for eg in parts] == [2, 3]  # the 5-token sentence is skipped
    assert [e.text for e in parts[0].reference.ents] == ["Reuters"]
    assert len(list(create_conll_corpus(conll_path, limit=1)(nlp))) == 1
    twice = create_conll_corpus(conll_path, augmenter=lambda nlp, eg: [eg, eg])
    assert len(list(twice(nlp))) == 4


def test_bad_paths_fail_early(tmp_path):
    with pytest.raises(BertNerError, match="no path"):
        create_conll_corpus(None)
    with pytest.raises(BertNerError, match="no such CoNLL file"):
        create_conll_corpus(tmp_path / "missing.conll")
    with pytest.raises(BertNerError, match="unknown tag scheme"):
        create_conll_corpus(__file__, scheme="xyz")


def test_docbin_corpus_keeps_gold_tokens_and_whole_documents(tmp_path):
    import spacy
    from spacy.util import registry

    from spacy_bert_ner.convert import convert

    conll = tmp_path / "data.conll"
    conll.write_text(
        "-DOCSTART- -X- O O\n\nBre-X NNP I-NP I-ORG\nfell VBD I-VP O\n. . O O\n\n"
        "Calgary NNP I-NP I-LOC\nshrugged VBD I-VP O\n. . O O\n"
    )
    convert(conll, tmp_path / "data.spacy", n_sents=2)
    read = registry.resolve({"r": {"@readers": "spacy_bert_ner.DocBinCorpus.v1", "path": str(tmp_path / "data.spacy")}})["r"]
    (example,) = list(read(spacy.blank("en")))
    assert [t.text for t in example.predicted] == ["Bre-X", "fell", ".", "Calgary", "shrugged", "."]
    assert not example.predicted.has_annotation("ENT_IOB")
    assert [(e.text, e.label_) for e in example.reference.ents] == [("Bre-X", "ORG"), ("Calgary", "LOC")]
    assert example.get_aligned_ner() == ["U-ORG", "O", "O", "U-LOC", "O", "O"]
