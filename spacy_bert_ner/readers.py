"""The registered corpus reader: CoNLL files straight into training, no conversion step.

```ini
[corpora.train]
@readers = "spacy_bert_ner.ConllCorpus.v1"
path = "assets/conll2003/eng.train"
scheme = "auto"
```

Each document becomes an `Example` whose reference holds the words, sentence
starts and entities (as `convert` writes them) and whose predicted Doc has the
same words and spaces, unannotated: no `nlp.make_doc`, so no re-tokenization,
as spaCy's own Corpus does for DocBins with `gold_preproc`.
"""
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional, Union

from spacy.language import Language
from spacy.tokens import Doc, DocBin
from spacy.training import Example
from spacy.util import registry

from .conll import ConllDoc, ConllReader
from .convert import make_doc
from .errors import BertNerError

Augmenter = Callable[[Language, Example], Iterable[Example]]


@registry.readers("spacy_bert_ner.ConllCorpus.v1")
def create_conll_corpus(
    path: Optional[Union[str, Path]],
    scheme: str = "auto",
    n_sents: Optional[int] = None,
    tag_column: int = -1,
    encoding: str = "utf-8",
    strict: bool = False,
    max_length: int = 0,
    limit: int = 0,
    augmenter: Optional[Augmenter] = None,
) -> "ConllCorpus":
    """Read a CoNLL NER file (plain or .gz) as training Examples.

    path (str / Path): the CoNLL file.
    scheme (str): auto, iob1, iob2, bioes or biluo.
    n_sents (Optional[int]): sentences per Doc when the file has no -DOCSTART- markers.
    tag_column (int): the tag's column, 1-based, or negative from the end (-1: the last).
    encoding (str): the file's text encoding.
    strict (bool): fail on tag sequences that need a repair instead of repairing them.
    max_length (int): documents longer than this many tokens are split into
        their sentences, and longer sentences are skipped (0: no limit).
    limit (int): read at most this many documents (0: all).
    augmenter (Optional[Callable]): like spaCy Corpus's, applied to each Example.
    RETURNS (ConllCorpus): called with the nlp object, it yields the Examples.
    """
    return ConllCorpus(
        path,
        scheme=scheme,
        n_sents=n_sents,
        tag_column=tag_column,
        encoding=encoding,
        strict=strict,
        max_length=max_length,
        limit=limit,
        augmenter=augmenter,
    )


class ConllCorpus:
    """Iterable corpus over one CoNLL file; each call rereads (streams) the file.

    `reader` is the ConllReader of the latest pass: what it found (scheme,
    counts, repairs).
    """

    def __init__(
        self,
        path: Optional[Union[str, Path]],
        *,
        max_length: int = 0,
        augmenter: Optional[Augmenter] = None,
        **options,
    ):
        if path is None:
            raise BertNerError(
                "the CoNLL corpus has no path: set it in the config, e.g. --paths.train FILE"
            )
        self.path = Path(path)
        if not self.path.is_file():
            raise BertNerError(f"{self.path}: no such CoNLL file; check the corpus path")
        self.max_length = max_length
        self.augmenter = augmenter
        self.options = options
        self.reader = ConllReader(self.path, **options)  # checks the options now

    def __call__(self, nlp: Language) -> Iterator[Example]:
        self.reader = reader = ConllReader(self.path, **self.options)  # one per pass
        for conll_doc in reader:
            for part in self._parts(conll_doc):
                example = self._make_example(nlp, part)
                if self.augmenter is None:
                    yield example
                else:
                    yield from self.augmenter(nlp, example)

    def _parts(self, conll_doc: ConllDoc) -> Iterator[ConllDoc]:
        if not self.max_length or len(conll_doc.words) <= self.max_length:
            yield conll_doc
            return
        for start, end in conll_doc.sentences():
            if end - start <= self.max_length:
                ents = [(s - start, e - start, l) for s, e, l in conll_doc.ents if start <= s < end]
                words = conll_doc.words[start:end]
                yield ConllDoc(words, [True] + [False] * (len(words) - 1), ents, conll_doc.line)

    @staticmethod
    def _make_example(nlp: Language, conll_doc: ConllDoc) -> Example:
        reference = make_doc(nlp.vocab, conll_doc)
        spaces = [True] * len(conll_doc.words)
        spaces[-1] = False
        return Example(Doc(nlp.vocab, words=conll_doc.words, spaces=spaces), reference)


@registry.readers("spacy_bert_ner.DocBinCorpus.v1")
def create_docbin_corpus(path: Optional[Union[str, Path]], limit: int = 0) -> Callable[[Language], Iterator[Example]]:
    """Read a .spacy file as training Examples that keep the gold tokenization.

    spaCy's Corpus either re-tokenizes each document's text (so gold tokens the
    tokenizer splits, like "Bre-X", are learned on other tokens than the ones
    evaluated) or, with gold_preproc, cuts documents into sentences (losing the
    document context). This reader does neither: the predicted Doc has the
    gold words and spaces, unannotated.

    path (str / Path): the .spacy file.
    limit (int): read at most this many documents (0: all).
    """
    if path is None:
        raise BertNerError("the corpus has no path: set it in the config, e.g. --paths.train FILE")
    source = Path(path)
    if not source.is_file():
        raise BertNerError(f"{source}: no such .spacy file; check the corpus path (run the convert step?)")

    def read(nlp: Language) -> Iterator[Example]:
        for i, reference in enumerate(DocBin().from_disk(source).get_docs(nlp.vocab)):
            if limit and i >= limit:
                return
            if len(reference):
                words = [t.text for t in reference]
                spaces = [bool(t.whitespace_) for t in reference]
                yield Example(Doc(nlp.vocab, words=words, spaces=spaces), reference)

    return read
