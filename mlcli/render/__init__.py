"""The render layer: the only package that imports rich. It turns result dicts into tables, JSON or CSV."""
