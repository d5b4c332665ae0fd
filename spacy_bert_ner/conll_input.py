"""The text of a CoNLL file: bytes → (line number, text) blocks, for `conll.py`.

Reads plain or gzip-compressed files (detected from the bytes, not the name) in
blocks of about CHUNK_BYTES that end at a line end, in any Python codec, and
drops a leading byte-order mark. What is not text is a `ConllError` with the
file, line and byte offset: other compressions, NUL bytes, UTF-16 read as UTF-8,
undecodable bytes, carriage returns without a line feed, overlong lines.
"""
import codecs
import gzip
import re
import zlib
from contextlib import ExitStack
from pathlib import Path
from typing import Iterator, Tuple

from .errors import BertNerError, ConllError

CHUNK_BYTES = 1 << 20
MAX_LINE_BYTES = 16 << 20
_LONE_CR = re.compile(rb"\r(?!\n)")


def _ascii_compatible(encoding: str) -> bool:
    try:
        return "\n -DOCSTART-\t".encode(encoding) == b"\n -DOCSTART-\t"
    except (UnicodeError, LookupError):
        return False


class ConllInput:
    """(line number, text) blocks of one file that end at a line end (but the
    last one); each pass (iteration) reopens the file.

    path (Path): the file, plain or gzip-compressed.
    encoding (str): the text encoding (a Python codec name).
    compressed (bool): whether the file is gzip-compressed (set when a pass opens it).
    """

    def __init__(self, path: Path, encoding: str):
        self.path = path
        self.encoding = encoding
        self.compressed = False

    def __iter__(self) -> Iterator[Tuple[int, str]]:
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
