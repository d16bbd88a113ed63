"""mlcli: a command-line workbench for supervised machine learning on tabular and text data."""

__version__ = "0.1.0"
