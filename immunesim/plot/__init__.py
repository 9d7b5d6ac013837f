"""Matplotlib figures of results (no numerics: they take computed tables and datasets)."""
