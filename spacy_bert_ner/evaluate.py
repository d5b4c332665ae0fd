"""`evaluate`: load a pipeline and gold data, score, report."""
from pathlib import Path
from typing import Any, Dict, List, Optional

import spacy
from spacy.tokens import Doc, DocBin
from spacy.vocab import Vocab
from wasabi import msg

from .conll import ConllReader
from .convert import make_doc
from .errors import BertNerError
from .report import evaluate_pipeline, write_report


def load_gold(path: Path, vocab: Vocab) -> List[Doc]:
    """Gold docs from a .spacy file or, for anything else, a CoNLL file."""
    if path.suffix == ".spacy":
        try:
            return list(DocBin().from_disk(path).get_docs(vocab))
        except Exception as err:
            raise BertNerError(f"{path}: not a readable .spacy file ({err}); convert the data again") from None
    return [make_doc(vocab, conll_doc) for conll_doc in ConllReader(path)]


def load_pipeline(model: str, gpu_id: int, int8: bool = False):
    if gpu_id >= 0:
        spacy.require_gpu(gpu_id)
    config = {}
    if int8:
        config = {"components": {"bert_ner": {"model": {"encoder": {"quantize": True}}}}}
    try:
        return spacy.load(model, config=config)
    except OSError as err:
        raise BertNerError(f"Cannot load the pipeline '{model}': {err}") from None


def evaluate(
    model: str, data: Path, *, output: Optional[Path] = None, gpu_id: int = -1, batch_size: int = 64, int8: bool = False
) -> Dict[str, Any]:
    """Score `model` on `data`; write the report files to `output` if given.

    int8 (bool): predict with the encoder's linear layers quantized to int8 (CPU).
    """
    nlp = load_pipeline(model, gpu_id, int8)
    gold = load_gold(Path(data), nlp.vocab)
    if not gold:
        raise BertNerError(f"{data}: holds no documents to evaluate on")
    scores = evaluate_pipeline(nlp, gold, batch_size=batch_size)
    scores.update({"model": str(model), "model_name": f"{nlp.meta.get('lang')}_{nlp.meta.get('name')}",
                   "model_version": nlp.meta.get("version"), "data": str(data), "int8": int8})
    if output is not None:
        write_report(scores, Path(output))
    scores.pop("_examples", None)
    return scores


def print_summary(scores: Dict[str, Any]) -> None:
    rows = [
        (label, f"{v['p'] * 100:.2f}", f"{v['r'] * 100:.2f}", f"{v['f'] * 100:.2f}", v["support"])
        for label, v in scores["ents_per_type"].items()
    ]
    rows.append(("ALL", f"{scores['ents_p'] * 100:.2f}", f"{scores['ents_r'] * 100:.2f}",
                 f"{scores['ents_f'] * 100:.2f}", scores["ents_support"]))
    msg.table(rows, header=("type", "P", "R", "F", "support"), divider=True, aligns=("l", "r", "r", "r", "r"))
    extra = f"macro F {scores['ents_macro_f'] * 100:.2f}, {scores['words_per_second']:,.0f} words/s"
    calibration = scores.get("confidence_calibration")
    if calibration:
        extra += f", confidence ECE {calibration['ece']:.3f}"
    msg.info(extra)
