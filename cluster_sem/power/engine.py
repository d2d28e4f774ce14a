"""``cluster-sem power``: Monte Carlo power and sample size from the spec, as named stages.

    spec → sampler + analysis model → population values (fit to Σ_pop) → effects
    → chunks (n, replications) drawn + fitted + tested [in-process | processes | dask], checkpointed
    → per-n summaries → min n per effect, RMSEA close-fit power → power document (a plain dict)

The document is power.json (contract "power.json" plus extra keys); renderers only read it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

import numpy as np

from .. import __version__
from ..errors import ClusterSemError
from ..lavoptions import LavOptions, lav_options
from ..model.inference import standardized_defined
from ..model.matrices import build_matrix_model
from ..model.partable import build_partable
from ..options import DEFAULT_SEED, MAX_POWER_N
from ..simulate.simulator import SurveySampler
from ..spec.schema import Spec
from ..spec.syntax import structural_syntax
from .casewise import CasewiseFitter
from .checkpoint import Checkpoints, checkpoint_key
from .draw import analysis_columns
from .effects import interaction_directions, list_effects
from .fitbatch import BOOT_DRAWS, CI_METHODS, MC_DRAWS, ChunkResult, PowerCore, fit_chunk
from .interaction import METHOD, POPULATION_N, build_product_model, population_sample
from .planning import min_n, rmsea_power
from .population import analysis_moments, mixed_covariance, non_normal_variables, population_values
from .product_moments import product_covariance
from .summarise import merge, summarise_size

CHUNK = 250          # replications per task (and per checkpoint file)
NULL_STD = 0.005     # |standardized population value| below this = a null effect (e.g. a path written as 0.00)


@dataclass(frozen=True)
class PowerOptions:
    sizes: tuple[int, ...]
    reps: int = 1000
    seed: int = DEFAULT_SEED
    alpha: float = 0.05
    target: float = 0.80
    ci: str = "monte-carlo"
    estimator: str = "ML"
    missing: str = "listwise"
    jobs: int = 1
    scheduler: str | None = None
    resume: bool = False
    quiet: bool = True
    mc_draws: int = MC_DRAWS
    clusters: tuple[int, ...] = ()      # clustered design: numbers of clusters K (n = K × cluster_size)
    cluster_size: int | None = None     # firms per cluster M

    def __post_init__(self) -> None:
        """A clustered design's sample sizes are K × M (``sizes`` left empty by the caller)."""
        if self.clusters and self.cluster_size and not self.sizes:
            object.__setattr__(self, "sizes", tuple(k * self.cluster_size for k in self.clusters))

    @property
    def clustered(self) -> bool:
        return bool(self.clusters)

    @cached_property
    def lav(self) -> LavOptions:
        """The resolved estimator options; the support table refuses what power does not run (WLSMV, and
        WLSMV with a clustered design)."""
        return lav_options(self.estimator, self.missing, command="power", design="--cluster" if self.clustered else "")


