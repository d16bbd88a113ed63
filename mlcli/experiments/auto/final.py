"""auto's step 4: the final model of the chosen ensemble, saved as one bundle that predict, evaluate, explain and
inspect accept.

By default each member is fitted once on all rows (``--refit``). With ``--bag`` each member's fold models are the
final model instead (bagging, :func:`mlcli.models.ensemble.from_fitted`): cv's fold runner returns scores and
predictions, not the fitted pipelines, so each member is fitted again on each fold's training rows (the same
pipelines, seeds and rows as during the search, so the same models). Refitting is the default because it
measured better on the test rows of the small files of ``benchmarks/auto_vs_autogluon.py`` (each model sees
every row rather than 80 % of them: Ames RMSE 26,332 refitted vs 27,049 bagged; Titanic ROC AUC 0.8566 vs
0.8529) and it takes a fifth of the fits, which leaves more of the limit to the search. The fits run
side by side on the cores. The search leaves time for them: after the portfolio, :func:`expected_final_s` of
the best candidates is taken off the search time (``Budget.final_s``), so the save ends near the time limit.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from mlcli.data.dataset import row_hashes
from mlcli.evaluation.baseline import Baseline
from mlcli.evaluation.report import measure
from mlcli.experiments.auto.board import Choice
from mlcli.experiments.train import bundle_meta
from mlcli.models.build import build_pipeline, default_threads
from mlcli.models.ensemble import as_pipeline, from_fitted
from mlcli.models.registry import get_spec
from mlcli.models.versions import library_versions

LIKELY_MEMBERS = 3  # the best complete candidates whose final fits the search leaves time for (with --out)
MARGIN = 1.25  # on the measured fold seconds
SAVE_S = 1.0  # building the bundle's metadata and writing it


def expected_final_s(ctx: Any) -> float:
    """Seconds the final fits would take if the ensemble were the best ``LIKELY_MEMBERS`` complete
    candidates: their measured fold fits (bagging: the same fits again; ``--refit``: one fit on all rows, a
    fold's × k/(k-1)), run side by side on the cores as :func:`final_pipeline` runs them."""
    from mlcli.evaluation.metrics import higher_is_better
    from mlcli.experiments.cv.schedule import cpu_cores

    tried, k = ctx.tried, len(ctx.splits)
    done = []
    for ci, cand in enumerate(tried.candidates):
        if cand.tier == "baseline" or not tried.complete(ci):
            continue
        folds = [tried.results[(ci, si)] for si in range(k)]
        score = sum(r.metrics[ctx.metric] for r in folds) / k
        fit, predict = sum(r.fit_s for r in folds), sum(r.predict_s for r in folds)
        # the training rows' report: every fold model predicts all rows (k x a fold's rows), the refit one once
        seconds = fit / (k - 1) + predict if ctx.req.refit else fit + k * predict
        done.append((score, seconds, 1 if ctx.req.refit else k))
    done.sort(key=lambda d: d[0], reverse=higher_is_better(ctx.metric))
    likely = done[:LIKELY_MEMBERS]
    n_fits = sum(d[2] for d in likely)
    return SAVE_S + MARGIN * sum(d[1] for d in likely) / max(1, min(cpu_cores(), n_fits))


def final_pipeline(ctx: Any, choice: Choice) -> Any:
    """The chosen members as one fitted pipeline (see the module docstring); the fits run side by side on the
    cores (threads: the libraries release the GIL while fitting, and the data is not copied per worker)."""
    from joblib import Parallel, delayed

    from mlcli.experiments.cv.schedule import cpu_cores

    req, ds, tried, y = ctx.req, ctx.ds, ctx.tried, ctx.y
    threads = req.threads or default_threads()
    members = [tried.configs[tried.index(n)] for n in choice.names]
    rows = [None] if req.refit else [s.train for s in ctx.splits]
    n_fits = len(members) * len(rows)
    workers = max(1, min(cpu_cores(), n_fits)) if req.threads is None else 1
    configs = [replace(c, n_threads=max(1, threads // workers)) for c in members]
    what = (f"refitting {len(configs)} member(s) on all {len(y)} rows" if req.refit else
            f"fitting {len(configs)} member(s) on each of the {len(ctx.splits)} folds' training rows (the bagged "
            "fold models)")
    ctx.notify(f"{what} for --out, {workers} at a time")

    def fit(config: Any, train: Any) -> Any:
        X, target = (ds.X, y) if train is None else (ds.X.iloc[train], y[train])
        return build_pipeline(ds.schema, config).fit(X, target)

    fitted = Parallel(n_jobs=workers, backend="threading")(delayed(fit)(c, t) for c in configs for t in rows)
    folds = [fitted[i * len(rows):(i + 1) * len(rows)] for i in range(len(configs))]
    ensemble = from_fitted(ds.task, folds, choice.weights, choice.names, choice.stacker, n_classes=ctx.k or None)
    return as_pipeline(ensemble)


def save_final(ctx: Any, choice: Choice, doc: dict[str, Any]) -> tuple[str, float]:
    """Fit the final model and save the bundle at ``--out``; (its path, seconds taken)."""
    from mlcli.models.bundle import save_bundle

    t0 = time.perf_counter()
    ds, y, tried = ctx.ds, ctx.y, ctx.tried
    pipeline = final_pipeline(ctx, choice)
    threshold = 0.5 if ds.task == "binary" else None
    train_report = measure(pipeline, ds.X, y, ds.task, ctx.classes, threshold)
    ens = next(r for r in doc["leaderboard"] if r["name"] == "ensemble")
    first = tried.configs[tried.index(choice.names[0])]
    meta = bundle_meta(ds, first, ctx.classes, threshold, ens["mean"], train_report.metrics, [], len(y), 0,
                       baseline=Baseline.fit(ds.task, y, len(ctx.classes)), warnings=doc["warnings"])
    members = []
    for name, weight in zip(choice.names, choice.weights):
        config = tried.configs[tried.index(name)]
        members.append({"name": name, "model": config.model, "params": config.params, "weight": weight,
                        "text_features": config.preprocess.text_features, "log_target": config.log_target})
    packages = {get_spec(m["model"]).package for m in members}
    meta.update(model="ensemble", params={"members": members}, early_stopping=None,
                libraries=library_versions(["sklearn", "numpy", "pandas", "joblib", *sorted(p for p in packages if p)]))
    meta["cv"] = {"metric": doc["metric"], "folds": doc["folds"], "repeats": 1, "groups": None,
                  "score": ens["score"], "score_std": ens["score_std"], "metrics_std": ens["std"],
                  "leaderboard": [r["name"] for r in doc["leaderboard"] if r["rank"] is not None]}
    meta["auto"] = {key: doc[key] for key in ("preset", "seed", "ensemble", "best_single", "baseline", "budget",
                                              "tuning", "leaderboard")}
    meta["auto"]["final"] = "refit" if ctx.req.refit else "bagged"
    path = save_bundle(ctx.req.out, pipeline, meta, train_rows=row_hashes(ds.X, y))
    return str(path), time.perf_counter() - t0
