"""Latent interactions (H5) as power effects: double-mean-centred product indicators, batched.

Why dblcent and not LMS: LMS integrates over the moderator per case and per iteration (seconds per fit),
so 1000 replications × several n would take hours.  The product-indicator route (Lin et al. 2010; modsem's
``method = "dblcent"``) turns the interaction model into an ordinary covariance-structure model — the
spec's structural model plus a product factor measured by centred products of the partners' indicators —
so every replication is fitted by the same batched ML engine as the linear model.  It is the route
``cluster-sem fit --interaction-method dblcent`` takes (matched pairs; a second-order partner enters
through dimension parcels), and it is consistent for the product coefficient (normal latents: the product
is uncorrelated with every linear variable), though less efficient than LMS: power from it is, if
anything, conservative.

The model's *structure* (syntax with the product factor, which indicators are multiplied) comes from
:func:`cluster_sem.model.interaction.dblcent.product_data` itself; here it is turned into column indices
so that the product columns of a replication are computed by numpy (a test checks they equal
``product_data``'s).  Population values: the product model fitted to the moments of one large simulated
population sample (``POPULATION_N`` cases, a fixed seed independent of ``--seed``): fourth moments of
Likert-coded products have no closed form; the Monte Carlo error of these pseudo-true values is about
√(n/POPULATION_N) ≈ 3 % of one replication's SE at n = 200.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import ClusterSemError
from ..model.estimator import fisher_scoring, simple_start
from ..model.inference import standardized
from ..model.interaction.dblcent import construct_indicators, product_data
from ..model.interaction.fit import interaction_syntax, product_label
from ..model.interaction.terms import split_interactions
from ..model.matrices import MatrixModel, build_matrix_model
from ..model.partable import ParTable, build_partable
from ..model.syntax_parser import parse_syntax
from ..simulate.simulator import SurveySampler
from ..spec.schema import Spec
from .draw import covariance, draw_replication

METHOD = "dblcent"
PAIRS = "matched"              # as ``fit --interaction-method dblcent`` (stage.fit_interaction_model)
POPULATION_N = 400_000
POPULATION_SEED = 20_260_513   # fixed: population values must not depend on --seed


@dataclass(frozen=True)
class ProductTerm:
    """One product coefficient ``outcome ~ factor`` of the product model (an interaction effect)."""

    name: str                  # the spec interaction's name (or name@outcome when it has several outcomes)
    outcome: str
    factor: str
    index: int                 # free-parameter index in the product model
    direction: int
    population: float
    population_std: float
    hypothesis: str | None


@dataclass(frozen=True)
class ProductModel:
    """The dblcent interaction model, ready for batched fits of many replications (picklable)."""

    syntax: str
    partable: ParTable
    matrix_model: MatrixModel
    sources: tuple[tuple[int, ...], ...]   # per multiplied indicator: linear-data columns averaged (1 = item)
    pairs: tuple[tuple[int, int], ...]     # product k = sources[a] × sources[b]
    order: np.ndarray                      # model variables ← [linear columns, product columns]
    theta_pop: np.ndarray
    metric_inv: np.ndarray
    terms: tuple[ProductTerm, ...]

    def data(self, X: np.ndarray) -> np.ndarray:
        """A replication's rows (linear model's variables) → the product model's variables, in its order."""
        return np.concatenate([X, product_columns(X, self.sources, self.pairs)], axis=1)[:, self.order]


def product_columns(X: np.ndarray, sources, pairs) -> np.ndarray:
    """Double-mean-centred products: centre each multiplied indicator (an item or a dimension parcel =
    mean of its items), multiply the pairs, centre the products again (as ``product_data``)."""
    if len(X) == 0:
        return np.empty((0, len(pairs)))
    ind = np.stack([X[:, list(s)].mean(axis=1) if len(s) > 1 else X[:, s[0]] for s in sources], axis=1)
    ind = ind - ind.mean(axis=0)
    prod = np.stack([ind[:, a] * ind[:, b] for a, b in pairs], axis=1)
    return prod - prod.mean(axis=0)


def population_sample(sampler: SurveySampler, columns: list) -> np.ndarray:
    """The simulated population (``POPULATION_N`` cases, fixed seed) of the linear model's variables."""
    return draw_replication(sampler, columns, POPULATION_N, POPULATION_SEED, 0)


