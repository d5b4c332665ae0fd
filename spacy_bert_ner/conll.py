"""CoNLL NER text → documents of words, sentence starts and entity spans.

Pure Python (no spaCy here): `ConllReader` streams a file block by block and
yields `ConllDoc`s; `convert.py` turns them into spaCy Docs and DocBins.

What is read:
- one token per line, columns separated by whitespace, or by tabs when the first
  token line holds a tab (then a word may contain spaces); the word is the first
  column, the tag the last (or `tag_column`); every token line has as many
  columns as the first one;
- blank lines (any number) end sentences; `-DOCSTART-` lines (any trailing
  columns) separate documents, whether they open or close each document;
- plain or gzip-compressed files (detected from the bytes, not the name),
  `\\n` or `\\r\\n` line ends, with or without a final newline, with or without
  a UTF-8 byte-order mark, in any Python codec (`encoding`).

Documents follow the `-DOCSTART-` markers. A file without markers gives one
document per `n_sents` sentences (default 1); so does a file whose only marker
opens it (CoNLL-2002's esp.train), rather than one huge document. A document is
never empty.

Tag schemes (the tag is `O` or `PREFIX-TYPE`, any TYPE such as `creative-work`):
- iob1: `I-X` starts an entity unless it continues an X entity; `B-X` starts one
  (the original CoNLL-2003 layout uses it only between two adjacent X entities);
- iob2 (BIO): entities are `B-X I-X*`;
- bioes (IOBES): `S-X` or `B-X I-X* E-X`;
- biluo (BILOU): `U-X` or `B-X I-X* L-X`.

Auto-detection (`scheme="auto"`) looks at the first sentences of the file until
it has seen `DETECT_TAGS` entity tags (or `DETECT_MAX_TOKENS` tokens):
1. any `S-`/`E-` → bioes; any `U-`/`L-` → biluo (both → error);
2. otherwise count how entities start: an entity opened by `B-X` that does not
   directly follow an X entity is evidence for iob2, one opened by `I-X` for
   iob1; iob2 when the B-openings outnumber the I-openings, else iob1 (also when
   there are no entities: iob1 accepts every B/I/O sequence, so it is the
   choice that cannot be wrong).
A later tag whose prefix does not belong to the detected scheme is an error that
names the line and asks for `--scheme`. For B/I/O data iob1 and iob2 give the
same spans; the scheme decides what counts as a repair.

Repairs (the reading of conlleval and seqeval's default mode): an `I-X` that
does not continue an X entity starts one (not a repair in iob1); a BIOES/BILUO
entity left without its `E-`/`L-` ends at its last token; an `E-X`/`L-X` with no
open X entity is a one-token entity. `strict=True` turns each repair into a
`ConllError`; otherwise they are counted (`ConllReader.repairs`).
"""
import codecs
import gzip
import re
import zlib
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

from .errors import BertNerError, ConllError

DOCSTART = "-DOCSTART-"
SCHEMES = ("iob1", "iob2", "bioes", "biluo")
SCHEME_ALIASES = {"bio": "iob2", "iobes": "bioes", "bilou": "biluo"}
PREFIXES = {"iob1": "BI", "iob2": "BI", "bioes": "BIES", "biluo": "BILU"}
ROLES = {"B": "B", "I": "I", "E": "E", "L": "E", "S": "S", "U": "S"}
DETECT_TAGS = 1000
DETECT_MAX_TOKENS = 100_000
CHUNK_BYTES = 1 << 20
MAX_LINE_BYTES = 16 << 20
N_REPAIR_EXAMPLES = 5
_LONE_CR = re.compile(rb"\r(?!\n)")
_MARKER_LINE = re.compile(r"^[^\S\n]*-DOCSTART-(?:[^\S\n][^\n]*)?$", re.MULTILINE)

Span = Tuple[int, int, str]  # token start, token end (exclusive), label
PathLike = Union[str, Path]
Sentence = Tuple[List[str], List[str], int]  # words, tags, line of the first token


