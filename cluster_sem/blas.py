"""BLAS threading policy, applied once at the API boundary (``api.fit``; the CLI calls it).

Why one thread: the model's numerics are many tiny products (p×p with p ≈ 20–40).  With OpenBLAS's
default of one thread per core, every such call pays thread hand-off, and on a busy 2-core machine the
threads fight each other: measured on the 20-item model, one in-process fit took ~40 ms with one BLAS
thread and ~200 ms with the default.  One thread also makes results bit-identical whatever the core
count (OpenBLAS sums in another order with 2 threads; ~1e-14 differences were observed).

Why not always one: the sample covariance of a national survey (500,000 rows × 38 items) is one large
product that does benefit from all cores, so ``many_rows`` lifts the limit around such a product.

Why the command line starts BLAS with one thread (``single_thread_process``): OpenBLAS starts its worker
threads when numpy is imported and they spin for a while after every product.  A plain ``cluster-sem fit``
of the 20-item model used ~0.08 s more CPU with them (0.73 against 0.65 s), and asking threadpoolctl for
one thread costs ~10 ms (its import and the scan of the loaded libraries).  ``many_rows`` still lifts the
limit (OpenBLAS starts the extra threads when asked).
"""
from __future__ import annotations

import contextlib
import os
import sys

# rows × p² above which a product X'X is worth more than one thread (~0.05 s of single-thread work)
LARGE_WORK = 50_000_000


# the BLAS thread variables the command line sets before numpy loads (OpenBLAS, and MKL for other numpy builds)
_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
_single_from_start = False   # True: this process's BLAS was started with one thread (single_thread_process)


def single_thread_process() -> None:
    """Start BLAS with one thread in this process (the command line calls this before anything imports
    numpy); a thread count the user set in the environment wins.  Afterwards ``one_blas_thread`` has nothing
    to change and costs nothing.  Too late once numpy is loaded: then nothing happens."""
    global _single_from_start
    if "numpy" in sys.modules:
        return
    for name in _THREAD_VARIABLES:
        os.environ.setdefault(name, "1")
    _single_from_start = all(os.environ[name] == "1" for name in _THREAD_VARIABLES)


def started_single() -> bool:
    """True if this process's BLAS started with one thread (``single_thread_process``), so nothing needs
    limiting: forked workers inherit it."""
    return _single_from_start


def _limits(n: int | None):
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # threadpoolctl missing: numbers unchanged, only slower on busy machines
        return contextlib.nullcontext()
    return threadpool_limits(limits=n, user_api="blas")


def one_blas_thread():
    """Context: BLAS runs single-threaded inside (restored on exit)."""
    if started_single():
        return contextlib.nullcontext()
    return _limits(1)


def many_rows(n_rows: int, p: int):
    """Context for one large product over ``n_rows`` × ``p`` data: all cores if the work is large."""
    if n_rows * p * p < LARGE_WORK:
        return contextlib.nullcontext()
    return _limits(os.cpu_count() or 1)
