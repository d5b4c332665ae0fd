"""CoNLL reading: input variants, tag schemes and their detection, repairs, errors."""
import gzip
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spacy_bert_ner.conll import ConllReader, read_conll
from spacy_bert_ner.errors import BertNerError, ConllError
from spacy_bert_ner.tag_schemes import (
    SCHEMES,
    detect_scheme,
    parse_tag,
    spans_to_tags,
    tags_to_spans,
)

CONLL03 = """-DOCSTART- -X- O O

EU NNP I-NP I-ORG
rejects VBZ I-VP O
German JJ I-NP I-MISC
call NN I-NP O
. . O O

Peter NNP I-NP I-PER
Blackburn NNP I-NP I-PER

-DOCSTART- -X- O O

Hapoel NNP I-NP I-ORG
Haifa NNP I-NP I-ORG
Maccabi NNP I-NP B-ORG
Tel NNP I-NP I-ORG
Aviv NNP I-NP I-ORG
"""
WORDS = [
    ["EU", "rejects", "German", "call", ".", "Peter", "Blackburn"],
    ["Hapoel", "Haifa", "Maccabi", "Tel", "Aviv"],
]
STARTS = [[True, False, False, False, False, True, False], [True, False, False, False, False]]
ENTS = [[(0, 1, "ORG"), (2, 3, "MISC"), (5, 7, "PER")], [(0, 2, "ORG"), (2, 5, "ORG")]]


def write(tmp_path: Path, text, name="data.conll") -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf8"))
    return path


def read(path, **options):
    reader = ConllReader(path, **options)
    docs = list(reader)
    return reader, docs


def summary(docs):
    return [d.words for d in docs], [d.sent_starts for d in docs], [d.ents for d in docs]


def test_conll2003_layout(tmp_path):
    reader, docs = read(write(tmp_path, CONLL03))
    assert summary(docs) == (WORDS, STARTS, ENTS)
    assert (reader.scheme, reader.n_columns, reader.delimiter, reader.doc_markers) == (
        "iob1", 4, "whitespace", True
    )
    assert (reader.n_docs, reader.n_sents_read, reader.n_tokens, reader.n_ents) == (2, 3, 12, 5)
    assert docs[0].line == 3 and docs[1].line == 14
    assert not reader.repairs and not reader.warnings


@pytest.mark.parametrize(
    "transform",
    [
        pytest.param(lambda t: t.replace("\n", "\r\n"), id="crlf"),
        pytest.param(lambda t: t.rstrip("\n"), id="no-final-newline"),
        pytest.param(lambda t: t.replace("\n\n", "\n\n\n  \n\n"), id="blank-runs"),
        pytest.param(lambda t: "\ufeff" + t, id="bom"),
        pytest.param(lambda t: "\n\n" + t + "\n\n\n", id="leading-trailing-blanks"),
        pytest.param(lambda t: t.replace(" ", "\t"), id="tabs"),
        pytest.param(lambda t: t.replace(" ", "  "), id="double-spaces"),
        pytest.param(
            lambda t: t.replace("-DOCSTART- -X- O O", "-DOCSTART- -X- -X- O"), id="docstart-iob2-copy"
        ),
        pytest.param(lambda t: t.replace("-DOCSTART- -X- O O", "-DOCSTART-"), id="docstart-bare"),
        pytest.param(
            lambda t: t.replace("-DOCSTART- -X- O O\n\n", "-DOCSTART- -X- O O\n"), id="docstart-no-blank"
        ),
    ],
)
def test_input_variants_read_the_same(tmp_path, transform):
    _, docs = read(write(tmp_path, transform(CONLL03)))
    assert summary(docs) == (WORDS, STARTS, ENTS)


