"""Code generation: a model becomes a cached module of Numba kernels (specialised), or runs on
the generic module every model shares, its tape packed with its parameters (:mod:`.tape`)."""
from .cache import (AotUnavailableWarning, KernelCacheWarning, cache_dir, composed_cached,
                    kernels_cached, load_aot_solver, load_composed, load_generic, load_kernels)
from .compose import Composition, split

__all__ = ["AotUnavailableWarning", "Composition", "KernelCacheWarning", "cache_dir",
           "composed_cached", "kernels_cached", "load_aot_solver", "load_composed",
           "load_generic", "load_kernels", "split"]
