"""Registries of components. Importing this package imports no ML library."""