def test_gzip_is_read_from_the_bytes(tmp_path):
    path = tmp_path / "eng.train.gz"
    path.write_bytes(gzip.compress(CONLL03.encode("utf8")))
    assert summary(read(path)[1]) == (WORDS, STARTS, ENTS)
    plain_named_gz = write(tmp_path, CONLL03, "plain.gz")
    assert summary(read(plain_named_gz)[1]) == (WORDS, STARTS, ENTS)


def test_docstart_at_the_end_of_each_document(tmp_path):
    body = CONLL03.replace("-DOCSTART- -X- O O\n\n", "")
    first, second = body.split("Hapoel", 1)
    text = first + "-DOCSTART- -X- O O\n\nHapoel" + second + "\n-DOCSTART- -X- O O\n"
    _, docs = read(write(tmp_path, text))
    assert summary(docs) == (WORDS, STARTS, ENTS)


def test_never_an_empty_doc(tmp_path):
    text = "-DOCSTART- -X- O O\n\n-DOCSTART- -X- O O\n" + CONLL03 + "\n-DOCSTART- -X- O O\n\n"
    _, docs = read(write(tmp_path, text))
    assert summary(docs) == (WORDS, STARTS, ENTS)


def test_conll2002_two_and_three_columns(tmp_path):
    two = "Sao B-LOC\nPaulo I-LOC\n( O\nBrasil B-LOC\n) O\n\n- O\n"
    reader, docs = read(write(tmp_path, two))
    assert reader.scheme == "iob2" and reader.n_columns == 2
    assert [d.ents for d in docs] == [[(0, 2, "LOC"), (3, 4, "LOC")], []]
    three = "Sao NC B-LOC\nPaulo VMI I-LOC\n"
    assert read(write(tmp_path, three))[1][0].ents == [(0, 2, "LOC")]


def test_wnut_tabs_and_any_type_names(tmp_path):
    text = "@paul\tO\nwatch\tO\nStar\tB-creative-work\nWars\tI-creative-work\n\nthe\tO\nMall\tB-facility\n"
    reader, docs = read(write(tmp_path, text), n_sents=2)
    assert reader.delimiter == "tab" and reader.scheme == "iob2"
    assert docs[0].ents == [(2, 4, "creative-work"), (5, 6, "facility")]
    assert docs[0].sent_starts == [True, False, False, False, True, False]


def test_tab_separated_words_may_hold_spaces(tmp_path):
    text = "New York\tB-LOC\n:-)\tO\n"
    assert read(write(tmp_path, text))[1][0].words == ["New York", ":-)"]


def test_n_sents_groups_files_without_markers(tmp_path):
    text = "".join(f"w{i} O\nx{i} B-PER\n\n" for i in range(5))
    reader, docs = read(write(tmp_path, text), n_sents=2)
    assert [d.n_sents for d in docs] == [2, 2, 1] and not reader.doc_markers
    assert docs[2].ents == [(1, 2, "PER")]
    reader, docs = read(write(tmp_path, text))
    assert len(docs) == 5 and "one Doc per sentence" in reader.warnings[0]
    reader, docs = read(write(tmp_path, CONLL03), n_sents=10)
    assert len(docs) == 2 and "ignored" in reader.warnings[0]


def test_a_lone_leading_marker_is_a_header(tmp_path):
    text = "-DOCSTART- -DOCSTART- O\n\n" + "".join(f"w{i} O\nx{i} B-PER\n\n" for i in range(5))
    reader, docs = read(write(tmp_path, text), n_sents=2)
    assert [d.n_sents for d in docs] == [2, 2, 1] and not reader.doc_markers
    reader, docs = read(write(tmp_path, text + "-DOCSTART- -DOCSTART- O\n\ny O\n"))
    assert [d.n_sents for d in docs] == [5, 1] and reader.doc_markers


def test_limit_and_repeated_passes(tmp_path):
    reader = ConllReader(write(tmp_path, CONLL03), limit=1)
    assert len(list(reader)) == 1 and len(list(reader)) == 1
    assert len(list(read_conll(write(tmp_path, CONLL03)))) == 2


