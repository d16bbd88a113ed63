"""Descriptions in the user's own columns: what sets each cluster apart (so a person can name it), and which
columns make an anomalous row unusual."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mlcli.data.schema import Schema

TOP_NUMERIC = 5  # numeric columns shown per cluster, the most different first
TOP_CATEGORIES = 3  # over-represented categories shown per cluster
MIN_LIFT = 1.25  # a category is over-represented when its share in the cluster is at least this times its share


def _round(v: Any, digits: int = 4) -> Any:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return None
    return round(float(v), digits)


def numeric_frame(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    cols = schema.by_role("numeric")
    if not cols:
        return pd.DataFrame(index=frame.index)
    return frame[cols].apply(pd.to_numeric, errors="coerce").astype("float64")


def cluster_profiles(frame: pd.DataFrame, schema: Schema, labels: np.ndarray) -> list[dict[str, Any]]:
    """Per cluster: its numeric columns' means and medians beside the overall ones (ordered by the gap in
    overall standard deviations) and the categories most over-represented in it (share in the cluster vs
    overall)."""
    num = numeric_frame(frame, schema)
    overall_mean, overall_median, overall_sd = num.mean(), num.median(), num.std(ddof=0).replace(0, np.nan)
    cats = {c: frame[c].astype("object").where(frame[c].notna(), "(missing)").astype(str)
            for c in schema.by_role("categorical")}
    overall_share = {c: s.value_counts(normalize=True) for c, s in cats.items()}
    out = []
    for cluster in sorted(np.unique(labels)):
        mask = labels == cluster
        numeric = []
        for col in num.columns:
            mean = num.loc[mask, col].mean()
            gap = (mean - overall_mean[col]) / overall_sd[col]
            numeric.append({"column": col, "mean": _round(mean), "median": _round(num.loc[mask, col].median()),
                            "overall_mean": _round(overall_mean[col]), "overall_median": _round(overall_median[col]),
                            "gap_sd": _round(gap, 3)})
        numeric.sort(key=lambda r: -abs(r["gap_sd"] or 0.0))
        out.append({"cluster": int(cluster), "size": int(mask.sum()), "numeric": numeric[:TOP_NUMERIC],
                    "categories": _over_represented(cats, overall_share, mask)})
    return out


def _over_represented(cats: dict[str, pd.Series], overall: dict[str, pd.Series], mask: np.ndarray
                      ) -> list[dict[str, Any]]:
    found = []
    for col, s in cats.items():
        share = s[mask].value_counts(normalize=True)
        for value, p in share.items():
            lift = p / overall[col][value]
            if lift >= MIN_LIFT and p >= 0.1:
                found.append({"column": col, "value": value, "share": _round(p), "overall_share":
                              _round(overall[col][value]), "lift": _round(lift, 3)})
    found.sort(key=lambda r: -r["lift"])
    return found[:TOP_CATEGORIES]


def unusual_columns(frame: pd.DataFrame, schema: Schema, rows: np.ndarray, top: int = 3) -> list[list[dict[str, Any]]]:
    """For each row index in ``rows``: the columns whose values are furthest from the bulk, as robust z-scores
    for numbers ((value - median) / (1.4826 * MAD), or / standard deviation when the MAD is 0) and as rarity
    for categories (a value held by few rows scores high: -log10 of its share, scaled to z-like units); the
    ``top`` columns scoring at least 1 in size, or the single highest."""
    num = numeric_frame(frame, schema)
    med = num.median()
    spread = (num - med).abs().median() * 1.4826
    spread = spread.where(spread > 0, num.std(ddof=0)).replace(0, np.nan)
    cats = {c: frame[c].astype("object").where(frame[c].notna(), "(missing)").astype(str)
            for c in schema.by_role("categorical")}
    shares = {c: s.value_counts(normalize=True) for c, s in cats.items()}
    out = []
    for i in rows:
        scores = []
        for col in num.columns:
            v = num[col].iloc[i]
            z = (v - med[col]) / spread[col] if pd.notna(v) and pd.notna(spread[col]) else np.nan
            if pd.notna(z):
                scores.append({"column": col, "value": _round(v), "typical": _round(med[col]), "score": _round(z, 2)})
        for col, s in cats.items():
            value = s.iloc[i]
            p = float(shares[col][value])
            scores.append({"column": col, "value": value, "typical": str(shares[col].index[0]),
                           "share": _round(p), "score": _round(-np.log10(p) * 1.5, 2)})
        scores.sort(key=lambda r: -abs(r["score"] or 0.0))
        out.append([r for r in scores[:top] if abs(r["score"] or 0.0) >= 1.0] or scores[:1])
    return out
