"""mlcli's figures (matplotlib, imported lazily): one module per family, one shared style (``style``)."""
