"""Agent and lattice-site rules of the tissue model (every hot loop of the agent-based core).

Agents are a struct of arrays: ``x, y`` (site), ``kind``, ``state``, ``age`` (day), ``uid``.
One step, in this order (operator splitting; each stage reads what the previous wrote):

1. :func:`deposit`: count agents per site and class (``class = 3*kind + state``) and per
   site channel (APCs, active Tregs, active effectors, all agents);
2. :func:`neighbourhood`: 3x3 sums of those channels (the contact neighbourhood of every
   site);
3. :func:`sites_step`: tissue damage, repair and clearance, autoantibody deposition, and the
   cytokine reactions (secretion by the counted cells, decay, receptor uptake; implicit in
   the loss terms, so concentrations stay non-negative);
4. diffusion (``tissue_fields``);
5. :func:`agents_step`: every agent's fate (activation, suppression, exhaustion, division,
   differentiation, death) from its site's counts and fields, then its moves (random
   motility biased up the chemokine gradient);
6. :func:`compact`: dead agents removed, daughters appended with new uids.

Every stage but 1 and 6 runs in parallel (Numba ``prange``) and writes only its own agent
or site, and every random draw comes from ``tissue_rng.uniform(seed, step, uid, k)``, so
results do not depend on the number of threads. Rates are per day, lengths in lattice
sites, concentrations in pg/mL; ``immunesim.tissue.params`` converts from the documented
units and holds every value's source.
"""

import math

import numpy as np
from numba import njit, prange

from .tissue_rng import SITE_STREAM, happens, uniform

# -- agent kinds and states ---------------------------------------------------
TH1, TH17, TREG, BCELL, PLASMA, MAC, DC = 0, 1, 2, 3, 4, 5, 6
N_KINDS = 7
REST, ACTIVE, EXHAUSTED = 0, 1, 2
N_CLASSES = 3 * N_KINDS
# -- fields ------------------------------------------------------------------
F_TNF, F_IL6, F_IL2, F_IL10, F_IFNG, F_IL17, F_CHEM = 0, 1, 2, 3, 4, 5, 6
N_FIELDS = 7
# -- tissue states -----------------------------------------------------------
HEALTHY, DAMAGED, DEAD, REGENERATING = 0, 1, 2, 3
# -- neighbourhood channels ---------------------------------------------------
NB_APC, NB_TREG, NB_EFF, NB_ALL = 0, 1, 2, 3
N_NB = 4
# -- drug vector (systemic hooks, as in the ODE model) ---------------------------
D_NEUT_TNF, D_KILL_B, D_JAK_GC, D_JAK_12, D_SUPP = 0, 1, 2, 3, 4
N_DRUG = 5

# -- rate vector layout (see immunesim.tissue.params.RATE_NAMES, same order) ----
(R_TH_ACT, R_TH_DEACT, R_TH_PROLIF, R_TH_EXH, R_TH_DEATH, R_EXH_DEATH,
 R_TREG_ACT, R_TREG_DEACT, R_TREG_PROLIF, R_TREG_DEATH,
 R_B_ACT, R_B_PROLIF, R_B_TO_PC, R_B_DEATH, R_PC_DEATH,
 R_MAC_ACT, R_MAC_DEACT, R_MAC_DEATH, R_DC_LIC, R_DC_EMIG, R_DC_DEATH,
 R_K_SUP, R_K_IL2, R_K_IL2_TREG, R_K_IL10, R_K_IFN, R_K_TNF, R_K_IL6, R_K_CHEM,
 R_CONTACT, R_TNF_DMG, R_K_TNF_DMG, R_AB_DMG, R_K_AB, R_REPAIR, R_CLEAR, R_REGEN,
 R_H_DAMAGED, R_AB_SYS, R_AB_PC, R_AB_CLEAR, R_UPT_TREG, R_UPT_EFF, R_K_IL17, R_CAPACITY) = range(45)
N_RATES = 45


