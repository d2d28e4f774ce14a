"""The standardized continuous data-generating model of ``spec.population``, in closed form.

Why closed form: the simulator's correctness is tested against these matrices, so they must not come from
simulation themselves.  The model is written in RAM/LISREL notation over a vector ``eta`` holding every
construct (first and second order) followed by every control (controls are observed exogenous variables,
treated as error-free "latents" with a unit loading on their own column):

    eta = B eta + zeta,   Cov(zeta) = Psi,   x = Lambda eta + eps,   Cov(eps) = Theta
    Sigma_eta = T Psi T',  T = (I - B)^-1,   Sigma_x = Lambda Sigma_eta Lambda' + Theta

``B`` holds the structural paths, the dimension loadings of second-order constructs (dimension <- higher
construct) and the controls' effects.  Every variance in the model is 1: exogenous variables have
``Psi_jj = 1`` and their correlations from ``population.correlations``; for an endogenous variable the
residual variance is solved in topological order so that ``Var(eta_j) = 1`` *given* the correlations of
its predictors (i.e. ``1 - b'Rb`` for plain regressions, also honouring residual correlations with earlier
variables).  Items have loading ``lambda`` and residual variance ``1 - lambda^2``; item residual
correlations scale ``Theta``.  Reverse-keyed items are modelled *as recoded* (positive loading): the
simulator stores them reversed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter

import numpy as np
import pandas as pd

from ..errors import SpecError
from ..model.matrices import structural_inverse
from ..spec.schema import Population, Spec


@dataclass(frozen=True)
class PopulationModel:
    """All matrices of the continuous model (numpy arrays; names give the row/column order)."""

    latent: tuple[str, ...]      # constructs (spec order), controls, then latent products "X:Z"
    observed: tuple[str, ...]    # items (questionnaire order) then controls (spec order)
    B: np.ndarray
    Psi: np.ndarray
    Lambda: np.ndarray
    Theta: np.ndarray
    sigma_latent: np.ndarray
    sigma_observed: np.ndarray

    products: tuple[tuple[int, int, int], ...] = ()  # (product index, first, second) in ``latent``

    @property
    def linear_latents(self) -> list[int]:
        """Positions in ``latent`` of the variables that are not latent products (they carry the shocks)."""
        product_idx = {k for k, _, _ in self.products}
        return [k for k in range(len(self.latent)) if k not in product_idx]

    def latent_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.sigma_latent, index=list(self.latent), columns=list(self.latent))

    def observed_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.sigma_observed, index=list(self.observed), columns=list(self.observed))


def _population(spec: Spec) -> Population:
    if spec.population is None:
        raise SpecError("spec: key 'population': missing; simulation needs population values. "
                        "Fix: add a 'population:' section with loadings, paths and correlations")
    return spec.population


def _bad(key: str, problem: str, fix: str) -> SpecError:
    return SpecError(f"spec: key 'population.{key}': {problem}. Fix: {fix}")


def build_population(spec: Spec) -> PopulationModel:
    """Assemble B, Psi, Lambda, Theta of the standardized continuous model and its implied covariances.

    Steps: structural coefficients B → correlations → causal order → disturbance variances that make every
    construct's variance 1 → loadings and residual variances of the items → positive-definiteness check.
    """
    pop = _population(spec)
    controls = list(spec.controls)
    # A latent product X*Z enters as a pseudo-latent P: for zero-mean jointly normal X, Z (and everything
    # else linear in normal shocks) third moments vanish, so P is uncorrelated with every linear variable
    # and Var(P) = Var(X)Var(Z) + Cov(X,Z)^2 — the second moments stay in closed form.
    product_names = list(dict.fromkeys(f"{a}:{b}" for a, b in (it.between for it in pop.interactions)))
    latent = list(spec.constructs) + controls + product_names
    index = {name: i for i, name in enumerate(latent)}
    B = _structural_coefficients(spec, pop, latent, index)
    resid_corr, item_corr = _correlations(spec, pop, index)
    order = _causal_order(latent, index, B, product_names)
    T = structural_inverse(B)
    Psi = _disturbances(order, index, product_names, T, resid_corr)
    sigma_latent = T @ Psi @ T.T
    items = list(spec.items)
    observed = items + controls
    Lambda, Theta = _measurement(spec, pop, index, observed, item_corr)
    sigma_observed = Lambda @ sigma_latent @ Lambda.T + Theta
    construct_keys = [key for key, group in (("correlations", pop.correlations),
                                             ("residual_correlations", pop.residual_correlations))
                      if any(a in index and b in index for a, b in (c.between for c in group))]
    item_keys = list(dict.fromkeys(key for *_, key in item_corr))
    for label, matrix, keys in (("constructs", sigma_latent, construct_keys),
                                ("items", sigma_observed, item_keys or construct_keys)):
        eig = np.linalg.eigvalsh(matrix)
        if eig.min() <= 1e-10:
            # name the key whose values are at fault (residual correlations are not 'correlations')
            key, *also = keys or ["correlations"]
            extra = "".join(f" together with population.{k}" for k in also)
            raise _bad(key, f"the implied correlation matrix of the {label} is not positive definite "
                       f"(smallest eigenvalue {eig.min():.2g}){extra}", "use correlations that can occur together "
                       "(smaller values, or consistent signs)")
    products = tuple((index[name], index[name.split(":")[0]], index[name.split(":")[1]]) for name in product_names)
    return PopulationModel(tuple(latent), tuple(observed), B, Psi, Lambda, Theta, sigma_latent, sigma_observed,
                           products)


@dataclass(frozen=True)
class ClusterLevels:
    """The between/within split of a population model for clustered samples (``population.icc``).

    Linear model: a firm's continuous responses are ``x = u_c @ between_factor.T + w @ within_chol.T`` with
    ``u_c ~ N(0, I_m)`` drawn once per cluster and ``w ~ N(0, I_p)`` per firm, so Cov(x) = Σ_B + Σ_W is the
    unclustered model's Σ exactly (see ``Population``'s docstring for the model).  With latent products the
    shocks are split instead (cluster shocks ``u_c @ shock_between.T``, firm shocks through ``within_shocks``)
    and the products are formed from each firm's total scores, whose distribution is again the
    unclustered one."""

    icc: np.ndarray              # (m,) ICC of each latent's shock (0 for controls and products)
    shock_between: np.ndarray    # (m, m) = D L, L = chol(Ψ), D = diag √icc
    between_factor: np.ndarray   # (p, m) = Λ T D L
    within_chol: np.ndarray | None    # (p, p) Cholesky factor of Σ_W = Σ − Σ_B (linear models)
    within_shocks: np.ndarray | None  # Cholesky factor of Ψ_W over the linear latents (product models)

    @property
    def sigma_between(self) -> np.ndarray:
        return self.between_factor @ self.between_factor.T

    def observed_icc(self, model: PopulationModel) -> np.ndarray:
        """The ICC each observed variable inherits, [Σ_B]_jj / Σ_jj (continuous responses, linear models)."""
        return np.diag(self.sigma_between) / np.diag(model.sigma_observed)


def cluster_levels(spec: Spec, model: PopulationModel | None = None) -> ClusterLevels:
    """Split ``spec``'s population into cluster random effects and firm-level parts by ``population.icc``."""
    pop = _population(spec)
    model = model or build_population(spec)
    icc = np.array([pop.icc_of(name) if name in spec.constructs else 0.0 for name in model.latent])
    L = np.linalg.cholesky(model.Psi)
    D = np.sqrt(icc)
    shock_between = D[:, None] * L
    psi_within = model.Psi - D[:, None] * model.Psi * D[None, :]
    factor = model.Lambda @ structural_inverse(model.B) @ shock_between
    linear = model.linear_latents
    try:
        if np.linalg.eigvalsh(psi_within).min() < -1e-12:
            raise np.linalg.LinAlgError
        if model.products:
            return ClusterLevels(icc, shock_between, factor, None,
                                 np.linalg.cholesky(psi_within[np.ix_(linear, linear)]))
        within = np.linalg.cholesky(model.sigma_observed - factor @ factor.T)
    except np.linalg.LinAlgError:
        raise _bad("icc", "with these unequal ICCs the firm-level covariance of correlated constructs is not "
                   "positive definite", "use closer ICCs for strongly correlated constructs (or one value "
                   "for all)") from None
    return ClusterLevels(icc, shock_between, factor, within, None)


