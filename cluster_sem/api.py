"""The Python API: thin, typed entry points over the pipeline (the CLI calls exactly these)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from .options import SIMULATE_OPTIONS, check_moderation_ci, check_options
from .pipeline import FitOptions, run_fit
from .results.results import Results
from .spec import Spec, load_spec


def fit(spec: Spec | str | Path, data: str | Path | pd.DataFrame, *, bootstrap: int = 0, seed: int = 2026,
        jobs: int = 1, ci_level: float = 0.95, missing: str = "listwise", estimator: str | None = None,
        ci: str = "auto", scheduler: str | None = None, quiet: bool = True, command: str = "",
        timestamp: str | None = None, engine: str = "default", interaction_method: str = "lms",
        moderation_ci: str = "monte-carlo", meanwhile=None) -> Results:
    """Fit the spec's measurement (CFA) and structural models to ``data`` and return frozen Results.

    ``bootstrap`` > 0 adds percentile and bias-corrected bootstrap CIs for every named indirect and total
    effect (resample indices depend on ``seed`` only, so ``jobs``/``scheduler`` never change the numbers).
    ``engine``: ``"default"`` (lavaan's start values + Fisher scoring/BFGS, no semopy) or ``"semopy"``
    (semopy's solution as the start; the same optimum, a slower start-up).
    ``interaction_method`` (lms | qml | dblcent) estimates the spec's latent ``interactions``.
    ``moderation_ci="bootstrap"`` (with ``bootstrap`` B and LMS) gives the conditional indirect effects and the
    index of moderated mediation bootstrap percentile CIs from B warm-started LMS refits (slow: opt-in).
    ``estimator`` None uses the spec's default: WLSMV (items as ordered categories) if it says
    ``ordinal: true``, else ML.
    ``meanwhile`` (a callable without arguments) runs once while the bootstrap's worker processes fit
    resamples, instead of after the fit (the CLI loads its report templates there).
    """
    check_options("fit", {"bootstrap": bootstrap, "seed": seed, "jobs": jobs, "ci_level": ci_level, "ci": ci,
                          "missing": missing, "estimator": estimator, "scheduler": scheduler, "engine": engine,
                          "interaction_method": interaction_method, "moderation_ci": moderation_ci})
    check_moderation_ci(moderation_ci, bootstrap, interaction_method)
    from .bootstrap.parallel import resolve_scheduler
    resolve_scheduler(scheduler)   # a dask address without the dask extra: one line before the fit
    from .blas import one_blas_thread
    options = FitOptions(bootstrap=bootstrap, seed=seed, jobs=jobs, level=ci_level, missing=missing,
                         estimator=estimator, ci=ci, scheduler=scheduler, quiet=quiet, command=command,
                         engine=engine, interaction_method=interaction_method, moderation_ci=moderation_ci)
    with one_blas_thread():  # small-matrix numerics: one BLAS thread (see blas.py)
        results = run_fit(spec, data, options, timestamp=timestamp, meanwhile=meanwhile)
    _warn(results)
    return results


def _warn(results: Results) -> None:
    """Raise the fit's recorded problems as filterable warnings (they stay in ``results.warnings``)."""
    import warnings

    from .errors import AdmissibilityWarning, ConvergenceWarning, DataWarning
    kinds = {"converge": ConvergenceWarning, "variances differ": DataWarning}   # else: admissibility
    for text in results.warnings:
        category = next((cls for key, cls in kinds.items() if key in text), AdmissibilityWarning)
        warnings.warn(text, category, stacklevel=3)


def prepare_data(spec: Spec | str | Path, data, *, missing: str = "listwise"):
    """Load and clean survey data against the spec (missing codes, reverse keys, range checks)."""
    from .data import prepare_data as _prepare
    return _prepare(spec if isinstance(spec, Spec) else load_spec(spec), data, missing=missing)


def simulate(spec: Spec | str | Path, n: int, seed: int) -> pd.DataFrame:
    """Likert data drawn from the spec's ``population`` section."""
    check_options("simulate", {"n": n, "seed": seed}, SIMULATE_OPTIONS)
    from .simulate import simulate as _simulate
    return _simulate(spec if isinstance(spec, Spec) else load_spec(spec), n=n, seed=seed)


def load_results(path: str | Path) -> Results:
    """Read a results.json (or the directory holding it) back into Results."""
    p = Path(path)
    if p.is_dir():
        p = p / "results.json"
    return Results.from_json(p.read_text(encoding="utf-8"))
