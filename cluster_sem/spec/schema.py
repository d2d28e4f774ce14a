"""Typed, immutable objects of the questionnaire spec (contract §1).

The pydantic models only describe the *shape* of each key (types, ranges, unknown keys).  Checks that
need the whole spec (references between constructs, paths, cycles, ...) live in ``validate.py`` so each
error can name the key path it belongs to.  Every model forbids unknown keys and is frozen: the spec is
the single source of truth and nothing downstream may change it.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Frozen):
    """Bilingual wording.  English is the fallback when Chinese is missing and vice versa."""

    en: str | None = None
    zh: str | None = None

    def get(self, lang: str = "en") -> str | None:
        first, second = (self.zh, self.en) if lang == "zh" else (self.en, self.zh)
        return first if first else second


class Scale(_Frozen):
    min: int
    max: int


class Item(_Frozen):
    """One questionnaire item = one data column."""

    id: str = Field(min_length=1)
    text: Text = Text()
    reverse: bool = False
    scale: Scale | None = None  # overrides the spec-wide scale for this item


class Source(_Frozen):
    """Where a construct's items come from (``cluster-sem new`` writes it from the scale library): the report
    cites it under the measurement table, so readers see which published construct each item was adapted from."""

    authors: str = Field(min_length=1)      # surnames as cited: "Jansen, Van den Bosch & Volberda"
    year: int
    title: str | None = None
    journal: str | None = None              # journal, or publisher for a book
    volume: str | None = None
    pages: str | None = None

    def citation(self) -> str:
        """``Authors (year)``: the short form a table note or a list prints."""
        return f"{self.authors} ({self.year})"

    def reference(self) -> str:
        """The full reference: authors, year, title, journal, volume, pages (what is given)."""
        tail = ", ".join(x for x in (self.journal, self.volume, self.pages) if x)
        parts = [self.citation(), self.title, tail]
        return " ".join(p if p[-1] in ".?!" else p + "." for p in parts if p)


class Construct(_Frozen):
    """A latent construct: measured by ``items`` (first order) or by ``dimensions`` (second order)."""

    label: Text = Text()
    items: tuple[Item, ...] | None = None
    dimensions: tuple[str, ...] | None = None
    source: Source | None = None            # optional citation of the scale the items were adapted from
    formative: bool | None = None           # PLS: true = a composite with regression (mode B) weights; None
                                            # (unset) keeps results.json's spec block as before for `fit`

    @field_validator("items", mode="before")
    @classmethod
    def _items_as_mappings(cls, value):
        # An item may be written as a bare column name; normalise it to the mapping form.
        if isinstance(value, list):
            return [{"id": v} if isinstance(v, (str, int)) and not isinstance(v, bool) else v for v in value]
        return value

    @property
    def is_second_order(self) -> bool:
        return self.dimensions is not None


class Path(_Frozen):
    """Structural regressions ``to ~ from[0] + from[1] + ...``.

    ``hypothesis`` is either one label for every predictor or a mapping predictor -> label;
    ``expect`` is the hypothesised sign (used to judge "supported").
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    to: str
    from_: tuple[str, ...] = Field(alias="from", min_length=1)
    hypothesis: str | dict[str, str] | None = None
    expect: Literal["positive", "negative", "nonzero"] = "positive"

    def hypothesis_for(self, predictor: str) -> str | None:
        if isinstance(self.hypothesis, dict):
            return self.hypothesis.get(predictor)
        return self.hypothesis


class Indirect(_Frozen):
    """A named indirect effect along a chain of constructs X -> M1 [-> M2 ...] -> Y."""

    name: str = Field(min_length=1)
    path: tuple[str, ...] = Field(min_length=3)
    label: Text = Text()
    hypothesis: str | None = None


class Levels(_Frozen):
    """Two-level SEM (lavaan ``level: 1`` / ``level: 2``): the constructs measured at the firm (within) level
    and at the cluster (between) level.  Needs ``cluster``; paths among constructs of one level are that
    level's structural model."""

    within: tuple[str, ...] = ()
    between: tuple[str, ...] = ()


class InteractionTerm(_Frozen):
    """A latent interaction (moderation): ``to ~ between[0] + between[1] + between[0]:between[1]``.

    ``between`` is [focal predictor, moderator]: simple slopes are slopes of the first at values of the
    second.  ``to`` is one outcome or a list of outcomes; ``expect`` is the hypothesised sign of the product.
    """

    name: str = Field(min_length=1)
    between: tuple[str, str]
    to: str | tuple[str, ...]
    hypothesis: str | None = None
    expect: Literal["positive", "negative", "nonzero"] = "nonzero"
    label: Text = Text()

    @property
    def outcomes(self) -> tuple[str, ...]:
        return (self.to,) if isinstance(self.to, str) else tuple(self.to)


class Hypothesis(_Frozen):
    """Optional wording of a hypothesis referenced by paths/indirect effects."""

    text: Text = Text()


# ----------------------------------------------------------------------------------------------------
# population: values of the data-generating model used by ``cluster-sem simulate`` and ``power``.
# All values are standardized (latent variances 1, item variances 1 in the continuous model).


class Correlation(_Frozen):
    between: tuple[str, str]
    r: float = Field(ge=-1, le=1)


class PopulationInteraction(_Frozen):
    """Standardized coefficient of the latent product ``between[0]*between[1]`` on ``to``."""

    between: tuple[str, str]
    to: str
    effect: float = Field(ge=-1, le=1)


class ControlEffect(_Frozen):
    """How a control variable is generated and what it does to the endogenous constructs."""

    distribution: Literal["normal", "lognormal", "uniform_int"] = "normal"
    mean: float = 0.0
    sd: float = 1.0
    low: int | None = None  # uniform_int bounds
    high: int | None = None
    decimals: int = 2
    effects: dict[str, float] = {}  # endogenous construct -> standardized effect


