"""The results.json schema, stated once: pydantic models of every block, which write, read and check it.

``results.json`` is the contract (``cluster-sem report DIR`` re-renders from the file alone).  Each block is
a frozen pydantic model here, and that one declaration serves three ways: every writer checks the dict it is
about to store against it (``results/schema.py``: a writer drifting from the schema fails loudly), `report`
checks a stored, perhaps hand-edited file against it (one line naming the key path), and the renderers read
the typed, validated blocks instead of raw dict keys (``ResultsDocument.of``).

How a block is declared: a field without a default must be present; ``X | None = None`` is optional; a
``Maybe[...]`` record or list reads an empty one as None; ``Number``/``Count`` take a JSON number (not
true/false) and keep it as stored (an integer df stays an integer in the report); ``extra="allow"`` keeps
keys this version does not declare (older and newer documents still read).  The models are built on their
first validation (``defer_build``), so importing this module builds no validator.

The kind of document (fit, invariance, pls, cmb) and what its top level requires live in
``results/schema.py``; ``ResultsDocument`` here is the tolerant union every renderer reads.
"""
from __future__ import annotations

import warnings
from types import MappingProxyType
from typing import Annotated, Any, Mapping, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, model_validator
from pydantic_core import PydanticCustomError, core_schema

_EMPTY: Mapping = MappingProxyType({})
T = TypeVar("T")
# records of items and constructs have a field ``construct``; pydantic's deprecated ``BaseModel.construct``
# (a classmethod no caller here uses) is what it shadows
warnings.filterwarnings("ignore", message=r'Field name "construct" in "\w+" shadows an attribute in parent',
                        category=UserWarning)


