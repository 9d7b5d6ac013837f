"""Writing a finished figure: one place for every figure module."""

from __future__ import annotations

from pathlib import Path

from ..durable import atomic_path


def save_png(fig, path, dpi: int = 110) -> Path:
    """Lay out ``fig``, write it to ``path`` as PNG atomically (a temporary file renamed), and
    close it; returns the path."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)
    plt.close(fig)
    return path
