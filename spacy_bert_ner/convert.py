"""ConllDocs → spaCy Docs and .spacy files (DocBin), with atomic writes and statistics.

`convert` turns a CoNLL file, or a folder of them, into `.spacy` files:
- the Docs hold the words exactly (no re-tokenization), a space after every
  token but the last, sentence starts (`is_sent_start`) and the entities, with
  every other token outside an entity (`O`, not missing);
- `DocBinWriter` writes the DocBin format (what `DocBin.to_bytes` writes, with
  the attributes ORTH, ENT_IOB, ENT_TYPE and SENT_START) while the input
  streams: token arrays go to an anonymous temporary file, so memory holds the
  strings and one number per document, not the corpus;
- an output appears (or replaces an older one) only when it is complete: it is
  written to a temporary file beside it and renamed; for a folder, all outputs
  are renamed together once every input has converted.
"""
import json
import tempfile
import time
import zlib
from array import array
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Callable, Dict, Iterable, List, Optional, Tuple, Union

import numpy as np
import srsly
from spacy.attrs import DEP, ENT_ID, ENT_IOB, ENT_KB_ID, ENT_TYPE, LEMMA, MORPH, NORM, ORTH
from spacy.attrs import SENT_START, SPACY, TAG
from spacy.strings import get_string_id
from spacy.tokens import Doc, DocBin, Span
from spacy.util import get_lang_class
from spacy.vocab import Vocab

from .conll import ConllDoc, ConllReader
from .files import PendingFile
from .errors import BertNerError

ATTRS = ("ORTH", "ENT_IOB", "ENT_TYPE", "SENT_START")
SUFFIX = ".spacy"
COPY_BYTES = 16 << 20
_IOB_B, _IOB_I, _IOB_O = 3, 1, 2  # spaCy's ENT_IOB codes
_NOT_START = np.uint64(2**64 - 1)  # SENT_START -1, as DocBin stores it
_STRING_ATTRS = {ORTH, NORM, LEMMA, TAG, DEP, ENT_TYPE, ENT_KB_ID, ENT_ID, MORPH}
PathLike = Union[str, Path]


def make_doc(vocab: Vocab, conll_doc: ConllDoc) -> Doc:
    """A spaCy Doc with the words, sentence starts and entities of a ConllDoc."""
    words = conll_doc.words
    spaces = [True] * len(words)
    if spaces:
        spaces[-1] = False
    doc = Doc(vocab, words=words, spaces=spaces, sent_starts=conll_doc.sent_starts)
    doc.set_ents([Span(doc, s, e, label) for s, e, label in conll_doc.ents], default="outside")
    return doc


