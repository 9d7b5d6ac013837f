"""The tissue state (lattice, fields, agents as a struct of arrays) and its step.

A :class:`Tissue` owns its arrays and advances them with the kernels of
``immunesim.kernels.tissue_agents`` and ``tissue_fields``; it knows nothing of scenario
files. Influx (new cells from the blood) is drawn here with NumPy's generator keyed on
``(seed, step)``, so it too is independent of threads.
"""

from __future__ import annotations

import numba
import numpy as np

from ..kernels import tissue_agents as K
from ..kernels.tissue_fields import diffuse, thomas_factors
from . import params as P
from .config import TissueConfig

#: the ODE model's drug hooks the tissue reads (names as in :mod:`immunesim.drugs.couple`), each
#: with its value when untreated: the one list of them (the hybrid reads these from the ODE side)
DRUG_HOOKS = {"neut_TNF": 0.0, "kill_B": 0.0, "jak_gc": 1.0, "jak_treg": 1.0, "inh_JAK1": 0.0,
              "inh_JAK2": 0.0, "supp_cytokine": 0.0}


#: the agents' struct of arrays (``Tissue.x`` ...), each with a spare of the same size that
#: :func:`immunesim.kernels.tissue_agents.compact` writes the next step's agents into
AGENT_ARRAYS = (("x", np.int32), ("y", np.int32), ("kind", np.int8), ("state", np.int8),
                ("age", np.float64), ("uid", np.int64))


def drug_vector(values: dict | None = None) -> np.ndarray:
    """The kernels' drug vector (``tissue_agents.D_*``) from :data:`DRUG_HOOKS` values (a missing
    hook: untreated). JAK1 and JAK2 inhibition combine into one JAK1/2 signalling factor."""
    v = {**DRUG_HOOKS, **{h: values[h] for h in DRUG_HOOKS if h in (values or {})}}
    d = np.empty(K.N_DRUG)
    d[K.D_NEUT_TNF] = v["neut_TNF"]
    d[K.D_KILL_B] = v["kill_B"]
    d[K.D_JAK_GC] = v["jak_gc"]                  # signalling factors: 1 = uninhibited
    d[K.D_JAK_12] = (1.0 - v["inh_JAK1"]) * (1.0 - v["inh_JAK2"])
    d[K.D_SUPP] = v["supp_cytokine"]
    d[K.D_JAK_TREG] = v["jak_treg"]              # Tregs' IL-2 signalling: less JAK-sensitive
    return d


def no_drug() -> np.ndarray:
    """The drug vector of an untreated tissue."""
    return drug_vector()


