"""Peak memory of `mlcli train --model lightgbm` on a GENERATED 1,000,000-row, 20-column CSV.

Target (DESIGN §6): peak memory under 3x the size of the data frame in memory. Printed: the peak resident
memory of the whole process, the same less the memory of the imported libraries alone (Python, pandas,
scikit-learn, LightGBM: what any program doing this job starts from), and the hand-written floor of
train_overhead.py (pandas + scikit-learn + LightGBM, same pipeline) on the same file.

    python benchmarks/large_file.py [--rows 1000000] [--no-floor]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from _common import mixed_frame, mlcli_cmd, peak_rss_mb
from train_overhead import FLOOR

IMPORTS = "import mlcli.cli.app, mlcli.cli.train, mlcli.experiments.train, mlcli.render.output, lightgbm"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--no-floor", action="store_true", help="skip the hand-written pipeline")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        path = tmp / "big.csv"
        df = mixed_frame(args.rows, n_num=13, n_cat=6)  # 19 features + target = 20 columns
        frame_mb = df.memory_usage(deep=True).sum() / 2**20
        df.to_csv(path, index=False)
        del df
        file_mb = path.stat().st_size / 2**20
        _, base = peak_rss_mb([sys.executable, "-c", IMPORTS])
        wall, peak = peak_rss_mb(mlcli_cmd("train", str(path), "--model", "lightgbm", "--out", str(tmp / "b"),
                                           "--format", "json", "--quiet"))
        print(f"rows {args.rows:,}  file {file_mb:.0f} MiB  data frame in memory {frame_mb:.0f} MiB  "
              f"(imported libraries alone: {base:.0f} MiB)")
        print(f"mlcli train --model lightgbm: {wall:.1f} s, peak RSS {peak:.0f} MiB = {peak / frame_mb:.2f}x the "
              f"frame; above the imports {peak - base:.0f} MiB = {(peak - base) / frame_mb:.2f}x (target < 3x)")
        if not args.no_floor:
            (tmp / "floor.py").write_text(FLOOR)
            wall, fpeak = peak_rss_mb([sys.executable, str(tmp / "floor.py"), str(path), "target", "lightgbm",
                                       str(tmp / "floor.joblib")])
            print(f"hand-written floor (same pipeline):  {wall:.1f} s, peak RSS {fpeak:.0f} MiB = "
                  f"{fpeak / frame_mb:.2f}x the frame; above the imports {fpeak - base:.0f} MiB = "
                  f"{(fpeak - base) / frame_mb:.2f}x")


if __name__ == "__main__":
    main()
