"""Admissibility: the one rule that decides whether a solution is proper, for one fit or thousands.

A solution is inadmissible when a free variance is negative (a Heywood case), the latent or the item
residual covariance matrix is not positive definite, a standardized loading (first- or second-order) has
|λ*| > 1, or a standardized covariance has |r| > 1.  ``findings`` evaluates these checks for a batch of
solutions (R, q) in numpy; the single fit turns them into recorded warnings (``admissibility_problems``,
never silence), the bootstrap and the power engine into a boolean per replicate (``admissible``) — so a
resample is counted inadmissible by exactly the rule that would put a warning on a single fit.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .matrices import PSI, THETA, MatrixModel, latent_moments
from .partable import Param, ParTable


@dataclass(frozen=True)
class Findings:
    """The checks of ``R`` solutions; every array has the replicates on its first axis."""

    replicates: int
    variances: tuple[tuple[str, np.ndarray], ...]   # (variable, its free variance (R,)), Ψ then Θ
    latent_min_eig: np.ndarray | None               # smallest eigenvalue of the latent Ψ block (R,)
    residual_min_eig: np.ndarray | None             # smallest eigenvalue of the items' Θ block (R,)
    standardized: tuple[tuple[Param, np.ndarray], ...]   # '=~' and off-diagonal '~~' rows, std.all (R,)

    def ok(self) -> np.ndarray:
        """(R,) True where no check fails."""
        good = np.ones(self.replicates, dtype=bool)
        for _, v in self.variances:
            good &= ~(v < 0)
        for eig in (self.latent_min_eig, self.residual_min_eig):
            if eig is not None:
                good &= eig > 0
        for _, std in self.standardized:
            good &= ~(np.abs(std) > 1)
        return good

    def messages(self, r: int = 0) -> list[str]:
        """The problems of replicate ``r`` as the warnings a single fit records."""
        out = [f"negative variance for {name} ({v[r]:.3f}): Heywood case" for name, v in self.variances if v[r] < 0]
        if self.latent_min_eig is not None and not self.latent_min_eig[r] > 0:
            out.append("the latent covariance matrix is not positive definite")
        if self.residual_min_eig is not None and not self.residual_min_eig[r] > 0:
            out.append("the residual covariance matrix of the items is not positive definite")
        for p, std in self.standardized:
            if abs(std[r]) > 1:
                out.append(f"standardized loading {p.lhs} =~ {p.rhs} is {std[r]:.3f} (> 1)" if p.op == "=~" else
                           f"correlation {p.lhs} ~~ {p.rhs} is {std[r]:.3f} (|r| > 1)")
        return out


def _checked_rows(pt: ParTable) -> list[tuple[int, Param]]:
    return [(r, p) for r, p in enumerate(pt.params) if p.op == "=~" or (p.op == "~~" and p.lhs != p.rhs)]


def _row_values(p: Param, theta: np.ndarray, S: np.ndarray, io: dict[str, int]) -> np.ndarray:
    """A parameter row's value for each replicate (free, fixed.x from S, or fixed)."""
    if p.free >= 0:
        return theta[:, p.free]
    if p.exo:
        return S[:, io[p.lhs], io[p.rhs]]
    return np.full(theta.shape[0], float(p.value))


def standardized_checked_rows(pt: ParTable, mm: MatrixModel, theta: np.ndarray, S: np.ndarray, mats
                              ) -> tuple[tuple[Param, np.ndarray], ...]:
    """std.all of the rows the rule checks, batched, with ``inference.standardized``'s formulas."""
    lam, beta, psi, th = mats
    _, M, sigma = latent_moments(lam, beta, psi, th)
    ie = {v: i for i, v in enumerate(mm.eta)}
    io = {v: i for i, v in enumerate(mm.ov)}
    sd_eta = np.sqrt(np.clip(np.diagonal(M, axis1=1, axis2=2), 1e-300, None))
    sd_ov = np.sqrt(np.clip(np.diagonal(sigma, axis1=1, axis2=2), 1e-300, None))

    def sd(v):
        return sd_eta[:, ie[v]] if v in ie else sd_ov[:, io[v]]

    def resid_var(v):
        return psi[:, ie[v], ie[v]] if v in ie else th[:, io[v], io[v]]

    out = []
    for _, p in _checked_rows(pt):
        est = _row_values(p, theta, S, io)
        if p.op == "=~":
            out.append((p, est * sd(p.lhs) / sd(p.rhs)))
            continue
        denom = resid_var(p.lhs) * resid_var(p.rhs)
        with np.errstate(invalid="ignore", divide="ignore"):
            out.append((p, np.where(denom > 0, est / np.sqrt(np.abs(denom)), np.nan)))
    return tuple(out)


def findings(pt: ParTable, mm: MatrixModel, theta: np.ndarray, S: np.ndarray,
             std_all: np.ndarray | None = None) -> Findings:
    """The admissibility checks of solutions ``theta`` (R, q) with covariances S (R, p, p).

    ``std_all`` (R, rows of ``pt``), when given, is the standardized solution the fit reports (a single
    fit passes its lavaan std.all, so the warning quotes the same number as the table); otherwise it is
    computed here for the checked rows.
    """
    mats = mm.matrices(theta, S)
    _, _, psi, th = mats
    variances = []
    for mid, mat, names in ((PSI, psi, mm.eta), (THETA, th, mm.ov)):
        sel = (mm.f_mat == mid) & (mm.f_row == mm.f_col)
        variances += [(names[i], mat[:, i, i]) for i in mm.f_row[sel]]
    latent = [i for i, v in enumerate(mm.eta) if v in pt.variables.lv]
    ind = [i for i, v in enumerate(mm.ov) if v in pt.variables.ov_ind]
    latent_eig = np.linalg.eigvalsh(psi[:, latent][:, :, latent]).min(axis=1) if latent else None
    resid_eig = np.linalg.eigvalsh(th[:, ind][:, :, ind]).min(axis=1) if ind else None
    if std_all is None:
        std = standardized_checked_rows(pt, mm, theta, S, mats)
    else:
        std = tuple((p, np.asarray(std_all)[..., r].reshape(-1)) for r, p in _checked_rows(pt))
    return Findings(theta.shape[0], tuple(variances), latent_eig, resid_eig, std)


def admissible(pt: ParTable, mm: MatrixModel, theta: np.ndarray, S: np.ndarray) -> np.ndarray:
    """(R,) True for each solution that passes every check (bootstrap resamples, power replications)."""
    with np.errstate(all="ignore"):
        return findings(pt, mm, theta, S).ok()


def admissibility_problems(pt: ParTable, mm: MatrixModel, theta: np.ndarray, S: np.ndarray,
                           std_all: np.ndarray, *, n: int, converged: bool,
                           se_available: bool, matrices: bool = True) -> list[str]:
    """Problems of one solution; ``matrices=False`` checks only convergence, n and the SEs (multigroup fits
    check each group's matrices separately)."""
    problems: list[str] = []
    if not converged:
        problems.append("the optimiser did not converge; estimates are not trustworthy")
    if n < pt.n_free:
        problems.append(f"fewer cases (n = {n}) than free parameters ({pt.n_free})")
    if not se_available:
        problems.append("the information matrix is singular: the model may not be identified; no SEs")
    if not matrices:
        return problems
    return problems + findings(pt, mm, theta[None], S[None], std_all[None]).messages(0)
