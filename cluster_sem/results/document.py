"""Typed, read-only blocks of a results document: what the renderers read instead of raw dict keys.

``results.json`` stays the contract (``cluster-sem report DIR`` re-renders from the file alone), and it is
still written by the one function ``Results.to_json``; this module is the one place that knows the
document's key names and turns each block into a frozen dataclass once (``ResultsDocument.of``).  Blocks
are tolerant in the way the report must be: a key an older or hand-edited document lacks becomes ``None``
or empty (``results/shape.py`` has already refused documents whose *shape* is wrong).

Blocks converted here: meta, data, the spec's labels (``SpecLabels``), both models (fit + parameter rows),
indirect/total effects, reliability, discriminant validity (HTMT, Fornell–Larcker), common method, fit
verdicts, hypotheses, mediation, bootstrap, descriptives, missing_data/normality diagnostics, estimator_choice,
the ordinal reliability columns, moderation and its interaction model, and the ``invariance`` block of a
`cluster-sem invariance` document.  ``ResultsDocument.block(name)`` (a read-only mapping of any block) is
kept for callers outside the renderers; no renderer reads it.
"""
from __future__ import annotations

import types
from collections import abc
from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Callable, Mapping, Union, dataclass_transform, get_args, get_origin, get_type_hints

_EMPTY: Mapping = MappingProxyType({})


def _get(d: Any, key: str, default: Any = None) -> Any:
    return d.get(key, default) if isinstance(d, Mapping) else default


