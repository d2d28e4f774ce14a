"""The resolved options of one run (lavaan's ``lavoptions``) and the one table of supported combinations.

lavaan resolves ``estimator = "MLR"`` once, in ``lav_options_set``, into everything the estimator implies
(``se = "robust.huber.white"``, ``test = "yuan.bentler.mplus"``, ``information = "observed"``, ...), and
the rest of lavaan reads ``lavoptions$se`` instead of asking "is this MLR?" again.  ``LavOptions`` is that
object here: built once per run by :func:`lav_options` from the spec and the command-line/API values, and
passed down, so no stage re-reads or upper-cases the raw ``--estimator`` string.

Which estimator × missing × groups × controls × interaction × engine combinations run is declared once, in
``SUPPORT``: the first matching row decides, and its text is *the* message (exit 2 for ``refuse``, a
results.json warning for ``skip``).  A combination no row matches is supported.  docs/architecture.md
("Combination matrix") lists the supported combinations with the lavaan-reference test of each.
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace

from .errors import ClusterSemError

ESTIMATORS = ("ML", "MLR", "WLSMV")
MISSING = ("listwise", "fiml")
ENGINES = ("default", "semopy")
ENGINE_NAMES = {"default": "cluster-sem", "semopy": "semopy"}   # meta.engine
COMMANDS = ("fit", "invariance", "power")


@dataclass(frozen=True)
class EstimatorDefaults:
    """What lavaan 0.6 sets for an estimator with complete data (lav_options_set / lav_options_est_*)."""

    se: str
    test: str
    information: str
    categorical: bool = False   # ordered items: thresholds, polychorics, conditional.x = TRUE


LAVAAN_DEFAULTS: dict[str, EstimatorDefaults] = {
    "ML": EstimatorDefaults(se="standard", test="standard", information="expected"),
    # lav_options_est_ml: se robust.huber.white; information "observed" because se is robust.huber.white
    "MLR": EstimatorDefaults(se="robust.huber.white", test="yuan.bentler.mplus", information="observed"),
    # WLSMV = DWLS + robust.sem SEs + scaled.shifted test, expected information, categorical data
    "WLSMV": EstimatorDefaults(se="robust.sem", test="scaled.shifted", information="expected", categorical=True),
}


@dataclass(frozen=True)
class LavOptions:
    """One run's options, resolved once; fields named (and valued) as lavaan's ``lavInspect(fit, "options")``."""

    estimator: str          # ML | MLR | WLSMV (upper case, the spec's default applied)
    missing: str            # listwise | fiml  (our spelling; lavaan's is ``lavaan_missing``)
    engine: str             # default | semopy (start values of the ML-family fits)
    se: str                 # standard | robust.huber.white | robust.sem
    test: str               # standard | yuan.bentler.mplus | scaled.shifted
    information: str        # expected | observed
    meanstructure: bool
    fixed_x: bool
    conditional_x: bool
    groups: bool = False    # a multigroup analysis (``invariance``)
    controls: bool = False  # the spec has controls (fixed.x covariates)
    interaction: bool = False   # the spec has latent interactions
    command: str = "fit"
    design: str = ""        # complex sample: "--cluster" or "--weights" (the option that asked for it), "" none
    bootstrap: bool = False     # resampling CIs were asked for (--bootstrap B > 0)
    modindices: bool = False    # lavaan modindices() were asked for (--modindices)
    cluster_bootstrap: bool = False   # --cluster-bootstrap: resample whole clusters (bootstrap.clusters)

    @property
    def lavaan_missing(self) -> str:
        """lavaan's word for the missing-data method (results.json ``meta.missing``)."""
        return "ml" if self.missing == "fiml" else "listwise"

    @property
    def ordinal(self) -> bool:
        """Items are ordered categories (WLSMV: thresholds, polychorics, DWLS)."""
        return LAVAAN_DEFAULTS[self.estimator].categorical

    @property
    def robust(self) -> bool:
        """Sandwich standard errors and a scaled test statistic (MLR, WLSMV)."""
        return self.se != "standard"

    @property
    def fiml(self) -> bool:
        return self.missing == "fiml"

    @property
    def complete_ml(self) -> bool:
        """Plain ML on complete, independent, unweighted rows: the covariance-only Fisher-scoring core, LMS, the
        batched bootstrap (clusters and weights need the casewise scores)."""
        return self.estimator == "ML" and self.missing == "listwise" and not self.design

    @property
    def casewise(self) -> bool:
        """Fitted by the casewise likelihood (FIML and/or MLR's case scores), not from the covariance matrix."""
        return not self.ordinal and not self.complete_ml

    @property
    def engine_name(self) -> str:
        """What results.json ``meta.engine`` records."""
        return ENGINE_NAMES[self.engine]

    @property
    def combination(self) -> "Combination":
        """Where these options sit in the support table."""
        return Combination(self.command, self.estimator, self.missing, self.engine, self.groups, self.controls,
                           self.interaction, self.complete_ml, self.design, self.bootstrap, self.modindices,
                           self.cluster_bootstrap)


