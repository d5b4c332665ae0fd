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
  a UTF-8 byte-order mark, in any Python codec (`encoding`): `conll_input.py`
  turns the bytes into text.

Documents follow the `-DOCSTART-` markers. A file without markers gives one
document per `n_sents` sentences (default 1); so does a file whose only marker
opens it (CoNLL-2002's esp.train), rather than one huge document. A document is
never empty.

The tags are read in one of the schemes of `tag_schemes.py` (iob1, iob2, bioes,
biluo). With `scheme="auto"` the reader looks at the first sentences of the file
until it has seen `DETECT_TAGS` entity tags (or `DETECT_MAX_TOKENS` tokens) and
applies `detect_scheme` to them. A later tag whose prefix does not belong to the
detected scheme is an error that names the line and asks for `--scheme`.

Tag sequences that need a repair (see `tag_schemes.py`) are repaired and counted
(`ConllReader.repairs`); `strict=True` turns each repair into a `ConllError`.
"""
import codecs
import re
from collections import Counter
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Tuple, Union

from .conll_input import ConllInput
from .errors import BertNerError, ConllError
from .tag_schemes import (
    PREFIXES,
    ROLES,
    Span,
    _decode,
    detect_scheme,
    normalize_scheme,
    parse_tag,
    repair_message,
)

DOCSTART = "-DOCSTART-"
DETECT_TAGS = 1000
DETECT_MAX_TOKENS = 100_000
N_REPAIR_EXAMPLES = 5
_MARKER_LINE = re.compile(r"^[^\S\n]*-DOCSTART-(?:[^\S\n][^\n]*)?$", re.MULTILINE)

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
        self._input = ConllInput(self.path, self.encoding)
        self._reset()

    @property
    def compressed(self) -> bool:
        """Whether the file is gzip-compressed (known once a pass has opened it)."""
        return self._input.compressed

    def _reset(self) -> None:
        self.scheme = self.scheme_option
        self.n_columns = 0
        self.delimiter = ""
        self.doc_markers = False
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

    # -- text → lines -------------------------------------------------------------

    def _has_markers(self) -> bool:
        """Whether a -DOCSTART- line comes after a token line (a scan that stops
        there): one that only opens the file, as in CoNLL-2002's esp.*, is a header."""
        seen_token = False
        for _, text in self._input:
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
        for _, text in self._input:
            lines = text.split("\n")
            if text.endswith("\n"):
                lines.pop()
            yield lineno, lines
            lineno += len(lines)


def read_conll(path: PathLike, **options) -> Iterator[ConllDoc]:
    """The ConllDocs of a file: a shortcut for iter(ConllReader(path, **options))."""
    return iter(ConllReader(path, **options))
