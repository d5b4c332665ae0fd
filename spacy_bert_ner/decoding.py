"""BILUO tags: the tag set, allowed transitions, constrained Viterbi, entity confidences.

A BILUO tag sequence is valid when every entity is `U-X` or `B-X I-X* L-X`.
The decoder returns the most probable *valid* sequence under the model's
per-token probabilities, so the spans it yields never overlap or dangle.
"""
from dataclasses import dataclass
from typing import List, Sequence, Tuple

import numpy as np

PREFIXES = ("B", "I", "L", "U")


@dataclass(frozen=True)
class TagSet:
    """Tag 0 is O; then B, I, L, U for each label, in label order."""

    labels: Tuple[str, ...]

    @property
    def tags(self) -> List[str]:
        return ["O"] + [f"{p}-{label}" for label in self.labels for p in PREFIXES]

    def __len__(self) -> int:
        return 1 + 4 * len(self.labels)

    def index(self, prefix: str, label_index: int) -> int:
        return 1 + 4 * label_index + PREFIXES.index(prefix)

    def prefix_of(self) -> np.ndarray:
        """(n_tags,) the prefix of each tag as a character, 'O' for O."""
        return np.asarray(["O"] + [p for _ in self.labels for p in PREFIXES])

    def label_of(self) -> np.ndarray:
        """(n_tags,) the label index of each tag, -1 for O."""
        return np.asarray([-1] + [i for i in range(len(self.labels)) for _ in PREFIXES])

    def transitions(self) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Boolean masks: allowed[prev, cur], allowed first tags, allowed last tags."""
        prefix, label = self.prefix_of(), self.label_of()
        outside = np.isin(prefix, ["O", "L", "U"])  # tags after which an entity may start
        opening = np.isin(prefix, ["O", "B", "U"])  # tags that may follow those
        inside_next = np.isin(prefix, ["I", "L"])
        same = label[:, None] == label[None, :]
        allowed = (outside[:, None] & opening[None, :]) | (
            np.isin(prefix, ["B", "I"])[:, None] & inside_next[None, :] & same
        )
        return allowed, opening.copy(), outside.copy()


class Decoder:
    """Constrained decoding over log-probabilities, vectorised over a batch."""

    def __init__(self, tag_set: TagSet):
        self.tag_set = tag_set
        allowed, self.first_ok, self.last_ok = tag_set.transitions()
        self.allowed = allowed
        self.penalty = np.where(allowed, 0.0, -np.inf).astype(np.float32)
        self.start_penalty = np.where(self.first_ok, 0.0, -np.inf).astype(np.float32)
        self.end_penalty = np.where(self.last_ok, 0.0, -np.inf).astype(np.float32)

    def is_valid(self, tags: np.ndarray) -> bool:
        if len(tags) == 0:
            return True
        return bool(
            self.first_ok[tags[0]]
            and self.last_ok[tags[-1]]
            and self.allowed[tags[:-1], tags[1:]].all()
        )

    def decode(self, log_probs: Sequence[np.ndarray]) -> List[np.ndarray]:
        """The best valid tag sequence for each (n_tokens, n_tags) log-prob array.

        Where the per-token argmax is already valid it is the optimum (each term
        is maximised independently); only the other sequences run Viterbi.
        """
        best = [lp.argmax(axis=1) if len(lp) else np.zeros(0, dtype=np.int64) for lp in log_probs]
        invalid = [i for i, tags in enumerate(best) if not self.is_valid(tags)]
        if invalid:
            for i, tags in zip(invalid, self._viterbi([log_probs[i] for i in invalid])):
                best[i] = tags
        return best

    def _viterbi(self, log_probs: Sequence[np.ndarray]) -> List[np.ndarray]:
        n_tags = len(self.tag_set)
        lengths = np.asarray([len(lp) for lp in log_probs])
        T, B = int(lengths.max()), len(log_probs)
        scores = np.zeros((B, T, n_tags), dtype=np.float32)
        for b, lp in enumerate(log_probs):
            scores[b, : len(lp)] = lp
        backpointers = np.zeros((B, T, n_tags), dtype=np.int32)
        delta = scores[:, 0] + self.start_penalty
        best_final = np.full((B, n_tags), -np.inf, dtype=np.float32)
        best_final[lengths == 1] = delta[lengths == 1]
        for t in range(1, T):
            candidates = delta[:, :, None] + self.penalty[None]  # (B, prev, cur)
            backpointers[:, t] = candidates.argmax(axis=1)
            delta = candidates.max(axis=1) + scores[:, t]
            ends_here = lengths == t + 1
            best_final[ends_here] = delta[ends_here]
        best_final = best_final + self.end_penalty
        paths = []
        for b in range(B):
            tags = np.zeros(lengths[b], dtype=np.int64)
            tags[-1] = best_final[b].argmax()
            for t in range(lengths[b] - 1, 0, -1):
                tags[t - 1] = backpointers[b, t, tags[t]]
            paths.append(tags)
        return paths

    def spans(self, tags: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(starts, ends, label indices) of the entities in a valid tag sequence."""
        prefix = self.tag_set.prefix_of()[tags]
        starts = np.flatnonzero((prefix == "B") | (prefix == "U"))
        ends = np.flatnonzero((prefix == "L") | (prefix == "U")) + 1
        return starts, ends, self.tag_set.label_of()[tags[starts]]


def span_confidences(
    probs: np.ndarray, tags: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> np.ndarray:
    """Confidence of each entity: the probability the model gives to its exact
    tag sequence (B I* L, or U), i.e. the product of its tokens' tag probabilities."""
    if len(starts) == 0:
        return np.zeros(0, dtype=np.float32)
    token_log = np.log(np.clip(probs[np.arange(len(tags)), tags], 1e-12, 1.0))
    cumulative = np.concatenate([[0.0], np.cumsum(token_log)])
    return np.exp(cumulative[ends] - cumulative[starts]).astype(np.float32)
