"""Atomic file writes: nothing half-written is ever left under the final name."""
import os
import tempfile
from pathlib import Path
from typing import Union

from .errors import BertNerError


class PendingFile:
    """A file written under a temporary name beside `path`; commit() renames it."""

    def __init__(self, path: Path):
        self.path = path
        try:
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        except OSError as e:
            raise BertNerError(f"{path}: cannot write there ({e.strerror})") from None
        self.tmp = Path(tmp)
        self.file = os.fdopen(fd, "wb")

    def commit(self) -> None:
        try:
            self.file.close()
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(self.tmp, 0o666 & ~umask)
            os.replace(self.tmp, self.path)
        except OSError as e:
            self.discard()
            raise BertNerError(f"{self.path}: cannot write it ({e.strerror})") from None

    def discard(self) -> None:
        self.file.close()
        self.tmp.unlink(missing_ok=True)


def write_text_atomic(path: Union[str, Path], text: str) -> Path:
    """Write `text` (UTF-8) to `path` through a PendingFile."""
    pending = PendingFile(Path(path))
    try:
        pending.file.write(text.encode("utf8"))
    except BaseException:
        pending.discard()
        raise
    pending.commit()
    return pending.path