class DocBinWriter:
    """Writes a .spacy file (DocBin format) from documents added one at a time.

    Memory holds the set of strings and one length per document; the token
    arrays wait in an anonymous temporary file until `write`.

    attrs (Iterable[str]): the token attributes to store (ORTH always is).
    spill_dir (Optional[Path]): where the temporary file goes (default: the system's).
    """

    def __init__(self, attrs: Iterable[str] = ATTRS, spill_dir: Optional[PathLike] = None):
        self.attrs: List[int] = DocBin(attrs=list(attrs)).attrs  # DocBin's order
        self._conll_attrs = DocBin(attrs=list(ATTRS)).attrs
        self.version = DocBin().version
        self._no_spans = Doc(Vocab(), words=["_"]).spans.to_bytes()  # what DocBin stores
        self._col = {attr: i for i, attr in enumerate(self.attrs)}
        self._spill = tempfile.TemporaryFile(dir=spill_dir)
        self._spaces = tempfile.TemporaryFile(dir=spill_dir)
        self._lengths = array("i")
        self._ids: Dict[str, int] = {"": 0}

    def __len__(self) -> int:
        return len(self._lengths)

    def __enter__(self) -> "DocBinWriter":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _id(self, string: str) -> int:
        key = self._ids.get(string)
        if key is None:
            key = self._ids[string] = get_string_id(string)
        return key

    def add_conll(self, conll_doc: ConllDoc) -> None:
        """Add a ConllDoc as make_doc would make it, without building the Doc."""
        if self.attrs != self._conll_attrs:
            raise BertNerError(f"add_conll writes the attrs {ATTRS}; use add() for others")
        ids = self._ids
        words = conll_doc.words
        try:
            orth = [ids[w] for w in words]
        except KeyError:
            orth = [self._id(w) for w in words]
        n = len(words)
        col = self._col
        tokens = np.empty((n, len(self.attrs)), dtype=np.uint64)
        tokens[:, col[ORTH]] = orth
        iob, ent_type, sent = tokens[:, col[ENT_IOB]], tokens[:, col[ENT_TYPE]], tokens[:, col[SENT_START]]
        iob[:] = _IOB_O
        ent_type[:] = 0
        for start, end, label in conll_doc.ents:
            iob[start] = _IOB_B
            iob[start + 1 : end] = _IOB_I
            ent_type[start:end] = self._id(label)
        sent[:] = _NOT_START
        sent[np.asarray(conll_doc.sent_starts, dtype=bool)] = 1
        spaces = np.ones(n, dtype=bool)
        spaces[-1:] = False
        self._append(tokens, spaces)

    def add(self, doc: Doc) -> None:
        """Add any spaCy Doc whose spaces are known (what DocBin.add stores for these attrs)."""
        if doc.has_unknown_spaces:
            raise BertNerError("DocBinWriter stores Docs whose spaces are known")
        tokens = doc.to_array(self.attrs).reshape((len(doc), len(self.attrs)))
        strings = doc.vocab.strings
        for attr, column in self._col.items():
            if attr in _STRING_ATTRS:
                for key in set(tokens[:, column].tolist()) - {0}:
                    if key in strings:
                        self._ids.setdefault(strings[key], key)
        self._append(tokens, doc.to_array(SPACY).astype(bool))

    def _append(self, tokens: np.ndarray, spaces: np.ndarray) -> None:
        self._spill.write(np.ascontiguousarray(tokens, dtype=np.uint64).tobytes())
        self._spaces.write(spaces.tobytes())
        self._lengths.append(len(spaces))

    def write(self, out: BinaryIO, level: int = -1) -> None:
        """Write the .spacy bytes to `out` (DocBin.from_bytes reads them)."""
        n_docs = len(self._lengths)
        compressor = zlib.compressobj(level)
        put = lambda data: out.write(compressor.compress(data))  # noqa: E731
        pack = srsly.msgpack_dumps
        put(b"\x89")  # a map of 9 entries, in DocBin.to_bytes's order
        put(pack("version") + pack(self.version) + pack("attrs") + pack(self.attrs))
        for key, spill in (("tokens", self._spill), ("spaces", self._spaces)):
            size = spill.tell()
            if size >= 2**32:
                raise BertNerError(
                    f"the {key} of this corpus take {size >> 30} GB, more than a .spacy file "
                    "holds (4 GB): split the input into smaller files"
                )
            put(pack(key) + b"\xc6" + size.to_bytes(4, "big"))
            spill.seek(0)
            while True:
                chunk = spill.read(COPY_BYTES)
                if not chunk:
                    break
                put(chunk)
        put(pack("lengths") + pack(np.asarray(self._lengths, dtype=np.int32).tobytes()))
        put(pack("strings") + pack(sorted(self._ids)))
        put(pack("cats") + pack([{}] * n_docs))
        put(pack("flags") + pack([{"has_unknown_spaces": False}] * n_docs))
        put(pack("span_groups") + pack([self._no_spans] * n_docs))
        out.write(compressor.flush())

    def close(self) -> None:
        self._spill.close()
        self._spaces.close()


@dataclass
class FileStats:
    """What converting one input found and wrote."""

    input: str
    output: str
    scheme: str = ""
    delimiter: str = ""
    columns: int = 0
    doc_markers: bool = False
    gzip: bool = False
    lines: int = 0
    docs: int = 0
    sentences: int = 0
    tokens: int = 0
    entities: int = 0
    labels: Dict[str, int] = field(default_factory=dict)
    repairs: Dict[str, int] = field(default_factory=dict)
    repair_examples: List[str] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)
    seconds: float = 0.0

    @classmethod
    def from_reader(cls, reader: ConllReader, output: Path, seconds: float) -> "FileStats":
        return cls(
            input=str(reader.path),
            output=str(output),
            scheme=reader.scheme,
            delimiter=reader.delimiter,
            columns=reader.n_columns,
            doc_markers=reader.doc_markers,
            gzip=reader.compressed,
            lines=reader.n_lines,
            docs=reader.n_docs,
            sentences=reader.n_sents_read,
            tokens=reader.n_tokens,
            entities=reader.n_ents,
            labels=dict(sorted(reader.labels.items())),
            repairs=dict(sorted(reader.repairs.items())),
            repair_examples=list(reader.repair_examples),
            warnings=list(reader.warnings),
            seconds=round(seconds, 4),
        )


@dataclass
class ConvertStats:
    """Statistics of one conversion: per file, and totals."""

    files: List[FileStats] = field(default_factory=list)
    options: Dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def total(self, name: str) -> int:
        return sum(getattr(f, name) for f in self.files)

    @property
    def n_repairs(self) -> int:
        return sum(sum(f.repairs.values()) for f in self.files)

    def to_dict(self) -> Dict[str, Any]:
        totals = {k: self.total(k) for k in ("docs", "sentences", "tokens", "entities")}
        totals["repairs"] = self.n_repairs
        totals["tokens_per_second"] = round(totals["tokens"] / self.seconds) if self.seconds else 0
        return {
            "files": [asdict(f) for f in self.files],
            "total": totals,
            "options": self.options,
            "seconds": round(self.seconds, 4),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"


def output_name(input_path: PathLike) -> str:
    """The output's name: the input's full name (less .gz) + .spacy, e.g. eng.testa.spacy."""
    name = Path(input_path).name
    if name.endswith(".gz") and len(name) > 3:
        name = name[:-3]
    return name + SUFFIX


def list_inputs(folder: Path) -> List[Path]:
    """The files of a folder that convert reads: all but hidden and .spacy/.json ones."""
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix not in (SUFFIX, ".json")
    )


