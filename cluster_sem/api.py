"""The Python API: thin, typed entry points over the pipeline (the CLI calls exactly these)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from .options import DEFAULT_SEED, SIMULATE_OPTIONS, check_moderation_ci, check_options
from .pipeline import FitOptions, run_fit
from .render.report import Results
from .spec import Spec, load_spec


def fit(spec: Spec | str | Path, data: str | Path | pd.DataFrame, *, bootstrap: int = 0, seed: int = DEFAULT_SEED,
        jobs: int = 1, ci_level: float = 0.95, missing: str = "listwise", estimator: str | None = None,
        ci: str = "auto", scheduler: str | None = None, quiet: bool = True, command: str = "",
        timestamp: str | None = None, engine: str = "default", interaction_method: str = "lms",
        moderation_ci: str = "monte-carlo", cluster: str | None = None, weights: str | None = None,
        meanwhile=None, modindices: bool = False, compare: tuple[str, ...] | list[str] = (),
        cluster_bootstrap: bool = False) -> Results:
    """Fit the spec's measurement (CFA) and structural models to ``data`` and return frozen Results.

    ``bootstrap`` > 0 adds percentile and bias-corrected bootstrap CIs for every named indirect and total
    effect (resample indices depend on ``seed`` only, so ``jobs``/``scheduler`` never change the numbers).
    ``engine``: ``"default"`` (lavaan's start values + Fisher scoring/BFGS, no semopy) or ``"semopy"``
    (semopy's solution as the start of the ML and MLR fits; the same optimum, a slower start-up; refused with
    FIML and WLSMV, see ``cluster_sem.lavoptions.SUPPORT``); ``meta.engine`` records it.
    ``interaction_method`` (lms | qml | dblcent) estimates the spec's latent ``interactions``.
    ``moderation_ci="bootstrap"`` (with ``bootstrap`` B and LMS) gives the conditional indirect effects and the
    index of moderated mediation bootstrap percentile CIs from B warm-started LMS refits (slow: opt-in).
    ``estimator`` None uses the spec's default: WLSMV (items as ordered categories) if it says
    ``ordinal: true``, else ML.
    ``cluster`` / ``weights`` name data columns (complex samples; they override the spec's ``cluster:`` /
    ``weights:``): cluster-robust or weighted robust SEs and scaled test as lavaan, and a ``design`` block.
    ``cluster_bootstrap`` (with ``bootstrap`` B and a cluster) resamples whole clusters, each firm keeping its
    weight (``cluster_sem.bootstrap.clusters``), instead of firms; the ``bootstrap`` block records it.
    ``meanwhile`` (a callable without arguments) runs once while the bootstrap's worker processes fit
    resamples, instead of after the fit (the CLI loads its report templates there).
    ``modindices`` adds lavaan's ``modindices()`` of both models (ML, complete rows); ``compare`` takes
    equality hypotheses ("OL~TS = OL~RQ", indirect effects by name): Wald test and constrained-refit LRT.
    """
    check_options("fit", {"bootstrap": bootstrap, "seed": seed, "jobs": jobs, "ci_level": ci_level, "ci": ci,
                          "missing": missing, "estimator": estimator, "scheduler": scheduler, "engine": engine,
                          "interaction_method": interaction_method, "moderation_ci": moderation_ci,
                          "cluster": cluster, "weights": weights, "cluster_bootstrap": cluster_bootstrap})
    check_moderation_ci(moderation_ci, bootstrap, interaction_method)
    if scheduler is not None:   # the parallel engine (multiprocessing, concurrent.futures) loads only if asked
        from .bootstrap.parallel import resolve_scheduler
        resolve_scheduler(scheduler)   # a dask address without the dask extra: one line before the fit
    from .blas import one_blas_thread
    options = FitOptions(bootstrap=bootstrap, seed=seed, jobs=jobs, level=ci_level, missing=missing,
                         estimator=estimator, ci=ci, scheduler=scheduler, quiet=quiet, command=command,
                         engine=engine, interaction_method=interaction_method, moderation_ci=moderation_ci,
                         cluster=cluster, weights=weights, modindices=modindices, compare=tuple(compare),
                         cluster_bootstrap=cluster_bootstrap)
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


def pls(spec: Spec | str | Path, data: str | Path | pd.DataFrame, *, consistent: bool = False, mode: str = "A",
        scheme: str = "path", bootstrap: int = 0, seed: int = DEFAULT_SEED, jobs: int = 1, ci_level: float = 0.95,
        predict: int = 0, mga: bool = False, cbsem: str | Path | None = None, quiet: bool = True, command: str = "",
        timestamp: str | None = None, second_order: str = "repeated") -> Results:
    """PLS-SEM of the spec's model (``consistent``: PLSc) in seminr 2.3.1's conventions; Results with a
    ``pls`` block (paths, loadings, weights, R², f², VIF, α/ρ_A/ρ_C/AVE, HTMT, indirect and total effects).

    ``mode`` is the outer mode of constructs not marked ``formative: true``; ``scheme`` the inner weighting
    (path, factorial, centroid).  ``bootstrap`` B > 0 adds bootstrap SEs, t, p, percentile and BCa CIs and
    the HTMT upper limits; the resamples depend on ``seed`` only, never on ``jobs``.  ``predict`` K > 1 adds
    PLSpredict (K folds shuffled by ``seed``): Q²_predict, RMSE and MAE per item against a linear model.
    ``mga`` (with ``bootstrap``): PLS-MGA across the spec's ``group`` column (Henseler's test, as seminr,
    and the permutation test).  ``cbsem``: the ``--out`` directory of a ``fit`` of the same spec and data,
    whose paths and indirect effects are set beside the PLS ones (``pls.cbsem_comparison``).
    ``second_order``: ``"repeated"`` indicators or ``"two-stage"`` (dimension scores of stage 1 as the
    higher-order construct's indicators in stage 2, as seminr's ``two_stage``; allows formative ones).
    """
    from .blas import one_blas_thread
    from .pls.run import PlsOptions, run_pls
    options = PlsOptions(consistent=consistent, mode=mode, scheme=scheme, bootstrap=bootstrap, seed=seed,
                         jobs=jobs, level=ci_level, predict=predict, mga=mga, quiet=quiet, command=command,
                         cbsem=None if cbsem is None else str(cbsem), second_order=second_order)
    with one_blas_thread():
        results = run_pls(spec, data, options, timestamp=timestamp)
    _warn(results)
    return results


def cmb(spec: Spec | str | Path, data: str | Path | pd.DataFrame, *, command: str = "",
        timestamp: str | None = None) -> Results:
    """The common-method battery (what ``cluster-sem cmb`` writes): Harman (EFA share, one-factor CFA), common
    latent factor, ULMC and, with the spec's ``method_marker`` items, the CFA marker technique."""
    from .cmb import run_cmb
    return run_cmb(spec, data, command=command, timestamp=timestamp)


