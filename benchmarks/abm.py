"""Agent-based tissue benchmark: immunesim against Mesa on the same rules, in one run.

1. Minimal rules (``immunesim/kernels/tissue_minimal.py``; the same rules in Mesa below):
   effectors random-walk with chemotaxis, Treg suppression within the 3x3 neighbourhood,
   tissue damage, cytokine secretion, one diffusing, decaying field, tissue repair. 10^4
   and 10^5 agents (10 % Tregs) on 200x200. Reported: agent-steps per second of each, the
   ratio, and the agreement of the summary statistics (mean tissue health and mean cytokine
   after the same number of steps, from the same initial lattice; the random streams
   differ, so they agree statistically, not bit for bit). Mesa is idiomatic Mesa 3: agents
   on a ``MultiGrid`` stepped by ``shuffle_do``, fields as NumPy arrays updated vectorised
   (the fastest way Mesa offers; its ``PropertyLayer`` is the same NumPy array).
2. The full rule set (``immunesim.tissue``) at ~10^6 agents on 2000x2000: ms per step after
   warm-up, and the peak memory of that process (resident set, from ``getrusage``), in a
   subprocess so nothing else counts.
3. Diffusion on 4000x4000 (float64): cell-updates per second of the LOD backward-Euler step
   the model uses (two sweeps, each reading and writing the field: 32 bytes per update) and
   of the explicit stencil (one pass, 16 bytes per update), next to the machine's memory
   bandwidth measured here (a STREAM-like copy and triad in Numba over 400 MB arrays) in
   the same moments: rounds of bandwidth then diffusion, medians of the per-round fractions.

Run:  python benchmarks/abm.py [--out benchmarks/results/abm.json] [--quick]
Needs the bench extra (``pip install -e .[bench]``) for Mesa.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHAPE = (200, 200)
CHI, K_DMG, Q, K_REP, R_DIFF, K_DECAY = 2.0, 0.01, 1.0, 0.002, 0.2, 0.05


def initial(n, seed=1):
    rng = np.random.default_rng(seed)
    ny, nx = SHAPE
    y = rng.integers(0, ny, n).astype(np.int32)
    x = rng.integers(0, nx, n).astype(np.int32)
    is_treg = rng.random(n) < 0.1
    return x, y, is_treg


# -- immunesim ----------------------------------------------------------------------
def run_immunesim(n, steps, seed=1):
    from immunesim.kernels import tissue_minimal as M
    from immunesim.kernels.tissue_fields import explicit_step

    x, y, is_treg = initial(n, seed)
    health = np.ones(SHAPE)
    field = np.zeros(SHAPE)
    tmp = np.empty_like(field)
    grid = np.zeros(SHAPE, dtype=np.int32)
    nb = np.zeros(SHAPE, dtype=np.int32)

    def step(s):
        nonlocal field, tmp
        M.move(x, y, is_treg, n, field, CHI, seed, s)
        M.count_tregs(x, y, is_treg, n, grid)
        M.box3(grid, nb)
        M.act(x, y, is_treg, n, nb, health, field, K_DMG, Q)
        explicit_step(field, tmp, R_DIFF, K_DECAY)
        field, tmp = tmp, field
        M.repair(health, K_REP)

    step(0)                                   # compile (cached) and warm
    x[:], y[:], is_treg[:] = initial(n, seed)
    health[:] = 1.0
    field[:] = 0.0
    t0 = time.perf_counter()
    for s in range(steps):
        step(s)
    wall = time.perf_counter() - t0
    return wall, float(health.mean()), float(field.mean())


# -- Mesa -------------------------------------------------------------------------------
def mesa_model(n, seed=1):
    """The minimal rules as a Mesa model, agents placed as :func:`initial`."""
    import mesa

    class Cell(mesa.Agent):
        def __init__(self, model, treg):
            super().__init__(model)
            self.treg = treg

        def move(self):
            m = self.model
            x, y = self.pos
            F = m.field
            here = F[y, x]
            nbrs = m.grid.get_neighborhood((x, y), moore=False, include_center=False)
            if self.treg:
                w = [1.0] * len(nbrs)
            else:
                w = [1.0 + CHI * max(0.0, F[ny_, nx_] - here) for nx_, ny_ in nbrs]
            m.grid.move_agent(self, m.random.choices(nbrs, weights=w)[0])

        def act(self):
            if self.treg:
                return
            m = self.model
            around = m.grid.get_neighbors(self.pos, moore=True, include_center=True, radius=1)
            if any(a.treg for a in around):
                return
            dx, dy = self.pos
            m.health[dy, dx] = max(0.0, m.health[dy, dx] - K_DMG)
            m.field[dy, dx] += Q

    class Tissue(mesa.Model):
        def __init__(self, n, seed):
            super().__init__(seed=seed)
            ny, nx = SHAPE
            self.grid = mesa.space.MultiGrid(nx, ny, torus=False)
            self.health = np.ones(SHAPE)
            self.field = np.zeros(SHAPE)
            x, y, is_treg = initial(n, seed)
            for i in range(n):
                a = Cell(self, bool(is_treg[i]))
                self.grid.place_agent(a, (int(x[i]), int(y[i])))

        def step(self):
            # two stages, as the immunesim kernels: everyone moves on the step's field, then acts
            self.agents.shuffle_do("move")
            self.agents.do("act")
            F = self.field
            P = np.pad(F, 1, mode="edge")          # reflecting edges, as immunesim
            lap = P[:-2, 1:-1] + P[2:, 1:-1] + P[1:-1, :-2] + P[1:-1, 2:] - 4 * F
            self.field = F + R_DIFF * lap - K_DECAY * F
            self.health += K_REP * (1.0 - self.health)

    return Tissue(n, seed)


def run_mesa(n, steps, seed=1):
    m = mesa_model(n, seed)
    t0 = time.perf_counter()
    for _ in range(steps):
        m.step()
    wall = time.perf_counter() - t0
    return wall, float(m.health.mean()), float(m.field.mean())


# -- full rules at 10^6 agents ----------------------------------------------------------
def full_rules_child(shape, agents, steps):
    """Runs in a subprocess: prints JSON with ms/step and peak RSS."""
    from immunesim.tissue import Tissue, TissueConfig
    from immunesim.tissue.params import DEFAULT_DENSITY

    base = sum(DEFAULT_DENSITY.values())
    k = agents / (shape[0] * shape[1]) / base
    cfg = TissueConfig(shape=tuple(shape), seed=1, focus=shape[0] / 10,
                       density={kk: v * k for kk, v in DEFAULT_DENSITY.items()})
    t = Tissue(cfg)
    t.step()                                   # compile/warm
    t0 = time.perf_counter()
    for _ in range(steps):
        t.step()
    ms = (time.perf_counter() - t0) / steps * 1e3
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"ms_per_step": ms, "peak_mb": peak_mb, "agents": int(t.n)}))


def full_rules(shape, agents, steps):
    code = (f"import sys; sys.path.insert(0, {str(ROOT / 'benchmarks')!r}); import abm; "
            f"abm.full_rules_child({list(shape)}, {agents}, {steps})")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- diffusion and memory bandwidth ---------------------------------------------------
def diffusion_against_bandwidth(n=4000, rounds=9):
    """Diffusion on an n x n float64 field next to the memory bandwidth, measured in pairs.

    The bandwidth of this shared machine moves by up to 2x within a minute (other tenants),
    so each round times a STREAM-like copy and triad in Numba over 400 MB arrays, then one LOD
    step and one explicit step right after; each round's fractions of the bound use that
    round's bandwidth, and the medians over rounds are reported."""
    from numba import njit, prange

    from immunesim.kernels.tissue_fields import diffuse, explicit_step, thomas_factors

    @njit(parallel=True)
    def copy(a, b):
        for i in prange(a.size):
            a[i] = b[i]

    @njit(parallel=True)
    def triad(a, b, c, s):
        for i in prange(a.size):
            a[i] = b[i] + s * c[i]

    m = 50_000_000
    a, b, c = np.zeros(m), np.ones(m), np.ones(m)
    u = np.random.default_rng(0).random((n, n))
    out = np.empty_like(u)
    f = thomas_factors(n, 5.0)
    copy(a, b)
    triad(a, b, c, 2.0)
    diffuse(u, 5.0, f, f)
    explicit_step(u, out, 0.2, 0.01)
    rows = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        copy(a, b)
        bw_copy = 16 * m / (time.perf_counter() - t0) / 1e9
        t0 = time.perf_counter()
        triad(a, b, c, 2.0)
        bw = max(bw_copy, 24 * m / (time.perf_counter() - t0) / 1e9)
        t0 = time.perf_counter()
        diffuse(u, 5.0, f, f)
        lod = n * n / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        explicit_step(u, out, 0.2, 0.01)
        exp = n * n / (time.perf_counter() - t0)
        rows.append((bw, lod, exp, lod / (bw * 1e9 / 32), exp / (bw * 1e9 / 16)))
    med = np.median(np.array(rows), axis=0)
    return {"memory_bandwidth_gb_per_s": float(med[0]), "lod_cell_updates_per_s": float(med[1]),
            "explicit_cell_updates_per_s": float(med[2]),
            "lod_fraction_of_bound": float(med[3]), "explicit_fraction_of_bound": float(med[4]),
            "rounds": rounds, "bandwidth_range_gb_per_s": [float(min(r[0] for r in rows)),
                                                           float(max(r[0] for r in rows))]}


