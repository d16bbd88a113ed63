"""Text models: a fine-tuned transformer estimator and sentence embeddings.

Nothing here imports torch or transformers at module level: they are imported inside ``fit``,
``transform`` and ``predict`` (``mlcli --help`` and ``mlcli models`` stay fast).
"""