def prepare_data(spec: Spec | str | Path, data, *, missing: str = "listwise"):
    """Load and clean survey data against the spec (missing codes, reverse keys, range checks)."""
    from .data import prepare_data as _prepare
    return _prepare(spec if isinstance(spec, Spec) else load_spec(spec), data, missing=missing)


def simulate(spec: Spec | str | Path, n: int, seed: int, *, clusters: int | None = None,
             cluster_size: int | None = None) -> pd.DataFrame:
    """Likert data drawn from the spec's ``population`` section; ``clusters`` K or ``cluster_size`` M draws
    the firms in clusters with the random effects of ``population.icc`` (a cluster column 1..K)."""
    design = {k: v for k, v in (("clusters", clusters), ("cluster_size", cluster_size)) if v is not None}
    check_options("simulate", {"n": n, "seed": seed, **design}, SIMULATE_OPTIONS)
    from .simulate import simulate as _simulate
    return _simulate(spec if isinstance(spec, Spec) else load_spec(spec), n=n, seed=seed, **design)


def load_results(path: str | Path) -> Results:
    """Read a results.json (or the directory holding it) back into Results."""
    p = Path(path)
    if p.is_dir():
        p = p / "results.json"
    return Results.from_json(p.read_text(encoding="utf-8"))


def library_scales() -> dict:
    """The scale library by key: bilingual label and items, response scale, source, reported reliability,
    dimensions (second-order scales) and adaptation note of each scale (``cluster-sem library list``)."""
    from .library import library_scales as _scales
    return dict(_scales())


def new_spec(scales: list[str], paths: str, *, controls: list[str] | tuple[str, ...] = (),
             out: str | Path | None = None, force: bool = False) -> str:
    """A commented, valid spec (YAML text) for library ``scales`` and ``paths`` such as ``"TS,RQ -> OL -> CG"``
    (``cluster-sem new``): hypotheses numbered in path order, indirect effects named, a ``population`` section
    so ``simulate`` and ``power`` run at once.  With ``out`` the text is also written there (an existing file
    only with ``force``)."""
    from .library.new import new_spec as _new, write_new_spec
    if out is None:
        return _new(list(scales), paths, controls)
    return write_new_spec(out, list(scales), paths, controls, force=force).read_text(encoding="utf-8")
