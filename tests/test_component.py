"""spaCy's overfitting pattern for bert_ner on a tiny random encoder built offline."""
import pickle

import pytest
import spacy
from spacy.training import Example
from spacy.util import fix_random_seed

TRAIN_DATA = [
    ("Angela Merkel visited Paris today .", [(0, 13, "PER"), (22, 27, "LOC")]),
    ("Reuters said Google joined the United Nations .", [(0, 7, "ORG"), (13, 19, "ORG"), (31, 45, "ORG")]),
]
TEXTS = [text for text, _ in TRAIN_DATA]


def entities(doc):
    return [(e.start_char, e.end_char, e.label_) for e in doc.ents]


@pytest.fixture(scope="module")
def trained(tiny_encoder):
    fix_random_seed(0)
    nlp = spacy.blank("en")
    nlp.add_pipe("bert_ner", config={"model": {"encoder": {"name": tiny_encoder}}})
    examples = [Example.from_dict(nlp.make_doc(t), {"entities": e}) for t, e in TRAIN_DATA]
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(60):
        losses = nlp.update(examples, sgd=optimizer)
    assert losses["bert_ner"] < 0.01
    return nlp


def test_overfits_two_examples(trained):
    for text, gold in TRAIN_DATA:
        assert entities(trained(text)) == gold


def test_confidences_follow_the_entities(trained):
    doc = trained(TEXTS[1])
    group = doc.spans["bert_ner"]
    assert [(s.start, s.end, s.label_) for s in group] == [(e.start, e.end, e.label_) for e in doc.ents]
    scores = group.attrs["scores"]
    assert len(scores) == len(group) and all(0.0 <= s <= 1.0 for s in scores)
    assert min(scores) > 0.5  # overfit: confident


def test_disk_and_bytes_round_trips_keep_predictions(trained, tmp_path):
    expected = [entities(trained(t)) for t in TEXTS]
    trained.to_disk(tmp_path / "model")
    from_disk = spacy.load(tmp_path / "model")
    assert [entities(from_disk(t)) for t in TEXTS] == expected
    from_bytes = spacy.blank("en")
    from_bytes.add_pipe("bert_ner", config={"model": {"encoder": {"name": "never-loaded"}}})
    from_bytes.from_bytes(trained.to_bytes())
    assert [entities(from_bytes(t)) for t in TEXTS] == expected
    for text in TEXTS:
        scores = trained(text).spans["bert_ner"].attrs["scores"]
        assert from_disk(text).spans["bert_ner"].attrs["scores"] == pytest.approx(scores, abs=1e-6)


def test_pipe_equals_call(trained):
    texts = TEXTS * 3 + ["", "Paris", "Merkel met Macron in Berlin ."]
    one_by_one = [entities(trained(t)) for t in texts]
    for batch_size in (1, 2, 64):
        assert [entities(d) for d in trained.pipe(texts, batch_size=batch_size)] == one_by_one


def test_pickled_pipeline_predicts_the_same(trained):
    clone = pickle.loads(pickle.dumps(trained))
    assert [entities(clone(t)) for t in TEXTS] == [entities(trained(t)) for t in TEXTS]


def test_labels_come_from_the_data(trained):
    assert trained.get_pipe("bert_ner").labels == ("LOC", "ORG", "PER")


def test_uninitialized_component_says_what_to_do(tiny_encoder):
    nlp = spacy.blank("en")
    nlp.add_pipe("bert_ner", config={"model": {"encoder": {"name": tiny_encoder}}})
    with pytest.raises(ValueError, match="E109"):
        nlp("Paris")
