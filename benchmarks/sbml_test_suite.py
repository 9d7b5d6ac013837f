"""Conformance: every time-course case of the SBML Test Suite's semantic cases, imported with
``immunesim.load_sbml`` and run on the generic kernels (nothing compiled per model), judged by the
suite's own rule (every reported value at every time within ``absolute + relative * |expected|``).

Writes ``benchmarks/results/sbml_test_suite.json``: ``cases``, ``passed``, ``failed``,
``refused`` (counts), ``failed_cases`` and ``refused_cases`` (case -> message: why it differs,
or what was refused), ``tags`` (per component and test tag: cases, passed, failed, refused),
``wall_s`` (the whole run from an empty kernel cache, the generic kernels' one compile included),
and the machine.

Run:  python benchmarks/sbml_test_suite.py [--suite ../shared/sbml-test-suite]
      [--out benchmarks/results/sbml_test_suite.json] [--cases 00001-00100]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--suite", type=Path, default=Path(os.environ.get(
        "IMMUNESIM_SBML_TEST_SUITE", ROOT.parent / "shared" / "sbml-test-suite")))
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "sbml_test_suite.json")
    ap.add_argument("--cases", help="a range FIRST-LAST of case numbers (default: all)")
    ap.add_argument("--keep-cache", action="store_true", help="use IMMUNESIM_CACHE_DIR as it is")
    args = ap.parse_args()
    if not (args.suite / "cases.csv").is_file():
        print(f"no SBML Test Suite at {args.suite} (cases.csv missing)", file=sys.stderr)
        return 2
    if not args.keep_cache:
        os.environ["IMMUNESIM_CACHE_DIR"] = tempfile.mkdtemp(prefix="immunesim-sbml-")
    t_start = time.perf_counter()
    from immunesim.io.sbml_run import run_case

    with open(args.suite / "cases.csv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["testType"] == "TimeCourse"]
    if args.cases:
        lo, hi = args.cases.split("-")
        rows = [r for r in rows if lo <= r["case"] <= hi]
    results = {}
    for k, row in enumerate(rows, 1):
        try:
            res = run_case(args.suite / row["case"])
        except Exception as exc:        # noqa: BLE001 - a crash is a failure with its message
            res = {"status": "failed", "message": f"{type(exc).__name__}: {exc}"[:500]}
        results[row["case"]] = res
        if k % 100 == 0:
            print(f"{k}/{len(rows)} cases, {time.perf_counter() - t_start:.0f} s", file=sys.stderr)
    wall = time.perf_counter() - t_start
    counts = Counter(r["status"] for r in results.values())
    tags: dict[str, Counter] = {}
    for row in rows:
        for tag in filter(None, row["componentTags"].split(";") + row["testTags"].split(";")):
            c = tags.setdefault(tag, Counter())
            c["cases"] += 1
            c[results[row["case"]]["status"]] += 1
    out = {
        "cases": len(rows), "passed": counts["passed"], "failed": counts["failed"],
        "refused": counts["refused"],
        "failed_cases": {c: r["message"] for c, r in results.items() if r["status"] == "failed"},
        "refused_cases": {c: r["message"] for c, r in results.items() if r["status"] == "refused"},
        "tags": {t: {k: c[k] for k in ("cases", "passed", "failed", "refused")}
                 for t, c in sorted(tags.items())},
        "wall_s": round(wall, 1),
        "kernels": "generic",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(out, indent=1) + "\n")
    tmp.replace(args.out)
    print(f"{out['passed']} of {out['cases']} passed, {out['failed']} failed, {out['refused']} "
          f"refused, {wall:.0f} s -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
