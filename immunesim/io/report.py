"""``report.html`` of ``immunesim trial``: one self-contained page (figures embedded, no
external file, script or style sheet) to read and share a virtual trial's validation.

It holds the arms' simulated rates beside the published ones (``trial.published``) with both
intervals and whether the published rate falls inside the simulated 95 % interval, the
measured baseline of the population (where the disease has clinical instruments), the arms
table, the figures, and the run's manifest.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

from ..durable import write_text_atomic

STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:0.9em}th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f2f2f2}td.l,th.l{text-align:left}tr.miss td{background:#fde8e8}tr.hit td{background:#e8f6e8}
img{max-width:100%;border:1px solid #ddd;margin:0.5em 0}pre{background:#f7f7f7;padding:1em;overflow-x:auto;font-size:0.8em}"""


def _pct(x) -> str:
    return "" if x is None else f"{100 * float(x):.1f}"


def _table(headers, rows, left=1, row_class=None) -> str:
    out = ["<table><tr>" + "".join(f'<th class="{"l" if i < left else ""}">{html.escape(h)}</th>'
                                   for i, h in enumerate(headers)) + "</tr>"]
    for k, row in enumerate(rows):
        cls = f' class="{row_class[k]}"' if row_class else ""
        out.append(f"<tr{cls}>" + "".join(f'<td class="{"l" if i < left else ""}">{html.escape(str(c))}</td>'
                                        for i, c in enumerate(row)) + "</tr>")
    return "\n".join(out + ["</table>"])


def render(summary: dict, manifest: dict, figures: list[Path], title: str) -> str:
    """The page's HTML."""
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
             f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>",
             f"<p>{html.escape(str(manifest.get('message', '')))}; seed {manifest.get('seed')}; "
             f"scenario hash <code>{html.escape(str(manifest.get('scenario_hash', '')))[:16]}</code>.</p>"]
    pub = summary.get("published") or []
    if pub:
        hits = sum(p["inside"] for p in pub)
        within = sum(p["within_published_ci"] for p in pub)
        parts.append(f"<h2>Simulated against published</h2><p>{hits} of {len(pub)} published rates "
                     "lie inside the simulated 95 % interval; "
                     f"{within} of {len(pub)} simulated rates lie inside the published 95 % interval "
                     "(Wilson intervals; the published ones from the trials' arm sizes).</p>")
        parts.append(_table(
            ["trial", "arm", "endpoint", "week", "published %", "published 95 % CI", "simulated %",
             "simulated 95 % CI", "inside", "sim. in published CI", "source"],
            [[p["trial"], p["arm"], p["endpoint"], f"{p['week']:g}", _pct(p["published"]),
              f"{_pct(p['published_ci_low'])}-{_pct(p['published_ci_high'])} (n={p['n_published']})",
              _pct(p["simulated"]), f"{_pct(p['ci_low'])}-{_pct(p['ci_high'])} (n={p['n']})",
              "yes" if p["inside"] else "no", "yes" if p["within_published_ci"] else "no",
              p["source"]] for p in pub],
            left=3, row_class=["hit" if p["inside"] else "miss" for p in pub]))
    base = summary.get("baseline") or {}
    if base:
        parts.append("<h2>Measured baseline</h2>")
        parts.append(_table(["instrument", "mean", "SD", "25 %", "median", "75 %"],
                            [[k, *(f"{v[s]:.3g}" for s in ("mean", "sd", "q25", "median", "q75"))]
                             for k, v in base.items()]))
    parts.append("<h2>Arms</h2>")
    parts.append(_table(["arm", "endpoint", "week", "n", "rate %", "95 % CI", "vs control %"],
                        [[r["arm"], r["endpoint"], f"{r['week']:g}", r["n"], _pct(r["rate"]),
                          f"{_pct(r['ci_low'])}-{_pct(r['ci_high'])}",
                          _pct(r.get("diff_vs_control"))] for r in summary.get("arms", [])], left=2))
    for fig in figures:
        data = base64.b64encode(Path(fig).read_bytes()).decode("ascii")
        parts.append(f"<h2>{html.escape(Path(fig).stem)}</h2><img alt='{html.escape(Path(fig).name)}' "
                     f"src='data:image/png;base64,{data}'>")
    parts.append("<h2>Manifest</h2><pre>" + html.escape(json.dumps(manifest, indent=2, default=str)) + "</pre>")
    return "\n".join(parts + ["</body></html>"])


def write_report(outdir, summary: dict, manifest: dict, figures: list[Path], title: str) -> Path:
    """Write ``outdir/report.html`` atomically; returns its path."""
    path = Path(outdir) / "report.html"
    write_text_atomic(path, render(summary, manifest, figures, title))
    return path
