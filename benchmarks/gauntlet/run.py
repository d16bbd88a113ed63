"""Run mlcli over the gauntlet, as a new user would, and say per file what went wrong.

    python benchmarks/gauntlet/run.py [--files a,b] [--only train,models,cv,auto,explain,report,predict]
                                      [--quick] [--timeout 600] [--out results.csv] [--jobs 1] [--threads N]

Per file (cache/FILE.train.* to fit, cache/FILE.test.* held out; fill_cache.py builds them), each step a
subprocess of mlcli with the file's --target and nothing else:

  train     `train` with defaults (its own 20 % split inside the training part)
  models    `train --model M` for the usual five: logreg, rf, xgboost, lightgbm, catboost (the one the default
            already is, is not fitted twice unless --no-reuse)
  cv        `cv` with defaults on the training part
  auto      `auto --time-limit 60` on the training part
  explain   `explain` of the default bundle on the held-out rows
  report    `report` of the default bundle on the held-out rows
  predict   `predict` of the default bundle on the held-out rows: one prediction per held-out record?
and `evaluate` of every bundle on the held-out rows: the held-out score. --quick skips cv and auto.

Recorded per run: exit code, wall seconds, peak memory of the process (os.wait4), held-out score of the main
metric (ROC AUC binary, macro F1 multiclass — mlcli's main metrics — R² regression) and its baseline, and every
warning line on stderr. Each command is stopped after --timeout seconds (its whole process group).

Written: --out (one row per file with a verdict), the same name with _runs (one row per run), and the logs
and outputs of every run under --work. Printed: a table and the summary line: internal errors, runs over
10 minutes, the share of files where the default `train` is within 0.02 of the best of the usual five
(normalised between the baseline and that best), the share where `auto` scores at least that best.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import signal
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from fill_cache import DEFAULT_CACHE, fill, paths  # noqa: E402
from manifest import BY_NAME, SPECS  # noqa: E402

STEPS = ["train", "models", "cv", "auto", "explain", "report", "predict"]
USUAL = ["logreg", "rf", "xgboost", "lightgbm", "catboost"]
MAIN = {"binary": "roc_auc", "multiclass": "f1_macro", "regression": "r2"}
WITHIN = 0.02          # the bar: default within 0.02 (normalised) of the best usual model
OVER = 600.0           # a run over 10 minutes
WARNING = re.compile(r"warning|Traceback", re.IGNORECASE)


@dataclass
class Run:
    file: str
    step: str
    model: str = ""
    exit: int | None = None
    seconds: float | None = None
    peak_mb: float | None = None
    timed_out: bool = False
    metric: str = ""
    score: float | None = None
    baseline: float | None = None
    rows_out: int | None = None
    warnings: list[str] = field(default_factory=list)
    error: str = ""
    note: str = ""
    cmd: str = ""
    task: str = ""          # the task mlcli inferred (train runs)


# ---------------------------------------------------------------------------------------------- processes


def execute(cmd: list[str], cwd: Path, env: dict, timeout: float, log: Path) -> tuple[int, float, float, bool]:
    """(exit code, wall seconds, peak resident MiB, timed out) of one command; stdout to LOG.out, stderr to
    LOG.err. Past `timeout` its process group gets SIGTERM, then SIGKILL 10 s later."""
    import subprocess

    with open(log.with_suffix(".out"), "wb") as out, open(log.with_suffix(".err"), "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                start_new_session=True)
        timed_out, pause, killed_at = False, 0.01, None
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            now = time.perf_counter()
            if not timed_out and now - t0 > timeout:
                timed_out, killed_at = True, now
                _signal_group(proc.pid, signal.SIGTERM)
            elif killed_at is not None and now - killed_at > 10:
                _signal_group(proc.pid, signal.SIGKILL)
                killed_at = None
            time.sleep(pause)
            pause = min(pause * 1.5, 0.5)
        wall = time.perf_counter() - t0
        _signal_group(proc.pid, signal.SIGKILL)  # workers a finished command left behind
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code
    return code, wall, usage.ru_maxrss / 1024, timed_out


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def stderr_notes(log: Path) -> tuple[list[str], str]:
    """(warning lines, the error line) of a run's stderr."""
    try:
        text = log.with_suffix(".err").read_text(errors="replace")
    except OSError:
        return [], ""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    warnings = list(dict.fromkeys(ln for ln in lines if WARNING.search(ln)))
    errors = [ln for ln in lines if ln.startswith("mlcli: error")]
    return warnings, (errors[-1] if errors else (lines[-1] if lines else ""))


