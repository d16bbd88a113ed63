"""mlcli cv: the request, the folds, the fold fits, the leaderboard."""
