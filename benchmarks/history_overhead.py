"""What the run history costs: --help start-up, one recorded run (start + finish), the data fingerprint.

    python benchmarks/history_overhead.py

Prints figures; asserts nothing. Uses a temporary MLCLI_HOME.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def fresh_process(*argv: str, env: dict[str, str], n: int = 5) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "mlcli", *argv], env=env, capture_output=True, check=False)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    home = tempfile.mkdtemp(prefix="mlcli-home-")
    env = {**os.environ, "MLCLI_HOME": home}
    os.environ["MLCLI_HOME"] = home
    print(f"mlcli --help, fresh process (median of 5):       {fresh_process('--help', env=env):.3f} s")
    print(f"mlcli train --help, fresh process (median of 5): {fresh_process('train', '--help', env=env):.3f} s")
    print(f"mlcli runs list (empty), fresh process:          {fresh_process('runs', 'list', env=env):.3f} s")

    from mlcli.models.versions import library_versions
    from mlcli.tracking.history import History
    from mlcli.tracking.records import file_fingerprint

    per_run = []
    for i in range(200):
        t0 = time.perf_counter()
        with History() as h:
            rid = h.start("train", f"bench {i}", recipe={"model": "logreg", "seed": 42})
        with History() as h:
            h.finish(rid, "finished", metrics={"roc_auc": 0.9}, libraries=library_versions(), duration=1.0)
        per_run.append(time.perf_counter() - t0)
    print(f"one recorded run (open + start, open + finish), median of 200: {statistics.median(per_run) * 1000:.2f} ms")
    with History() as h:
        t0 = time.perf_counter()
        rows = h.list()
        print(f"list {len(rows)} runs: {(time.perf_counter() - t0) * 1000:.1f} ms")
    print(f"mlcli runs list --format json with {len(rows)} runs, fresh process: "
          f"{fresh_process('runs', 'list', '--format', 'json', env=env):.3f} s")
    for name in ("titanic.csv", "default.csv"):
        path = ROOT / "sample_data" / name
        t0 = time.perf_counter()
        file_fingerprint(str(path))
        print(f"fingerprint of {name} ({path.stat().st_size / 1e6:.2f} MB): {(time.perf_counter() - t0) * 1000:.2f} ms")
    big = Path(home) / "big.bin"
    big.write_bytes(os.urandom(100 * 2**20))
    t0 = time.perf_counter()
    file_fingerprint(str(big))
    print(f"fingerprint of a 100 MiB file: {(time.perf_counter() - t0) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
