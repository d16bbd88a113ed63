"""The pipeline layer: pure library code. Nothing here imports typer or rich."""
