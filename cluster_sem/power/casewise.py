"""``--estimator MLR`` / ``--missing fiml`` in power: the casewise fitter, one replication at a time.

Why not batched: FIML's likelihood is a sum over missing-data patterns that differ between replications,
and MLR's sandwich needs each replication's casewise scores; the run's own fitter (the one fit entry,
``model.estimators.fit``: the casewise likelihood, checked against lavaan's ``missing = "ml"`` and
``estimator = "MLR"``) is used as it is, per replication — correct, but ~100× slower per replication
than the batched ML engine.  Estimates and vcov are lavaan's for that estimator (observed information for
FIML, the sandwich for MLR); a replication whose fit fails or does not converge counts as not converged.
A clustered design (``power --clusters``) fits each replication with its cluster codes as lavaan's
``cluster=`` (ML estimates, ``robust.cluster`` sandwich), the same call as ``fit --cluster``.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..bootstrap.batched import admissible
from ..errors import ClusterSemError
from ..lavoptions import LavOptions
from ..model import estimators
from ..model.matrices import MatrixModel
from ..model.partable import ParTable


@dataclass(frozen=True)
class CasewiseFitter:
    """Fit the linear model to each replication's rows by FIML and/or MLR (picklable)."""

    syntax: str
    partable: ParTable
    matrix_model: MatrixModel
    lav: LavOptions            # the run's resolved options (ML/MLR, listwise/fiml, the cluster design)

    CLUSTER = "(cluster)"      # the cluster column handed to the fitter (no model variable can be named so)

    @property
    def missing(self) -> str:
        return self.lav.missing

    def fit(self, data: list[np.ndarray], clusters: list[np.ndarray] | None = None):
        """Fit every replication; ``clusters`` (one code array per replication) makes the SEs cluster-robust."""
        from .fitbatch import Fitted
        mm = self.matrix_model
        b, q = len(data), mm.n_free
        theta, vcov = np.full((b, q), np.nan), np.full((b, q, q), np.nan)
        converged, ok_adm = np.zeros(b, dtype=bool), np.zeros(b, dtype=bool)
        for r, x in enumerate(data):
            try:
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore")
                    frame = pd.DataFrame(x, columns=list(mm.ov))
                    if clusters is not None:
                        frame[self.CLUSTER] = clusters[r]
                    fit = estimators.fit(self.syntax, frame, self.lav,
                                         cluster=self.CLUSTER if clusters is not None else None)
            except (ClusterSemError, np.linalg.LinAlgError, ValueError, FloatingPointError):
                continue
            se = np.sqrt(np.diag(fit.vcov))
            if not (fit.converged and np.all(np.isfinite(se))):
                continue
            theta[r], vcov[r], converged[r] = fit.theta, fit.vcov, True
            ok_adm[r] = admissible(self.partable, mm, fit.theta[None], fit.sample_cov[None])[0]
        with np.errstate(invalid="ignore"):
            se_all = np.sqrt(np.diagonal(vcov, axis1=1, axis2=2))
        return Fitted(theta, vcov, se_all, converged, ok_adm & converged, np.zeros(b, dtype=bool))
