"""Tag schemes: entity tags ↔ spans, scheme detection, repairs.

Pure Python, for one sentence's tags at a time; `conll.py` applies it to files.

Tag schemes (the tag is `O` or `PREFIX-TYPE`, any TYPE such as `creative-work`):
- iob1: `I-X` starts an entity unless it continues an X entity; `B-X` starts one
  (the original CoNLL-2003 layout uses it only between two adjacent X entities);
- iob2 (BIO): entities are `B-X I-X*`;
- bioes (IOBES): `S-X` or `B-X I-X* E-X`;
- biluo (BILOU): `U-X` or `B-X I-X* L-X`.

Auto-detection (`detect_scheme`, `scheme="auto"`) from some sentences' tags:
1. any `S-`/`E-` → bioes; any `U-`/`L-` → biluo (both → error);
2. otherwise count how entities start: an entity opened by `B-X` that does not
   directly follow an X entity is evidence for iob2, one opened by `I-X` for
   iob1; iob2 when the B-openings outnumber the I-openings, else iob1 (also when
   there are no entities: iob1 accepts every B/I/O sequence, so it is the
   choice that cannot be wrong).
A tag whose prefix does not belong to the scheme is an error. For B/I/O data
iob1 and iob2 give the same spans; the scheme decides what counts as a repair.

Repairs (the reading of conlleval and seqeval's default mode): an `I-X` that
does not continue an X entity starts one (not a repair in iob1); a BIOES/BILUO
entity left without its `E-`/`L-` ends at its last token; an `E-X`/`L-X` with no
open X entity is a one-token entity. `tags_to_spans(strict=True)` turns each
repair into a ValueError; otherwise they are counted by kind.
"""
from collections import Counter
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from .errors import BertNerError

SCHEMES = ("iob1", "iob2", "bioes", "biluo")
SCHEME_ALIASES = {"bio": "iob2", "iobes": "bioes", "bilou": "biluo"}
PREFIXES = {"iob1": "BI", "iob2": "BI", "bioes": "BIES", "biluo": "BILU"}
ROLES = {"B": "B", "I": "I", "E": "E", "L": "E", "S": "S", "U": "S"}

Span = Tuple[int, int, str]  # token start, token end (exclusive), label


def normalize_scheme(scheme: str) -> str:
    """'auto' or one of SCHEMES; accepts bio, iobes and bilou as aliases."""
    name = str(scheme).strip().lower()
    name = SCHEME_ALIASES.get(name, name)
    if name != "auto" and name not in SCHEMES:
        raise BertNerError(
            f"unknown tag scheme {scheme!r}: use auto, {', '.join(SCHEMES)} "
            f"(or the aliases {', '.join(SCHEME_ALIASES)})"
        )
    return name


def parse_tag(tag: str) -> Tuple[str, str]:
    """('O', '') for O, else (prefix, entity type); ValueError for anything else."""
    if tag == "O":
        return "O", ""
    if len(tag) >= 2 and tag[1] == "-":
        if tag[0] not in ROLES:
            raise ValueError(
                f"tag {tag!r} has an unknown prefix '{tag[0]}-': expected O, or B-/I- (IOB), "
                "S-/E- (BIOES) or U-/L- (BILUO) before the entity type"
            )
        if len(tag) == 2:
            raise ValueError(f"tag {tag!r} has no entity type after its prefix (e.g. {tag}PER)")
        return tag[0], tag[2:]
    raise ValueError(
        f"{tag!r} is not an entity tag: expected O or PREFIX-TYPE such as B-PER or I-LOC"
    )


def detect_scheme(sentences: Iterable[Sequence[str]]) -> str:
    """The tag scheme of these tag sequences, by the rule in the module docstring."""
    seen = set()
    b_starts = i_starts = 0
    for tags in sentences:
        prev = None
        for tag in tags:
            prefix, label = parse_tag(tag)
            if prefix == "O":
                prev = None
                continue
            seen.add(prefix)
            if prefix == "B" and prev != label:
                b_starts += 1
            elif prefix == "I" and prev != label:
                i_starts += 1
            prev = label
    bioes, biluo = bool(seen & set("ES")), bool(seen & set("LU"))
    if bioes and biluo:
        raise ValueError("the tags mix BIOES (S-/E-) and BILUO (U-/L-) prefixes")
    if bioes:
        return "bioes"
    if biluo:
        return "biluo"
    return "iob2" if b_starts > i_starts else "iob1"