@dataclass(frozen=True)
class Combination:
    """The dimensions a support row can match: the options as given, and ``complete_ml`` (ML on complete rows),
    so that "anything but plain ML" is one row rather than one per estimator/missing pair."""

    command: str
    estimator: str
    missing: str
    engine: str
    groups: bool
    controls: bool
    interaction: bool
    complete_ml: bool
    design: str = ""
    bootstrap: bool = False
    modindices: bool = False
    cluster_bootstrap: bool = False


@dataclass(frozen=True)
class Support:
    """A row of the support table: every key of ``when`` must hold (value in its set); ``verdict`` refuse → exit 2
    with ``message``, skip → that part is not estimated and ``message`` becomes a warning.  ``message`` may use
    the combination's fields ({estimator}, {missing}, ...) and ``{names}`` (the spec's interactions)."""

    when: dict
    verdict: str
    message: str

    def matches(self, combo: Combination) -> bool:
        return all(getattr(combo, key) in allowed for key, allowed in self.when.items())


SUPPORT: tuple[Support, ...] = (
    Support({"estimator": {"WLSMV"}, "missing": {"fiml"}}, "refuse",
            "--estimator WLSMV with --missing fiml: full-information ML is an ML method, and WLSMV fits "
            "thresholds and polychoric correlations of the complete rows. Fix: use --missing listwise with "
            "WLSMV, or --estimator ML/MLR with --missing fiml"),
    Support({"command": {"power"}, "estimator": {"WLSMV"}}, "refuse",
            "--estimator WLSMV: power supports ML and MLR in this version (WLSMV is not implemented for "
            "power). Fix: use --estimator ML or MLR"),
    Support({"engine": {"semopy"}, "estimator": {"WLSMV"}}, "refuse",
            "--engine semopy with --estimator WLSMV: semopy 2.3 has no thresholds or polychoric correlations, "
            "so it cannot start a WLSMV fit. Fix: drop --engine semopy (it applies to ML and MLR)"),
    Support({"engine": {"semopy"}, "missing": {"fiml"}}, "refuse",
            "--engine semopy with --missing fiml: semopy's FIML objective does not reproduce lavaan's "
            "missing = \"ml\" estimates. Fix: drop --engine semopy (it applies to --missing listwise)"),
    Support({"design": {"--weights"}, "estimator": {"WLSMV"}}, "refuse",
            "--weights with --estimator WLSMV is not supported (lavaan's weighted thresholds and polychoric "
            "correlations are not implemented here). Fix: use --estimator MLR, or --cluster alone with WLSMV"),
    Support({"design": {"--cluster"}, "estimator": {"WLSMV"}, "bootstrap": {True}}, "refuse",
            "--cluster with --estimator WLSMV and --bootstrap is not implemented (the WLSMV bootstrap resamples "
            "firms one by one, and has no cluster bootstrap). Fix: drop --bootstrap/--cluster-bootstrap (the "
            "CIs then use the cluster-robust standard errors), or use --estimator MLR"),
    Support({"design": {"--cluster", "--weights"}, "engine": {"semopy"}}, "refuse",
            "--engine semopy with {design}: semopy has no cluster-robust or weighted likelihood here. Fix: drop "
            "--engine semopy"),
    Support({"groups": {True}, "design": {"--cluster"}, "missing": {"fiml"}}, "refuse",
            "--cluster with --missing fiml across groups is not implemented (multigroup cluster-robust SEs "
            "use complete rows). Fix: use --missing listwise, or drop --cluster (and the spec's cluster:)"),
    Support({"cluster_bootstrap": {True}, "design": {"", "--weights"}}, "refuse",
            "--cluster-bootstrap without --cluster: it resamples whole clusters, so it needs the column naming "
            "each firm's cluster. Fix: add --cluster COLUMN (or spec cluster:), or drop --cluster-bootstrap"),
    Support({"cluster_bootstrap": {True}, "bootstrap": {False}}, "refuse",
            "--cluster-bootstrap without --bootstrap B: no resamples were asked for. Fix: add --bootstrap 5000 "
            "(or drop --cluster-bootstrap)"),
    Support({"cluster_bootstrap": {True}, "missing": {"fiml"}}, "refuse",
            "--cluster-bootstrap with --missing fiml is not implemented (the cluster bootstrap refits complete "
            "rows). Fix: use --missing listwise, or drop --cluster-bootstrap --bootstrap (the CIs then use the "
            "cluster-robust standard errors)"),
    Support({"design": {"--cluster"}, "bootstrap": {True}, "cluster_bootstrap": {False}}, "refuse",
            "--cluster with --bootstrap: a case bootstrap resamples firms one by one and ignores the clusters. "
            "Fix: add --cluster-bootstrap (resample whole clusters, with their weights), or drop --bootstrap "
            "(the CIs then use the cluster-robust standard errors)"),
    Support({"design": {"--weights"}, "bootstrap": {True}}, "refuse",
            "--weights with --bootstrap: a case bootstrap ignores the sampling weights. Fix: add --cluster "
            "COLUMN --cluster-bootstrap (whole clusters resampled, each firm keeping its weight), or drop "
            "--bootstrap (the CIs then use the weighted robust standard errors)"),
    Support({"modindices": {True}, "complete_ml": {False}}, "refuse",
            "--modindices: computed for --estimator ML with --missing listwise on an independent, unweighted "
            "sample only (asked: --estimator {estimator} --missing {missing} {design}); lavaan's indices under "
            "MLR, FIML, WLSMV and complex samples are not verified here. Fix: drop --modindices, or rerun with "
            "--estimator ML --missing listwise (without --cluster/--weights) to screen the model"),
    Support({"interaction": {True}, "design": {"--cluster", "--weights"}}, "skip",
            "latent interactions ({names}) not estimated: LMS and product indicators ignore clusters and "
            "sampling weights here. Fix: rerun without --cluster/--weights for them"),
    Support({"interaction": {True}, "complete_ml": {False}}, "skip",
            "latent interactions ({names}) not estimated: LMS and product indicators are ML estimators on "
            "complete rows, not --missing {missing} --estimator {estimator}. Fix: rerun with --missing "
            "listwise --estimator ML for them"),
)


