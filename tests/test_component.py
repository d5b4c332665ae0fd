"""spaCy's overfitting pattern for bert_ner on a tiny random encoder built offline."""
import pickle

import pytest
import torch
import spacy

from conftest import TEXTS, TRAIN_DATA, entities


def test_overfits_two_examples(overfit_nlp):
    for text, gold in TRAIN_DATA:
        assert entities(overfit_nlp(text)) == gold


def test_confidences_follow_the_entities(overfit_nlp):
    doc = overfit_nlp(TEXTS[1])
    group = doc.spans["bert_ner"]
    assert [(s.start, s.end, s.label_) for s in group] == [(e.start, e.end, e.label_) for e in doc.ents]
    scores = group.attrs["scores"]
    assert len(scores) == len(group) and all(0.0 <= s <= 1.0 for s in scores)
    assert min(scores) > 0.5  # overfit: confident


def test_disk_and_bytes_round_trips_keep_predictions(overfit_nlp, tmp_path):
    expected = [entities(overfit_nlp(t)) for t in TEXTS]
    overfit_nlp.to_disk(tmp_path / "model")
    from_disk = spacy.load(tmp_path / "model")
    assert [entities(from_disk(t)) for t in TEXTS] == expected
    from_bytes = spacy.blank("en")
    from_bytes.add_pipe("bert_ner", config={"model": {"encoder": {"name": "never-loaded"}}})
    from_bytes.from_bytes(overfit_nlp.to_bytes())
    assert [entities(from_bytes(t)) for t in TEXTS] == expected
    for text in TEXTS:
        scores = overfit_nlp(text).spans["bert_ner"].attrs["scores"]
        assert from_disk(text).spans["bert_ner"].attrs["scores"] == pytest.approx(scores, abs=1e-6)


def test_pipe_equals_call(overfit_nlp):
    texts = TEXTS * 3 + ["", "Paris", "Merkel met Macron in Berlin ."]
    one_by_one = [entities(overfit_nlp(t)) for t in texts]
    for batch_size in (1, 2, 64):
        assert [entities(d) for d in overfit_nlp.pipe(texts, batch_size=batch_size)] == one_by_one


def test_pickled_pipeline_predicts_the_same(overfit_nlp):
    clone = pickle.loads(pickle.dumps(overfit_nlp))
    assert [entities(clone(t)) for t in TEXTS] == [entities(overfit_nlp(t)) for t in TEXTS]


def test_labels_come_from_the_data(overfit_nlp):
    assert overfit_nlp.get_pipe("bert_ner").labels == ("LOC", "ORG", "PER")


def test_uninitialized_component_says_what_to_do(tiny_encoder):
    nlp = spacy.blank("en")
    nlp.add_pipe("bert_ner", config={"model": {"encoder": {"name": tiny_encoder}}})
    with pytest.raises(ValueError, match="E109"):
        nlp("Paris")


def test_int8_copy_quantizes_only_the_layer_norm_readers(overfit_nlp):
    """query/key/value and the feed-forward input go int8; the two projections
    that read attention and GELU outputs (outliers) stay float."""
    module = overfit_nlp.get_pipe("bert_ner").model.get_ref("encoder").shims[0]._model
    quantized = dict(module.quantized().transformer.named_modules())
    int8 = {name for name, layer in quantized.items() if isinstance(layer, torch.ao.nn.quantized.dynamic.Linear)}
    assert int8 and all(name.endswith(("query", "key", "value", "intermediate.dense")) for name in int8)
    assert isinstance(quantized["encoder.layer.0.output.dense"], torch.nn.Linear)
    assert isinstance(quantized["encoder.layer.0.attention.output.dense"], torch.nn.Linear)
    doc = overfit_nlp(TEXTS[0])
    assert entities(doc)  # the float model still predicts; quantization made a copy


def test_loading_takes_inference_settings_from_the_config(overfit_nlp, tmp_path):
    """thinc restores attrs from the saved model; spacy.load's config must win
    for the settings that only steer inference (quantize, context, ...)."""
    overfit_nlp.to_disk(tmp_path / "model")
    settings = {"quantize": True, "context": "sentence", "max_batch_pieces": 512}
    nlp = spacy.load(tmp_path / "model", config={"components": {"bert_ner": {"model": {"encoder": settings}}}})
    attrs = nlp.get_pipe("bert_ner").model.get_ref("encoder").attrs
    assert {key: attrs[key] for key in settings} == settings
    plain = spacy.load(tmp_path / "model")
    assert plain.get_pipe("bert_ner").model.get_ref("encoder").attrs["quantize"] is False
    assert entities(plain(TEXTS[0])) == entities(overfit_nlp(TEXTS[0]))
