"""Code generation: a model becomes a cached module of Numba kernels."""
from .cache import KernelCacheWarning, cache_dir, kernels_cached, load_kernels

__all__ = ["KernelCacheWarning", "cache_dir", "kernels_cached", "load_kernels"]
