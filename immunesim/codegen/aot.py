"""Build the ahead-of-time compiled single-run entry points of the generic kernels.

Why: the generic kernels' machine code is already cached by Numba, but loading it from Numba's
cache initialises Numba's CPU target in every new process (its registries of NumPy
implementations, importing ``scipy.linalg`` to find BLAS): 0.35-0.45 s of each first result on
this 2-core machine, more than the small model's whole integration. The same functions,
compiled ahead of time into a CPython extension (``numba.pycc``), load in milliseconds
without that initialisation, and compute the same bits (same LLVM, same host CPU target;
tested). Only the default method's single-run entry points are built this way
(:data:`.cache.AOT_ENTRIES`): batches run in parallel (``prange``), which ``pycc`` does not
compile, and the other methods are rarely a first result.

Run by :func:`.cache.load_aot_solver` as ``python -m immunesim.codegen.aot ENTRY NAME OUTDIR``
in its own process, so that the C compiler's messages never reach the caller's standard
output (``immunesim fit --evaluate --json`` prints one JSON object and nothing else), and a
build that fails or hangs cannot take the caller with it (it has a time limit). It compiles
the verified generic module's own function (:func:`.cache.load_generic`), so the extension is
the generic kernels' code, not a copy of it.
"""

from __future__ import annotations

import sys
import warnings

from .cache import AOT_ENTRIES, load_generic

#: the exported functions' one signature (as the generic ``solve_one_*`` are called by
#: :func:`immunesim.simulate.simulate`): parameters with the packed tape, initial state, t0,
#: output times, the schedule's times, kinds, indices and values, rtol, atol per species,
#: first step, largest step, step limit, output matrix, statistics -> status code
SIGNATURE = ("i8(f8[::1], f8[::1], f8, f8[::1], f8[::1], i8[::1], i8[::1], f8[::1], f8, "
             "f8[::1], f8, f8, i8, f8[:, ::1], f8[::1])")


def build(entry: str, name: str, outdir: str) -> None:
    """Compile the generic module's ``entry`` into the extension ``NAME.so`` in ``outdir``
    (for this machine's CPU, as Numba's own JIT compiles)."""
    if entry not in AOT_ENTRIES:
        raise ValueError(f"not an ahead-of-time entry point: {entry!r}; one of {AOT_ENTRIES}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")       # pycc's "pending deprecation" notice (Numba 0.57+)
        from numba.pycc import CC
    func = getattr(load_generic(), entry).py_func
    cc = CC(name)
    cc.output_dir = outdir
    cc.output_file = f"{name}.so"
    cc.target_cpu = "host"
    cc.export(entry, SIGNATURE)(func)
    cc.compile()


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: python -m immunesim.codegen.aot ENTRY NAME OUTDIR")
    build(*sys.argv[1:4])