# -- one reader for every block: the field declarations say how each key is read ---------------------------
@dataclass_transform(frozen_default=True, field_specifiers=(field,))
class Block:
    """A block (or a record inside one) of results.json: every subclass is a frozen dataclass (made so here,
    once, instead of a decorator on each of the records below).  ``of`` reads it from its mapping by the declared
    field types, so a block is described once, by its fields: ``tuple[Record, ...]`` ← a list of mappings,
    ``tuple[str, ...]`` ← a list, ``Record | None`` ← a mapping or None when absent/empty, ``Mapping`` ← a
    mapping or empty, ``bool`` ← any truthy value; anything else as stored.  A key the document lacks (or
    holds as null) takes the field's default, else None; ``field(metadata={"key": ...})`` names a key that
    differs from the field."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        dataclass(frozen=True)(cls)

    @classmethod
    def of(cls, d: Mapping | None, **given: Any):
        """The record from mapping ``d`` (None or a non-mapping: every field missing); ``given`` wins."""
        d = d if isinstance(d, Mapping) else _EMPTY
        kw = dict(given)
        for name, key, has_default, read in _plan(cls):
            if name in kw:
                continue
            value = d.get(key)
            if value is None and has_default:
                continue
            kw[name] = read(value) if read is not None else value
        return cls(**kw)

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        """The JSON keys every record of this kind carries (its fields without a default), in declared order:
        the columns a table of these records has (``Results.parameters`` reads ``ParameterRow.keys()``)."""
        return tuple(key for _, key, has_default, _ in _plan(cls) if not has_default)

    @classmethod
    def problems(cls, d: Any, where: str = "") -> str | None:
        """The first way mapping ``d`` departs from this record's declaration, named by its JSON key (``where``
        prefixes it), or None.  The same field declarations ``of`` reads by: a field without a default must be
        present (unless its type admits None); a present, non-null value must have its declared JSON type
        (text, number, list, object), records and lists of records checked inside.  ``bool`` and ``Any`` take
        anything, as ``of`` does."""
        if not isinstance(d, Mapping):
            return f"'{where.rstrip('.')}' is not an object"
        for key, required, check in _checks(cls):
            value = d.get(key)
            if value is None:
                if required:
                    return f"'{where}{key}' is missing"
                continue
            problem = check(value, f"{where}{key}")
            if problem:
                return problem
        return None


_NUMBER_TYPES = (int, float)


@lru_cache(maxsize=None)
def _checks(cls: type) -> tuple[tuple[str, bool, Callable[[Any, str], str | None]], ...]:
    """Per field, once per class: its JSON key, whether it must be present, and how its value is checked."""
    hints = get_type_hints(cls)
    out = []
    for name, key, has_default, _ in _plan(cls):
        tp = hints[name]
        optional = get_origin(tp) in (Union, types.UnionType) and type(None) in get_args(tp)
        out.append((key, not has_default and not optional, _check(tp)))
    return tuple(out)


def _check(tp: Any) -> Callable[[Any, str], str | None]:
    """How a present, non-null stored value of declared type ``tp`` is checked: a problem naming ``where``, or
    None.  Mirrors ``_convert``: what it reads as a list must be a list, as a mapping a mapping, and so on."""
    origin, args = get_origin(tp), get_args(tp)
    if origin in (Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        return _check(inner[0]) if len(inner) == 1 else _anything
    if origin is tuple or tp is tuple:
        item = args[0] if args else None
        if isinstance(item, type) and is_dataclass(item):
            return lambda v, where: _kind(v, (list, tuple), where, "a list") or next(
                (p for i, x in enumerate(v) if (p := item.problems(x, f"{where}[{i}]."))), None)
        return lambda v, where: _kind(v, (list, tuple), where, "a list")
    if origin is abc.Mapping or tp is Mapping:
        return lambda v, where: _kind(v, abc.Mapping, where, "an object")
    if isinstance(tp, type) and is_dataclass(tp):
        return lambda v, where: tp.problems(v, f"{where}.")
    if tp is str:
        return lambda v, where: _kind(v, str, where, "text")
    if tp in (int, float):
        return lambda v, where: None if isinstance(v, _NUMBER_TYPES) and not isinstance(v, bool) \
            else f"'{where}' is not a number"
    return _anything        # bool (read as truthy), Any, anything else (read as stored)


def _kind(value: Any, kind: type | tuple[type, ...], where: str, name: str) -> str | None:
    return None if isinstance(value, kind) else f"'{where}' is not {name}"


def _anything(value: Any, where: str) -> None:
    return None


@lru_cache(maxsize=None)
def _plan(cls: type) -> tuple[tuple[str, str, bool, Callable[[Any], Any] | None], ...]:
    """Per field, once per class: its name, its key in the document, whether it has a default, and how a
    stored value is read (None: as stored)."""
    hints = get_type_hints(cls)
    return tuple((f.name, f.metadata.get("key", f.name), f.default is not MISSING or f.default_factory is not MISSING,
                  _convert(hints[f.name])) for f in fields(cls))


def _convert(tp: Any) -> Callable[[Any], Any] | None:
    """How a stored value becomes a value of the declared type ``tp`` (see ``Block``); None: as stored."""
    origin, args = get_origin(tp), get_args(tp)
    if origin in (Union, types.UnionType) and type(None) in args:
        (inner,) = [a for a in args if a is not type(None)]
        if isinstance(inner, type) and is_dataclass(inner) or get_origin(inner) is tuple:
            read = _convert(inner)
            return lambda v: read(v) if v else None
        return None
    if origin is tuple or tp is tuple:
        item = args[0] if args else None
        if isinstance(item, type) and is_dataclass(item):
            return lambda v: tuple(item.of(x) for x in v or ())
        return lambda v: tuple(v or ())
    if origin is abc.Mapping:
        return lambda v: v or _EMPTY
    if tp is bool:
        return bool
    if isinstance(tp, type) and is_dataclass(tp):
        return tp.of
    return None


# -- spec labels ---------------------------------------------------------------------------------------
def pick(text: Any, lang: str, default: str = "") -> str:
    """A {en, zh} mapping (or a plain string) in ``lang``, falling back to English, then ``default``."""
    if isinstance(text, str):
        return text
    if not isinstance(text, Mapping):
        return default
    return text.get(lang) or text.get("en") or default


class ItemInfo(Block):
    item: str
    construct: str
    text: Mapping[str, str]
    reverse: bool


class ConstructInfo(Block):
    name: str
    label: Any                       # {en, zh} or a string
    items: tuple[str, ...]
    dimensions: tuple[str, ...]
    source: Any = None               # spec `source`: {authors, year, title, journal, ...} the items come from


class SpecPath(Block):
    """A ``paths:`` entry of the spec: an outcome and the constructs written to point at it."""

    sources: tuple[str, ...]         # ``from``
    to: str


class SpecLabels(Block):
    """The parts of the stored spec a report prints: labels, item wording, hypothesis text, controls, and
    the paths as written (the diagram draws them in the spec's order)."""

    constructs: Mapping[str, ConstructInfo]
    items: Mapping[str, ItemInfo]
    hypotheses: Mapping[str, Any]     # id -> {text: {en, zh}} or text
    indirect_labels: Mapping[str, Any]
    controls: tuple[str, ...]
    group: str
    title: Any
    paths: tuple[SpecPath, ...] = ()

    @classmethod
    def of(cls, spec: Mapping | None) -> "SpecLabels":
        spec = spec if isinstance(spec, Mapping) else _EMPTY
        constructs, items = {}, {}
        for name, c in (spec.get("constructs") or {}).items():
            ids = []
            for it in _get(c, "items") or []:
                if isinstance(it, str):
                    items[it] = ItemInfo(it, name, _EMPTY, False)
                    ids.append(it)
                else:
                    items[it["id"]] = ItemInfo(it["id"], name, it.get("text") or _EMPTY, bool(it.get("reverse")))
                    ids.append(it.get("id"))
            constructs[name] = ConstructInfo(name, _get(c, "label"), tuple(ids), tuple(_get(c, "dimensions") or ()),
                                             _get(c, "source"))
        indirect = {i.get("name"): i.get("label") for i in spec.get("indirect") or [] if isinstance(i, Mapping)}
        paths = tuple(SpecPath(tuple(p.get("from") or ()), p.get("to")) for p in spec.get("paths") or []
                      if isinstance(p, Mapping))
        return cls(constructs, items, spec.get("hypotheses") or _EMPTY, indirect, tuple(spec.get("controls") or ()),
                   spec.get("group") or "", spec.get("title"), paths)

    def construct_label(self, name: str, lang: str = "en") -> str:
        """The spec's label of a construct in ``lang``; the construct id if it has none."""
        c = self.constructs.get(name)
        return pick(c.label, lang, name) if c else name

    def hypothesis_text(self, hid: str | None, lang: str = "en") -> str:
        if not hid:
            return ""
        h = self.hypotheses.get(hid) or {}
        return pick(h.get("text") if isinstance(h, Mapping) else h, lang, "")

    def indirect_label(self, name: str, lang: str = "en") -> str:
        label = self.indirect_labels.get(name)
        return pick(label, lang, "") if label else ""


# -- a χ² test ------------------------------------------------------------------------------------------
class ChiSquareTest(Block):
    """A χ² statistic with its degrees of freedom and p: an LRT, a Δχ², a score test, Little's MCAR test."""

    chi2: float | None
    df: float | None
    pvalue: float | None


# -- models ----------------------------------------------------------------------------------------------
class ParameterRow(Block):
    """One lavaan parameter-table row as stored (``se_boot`` only after a bootstrap)."""

    lhs: str
    op: str
    rhs: str
    label: str | None
    est: float | None
    se: float | None
    z: float | None
    pvalue: float | None
    std_all: float | None
    group: str | None = None         # multigroup fits (invariance levels): the row's group

    @property
    def fixed(self) -> bool:
        """A fixed row (marker loading, fixed.x) has no test."""
        return self.pvalue is None


class ModelBlock(Block):
    """``measurement_model`` / ``structural_model``: fit measures, parameter rows and what the fit said."""

    fit: Mapping[str, Any]           # contract FIT keys plus estimator-specific ones (``*_scaled``)
    parameters: tuple[ParameterRow, ...]
    syntax: str = ""
    warnings: tuple[str, ...] = ()
    estimation: str = ""

    def rows(self, op: str) -> tuple[ParameterRow, ...]:
        return tuple(p for p in self.parameters if p.op == op)


class InteractionModel(ModelBlock):
    """``interaction_model``: the fitted model with its product rows (``X:Z``), by the moderation method."""

    method: str = ""                 # "lms", "qml" or "dblcent"
    converged: bool | None = None


# -- effects, hypotheses, mediation ---------------------------------------------------------------------
class IndirectPath(Block):
    """An indirect (or total) effect's name and its chain of constructs ``path[0] → … → path[-1]``: what its
    estimate (``Effect``) and its mediation verdict (``Mediation``) are about."""

    name: str
    path: tuple[str, ...]


class Effect(IndirectPath):
    """An indirect or total effect with its CI (``cis``: method -> [lower, upper])."""

    est: float | None
    se: float | None
    ci_lower: float | None
    ci_upper: float | None
    ci_method: str | None
    level: float | None
    std_all: float | None
    pvalue: float | None
    cis: Mapping[str, Any]
    significant: bool | None = None      # the claim: the run's CI excludes zero (results/effects.effect_claim)
    pvalue_method: str | None = None     # "delta": what ``pvalue`` is
    pvalue_agrees: bool | None = None    # the delta-method p tells the same as the CI


class Hypothesis(Block):
    id: str | None
    kind: str | None
    name: str | None                 # indirect hypotheses: the effect's name
    source: str = field(metadata={"key": "from"})
    to: str
    supported: bool


class BaronKennyStep(Block):
    step: int | None
    what: str | None
    est: float | None
    pvalue: float | None
    met: bool | None


class Mediation(IndirectPath):
    """How an indirect effect mediates: Baron & Kenny's steps, the direct and total effect, Zhao et al.'s
    type and full/partial/none."""

    direct: float | None
    direct_pvalue: float | None
    total: float | None
    type: str | None
    mediation: str | None
    baron_kenny: tuple[BaronKennyStep, ...]


# -- measurement quality ----------------------------------------------------------------------------------
class Reliability(Block):
    construct: str
    alpha: float | None
    omega: float | None
    ave: float | None
    omega_categorical: float | None = None   # WLSMV: Green & Yang's categorical omega (semTools)
    alpha_ordinal: float | None = None       # WLSMV: alpha on the polychoric correlations


class EstimatorChoice(Block):
    """``estimator_choice``: whether the items look like ordered categories (``results/estimator_choice.py``)."""

    recommended: str | None
    used: str | None
    min_categories: int | None
    max_abs_skewness: float | None
    few_categories: tuple[str, ...]
    asymmetric: tuple[str, ...]
    rule: str | None


# -- missing data and normality diagnostics -------------------------------------------------------------
class MissingPattern(Block):
    """One missing-data pattern: the blank items, its rows and their percent of the rows analysed."""

    missing: tuple[str, ...]
    n: int | None
    percent: float | None


LittleMCAR = ChiSquareTest      # ``missing_data.little_mcar``


class MissingData(Block):
    """``missing_data``: patterns (most frequent first), per-item percent and Little's MCAR test (or None)."""

    patterns: tuple[MissingPattern, ...]
    n_patterns: int | None
    percent_missing: Mapping[str, float]
    little_mcar: LittleMCAR | None


class ClusterSize(Block):
    min: int | None
    median: float | None
    max: int | None


class Design(Block):
    """``design`` (complex samples): cluster column and sizes, weights column, lavaan's se/test names, ICC(1)
    per item and construct score, design effects and effective n, warnings (fewer than 20 clusters)."""

    cluster: str | None
    n_clusters: int | None
    cluster_size: ClusterSize | None
    weights: str | None
    se: str | None
    test: str | None
    icc: Mapping[str, float | None]
    design_effect: Mapping[str, float | None]
    effective_n: Mapping[str, float | None]
    warnings: tuple[str, ...]


class MardiaSkewness(ChiSquareTest):
    b1d: float | None = None


class MardiaKurtosis(Block):
    b2d: float | None
    z: float | None
    pvalue: float | None


class Normality(Block):
    """``normality``: Mardia's tests (``kurtosis`` None when there are too few complete rows to compute them)."""

    skewness: MardiaSkewness = field(metadata={"key": "mardia_skewness"})
    kurtosis: MardiaKurtosis | None = field(metadata={"key": "mardia_kurtosis"})
    n: int | None
    p: int | None


class Descriptive(Block):
    item: str
    mean: float | None
    sd: float | None
    skewness: float | None
    kurtosis: float | None
    min: float | None
    max: float | None
    pct_missing: float | None


class CommonMethod(Block):
    harman_first_factor_share: float | None
    n_factors_eigen_gt_1: int | None
    flag: bool | None


class ModIndex(Block):
    """One ``modification_indices`` row (lavaan ``modindices()``): the model it belongs to, the row, mi, epc."""

    model: str | None
    lhs: str
    op: str
    rhs: str
    mi: float | None
    epc: float | None
    sepc_all: float | None


class Comparison(Block):
    """One ``comparisons`` record: an equality hypothesis, its Wald test and constrained-refit LRT."""

    hypothesis: str
    left: str | None
    right: str | None
    difference: float | None
    se: float | None
    wald: ChiSquareTest | None
    lrt: ChiSquareTest | None
    lrt_note: str | None


class FitVerdict(Block):
    """One fit index against its cut-offs (``results/fit_verdicts.py``)."""

    value: float | None
    verdict: str | None
    good: float | None
    acceptable: float | None
    direction: str | None
    source: str | None


# -- moderation (latent interactions) -------------------------------------------------------------------
class SimpleSlope(Block):
    """The focal construct's slope with the moderator at ``at`` SD (−1, 0, +1)."""

    at: int | None
    moderator_value: float | None
    est: float | None
    se: float | None
    ci_lower: float | None
    ci_upper: float | None
    pvalue: float | None


class ConditionalIndirect(Block):
    """An indirect effect with the moderator at ``at`` SD."""

    at: int | None
    est: float | None
    se: float | None
    ci_lower: float | None
    ci_upper: float | None


class ModeratedMediation(Block):
    """Index of moderated mediation (Hayes 2015) of one indirect path, with its conditional indirect effects."""

    indirect: str | None
    path: tuple[str, ...]
    est: float | None
    se: float | None
    ci_lower: float | None
    ci_upper: float | None
    ci_method: str | None            # "percentile" (bootstrap) or Monte Carlo
    draws: int | None
    seed: int | None
    conditional_indirect: tuple[ConditionalIndirect, ...]


ProductTest = ChiSquareTest     # ``moderation[].lrt``: the model with vs. without the product term(s)


class PlotLine(Block):
    at: int | None                   # moderator at −1, 0, +1 SD
    y: tuple[float, ...]


class SlopePlot(Block):
    """Predicted outcome at the focal construct's ``x`` values, one line per moderator level."""

    x: tuple[float, ...]
    focal_sd: float | None
    lines: tuple[PlotLine, ...]


class JohnsonNeymanRange(Block):
    """``moderation[].johnson_neyman_range``: the Johnson–Neyman result within ±k SD of the moderator
    (``results/effects.johnson_neyman_within``): its bounds there and where in it the slope is significant."""

    range: tuple[float, ...]
    k_sd: float | None
    bounds: tuple[float, ...]
    significant: tuple


class ModerationRecord(Block):
    """One ``moderation`` record: a product term ``to ~ focal:moderator`` and what probes it."""

    name: str
    to: str
    focal: str
    moderator: str
    method: str
    est: float | None
    se: float | None
    pvalue: float | None
    std: float | None
    moderator_sd: float | None
    level: float | None = field(default=0.95, kw_only=True)
    simple_slopes: tuple[SimpleSlope, ...]
    johnson_neyman: tuple[float, ...] | None
    johnson_neyman_significant: str | None
    lrt: ProductTest | None
    index_of_moderated_mediation: tuple[ModeratedMediation, ...]
    hypothesis: str | None
    expect: str | None
    plot: SlopePlot | None
    johnson_neyman_range: JohnsonNeymanRange | None = None


# -- measurement invariance (`cluster-sem invariance`) ---------------------------------------------------
class AnalysisGroup(Block):
    """One analysis group: its name, its cases and the values of the group column it stands for."""

    name: str
    n: int | None
    values: tuple[str, ...]


class LevelChange(ChiSquareTest):
    """A level against the previous one: lavTestLRT's Δχ² and the change of the reported CFI and RMSEA."""

    cfi: float | None = None
    rmsea: float | None = None


class InvarianceLevel(Block):
    """One level (configural, metric, scalar, strict): its fit, its change and whether it holds."""

    level: str
    fit: Mapping[str, Any]           # contract FIT keys plus the estimator's (``*_scaled``, ``*_robust``)
    delta: LevelChange | None        # None for the configural level
    decision: str                    # "holds" or "rejected"
    group_equal: tuple[str, ...]
    parameters: tuple[ParameterRow, ...]
    syntax: str = ""
    converged: bool | None = None

    @property
    def holds(self) -> bool:
        return self.decision == "holds"


class ScoreTest(ChiSquareTest):
    """lavTestScore's univariate test of one equality constraint (``constraint`` is what --release takes)."""

    constraint: str = ""
    groups: tuple[str, ...] = ()


class LatentMean(Block):
    """A construct's latent mean in a non-reference group (the reference group's is fixed at 0)."""

    construct: str
    group: str
    est: float | None
    se: float | None
    z: float | None
    pvalue: float | None


class PathDifference(ChiSquareTest):
    """A path's equality across groups (LRT, df = groups − 1), with its estimate and SE in each group."""

    path: str = ""                   # "to~from"
    est: Mapping[str, float] = field(default_factory=lambda: _EMPTY)   # group -> estimate
    se: Mapping[str, float] = field(default_factory=lambda: _EMPTY)

    @property
    def ends(self) -> tuple[str, str]:
        """(from, to) of the path."""
        to, source = self.path.split("~", 1)
        return source, to


class Invariance(Block):
    """The ``invariance`` block: groups, the levels in order, and what probes the first failing level."""

    group: str | None
    estimator: str | None
    missing: str | None
    reference: str | None
    groups: tuple[AnalysisGroup, ...]
    released: tuple[str, ...]
    levels: tuple[InvarianceLevel, ...]
    first_failing: str | None
    score_tests: tuple[ScoreTest, ...]
    latent_means: tuple[LatentMean, ...]
    path_differences: tuple[PathDifference, ...]
    path_model: ModelBlock | None
    n_no_group: int | None
    warnings: tuple[str, ...]
    rules: Mapping[str, Any]
    cluster: Mapping[str, Any] = field(default_factory=dict)   # {"column", "clusters": {group: G_g}} or empty

    @property
    def ordinal(self) -> bool:
        """WLSMV: items as ordered categories (scalar = + thresholds, no strict level)."""
        return self.estimator == "WLSMV"

    @property
    def highest_holding(self) -> str | None:
        """The last level before the first failing one (all levels when none fails); None when configural fails."""
        names = [lv.level for lv in self.levels]
        held = names[: names.index(self.first_failing)] if self.first_failing in names else names
        return held[-1] if held and self.levels[0].holds else None


# -- data, bootstrap, meta ------------------------------------------------------------------------------
class DataBlock(Block):
    source: str | None
    n_raw: int | None
    n_used: int | None
    n_dropped: int | None
    dropped: tuple
    log: tuple[str, ...]
    missing_by_item: Mapping[str, float]
    groups: Mapping[str, int]


class Bootstrap(Block):
    B: int | None
    seed: int | None
    n_converged: int | None
    n_nonconverged: int | None
    n_inadmissible: int | None
    rule: str | None
    n_lost_category: int | None = None   # WLSMV: resamples with an empty category
    resampling: str | None = None        # "cluster" for a cluster bootstrap (absent: firms were resampled)
    n_clusters: int | None = None        # clusters resampled whole (cluster bootstrap)


class Meta(Block):
    version: str | None
    seed: int | None
    data_sha256: str | None
    spec_sha256: str | None
    n_used: int | None
    estimator: str | None
    missing: str | None
    information: str | None
    test: str | None
    engine: str | None          # "cluster-sem" or "semopy" (the start of the ML-family fits); None before 0.x
    ci_level: float | None
    timestamp: str | None
    conventions: str | None
    command: str | None
    title: Any
    versions: Mapping[str, Any]


# -- the document -----------------------------------------------------------------------------------------
class ResultsDocument(Block):
    """Every block a report reads, typed; built once per render from the stored document."""

    meta: Meta
    data: DataBlock
    spec: SpecLabels
    measurement: ModelBlock = field(metadata={"key": "measurement_model"})
    structural: ModelBlock = field(metadata={"key": "structural_model"})
    r_squared: Mapping[str, Any]        # variable -> R² (lavaan's lavInspect "r2") of the structural model
    indirect_effects: tuple[Effect, ...]
    total_effects: tuple[Effect, ...]
    reliability: tuple[Reliability, ...]
    htmt: Mapping[str, Mapping[str, float]]
    htmt_flags: tuple
    fornell_larcker: Mapping[str, Mapping[str, float]]
    common_method: CommonMethod | None
    fit_verdicts: Mapping[str, Mapping[str, FitVerdict]]   # "measurement"/"structural" -> index -> verdict
    hypotheses: tuple[Hypothesis, ...]
    mediation: tuple[Mediation, ...]
    bootstrap: Bootstrap | None
    descriptives: tuple[Descriptive, ...]
    warnings: tuple[str, ...]
    estimator_choice: EstimatorChoice | None
    missing_data: MissingData | None
    normality: Normality | None
    design: Design | None
    moderation: tuple[ModerationRecord, ...]
    interaction_model: InteractionModel | None
    invariance: Invariance | None       # a `cluster-sem invariance` document (no measurement/structural model)
    modification_indices: tuple[ModIndex, ...]     # `fit --modindices`
    comparisons: tuple[Comparison, ...]            # `fit --compare`
    pls: pls_blocks.PlsBlock | None = None   # a `cluster-sem pls` document (results/pls_blocks.py)
    _raw: Mapping[str, Any] = None

    @classmethod
    def of(cls, doc: Mapping) -> "ResultsDocument":
        verdicts = {model: {k: FitVerdict.of(v) for k, v in (block or {}).items()}
                    for model, block in (doc.get("fit_verdicts") or {}).items()}
        reliability = tuple(Reliability.of(r, construct=c) for c, r in (doc.get("reliability") or {}).items())
        return super().of(doc, fit_verdicts=verdicts, reliability=reliability, _raw=doc)

    @classmethod
    def read(cls, doc: "Mapping | ResultsDocument") -> "ResultsDocument":
        """The typed document of a stored one (dict) — or ``doc`` itself when a renderer already has it."""
        return doc if isinstance(doc, ResultsDocument) else cls.of(doc)

    def block(self, name: str) -> Any:
        """Any block of the stored document as it was written, read-only (for callers outside the renderers,
        which read the typed fields above)."""
        return self._raw.get(name)


__all__ = ["ModIndex", "Comparison", "ResultsDocument", "SpecLabels", "ModelBlock", "ParameterRow", "Effect", "Hypothesis", "Mediation",
           "BaronKennyStep", "Reliability", "Descriptive", "CommonMethod", "FitVerdict", "DataBlock", "Bootstrap",
           "Meta", "ItemInfo", "ConstructInfo", "pick", "EstimatorChoice", "MissingData", "MissingPattern",
           "LittleMCAR", "Normality", "Design", "ClusterSize",
           "MardiaSkewness", "MardiaKurtosis", "ModerationRecord", "SimpleSlope",
           "ModeratedMediation", "ConditionalIndirect", "ProductTest", "SlopePlot", "PlotLine", "ChiSquareTest",
           "JohnsonNeymanRange",
           "InteractionModel", "Invariance", "InvarianceLevel", "LevelChange", "ScoreTest", "LatentMean",
           "PathDifference", "AnalysisGroup", "SpecPath", "IndirectPath", "Block"]

# its records subclass Block (defined above); a module reference, so importing pls_blocks first also works
from . import pls_blocks  # noqa: E402
