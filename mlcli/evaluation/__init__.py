"""Scoring a fitted pipeline and measuring it: predictions, thresholds, metrics, the evaluation report."""
