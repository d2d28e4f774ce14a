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
    draws = row_replicates(fit, theta[conv], dvals[conv])
    param_ci = replicate_cis(fit, draws, level, percentile)
    param_se, defined = replicate_summaries(fit, theta, dvals, conv, level, percentile, draws=draws, cis=param_ci)
    from .parallel import backend_name
    backend = backend_name(jobs, scheduler)
    return BootstrapResult(
        B=B, seed=seed, level=level, n_converged=int(conv.sum()), n_nonconverged=int((~conv).sum()),
        n_inadmissible=int((conv & ~adm).sum()), n_fallback=int(fb.sum()), rule=getattr(core, "rule", RULE),
        param_se=np.asarray(param_se, dtype=float), defined=defined, seconds=time.perf_counter() - t0,
        jobs=jobs, backend=backend, estimates=theta, defined_estimates=dvals, converged=conv,
        admissible=adm, param_ci=param_ci,
        resampling="case" if cluster is None else "cluster",
        n_clusters=None if cluster is None else core.n_units)


def row_replicates(fit, theta: np.ndarray, dvals: np.ndarray) -> list:
    """The replicates of every ``fit.parameters`` row from the converged ones (θ columns, lavaan's intercepts
    τ of the ``~1`` rows of a mean structure, the ``:=`` values), in the order of the table; None for a
    fixed row.  Built once: the SEs and both CIs of a row are statistics of the same draws."""
    P = fit.parameters
    draws: list = [theta[:, p.free] if p.free >= 0 else None for p in fit.partable.params]
    if (P.op == "~1").any():
        from .fiml import intercept_replicates
        tau = intercept_replicates(fit, theta)
        empty = np.empty(0)     # a free intercept without converged replicates: SE NaN, no CI (as its θ rows)
        draws += [(empty if tau[v] is None else tau[v]) if v in tau else None for v in P.loc[P.op == "~1", "lhs"]]
    draws += [dvals[:, i] for i in range(dvals.shape[1])]
    return draws


def _interval(t: np.ndarray, est: float, level: float, percentile: str) -> dict:
    from .ci import bc_ci, percentile_ci
    return {"percentile": percentile_ci(t, level, method=percentile), "bc": bc_ci(t, est, level)}


def replicate_cis(fit, draws: list, level: float, percentile: str) -> list:
    """Percentile and BC CI of every ``fit.parameters`` row from its ``row_replicates``; None for a fixed row
    or one without converged replicates."""
    est = fit.parameters["est"].to_numpy(dtype=float)
    return [None if t is None or not len(t) else _interval(t, e, level, percentile) for t, e in zip(draws, est)]


def replicate_summaries(fit, theta: np.ndarray, dvals: np.ndarray, conv: np.ndarray, level: float,
                        percentile: str, *, draws: list | None = None,
                        cis: list | None = None) -> tuple[list[float], list[dict]]:
    """Bootstrap SE of every parameter row (0 for fixed rows) and of the defined effects, with their CIs.

    ``draws``/``cis`` (``row_replicates``/``replicate_cis`` of the same replicates) are reused when given:
    the intercepts' τ replicates and the ``:=`` CIs are then not computed a second time."""
    from .ci import bootstrap_se
    pt = fit.partable
    se_free = np.array([bootstrap_se(theta[conv, k]) for k in range(theta.shape[1])])
    param_se = [float(se_free[p.free]) if p.free >= 0 else 0.0 for p in pt.params]
    n_means = int((fit.parameters.op == "~1").sum())
    if n_means and draws is not None and getattr(fit, "group_model", None) is None:
        param_se += [bootstrap_se(t) if t is not None else 0.0 for t in draws[len(param_se):len(param_se) + n_means]]
    elif n_means:   # FIML, cluster=: the ~1 rows come next, as in fit.parameters
        from .fiml import mean_rows_se
        param_se += mean_rows_se(fit, se_free, theta[conv])
    defined = defined_summaries(fit, pt.defined, dvals[conv], level, percentile,
                                cis=None if cis is None else cis[len(cis) - len(pt.defined):])
    param_se += [d["se"] for d in defined]
    return param_se, defined


def defined_summaries(fit, rows, dvals: np.ndarray, level: float, percentile: str, *,
                      cis: list | None = None) -> list[dict]:
    """``BootstrapResult.defined``: per ``:=`` row (``rows``, the columns of ``dvals``: its converged
    replicates) name, expression, estimate, bootstrap SE, percentile and BC limits — the same record for
    every engine.  ``cis``: the rows' ``replicate_cis`` when already computed (None entries are recomputed)."""
    from .ci import bootstrap_se
    P = fit.parameters
    est_def = P.loc[P.op == ":=", "est"].to_numpy(dtype=float)
    out = []
    for i, row in enumerate(rows):
        t = dvals[:, i]
        ci = (cis[i] if cis is not None else None) or _interval(t, est_def[i], level, percentile)
        out.append({"name": row.lhs, "expression": row.rhs, "est": float(est_def[i]), "se": bootstrap_se(t),
                    "perc": ci["percentile"], "bc": ci["bc"]})
    return out