class Tissue:
    """A tissue patch. ``step()`` advances one ``dt``; :meth:`summary` gives the readouts."""

    def __init__(self, config: TissueConfig | None = None):
        c = self.config = config or TissueConfig()
        ny, nx = c.shape
        self.dt = c.dt_day
        self.rates = P.rate_vector(c.rates)
        self.secretion = P.secretion_entries(c.dx_um)
        self.tissue_src = P.tissue_sources(c.dx_um)
        self.decay = np.array([P.DECAY[f] for f in P.FIELDS])
        self._decay_factor = np.exp(-self.decay * self.dt)   # applied by diffuse (sites_step)
        D = {**P.DIFFUSION, **c.diffusion}
        self.r = np.array([D[f] * 86400.0 * self.dt / c.dx_um ** 2 for f in P.FIELDS])
        self._fx = [thomas_factors(nx, r) for r in self.r]
        self._fy = [thomas_factors(ny, r) for r in self.r]
        self.hops, self.chi = P.motility(c.dx_um, c.speeds)
        self.step_index = 0
        self.time = 0.0
        self.fields = np.zeros((K.N_FIELDS, ny, nx))
        self.tstate = np.zeros((ny, nx), dtype=np.int8)
        self.health = np.ones((ny, nx))
        self.ab = np.zeros((ny, nx))
        self.counts = np.zeros((K.N_CLASSES, ny, nx), dtype=np.uint16)   # < 65536 agents per site
        self.ch = np.zeros((K.N_NB, ny, nx), dtype=np.int32)
        self.nb = np.zeros((K.N_NB, ny, nx), dtype=np.int32)
        # row sums, a ring of three per band of rows (one band per thread)
        self._nb_rows = np.zeros((numba.config.NUMBA_NUM_THREADS, 3, K.N_NB, nx), dtype=np.int32)
        self._rows = np.zeros((ny, 4))
        self._bucket_start = np.zeros(ny * ((nx + K.BUCKET - 1) // K.BUCKET), dtype=np.int64)
        self._band_start = np.zeros(numba.config.NUMBA_NUM_THREADS, dtype=np.int64)
        self.released = 0.0        # dead tissue cells (antigen released) in the last step
        self.damage_rate = 0.0     # mean damage rate per site (1/day) in the last step
        self.tnf_damage_rate = 0.0
        rng = np.random.default_rng([c.seed, 0x7155])
        if c.focus > 0:
            yy, xx = np.mgrid[0:ny, 0:nx]
            inside = (yy - (ny - 1) / 2) ** 2 + (xx - (nx - 1) / 2) ** 2 <= c.focus ** 2
            self.health[inside] = c.focus_health
            self.tstate[inside] = K.DAMAGED if c.focus_health < self.rates[K.R.h_damaged] else K.HEALTHY
        n_vessel = max(1, int(round(c.vessel_fraction * ny * nx)))
        self.vessels = rng.choice(ny * nx, size=n_vessel, replace=False)
        n0 = [int(rng.poisson(c.density.get(k, 0.0) * ny * nx)) for k in P.KINDS]
        n = sum(n0)
        self._alloc(max(1024, 2 * n))
        kinds = np.repeat(np.arange(K.N_KINDS, dtype=np.int8), n0)
        self.kind[:n] = kinds
        self.state[:n] = K.REST
        site = rng.integers(0, ny * nx, size=n)
        self.y[:n], self.x[:n] = np.divmod(site, nx)
        self.age[:n] = 0.0
        self.uid[:n] = np.arange(n)
        self.n = n
        self.next_uid = n
        self.fate = np.zeros(self.capacity, dtype=np.int8)

    # -- storage -----------------------------------------------------------------
    def _alloc(self, cap: int):
        self.capacity = cap
        self._spare = {}
        for name, dtype in AGENT_ARRAYS:
            setattr(self, name, np.zeros(cap, dtype=dtype))
            self._spare[name] = np.zeros(cap, dtype=dtype)

    def _grow(self, need: int):
        if need <= self.capacity:
            return
        cap = max(need, int(1.5 * self.capacity))
        for name, dtype in AGENT_ARRAYS:
            new = np.zeros(cap, dtype=dtype)
            new[:self.n] = getattr(self, name)[:self.n]
            setattr(self, name, new)
            self._spare[name] = np.zeros(cap, dtype=dtype)
        self.fate = np.zeros(cap, dtype=np.int8)
        self.capacity = cap

    # -- one step ------------------------------------------------------------------
    def step(self, drug: np.ndarray | None = None, ab_sys: float = 0.0,
             influx_scale: np.ndarray | None = None):
        """Advance one ``dt``. ``drug``: a :func:`drug_vector` (default :func:`no_drug`);
        ``ab_sys``: systemic autoantibody (ODE units); ``influx_scale``: per kind, multiplies
        the configured influx (the hybrid model's systemic supply)."""
        c = self.config
        drug = no_drug() if drug is None else drug
        seed, s, dt = c.seed, self.step_index, self.dt
        K.deposit(self.x, self.y, self.kind, self.state, self.n, self.counts, self.ch)
        K.neighbourhood(self.ch, self.nb, self._nb_rows)
        K.sites_step(self.counts, self.ch[K.NB_ALL], self.nb, self.fields, self.tstate, self.health, self.ab,
                     *self.secretion, self.tissue_src, self.decay, self.rates, drug,
                     float(ab_sys), dt, seed, s, self._rows)
        ny, nx = c.shape
        tot = self._rows.sum(axis=0)
        self.released = float(tot[0])
        self.damage_rate = float(tot[1]) / (ny * nx)
        self.tnf_damage_rate = float(tot[3]) / (ny * nx)
        for f in range(K.N_FIELDS):
            diffuse(self.fields[f], self.r[f], self._fx[f], self._fy[f], self._decay_factor[f])
        K.agents_step(self.x, self.y, self.kind, self.state, self.age, self.uid, self.n,
                      self.fields, self.nb, self.tstate, self.health, self.hops, self.chi,
                      self.rates, drug, dt, seed, s, self.fate)
        n_div = int(np.count_nonzero(self.fate[:self.n] == 2))
        self._grow(self.n + n_div)
        sp = self._spare
        self.n, self.next_uid = K.compact(self.x, self.y, self.kind, self.state, self.age,
                                          self.uid, self.n, self.fate, self.next_uid, nx,
                                          self._bucket_start, self._band_start, sp["x"],
                                          sp["y"], sp["kind"], sp["state"], sp["age"], sp["uid"])
        for name, _ in AGENT_ARRAYS:   # the ordered survivors become the agents
            current = getattr(self, name)
            setattr(self, name, sp[name])
            sp[name] = current
        self._influx(influx_scale)
        self.step_index += 1
        self.time = self.step_index * dt

    def _influx(self, scale):
        c = self.config
        ny, nx = c.shape
        rng = np.random.default_rng([c.seed, self.step_index, 0x1F])
        chem = float(K.field_mean(self.fields[K.F_CHEM]))
        recruit = 1.0 + c.recruit_max * chem / (chem + self.rates[K.R.K_chem])
        lam = np.array([c.influx.get(k, 0.0) for k in P.KINDS]) * ny * nx / 1000.0 * self.dt * recruit
        if scale is not None:
            lam = lam * np.asarray(scale, dtype=float)
        new = rng.poisson(lam)
        m = int(new.sum())
        if m == 0:
            return
        self._grow(self.n + m)
        a, b = self.n, self.n + m
        self.kind[a:b] = np.repeat(np.arange(K.N_KINDS, dtype=np.int8), new)
        self.state[a:b] = K.REST
        site = self.vessels[rng.integers(0, self.vessels.size, size=m)]
        self.y[a:b], self.x[a:b] = np.divmod(site, nx)
        self.age[a:b] = 0.0
        self.uid[a:b] = np.arange(self.next_uid, self.next_uid + m)
        self.n, self.next_uid = b, self.next_uid + m

    # -- readouts ---------------------------------------------------------------------
    def class_counts(self) -> np.ndarray:
        """Agents per class (``3*kind + state``), counted now."""
        cls = 3 * self.kind[:self.n].astype(np.int64) + self.state[:self.n]
        return np.bincount(cls, minlength=K.N_CLASSES)

    def summary(self, drug: np.ndarray | None = None) -> dict:
        """Readouts now: cells per kind and activation state, tissue state shares and mean
        health, field means (TNF as free TNF under ``drug``), damage rate."""
        drug = no_drug() if drug is None else drug
        cc = self.class_counts()
        out = {}
        for ki, k in enumerate(P.KINDS):
            out[k] = float(cc[3 * ki:3 * ki + 3].sum())
        for ki, k in enumerate(P.KINDS):
            if k in ("Plasma",):
                continue
            out[f"{k}_active"] = float(cc[3 * ki + K.ACTIVE])
        out["Th_exhausted"] = float(cc[3 * K.TH1 + K.EXHAUSTED] + cc[3 * K.TH17 + K.EXHAUSTED])
        sites = self.tstate.size
        out["health_mean"] = float(self.health.mean())
        out["damaged_fraction"] = float(np.count_nonzero(self.tstate == K.DAMAGED)) / sites
        out["dead_fraction"] = float(np.count_nonzero(self.tstate == K.DEAD)) / sites
        out["regenerating_fraction"] = float(np.count_nonzero(self.tstate == K.REGENERATING)) / sites
        means = K.field_means(self.fields)
        for f, name in enumerate(P.FIELDS):
            out[f"{name}_mean"] = float(means[f]) * ((1.0 - drug[K.D_NEUT_TNF]) if f == K.F_TNF else 1.0)
        out["immune_complex_mean"] = float(self.ab.mean())
        out["damage_rate"] = self.damage_rate
        out["antigen_release"] = self.released / self.dt
        return out

    def dominant_kind(self) -> np.ndarray:
        """Per site, the kind with most agents there (-1 where none): for pictures."""
        ny, nx = self.config.shape
        per_kind = self.counts.reshape(K.N_KINDS, 3, ny, nx).sum(axis=1)
        dom = per_kind.argmax(axis=0).astype(np.int8)
        dom[per_kind.max(axis=0) == 0] = -1
        return dom