def _plan(input_path: Path, output_path: Path) -> Tuple[List[Tuple[Path, Path]], bool]:
    """[(input, output)] and whether the output folder must be made; checks paths."""
    if not input_path.exists():
        raise BertNerError(f"{input_path}: no such file or folder; check the input path")
    if input_path.is_dir():
        if output_path.exists() and not output_path.is_dir():
            raise BertNerError(
                f"{output_path}: is a file, but the input is a folder: give an output folder"
            )
        if not output_path.exists() and not output_path.parent.is_dir():
            raise BertNerError(
                f"{output_path.parent}: no such folder for the output folder; create it first"
            )
        inputs = list_inputs(input_path)
        if not inputs:
            raise BertNerError(f"{input_path}: the folder holds no input files")
        pairs = [(p, output_path / output_name(p)) for p in inputs]
        seen: Dict[Path, Path] = {}
        for src, dst in pairs:
            if dst in seen:
                raise BertNerError(
                    f"{seen[dst]} and {src} would both be written to {dst}: rename one"
                )
            seen[dst] = src
        return pairs, not output_path.exists()
    if output_path.is_dir():
        output_path = output_path / output_name(input_path)
    elif not output_path.parent.is_dir():
        raise BertNerError(
            f"{output_path.parent}: no such folder for the output {output_path.name}; create it first"
        )
    if output_path.resolve() == input_path.resolve():
        raise BertNerError(f"{output_path}: is the input file; give another output path")
    return [(input_path, output_path)], False


def convert_file(reader: ConllReader, output: PendingFile) -> None:
    """Stream one CoNLL file (a configured reader) into a pending .spacy file."""
    try:
        with DocBinWriter(spill_dir=output.path.parent) as writer:
            for conll_doc in reader:
                writer.add_conll(conll_doc)
            writer.write(output.file)
    except OSError as e:
        raise BertNerError(
            f"{output.path}: cannot write it ({e.strerror}); check free space and permissions"
        ) from None


def convert(
    input_path: PathLike,
    output_path: PathLike,
    *,
    scheme: str = "auto",
    n_sents: Optional[int] = None,
    tag_column: int = -1,
    strict: bool = False,
    encoding: str = "utf-8",
    lang: str = "xx",
    summary_path: Optional[PathLike] = None,
    on_file: Optional[Callable[[FileStats], None]] = None,
) -> ConvertStats:
    """Convert a CoNLL file (or a folder of them) to .spacy file(s), all or nothing.

    input_path: a CoNLL file, plain or .gz, or a folder of them.
    output_path: the .spacy file (or an existing folder to put it in); for an
        input folder, the output folder (made if its parent exists), where each
        input becomes <its full name>.spacy.
    lang: a spaCy language code; it is checked, and recorded in the summary
        (the .spacy files do not depend on it).
    summary_path: where to write the statistics as JSON.
    on_file: called with each file's statistics as it is done.
    The other options are ConllReader's. RETURNS (ConvertStats): the statistics.
    """
    start = time.perf_counter()
    try:
        get_lang_class(lang)
    except Exception:
        raise BertNerError(
            f"unknown language {lang!r}: pass a spaCy language code such as en, de or xx"
        ) from None
    input_path, output_path = Path(input_path), Path(output_path)
    pairs, make_folder = _plan(input_path, output_path)
    summary = Path(summary_path) if summary_path else None
    if summary and not summary.parent.is_dir():
        raise BertNerError(f"{summary.parent}: no such folder for the summary; create it first")
    options = dict(scheme=scheme, n_sents=n_sents, tag_column=tag_column, strict=strict, encoding=encoding)
    readers = [ConllReader(src, **options) for src, _ in pairs]  # checks the options first
    stats = ConvertStats(options=dict(options, lang=lang))
    if make_folder:
        output_path.mkdir()
    pending: List[PendingFile] = []
    try:
        for reader, (_, dst) in zip(readers, pairs):
            file_start = time.perf_counter()
            pending.append(PendingFile(dst))
            convert_file(reader, pending[-1])
            file_stats = FileStats.from_reader(reader, dst, time.perf_counter() - file_start)
            stats.files.append(file_stats)
            if on_file is not None:
                on_file(file_stats)
        stats.seconds = time.perf_counter() - start
        if summary:
            pending.append(PendingFile(summary))
            pending[-1].file.write(stats.to_json().encode("utf8"))
        for item in pending:
            item.commit()
    except BaseException:
        for item in pending:
            item.discard()
        if make_folder and output_path.is_dir() and not any(output_path.iterdir()):
            output_path.rmdir()
        raise
    return stats