def spans_to_tags(n_tokens: int, spans: Iterable[Span], scheme: str) -> List[str]:
    """The tags of a sentence of n_tokens with these (sorted, disjoint) spans."""
    scheme = normalize_scheme(scheme)
    end_p, single_p = ("L", "U") if scheme == "biluo" else ("E", "S")
    tags = ["O"] * n_tokens
    prev_end, prev_label = -1, None
    for start, end, label in spans:
        if scheme == "iob1":
            first = "B" if (start == prev_end and label == prev_label) else "I"
            tags[start:end] = [f"{first}-{label}"] + [f"I-{label}"] * (end - start - 1)
        elif scheme == "iob2":
            tags[start:end] = [f"B-{label}"] + [f"I-{label}"] * (end - start - 1)
        elif end - start == 1:
            tags[start] = f"{single_p}-{label}"
        else:
            inside = [f"I-{label}"] * (end - start - 2)
            tags[start:end] = [f"B-{label}"] + inside + [f"{end_p}-{label}"]
        prev_end, prev_label = end, label
    return tags


# on_repair(kind, i, start): token i needed a repair; start is the open entity's
# first token (for "unclosed") or i.
RepairHook = Callable[[str, int, int], None]


def _decode(
    tags: Sequence[str], roles: Dict[str, Tuple[str, str]], scheme: str, on_repair: RepairHook
) -> List[Span]:
    """Spans of one sentence. roles maps every non-O tag to (role B/I/E/S, label)."""
    spans: List[Span] = []
    closes = scheme == "bioes" or scheme == "biluo"
    i_repairs = scheme != "iob1"
    start = -1
    label = ""
    for i, tag in enumerate(tags):
        if tag == "O":
            if start >= 0:
                if closes:
                    on_repair("unclosed", i - 1, start)
                spans.append((start, i, label))
                start = -1
            continue
        role, lab = roles[tag]
        if role == "I" and start >= 0 and lab == label:
            continue
        if role == "E" and start >= 0 and lab == label:
            spans.append((start, i + 1, label))
            start = -1
            continue
        if start >= 0:  # any other tag ends the open entity
            if closes:
                on_repair("unclosed", i - 1, start)
            spans.append((start, i, label))
            start = -1
        if role == "B":
            start, label = i, lab
        elif role == "I":
            if i_repairs:
                on_repair("i_start", i, i)
            start, label = i, lab
        elif role == "E":
            on_repair("e_start", i, i)
            spans.append((i, i + 1, lab))
        else:
            spans.append((i, i + 1, lab))
    if start >= 0:
        if closes:
            on_repair("unclosed", len(tags) - 1, start)
        spans.append((start, len(tags), label))
    return spans


def repair_message(kind: str, tags: Sequence[str], i: int, start: int, scheme: str) -> Tuple[str, str]:
    """(what is wrong, how a lenient reader reads it) for a repair found by _decode."""
    name = scheme.upper()
    if kind == "i_start":
        label = tags[i][2:]
        return (
            f"{tags[i]} does not continue a {label} entity ({name} entities start with B-{label})",
            "read it as the start of a new entity",
        )
    if kind == "unclosed":
        label = tags[start][2:]
        end = "L" if scheme == "biluo" else "E"
        return (
            f"the {label} entity opened by {tags[start]} does not end with {end}-{label}",
            f"end it at its last token ({tags[i]})",
        )
    label = tags[i][2:]
    return (
        f"{tags[i]} ends a {label} entity that was never opened with B-{label}",
        "read it as a one-token entity",
    )


def tags_to_spans(
    tags: Sequence[str], scheme: str = "iob2", strict: bool = False, repairs: Optional[Counter] = None
) -> List[Span]:
    """The entity spans of one sentence's tags; ValueError for a bad tag, or a
    repair under strict. Repairs are counted by kind into `repairs` if given."""
    scheme = normalize_scheme(scheme)
    if scheme == "auto":
        scheme = detect_scheme([tags])
    roles: Dict[str, Tuple[str, str]] = {}
    for tag in tags:
        if tag != "O" and tag not in roles:
            prefix, label = parse_tag(tag)
            if prefix not in PREFIXES[scheme]:
                raise ValueError(f"tag {tag!r} is not in the {scheme.upper()} scheme")
            roles[tag] = (ROLES[prefix], label)

    def on_repair(kind: str, i: int, start: int) -> None:
        if strict:
            raise ValueError(repair_message(kind, tags, i, start, scheme)[0])
        if repairs is not None:
            repairs[kind] += 1

    return _decode(tags, roles, scheme, on_repair)