def categorical(estimator: str | None) -> bool:
    """The estimator named (any case; None or a name lavaan's defaults do not list: False) treats items as
    ordered categories.  Why a lookup: the advice, the reports and results.json readers ask this of a name
    written in a results.json or recommended by a rule, not of a resolved run (``LavOptions.ordinal``)."""
    found = LAVAAN_DEFAULTS.get((estimator or "").upper())
    return found is not None and found.categorical


def verdict(combo: Combination) -> Support | None:
    """The first support row matching ``combo`` (None: supported as it is)."""
    return next((row for row in SUPPORT if row.matches(combo)), None)


def _fold(estimator: str | None, ordinal_spec: bool) -> str:
    if estimator is None:
        return "WLSMV" if ordinal_spec else "ML"
    est = estimator.upper()
    if est not in ESTIMATORS:
        raise ClusterSemError(f"--estimator {estimator}: not known. Fix: use {', '.join(ESTIMATORS)}")
    return est


def lav_options(*args, **kwargs) -> LavOptions:
    """Resolve the run's options once (lavaan's ``lav_options_set``, :func:`resolved_options`: same
    arguments) and refuse an unsupported combination with the support table's one line.

    ``estimator`` None takes the spec's default: WLSMV when it says ``ordinal: true``, else ML.  A ``skip``
    row does not refuse here: :func:`skip_message` gives its warning where that part would run."""
    lav = resolved_options(*args, **kwargs)
    row = verdict(lav.combination)
    if row is not None and row.verdict == "refuse":
        raise ClusterSemError(row.message.format(**_fields(lav.combination)))
    return lav


def resolved_options(estimator: str | None = None, missing: str = "listwise", engine: str = "default", *,
                     command: str = "fit", ordinal_spec: bool = False, groups: bool = False,
                     controls: bool = False, interaction: bool = False, design: str = "", bootstrap: bool = False,
                     modindices: bool = False, cluster_bootstrap: bool = False) -> LavOptions:
    """:func:`lav_options` without the support table's refusal: the library call ``fit_model`` resolves its
    estimator the same way, and its fitters refuse what they cannot run (their own one-line ``FitError``,
    which library users catch), whereas the commands refuse up front."""
    est = _fold(estimator, ordinal_spec)
    if missing not in MISSING:
        raise ClusterSemError(f"--missing '{missing}' is not known. Fix: use listwise or fiml")
    if engine not in ENGINES:
        raise ClusterSemError(f"--engine '{engine}' is not known. Fix: use {' or '.join(ENGINES)}")
    base = LAVAAN_DEFAULTS[est]
    fiml = missing == "fiml"
    return LavOptions(
        estimator=est, missing=missing, engine=engine, se=base.se, test=base.test,
        # missing = "ml": observed information (lav_options_set, "se information")
        information="observed" if fiml else base.information,
        # no mean structure by default; missing = "ml", groups and conditional.x force one
        meanstructure=fiml or groups or base.categorical,
        fixed_x=True,                        # sem()/cfa() default: controls are fixed exogenous covariates
        conditional_x=base.categorical,      # lavaan: conditional.x = TRUE for categorical data
        groups=groups, controls=controls, interaction=interaction, command=command, design=design,
        bootstrap=bootstrap, modindices=modindices, cluster_bootstrap=cluster_bootstrap)


def skip_message(lav: LavOptions, *, names: str) -> str | None:
    """The support table's warning when the spec's latent interactions (``names``) are not estimated with
    ``lav`` (else None)."""
    combo = replace(lav.combination, interaction=True)
    row = verdict(combo)
    if row is None or row.verdict != "skip":
        return None
    return row.message.format(names=names, **_fields(combo))


def _fields(combo: Combination) -> dict:
    return {f.name: getattr(combo, f.name) for f in fields(combo)}


__all__ = ["COMMANDS", "ENGINES", "ENGINE_NAMES", "ESTIMATORS", "LAVAAN_DEFAULTS", "MISSING", "SUPPORT",
           "Combination", "EstimatorDefaults", "LavOptions", "Support", "categorical", "lav_options", "resolved_options",
           "skip_message", "verdict"]