def cluster_sizes(n: int, clusters: int) -> np.ndarray:
    """n firms in ``clusters`` clusters of nearly equal size (the first n mod K clusters one firm larger)."""
    base, extra = divmod(int(n), int(clusters))
    return np.array([base + 1] * extra + [base] * (int(clusters) - extra), dtype=np.int64)


def _structural_coefficients(spec: Spec, pop: Population, latent: list[str], index: dict[str, int]) -> np.ndarray:
    """B: paths, second-order dimension loadings, interaction effects and control effects."""
    B = np.zeros((len(latent), len(latent)))

    def put(outcome: str, predictor: str, value: float, key: str) -> None:
        for name in (outcome, predictor):
            if name not in index:
                raise _bad(key, f"'{name}' is not a construct or control of the spec",
                           f"use one of {', '.join(latent)}")
        B[index[outcome], index[predictor]] += value

    for outcome, preds in pop.paths.items():
        for predictor, b in preds.items():
            put(outcome, predictor, b, f"paths.{outcome}.{predictor}")
    for higher, construct in spec.second_order.items():
        for dim in construct.dimensions or ():
            if dim not in pop.dimension_loadings:
                raise _bad("dimension_loadings", f"no loading for dimension '{dim}' of '{higher}'",
                           f"add '{dim}: 0.75' (a standardized loading between 0 and 1)")
            put(dim, higher, pop.dimension_loadings[dim], f"dimension_loadings.{dim}")
    for k, it in enumerate(pop.interactions):
        put(it.to, f"{it.between[0]}:{it.between[1]}", it.effect, f"interactions[{k}]")
    for control, effect in pop.controls.items():
        if control not in index:
            continue  # a control the questionnaire does not collect has nothing to generate
        for outcome, b in effect.effects.items():
            put(outcome, control, b, f"controls.{control}.effects.{outcome}")
    return B


