"""A Rosenbrock method's stage code, generated from its tableau (:mod:`immunesim.solvers.tableaus`).

For a method ``m`` this emits, into the generated kernel module, the constants ``M_GAMMA``,
``M_ORDER``, ``M_STAGE_RHS`` and the tableau arrays ``M_TA``, ``M_TC``, ``M_TCC``, ``M_TD`` (read
by the loop form ``stages_loop`` of the dense-LU path), and three functions with the contract of
the step control (``kernels/templates/rosenbrock.py``):

- ``m_stages(t, h, y, p, u, rtol, atol, ws, w)``: every stage of one step, unrolled, each linear
  solve on the sparse LU in ``w``; returns the RMS error norm;
- ``m_dense(y, ws)``: the continuous extension's coefficients, into the last stage rows;
- ``m_interpolate(th, y, ws, yi)``: the solution at ``t + th h``.

The unrolled stages are what the hand-written kernels were: every coefficient is printed with
``repr`` (the same double), and every sum is written in the same order with the same grouping,
so the generated arithmetic, and hence every result, is the same bit for bit.
"""

from __future__ import annotations

from ..solvers.tableaus import Tableau


def _num(x: float) -> str:
    return repr(float(x))


def _restarts(tab: Tableau, s: int) -> bool:
    """Row ``s`` of ``a`` is row ``s - 1`` plus a unit entry at stage ``s - 1``."""
    if s < 2:
        return False
    prev, row = tab.a[s - 1], tab.a[s]
    return (all(row[q] == prev[q] for q in range(s - 1)) and row[s - 1] == 1.0
            and all(v == 0.0 for v in prev[s - 1:]))


def _sum(coefs, start: str | None = None) -> str:
    terms = [f"{_num(c)} * k{q + 1}[i]" for q, c in enumerate(coefs)]
    return " + ".join(([start] if start else []) + terms)


def emit(tab: Tableau) -> str:
    """The generated source of one Rosenbrock method (see the module docstring)."""
    m, M, S = tab.name, tab.name.upper(), tab.stages
    if len(tab.a) != S + 1 or len(tab.C) != S or len(tab.c) != S or not tab.h:
        raise ValueError(f"tableau {m}: expected a with {S + 1} rows, C and c with {S}")
    out = [f"{M}_GAMMA = {_num(tab.gamma)}", f"{M}_ORDER = {int(tab.order)}",
           f"{M}_STAGE_RHS = {tab.stage_rhs}"]
    rows = lambda mat: "np.array([" + ", ".join("[" + ", ".join(_num(v) for v in r) + "]" for r in mat) + "])"
    out += [f"{M}_TA = {rows(tab.a)}", f"{M}_TC = {rows(tab.C)}",
            f"{M}_TCC = np.array([{', '.join(_num(v) for v in tab.c)}])",
            f"{M}_TD = np.array([{', '.join(_num(v) for v in tab.d)}])", "", ""]
    st = [f"def {m}_stages(t, h, y, p, u, rtol, atol, ws, w):", "    n = y.shape[0]"]
    st += [f"    {v} = ws[{k}]" for k, v in enumerate(("f0", "ft", "yn", "b", "du", "sc"))]
    st += [f"    k{q + 1} = ws[{7 + q}]" for q in range(S)]
    st += ["    ih = 1.0 / h", "    for i in range(n):",
           f"        b[i] = f0[i] + h * {_num(tab.d[0])} * ft[i]", "    lu_solve_sparse(w, b, k1, p)"]
    for s in range(1, S):
        st.append("    for i in range(n):")
        if _restarts(tab, s):
            st.append(f"        yn[i] += k{s}[i]")
        else:
            st.append(f"        yn[i] = {_sum(tab.a[s][:s], 'y[i]')}")
        st.append("    rhs(t + h, yn, p, u, du)" if tab.c[s] == 1.0 else
                  f"    rhs(t + {_num(tab.c[s])} * h, yn, p, u, du)")
        coupling = _sum(tab.C[s][:s]) if s == 1 else f"({_sum(tab.C[s][:s])})"
        time_term = f"h * {_num(tab.d[s])} * ft[i] + " if tab.d[s] != 0.0 else ""
        st += ["    for i in range(n):", f"        b[i] = du[i] + {time_term}ih * {coupling}",
               f"    lu_solve_sparse(w, b, k{s + 1}, p)"]
    st.append("    for i in range(n):")
    if _restarts(tab, S):
        st.append(f"        yn[i] += k{S}[i]")
    else:
        st.append(f"        yn[i] = {_sum(tab.a[S][:S], 'y[i]')}")
    st += ["    error_scale(y, yn, rtol, atol, sc)", f"    return rms_norm(k{S}, sc)", "", ""]
    nd = len(tab.h)
    first = S - nd            # the dense coefficients overwrite the last nd stage rows
    de = [f"def {m}_dense(y, ws):"]
    de += [f"    k{q + 1} = ws[{7 + q}]" for q in range(S)]
    de.append("    for i in range(y.shape[0]):")
    de += [f"        d{r + 1} = {_sum(row)}" for r, row in enumerate(tab.h)]
    de += [f"        k{first + r + 1}[i] = d{r + 1}" for r in range(nd)]
    de += ["", ""]
    inner = f"d{nd}[i]"
    for r in range(nd - 1, 0, -1):
        inner = f"d{r}[i] + th * {inner}" if r == nd - 1 else f"d{r}[i] + th * ({inner})"
    it = [f"def {m}_interpolate(th, y, ws, yi):", "    yn = ws[2]"]
    it += [f"    d{r + 1} = ws[{7 + first + r}]" for r in range(nd)]
    it += ["    th1 = 1.0 - th", "    for i in range(y.shape[0]):",
           f"        yi[i] = th1 * y[i] + th * (yn[i] + th1 * ({inner}))"]
    return "\n".join(out + st + de + it) + "\n"