def read_json(log: Path) -> dict:
    try:
        return json.loads(log.with_suffix(".out").read_text())
    except (OSError, ValueError):
        return {}


# ---------------------------------------------------------------------------------------------- one file


class FileRun:
    def __init__(self, name: str, args, work: Path, index: dict):
        self.spec = BY_NAME[name]
        self.name = name
        self.args = args
        self.work = (work / name).resolve()
        self.work.mkdir(parents=True, exist_ok=True)
        self.train, self.test = paths(name, args.cache)
        self.test_rows = index.get(name, {}).get("test_rows")
        self.test_labelled = index.get(name, {}).get("test_labelled")
        self.metric = MAIN[self.spec.task]
        self.runs: list[Run] = []
        self.env = dict(os.environ, MLCLI_HOME=str(self.work / "home"), NO_COLOR="1", COLUMNS="200",
                        HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
        if args.threads:
            self.env["MLCLI_THREADS"] = str(args.threads)

    def target(self) -> list[str]:
        return ["--target", self.spec.target] if self.spec.target else []

    def call(self, step: str, model: str, argv: list[str], tag: str = "") -> Run:
        cmd = [*self.args.mlcli, *argv]
        tag = tag or (f"{step}-{model}" if model else step)
        log = self.work / tag
        run = Run(self.name, step, model, cmd=" ".join(_short(a) for a in argv))
        run.exit, run.seconds, run.peak_mb, run.timed_out = execute(cmd, self.work, self.env, self.args.timeout, log)
        run.seconds, run.peak_mb = round(run.seconds, 2), round(run.peak_mb, 1)
        run.warnings, error = stderr_notes(log)
        if run.exit != 0:
            run.error = "timed out" if run.timed_out else error
        self.runs.append(run)
        _progress(f"{self.name}: {tag:22s} exit {run.exit:>4} {run.seconds:8.1f} s {run.peak_mb:8.0f} MiB"
                  + (f"  {run.error[:100]}" if run.error else ""))
        return run

    def fit(self, step: str, model: str, extra: list[str]) -> Run:
        bundle = self.work / f"bundle-{model or step}"
        run = self.call(step, model, ["train", str(self.train), *self.target(), *extra, "-o", str(bundle),
                                      "-f", "json"])
        doc = read_json(self.work / (f"{step}-{model}" if model else step))
        run.task = str(doc.get("task") or "")
        if step == "train":
            run.model = doc.get("model", "")
        if run.exit == 0:
            self.evaluate(run, bundle)
        return run

    def evaluate(self, run: Run, bundle: Path) -> None:
        tag = "evaluate-" + bundle.name.removeprefix("bundle-")
        ev = self.call("evaluate", f"{run.step} {run.model}".strip(),
                       ["evaluate", str(bundle), str(self.test), "-f", "json"], tag=tag)
        doc = read_json(self.work / tag)
        run.metric = self.metric
        run.score = (doc.get("metrics") or {}).get(self.metric)
        run.baseline = (doc.get("baseline") or {}).get(self.metric)
        run.rows_out = doc.get("rows")  # held-out rows scored
        ev.metric, ev.score, ev.baseline, ev.rows_out = run.metric, run.score, run.baseline, run.rows_out

    def go(self, steps: list[str]) -> None:
        default = None
        if "train" in steps:
            default = self.fit("train", "", [])
        if "models" in steps:
            for m in USUAL:
                if default is not None and default.exit == 0 and default.model == m and not self.args.no_reuse:
                    self.runs.append(Run(self.name, "models", m, default.exit, 0.0, default.peak_mb, False,
                                         default.metric, default.score, default.baseline, default.rows_out,
                                         note="same as the default train (not refitted)"))
                    continue
                self.fit("models", m, ["--model", m])
        if "cv" in steps:
            run = self.call("cv", "", ["cv", str(self.train), *self.target(), "-f", "json"])
            doc = read_json(self.work / "cv")
            if run.exit == 0 and doc:
                run.model, run.metric = str(doc.get("best", "")), str(doc.get("metric", ""))
                best = [r for r in doc.get("leaderboard", []) if r.get("best")]
                run.score = best[0].get("score") if best else None
                run.note = "cross-validated on the training part"
        if "auto" in steps:
            bundle = self.work / "bundle-auto"
            run = self.call("auto", "", ["auto", str(self.train), *self.target(), "--time-limit", "60", "-o",
                                         str(bundle), "-f", "json"])
            if run.exit == 0:
                self.evaluate(run, bundle)
        usable = default is not None and default.exit == 0
        bundle = str(self.work / "bundle-train")
        if "explain" in steps and usable:
            self.call("explain", "", ["explain", bundle, str(self.test), "-f", "json"])
        if "report" in steps and usable:
            self.call("report", "", ["report", bundle, str(self.test), "-o", str(self.work / "report.html")])
        if "predict" in steps and usable:
            out = self.work / "predictions.csv"
            run = self.call("predict", "", ["predict", bundle, str(self.test), "-o", str(out)])
            if run.exit == 0:
                run.rows_out = _count_rows(out)
        if not self.args.keep:
            for b in self.work.glob("bundle-*"):
                shutil.rmtree(b, ignore_errors=True)

    # ------------------------------------------------------------------------------------------ verdict

    def summary(self) -> dict:
        step = {r.step: r for r in reversed(self.runs) if r.step != "models"}  # one run per step
        default = step.get("train")
        usual = {r.model: r for r in self.runs if r.step == "models"}
        scored = {m: r.score for m, r in usual.items() if r.score is not None}
        best_model = max(scored, key=scored.get) if scored else ""
        best = scored.get(best_model)
        baseline = next((r.baseline for r in self.runs if r.baseline is not None), None)
        d_score = default.score if default else None
        gap = None
        if d_score is not None and best is not None and baseline is not None:
            span = best - baseline
            gap = (best - d_score) / span if span > 1e-9 else (0.0 if d_score >= best - WITHIN else 1.0)
        auto = step.get("auto")
        auto_ge = None if auto is None or auto.score is None or best is None else auto.score >= best - 1e-9
        cv = step.get("cv")
        pred = step.get("predict")
        internal = [r for r in self.runs if r.exit not in (0, 2) and not r.timed_out]
        over = [r for r in self.runs if r.timed_out or (r.seconds or 0) > OVER]
        refused = [r for r in self.runs if r.exit == 2]
        rows_ok = None if pred is None or pred.rows_out is None or self.test_rows is None \
            else pred.rows_out == self.test_rows
        verdict = []
        if internal:
            verdict.append("internal error")
        if over:
            verdict.append("over time")
        if default is not None and default.exit == 2:
            verdict.append("refused (exit 2, expected)" if self.spec.target is None else "refused (exit 2)")
        elif refused:
            verdict.append("a step refused (exit 2)")
        if default is not None and default.task and default.task != self.spec.task:
            verdict.append(f"task read as {default.task}")
        if rows_ok is False:
            verdict.append(f"predictions for {pred.rows_out} of {self.test_rows} held-out rows")
        scored_ok = None if default is None or default.rows_out is None or self.test_labelled is None \
            else default.rows_out == self.test_labelled
        if scored_ok is False:
            verdict.append(f"{default.rows_out} of {self.test_labelled} labelled held-out rows scored")
        if d_score is not None and baseline is not None and d_score <= baseline:
            verdict.append("default no better than baseline")
        if gap is not None and gap > 0.10:
            verdict.append("default far below best")
        elif gap is not None and gap > WITHIN:
            verdict.append("default below best")
        if auto_ge is False:
            verdict.append("auto below best")
        times = [r.seconds for r in self.runs if r.seconds]
        return {
            "file": self.name, "task": self.spec.task, "categories": " ".join(self.spec.categories),
            "metric": self.metric, "baseline": _r(baseline),
            "default_model": default.model if default else "", "task_read": default.task if default else "",
            "default_score": _r(d_score),
            "best_model": best_model, "best_score": _r(best), "gap_norm": _r(gap),
            "within_0.02": None if gap is None else gap <= WITHIN,
            **{f"{m}_score": _r(scored.get(m)) for m in USUAL},
            "auto_score": _r(auto.score) if auto else None, "auto_ge_best": auto_ge,
            "cv_best": f"{cv.model} {cv.score}" if cv and cv.score is not None else "",
            "default_train_s": default.seconds if default else None,
            "default_train_peak_mb": default.peak_mb if default else None,
            "max_run_s": max(times) if times else None,
            "internal_errors": len(internal), "runs_over_10min": len(over),
            "exit2_runs": len(refused), "predict_rows_ok": rows_ok, "scored_rows_ok": scored_ok,
            "default_train_warnings": " | ".join(default.warnings) if default else "",
            "errors": " | ".join(f"{r.step} {r.model}: {r.error}" for r in self.runs if r.error),
            "verdict": "; ".join(verdict) or "ok",
        }


def _r(x):
    return None if x is None else round(float(x), 4)


def _short(a: str) -> str:
    p = Path(a)
    return p.name if p.is_absolute() else a


def _count_rows(path: Path) -> int | None:
    try:
        import pandas as pd

        return int(len(pd.read_csv(path)))
    except Exception:
        return None


def _progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------- output


def write_csv(rows: list[dict], path: Path) -> None:
    if not rows:
        return
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def read_csv(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def typed(row: dict) -> dict:
    """A row read back from the per-file CSV with its numbers, flags and blanks restored."""
    out = {}
    for k, v in row.items():
        if v in ("", None):
            out[k] = None if k not in ("verdict", "errors", "default_train_warnings", "default_model",
                                       "best_model", "cv_best", "task_read") else ""
        elif v in ("True", "False"):
            out[k] = v == "True"
        else:
            try:
                out[k] = int(v) if re.fullmatch(r"-?\d+", v) else float(v)
            except ValueError:
                out[k] = v
    return out


def table(rows: list[dict]) -> str:
    head = f"{'file':20s} {'task':10s} {'metric':8s} {'base':>6s} {'default':>17s} {'best usual':>18s} " \
           f"{'gap':>6s} {'auto':>6s} {'train s':>8s}  verdict"
    out = [head, "-" * len(head)]
    for r in rows:
        d = f"{r['default_model'][:8]} {_f(r['default_score'])}"
        b = f"{r['best_model'][:8]} {_f(r['best_score'])}"
        out.append(f"{r['file'][:20]:20s} {r['task']:10s} {r['metric']:8s} {_f(r['baseline']):>6s} {d:>17s} "
                   f"{b:>18s} {_f(r['gap_norm']):>6s} {_f(r['auto_score']):>6s} "
                   f"{_f(r['default_train_s'], 1):>8s}  {r['verdict']}")
    return "\n".join(out)


def _f(x, nd: int = 3) -> str:
    return "-" if x is None else f"{x:.{nd}f}"


def summary_line(rows: list[dict]) -> str:
    n = len(rows)
    internal = sum(r["internal_errors"] for r in rows)
    over = sum(r["runs_over_10min"] for r in rows)
    within = [r["within_0.02"] for r in rows if r["within_0.02"] is not None]
    auto = [r["auto_ge_best"] for r in rows if r["auto_ge_best"] is not None]
    parts = [r["verdict"].split("; ") for r in rows]
    refused = sum(1 for p in parts if any(v.startswith("refused") for v in p))  # the default train's own exit 2
    step = sum(1 for p in parts if "a step refused (exit 2)" in p)
    lost = sum(1 for r in rows if r["predict_rows_ok"] is False or r["scored_rows_ok"] is False)
    ok = sum(1 for r in rows if r["verdict"] == "ok")
    return (f"{n} files: {ok} ok | internal errors: {internal} runs | runs over 10 min: {over} | "
            f"default train refused (exit 2): {refused} files | another step refused (exit 2): {step} files | "
            f"held-out rows lost (predict or evaluate): {lost} files | "
            f"default within {WITHIN} of the best usual model: {_share(within)} | "
            f"auto >= best usual model: {_share(auto)}")


def _share(flags: list[bool]) -> str:
    return "-" if not flags else f"{sum(flags)}/{len(flags)} ({100 * sum(flags) / len(flags):.0f} %)"


# ---------------------------------------------------------------------------------------------- main


def mlcli_command() -> list[str]:
    exe = Path(sys.executable).with_name("mlcli")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "mlcli"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", help="comma list of file names (default: every file of the manifest)")
    ap.add_argument("--only", help=f"comma list of steps among {','.join(STEPS)} (default: all)")
    ap.add_argument("--quick", action="store_true", help="skip cv and auto")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per command (default 600)")
    ap.add_argument("--out", type=Path, default=HERE / "runs" / "results.csv", help="per-file CSV")
    ap.add_argument("--jobs", type=int, default=1, help="files run at once (default 1)")
    ap.add_argument("--threads", type=int, default=0, help="MLCLI_THREADS for every command (default: unset)")
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    ap.add_argument("--work", type=Path, default=None, help="logs and outputs (default: next to --out)")
    ap.add_argument("--mlcli", default=None, help="the mlcli executable (default: the one beside this Python)")
    ap.add_argument("--keep", action="store_true", help="keep the model bundles")
    ap.add_argument("--no-reuse", action="store_true", help="refit the usual model the default already is")
    ap.add_argument("--resume", action="store_true",
                    help="keep every file already in --out (the summary covers them too) and run the others")
    args = ap.parse_args(argv)
    args.cache = args.cache.resolve()
    args.mlcli = [args.mlcli] if args.mlcli else mlcli_command()

    names = [s.name for s in SPECS]
    if args.files:
        names = [n.strip() for n in args.files.split(",") if n.strip()]
        unknown = [n for n in names if n not in BY_NAME]
        if unknown:
            ap.error(f"unknown file(s): {', '.join(unknown)}")
    steps = STEPS if not args.only else [s.strip() for s in args.only.split(",") if s.strip()]
    if bad := [s for s in steps if s not in STEPS]:
        ap.error(f"unknown step(s): {', '.join(bad)}; steps: {', '.join(STEPS)}")
    if args.quick:
        steps = [s for s in steps if s not in ("cv", "auto")]

    index = fill(names, args.cache, quiet=False)
    missing = [n for n in names if n not in index]
    names = [n for n in names if n in index]
    if missing:
        _progress(f"not in the cache (skipped): {', '.join(missing)}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    work = args.work or args.out.parent / (args.out.stem + "-work")
    work.mkdir(parents=True, exist_ok=True)

    runs_path = args.out.with_name(args.out.stem + "_runs.csv")
    rows: dict[str, dict] = {}
    runs: dict[str, list[dict]] = {}
    order = [s.name for s in SPECS]  # --out keeps the manifest's order, whatever --files says
    if args.resume and args.out.exists():  # every file already in --out is kept, not only those of --files
        rows = {r["file"]: r for r in map(typed, read_csv(args.out)) if r["file"] in BY_NAME}
        for r in read_csv(runs_path):
            if r["file"] in rows:
                runs.setdefault(r["file"], []).append(r)
        _progress(f"resumed: {len(rows)} file(s) already done: {', '.join(rows)}")
    lock = threading.Lock()

    def one(name: str) -> None:
        fr = FileRun(name, args, work, index)
        fr.go(steps)
        with lock:  # written after every file: a run that is stopped keeps what it did (see --resume)
            rows[name] = fr.summary()
            runs[name] = [{**asdict(r), "warnings": " | ".join(r.warnings)} for r in fr.runs]
            ordered = [n for n in order if n in rows]
            write_csv([rows[n] for n in ordered], args.out)
            write_csv([r for n in ordered for r in runs.get(n, [])], runs_path)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        list(pool.map(one, [n for n in names if n not in rows]))
    rows = [rows[n] for n in order if n in rows]
    print(table(rows))
    print()
    print(summary_line(rows) + f" | {time.perf_counter() - t0:.0f} s")
    print(f"written: {args.out}, {runs_path}, logs in {work}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