def _number(value: Any) -> Any:
    """A JSON number, kept as stored (int or float); true/false and text are not numbers."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    raise PydanticCustomError("number", "is not a number")


def _none_if_empty(value: Any) -> Any:
    """An empty record or list stands for "not there" (``"lrt": {}``, ``"johnson_neyman": []``)."""
    return None if isinstance(value, (Mapping, list, tuple)) and not value else value


def _empty_if_none(value: Any) -> Any:
    """A record the report reads field by field: null reads as all its fields null."""
    return {} if value is None else value


class _JsonNumber:
    """``Annotated`` metadata: the value is checked by ``_number`` alone.  Its core schema is made once and
    shared by every number field (a ``PlainValidator`` would build one per field, which is most of the
    models' first-validation cost)."""

    _schema = core_schema.no_info_plain_validator_function(_number)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> core_schema.CoreSchema:
        return cls._schema


Number = Annotated[float, _JsonNumber]
Count = Annotated[int, _JsonNumber]      # a count as the document stores it (checked as a number)
Maybe = Annotated[T | None, BeforeValidator(_none_if_empty)]


# -- one base for every block ------------------------------------------------------------------------------
class Block(BaseModel):
    """A block (or a record inside one) of results.json: frozen, keys this version does not declare kept
    (``extra="allow"``), fields named by their JSON key unless ``Field(alias=...)`` says otherwise."""

    model_config = ConfigDict(frozen=True, extra="allow", defer_build=True, populate_by_name=True)

    @classmethod
    def of(cls, d: Any):
        """The record from mapping ``d`` (None: every field at its default); raises pydantic's
        ``ValidationError`` when ``d`` departs from the declaration (``results/schema.py`` words it)."""
        return cls.model_validate({} if d is None else d)

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        """The JSON keys this record declares, in declared order (``ParameterColumns.keys()``: the columns
        of ``Results.parameters``)."""
        return tuple(f.alias or name for name, f in cls.model_fields.items())


# -- spec labels ---------------------------------------------------------------------------------------
def pick(text: Any, lang: str, default: str = "") -> str:
    """A {en, zh} mapping (or a plain string) in ``lang``, falling back to English, then ``default``."""
    if isinstance(text, str):
        return text
    if not isinstance(text, Mapping):
        return default
    return text.get(lang) or text.get("en") or default


class ItemInfo(Block):
    item: str | None
    construct: str
    text: dict[str, Any] = {}
    reverse: bool = False


class ConstructInfo(Block):
    name: str
    label: Any = None                # {en, zh} or a string
    items: tuple[str | None, ...] = ()
    dimensions: tuple[str, ...] = ()
    source: Any = None               # spec `source`: {authors, year, title, journal, ...} the items come from


class SpecPath(Block):
    """A ``paths:`` entry of the spec: an outcome and the constructs written to point at it."""

    sources: tuple[str, ...] = Field((), alias="from")
    to: str | None = None


class SpecLabels(Block):
    """The parts of the stored spec a report prints: labels, item wording, hypothesis text, controls, and
    the paths as written (the diagram draws them in the spec's order).  Read from the stored ``spec`` block
    (``_from_spec``): constructs and their items are re-keyed by name/id."""

    constructs: dict[str, ConstructInfo] = {}
    items: dict[str, ItemInfo] = {}
    hypotheses: dict[str, Any] = {}     # id -> {text: {en, zh}} or text
    indirect_labels: dict[str, Any] = {}
    controls: tuple[str, ...] = ()
    group: str = ""
    title: Any = None
    paths: tuple[SpecPath, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _from_spec(cls, spec: Any) -> Any:
        """The stored spec (as the spec loader dumped it) → these fields; anything not a mapping is left
        where it is, for the field's check to name."""
        if not isinstance(spec, Mapping) or isinstance(spec, SpecLabels):
            return spec
        constructs, items = spec.get("constructs") or {}, {}
        if isinstance(constructs, Mapping):
            constructs = {name: _construct(name, c, items) if isinstance(c, Mapping) else c
                          for name, c in constructs.items()}
        return {"constructs": constructs, "items": items, "hypotheses": spec.get("hypotheses") or {},
                "indirect_labels": {i.get("name"): i.get("label") for i in spec.get("indirect") or []
                                    if isinstance(i, Mapping)},
                "controls": spec.get("controls") or (), "group": spec.get("group") or "", "title": spec.get("title"),
                "paths": [p for p in spec.get("paths") or [] if isinstance(p, Mapping)]}

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


def _construct(name: str, c: Mapping, items: dict) -> dict:
    """A spec construct as ``ConstructInfo`` fields; its items (an id or {id, text, reverse}) go into ``items``."""
    ids = []
    for it in c.get("items") or []:
        if isinstance(it, str):
            items[it] = {"item": it, "construct": name}
            ids.append(it)
        elif isinstance(it, Mapping):
            items[it.get("id")] = {"item": it.get("id"), "construct": name, "text": it.get("text") or {},
                                   "reverse": bool(it.get("reverse"))}
            ids.append(it.get("id"))
    return {"name": name, "label": c.get("label"), "items": ids, "dimensions": c.get("dimensions") or (),
            "source": c.get("source")}


# -- a χ² test ------------------------------------------------------------------------------------------
class ChiSquareTest(Block):
    """A χ² statistic with its degrees of freedom and p: an LRT, a Δχ², a score test, Little's MCAR test."""

    chi2: Number | None = None
    df: Number | None = None
    pvalue: Number | None = None


# -- models ----------------------------------------------------------------------------------------------
class ParameterColumns(Block):
    """The contract's PARAM columns of a parameter-table row (``Results.parameters`` has these columns):
    ``lhs op rhs`` must be there, the numbers may be null or (in older or hand-made documents) absent."""

    lhs: str
    op: str
    rhs: str
    label: str | None = None
    est: Number | None = None
    se: Number | None = None
    z: Number | None = None
    pvalue: Number | None = None
    std_all: Number | None = None


class ParameterRow(ParameterColumns):
    """One lavaan parameter-table row as stored (``se_boot`` only after a bootstrap)."""

    group: str | None = None  # multigroup fits (invariance levels): the row's group

    @property
    def fixed(self) -> bool:
        """A fixed row (marker loading, fixed.x) has no test."""
        return self.pvalue is None


class ModelBlock(Block):
    """``measurement_model`` / ``structural_model``: fit measures, parameter rows and what the fit said."""

    fit: dict[str, Any]  # contract FIT keys plus estimator-specific ones (``*_scaled``)
    parameters: tuple[ParameterRow, ...]
    syntax: str = ""
    warnings: tuple[str, ...] = ()
    estimation: str = ""

    def rows(self, op: str) -> tuple[ParameterRow, ...]:
        return tuple(p for p in self.parameters if p.op == op)


class InteractionModel(ModelBlock):
    """``interaction_model``: the fitted model with its product rows (``X:Z``), by the moderation method."""

    method: str = ""  # "lms", "qml" or "dblcent"
    converged: bool | None = None


# -- effects, hypotheses, mediation ---------------------------------------------------------------------
class IndirectPath(Block):
    """An indirect (or total) effect's name and its chain of constructs ``path[0] → … → path[-1]``: what its
    estimate (``Effect``) and its mediation verdict (``Mediation``) are about."""

    name: str
    path: tuple[str, ...]


class Effect(IndirectPath):
    """An indirect or total effect with its CI (``cis``: method -> [lower, upper])."""

    est: Number | None = None
    se: Number | None = None
    ci_lower: Number | None = None
    ci_upper: Number | None = None
    ci_method: str | None = None
    level: Number | None = None
    std_all: Number | None = None
    pvalue: Number | None = None
    cis: dict[str, Any]
    significant: bool | None = None  # the claim: the run's CI excludes zero (results/effects.effect_claim)
    pvalue_method: str | None = None  # "delta": what ``pvalue`` is
    pvalue_agrees: bool | None = None  # the delta-method p tells the same as the CI


class Hypothesis(Block):
    id: str | None = None
    kind: str | None = None
    name: str | None = None  # indirect hypotheses: the effect's name
    source: str = Field(alias="from")
    to: str
    supported: Annotated[bool, BeforeValidator(lambda v: False if v is None else v)]   # null: no test, not supported


class BaronKennyStep(Block):
    step: Count | None = None
    what: str | None = None
    est: Number | None = None
    pvalue: Number | None = None
    met: bool | None = None


class Mediation(IndirectPath):
    """How an indirect effect mediates: Baron & Kenny's steps, the direct and total effect, Zhao et al.'s
    type and full/partial/none."""

    direct: Number | None = None
    direct_pvalue: Number | None = None
    total: Number | None = None
    type: str | None = None
    mediation: str | None = None
    baron_kenny: tuple[BaronKennyStep, ...] = ()


# -- measurement quality ----------------------------------------------------------------------------------
class Reliability(Block):
    construct: str | None = None        # the key it is stored under (``ResultsDocument.reliability``)
    alpha: Number | None = None
    omega: Number | None = None
    ave: Number | None = None
    omega_categorical: Number | None = None  # WLSMV: Green & Yang's categorical omega (semTools)
    alpha_ordinal: Number | None = None  # WLSMV: alpha on the polychoric correlations


class EstimatorChoice(Block):
    """``estimator_choice``: whether the items look like ordered categories (``results/estimator_choice.py``)."""

    recommended: str | None = None
    used: str | None = None
    min_categories: Count | None = None
    max_abs_skewness: Number | None = None
    few_categories: tuple[str, ...] = ()
    asymmetric: tuple[str, ...] = ()
    rule: str | None = None


# -- missing data and normality diagnostics -------------------------------------------------------------
class MissingPattern(Block):
    """One missing-data pattern: the blank items, its rows and their percent of the rows analysed."""

    missing: tuple[str, ...] = ()
    n: Count | None = None
    percent: Number | None = None


LittleMCAR = ChiSquareTest      # ``missing_data.little_mcar``


class MissingData(Block):
    """``missing_data``: patterns (most frequent first), per-item percent and Little's MCAR test (or None)."""

    patterns: tuple[MissingPattern, ...] = ()
    n_patterns: Count | None = None
    percent_missing: dict[str, Number] = {}
    little_mcar: Maybe[LittleMCAR] = None


class ClusterSize(Block):
    min: Count | None = None
    median: Number | None = None
    max: Count | None = None


class Design(Block):
    """``design`` (complex samples): cluster column and sizes, weights column, lavaan's se/test names, ICC(1)
    per item and construct score, design effects and effective n, warnings (fewer than 20 clusters)."""

    cluster: str | None = None
    n_clusters: Count | None = None
    cluster_size: Maybe[ClusterSize] = None
    weights: str | None = None
    se: str | None = None
    test: str | None = None
    icc: dict[str, Number | None] = {}
    design_effect: dict[str, Number | None] = {}
    effective_n: dict[str, Number | None] = {}
    warnings: tuple[str, ...] = ()


class MardiaSkewness(ChiSquareTest):
    b1d: Number | None = None


class MardiaKurtosis(Block):
    b2d: Number | None = None
    z: Number | None = None
    pvalue: Number | None = None


class Normality(Block):
    """``normality``: Mardia's tests (``kurtosis`` None when there are too few complete rows to compute them)."""

    skewness: Annotated[MardiaSkewness, BeforeValidator(_empty_if_none)] = Field(    # null: no complete rows
        default_factory=MardiaSkewness, alias="mardia_skewness")
    kurtosis: Maybe[MardiaKurtosis] = Field(None, alias="mardia_kurtosis")
    n: Count | None = None
    p: Count | None = None


class Descriptive(Block):
    item: str
    mean: Number | None = None
    sd: Number | None = None
    skewness: Number | None = None
    kurtosis: Number | None = None
    min: Number | None = None
    max: Number | None = None
    pct_missing: Number | None = None


class CommonMethod(Block):
    harman_first_factor_share: Number | None = None
    n_factors_eigen_gt_1: Count | None = None
    flag: bool | None = None


class ModIndex(Block):
    """One ``modification_indices`` row (lavaan ``modindices()``): the model it belongs to, the row, mi, epc."""

    model: str | None = None
    lhs: str
    op: str
    rhs: str
    mi: Number | None = None
    epc: Number | None = None
    sepc_all: Number | None = None


class Comparison(Block):
    """One ``comparisons`` record: an equality hypothesis, its Wald test and constrained-refit LRT."""

    hypothesis: str
    left: str | None = None
    right: str | None = None
    difference: Number | None = None
    se: Number | None = None
    wald: Maybe[ChiSquareTest] = None
    lrt: Maybe[ChiSquareTest] = None
    lrt_note: str | None = None


class FitVerdict(Block):
    """One fit index against its cut-offs (``results/fit_verdicts.py``)."""

    value: Number | None = None
    verdict: str | None = None
    good: Number | None = None
    acceptable: Number | None = None
    direction: str | None = None
    source: str | None = None


# -- moderation (latent interactions) -------------------------------------------------------------------
class SimpleSlope(Block):
    """The focal construct's slope with the moderator at ``at`` SD (−1, 0, +1)."""

    at: Count | None = None
    moderator_value: Number | None = None
    est: Number | None = None
    se: Number | None = None
    ci_lower: Number | None = None
    ci_upper: Number | None = None
    pvalue: Number | None = None


class ConditionalIndirect(Block):
    """An indirect effect with the moderator at ``at`` SD."""

    at: Count | None = None
    est: Number | None = None
    se: Number | None = None
    ci_lower: Number | None = None
    ci_upper: Number | None = None


class ModeratedMediation(Block):
    """Index of moderated mediation (Hayes 2015) of one indirect path, with its conditional indirect effects."""

    indirect: str | None = None
    path: tuple[str, ...] = ()
    est: Number | None = None
    se: Number | None = None
    ci_lower: Number | None = None
    ci_upper: Number | None = None
    ci_method: str | None = None  # "percentile" (bootstrap) or Monte Carlo
    draws: Count | None = None
    seed: Count | None = None
    conditional_indirect: tuple[ConditionalIndirect, ...] = ()


ProductTest = ChiSquareTest     # ``moderation[].lrt``: the model with vs. without the product term(s)


class PlotLine(Block):
    at: Count | None = None  # moderator at −1, 0, +1 SD
    y: tuple[Number, ...] = ()


class SlopePlot(Block):
    """Predicted outcome at the focal construct's ``x`` values, one line per moderator level."""

    x: tuple[Number, ...] = ()
    focal_sd: Number | None = None
    lines: tuple[PlotLine, ...] = ()


class JohnsonNeymanRange(Block):
    """``moderation[].johnson_neyman_range``: the Johnson–Neyman result within ±k SD of the moderator
    (``results/effects.johnson_neyman_within``): its bounds there and where in it the slope is significant."""

    range: tuple[Number, ...] = ()
    k_sd: Number | None = None
    bounds: tuple[Number, ...] = ()
    significant: tuple = ()


class ModerationRecord(Block):
    """One ``moderation`` record: a product term ``to ~ focal:moderator`` and what probes it."""

    name: str
    to: str
    focal: str
    moderator: str
    method: str
    est: Number | None = None
    se: Number | None = None
    pvalue: Number | None = None
    std: Number | None = None
    moderator_sd: Number | None = None
    level: Number | None = 0.95
    simple_slopes: tuple[SimpleSlope, ...] = ()
    johnson_neyman: Maybe[tuple[Number, ...]] = None
    johnson_neyman_significant: str | None = None
    lrt: Maybe[ProductTest] = None
    index_of_moderated_mediation: tuple[ModeratedMediation, ...] = ()
    hypothesis: str | None = None
    expect: str | None = None
    plot: Maybe[SlopePlot] = None
    johnson_neyman_range: Maybe[JohnsonNeymanRange] = None


# -- measurement invariance (`cluster-sem invariance`) ---------------------------------------------------
class AnalysisGroup(Block):
    """One analysis group: its name, its cases and the values of the group column it stands for."""

    name: str
    n: Count | None = None
    values: tuple[str, ...] = ()


class LevelChange(ChiSquareTest):
    """A level against the previous one: lavTestLRT's Δχ² and the change of the reported CFI and RMSEA."""

    cfi: Number | None = None
    rmsea: Number | None = None


class InvarianceLevel(Block):
    """One level (configural, metric, scalar, strict): its fit, its change and whether it holds."""

    level: str
    fit: dict[str, Any]  # contract FIT keys plus the estimator's (``*_scaled``, ``*_robust``)
    delta: Maybe[LevelChange] = None  # None for the configural level
    decision: str  # "holds" or "rejected"
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
    est: Number | None = None
    se: Number | None = None
    z: Number | None = None
    pvalue: Number | None = None


class PathDifference(ChiSquareTest):
    """A path's equality across groups (LRT, df = groups − 1), with its estimate and SE in each group."""

    path: str = ""  # "to~from"
    est: dict[str, Number] = {}  # group -> estimate
    se: dict[str, Number] = {}

    @property
    def ends(self) -> tuple[str, str]:
        """(from, to) of the path."""
        to, source = self.path.split("~", 1)
        return source, to


class Invariance(Block):
    """The ``invariance`` block: groups, the levels in order, and what probes the first failing level."""

    group: str | None = None
    estimator: str | None = None
    missing: str | None = None
    reference: str | None = None
    groups: tuple[AnalysisGroup, ...]
    released: tuple[str, ...] = ()
    levels: tuple[InvarianceLevel, ...]
    first_failing: str | None = None
    score_tests: tuple[ScoreTest, ...] = ()
    latent_means: tuple[LatentMean, ...] = ()
    path_differences: tuple[PathDifference, ...] = ()
    path_model: Maybe[ModelBlock] = None
    n_no_group: Count | None = None
    warnings: tuple[str, ...] = ()
    rules: dict[str, Any] = {}
    cluster: dict[str, Any] = {}  # {"column", "clusters": {group: G_g}} or empty

    @property
    def ordinal(self) -> bool:
        """WLSMV: items as ordered categories (scalar = + thresholds, no strict level)."""
        from ..lavoptions import categorical
        return categorical(self.estimator)

    @property
    def highest_holding(self) -> str | None:
        """The last level before the first failing one (all levels when none fails); None when configural fails."""
        names = [lv.level for lv in self.levels]
        held = names[: names.index(self.first_failing)] if self.first_failing in names else names
        return held[-1] if held and self.levels[0].holds else None


# -- data, bootstrap, meta ------------------------------------------------------------------------------
class DataBlock(Block):
    source: str | None = None
    n_raw: Count | None = None
    n_used: Count | None = None
    n_dropped: Count | None = None
    dropped: tuple = ()
    log: tuple[str, ...] = ()
    missing_by_item: dict[str, Number] = {}
    groups: dict[str, Count] = {}


class Bootstrap(Block):
    B: Count | None = None
    seed: Count | None = None
    n_converged: Count | None = None
    n_nonconverged: Count | None = None
    n_inadmissible: Count | None = None
    rule: str | None = None
    n_lost_category: Count | None = None  # WLSMV: resamples with an empty category
    resampling: str | None = None  # "cluster" for a cluster bootstrap (absent: firms were resampled)
    n_clusters: Count | None = None  # clusters resampled whole (cluster bootstrap)


class Meta(Block):
    version: str | None = None
    seed: Count | None = None
    data_sha256: str | None = None
    spec_sha256: str | None = None
    n_used: Count | None = None
    estimator: str | None = None
    missing: str | None = None
    information: str | None = None
    test: str | None = None
    engine: str | None = None  # "cluster-sem" or "semopy" (the start of the ML-family fits); None before 0.x
    ci_level: Number | None = None
    timestamp: str | None = None
    conventions: str | None = None
    command: str | None = None
    title: dict[str, str] = {}    # {en, zh}
    versions: dict[str, Any] = {}


# -- the document -----------------------------------------------------------------------------------------
def _model_default() -> "ModelBlock":
    return ModelBlock.model_construct(fit={}, parameters=())


class ResultsDocument(Block):
    """Every block a report reads, typed; built once per render from the stored document.  Tolerant at the
    top level (a block a kind of document lacks reads as empty/None); what each kind requires is in
    ``results/schema.py``."""

    meta: Meta = Field(default_factory=Meta)
    data: DataBlock = Field(default_factory=DataBlock)
    spec: SpecLabels = Field(default_factory=SpecLabels)
    measurement: ModelBlock = Field(default_factory=_model_default, alias="measurement_model")
    structural: ModelBlock = Field(default_factory=_model_default, alias="structural_model")
    r_squared: dict[str, Number | None] = {}   # variable -> R² (lavaan's lavInspect "r2") of the structural model
    indirect_effects: tuple[Effect, ...] = ()
    total_effects: tuple[Effect, ...] = ()
    reliability_by_construct: dict[str, Reliability] = Field({}, alias="reliability")   # construct -> values
    htmt: dict[str, dict[str, Number | None]] = {}
    htmt_flags: tuple = ()
    fornell_larcker: dict[str, dict[str, Number | None]] = {}
    common_method: Maybe[CommonMethod] = None
    fit_verdicts: dict[str, dict[str, FitVerdict]] = {}   # "measurement"/"structural" -> index -> verdict
    hypotheses: tuple[Hypothesis, ...] = ()
    mediation: tuple[Mediation, ...] = ()
    bootstrap: Maybe[Bootstrap] = None
    descriptives: tuple[Descriptive, ...] = ()
    warnings: tuple[str, ...] = ()
    estimator_choice: Maybe[EstimatorChoice] = None
    missing_data: Maybe[MissingData] = None
    normality: Maybe[Normality] = None
    design: Maybe[Design] = None
    moderation: tuple[ModerationRecord, ...] = ()
    interaction_model: Maybe[InteractionModel] = None
    invariance: Maybe[Invariance] = None       # a `cluster-sem invariance` document (no measurement/structural model)
    modification_indices: tuple[ModIndex, ...] = ()     # `fit --modindices`
    comparisons: tuple[Comparison, ...] = ()            # `fit --compare`
    pls: Maybe[pls_blocks.PlsBlock] = None   # a `cluster-sem pls` document (results/pls_blocks.py)
    _raw: dict[str, Any] | None = PrivateAttr(default=None)   # the stored document (``block``)

    @classmethod
    def of(cls, doc: Mapping) -> "ResultsDocument":
        """The typed document.  A complete document is read by its kind's model (``results/schema.py``), the
        one the writer's check has already built, so a fit builds one validator, not two; a partial one
        (a hand-made dict, an older document) by this tolerant top level."""
        typed = None
        if cls is ResultsDocument and isinstance(doc, Mapping):
            from .schema import read_complete
            typed = read_complete(doc)
        typed = typed or super().of(doc)
        typed._raw = doc if isinstance(doc, Mapping) else _EMPTY
        return typed

    @classmethod
    def read(cls, doc: "Mapping | ResultsDocument") -> "ResultsDocument":
        """The typed document of a stored one (dict) — or ``doc`` itself when a renderer already has it."""
        return doc if isinstance(doc, ResultsDocument) else cls.of(doc)

    @property
    def reliability(self) -> tuple[Reliability, ...]:
        """The ``reliability`` block as records in the stored order, each naming its construct."""
        return tuple(r.model_copy(update={"construct": c}) for c, r in self.reliability_by_construct.items())

    def block(self, name: str) -> Any:
        """Any block of the stored document as it was written, read-only (for callers outside the renderers,
        which read the typed fields above)."""
        return (self._raw or _EMPTY).get(name)


__all__ = ["ModIndex", "Comparison", "ResultsDocument", "SpecLabels", "ModelBlock", "ParameterRow", "ParameterColumns", "Effect", "Hypothesis", "Mediation",
           "BaronKennyStep", "Reliability", "Descriptive", "CommonMethod", "FitVerdict", "DataBlock", "Bootstrap",
           "Meta", "ItemInfo", "ConstructInfo", "pick", "EstimatorChoice", "MissingData", "MissingPattern",
           "LittleMCAR", "Normality", "Design", "ClusterSize",
           "MardiaSkewness", "MardiaKurtosis", "ModerationRecord", "SimpleSlope",
           "ModeratedMediation", "ConditionalIndirect", "ProductTest", "SlopePlot", "PlotLine", "ChiSquareTest",
           "JohnsonNeymanRange",
           "InteractionModel", "Invariance", "InvarianceLevel", "LevelChange", "ScoreTest", "LatentMean",
           "PathDifference", "AnalysisGroup", "SpecPath", "IndirectPath", "Block", "Number", "Count", "Maybe"]

# its records subclass Block (defined above); a module reference, so importing pls_blocks first also works
from . import pls_blocks  # noqa: E402
