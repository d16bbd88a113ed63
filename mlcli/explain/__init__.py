"""Explaining a fitted model in the user's columns: native, permutation and SHAP importances, the leak check."""