@njit(cache=True)
def deposit(x, y, kind, state, n, counts, ch):
    """``counts[class, y, x]``: agents of each class on each site; ``ch[channel, y, x]``: per
    site, APCs (licensed DCs, activated B cells), active Tregs, active effectors, all agents
    (serial: a histogram)."""
    counts[:] = 0
    ch[:] = 0
    for a in range(n):
        k = kind[a]
        s = state[a]
        i = y[a]
        j = x[a]
        counts[3 * k + s, i, j] += 1
        ch[NB_ALL, i, j] += 1
        if s == ACTIVE:
            if k == DC or k == BCELL:
                ch[NB_APC, i, j] += 1
            elif k == TREG:
                ch[NB_TREG, i, j] += 1
            elif k == TH1 or k == TH17:
                ch[NB_EFF, i, j] += 1


@njit(cache=True, parallel=True)
def neighbourhood(ch, nb, tmp):
    """``nb``: 3x3 sums of the per-site channels ``ch`` (sites outside the lattice count as
    empty), separable: along rows into ``nb``, then along columns into ``tmp`` (same shape as
    ``nb``, reused between steps), copied back."""
    _, ny, nx = ch.shape
    for i in prange(ny):
        for k in range(N_NB):
            row = ch[k, i]
            out = nb[k, i]
            out[0] = row[0] + (row[1] if nx > 1 else 0)
            for j in range(1, nx - 1):
                out[j] = row[j - 1] + row[j] + row[j + 1]
            if nx > 1:
                out[nx - 1] = row[nx - 2] + row[nx - 1]
    for i in prange(ny):
        for k in range(N_NB):
            out = tmp[k, i]
            mid = nb[k, i]
            for j in range(nx):
                out[j] = mid[j]
            if i > 0:
                up = nb[k, i - 1]
                for j in range(nx):
                    out[j] += up[j]
            if i < ny - 1:
                dn = nb[k, i + 1]
                for j in range(nx):
                    out[j] += dn[j]
    for i in prange(ny):
        for k in range(N_NB):
            nb[k, i] = tmp[k, i]


@njit(cache=True, inline="always")
def sat(c, K):
    return c / (c + K) if c > 0.0 else 0.0


