"""Tissue figures (written atomically): the readouts over time (``tissue_cells.png``), and the
lattice pictures, PNG snapshots and an animated GIF of a tissue run.

Left: the tissue (healthy, damaged, dead, regenerating) with the most numerous immune kind
on each occupied site coloured over it. Right: one cytokine field as a heat map (log scale).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..durable import atomic_path
from ..tissue import params as P
from .png import save_png

TISSUE_COLOURS = ["#f3ead8", "#e6a04a", "#2b2b2b", "#9fd39b"]     # healthy damaged dead regenerating
KIND_COLOURS = ["#d62728", "#ff7f0e", "#1f77b4", "#9467bd", "#8c564b", "#2ca02c", "#e377c2"]


def _rgb(state, cells):
    from matplotlib.colors import to_rgb

    tc = np.array([to_rgb(c) for c in TISSUE_COLOURS])
    kc = np.array([to_rgb(c) for c in KIND_COLOURS])
    img = tc[np.clip(state, 0, 3)]
    occ = cells >= 0
    img[occ] = kc[cells[occ]]
    return img


def _figure(ds, k, title, vmax):
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm
    from matplotlib.patches import Patch

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4.6))
    a1.imshow(_rgb(ds["lattice_state"].values[k], ds["lattice_cells"].values[k]),
              interpolation="nearest", origin="lower")
    a1.set_title("tissue and immune cells", fontsize=9)
    handles = [Patch(color=c, label=n) for c, n in zip(TISSUE_COLOURS, ("healthy", "damaged", "dead", "regenerating"))]
    handles += [Patch(color=c, label=n) for c, n in zip(KIND_COLOURS, P.KINDS)]
    a1.legend(handles=handles, fontsize=6, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    f = ds["lattice_field"].values[k].astype(float)
    im = a2.imshow(np.maximum(f, vmax * 1e-4), norm=LogNorm(vmin=vmax * 1e-4, vmax=vmax),
                   cmap="magma", origin="lower")
    a2.set_title(f"{ds['lattice_field'].attrs.get('field', 'field')} (pg/mL)", fontsize=9)
    fig.colorbar(im, ax=a2, fraction=0.046)
    for ax in (a1, a2):
        ax.set_xticks([])
        ax.set_yticks([])
    t = float(ds["snapshot"].values[k])
    fig.suptitle(f"{title}  day {t:.1f}", fontsize=10)
    fig.tight_layout()
    return fig


def write_pictures(ds, outdir, title: str = "", animation: str = "gif") -> list[Path]:
    """``tissue_day<N>.png`` per snapshot and ``tissue.gif`` (``animation="gif"``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    outdir = Path(outdir)
    written = []
    if "lattice_state" not in ds:
        return written
    n = ds.sizes["snapshot"]
    frames = []
    vmax = max(float(ds["lattice_field"].values.max()), 1e-3)    # one colour scale for all
    for k in range(n):
        fig = _figure(ds, k, title, vmax)
        path = outdir / f"tissue_day{float(ds['snapshot'].values[k]):07.2f}.png"
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", dpi=90)
        written.append(path)
        if animation == "gif":
            fig.canvas.draw()
            frames.append(np.asarray(fig.canvas.buffer_rgba())[..., :3].copy())
        plt.close(fig)
    if animation == "gif" and frames:
        from PIL import Image

        path = outdir / "tissue.gif"
        imgs = [Image.fromarray(f) for f in frames]
        with atomic_path(path) as tmp:
            imgs[0].save(tmp, format="GIF", save_all=True, append_images=imgs[1:], duration=500, loop=0)
        written.append(path)
    return written


def write_tissue_series(result, names, outdir, title) -> Path:
    """``tissue_cells.png``: cell counts, tissue state and field means of ``names`` over time."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = result.time
    panels = [("cells", [n for n in names if n.split("tissue_")[-1] in
                         ("Th1", "Th17", "Treg", "B", "Plasma", "Mac", "DC", "Th1_active", "Th17_active")], "log"),
              ("tissue (fraction of sites)", [n for n in names if n.split("tissue_")[-1] in
                                              ("health_mean", "damaged_fraction", "dead_fraction", "regenerating_fraction")], "linear"),
              ("field means (pg/mL)", [n for n in names if n.endswith("_mean") and n.split("tissue_")[-1][:-5]
                                       in ("TNF", "IL6", "IL2", "IL10", "IFNg", "IL17", "CHEM")], "log")]
    fig, axes = plt.subplots(3, 1, figsize=(7, 7.5), sharex=True)
    for ax, (label, vs, scale) in zip(axes, panels):
        for v in vs:
            y = np.asarray(result[v].values, dtype=float)
            ax.plot(t, np.maximum(y, 1e-3) if scale == "log" else y, label=v.replace("tissue_", ""))
        ax.set_yscale(scale)
        ax.set_ylabel(label, fontsize=8)
        ax.legend(fontsize=6, ncol=3)
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel("time (days)")
    fig.suptitle(f"{title}: tissue", fontsize=10)
    return save_png(fig, Path(outdir) / "tissue_cells.png", dpi=100)
