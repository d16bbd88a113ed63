"""mlcli auto: the best model a time budget can buy (portfolios, tuning, ensembles of out-of-fold predictions)."""
