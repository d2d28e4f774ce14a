"""The five scipy.special ufuncs of the default path (χ² and normal tails), without scipy.special's import.

Why: ``import scipy.special`` costs ~0.25 s CPU on top of numpy (scipy 1.17), ~0.19 s of it its array-API
dispatch layer (``_support_alternative_backends`` → ``array_api_compat``), which a NumPy-only caller never
uses.  The functions themselves are plain NumPy ufuncs in the compiled module ``scipy.special._ufuncs``
(~0.05 s).  A submodule cannot normally be imported without running its package's ``__init__``, so while
importing ``_ufuncs`` a bare package object stands in for ``scipy.special`` (same ``__path__``), then is
removed again: a later ``import scipy.special`` (scipy.stats, scipy.optimize on other paths) runs the
real ``__init__``, which picks up the already loaded ``_ufuncs`` — the very same ufunc objects, so every
number is identical either way.  If scipy.special is already imported, or scipy's layout ever differs,
the public ``scipy.special`` names are used.

    chdtr(df, x)        = scipy.stats.chi2.cdf(x, df)
    chdtrc(df, x)       = scipy.stats.chi2.sf(x, df)
    chndtr(x, df, nc)   = scipy.stats.ncx2.cdf(x, df, nc)
    ndtr(x), ndtri(p)   = scipy.stats.norm.cdf(x), scipy.stats.norm.ppf(p)
"""
from __future__ import annotations

import sys
import types


def _load_ufuncs():
    if "scipy.special" in sys.modules:
        return sys.modules["scipy.special"]
    import scipy
    stand_in = types.ModuleType("scipy.special")
    stand_in.__path__ = [p + "/special" for p in scipy.__path__]
    sys.modules["scipy.special"] = stand_in
    try:
        from scipy.special import _ufuncs
    except ImportError:
        _ufuncs = None
    finally:
        if sys.modules.get("scipy.special") is stand_in:
            del sys.modules["scipy.special"]
    if _ufuncs is None or not all(hasattr(_ufuncs, f) for f in ("chdtr", "chdtrc", "chndtr", "ndtr", "ndtri")):
        import scipy.special as _ufuncs   # another scipy layout: the public module
    return _ufuncs


_u = _load_ufuncs()
chdtr, chdtrc, chndtr, ndtr, ndtri = _u.chdtr, _u.chdtrc, _u.chndtr, _u.ndtr, _u.ndtri
del _u

__all__ = ["chdtr", "chdtrc", "chndtr", "ndtr", "ndtri"]