def test_tag_column(tmp_path):
    text = "EU I-ORG NNP\nsays O VBZ\n"
    assert read(write(tmp_path, text), tag_column=2)[1][0].ents == [(0, 1, "ORG")]
    assert read(write(tmp_path, text), tag_column=-2)[1][0].ents == [(0, 1, "ORG")]
    with pytest.raises(ConllError, match=r"data.conll:1: tag column 5 does not exist"):
        read(write(tmp_path, text), tag_column=5)
    with pytest.raises(BertNerError, match="columns count from 1"):
        ConllReader(write(tmp_path, text), tag_column=0)


def test_other_encodings(tmp_path):
    text = "Zürich B-LOC\nsagt O\n"
    path = write(tmp_path, text.encode("latin-1"))
    assert read(path, encoding="latin-1")[1][0].words == ["Zürich", "sagt"]
    path = write(tmp_path, text.encode("utf-16"))
    assert read(path, encoding="utf-16")[1][0].words == ["Zürich", "sagt"]
    with pytest.raises(BertNerError, match="unknown encoding"):
        ConllReader(path, encoding="klingon")


# -- tag schemes ----------------------------------------------------------------

SPANS = [(0, 2, "PER"), (2, 3, "PER"), (4, 5, "LOC"), (5, 8, "creative-work"), (9, 10, "B")]
TAGS = {
    "iob1": "I-PER I-PER B-PER O I-LOC I-creative-work I-creative-work I-creative-work O I-B",
    "iob2": "B-PER I-PER B-PER O B-LOC B-creative-work I-creative-work I-creative-work O B-B",
    "bioes": "B-PER E-PER S-PER O S-LOC B-creative-work I-creative-work E-creative-work O S-B",
    "biluo": "B-PER L-PER U-PER O U-LOC B-creative-work I-creative-work L-creative-work O U-B",
}


@pytest.mark.parametrize("scheme", SCHEMES)
def test_schemes_to_spans_and_back(scheme):
    tags = TAGS[scheme].split()
    assert spans_to_tags(len(tags), SPANS, scheme) == tags
    repairs = Counter()
    assert tags_to_spans(tags, scheme, strict=True, repairs=repairs) == SPANS and not repairs
    assert detect_scheme([tags]) == scheme
    assert tags_to_spans(tags, "auto") == SPANS


def test_detection_rule():
    assert detect_scheme([["O", "O"]]) == "iob1"
    assert detect_scheme([["I-PER", "B-PER"]]) == "iob1"
    assert detect_scheme([["B-PER", "I-PER"], ["I-LOC"]]) == "iob1"  # a tie: the permissive one
    assert detect_scheme([["B-PER", "I-PER"], ["B-LOC"], ["I-ORG"]]) == "iob2"
    assert detect_scheme([["B-X", "E-X"]]) == "bioes"
    assert detect_scheme([["U-X"]]) == "biluo"
    with pytest.raises(ValueError, match="mix"):
        detect_scheme([["S-X"], ["U-X"]])


@pytest.mark.parametrize(
    "scheme,tags,spans,kinds",
    [
        ("iob2", "I-PER I-PER O", [(0, 2, "PER")], {"i_start": 1}),
        ("iob2", "B-PER I-LOC", [(0, 1, "PER"), (1, 2, "LOC")], {"i_start": 1}),
        ("iob1", "I-PER I-LOC", [(0, 1, "PER"), (1, 2, "LOC")], {}),
        ("bioes", "E-PER O", [(0, 1, "PER")], {"e_start": 1}),
        ("bioes", "B-PER I-PER O", [(0, 2, "PER")], {"unclosed": 1}),
        ("bioes", "B-PER", [(0, 1, "PER")], {"unclosed": 1}),
        ("bioes", "B-PER S-LOC", [(0, 1, "PER"), (1, 2, "LOC")], {"unclosed": 1}),
        ("bioes", "B-PER E-LOC", [(0, 1, "PER"), (1, 2, "LOC")], {"unclosed": 1, "e_start": 1}),
        ("biluo", "I-PER L-PER", [(0, 2, "PER")], {"i_start": 1}),
        ("biluo", "L-PER", [(0, 1, "PER")], {"e_start": 1}),
    ],
)
def test_repairs_read_like_conlleval(scheme, tags, spans, kinds):
    repairs = Counter()
    assert tags_to_spans(tags.split(), scheme, repairs=repairs) == spans
    assert dict(repairs) == kinds
    if kinds:
        with pytest.raises(ValueError):
            tags_to_spans(tags.split(), scheme, strict=True)