def _correlations(spec: Spec, pop: Population, index: dict[str, int]
                  ) -> tuple[np.ndarray, list[tuple[str, str, float, str]]]:
    """(Corr(zeta_j, zeta_k) of constructs/controls, item residual correlations): exogenous correlations and
    residual correlations both fix the correlation of the disturbances."""
    m = len(index)
    resid_corr = np.zeros((m, m))
    item_corr: list[tuple[str, str, float, str]] = []
    for key, group in (("correlations", pop.correlations), ("residual_correlations", pop.residual_correlations)):
        for c in group:
            a, b = c.between
            if a in index and b in index:
                resid_corr[index[a], index[b]] = resid_corr[index[b], index[a]] = c.r
            elif a in spec.items and b in spec.items:
                item_corr.append((a, b, c.r, key))
            else:
                raise _bad(key, f"{a} ~~ {b}: both must be constructs/controls or both items",
                           "name two constructs (or two item ids)")
    return resid_corr, item_corr


def _causal_order(latent: list[str], index: dict[str, int], B: np.ndarray, product_names: list[str]) -> list[str]:
    """Constructs with every predictor before its outcome (a product after both partners)."""
    parents = {name: {p for p in latent if B[index[name], index[p]] != 0} for name in latent}
    for name in product_names:
        parents[name] = set(name.split(":"))
    try:
        return list(TopologicalSorter(parents).static_order())
    except CycleError as exc:
        raise _bad("paths", f"the paths form a cycle ({' -> '.join(exc.args[1])})",
                   "simulation needs a recursive (acyclic) model; remove one path of the cycle") from None