def check_options(o: PowerOptions) -> None:
    """Option values checked once, as data, at the API boundary."""
    from ..options import POWER_OPTIONS
    from ..options import check_options as check_declared
    _check_design(o)
    if not o.sizes:
        raise ClusterSemError("--n: no sample size given. Fix: e.g. --n 100,128,200,300")
    for n in o.sizes:     # bounded before any work: a size too large to draw fails here, not after n = 100
        check_declared("power", {"n": n}, POWER_OPTIONS)
    if len(set(o.sizes)) != len(o.sizes):
        raise ClusterSemError("--n: a sample size is listed twice. Fix: give each n once, e.g. --n 100,200")
    check_declared("power", {"reps": o.reps, "jobs": o.jobs, "scheduler": o.scheduler}, POWER_OPTIONS)
    from ..bootstrap.parallel import resolve_scheduler
    resolve_scheduler(o.scheduler)      # a dask address without the dask extra: one line now, not after the fit
    if not 0 < o.alpha < 1:
        raise ClusterSemError("--alpha must be between 0 and 1. Fix: e.g. --alpha 0.05")
    if not 0 < o.target < 1:
        raise ClusterSemError("--target must be between 0 and 1. Fix: e.g. --target 0.80")
    if o.ci not in CI_METHODS:
        raise ClusterSemError(f"--ci '{o.ci}' is not known. Fix: use monte-carlo, delta or bootstrap")
    check_declared("power", {"estimator": o.estimator, "missing": o.missing, "seed": o.seed})
    lav = o.lav   # resolved once; the support table refuses what power does not run (WLSMV)
    if o.ci == "bootstrap" and o.clustered:
        raise ClusterSemError("--ci bootstrap with --clusters: a case bootstrap inside each replication ignores "
                              "the clusters (a cluster bootstrap is not implemented in power). Fix: use --ci "
                              "monte-carlo (or delta), which use the cluster-robust standard errors")
    if o.ci == "bootstrap" and not lav.complete_ml:
        raise ClusterSemError("--ci bootstrap: the per-replication bootstrap needs ML with listwise deletion. "
                              "Fix: use --ci monte-carlo (or delta) with --estimator MLR / --missing fiml")
    if o.mc_draws < 100:
        raise ClusterSemError("Monte Carlo draws per replication must be at least 100")


def _check_design(o: PowerOptions) -> None:
    """--clusters K,… with --cluster-size M (and without --n): bounded before any work, one line each."""
    from ..options import POWER_OPTIONS
    from ..options import check_options as check_declared
    if o.cluster_size is not None and not o.clusters:
        raise ClusterSemError("--cluster-size without --clusters: give the numbers of clusters to compare. Fix: "
                              "e.g. --clusters 20,30,40 --cluster-size 8")
    if not o.clusters:
        return
    if o.cluster_size is None:
        raise ClusterSemError("--clusters without --cluster-size: power needs the firms per cluster. Fix: e.g. "
                              "--clusters 20,30,40 --cluster-size 8")
    check_declared("power", {"cluster_size": o.cluster_size}, POWER_OPTIONS)
    for k in o.clusters:
        check_declared("power", {"clusters": k}, POWER_OPTIONS)
    if len(set(o.clusters)) != len(o.clusters):
        raise ClusterSemError("--clusters: a number of clusters is listed twice. Fix: give each once, e.g. "
                              "--clusters 20,30,40")
    if o.sizes != tuple(k * o.cluster_size for k in o.clusters):
        raise ClusterSemError("--n with --clusters: a clustered design's sample sizes are clusters × "
                              "--cluster-size. Fix: drop --n")


def build_core(spec: Spec, options: PowerOptions) -> tuple[PowerCore, object]:
    """Sampler, analysis model, population values and effects (done once per run)."""
    if spec.population is None:
        raise ClusterSemError("spec: key 'population': missing; power needs the data-generating values. "
                              "Fix: add a 'population:' section (loadings, paths, correlations)")
    if not spec.paths:
        raise ClusterSemError("spec: key 'paths': none; power is computed for structural paths. "
                              "Fix: add at least one path")
    sampler = SurveySampler(spec)
    pt = build_partable(structural_syntax(spec, with_defined=True))
    mm = build_matrix_model(pt)
    _, sigma = analysis_moments(sampler, list(mm.ov))
    columns = analysis_columns(sampler, list(mm.ov))
    need_sample = bool(spec.interactions) and interaction_method(options) is not None
    non_normal = non_normal_variables(sampler, list(mm.ov)) if not sampler.continuous else np.zeros(mm.p, bool)
    exact = product_covariance(sampler, list(mm.ov), sigma, non_normal) if non_normal.any() else None
    simulated = non_normal.any() and exact is None
    X_pop = population_sample(sampler, columns) if need_sample or simulated else None
    if exact is not None:
        sigma = exact
    elif simulated:
        sigma = mixed_covariance(sigma, X_pop, non_normal)
    pop = population_values(pt, mm, sigma)
    if simulated:
        pop = replace(pop, simulated=True)
    elif exact is not None:
        pop = replace(pop, quadrature=True)
    products = None
    if need_sample:
        products = build_product_model(spec, X_pop, list(mm.ov), interaction_directions(spec))
    effects = list_effects(spec, pt, pop.theta, pop.defined, pop.std_rows, standardized_defined(pt, pop.std_rows),
                           products.terms if products is not None else ())
    try:
        metric_inv = np.linalg.inv(pop.hessian)
    except np.linalg.LinAlgError:
        metric_inv = np.linalg.pinv(pop.hessian)
    casewise = None
    if options.lav.casewise:
        casewise = CasewiseFitter(structural_syntax(spec, with_defined=True), pt, mm, options.lav)
    core = PowerCore(sampler, columns, pt, mm, pop.theta, metric_inv, tuple(effects), options.seed,
                     options.alpha, options.ci, options.mc_draws, products=products, casewise=casewise,
                     cluster_size=options.cluster_size if options.clustered else None)
    return core, pop