def main(argv=None):
    from immunesim.durable import write_text_atomic  # here, as the other immunesim imports of this file

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "abm.json"))
    ap.add_argument("--quick", action="store_true", help="fewer steps, smaller full-rules lattice")
    args = ap.parse_args(argv)
    import numba

    res = {"machine": {"cpus": os.cpu_count(), "numba_threads": numba.get_num_threads(),
                       "python": platform.python_version(), "platform": platform.platform()}}
    rows = []
    for n, mesa_steps, ims_steps in ((10_000, 10, 200), (100_000, 3, 100)):
        if args.quick:
            mesa_steps, ims_steps = 2, 20
        wi, hi, ci = run_immunesim(n, ims_steps)
        wm, hm, cm = run_mesa(n, mesa_steps)
        # the statistics after the same number of steps
        _, hi_same, ci_same = run_immunesim(n, mesa_steps)
        row = {"agents": n, "immunesim_agent_steps_per_s": n * ims_steps / wi,
               "mesa_agent_steps_per_s": n * mesa_steps / wm,
               "steps_compared": mesa_steps,
               "immunesim_health_mean": hi_same, "mesa_health_mean": hm,
               "immunesim_cytokine_mean": ci_same, "mesa_cytokine_mean": cm}
        row["ratio_vs_mesa"] = row["immunesim_agent_steps_per_s"] / row["mesa_agent_steps_per_s"]
        row["health_rel_diff"] = abs(hi_same - hm) / hm
        row["cytokine_rel_diff"] = abs(ci_same - cm) / cm
        rows.append(row)
        print(f"{n:>7} agents: immunesim {row['immunesim_agent_steps_per_s']:.3g} agent-steps/s, "
              f"Mesa {row['mesa_agent_steps_per_s']:.3g}, ratio {row['ratio_vs_mesa']:.0f}x; "
              f"health {hi_same:.5f} vs {hm:.5f}, cytokine {ci_same:.5f} vs {cm:.5f}", flush=True)
    res["minimal_rules"] = rows
    big = rows[-1]
    res["mesa_agent_steps_per_s"] = big["mesa_agent_steps_per_s"]
    res["immunesim_agent_steps_per_s"] = big["immunesim_agent_steps_per_s"]
    res["ratio_vs_mesa"] = big["ratio_vs_mesa"]
    shape, agents, steps = ((1000, 1000), 250_000, 5) if args.quick else ((2000, 2000), 1_000_000, 20)
    fr = full_rules(shape, agents, steps)
    res["full_rules"] = {"shape": list(shape), **fr}
    res["full_rules_1e6_ms_per_step"] = fr["ms_per_step"]
    res["full_rules_1e6_peak_mb"] = fr["peak_mb"]
    print(f"full rules: {fr['agents']} agents on {shape[0]}x{shape[1]}: {fr['ms_per_step']:.1f} ms/step, "
          f"peak {fr['peak_mb']:.0f} MB", flush=True)
    dif = diffusion_against_bandwidth(2000 if args.quick else 4000)
    res["memory_bandwidth_gb_per_s"] = dif["memory_bandwidth_gb_per_s"]
    res["diffusion_cell_updates_per_s"] = dif["lod_cell_updates_per_s"]
    res["diffusion"] = {
        **dif, "lod_bytes_per_update": 32, "explicit_bytes_per_update": 16,
        "lod_bound_cell_updates_per_s": dif["memory_bandwidth_gb_per_s"] * 1e9 / 32,
        "explicit_bound_cell_updates_per_s": dif["memory_bandwidth_gb_per_s"] * 1e9 / 16,
        "lod_within_x_of_bound": 1.0 / dif["lod_fraction_of_bound"]}
    d = res["diffusion"]
    print(f"memory bandwidth {res['memory_bandwidth_gb_per_s']:.1f} GB/s (median; "
          f"{d['bandwidth_range_gb_per_s'][0]:.0f}-{d['bandwidth_range_gb_per_s'][1]:.0f} over "
          f"the rounds); diffusion LOD {d['lod_cell_updates_per_s']:.3g} cell-updates/s "
          f"({d['lod_fraction_of_bound']:.2f} of its bound, within "
          f"{d['lod_within_x_of_bound']:.2f}x), explicit {d['explicit_cell_updates_per_s']:.3g} "
          f"({d['explicit_fraction_of_bound']:.2f} of its bound)", flush=True)
    res["targets"] = {"ratio_vs_mesa_at_1e5": 300, "full_rules_1e6_ms_per_step": 100,
                      "full_rules_1e6_peak_mb": 2048, "diffusion_within_x_of_bound": 1.5}
    write_text_atomic(args.out, json.dumps(res, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
