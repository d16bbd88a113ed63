"""Peak memory of `mlcli train --model lightgbm` on a GENERATED 1,000,000-row, 20-column CSV.

Target (DESIGN §6): peak resident memory under 3x the size of the data frame in memory.

    python benchmarks/large_file.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _common import mixed_frame, mlcli_cmd, peak_rss_mb


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.csv"
        df = mixed_frame(args.rows, n_num=13, n_cat=6)  # 19 features + target = 20 columns
        frame_mb = df.memory_usage(deep=True).sum() / 2**20
        df.to_csv(path, index=False)
        del df
        file_mb = path.stat().st_size / 2**20
        wall, peak = peak_rss_mb(mlcli_cmd("train", str(path), "--model", "lightgbm", "--out", str(Path(tmp) / "b"),
                                           "--format", "json", "--quiet"))
        print(f"rows {args.rows:,}  file {file_mb:.0f} MiB  data frame in memory {frame_mb:.0f} MiB")
        print(f"mlcli train --model lightgbm: {wall:.1f} s, peak RSS {peak:.0f} MiB = {peak / frame_mb:.2f}x the "
              f"frame (target < 3x)")


if __name__ == "__main__":
    main()