def interaction_method(options: PowerOptions) -> str | None:
    """How interactions are fitted: dblcent product indicators by batched ML with a sandwich SE — with ML and
    with MLR (same estimates on complete data; the robust SE is already the sandwich); with FIML none (a
    product of incompletely answered items is undefined; ``fit`` skips interactions with FIML as well), and none
    with a clustered design (product indicators ignore the clusters; ``fit --cluster`` skips them too — the
    data are still drawn with the population's interaction, so the linear effects' power is the real one)."""
    return METHOD if options.missing == "listwise" and not options.clustered else None


def run_power(spec: Spec | str | Path, options: PowerOptions, out_dir: str | Path | None = None) -> dict:
    """Run the study and return the power document.  With ``out_dir`` completed chunks are checkpointed
    there (and reused with ``options.resume``); results never depend on jobs, scheduler or chunking."""
    check_options(options)
    from ..pipeline import stage_spec            # the fit pipeline's own "load spec + sha256" stage
    name = Path(spec).name if isinstance(spec, (str, Path)) else "spec"
    spec, spec_sha = stage_spec(spec)
    try:
        core, pop = build_core(spec, options)
    except ClusterSemError as exc:   # name the spec file, as every other input error does
        text = str(exc)
        if text.startswith("spec: ") and name != "spec":
            raise type(exc)(f"{name}: {text[len('spec: '):]}") from None
        raise
    _check_listwise_rows(spec, options, core)
    tasks = [(n, lo, min(lo + CHUNK, options.reps)) for n in options.sizes for lo in range(0, options.reps, CHUNK)]
    store = None
    if out_dir is not None:
        store = Checkpoints(Path(out_dir), checkpoint_key({
            "spec": spec_sha, "seed": options.seed, "alpha": options.alpha, "ci": options.ci,
            "mc_draws": options.mc_draws, "boot_draws": BOOT_DRAWS, "chunk": CHUNK, "version": __version__,
            "estimator": options.lav.estimator, "missing": options.missing,
            "interaction_method": interaction_method(options), "format": 3,
            **({"cluster_size": options.cluster_size} if options.clustered else {})}), len(core.effects))
        store.check_writable()
    chunks: list[ChunkResult] = []
    if store is not None and options.resume:
        for task in tasks:
            got = store.load(*task)
            if got is not None:
                chunks.append(got)
        done_keys = {(c.n, c.start) for c in chunks}
        tasks = [t for t in tasks if (t[0], t[1]) not in done_keys]
    from ..bootstrap.parallel import progress, run_tasks
    total = options.reps * len(options.sizes)
    with progress(total, options.quiet, unit="rep", desc="power", initial=total - sum(t[2] - t[1] for t in tasks)) as bar:
        def done(chunk: ChunkResult) -> None:
            if store is not None:
                store.save(chunk)
            chunks.append(chunk)
            bar.update(len(chunk.converged))

        try:
            run_tasks(fit_chunk, core, tasks, jobs=options.jobs, scheduler=options.scheduler, done=done)
        except BaseException as exc:   # Ctrl-C, SIGTERM, a failed task: the caller says what was kept
            exc.power_checkpoints = store   # type: ignore[attr-defined]
            raise
    doc = assemble(spec, spec_sha, options, core, pop, chunks)
    _check_converged(doc, spec, options)
    return doc


