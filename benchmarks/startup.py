"""How long `mlcli --help` takes in a fresh process, and what it imports.

    python benchmarks/startup.py
"""

from __future__ import annotations

import subprocess
import sys

from _common import mlcli_cmd, timed_run

HEAVY = ("torch", "transformers", "sklearn", "xgboost", "lightgbm", "catboost", "imblearn", "pandas", "numpy")


def main() -> None:
    timed_run([sys.executable, "-c", "pass"], repeats=2)  # warm the file cache
    bare, _ = timed_run([sys.executable, "-c", "pass"], repeats=15)
    median, runs = timed_run(mlcli_cmd("--help"), repeats=15)
    train_help, _ = timed_run(mlcli_cmd("train", "--help"), repeats=15)
    print(f"python -c pass           median {bare * 1000:6.0f} ms")
    print(f"mlcli --help             median {median * 1000:6.0f} ms  (min {min(runs) * 1000:.0f}, max "
          f"{max(runs) * 1000:.0f}; target < 300 ms)")
    print(f"mlcli train --help       median {train_help * 1000:6.0f} ms")
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "mlcli", "--help"], capture_output=True,
                         text=True).stderr
    loaded = {line.split("|")[-1].strip().split(".")[0] for line in out.splitlines() if "|" in line}
    print("heavy modules imported by --help:", sorted(loaded & set(HEAVY)) or "none")


if __name__ == "__main__":
    main()