@pytest.mark.parametrize("tag", ["X-PER", "B-", "PER", "b-per", "B_PER", ""])
def test_parse_tag_rejects(tag):
    with pytest.raises(ValueError):
        parse_tag(tag)


def test_repairs_are_counted_with_places(tmp_path):
    text = "a B-PER\nb I-PER\nc O\n\nd E-LOC\n"
    reader, docs = read(write(tmp_path, text), scheme="bioes")
    assert [d.ents for d in docs] == [[(0, 2, "PER")], [(0, 1, "LOC")]]
    assert dict(reader.repairs) == {"unclosed": 1, "e_start": 1}
    assert reader.repair_examples[0].startswith(f"{tmp_path / 'data.conll'}:2: the PER entity")
    assert reader.repair_examples[1].startswith(f"{tmp_path / 'data.conll'}:5: E-LOC ends")


def test_strict_names_the_line_and_column(tmp_path):
    text = "a POS B-PER\nb POS I-PER\nc POS O\n"
    with pytest.raises(ConllError) as info:
        read(write(tmp_path, text), scheme="bioes", strict=True)
    assert (info.value.line, info.value.column) == (2, 7)
    assert "does not end with E-PER" in str(info.value) and "--strict" in str(info.value)


def test_auto_detection_window_then_a_foreign_tag(tmp_path):
    text = "a B-PER\nb I-PER\n\n" * 600 + "c S-PER\n"
    with pytest.raises(ConllError, match=r":1801:3: tag 'S-PER' is not in the IOB2 scheme.*detected"):
        read(write(tmp_path, text))
    assert read(write(tmp_path, text), scheme="bioes")[0].repairs["unclosed"] == 600


def test_bioes_and_biluo_in_one_file(tmp_path):
    with pytest.raises(ConllError, match=r":3:3: tag 'U-PER' is BILUO, but line 1 has a BIOES tag"):
        read(write(tmp_path, "a S-PER\n\nb U-PER\n"))


# -- bad input ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,where,what",
    [
        ("a NN O\nb NN O\nc O\n", ":3:", "2 columns, but the first token line (1) has 3"),
        ("a NN O\nb NN X O\n", ":2:8:", "4 columns"),
        ("a X-PER\n", ":1:3:", "unknown prefix 'X-'"),
        ("a O\nb B-\n", ":2:3:", "no entity type"),
        ("a PER\n", ":1:3:", "'PER' is not an entity tag"),
        ("a NNP\n", ":1:3:", "--tag-column"),
        ("word\n", ":1:1:", "only one column"),
        ("a\tO\n\tO\n", ":2:1:", "empty word"),
        ("", ":1:", "no tokens found"),
        ("\n\n  \n", ":3:", "no tokens found"),
        ("-DOCSTART- -X- O O\n\n", ":2:", "no tokens found"),
        (b"a O\nb\xff O\n", ":2:2:", "ff at byte offset 5 are not valid utf-8: pass --encoding"),
        (b"\xef\xbb\xbfa\xe9 O\n", ":1:2:", "byte offset 4"),
        (b"a O\n\x00\x01\x02", ":2:", "NUL byte at byte offset 4: this looks like a binary file"),
        (b"PK\x03\x04rest", ":1:", "zip archive"),
        (b"BZh91AY&SYrest", ":1:", "bzip2-compressed"),
        (b"\x1f\x8b\x08\x00garbage", ":1:", "cannot decompress"),
        (b"\xff\xfea\x00", ":1:", "UTF-16 byte-order mark: pass --encoding utf-16"),
        (b"a O\nb O\rc O\r", ":2:", "carriage return without a line feed at byte offset 7"),
    ],
)
def test_bad_input_names_file_and_line(tmp_path, text, where, what):
    path = write(tmp_path, text)
    with pytest.raises(ConllError) as info:
        read(path)
    message = str(info.value)
    assert message.startswith(f"{path}{where}") and what in message
    assert "\n" not in message


