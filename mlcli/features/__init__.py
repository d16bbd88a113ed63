"""Preprocessing inside the model pipeline, and the provenance of every model feature."""
