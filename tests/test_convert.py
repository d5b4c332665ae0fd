"""CoNLL → .spacy: the DocBin writer, atomic outputs, the CLI, and exactness on CoNLL-2003."""
import gzip
import io
import json
import os
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
import srsly
from spacy.tokens import DocBin
from spacy.vocab import Vocab
from typer.testing import CliRunner

from spacy_bert_ner.cli import app
from spacy_bert_ner.conll import ConllDoc, ConllReader
from spacy_bert_ner.convert import ATTRS, DocBinWriter, convert, make_doc, output_name
from spacy_bert_ner.errors import BertNerError

from conftest import SHARED_CONLL

DOC_TEXT = """-DOCSTART- -X- -X- O

EU NNP B-NP B-ORG
rejects VBZ B-VP O
German JJ B-NP B-MISC
call NN I-NP O
. . O O

Peter NNP B-NP B-PER
Blackburn NNP I-NP I-PER
"""
runner = CliRunner()


def write(folder: Path, name: str, text) -> Path:
    path = folder / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf8"))
    return path


def load(path: Path):
    return list(DocBin().from_disk(path).get_docs(Vocab()))


def payload(path: Path) -> dict:
    return srsly.msgpack_loads(zlib.decompress(path.read_bytes()))


def cli(*args):
    return runner.invoke(app, ["convert", *map(str, args)])


# -- the writer ---------------------------------------------------------------------

CONLL_DOCS = [
    ConllDoc(["EU", "ORG", "German", "x"], [True, False, True, False], [(0, 2, "ORG"), (2, 3, "MISC")], 1),
    ConllDoc(["Straße", "PER"], [True, True], [(1, 2, "PER")], 9),
    ConllDoc(["-DOCSTART-"], [True], [], 12),
]


def test_writer_writes_what_docbin_writes():
    vocab = Vocab()
    docs = [make_doc(vocab, d) for d in CONLL_DOCS]
    fast, generic = DocBinWriter(), DocBinWriter()
    for conll_doc, doc in zip(CONLL_DOCS, docs):
        fast.add_conll(conll_doc)
        generic.add(doc)
    outputs = []
    for writer in (fast, generic):
        out = io.BytesIO()
        writer.write(out)
        writer.close()
        outputs.append(srsly.msgpack_loads(zlib.decompress(out.getvalue())))
    reference = srsly.msgpack_loads(zlib.decompress(DocBin(attrs=list(ATTRS), docs=docs).to_bytes()))
    assert outputs[0] == reference and outputs[1] == reference


def test_docs_hold_words_sentences_and_entities(tmp_path):
    src = write(tmp_path, "in.conll", DOC_TEXT)
    convert(src, tmp_path / "out.spacy", n_sents=2)  # the lone leading -DOCSTART- is a header
    (doc,) = load(tmp_path / "out.spacy")
    assert [t.text for t in doc] == "EU rejects German call . Peter Blackburn".split()
    assert doc.text == "EU rejects German call . Peter Blackburn"
    assert [t.is_sent_start for t in doc] == [True, False, False, False, False, True, False]
    ents = [(e.text, e.label_) for e in doc.ents]
    assert ents == [("EU", "ORG"), ("German", "MISC"), ("Peter Blackburn", "PER")]
    assert [t.ent_iob_ for t in doc] == ["B", "O", "B", "O", "O", "B", "I"]  # outside, not missing


def test_output_names_keep_the_full_file_name():
    assert output_name("data/eng.train") == "eng.train.spacy"
    assert output_name("eng.testa.gz") == "eng.testa.spacy"
    assert output_name("train.txt") == "train.txt.spacy"


# -- the command --------------------------------------------------------------------


def test_cli_converts_a_file_with_a_summary(tmp_path):
    src = write(tmp_path, "in.conll", DOC_TEXT)
    result = cli(src, tmp_path / "out.spacy", "--summary", tmp_path / "stats.json", "--lang", "en", "-n", "2")
    assert result.exit_code == 0, result.output
    assert "1 docs, 2 sentences, 7 tokens, 3 entities (IOB2" in " ".join(result.stdout.split())
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert stats["total"]["tokens"] == 7 and stats["files"][0]["labels"] == {"MISC": 1, "ORG": 1, "PER": 1}
    assert stats["options"]["lang"] == "en"
    assert len(load(tmp_path / "out.spacy")) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.conll", "out.spacy", "stats.json"]
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "out.spacy").stat().st_mode & 0o777 == 0o666 & ~umask


def test_cli_into_an_existing_folder(tmp_path):
    src = write(tmp_path, "eng.testb", DOC_TEXT)
    (tmp_path / "out").mkdir()
    assert cli(src, tmp_path / "out").exit_code == 0
    assert (tmp_path / "out" / "eng.testb.spacy").is_file()


def test_cli_folder_names_outputs_by_full_name(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for name in ("eng.train", "eng.testa"):
        write(data, name, DOC_TEXT)
    (data / "eng.testb.gz").write_bytes(gzip.compress(DOC_TEXT.encode()))
    write(data, ".hidden", "junk")
    result = cli(data, tmp_path / "corpus")
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "corpus").iterdir())
    assert names == ["eng.testa.spacy", "eng.testb.spacy", "eng.train.spacy"]