class Population(_Frozen):
    """Data-generating model.

    * ``loadings``: standardized loading per item (first-order constructs).
    * ``dimension_loadings``: standardized loading of each first-order dimension on its second-order construct.
    * ``paths``: ``{outcome: {predictor: standardized coefficient}}``; the residual variance of each
      endogenous construct is set so its total variance is 1.
    * ``correlations``: correlations among exogenous constructs.
    * ``residual_correlations``: correlations between residuals of endogenous constructs or items.
    * ``thresholds``: cut points on the standard-normal scale turning a continuous response into the
      Likert categories min..max (len = max - min); one list for every item, or per item.
    * ``groups``: group column level -> number of cases (proportions when n differs).
    * ``continuous``: items are the continuous (standard-normal) scores themselves, not cut into Likert
      categories — for simulation and power studies with normal indicators (Muthén & Muthén 2002).  Such
      values are not bounded by ``scale``; give a wide scale (e.g. -10..10) to ``fit`` a simulated file.
    * ``icc``: clustered samples (``simulate --clusters``, ``power --clusters``): the intraclass correlation
      of each construct's shock — one number for every construct, or ``{construct: icc}`` (others 0), each in
      [0, 1).  Data-generating model: every shock of the standardized model above (an exogenous construct,
      an endogenous construct's residual, a dimension's residual) is split into a cluster random effect and
      a firm part, ζ = ζ_B[cluster] + ζ_W, with Ψ_B = D Ψ D (D = diag √icc) and Ψ_W = Ψ − Ψ_B, independent
      across clusters and firms; the paths, loadings and item residuals (all within-firm) are the same at
      both levels.  So each firm's responses keep exactly the covariance matrix of the unclustered model
      (the spec's standardized values hold marginally), the between-cluster covariance is
      Σ_B = Λ T Ψ_B T' Λ' (T = (I − B)⁻¹), and an item inherits ICC = [Σ_B]_jj (λ²·icc for an item of an
      exogenous construct; with one number every construct has that ICC and each item icc·λ²).  Controls are firm-level
      (no cluster effect); a latent product is formed from each firm's total scores.  With unequal ICCs
      Ψ_W must stay positive semi-definite (checked).  Why this
      model: the spec's values keep their meaning, so a clustered and an unclustered study of one spec
      estimate the same population values and differ only in their dependence.
    """

    loadings: dict[str, float]
    dimension_loadings: dict[str, float] = {}
    paths: dict[str, dict[str, float]] = {}
    correlations: tuple[Correlation, ...] = ()
    residual_correlations: tuple[Correlation, ...] = ()
    thresholds: tuple[float, ...] | dict[str, tuple[float, ...]] | None = None
    groups: dict[str, int] = {}
    controls: dict[str, ControlEffect] = {}
    missing_rate: float = Field(default=0.0, ge=0, lt=1)
    continuous: bool = False
    interactions: tuple[PopulationInteraction, ...] = ()
    icc: float | dict[str, float] = 0.0

    def icc_of(self, construct: str) -> float:
        """The ICC of ``construct``'s shock (0 for a construct a mapping leaves out)."""
        return float(self.icc.get(construct, 0.0)) if isinstance(self.icc, dict) else float(self.icc)


class Spec(_Frozen):
    """The whole questionnaire spec.  Construct order is the order written in the file."""

    spec_version: int
    title: Text = Text()
    scale: Scale
    missing_codes: tuple[float, ...] = ()
    id: str | None = None
    group: str | None = None
    # analysis group -> raw values of the group column merged into it; order = group order (first =
    # reference group of multigroup analyses)
    group_levels: dict[str, tuple[str | int | float, ...]] | None = None
    constructs: dict[str, Construct]
    controls: tuple[str, ...] = ()
    # complex samples: the column naming each firm's cluster (cluster-robust SEs and test, lavaan cluster=)
    # and the column of sampling weights (lavaan sampling.weights=, normalised to sum to n)
    cluster: str | None = None
    weights: str | None = None
    levels: Levels | None = None   # two-level SEM beside the single-level fit (model/twolevel/)
    paths: tuple[Path, ...] = ()
    covariances: tuple[tuple[str, str], ...] = ()
    indirect: tuple[Indirect, ...] = ()
    interactions: tuple[InteractionTerm, ...] = ()
    hypotheses: dict[str, Hypothesis] = {}
    allow_cycles: bool = False
    population: Population | None = None
    # ordered-categorical items: `ordinal: true` makes WLSMV the default estimator; `recode` collapses
    # answer categories per item before analysis ({item: {from: to}}, raw answer codes; `all` = every item)
    ordinal: bool = False
    recode: dict[str, dict[float, float]] = {}
    # marker items (columns theoretically unrelated to the model) for `cluster-sem cmb`'s CFA marker technique
    method_marker: tuple[str, ...] = ()

    # -- convenience views used everywhere downstream ------------------------------------------------
    @property
    def first_order(self) -> dict[str, Construct]:
        return {k: c for k, c in self.constructs.items() if c.items is not None}

    @property
    def second_order(self) -> dict[str, Construct]:
        return {k: c for k, c in self.constructs.items() if c.dimensions is not None}

    @property
    def items(self) -> dict[str, Item]:
        """All items by id, in questionnaire order."""
        return {it.id: it for c in self.first_order.values() for it in (c.items or ())}

    def items_of(self, construct: str) -> list[str]:
        return [it.id for it in (self.constructs[construct].items or ())]

    def scale_of(self, item: str) -> Scale:
        return self.items[item].scale or self.scale
