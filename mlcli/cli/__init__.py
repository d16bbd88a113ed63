"""The CLI layer: the only package that imports typer. Commands import the pipeline lazily."""
