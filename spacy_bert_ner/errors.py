"""The plugin's error types: each message says what is wrong, where, and what to do."""


class BertNerError(Exception):
    """Base class: the CLI prints these as one line, without a traceback."""


class EncoderLoadError(BertNerError):
    """The encoder (pretrained or saved with a pipeline) cannot be loaded."""


class ConllError(BertNerError):
    """Malformed CoNLL input, with the file and line (and column) it was found at."""

    def __init__(self, path, line: int, message: str, column: int = 0):
        self.path = str(path)
        self.line = line
        self.column = column
        self.reason = message
        where = f"{self.path}:{line}" + (f":{column}" if column else "")
        super().__init__(f"{where}: {message}")