def _disturbances(order: list[str], index: dict[str, int], product_names: list[str], T: np.ndarray,
                  resid_corr: np.ndarray) -> np.ndarray:
    """Psi such that every construct has variance 1, solved in causal order."""
    m = len(index)
    Psi = np.zeros((m, m))
    scale = np.zeros(m)  # sqrt(Psi_jj)
    done: list[int] = []
    for name in order:
        j = index[name]
        if name in product_names:
            ia, ib = (index[v] for v in name.split(":"))
            cov = T[np.ix_([ia, ib], done)] @ Psi[np.ix_(done, done)] @ T[np.ix_([ia, ib], done)].T
            Psi[j, j] = cov[0, 0] * cov[1, 1] + cov[0, 1] ** 2
            scale[j] = math.sqrt(Psi[j, j])
            done.append(j)
            continue
        anc = [k for k in done if abs(T[j, k]) > 0]
        # Var(eta_j) = c + 2 a s + s^2 with s = sqrt(Psi_jj): c from ancestors' residuals, a from
        # residual correlations between j and its ancestors.
        t = T[j, anc]
        c = float(t @ Psi[np.ix_(anc, anc)] @ t) if anc else 0.0
        a = float(sum(T[j, k] * resid_corr[j, k] * scale[k] for k in anc))
        disc = a * a + 1.0 - c
        s = -a + math.sqrt(disc) if disc > 0 else -1.0
        if s <= 1e-8:
            raise _bad("paths", f"the predictors of '{name}' explain all or more than all of its variance "
                       f"(R^2 = {c:.3f})", "use smaller standardized coefficients or correlations")
        scale[j] = s
        Psi[j, j] = s * s
        for k in done:
            if resid_corr[j, k]:
                Psi[j, k] = Psi[k, j] = resid_corr[j, k] * s * scale[k]
        done.append(j)
    return Psi


def _measurement(spec: Spec, pop: Population, index: dict[str, int], observed: list[str],
                 item_corr: list[tuple[str, str, float, str]]) -> tuple[np.ndarray, np.ndarray]:
    """Lambda and Theta of the standardized items (controls measured without error)."""
    items = list(spec.items)
    p = len(observed)
    Lambda = np.zeros((p, len(index)))
    Theta = np.zeros((p, p))
    for construct in spec.first_order:
        for item in spec.items_of(construct):
            if item not in pop.loadings:
                raise _bad("loadings", f"no loading for item '{item}' of '{construct}'",
                           f"add '{item}: 0.75' (a standardized loading between 0 and 1)")
            lam = pop.loadings[item]
            if not 0 < abs(lam) < 1:
                raise _bad(f"loadings.{item}", f"{lam} is not strictly between 0 and 1 in absolute value",
                           "use a standardized loading such as 0.75")
            r = items.index(item)
            Lambda[r, index[construct]] = lam
            Theta[r, r] = 1.0 - lam * lam
    for i, control in enumerate(spec.controls):
        Lambda[len(items) + i, index[control]] = 1.0
    for a, b, r, _ in item_corr:
        ia, ib = observed.index(a), observed.index(b)
        Theta[ia, ib] = Theta[ib, ia] = r * math.sqrt(Theta[ia, ia] * Theta[ib, ib])
    return Lambda, Theta


def implied_correlation(spec: Spec) -> pd.DataFrame:
    """Model-implied correlations of items (as recoded, i.e. construct-aligned) and controls."""
    return build_population(spec).observed_frame()


def latent_correlation(spec: Spec) -> pd.DataFrame:
    """Model-implied correlations of all constructs and controls."""
    return build_population(spec).latent_frame()


def default_thresholds(categories: int) -> tuple[float, ...]:
    """Cut points when the spec gives none: evenly spaced on [-1.5, 1.5] (a bell-shaped response)."""
    if categories < 2:
        return ()
    if categories == 2:
        return (0.0,)
    return tuple(float(x) for x in np.linspace(-1.5, 1.5, categories - 1))


def thresholds_for(spec: Spec, item: str) -> tuple[float, ...]:
    """Standard-normal cut points of one item (len = max - min), checked to be increasing."""
    pop = _population(spec)
    scale = spec.scale_of(item)
    k = scale.max - scale.min + 1
    given = pop.thresholds
    if isinstance(given, dict):
        tau = given.get(item)
    else:
        tau = given
    if tau is None or (not isinstance(given, dict) and len(tau) != k - 1 and spec.items[item].scale is not None):
        tau = default_thresholds(k)
    tau = tuple(float(t) for t in tau)
    if len(tau) != k - 1:
        raise _bad("thresholds", f"item '{item}' has {k} categories ({scale.min}..{scale.max}) and needs "
                   f"{k - 1} thresholds, got {len(tau)}", f"give {k - 1} increasing cut points")
    if any(b <= a for a, b in zip(tau, tau[1:])):
        raise _bad("thresholds", f"cut points {list(tau)} are not strictly increasing",
                   "sort them from low to high, e.g. [-1.6, -0.7, 0.2, 1.1]")
    return tau