@njit(cache=True, parallel=True)
def sites_step(counts, occ, nb, fields, tstate, health, ab, sec_class, sec_field, sec_q, tissue_src,
               decay, rates, drug, ab_sys, dt, seed, step, out):
    """Tissue and cytokine reactions of every site over ``dt``.

    ``occ``: agents per site (``ch[NB_ALL]`` of :func:`deposit`). Secretion entry ``e``: a cell of class ``sec_class[e]`` on the site adds ``sec_q[e]``
    pg/mL/day to field ``sec_field[e]``; ``tissue_src[field]``
    (pg/mL/day per damaged or dead site, times ``1 + IL17/K_IL17``), ``decay[field]`` (1/day).
    ``out[row, 0..3]`` returns per-row sums: cells that died this step (antigen released),
    damage rate, dead sites cleared, and the TNF-driven share of the damage rate.
    """
    _, ny, nx = counts.shape
    free_tnf = 1.0 - drug[D_NEUT_TNF]
    supp = 1.0 - drug[D_SUPP]
    e_decay = np.empty(N_FIELDS)
    g_decay = np.empty(N_FIELDS)
    for f in range(N_FIELDS):
        e_decay[f] = math.exp(-decay[f] * dt)
        g_decay[f] = dt if decay[f] * dt < 1e-12 else (1.0 - e_decay[f]) / decay[f]
    for i in prange(ny):
        died = 0.0
        dmg_sum = 0.0
        cleared = 0.0
        tnf_sum = 0.0
        srcs = np.empty(N_FIELDS)
        for j in range(nx):
            # -- damage: effector contact (suppressed by Tregs around), TNF, immune complexes
            n_eff = counts[3 * TH1 + ACTIVE, i, j] + counts[3 * TH17 + ACTIVE, i, j]
            s_treg = 1.0 / (1.0 + nb[NB_TREG, i, j] / rates[R_K_SUP])
            s_il10 = 1.0 / (1.0 + fields[F_IL10, i, j] / rates[R_K_IL10])
            tnf = free_tnf * fields[F_TNF, i, j]
            d_tnf = rates[R_TNF_DMG] * sat(tnf, rates[R_K_TNF_DMG])
            dmg = (rates[R_CONTACT] * n_eff * s_treg * s_il10 + d_tnf
                   + rates[R_AB_DMG] * sat(ab[i, j], rates[R_K_AB]))
            st = tstate[i, j]
            h = health[i, j]
            if st == DEAD:
                n_mac = counts[3 * MAC + REST, i, j] + counts[3 * MAC + ACTIVE, i, j]
                u = uniform(seed, step, SITE_STREAM + i * nx + j, 0)
                if happens(rates[R_CLEAR] * n_mac, dt, u):
                    tstate[i, j] = REGENERATING
                    health[i, j] = 0.05
                    cleared += 1.0
            else:
                dmg_sum += dmg
                tnf_sum += d_tnf
                repair = rates[R_REGEN] if st == REGENERATING else rates[R_REPAIR]
                # implicit in repair: h' = (h + dt*(repair - dmg)) / (1 + dt*repair)
                h = (h + dt * (repair - dmg)) / (1.0 + dt * repair)
                if h <= 0.0:
                    tstate[i, j] = DEAD
                    h = 0.0
                    died += 1.0
                elif st == REGENERATING:
                    if h >= 0.95:
                        tstate[i, j] = HEALTHY
                elif h < rates[R_H_DAMAGED]:
                    tstate[i, j] = DAMAGED
                else:
                    tstate[i, j] = HEALTHY
                health[i, j] = h
            # -- autoantibody deposit (immune complexes): systemic + local plasma cells
            src_ab = rates[R_AB_SYS] * ab_sys + rates[R_AB_PC] * counts[3 * PLASMA + REST, i, j]
            ab[i, j] = (ab[i, j] + dt * src_ab) / (1.0 + dt * rates[R_AB_CLEAR])
            # -- cytokines: secretion by cells on the site, stromal sources on injured tissue
            injured = 1.0 if tstate[i, j] == DAMAGED or tstate[i, j] == DEAD else 0.0
            if occ[i, j] == 0 and injured == 0.0:      # nothing secretes here: decay only
                for f in range(N_FIELDS):
                    fields[f, i, j] *= e_decay[f]
                continue
            amp = 1.0 + fields[F_IL17, i, j] / rates[R_K_IL17]
            il2_upt = (rates[R_UPT_TREG] * (counts[3 * TREG + REST, i, j] + counts[3 * TREG + ACTIVE, i, j])
                       + rates[R_UPT_EFF] * n_eff)
            srcs[:] = 0.0
            for e in range(sec_class.shape[0]):
                srcs[sec_field[e]] += sec_q[e] * counts[sec_class[e], i, j]
            for f in range(N_FIELDS):
                src = srcs[f]
                if f != F_IL10 and f != F_CHEM:
                    src *= supp          # glucocorticoids repress inflammatory transcription
                src += injured * amp * tissue_src[f]
                # exact over dt for constant source and loss: c -> c e^{-L dt} + S (1 - e^{-L dt})/L
                if f == F_IL2 and il2_upt > 0.0:
                    loss = decay[f] + il2_upt
                    e = math.exp(-loss * dt)
                    gain = (1.0 - e) / loss
                else:
                    e = e_decay[f]
                    gain = g_decay[f]
                fields[f, i, j] = fields[f, i, j] * e + src * gain
        out[i, 0] = died
        out[i, 1] = dmg_sum
        out[i, 2] = cleared
        out[i, 3] = tnf_sum


