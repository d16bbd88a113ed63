"""Text benchmarks: fine-tuning and embedding throughput against a plain Hugging Face loop, and held-out
accuracy of the fine-tuned default model (all-MiniLM-L6-v2) against the TF-IDF + logistic regression
baseline, on the Amazon fine-food reviews in sample_data/ (finefoods.csv -> finefoods_test.csv).

    .venv/bin/python benchmarks/text_throughput.py            # about 10 minutes on 2 busy CPU cores
    .venv/bin/python benchmarks/text_throughput.py --train-rows 4000 --epochs 3 --test-rows 1000   # the full data

The data are subsampled by default so the script fits in a few minutes on a small shared machine: the
printed figures say how many rows were used. Both sides of each comparison use the same rows, model,
batch size, maximum length, optimiser and thread count; the plain loop is what a Hugging Face user writes
by hand (random batches padded to their longest text, ``torch.no_grad`` and file order for inference).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"


def plain_fine_tune(texts, labels, path, *, epochs, batch_size, max_length, lr, seed):
    """The hand-written floor: AutoModelForSequenceClassification, AdamW, linear warm-up/decay, random batches."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    torch.manual_seed(seed)
    tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=2, local_files_only=True)
    steps = math.ceil(len(texts) / batch_size) * epochs
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    warm = int(0.1 * steps)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: (s + 1) / max(1, warm) if s < warm
                                              else max(0.0, (steps - s) / max(1, steps - warm)))
    y = torch.tensor(labels)
    rng = np.random.RandomState(seed)
    model.train()
    t0 = time.perf_counter()
    for _ in range(epochs):
        order = rng.permutation(len(texts))
        for i in range(0, len(order), batch_size):
            rows = order[i:i + batch_size]
            enc = tok([texts[j] for j in rows], padding=True, truncation=True, max_length=max_length,
                      return_tensors="pt")
            loss = model(**enc, labels=y[rows]).loss
            loss.backward()
            opt.step()
            sched.step()
            opt.zero_grad()
    return time.perf_counter() - t0


def plain_embed(texts, path, *, batch_size, max_length):
    import torch
    from transformers import AutoModel, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModel.from_pretrained(path, local_files_only=True).eval()
    out = []
    t0 = time.perf_counter()
    with torch.no_grad():
        for i in range(0, len(texts), batch_size):
            enc = tok(texts[i:i + batch_size], padding=True, truncation=True, max_length=max_length,
                      return_tensors="pt")
            hidden = model(**enc).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).float()
            out.append(((hidden * mask).sum(1) / mask.sum(1)).numpy())
    return time.perf_counter() - t0, np.vstack(out)


def throughput(args, train: pd.DataFrame) -> None:
    from mlcli.text.base_model import resolve_base_model
    from mlcli.text.embedding import SentenceEncoder
    from mlcli.text.estimator import TransformerClassifier
    from mlcli.text.runtime import require_torch

    torch, _ = require_torch("the benchmark")  # offline, no progress bars or load reports
    torch.set_num_threads(args.threads)
    path = resolve_base_model(None)
    warm = train.review.iloc[:8].tolist()  # one-time costs (kernels, allocator) are paid before timing
    plain_fine_tune(warm, [0, 1] * 4, str(path), epochs=1, batch_size=8, max_length=32, lr=5e-5, seed=0)
    rows = train.sample(n=min(args.throughput_rows, len(train)), random_state=0)
    texts, labels = rows.review.tolist(), (rows.score == "other").astype(int).tolist()
    print(f"\n== fine-tuning throughput: {len(texts)} reviews, 1 epoch, batch {args.batch_size}, "
          f"max {args.max_length} tokens, {args.threads} threads (all-MiniLM-L6-v2, CPU)")
    plain_times, mlcli_times = [], []
    for _ in range(args.repeats):  # alternated, best of each: load from other work hits both sides alike
        plain_times.append(plain_fine_tune(texts, labels, str(path), epochs=1, batch_size=args.batch_size,
                                           max_length=args.max_length, lr=5e-5, seed=0))
        est = TransformerClassifier(epochs=1, batch_size=args.batch_size, max_length=args.max_length,
                                    n_threads=args.threads, verbose=0)
        est.fit(pd.DataFrame({"review": texts}), labels)
        mlcli_times.append(est.fit_seconds_)
    t_plain, t_mlcli = min(plain_times), min(mlcli_times)
    print(f"plain Hugging Face loop : {len(texts) / t_plain:7.1f} rows/s (best of {args.repeats}: {t_plain:.1f} s)")
    print(f"mlcli transformer       : {len(texts) / t_mlcli:7.1f} rows/s (best of {args.repeats}: {t_mlcli:.1f} s; "
          "length-bucketed batches)")

    texts = train.review.iloc[:args.embed_rows].tolist()
    print(f"\n== embedding throughput: {len(texts)} reviews, batch 32, max {args.embed_max_length} tokens, "
          "mean pooling")
    plain_times, mlcli_times = [], []
    for _ in range(args.repeats):
        t, ref = plain_embed(texts, str(path), batch_size=32, max_length=args.embed_max_length)
        plain_times.append(t)
        enc = SentenceEncoder(path, batch_size=32, max_length=args.embed_max_length, n_threads=args.threads)
        t0 = time.perf_counter()
        vec = enc.encode(texts)  # a fresh encoder each time: no cached vectors
        mlcli_times.append(time.perf_counter() - t0)
    t_plain, t_mlcli = min(plain_times), min(mlcli_times)
    err = float(np.abs(vec - ref).max())
    print(f"plain Hugging Face loop : {len(texts) / t_plain:7.1f} rows/s ({t_plain:.1f} s; file order, no_grad)")
    print(f"mlcli embed             : {len(texts) / t_mlcli:7.1f} rows/s ({t_mlcli:.1f} s; length-sorted, "
          f"inference_mode); max |difference| {err:.1e}")


