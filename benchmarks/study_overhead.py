"""What keeping tune's and auto's searches for --resume costs: one tune run with and without its study kept
(alternated), the writer's seconds per trial, the wait at the end, and the first run's database creation.

    python benchmarks/study_overhead.py [--trials 40] [--pairs 3]

Prints figures; asserts nothing. Uses a temporary MLCLI_HOME.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # no BLAS threads spinning on CPU time
    os.environ.setdefault(_var, "1")


def tune_once(studies: str | None, trials: int) -> tuple[float, float]:
    """(wall, CPU seconds of this process: the search and, when kept, the writer thread) of one tune run."""
    from mlcli.data.dataset import DataOptions
    from mlcli.experiments.tune.request import TuneRequest
    from mlcli.experiments.tune.run import run_tune

    req = TuneRequest(DataOptions(str(ROOT / "sample_data" / "titanic.csv"), target="Survived"), model="logreg",
                      trials=trials, folds=3, leak_check=False, threads=1, studies=studies)
    t0, c0 = time.perf_counter(), time.process_time()
    run_tune(req)
    return time.perf_counter() - t0, time.process_time() - c0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--pairs", type=int, default=3)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="mlcli-home-"))
    os.environ["MLCLI_HOME"] = str(home)
    studies = str(home / "studies.db")

    from mlcli.experiments.tune.store import StudyLink

    t0 = time.perf_counter()
    link = StudyLink(studies, "create")
    link.start("maximize")
    link.close()
    print(f"first use: creating {studies} and one study: {time.perf_counter() - t0:.3f} s")
    t0 = time.perf_counter()
    link = StudyLink(studies, "open")
    link.start("maximize")
    link.close()
    print(f"later runs: opening it and creating a study (the least a run waits at its end): "
          f"{time.perf_counter() - t0:.3f} s")

    tune_once(None, 3)  # imports and caches warm
    kept, plain = [], []
    for _ in range(args.pairs):
        plain.append(tune_once(None, args.trials))
        kept.append(tune_once(studies, args.trials))
    for label, runs in (("not kept", plain), ("kept", kept)):
        wall = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        print(f"tune titanic.csv logreg, {args.trials} trials, 3 folds, study {label:8}: "
              f"median wall {wall:.2f} s, CPU {cpu:.2f} s  (runs: {', '.join(f'{r[0]:.2f}' for r in runs)})")
    dw = statistics.median(k[0] - p[0] for k, p in zip(kept, plain))
    dc = statistics.median(k[1] - p[1] for k, p in zip(kept, plain))
    print(f"difference (median of pairs): wall {dw:+.3f} s, CPU {dc:+.3f} s = {dc / args.trials * 1000:+.1f} ms CPU "
          "per trial")


if __name__ == "__main__":
    main()
