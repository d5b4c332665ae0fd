"""The PyTorch side of the encoder: transformer forward plus word pooling."""
import copy
from typing import Any, Dict, List, Optional

import torch


# Linear layers whose input is a LayerNorm output (BERT/RoBERTa names, then
# DistilBERT's). Their activations quantize well; the attention-output and
# feed-forward-output projections read activations with outliers, and
# quantizing them too cost 0.5 F1 on CoNLL-2003 (see README, Speed).
_INT8_SAFE_LINEARS = ("query", "key", "value", "intermediate.dense", "q_lin", "k_lin", "v_lin", "lin1")


def _linears_reading_layer_norm(transformer: torch.nn.Module) -> List[str]:
    return [
        name
        for name, module in transformer.named_modules()
        if isinstance(module, torch.nn.Linear) and name.endswith(_INT8_SAFE_LINEARS)
    ]


class PooledEncoder(torch.nn.Module):
    """A Hugging Face encoder that returns one vector per word, not per wordpiece.

    Pooling inside the module keeps the hidden states of every wordpiece on the
    torch side: only the (much smaller) word vectors cross into thinc.
    """

    def __init__(self, transformer: torch.nn.Module, tokenizer_info: Dict[str, Any]):
        super().__init__()
        self.transformer = transformer
        # Plain data, not parameters: serialized by encoder_loading.serialize_encoder.
        self.tokenizer_info = tokenizer_info
        self._tokenizer = None
        self._cache: Dict[str, "PooledEncoder"] = {}  # a plain dict: not a submodule

    def quantized(self) -> "PooledEncoder":
        """A copy for CPU inference with the query/key/value and feed-forward
        input projections dynamically quantized to int8 (per output channel),
        cached until `forget_quantized` (called when the weights change)."""
        if "int8" not in self._cache:
            transformer = copy.deepcopy(self.transformer).cpu()
            qconfig = torch.ao.quantization.per_channel_dynamic_qconfig
            spec = {name: qconfig for name in _linears_reading_layer_norm(transformer)}
            int8 = torch.ao.quantization.quantize_dynamic(transformer, spec, dtype=torch.qint8)
            self._cache["int8"] = PooledEncoder(int8, self.tokenizer_info).eval()
        return self._cache["int8"]

    def forget_quantized(self) -> None:
        self._cache.clear()

    @property
    def tokenizer(self):
        """The fast tokenizer, with the truncation and padding of the saved file off."""
        if self._tokenizer is None:
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_str(self.tokenizer_info["tokenizer_json"])
            tokenizer.no_truncation()
            tokenizer.no_padding()
            self._tokenizer = tokenizer
        return self._tokenizer

    @property
    def width(self) -> int:
        return int(self.transformer.config.hidden_size)

    def forward(self, batches: List[Dict[str, Any]]) -> List[torch.Tensor]:
        """Encode several padded batches; one call so that training backpropagates
        (and unscales mixed-precision gradients) once for all of them."""
        return [self.encode(**batch) for batch in batches]

    def encode(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        piece_index: torch.Tensor,
        piece_to_word: Optional[torch.Tensor] = None,
        n_words: int = 0,
    ) -> torch.Tensor:
        """Encode padded windows and pool wordpieces into words.

        input_ids, attention_mask (Tensor[B, L]): the padded windows.
        piece_index (Tensor[P]): flat indices (row * L + position) of the pieces used.
        piece_to_word (Optional[Tensor[P]]): word of each piece, for mean pooling;
            None means one piece per word (first-piece pooling).
        RETURNS (Tensor[n_words, H]): float32 word vectors.
        """
        hidden = self.transformer(input_ids=input_ids, attention_mask=attention_mask)[0]
        pieces = hidden.reshape(-1, hidden.shape[-1]).index_select(0, piece_index).float()
        if piece_to_word is None:
            return pieces
        summed = pieces.new_zeros((n_words, pieces.shape[1])).index_add_(0, piece_to_word, pieces)
        counts = torch.bincount(piece_to_word, minlength=n_words).clamp_(min=1)
        return summed / counts.unsqueeze(1).to(summed.dtype)
