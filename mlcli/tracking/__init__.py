"""Run history (SQLite), recipes and MLflow, behind one small interface (tracker.py)."""
