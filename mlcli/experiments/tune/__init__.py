"""mlcli tune: the request, the search over a model's space on cv's folds, the result."""