@njit(cache=True, parallel=True)
def agents_step(x, y, kind, state, age, uid, n, fields, nb, tstate, health, hops, chi,
                rates, drug, dt, seed, step, fate):
    """Fate and moves of agents ``0..n-1`` over ``dt``; ``fate[i]``: 0 stays, 1 dies, 2 divides."""
    ny, nx = tstate.shape
    free_tnf = 1.0 - drug[D_NEUT_TNF]
    jak_gc = drug[D_JAK_GC]
    jak_12 = drug[D_JAK_12]
    for a in prange(n):
        k = kind[a]
        s = state[a]
        i = y[a]
        j = x[a]
        key = uid[a]
        fate[a] = 0
        age[a] += dt
        il2 = fields[F_IL2, i, j]
        il10s = 1.0 / (1.0 + fields[F_IL10, i, j] / rates[R_K_IL10])
        u0 = uniform(seed, step, key, 0)
        u1 = uniform(seed, step, key, 1)
        u2 = uniform(seed, step, key, 2)
        death = 0.0
        # crowding: no division where the 3x3 block holds 9*capacity immune cells
        room = max(0.0, 1.0 - nb[NB_ALL, i, j] / (9.0 * rates[R_CAPACITY]))
        if k == TH1 or k == TH17:
            s_treg = 1.0 / (1.0 + nb[NB_TREG, i, j] / rates[R_K_SUP])
            death = rates[R_TH_DEATH]
            if s == REST:
                if happens(rates[R_TH_ACT] * nb[NB_APC, i, j] * s_treg * il10s, dt, u1):
                    state[a] = ACTIVE
            elif s == ACTIVE:
                prolif = rates[R_TH_PROLIF] * sat(il2, rates[R_K_IL2]) * jak_gc * s_treg * room
                if happens(rates[R_TH_DEACT] * (1.0 + nb[NB_TREG, i, j] / rates[R_K_SUP]), dt, u1):
                    state[a] = REST
                elif happens(rates[R_TH_EXH], dt, u2):
                    state[a] = EXHAUSTED
                elif happens(prolif, dt, uniform(seed, step, key, 3)):
                    fate[a] = 2
            else:
                death = rates[R_EXH_DEATH]
        elif k == TREG:
            sig = sat(il2, rates[R_K_IL2_TREG]) * jak_gc
            death = rates[R_TREG_DEATH]
            if s == REST:
                if happens(rates[R_TREG_ACT] * sig, dt, u1):
                    state[a] = ACTIVE
            else:
                if happens(rates[R_TREG_DEACT], dt, u1):
                    state[a] = REST
                elif happens(rates[R_TREG_PROLIF] * sig * room, dt, u2):
                    fate[a] = 2
        elif k == BCELL:
            death = rates[R_B_DEATH] + drug[D_KILL_B]
            if s == REST:
                if happens(rates[R_B_ACT] * nb[NB_EFF, i, j], dt, u1):
                    state[a] = ACTIVE
            else:
                il6 = sat(fields[F_IL6, i, j], rates[R_K_IL6]) * jak_12
                if happens(rates[R_B_TO_PC] * (1.0 + il6), dt, u1):   # IL-6 (STAT3) doubles it
                    kind[a] = PLASMA
                    state[a] = REST
                    age[a] = 0.0
                elif happens(rates[R_B_PROLIF] * sat(nb[NB_EFF, i, j], 1.0) * room, dt, u2):   # T help
                    fate[a] = 2
        elif k == PLASMA:
            death = rates[R_PC_DEATH]
        elif k == MAC:
            death = rates[R_MAC_DEATH]
            if s == REST:
                stim = (sat(fields[F_IFNG, i, j], rates[R_K_IFN]) * jak_12
                        + sat(free_tnf * fields[F_TNF, i, j], rates[R_K_TNF]))
                if happens(rates[R_MAC_ACT] * stim, dt, u1):
                    state[a] = ACTIVE
            else:
                if happens(rates[R_MAC_DEACT] * (1.0 + fields[F_IL10, i, j] / rates[R_K_IL10]), dt, u1):
                    state[a] = REST
        else:  # DC
            death = rates[R_DC_DEATH]
            if s == REST:
                if happens(rates[R_DC_LIC] * (1.0 - health[i, j]), dt, u1):
                    state[a] = ACTIVE
            else:
                death += rates[R_DC_EMIG]      # licensed DCs leave for the draining lymph node
        if fate[a] == 0 and happens(death, dt, u0):
            fate[a] = 1
            continue
        # -- moves: random motility biased up the chemokine gradient
        h = hops[kind[a]] * dt
        nh = int(h)
        if uniform(seed, step, key, 4) < h - nh:
            nh += 1
        c = chi[kind[a]]
        for m in range(nh):
            here = fields[F_CHEM, i, j]
            w0 = 0.0
            w1 = 0.0
            w2 = 0.0
            w3 = 0.0
            if j > 0:
                w0 = 1.0 + c * max(0.0, fields[F_CHEM, i, j - 1] - here) / rates[R_K_CHEM]
            if j < nx - 1:
                w1 = 1.0 + c * max(0.0, fields[F_CHEM, i, j + 1] - here) / rates[R_K_CHEM]
            if i > 0:
                w2 = 1.0 + c * max(0.0, fields[F_CHEM, i - 1, j] - here) / rates[R_K_CHEM]
            if i < ny - 1:
                w3 = 1.0 + c * max(0.0, fields[F_CHEM, i + 1, j] - here) / rates[R_K_CHEM]
            u = uniform(seed, step, key, 5 + m) * (w0 + w1 + w2 + w3)
            if u < w0:
                j -= 1
            elif u < w0 + w1:
                j += 1
            elif u < w0 + w1 + w2:
                i -= 1
            else:
                i += 1
        y[a] = i
        x[a] = j