def accuracy(args, train: pd.DataFrame, test: pd.DataFrame) -> None:
    from sklearn.model_selection import train_test_split

    from mlcli.data.dataset import DataOptions
    from mlcli.experiments.train import TrainRequest
    from mlcli.experiments.train import train as run_train
    from mlcli.features.preprocess import PreprocessOptions
    from mlcli.models.build import ModelConfig

    sub = train if args.train_rows >= len(train) else \
        train_test_split(train, train_size=args.train_rows, stratify=train.score, random_state=0)[0]
    tst = test.sample(n=min(args.test_rows, len(test)), random_state=0)
    print(f"\n== held-out accuracy: trained on {len(sub)} of {len(train)} finefoods.csv reviews, tested on "
          f"{len(tst)} of {len(test)} finefoods_test.csv reviews (products not seen in training)")
    with tempfile.TemporaryDirectory() as d:
        sub.to_csv(Path(d) / "train.csv", index=False)
        tst.to_csv(Path(d) / "test.csv", index=False)
        runs = [
            ("TF-IDF + logreg (baseline)", ModelConfig("logreg", {}, PreprocessOptions(), 42, args.threads)),
            ("MiniLM embeddings + logreg", ModelConfig("logreg", {}, PreprocessOptions(
                text_features="embed", embed_progress=False), 42, args.threads)),
            (f"fine-tuned MiniLM ({args.epochs} epochs)", ModelConfig(
                "transformer", {"epochs": args.epochs, "verbose": 0, "max_length": args.max_length,
                                "batch_size": args.batch_size}, PreprocessOptions(), 42, args.threads)),
        ]
        print(f"{'model':34s} {'accuracy':>9s} {'bal.acc':>8s} {'roc_auc':>8s} {'fit s':>7s}")
        for label, cfg in runs:
            req = TrainRequest(DataOptions(str(Path(d) / "train.csv"), target="score"), cfg,
                               test_path=str(Path(d) / "test.csv"), out=str(Path(d) / "bundle"))
            res = run_train(req)
            m = res.test.metrics
            print(f"{label:34s} {m['accuracy']:9.3f} {m['balanced_accuracy']:8.3f} {m['roc_auc']:8.3f} "
                  f"{res.timings['fit']:7.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--throughput-rows", type=int, default=128)
    ap.add_argument("--embed-rows", type=int, default=500)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--embed-max-length", type=int, default=256)
    ap.add_argument("--train-rows", type=int, default=600)
    ap.add_argument("--test-rows", type=int, default=500)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--skip", choices=["throughput", "accuracy"], action="append", default=[])
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    train = pd.read_csv(SAMPLE / "finefoods.csv")
    test = pd.read_csv(SAMPLE / "finefoods_test.csv")
    t0 = time.perf_counter()
    if "throughput" not in args.skip:
        throughput(args, train)
    if "accuracy" not in args.skip:
        accuracy(args, train, test)
    print(f"\n(total {time.perf_counter() - t0:.0f} s on {os.cpu_count()} cores; load average at the end "
          f"{os.getloadavg()[0]:.1f}: other work on a shared machine slows every figure alike)")


if __name__ == "__main__":
    main()
