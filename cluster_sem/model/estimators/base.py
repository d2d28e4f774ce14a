"""The shape of one estimator's row in the table (``registry.TABLE``) and the lazy references it holds.

A row says, as data, which function does each of lavaan's stages for one estimator × missing-data method:
the single-group fitter (independent sample, and with ``cluster=`` / ``sampling.weights=``), the multigroup
fitter and its stages (objective, vcov, test, fit measures; with clusters too), the Δχ² test of nested fits,
the report kind and the ``meta.conventions`` text.  Functions are named by ``"module:attribute"`` strings
relative to ``cluster_sem.model`` and imported on first use (:func:`resolve`), so declaring WLSMV does not
import the ordinal modules into a plain ML fit (start-up time).
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache

from ...lavoptions import LAVAAN_DEFAULTS

PACKAGE = "cluster_sem.model"
CASEWISE = "fitted_casewise:fit_casewise"       # FIML / MLR / ML with a complex sample, one group
ML_FAMILY_GROUPS = "fit_groups:fit_call"        # the multigroup stages of the ML family


@cache
def resolve(ref: str):
    """The object a ``"module:attribute"`` reference names (module relative to ``cluster_sem.model``)."""
    module, _, attribute = ref.partition(":")
    return getattr(importlib.import_module(f"{PACKAGE}.{module}"), attribute)


@dataclass(frozen=True)
class Stages:
    """The pluggable stages of the multigroup ML-family fit (``fit_groups``), lavaan's ``lav_model_*``.

    ``test_needs_solution``: the test also takes θ̂ and the objective (the robust tests' casewise scores).
    ``fit_measures`` None: the complete-data multigroup indices (``fit_indices.fit_measures_groups``)."""

    objective: str
    vcov: str
    test: str
    test_needs_solution: bool = False
    fit_measures: str | None = None


@dataclass(frozen=True)
class DeltaTest:
    """lavaan's ``lavTestLRT`` method for fits whose statistic is ``statistic`` (``TestResult.name``)."""

    statistic: str
    function: str


@dataclass(frozen=True)
class Estimator:
    """One estimator × missing-data method, with everything downstream asks about it.

    ``fitter`` / ``design_fitter`` / ``group_fitter`` take one :class:`~.route.FitCall` and return a
    ``ModelFit``; ``group_stages`` / ``cluster_stages`` are what ``fit_groups`` plugs in (None: that
    combination is not built, or the estimator's ``group_fitter`` has stages of its own).  ``kind`` is the
    report's name of the run (phrases ``method_<kind>``, ``fit_note_<kind>``, ``conventions_<kind>``);
    ``report_robust`` says its fit note names a robust or scaled statistic.  ``bootstrap`` is an engine *name*,
    not a reference: the engines live in ``bootstrap/``, a layer above ``model/`` (``bootstrap/engines.py``)."""

    estimator: str                  # lavoptions.ESTIMATORS name
    missing: str                    # lavoptions.MISSING name
    kind: str                       # ML | MLR | FIML | FIML_MLR | WLSMV
    shown: str                      # the estimator as a sentence names it
    conventions: str                # results.json meta.conventions of `fit`
    # the ML family's defaults: the casewise likelihood for one group, fit_groups' stages for several
    fitter: str = CASEWISE          # one group, independent unweighted rows
    design_fitter: str | None = CASEWISE    # one group with --cluster / --weights (None: not built)
    group_fitter: str = ML_FAMILY_GROUPS    # several groups, or fit_model's mean-structure path (G = 1)
    group_stages: Stages | None = None
    cluster_stages: Stages | None = None    # several groups with cluster= (complete rows)
    delta_test: DeltaTest | None = None
    invariance_conventions: str | None = None   # meta.conventions of `invariance` (listwise rows carry it)
    casewise: bool = True           # the single-group fit is the casewise likelihood (scores per case)
    score_tests: bool = True        # lavTestScore of equality constraints is built (invariance)
    bootstrap: str = "batched"      # the engine resampling its fits (a name in bootstrap/engines.ENGINES)

    @property
    def categorical(self) -> bool:
        """Ordered items (thresholds, polychorics): lavaan's defaults for the estimator say so."""
        return LAVAAN_DEFAULTS[self.estimator].categorical

    @property
    def robust(self) -> bool:
        """Sandwich SEs and a scaled test: the report names the robust or scaled statistic and indices."""
        return LAVAAN_DEFAULTS[self.estimator].se != "standard"

    def references(self) -> tuple[str, ...]:
        """Every lazy reference of the row (the table test resolves each)."""
        refs = [self.fitter, self.group_fitter, self.design_fitter]
        for st in (self.group_stages, self.cluster_stages):
            if st is not None:
                refs += [st.objective, st.vcov, st.test, st.fit_measures]
        if self.delta_test is not None:
            refs.append(self.delta_test.function)
        return tuple(r for r in refs if r is not None)