def test_cli_folder_collision(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    write(data, "a", DOC_TEXT)
    (data / "a.gz").write_bytes(gzip.compress(DOC_TEXT.encode()))
    result = cli(data, tmp_path / "out")
    assert result.exit_code == 1 and "would both be written to" in result.stderr
    assert not (tmp_path / "out").exists()


def test_repairs_are_reported_and_strict_fails(tmp_path):
    src = write(tmp_path, "in.bioes", "a S-PER\nb E-LOC\nc O\n")
    result = cli(src, tmp_path / "out.spacy", "--summary", tmp_path / "s.json")
    assert result.exit_code == 0
    assert "1 tag sequences repaired (1 e_start)" in result.stdout
    assert json.loads((tmp_path / "s.json").read_text())["files"][0]["repairs"] == {"e_start": 1}
    assert [e.label_ for e in load(tmp_path / "out.spacy")[0].ents] == ["PER", "LOC"]
    result = cli(src, tmp_path / "strict.spacy", "--strict")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert f"{src}:2:3: E-LOC ends a LOC entity that was never opened with B-LOC" in result.stderr
    assert not (tmp_path / "strict.spacy").exists()


BAD_INPUTS = [
    ("columns.conll", "a NN O\nb NN O\n\nc O\n", ":4:", "2 columns, but the first token line (1) has 3"),
    ("prefix.conll", "a O\nb X-PER\n", ":2:3:", "unknown prefix"),
    ("empty-type.conll", "a B-\n", ":1:3:", "no entity type"),
    ("no-prefix.conll", "a PER\n", ":1:3:", "not an entity tag"),
    ("latin1.conll", "a O\nZ\xfcrich B-LOC\n".encode("latin-1"), ":2:2:", "offset 5 are not valid utf-8: pass --encoding"),
    ("empty.conll", b"", ":1:", "no tokens found"),
    ("blank.conll", b"\n\n\n", ":3:", "no tokens found"),
    ("binary.bin", bytes(range(256)) * 4, ":1:", "binary file"),
    ("bad.gz", b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03garbage", ":1:", "cannot decompress"),
]


@pytest.mark.parametrize("name,data,where,what", BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_fails_with_one_line_and_keeps_the_old_output(tmp_path, name, data, where, what):
    src = write(tmp_path, name, data)
    out = write(tmp_path, "out.spacy", b"the previous output")
    result = cli(src, out)
    assert result.exit_code == 1
    lines = result.stderr.strip("\n").split("\n")
    assert len(lines) == 1 and f"{src}{where}" in lines[0] and what in lines[0], result.stderr
    assert "Traceback" not in result.output
    assert out.read_bytes() == b"the previous output"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([name, "out.spacy"])  # no temp files


def test_strict_unclosed_entity(tmp_path):
    src = write(tmp_path, "in.conll", "a B-PER\nb I-PER\nc L-PER\n\nd B-LOC\ne I-LOC\nf O\n")
    assert cli(src, tmp_path / "ok.spacy", "--scheme", "biluo").exit_code == 0
    result = cli(src, tmp_path / "out.spacy", "--strict", "--scheme", "biluo")
    assert result.exit_code == 1
    expected = f"{src}:6:3: the LOC entity opened by B-LOC does not end with L-LOC (it opens at line 5)"
    assert expected in result.stderr
    assert not (tmp_path / "out.spacy").exists()


@pytest.mark.parametrize(
    "args,what",
    [
        (["missing.conll", "out.spacy"], "no such file or folder"),
        (["in.conll", "nope/out.spacy"], "no such folder for the output out.spacy; create it first"),
        (["in.conll", "out.spacy", "--summary", "nope/s.json"], "no such folder for the summary"),
        (["in.conll", "out.spacy", "--scheme", "bilo"], "unknown tag scheme 'bilo'"),
        (["in.conll", "out.spacy", "--encoding", "nope"], "unknown encoding 'nope'"),
        (["in.conll", "out.spacy", "--lang", "zz"], "unknown language 'zz'"),
        (["in.conll", "in.conll"], "is the input file"),
    ],
)
def test_bad_paths_and_options(tmp_path, monkeypatch, args, what):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "in.conll", DOC_TEXT)
    result = cli(*args)
    assert result.exit_code == 1 and what in result.stderr, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.conll"]


def test_folder_is_all_or_nothing(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    write(data, "a.conll", DOC_TEXT)
    write(data, "b.conll", "a O\nb\n")
    out = tmp_path / "out"
    out.mkdir()
    old = write(out, "a.conll.spacy", b"old")
    result = cli(data, out)
    assert result.exit_code == 1 and f"{data / 'b.conll'}:2:" in result.stderr
    assert old.read_bytes() == b"old" and [p.name for p in out.iterdir()] == ["a.conll.spacy"]
    assert cli(data, tmp_path / "new").exit_code == 1 and not (tmp_path / "new").exists()


def test_python_m_exit_status_and_no_traceback(tmp_path):
    src = write(tmp_path, "in.conll", "a X-PER\n")
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    cmd = [sys.executable, "-m", "spacy_bert_ner", "convert", str(src), str(tmp_path / "o.spacy")]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1 and f"{src}:1:3: tag 'X-PER'" in proc.stderr
    assert not (tmp_path / "o.spacy").exists()


def test_library_raises_bert_ner_errors(tmp_path):
    with pytest.raises(BertNerError):
        convert(tmp_path / "missing", tmp_path / "out.spacy")


# -- exactness on CoNLL-2003 ------------------------------------------------------

COUNTS = {  # docs, sentences, tokens, entities
    "eng.train": (946, 14041, 203621, 23499),
    "eng.testa": (216, 3250, 51362, 5942),
    "eng.testb": (231, 3453, 46435, 5648),
}
needs_conll = pytest.mark.skipif(not SHARED_CONLL.is_dir(), reason=f"no CoNLL-2003 data in {SHARED_CONLL}")


def rewrite(text: str, scheme: str) -> str:
    """The IOB1 text with its last column in another scheme (independent of conll.py)."""
    out, sent = [], []

    def flush():
        tags = [line.rsplit(" ", 1)[1] for line in sent]
        types = [t[2:] if t != "O" else None for t in tags]
        new = []
        for i, tag in enumerate(tags):
            if tag == "O":
                new.append("O")
                continue
            begins = tag.startswith("B-") or i == 0 or types[i - 1] != types[i]
            ends = i + 1 == len(tags) or tags[i + 1].startswith("B-") or types[i + 1] != types[i]
            prefix = "B" if begins else "I"
            if scheme in ("bioes", "biluo") and ends:
                prefix = {"B": "S", "I": "E"}[prefix] if scheme == "bioes" else {"B": "U", "I": "L"}[prefix]
            new.append(f"{prefix}-{types[i]}")
        out.extend(line.rsplit(" ", 1)[0] + " " + tag for line, tag in zip(sent, new))
        sent.clear()

    for line in text.split("\n"):
        if line and not line.startswith("-DOCSTART-"):
            sent.append(line)
            continue
        if sent:
            flush()
        out.append(line.replace("-DOCSTART- -X- O O", "-DOCSTART- -X- -X- O"))
    if sent:
        flush()
    return "\n".join(out)


@needs_conll
def test_conll2003_counts_and_rewrites_are_exact(tmp_path):
    stats = convert(SHARED_CONLL, tmp_path / "corpus")
    for name, expected in COUNTS.items():
        file_stats = next(f for f in stats.files if Path(f.input).name == name)
        assert (file_stats.docs, file_stats.sentences, file_stats.tokens, file_stats.entities) == expected
        assert file_stats.scheme == "iob1" and not file_stats.repairs
    for name, (n_docs, n_sents, n_tokens, n_ents) in COUNTS.items():
        docs = load(tmp_path / "corpus" / f"{name}.spacy")
        assert len(docs) == n_docs and sum(len(d) for d in docs) == n_tokens
        assert sum(len(list(d.sents)) for d in docs) == n_sents
        assert sum(len(d.ents) for d in docs) == n_ents
    original = (SHARED_CONLL / "eng.testa").read_text(encoding="utf8")
    expected = payload(tmp_path / "corpus" / "eng.testa.spacy")
    variants = {
        "iob2": rewrite(original, "iob2"),
        "bioes": rewrite(original, "bioes"),
        "biluo": rewrite(original, "biluo"),
        "tab": original.replace(" ", "\t"),
        "crlf": original.replace("\n", "\r\n"),
        "bom-no-final-newline": "\ufeff" + original.rstrip("\n"),
    }
    assert "S-PER" in variants["bioes"] and "L-ORG" in variants["biluo"] and "B-LOC" in variants["iob2"]
    for kind, text in variants.items():
        src = write(tmp_path, f"eng.testa.{kind}", text)
        stats = convert(src, tmp_path / f"{kind}.spacy", strict=True)
        assert stats.files[0].scheme == (kind if kind in ("iob2", "bioes", "biluo") else "iob1")
        assert payload(tmp_path / f"{kind}.spacy") == expected, kind
    gz = tmp_path / "eng.testa.gz"
    gz.write_bytes(gzip.compress(original.encode("utf8")))
    convert(gz, tmp_path / "gz.spacy")
    assert payload(tmp_path / "gz.spacy") == expected


@needs_conll
def test_reader_and_writer_agree_on_conll2003():
    """The Docs make_doc builds (the corpus reader's) are the ones the writer stores."""
    reader = ConllReader(SHARED_CONLL / "eng.testb", limit=40)
    vocab = Vocab()
    writer = DocBinWriter()
    docs = []
    for conll_doc in reader:
        writer.add_conll(conll_doc)
        docs.append(make_doc(vocab, conll_doc))
    out = io.BytesIO()
    writer.write(out)
    loaded = list(DocBin().from_bytes(out.getvalue()).get_docs(Vocab()))
    assert [d.to_json() for d in loaded] == [d.to_json() for d in docs]
