"""Admissibility checks a reviewer would ask about; each problem becomes a recorded warning, never silence."""
from __future__ import annotations

import numpy as np

from .matrices import PSI, THETA, MatrixModel
from .partable import ParTable


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
    _, _, psi, th = (x[0] for x in mm.matrices(theta[None], S[None]))
    for mid, mat, names in ((PSI, psi, mm.eta), (THETA, th, mm.ov)):
        sel = (mm.f_mat == mid) & (mm.f_row == mm.f_col)
        for i in mm.f_row[sel]:
            if mat[i, i] < 0:
                problems.append(f"negative variance for {names[i]} ({mat[i, i]:.3f}): Heywood case")
    latent = [i for i, v in enumerate(mm.eta) if v in pt.variables.lv]
    if latent and np.linalg.eigvalsh(psi[np.ix_(latent, latent)]).min() <= 0:
        problems.append("the latent covariance matrix is not positive definite")
    ind = [i for i, v in enumerate(mm.ov) if v in pt.variables.ov_ind]
    if ind and np.linalg.eigvalsh(th[np.ix_(ind, ind)]).min() <= 0:
        problems.append("the residual covariance matrix of the items is not positive definite")
    for r, p in enumerate(pt.params):
        if p.op == "=~" and abs(std_all[r]) > 1:
            problems.append(f"standardized loading {p.lhs} =~ {p.rhs} is {std_all[r]:.3f} (> 1)")
        if p.op == "~~" and p.lhs != p.rhs and abs(std_all[r]) > 1:
            problems.append(f"correlation {p.lhs} ~~ {p.rhs} is {std_all[r]:.3f} (|r| > 1)")
    return problems
