"""Code generation: a model becomes a cached module of Numba kernels (specialised), or runs on
the generic module every model shares, its tape packed with its parameters (:mod:`.tape`)."""
from .cache import (AotUnavailableWarning, KernelCacheWarning, cache_dir, kernels_cached,
                    load_aot_solver, load_generic, load_kernels)

__all__ = ["AotUnavailableWarning", "KernelCacheWarning", "cache_dir", "kernels_cached",
           "load_aot_solver", "load_generic", "load_kernels"]
