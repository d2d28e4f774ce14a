"""Fast nonparametric bootstrap and Monte Carlo CIs for SEM parameters and defined (indirect) effects.

    boot = run_bootstrap(fit, data, B=5000, seed=1, jobs=2)      # ModelFit from model.fitted.fit_model
    boot.defined   # [{name, est, se, perc: (lo, hi), bc: (lo, hi)}, ...]
    mc = monte_carlo_ci(fit, draws=20000, seed=1, level=0.95)

How: resample indices depend on the seed only (``resample``), all resamples of a block are fitted
together by a batched quasi-Newton ML engine warm-started at θ̂ (``batched``), blocks run in-process, on
local processes or on dask (``parallel``), CIs follow lavaan's ``perc`` and ``bca.simple`` (``ci``).
Complex samples: ``run_bootstrap(..., cluster=, weights=)`` resamples whole clusters (``clusters``).
lavaan conventions: ML with divisor-N covariances, inadmissible replicates kept, failed ones dropped,
bootstrap SE = SD with divisor B − 1.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .montecarlo import monte_carlo_ci
from .resample import resample_indices

__all__ = ["BootstrapResult", "run_bootstrap", "monte_carlo_ci", "resample_indices", "RULE"]


def __getattr__(name: str):
    # The engine modules (batched, parallel: multiprocessing, concurrent.futures) are imported when a bootstrap
    # runs, not by a plain `fit` that only needs monte_carlo_ci (~25 ms of its start-up).
    if name == "RULE":
        from .batched import RULE
        return RULE
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class BootstrapResult:
    B: int
    seed: int
    level: float
    n_converged: int
    n_nonconverged: int
    n_inadmissible: int        # converged but inadmissible (kept, as lavaan keeps them)
    n_fallback: int            # converged only in the single-resample fallback
    rule: str
    param_se: np.ndarray       # aligned with fit.parameters rows; 0 for fixed rows
    defined: list              # [{name, est, se, perc: (lo, hi), bc: (lo, hi)}]
    seconds: float
    jobs: int = 1
    backend: str = "in-process"
    estimates: np.ndarray = field(default=None, repr=False)          # (B, q), NaN where not converged
    defined_estimates: np.ndarray = field(default=None, repr=False)  # (B, d)
    converged: np.ndarray = field(default=None, repr=False)          # (B,) bool
    admissible: np.ndarray = field(default=None, repr=False)         # (B,) bool (False if not converged)
    n_lost_category: int = 0   # WLSMV: resamples dropped because a category of some item had no case
    param_ci: list | None = None   # per fit.parameters row: {"percentile": (lo, hi), "bc": (lo, hi)} or None
    resampling: str = "case"   # "case" (rows) or "cluster" (whole clusters, ``bootstrap.clusters``)
    n_clusters: int | None = None   # clusters resampled (cluster bootstrap only)


def run_bootstrap(fit, data, *, B: int, seed: int, jobs: int = 1, level: float = 0.95,
                  scheduler: str | None = None, quiet: bool = True,
                  percentile: str = "norm.inter", meanwhile=None, cluster: np.ndarray | None = None,
                  weights: np.ndarray | None = None) -> BootstrapResult:
    """Nonparametric bootstrap (cases or, with ``cluster``, whole clusters) of an ML ``ModelFit`` on ``data``'s rows.

    ``data`` must be the complete-case frame the model was fitted to (any extra columns are ignored).
    Multigroup / mean-structure fits (``fit.group_model``) resample their own rows within each group
    (``bootstrap.groups``; ``data``, ``jobs`` and ``scheduler`` are not used there).
    Results depend only on (fit, data, B, seed, level): not on ``jobs`` or ``scheduler``.
    ``meanwhile`` (a callable, no arguments) runs once in this process while worker processes fit the
    resamples (``parallel.run_tasks``): the caller's steps that do not need the bootstrap.
    ``cluster`` (one code per row of ``data``) makes it a cluster bootstrap (``bootstrap.clusters``: whole
    clusters resampled, each row keeping its ``weights``); a fit with a complex-sample design
    (``fit.design``) needs it, as a case bootstrap would ignore the clusters and weights.
    """
    if getattr(fit, "group_model", None) is not None:   # multigroup / mean structure: within groups
        if B < 1 or not 0 < level < 1:
            raise ValueError("B must be a positive number of resamples and level between 0 and 1")
        if meanwhile is not None:
            meanwhile()
        from .groups import run_group_bootstrap
        return run_group_bootstrap(fit, B=B, seed=seed, level=level, percentile=percentile)
    if B < 1:
        raise ValueError("B must be a positive number of resamples")
    if not 0 < level < 1:
        raise ValueError("level must be between 0 and 1")
    if cluster is None and getattr(fit, "design", None) is not None:
        raise ValueError("a fit with clusters or sampling weights takes the cluster bootstrap: pass cluster= "
                         "(fit.design.cluster) and weights= (fit.design.weights)")
    from .batched import RULE, make_core
    from .parallel import run_blocks
    t0 = time.perf_counter()
    if cluster is not None:
        from .clusters import make_cluster_core
        core = make_cluster_core(fit, data, cluster, weights)
    else:
        core = make_core(fit, data)
    blocks = run_blocks(core, B, seed, jobs=jobs, scheduler=scheduler, quiet=quiet, meanwhile=meanwhile)
    theta = np.concatenate([b.theta for b in blocks])
    dvals = np.concatenate([b.defined for b in blocks])
    conv = np.concatenate([b.converged for b in blocks])
    adm = np.concatenate([b.admissible for b in blocks])
    fb = np.concatenate([b.fallback for b in blocks])
    param_se, defined = replicate_summaries(fit, theta, dvals, conv, level, percentile)
    from .parallel import backend_name
    backend = backend_name(jobs, scheduler)
    return BootstrapResult(
        B=B, seed=seed, level=level, n_converged=int(conv.sum()), n_nonconverged=int((~conv).sum()),
        n_inadmissible=int((conv & ~adm).sum()), n_fallback=int(fb.sum()), rule=getattr(core, "rule", RULE),
        param_se=np.asarray(param_se, dtype=float), defined=defined, seconds=time.perf_counter() - t0,
        jobs=jobs, backend=backend, estimates=theta, defined_estimates=dvals, converged=conv,
        admissible=adm, param_ci=replicate_cis(fit, theta[conv], dvals[conv], level, percentile),
        resampling="case" if cluster is None else "cluster",
        n_clusters=None if cluster is None else core.n_units)


def replicate_cis(fit, theta: np.ndarray, dvals: np.ndarray, level: float, percentile: str) -> list:
    """Percentile and BC CI of every ``fit.parameters`` row from the converged replicates (θ rows, the ``~1``
    rows of a mean structure, the ``:=`` rows), in the order of the table; None for a fixed row."""
    from .ci import bc_ci, percentile_ci
    P = fit.parameters
    est = P["est"].to_numpy(dtype=float)
    draws: list = [theta[:, p.free] if p.free >= 0 else None for p in fit.partable.params]
    if (P.op == "~1").any():
        from .fiml import intercept_replicates
        tau = intercept_replicates(fit, theta)
        draws += [tau.get(v) for v in P.loc[P.op == "~1", "lhs"]]
    draws += [dvals[:, i] for i in range(dvals.shape[1])]
    return [None if t is None or not len(t) else
            {"percentile": percentile_ci(t, level, method=percentile), "bc": bc_ci(t, e, level)}
            for t, e in zip(draws, est)]


def replicate_summaries(fit, theta: np.ndarray, dvals: np.ndarray, conv: np.ndarray, level: float,
                        percentile: str) -> tuple[list[float], list[dict]]:
    """Bootstrap SE of every parameter row (0 for fixed rows) and of the defined effects, with their CIs."""
    from .ci import bc_ci, bootstrap_se, percentile_ci
    pt = fit.partable
    se_free = np.array([bootstrap_se(theta[conv, k]) for k in range(theta.shape[1])])
    param_se = [float(se_free[p.free]) if p.free >= 0 else 0.0 for p in pt.params]
    if (fit.parameters.op == "~1").any():   # FIML, cluster=: the ~1 rows come next, as in fit.parameters
        from .fiml import mean_rows_se
        param_se += mean_rows_se(fit, se_free, theta[conv])
    est_def = fit.parameters.loc[fit.parameters.op == ":=", "est"].to_numpy(dtype=float)
    defined = []
    for i, row in enumerate(pt.defined):
        t = dvals[conv, i]
        se = bootstrap_se(t)
        param_se.append(se)
        defined.append({"name": row.lhs, "expression": row.rhs, "est": float(est_def[i]), "se": se,
                        "perc": percentile_ci(t, level, method=percentile), "bc": bc_ci(t, est_def[i], level)})
    return param_se, defined