def build_product_model(spec: Spec, X_pop: np.ndarray, linear_ov: list[str], signs: dict[str, int]
                        ) -> ProductModel:
    """Syntax and indicator plan from ``product_data``; population values from the simulated population
    ``X_pop`` (:func:`population_sample`, columns ``linear_ov``).

    ``signs``: the direction tested for each interaction (by name), decided by :mod:`.effects`.
    """
    base = interaction_syntax(spec)
    syntax, frame, products = product_data(base, pd.DataFrame(X_pop, columns=linear_ov), PAIRS)
    pt = build_partable(syntax)
    mm = build_matrix_model(pt)
    measures = construct_indicators(parse_syntax(split_interactions(base)[0]))
    col = {v: j for j, v in enumerate(linear_ov)}

    def source(name: str) -> tuple[int, ...]:
        if name in col:
            return (col[name],)
        dim = name[: -len("_parcel")]
        return tuple(col[i] for i in measures[dim] if i not in measures)

    names, sources, pairs, product_names = {}, [], [], []
    for prod in products:
        for pname, (a, b) in zip(prod.indicators, prod.pairs):
            for v in (a, b):
                if v not in names:
                    names[v] = len(sources)
                    sources.append(source(v))
            pairs.append((names[a], names[b]))
            product_names.append(pname)
    all_names = linear_ov + product_names
    order = np.array([all_names.index(v) for v in mm.ov])
    S_pop = covariance(frame[list(mm.ov)].to_numpy(dtype=float))
    sol = fisher_scoring(mm, S_pop, simple_start(mm, S_pop), max_iter=2000)
    if not sol.converged:
        raise ClusterSemError("population: the interaction (product-indicator) model could not be fitted to the "
                              "simulated population. Fix: check the population interaction values")
    std = standardized(pt, mm, sol.theta, S_pop)
    rows = {(p.lhs, p.op, p.rhs): (r, p) for r, p in enumerate(pt.params)}
    terms = []
    for prod in products:
        it = next(i for i in spec.interactions
                  if product_label(i.name, prod.interaction.outcome) == prod.interaction.label)
        r, p = rows[(prod.interaction.outcome, "~", prod.factor)]
        name = it.name if len(it.outcomes) == 1 else f"{it.name}@{prod.interaction.outcome}"
        terms.append(ProductTerm(name, prod.interaction.outcome, prod.factor, p.free, signs[it.name],
                                 float(sol.theta[p.free]), float(std[r]), it.hypothesis))
    try:
        metric_inv = np.linalg.inv(mm.expected_hessian(sol.theta, S_pop))
    except np.linalg.LinAlgError:
        metric_inv = np.linalg.pinv(mm.expected_hessian(sol.theta, S_pop))
    return ProductModel(syntax, pt, mm, tuple(sources), tuple(pairs), order, sol.theta, metric_inv, tuple(terms))


def robust_se(mm: MatrixModel, theta: np.ndarray, X: np.ndarray, vcov: np.ndarray, index: int) -> float:
    """Sandwich SE of one parameter (lavaan's ``se = "robust.sem"``: expected information, ADF Γ).

    Why: product indicators are not normal, so the normal-theory ML SE of the product coefficient runs
    small even at large n (95% coverage ≈ .91 at n = 1000 in tests/test_power_interaction.py) and its power
    would be optimistic.  The sandwich needs no Γ matrix for one parameter: to first order
    θ̂_k − θ_k = tr(M (S − Σ)) with M = Σ⁻¹ (Σ_j [H⁻¹]_kj ∂Σ/∂θ_j) Σ⁻¹ (H the expected Hessian of F_ML), so
    Var(θ̂_k) = Var_i(x_i' M x_i) / N — for normal data exactly the ML variance 2[H⁻¹]_kk / N.
    """
    n = len(X)
    S = covariance(X)
    sinv = np.linalg.inv(mm.implied(theta[None], S[None])[0])
    h_row = vcov[index] * n / 2.0                                # row k of H⁻¹ (vcov = 2 H⁻¹ / N)
    M = sinv @ (mm.jacobian(theta, S) @ h_row) @ sinv
    Xc = X - X.mean(axis=0)
    quad = np.einsum("ij,jk,ik->i", Xc, M, Xc)
    return float(np.sqrt(quad.var() / n))
