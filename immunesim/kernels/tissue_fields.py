"""Cytokine fields on the lattice: diffusion and local reactions.

Diffusion is locally one-dimensional (LOD) backward Euler: one implicit solve along x, then
one along y, each a tridiagonal system with zero-flux (reflecting) boundaries. Every 1D
matrix is a diagonally dominant M-matrix whose columns sum to one, so the scheme is
unconditionally stable, keeps concentrations non-negative and conserves mass to round-off
at any ``r = D dt / dx**2`` (Hundsdorfer & Verwer 2003, *Numerical Solution of
Time-Dependent Advection-Diffusion-Reaction Equations*, Springer, IV.3,
doi:10.1007/978-3-662-09017-6). On an unbounded line each solve adds exactly ``2 D dt`` to
the variance of a profile, which the tests check against the analytic spreading of a point
source.

The coefficients are the same on every line, so the Thomas factors are computed once and the
recursion runs across 16 lines at a time: the y sweep on contiguous column strips of each
row, the x sweep on blocks of 16 rows read as 16 streams. The y sweep reads and writes the
field twice (forward and backward pass), the x sweep once.
"""

import numpy as np
from numba import njit, prange

#: lines solved together (a block of 16 float64 = two AVX-512 vectors; fits L2 for 4000-long lines)
BLOCK = 16
#: columns per strip of the y sweep (64 float64 = one 512-byte run per row)
STRIP = 64


@njit(cache=True)
def thomas_factors(n, r):
    """(cp, m): Thomas factors of ``(1+2r) u_i - r (u_{i-1} + u_{i+1})`` with reflecting ends."""
    cp = np.empty(n)
    m = np.empty(n)
    if n == 1:
        cp[0] = 0.0
        m[0] = 1.0
        return cp, m
    b0 = 1.0 + r
    m[0] = 1.0 / b0
    cp[0] = -r * m[0]
    for i in range(1, n):
        b = 1.0 + r if i == n - 1 else 1.0 + 2.0 * r
        m[i] = 1.0 / (b + r * cp[i - 1])
        cp[i] = -r * m[i]
    return cp, m


@njit(cache=True, parallel=True, fastmath=True)
def sweep_y(u, r, cp, m):
    """Implicit solve along axis 0 (all columns), in place; parallel over column strips."""
    ny, nx = u.shape
    nstrip = (nx + STRIP - 1) // STRIP
    for s in prange(nstrip):
        j0 = s * STRIP
        j1 = min(nx, j0 + STRIP)
        row = u[0]
        for j in range(j0, j1):
            row[j] = row[j] * m[0]
        for i in range(1, ny):
            mi = m[i]
            row = u[i]
            prev = u[i - 1]
            for j in range(j0, j1):
                row[j] = (row[j] + r * prev[j]) * mi
        for i in range(ny - 2, -1, -1):
            ci = cp[i]
            row = u[i]
            nxt = u[i + 1]
            for j in range(j0, j1):
                row[j] = row[j] - ci * nxt[j]


@njit(cache=True, parallel=True, fastmath=True)
def sweep_x(u, r, cp, m):
    """Implicit solve along axis 1 (all rows), in place; 16 rows at a time, their recursions
    run side by side (the forward pass reads the 16 rows as 16 streams into a small block,
    the backward pass writes them back), so no transposed copies are made."""
    ny, nx = u.shape
    nblock = (ny + BLOCK - 1) // BLOCK
    for s in prange(nblock):
        i0 = s * BLOCK
        nb = min(ny, i0 + BLOCK) - i0
        t = np.empty((nx, BLOCK))
        if nb == BLOCK:
            for b in range(BLOCK):
                t[0, b] = u[i0 + b, 0] * m[0]
            for j in range(1, nx):
                mj = m[j]
                for b in range(BLOCK):
                    t[j, b] = (u[i0 + b, j] + r * t[j - 1, b]) * mj
            for b in range(BLOCK):
                u[i0 + b, nx - 1] = t[nx - 1, b]
            for j in range(nx - 2, -1, -1):
                cj = cp[j]
                for b in range(BLOCK):
                    u[i0 + b, j] = t[j, b] - cj * u[i0 + b, j + 1]
        else:                     # the last rows, one at a time
            for b in range(nb):
                row = u[i0 + b]
                prev = row[0] * m[0]
                t[0, 0] = prev
                for j in range(1, nx):
                    prev = (row[j] + r * prev) * m[j]
                    t[j, 0] = prev
                row[nx - 1] = t[nx - 1, 0]
                for j in range(nx - 2, -1, -1):
                    row[j] = t[j, 0] - cp[j] * row[j + 1]


def diffuse(u, r, fx, fy):
    """One LOD step of ``u`` (2D float64, in place) with ``r = D dt/dx**2``; ``fx``/``fy``
    are :func:`thomas_factors` for the row length and column length."""
    if r <= 0.0:
        return
    if u.shape[1] > 1:
        sweep_x(u, r, fx[0], fx[1])
    if u.shape[0] > 1:
        sweep_y(u, r, fy[0], fy[1])


@njit(cache=True, parallel=True, fastmath=True)
def explicit_step(u, out, r, kdt):
    """One explicit (FTCS) step with decay, reflecting edges: the single-pass stencil used as
    the memory-bandwidth reference in the benchmark. Stable and positive for ``4r + kdt <= 1``."""
    ny, nx = u.shape
    for i in prange(ny):
        im = i - 1 if i > 0 else 0
        ip = i + 1 if i < ny - 1 else ny - 1
        out[i, 0] = u[i, 0] + r * (u[im, 0] + u[ip, 0] + u[i, 1] - 3.0 * u[i, 0]) - kdt * u[i, 0]
        for j in range(1, nx - 1):
            c = u[i, j]
            out[i, j] = c + r * (u[im, j] + u[ip, j] + u[i, j - 1] + u[i, j + 1] - 4.0 * c) - kdt * c
        c = u[i, nx - 1]
        out[i, nx - 1] = c + r * (u[im, nx - 1] + u[ip, nx - 1] + u[i, nx - 2] - 3.0 * c) - kdt * c
