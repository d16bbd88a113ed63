"""What the leak screen costs: a default `mlcli train` (XGBoost) on a 30,000-row file with the screen (the
default) and with --no-leak-check, run alternately as fresh processes; the median of --repeats runs of each.

Data: a GENERATED 30,000-row mixed-type file (12 numeric, 6 categorical columns, binary target), and the same
file with a planted leak (a column that copies the target for 99 % of the rows) to show the screen finds it.

    python benchmarks/leak_screen.py [--repeats 5] [--rows 30000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import mixed_frame, mlcli_cmd


def _run(args: list[str]) -> tuple[float, dict]:
    t0 = time.perf_counter()
    out = subprocess.run(mlcli_cmd(*args), check=True, capture_output=True, text=True)
    return time.perf_counter() - t0, json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rows", type=int, default=30000)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mixed.csv"
        df = mixed_frame(opts.rows)
        df.to_csv(path, index=False)
        base = ["train", str(path), "--target", "target", "-q", "-f", "json", "--out", str(Path(tmp) / "m")]
        with_screen, without = [], []
        screened = {}
        for _ in range(opts.repeats):
            seconds, screened = _run(base)
            with_screen.append(seconds)
            seconds, _ = _run(base + ["--no-leak-check"])
            without.append(seconds)
        a, b = statistics.median(with_screen), statistics.median(without)
        print(f"data: GENERATED {opts.rows:,} rows x {df.shape[1] - 1} columns; default model "
              f"({screened['model']}); {opts.repeats} alternated fresh-process runs each")
        runs_a, runs_b = ", ".join(f"{t:.2f}" for t in with_screen), ", ".join(f"{t:.2f}" for t in without)
        print(f"train with the leak screen     median {a:6.2f} s   (runs: {runs_a})")
        print(f"train with --no-leak-check     median {b:6.2f} s   (runs: {runs_b})")
        print(f"screen cost: {a - b:+.2f} s = {100 * (a - b) / b:+.1f} % of a default train (goal: under 10 %)")
        print(f"leaks found on honest data: {screened['leaks']}")
        rng = __import__("numpy").random.default_rng(1)
        df["copy"] = df["target"].where(rng.random(len(df)) > 0.01, 1 - df["target"])
        df.to_csv(path, index=False)
        _, leaky = _run(base)
        found = [(lk["columns"], lk["score"]) for lk in leaky["leaks"]]
        print(f"leaks found with a planted copy of the target: {found}")


if __name__ == "__main__":
    sys.exit(main())