def test_truncated_gzip(tmp_path):
    data = gzip.compress(CONLL03.encode("utf8") * 50)
    path = write(tmp_path, data[: len(data) // 2], "cut.gz")
    with pytest.raises(ConllError, match="damaged or truncated"):
        read(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(BertNerError, match="cannot read it"):
        read(tmp_path / "nope.conll")
    with pytest.raises(BertNerError, match="is a folder"):
        read(tmp_path)


# -- properties -------------------------------------------------------------------

LABELS = st.sampled_from(["PER", "LOC", "creative-work", "B", "I-X"])


@st.composite
def sentences(draw):
    """A sentence length and sorted, disjoint entity spans in it."""
    n = draw(st.integers(1, 12))
    cuts = sorted(draw(st.sets(st.integers(0, n), max_size=8)))
    spans = []
    for start, end in zip(cuts, cuts[1:]):
        if draw(st.booleans()):
            spans.append((start, end, draw(LABELS)))
    return n, spans


@settings(max_examples=300, deadline=None)
@given(st.lists(sentences(), min_size=1, max_size=6), st.sampled_from(SCHEMES))
def test_tags_round_trip_in_every_scheme(sents, scheme):
    for n, spans in sents:
        tags = spans_to_tags(n, spans, scheme)
        assert tags_to_spans(tags, scheme, strict=True) == spans
        assert tags_to_spans(tags, "auto") == spans
    with tempfile.TemporaryDirectory() as tmp:
        lines = []
        for n, spans in sents:
            tags = spans_to_tags(n, spans, scheme)
            lines += [f"w{i} {tag}" for i, tag in enumerate(tags)] + [""]
        path = Path(tmp) / "x.conll"
        path.write_text("\n".join(lines), encoding="utf8")
        reader, docs = read(path, scheme=scheme, strict=True)
        assert [d.ents for d in docs] == [spans for _, spans in sents]
        assert not reader.repairs


TEXT_PIECES = st.sampled_from(
    ["w", "O", "B-PER", "I-PER", "E-X", "U-Y", "S-", "X-Z", " ", "\t", "\n", "\r\n", "\r", "\n\n",
     "-DOCSTART-", "\ufeff", "é", "\x00", "\xa0"]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.binary(max_size=200),
        st.lists(TEXT_PIECES, max_size=60).map(lambda pieces: "".join(pieces).encode("utf8")),
    ),
    st.sampled_from(["auto", "iob2", "bioes"]),
    st.booleans(),
    st.sampled_from(["utf-8", "utf-16"]),
)
def test_any_bytes_parse_or_raise_conll_error(data, scheme, strict, encoding):
    with tempfile.TemporaryDirectory() as tmp:
        for raw in (data, b"\x1f\x8b" + data, gzip.compress(data)):
            path = Path(tmp) / "x.conll"
            path.write_bytes(raw)
            try:
                docs = list(ConllReader(path, scheme=scheme, strict=strict, encoding=encoding))
            except ConllError:
                continue
            assert all(d.words and len(d.words) == len(d.sent_starts) for d in docs)