@dataclass
class ConllDoc:
    """One document: its words, where sentences start, its entities.

    words (List[str]): the first column of each token line, exactly.
    sent_starts (List[bool]): True for the first token of each sentence.
    ents (List[Span]): (start, end, label) token offsets, end exclusive, sorted.
    line (int): the line of the document's first token.
    """

    words: List[str]
    sent_starts: List[bool]
    ents: List[Span]
    line: int

    @property
    def n_sents(self) -> int:
        return self.sent_starts.count(True)

    def sentences(self) -> Iterator[Tuple[int, int]]:
        """(start, end) token offsets of each sentence."""
        starts = [i for i, s in enumerate(self.sent_starts) if s] + [len(self.words)]
        return zip(starts[:-1], starts[1:])


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


def _field_column(line: str, index: int, tab: bool) -> int:
    """1-based character column where field `index` of the line starts (0 if none)."""
    if tab:
        fields = line.split("\t")
        if index >= len(fields):
            return 0
        return sum(len(f) + 1 for f in fields[:index]) + 1
    for k, match in enumerate(re.finditer(r"\S+", line)):
        if k == index:
            return match.start() + 1
    return 0


def _ascii_compatible(encoding: str) -> bool:
    try:
        return "\n -DOCSTART-\t".encode(encoding) == b"\n -DOCSTART-\t"
    except (UnicodeError, LookupError):
        return False