@njit(cache=True)
def compact(x, y, kind, state, age, uid, n, fate, next_uid):
    """Remove agents with fate 1 and append a daughter (age 0, same site, kind and state, a
    new uid) for each with fate 2, in agent order; returns (new n, next uid). The arrays
    must have room for the daughters (the caller grows them)."""
    w = 0
    n_div = 0
    for a in range(n):
        if fate[a] == 2:
            n_div += 1
    # daughters go after the survivors; remember the parents first
    parents = np.empty(n_div, dtype=np.int64)
    p = 0
    for a in range(n):
        f = fate[a]
        if f == 1:
            continue
        if f == 2:
            parents[p] = w
            p += 1
        x[w] = x[a]
        y[w] = y[a]
        kind[w] = kind[a]
        state[w] = state[a]
        age[w] = age[a]
        uid[w] = uid[a]
        w += 1
    for q in range(n_div):
        src = parents[q]
        x[w] = x[src]
        y[w] = y[src]
        kind[w] = kind[src]
        state[w] = state[src]
        age[w] = 0.0
        uid[w] = next_uid
        next_uid += 1
        w += 1
    return w, next_uid


@njit(cache=True, parallel=True)
def field_means(fields):
    """Mean of each field (float64 sums per row, then over rows)."""
    nf, ny, nx = fields.shape
    rows = np.zeros((nf, ny))
    for i in prange(ny):
        for f in range(nf):
            s = 0.0
            for j in range(nx):
                s += fields[f, i, j]
            rows[f, i] = s
    out = np.empty(nf)
    for f in range(nf):
        out[f] = rows[f].sum() / (ny * nx)
    return out


@njit(cache=True)
def sort_by_site(x, y, kind, state, age, uid, n, nx, nsites):
    """Stable counting sort of agents ``0..n-1`` by site (row-major), in place: agents on
    nearby sites then sit nearby in memory, so the agent kernels read the fields and
    neighbourhood grids almost sequentially. Results do not depend on agent order (draws
    are keyed by uid), so sorting changes no result."""
    start = np.zeros(nsites + 1, dtype=np.int64)
    for a in range(n):
        start[y[a] * nx + x[a] + 1] += 1
    for s in range(nsites):
        start[s + 1] += start[s]
    order = np.empty(n, dtype=np.int64)
    for a in range(n):
        s = y[a] * nx + x[a]
        order[start[s]] = a
        start[s] += 1
    x[:n] = x[order]
    y[:n] = y[order]
    kind[:n] = kind[order]
    state[:n] = state[order]
    age[:n] = age[order]
    uid[:n] = uid[order]
