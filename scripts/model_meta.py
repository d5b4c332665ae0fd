"""Write the meta.json that `spacy package` turns into the model's meta and card."""
from pathlib import Path

import srsly
import typer
from wasabi import msg

PERFORMANCE_KEYS = ("ents_p", "ents_r", "ents_f", "ents_per_type", "ents_macro_f", "speed")


def main(
    model: Path = typer.Argument(..., help="Trained pipeline folder", exists=True),
    metrics: Path = typer.Argument(..., help="metrics.json written by `spacy_bert_ner evaluate`", exists=True),
    output: Path = typer.Argument(..., help="meta.json to write"),
    name: str = typer.Option(..., help="Package name, without the language prefix"),
    version: str = typer.Option(..., help="Package version"),
) -> None:
    """Put the test-set scores into the model's meta (`performance`), so the
    packaged model and its card carry them."""
    meta = srsly.read_json(model / "meta.json")
    scores = srsly.read_json(metrics)
    data = scores.get("data", "the test set")
    meta.update(
        {
            "name": name,
            "version": version,
            "description": (
                "Named-entity recognition with spacy-bert-ner (bert_ner: transformer "
                "token classification, constrained BILUO decoding, entity confidences in "
                f"doc.spans). Scores below are on {data}."
            ),
            "license": meta.get("license") or "MIT",
        }
    )
    meta["performance"] = {key: scores[key] for key in PERFORMANCE_KEYS if key in scores}
    output.parent.mkdir(parents=True, exist_ok=True)
    srsly.write_json(output, meta)
    msg.good(f"Wrote {output} (test F {scores.get('ents_f', 0.0) * 100:.2f})")


if __name__ == "__main__":
    typer.run(main)