class ConllReader:
    """Streams one CoNLL file as ConllDocs (iterate it; each pass rereads the
    file; one pass at a time per reader).

    path (str / Path): the CoNLL file, plain or gzip-compressed.
    scheme (str): 'auto', 'iob1', 'iob2', 'bioes' or 'biluo'.
    tag_column (int): the column of the tag, 1-based (1 is the word), or
        negative to count from the end (-1, the default, is the last column).
    n_sents (Optional[int]): for a file without -DOCSTART- markers, sentences
        per document (None: 1). Ignored (with a warning) when the file has markers.
    strict (bool): a tag sequence that needs a repair is an error.
    encoding (str): the text encoding (a Python codec name).
    limit (int): stop after this many documents (0: no limit).

    After (or during) a pass the reader holds what it found: scheme (the one
    used), n_columns, delimiter, doc_markers, counts (n_docs, n_sents, n_tokens,
    n_ents, n_lines), labels (a Counter), repairs (a Counter by kind),
    repair_examples and warnings.
    """

    def __init__(
        self,
        path: PathLike,
        *,
        scheme: str = "auto",
        tag_column: int = -1,
        n_sents: Optional[int] = None,
        strict: bool = False,
        encoding: str = "utf-8",
        limit: int = 0,
    ):
        self.path = Path(path)
        self.scheme_option = normalize_scheme(scheme)
        if not isinstance(tag_column, int) or tag_column == 0:
            raise BertNerError(
                f"tag column {tag_column!r} is not valid: columns count from 1 (the word), "
                "or from the end with -1 (the last column, the default)"
            )
        self.tag_column = tag_column
        if n_sents is not None and n_sents < 1:
            raise BertNerError(f"n_sents must be 1 or more (got {n_sents})")
        self.n_sents = n_sents
        self.strict = strict
        try:
            self.encoding = codecs.lookup(encoding).name
        except LookupError:
            raise BertNerError(
                f"unknown encoding {encoding!r}: pass a Python codec name such as utf-8, "
                "latin-1 or cp1252"
            ) from None
        if self.encoding == "utf-8-sig":
            self.encoding = "utf-8"
        self.limit = limit
        self._reset()

    def _reset(self) -> None:
        self.scheme = self.scheme_option
        self.n_columns = 0
        self.delimiter = ""
        self.doc_markers = self.compressed = False
        self.n_docs = self.n_sents_read = self.n_tokens = self.n_ents = self.n_lines = 0
        self.labels: Counter = Counter()
        self.repairs: Counter = Counter()
        self.repair_examples: List[str] = []
        self.warnings: List[str] = []
        self._tab = False
        self._tag_index = -1
        self._roles: Dict[str, Tuple[str, str]] = {}
        self._allowed: Optional[str] = None if self.scheme == "auto" else PREFIXES[self.scheme]
        self._family_line: Dict[str, int] = {}

    # -- documents --------------------------------------------------------------

    def __iter__(self) -> Iterator[ConllDoc]:
        self._reset()
        self.doc_markers = self._has_markers()
        sentences = self._events()
        try:
            events = self._detect(sentences) if self.scheme == "auto" else sentences
            yield from self._documents(events)
        finally:
            sentences.close()  # closes the file now, even when stopped early

    def _documents(self, events: Iterable[Optional[Sentence]]) -> Iterator[ConllDoc]:
        markers = self.doc_markers
        per_doc = self.n_sents or 1
        if markers and self.n_sents:
            self.warnings.append(
                f"{self.path}: --n-sents {self.n_sents} ignored: the file has -DOCSTART- "
                "document markers, and documents follow them"
            )
        elif not markers and not self.n_sents:
            self.warnings.append(
                f"{self.path}: no -DOCSTART- lines between documents: one Doc per sentence "
                "(pass --n-sents N to group N sentences per Doc)"
            )
        labels = self.labels
        words: List[str] = []
        starts: List[bool] = []
        ents: List[Span] = []
        first_line = 0
        n_in_doc = 0
        for event in events:
            if event is None:
                if words and markers:
                    yield self._finish(words, starts, ents, first_line, n_in_doc)
                    if self.limit and self.n_docs >= self.limit:
                        return
                    words, starts, ents, n_in_doc = [], [], [], 0
                continue
            sent_words, sent_tags, line = event
            self._line = line
            self._tags = sent_tags
            spans = _decode(sent_tags, self._roles, self.scheme, self._on_repair)
            offset = len(words)
            if not offset:
                first_line = line
            words += sent_words
            starts.append(True)
            starts += [False] * (len(sent_words) - 1)
            for start, end, label in spans:
                ents.append((start + offset, end + offset, label))
                labels[label] += 1
            n_in_doc += 1
            if not markers and n_in_doc >= per_doc:
                yield self._finish(words, starts, ents, first_line, n_in_doc)
                if self.limit and self.n_docs >= self.limit:
                    return
                words, starts, ents, n_in_doc = [], [], [], 0
        if words:
            yield self._finish(words, starts, ents, first_line, n_in_doc)

    def _finish(self, words, starts, ents, line, n_sents) -> ConllDoc:
        self.n_docs += 1
        self.n_sents_read += n_sents
        self.n_tokens += len(words)
        self.n_ents += len(ents)
        return ConllDoc(words, starts, ents, line)

    def _on_repair(self, kind: str, i: int, start: int) -> None:
        line = self._line + i
        problem, reading = repair_message(kind, self._tags, i, start, self.scheme)
        if kind == "unclosed":
            problem += f" (it opens at line {self._line + start})"
        if self.strict:
            raise ConllError(
                self.path,
                line,
                f"{problem}; fix the tags, pass the right --scheme, or leave out --strict "
                f"to {reading}",
                self._column_at(line),
            )
        self.repairs[kind] += 1
        if len(self.repair_examples) < N_REPAIR_EXAMPLES:
            self.repair_examples.append(f"{self.path}:{line}: {problem}: {reading}")

    def _detect(self, events: Iterator[Optional[Sentence]]) -> Iterator[Optional[Sentence]]:
        buffered: List[Optional[Sentence]] = []
        n_ents = n_tokens = 0
        for event in events:
            buffered.append(event)
            if event is not None:
                tags = event[1]
                n_tokens += len(tags)
                n_ents += len(tags) - tags.count("O")
                if n_ents >= DETECT_TAGS or n_tokens >= DETECT_MAX_TOKENS:
                    break
        # The tags were checked as they were read, so this cannot raise.
        self.scheme = detect_scheme(event[1] for event in buffered if event is not None)
        self._allowed = PREFIXES[self.scheme]
        last = next((e for e in reversed(buffered) if e is not None), None)
        self._detect_lines = (1, last[2] + len(last[1]) - 1 if last else 1)
        return chain(buffered, events)

    # -- sentences ----------------------------------------------------------------

    def _events(self) -> Iterator[Optional[Sentence]]:
        """Sentences (words, tags, first line) and None for each -DOCSTART-."""
        roles = self._roles
        words: List[str] = []
        tags: List[str] = []
        n_columns = -1  # set by the first token line, in _odd_line
        tag_index = -1
        tab = None
        lineno = 0
        for first, lines in self._blocks():
            if tab is None:
                tab = self._detect_delimiter(lines)
            for lineno, line in enumerate(lines, first):
                if tab:
                    line = line.rstrip()
                    fields = line.split("\t") if line else []
                else:
                    fields = line.split()
                if not fields:
                    if words:
                        yield words, tags, lineno - len(words)
                        words, tags = [], []
                    continue
                if fields[0] == DOCSTART or len(fields) != n_columns:
                    if self._odd_line(fields, lineno, line):  # a document marker
                        if words:
                            yield words, tags, lineno - len(words)
                            words, tags = [], []
                        yield None
                        continue
                    n_columns, tag_index = self.n_columns, self._tag_index
                if tab and not fields[0]:
                    raise ConllError(self.path, lineno, "empty word before the first tab", 1)
                words.append(fields[0])
                tag = fields[tag_index]
                if tag not in roles:
                    self._new_tag(tag, lineno, line)
                tags.append(tag)
        self.n_lines = lineno
        if n_columns < 0:
            raise ConllError(
                self.path,
                max(lineno, 1),
                "no tokens found: the file is empty or holds only blank lines and "
                "-DOCSTART- markers; check the path (CoNLL has one 'word ... tag' line per token)",
            )
        if words:
            yield words, tags, lineno + 1 - len(words)

    def _detect_delimiter(self, lines: List[str]) -> Optional[bool]:
        for line in lines:
            fields = line.split()
            if fields and fields[0] != DOCSTART:
                self._tab = "\t" in line
                self.delimiter = "tab" if self._tab else "whitespace"
                return self._tab
        return None

    def _odd_line(self, fields: List[str], lineno: int, line: str) -> bool:
        """A marker (True), the first token line (sets the columns), or an error."""
        if fields[0].split()[:1] == [DOCSTART]:
            return True
        n = len(fields)
        if not self.n_columns:
            if n < 2:
                raise ConllError(
                    self.path,
                    lineno,
                    f"only one column ({fields[0]!r}): a token line needs the word and its tag, "
                    "separated by whitespace or a tab",
                    1,
                )
            index = self.tag_column - 1 if self.tag_column > 0 else n + self.tag_column
            if not 1 <= index < n:
                raise ConllError(
                    self.path,
                    lineno,
                    f"tag column {self.tag_column} does not exist on a line of {n} columns: "
                    f"pass --tag-column between 2 and {n} (or -1 for the last)",
                )
            self.n_columns, self._tag_index = n, index
            self._first_token_line = lineno
            return False
        sep = "tab" if self._tab else "whitespace"
        column = _field_column(line, self.n_columns, self._tab) if n > self.n_columns else 0
        raise ConllError(
            self.path,
            lineno,
            f"{n} columns, but the first token line ({self._first_token_line}) has "
            f"{self.n_columns} (columns are split at {sep}): every token line needs the same "
            "columns; fix the line, or separate sentences with an empty line",
            column,
        )

    def _new_tag(self, tag: str, lineno: int, line: str) -> None:
        column = _field_column(line, self._tag_index, self._tab)
        where = f"column {self._tag_index + 1} of {self.n_columns}"
        try:
            prefix, label = parse_tag(tag)
        except ValueError as e:
            raise ConllError(
                self.path, lineno, f"{e} (the tag is read from {where}; pass --tag-column to "
                "pick another column)", column
            ) from None
        if prefix == "O":
            self._roles[tag] = ("O", "")
            return
        if self._allowed is None:  # auto, before detection: only BIOES/BILUO clash
            family = "bioes" if prefix in "ES" else "biluo" if prefix in "LU" else None
            other = {"bioes": "biluo", "biluo": "bioes"}.get(family or "")
            if other and other in self._family_line:
                raise ConllError(
                    self.path,
                    lineno,
                    f"tag {tag!r} is {family.upper()}, but line {self._family_line[other]} has a "
                    f"{other.upper()} tag: use one scheme per file",
                    column,
                )
            if family:
                self._family_line.setdefault(family, lineno)
        elif prefix not in self._allowed:
            name = self.scheme.upper()
            how = "pass the right --scheme"
            if self.scheme_option == "auto":
                first, last = self._detect_lines
                how = (
                    f"the scheme was detected as {name} from lines {first}-{last}; "
                    "pass the right --scheme"
                )
            raise ConllError(
                self.path,
                lineno,
                f"tag {tag!r} is not in the {name} scheme ({name} uses "
                f"{', '.join(p + '-' for p in self._allowed)} and O): {how}",
                column,
            )
        self._roles[tag] = (ROLES[prefix], label)

    def _column_at(self, lineno: int) -> int:
        """The tag's column on a line already read (error path: rereads the file)."""
        try:
            for first, lines in self._blocks():
                if first + len(lines) > lineno:
                    return _field_column(lines[lineno - first], self._tag_index, self._tab)
        except Exception:  # pragma: no cover - the column is a courtesy
            return 0
        return 0

    # -- bytes → text lines -----------------------------------------------------

    def _has_markers(self) -> bool:
        """Whether a -DOCSTART- line comes after a token line (a scan that stops
        there): one that only opens the file, as in CoNLL-2002's esp.*, is a header."""
        seen_token = False
        for _, text in self._texts():
            pos = 0
            for marker in _MARKER_LINE.finditer(text) if DOCSTART in text else ():
                if seen_token or text[pos : marker.start()].strip():
                    return True
                pos = marker.end()
            seen_token = seen_token or bool(text[pos:].strip())
        return False

    def _blocks(self) -> Iterator[Tuple[int, List[str]]]:
        """(line number of the first line, lines) for each block of the file."""
        lineno = 1
        for _, text in self._texts():
            lines = text.split("\n")
            if text.endswith("\n"):
                lines.pop()
            yield lineno, lines
            lineno += len(lines)

    def _texts(self) -> Iterator[Tuple[int, str]]:
        """(line number, text) blocks that end at a line end (but the last one)."""
        with ExitStack() as stack:
            stream = self._open(stack)
            if _ascii_compatible(self.encoding):
                yield from self._texts_bytewise(stream)
            else:
                yield from self._texts_codec(stream)

    def _open(self, stack: ExitStack):
        try:
            raw = stack.enter_context(open(self.path, "rb"))
            magic = raw.read(10)
            raw.seek(0)
        except IsADirectoryError:
            raise BertNerError(f"{self.path}: is a folder, not a CoNLL file") from None
        except OSError as e:
            raise BertNerError(f"{self.path}: cannot read it ({e.strerror}); check the path") from None
        kind = {
            b"PK\x03\x04": "a zip archive",
            b"\xfd7zXZ": "xz-compressed",
            b"(\xb5/\xfd": "zstd-compressed",
        }
        if magic[:3] == b"BZh" and magic[4:10] == b"1AY&SY":
            kind[magic[:3]] = "bzip2-compressed"
        for start, what in kind.items():
            if magic.startswith(start):
                raise ConllError(
                    self.path, 1, f"the file is {what}: decompress it first (or gzip it: .gz "
                    "files are read directly)"
                )
        if magic.startswith(b"\x1f\x8b"):
            self.compressed = True
            return stack.enter_context(gzip.GzipFile(fileobj=raw, mode="rb"))
        self.compressed = False
        return raw

    def _read(self, stream, lineno: int) -> bytes:
        try:
            return stream.read(CHUNK_BYTES)
        except (OSError, EOFError, zlib.error) as e:
            if not self.compressed:
                raise BertNerError(f"{self.path}: cannot read it ({e})") from None
            raise ConllError(
                self.path,
                lineno,
                f"cannot decompress the gzip data ({e}): the file is damaged or truncated; "
                "get a complete copy",
            ) from None

    def _texts_bytewise(self, stream) -> Iterator[Tuple[int, str]]:
        encoding = self.encoding
        lineno, offset, pending = 1, 0, b""
        first = True
        while True:
            data = self._read(stream, lineno)
            if not offset and not pending and encoding == "utf-8" and data[:2] in (
                b"\xff\xfe",
                b"\xfe\xff",
            ):
                raise ConllError(
                    self.path, 1, "the file starts with a UTF-16 byte-order mark: pass "
                    "--encoding utf-16"
                )
            if not data:
                break
            nul = data.find(b"\x00")
            if nul >= 0:
                at = offset + len(pending) + nul
                where = lineno + pending.count(b"\n") + data.count(b"\n", 0, nul)
                raise ConllError(
                    self.path,
                    where,
                    f"a NUL byte at byte offset {at}: this looks like a binary file, not CoNLL "
                    "text (give a CoNLL text file, plain or .gz; UTF-16 text needs --encoding "
                    "utf-16)",
                )
            block = pending + data if pending else data
            cut = block.rfind(b"\n") + 1
            if not cut:
                if len(block) > MAX_LINE_BYTES:
                    raise ConllError(
                        self.path, lineno, f"a line longer than {MAX_LINE_BYTES >> 20} MB: "
                        "this does not look like CoNLL text (one token per line)"
                    )
                pending = block
                continue
            pending = block[cut:]
            self._check_line_ends(block[:cut], offset, lineno)
            text = self._decode_bytes(block[:cut], offset, lineno)
            if first:
                text = text[1:] if text.startswith("\ufeff") else text
                first = False
            yield lineno, text
            lineno += block.count(b"\n", 0, cut)
            offset += cut
        if pending:
            self._check_line_ends(pending.rstrip(b"\r"), offset, lineno)
            text = self._decode_bytes(pending, offset, lineno)
            yield lineno, (text[1:] if first and text.startswith("\ufeff") else text)

    def _check_line_ends(self, block: bytes, offset: int, lineno: int) -> None:
        lone = _LONE_CR.search(block) if b"\r" in block else None
        if lone:
            at = lone.start()
            raise ConllError(
                self.path,
                lineno + block.count(b"\n", 0, at),
                f"a carriage return without a line feed at byte offset {offset + at}: lines must "
                "end with \\n or \\r\\n (convert old Mac line ends, e.g. tr '\\r' '\\n')",
            )

    def _decode_bytes(self, block: bytes, offset: int, lineno: int) -> str:
        try:
            return block.decode(self.encoding)
        except UnicodeDecodeError as e:
            line_start = block.rfind(b"\n", 0, e.start) + 1
            line = lineno + block.count(b"\n", 0, e.start)
            column = len(block[line_start : e.start].decode(self.encoding, "replace")) + 1
            if line == 1 and offset == 0 and block.startswith(b"\xef\xbb\xbf"):
                column -= 1
            bad = block[e.start : e.end].hex(" ")
            raise ConllError(
                self.path,
                line,
                f"byte(s) {bad} at byte offset {offset + e.start} are not valid {self.encoding}: "
                "pass --encoding with the file's encoding (e.g. --encoding latin-1 or cp1252)",
                column,
            ) from None

    def _texts_codec(self, stream) -> Iterator[Tuple[int, str]]:
        decoder = codecs.getincrementaldecoder(self.encoding)("strict")
        lineno, pending = 1, ""
        while True:
            data = self._read(stream, lineno)
            try:
                text = pending + decoder.decode(data, final=not data)
            except UnicodeError as e:
                reason = e.reason if isinstance(e, UnicodeDecodeError) else str(e)
                raise ConllError(
                    self.path,
                    lineno + pending.count("\n"),
                    f"the text is not valid {self.encoding} ({reason}): pass --encoding with "
                    "the file's encoding",
                ) from None
            if "\x00" in text:
                raise ConllError(
                    self.path, lineno + text[: text.index("\x00")].count("\n"),
                    f"a NUL character: this does not look like {self.encoding} text; check "
                    "--encoding",
                )
            if not data:
                if text:
                    yield lineno, text.lstrip("\ufeff") if lineno == 1 else text
                return
            cut = text.rfind("\n") + 1
            pending = text[cut:]
            if cut:
                block = text[:cut]
                yield lineno, block.lstrip("\ufeff") if lineno == 1 else block
                lineno += block.count("\n")


def read_conll(path: PathLike, **options) -> Iterator[ConllDoc]:
    """The ConllDocs of a file: a shortcut for iter(ConllReader(path, **options))."""
    return iter(ConllReader(path, **options))
