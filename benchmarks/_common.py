"""Helpers shared by the benchmark scripts: timing subprocesses and generating labelled synthetic data."""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"


def timed_run(cmd: list[str], repeats: int = 5, **kwargs) -> tuple[float, list[float]]:
    """Median wall seconds of running cmd `repeats` times (output discarded)."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def peak_rss_mb(cmd: list[str], **kwargs) -> tuple[float, float]:
    """(wall seconds, peak resident memory in MiB) of one child process."""
    env = dict(os.environ)
    t0 = time.perf_counter()
    code = ("import resource, subprocess, sys\n"
            "p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
            "sys.exit(p.returncode)\n")
    out = subprocess.run([sys.executable, "-c", code, *cmd], check=True, capture_output=True, text=True, env=env,
                         **kwargs)
    return time.perf_counter() - t0, int(out.stdout.strip().splitlines()[-1]) / 1024


def mixed_frame(n: int, n_num: int = 12, n_cat: int = 6, seed: int = 0):
    """GENERATED data: numeric and categorical columns, some missing values, a binary target with signal."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    cols = {f"num{i}": rng.normal(size=n) for i in range(n_num)}
    for i in range(n_cat):
        cols[f"cat{i}"] = rng.choice([f"level{j}" for j in range(3 + 4 * i)], size=n)
    df = pd.DataFrame(cols)
    logit = df["num0"] - 0.7 * df["num1"] + 0.5 * df["num2"] * df["num3"] + (df["cat0"] == "level1") * 1.2
    df["target"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    df.loc[rng.random(n) < 0.05, "num4"] = np.nan
    return df


def mlcli_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "mlcli", *args]


__all__ = ["ROOT", "SAMPLE", "timed_run", "peak_rss_mb", "mixed_frame", "mlcli_cmd", "resource"]
