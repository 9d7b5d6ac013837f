"""The minimal tissue rule set of ``benchmarks/abm.py`` (the same rules are written in Mesa there).

Effectors random-walk on a 4-neighbour lattice with chemotaxis (a neighbour's weight is
``1 + chi * max(0, C_nb - C_here)``); Tregs random-walk. An effector with any Treg in the
3x3 block around its new site is suppressed; otherwise it damages the tissue cell on its
site (``health -= k_dmg``, floored at 0) and secretes ``q`` into the cytokine field. The
field diffuses and decays (one explicit step, ``tissue_fields.explicit_step``); tissue
repairs at ``k_rep * (1 - health)``. Moves are synchronous (all read the field of the
step's start) and every draw is ``tissue_rng.uniform``, so any thread count gives the same
lattice.
"""

from numba import njit, prange

from .tissue_rng import uniform


@njit(cache=True)
def count_tregs(x, y, is_treg, n, grid):
    grid[:] = 0
    for a in range(n):
        if is_treg[a]:
            grid[y[a], x[a]] += 1


@njit(cache=True, parallel=True)
def box3(grid, out):
    ny, nx = grid.shape
    for i in prange(ny):
        for j in range(nx):
            s = 0
            for ii in range(max(0, i - 1), min(ny, i + 2)):
                for jj in range(max(0, j - 1), min(nx, j + 2)):
                    s += grid[ii, jj]
            out[i, j] = s


@njit(cache=True, parallel=True)
def move(x, y, is_treg, n, field, chi, seed, step):
    ny, nx = field.shape
    for a in prange(n):
        i = y[a]
        j = x[a]
        here = field[i, j]
        c = 0.0 if is_treg[a] else chi
        w0 = 1.0 + c * max(0.0, field[i, j - 1] - here) if j > 0 else 0.0
        w1 = 1.0 + c * max(0.0, field[i, j + 1] - here) if j < nx - 1 else 0.0
        w2 = 1.0 + c * max(0.0, field[i - 1, j] - here) if i > 0 else 0.0
        w3 = 1.0 + c * max(0.0, field[i + 1, j] - here) if i < ny - 1 else 0.0
        u = uniform(seed, step, a, 0) * (w0 + w1 + w2 + w3)
        if u < w0:
            x[a] = j - 1
        elif u < w0 + w1:
            x[a] = j + 1
        elif u < w0 + w1 + w2:
            y[a] = i - 1
        else:
            y[a] = i + 1


@njit(cache=True)
def act(x, y, is_treg, n, nb_treg, health, field, k_dmg, q):
    """Unsuppressed effectors damage their site and secrete (serial: sites are shared)."""
    for a in range(n):
        if is_treg[a]:
            continue
        i = y[a]
        j = x[a]
        if nb_treg[i, j] > 0:
            continue
        health[i, j] = max(0.0, health[i, j] - k_dmg)
        field[i, j] += q


@njit(cache=True, parallel=True)
def repair(health, k_rep):
    ny, nx = health.shape
    for i in prange(ny):
        for j in range(nx):
            health[i, j] += k_rep * (1.0 - health[i, j])
