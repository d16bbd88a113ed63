"""The model and resampler registries, pipeline assembly, mlcli's pipeline steps, model bundles."""