def _check_listwise_rows(spec: Spec, options: PowerOptions, core: PowerCore) -> None:
    """Before any work: with listwise deletion a replication of n cases keeps about n·(1 − m)^k complete rows
    (k items of the model blanked independently at ``population.missing_rate`` m); below the p + 1 rows a
    covariance matrix of p variables needs, no replication at that n can be fitted — say so now, not after
    a run whose every power is null."""
    rate = spec.population.missing_rate
    if options.missing != "listwise" or rate <= 0:
        return
    p = core.matrix_model.p
    keep = (1.0 - rate) ** sum(1 for v in core.matrix_model.ov if v in spec.items)
    low = [n for n in sorted(options.sizes) if n * keep < p + 1]
    if not low:
        return
    least = math.ceil((p + 1) / keep)
    bigger = f"--n {least} or more, " if least <= MAX_POWER_N else ""
    raise ClusterSemError(
        f"--n {low[0]}: with population.missing_rate {rate:g} and listwise deletion a replication keeps about "
        f"{low[0] * keep:.2g} complete rows of {low[0]}, fewer than the {p + 1} that {p} analysis variables need, "
        f"so no replication could be fitted. Fix: use {bigger}--missing fiml, or a lower missing_rate")


def _check_converged(doc: dict, spec: Spec, options: PowerOptions) -> None:
    """A sample size at which no replication converged has no power to report (every number null): one
    line naming it, instead of a power.json that looks like a result."""
    empty = [s for s in doc["sizes"] if s["converged"] == 0]
    if not empty:
        return
    sizes = ",".join(str(s["n"]) for s in empty)
    if options.clustered:
        clusters = ",".join(str(s["n"] // options.cluster_size) for s in empty)
        raise ClusterSemError(f"--clusters {clusters}: none of the {options.reps} replications converged with "
                              f"{clusters} clusters of {options.cluster_size} firms, so power there is undefined. "
                              "Fix: use more clusters or a larger --cluster-size")
    model = doc["model"]
    missing = f", population.missing_rate {spec.population.missing_rate:g} with --missing {options.missing}" \
        if spec.population.missing_rate > 0 else ""
    raise ClusterSemError(
        f"--n {sizes}: none of the {options.reps} replications converged at n = {sizes} (the model has "
        f"{model['n_parameters']} free parameters, {model['n_variables']} variables{missing}), so power there is "
        "undefined. Fix: use larger sample sizes in --n"
        + (" or --missing fiml" if missing and options.missing == "listwise" else ""))


def assemble(spec: Spec, spec_sha: str, options: PowerOptions, core: PowerCore, pop, chunks: list[ChunkResult]
             ) -> dict:
    sizes = []
    for n in sorted(options.sizes):
        arrays = merge([c for c in chunks if c.n == n])
        sizes.append(summarise_size(n, arrays, core.effects))
    mins = _smallest(sizes, core.effects, "n", options.target)
    design = _design(spec, options, core, sizes) if options.clustered else {}
    return {
        "spec_sha256": spec_sha, "seed": options.seed, "alpha": options.alpha, "target": options.target,
        "ci_method": options.ci.replace("-", "_"),
        "sizes": sizes,
        "min_n": mins,
        "rmsea_power": [{"n": s["n"], "power": rmsea_power(s["n"], pop.df, alpha=options.alpha)} for s in sizes],
        "effects": [{"name": e.name, "kind": e.kind, "hypothesis": e.hypothesis, "direction": e.direction,
                     "test": "two-sided" if e.direction == 0 else "one direction",
                     "population": e.population, "population_std": e.population_std, "null": _null(e)}
                    for e in core.effects],
        "model": {"df": pop.df, "population_fmin": pop.fmin, "n_parameters": core.partable.n_free,
                  "n_variables": core.matrix_model.p, "syntax": structural_syntax(spec, with_defined=True)},
        "interaction_method": interaction_method(options) if spec.interactions else None,
        "interactions_skipped": [it.name for it in spec.interactions] if spec.interactions and
        interaction_method(options) is None else [],
        "settings": {"reps": options.reps, "sizes": sorted(options.sizes), "estimator": options.lav.estimator,
                     "missing": options.missing,
                     "fitting": "batched ML" if core.casewise is None else "one replication at a time (casewise)",
                     "interaction_population_n": POPULATION_N if core.products is not None else None,
                     "mc_draws": options.mc_draws if options.ci == "monte-carlo" else None,
                     "boot_draws": BOOT_DRAWS if options.ci == "bootstrap" else None,
                     "rmsea_test": {"h0": 0.05, "h1": 0.08}, "continuous": bool(spec.population.continuous),
                     "population_values": "ML fit of the analysis model to the exact population covariance "
                                          "of the analysis variables (pseudo-true values, marker-loading scale)"
                                          + (f"; entries of items downstream of a latent product from "
                                             f"{POPULATION_N:,} simulated cases" if pop.simulated else "")
                                          + ("; entries of items downstream of a latent product by Gauss-Hermite "
                                             "quadrature over the product's partners" if pop.quadrature else ""),
                     "population_simulated_entries": pop.simulated},
        "labels": _labels(spec),
        "meta": {"version": __version__},
        **design,
    }


def _design(spec: Spec, options: PowerOptions, core: PowerCore, sizes: list[dict]) -> dict:
    """The clustered design's keys of power.json: ``design`` (clusters, firms per cluster, ICCs, SE method)
    and ``min_clusters`` per effect (the number of clusters of M firms reaching the target); each size
    entry gains its ``clusters`` and ``cluster_size``."""
    m = options.cluster_size
    for s in sizes:
        s["clusters"], s["cluster_size"] = s["n"] // m, m
    icc = spec.population.icc
    mins = _smallest(sizes, core.effects, "clusters", options.target)
    return {"design": {"clusters": sorted(options.clusters), "cluster_size": m,
                       "icc": dict(icc) if isinstance(icc, dict) else icc,
                       "se": "robust.cluster", "model": "cluster random effects on every construct's shock "
                       "(population.icc); firm-level covariance = the unclustered model's"},
            "min_clusters": mins}


def _smallest(sizes: list[dict], effects, axis: str, target: float) -> dict:
    """Per effect, the smallest ``axis`` value (n, or clusters) whose simulated power reaches ``target``."""
    return {e.name: None if _null(e) else min_n([(s[axis], s["effects"][k]["power"]) for s in sizes], target)
            for k, e in enumerate(effects)}


def _null(effect) -> bool:
    """A population effect of (standardized) zero: its 'power' is the type I error rate, it has no min n."""
    return abs(effect.population_std) < NULL_STD


def _labels(spec: Spec) -> dict:
    """Bilingual display labels the report needs (title, indirect effects, hypothesis wording)."""
    out = {"__title__": spec.title.model_dump(exclude_none=True)}
    for ind in spec.indirect:
        out[ind.name] = ind.label.model_dump(exclude_none=True)
    for h, hyp in spec.hypotheses.items():
        out[h] = hyp.text.model_dump(exclude_none=True)
    for path in spec.paths:
        for x in path.from_:
            a, b = spec.constructs.get(x), spec.constructs.get(path.to)
            out[f"{path.to}~{x}"] = {lang: f"{(a.label.get(lang) if a else None) or x} → "
                                           f"{(b.label.get(lang) if b else None) or path.to}" for lang in ("en", "zh")}
    return out
