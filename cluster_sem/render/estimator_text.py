"""The words every report uses for the run's estimator: test-statistic name, which CFI/TLI/RMSEA are shown
(plain, robust or scaled), the estimator's description and the estimator advice (en/zh, phrases/estimator.yaml).

Why one module: the terminal summary, the fit table, the fit note, the normality sentences and the
estimator-choice note all name the same statistic and give the same advice; each once had its own words
(a WLSMV run printed "Yuan–Bentler scaled χ²" and advised ML and MLR on one page).  The values shown are the
ones ``results.fit_verdicts.reported_key`` picks; the names here follow the key that was picked.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from ..lavoptions import categorical
from ..model.estimators import Estimator, by_kind
from ..results.document import EstimatorChoice, Meta, Normality
from ..results.estimator_choice import (FEW_CATEGORIES, SKEW_LIMIT, advised_estimator, estimator_kind,
                                        rerun_options)
from ..results.fit_verdicts import reported_key
from .i18n import catalogue, translator


def words(lang: str):
    """``t(key, **kw)`` over the estimator catalogue in ``lang``."""
    return translator(catalogue("estimator"), lang)


def test_key(fit: Mapping) -> str:
    """Which χ² the fit reports: ``standard``, ``yuan_bentler`` (MLR's scaled χ²) or ``scaled_shifted``
    (WLSMV; its fit carries the shift parameter or the scaled CFI that MLR has not)."""
    if reported_key(fit, "chi2") == "chi2":
        return "standard"
    if fit.get("chi2_shift_parameter") is not None or fit.get("cfi_scaled") is not None:
        return "scaled_shifted"
    return "yuan_bentler"


def test_name(fit: Mapping, lang: str) -> str:
    """'χ²', 'Yuan–Bentler scaled χ²' or 'scaled-shifted χ²' in ``lang``."""
    return words(lang)(f"test_{test_key(fit)}")


def index_name(fit: Mapping, index: str, lang: str, shown: str | None = None) -> str:
    """'CFI', 'robust CFI' or 'scaled CFI' (``index`` is the results key, ``shown`` the printed name)."""
    key = reported_key(fit, index)
    kind = "scaled" if key.endswith("_scaled") else "robust" if key.endswith("_robust") else "plain"
    return words(lang)(f"index_{kind}", index=shown or index.upper())


@dataclass(frozen=True)
class Advice:
    """The run's estimator kind, the estimator advised and the options that rerun with it (None: used)."""

    kind: str
    advised: str
    rerun: str | None

    @property
    def row(self) -> Estimator | None:
        """The kind's row in the estimator table (None: an estimator an older results.json names)."""
        return by_kind(self.kind)

    @property
    def robust(self) -> bool:
        """The run reports a robust or scaled statistic (MLR, FIML with MLR, WLSMV)."""
        return self.row is not None and self.row.robust

    @property
    def categorical(self) -> bool:
        """The run treated the items as ordered categories (WLSMV)."""
        return self.row is not None and self.row.categorical

    @classmethod
    def of(cls, meta: Meta, choice: EstimatorChoice | None, normality: Normality | None) -> "Advice":
        kurt = normality.kurtosis if normality is not None else None
        significant = bool(kurt is not None and kurt.pvalue is not None and kurt.pvalue < 0.05)
        advised = advised_estimator(choice.recommended if choice else None, significant)
        return cls(estimator_kind(meta.estimator, meta.missing), advised,
                   rerun_options(advised, meta.estimator, meta.missing))


def method_text(kind: str, lang: str) -> str:
    """The study table's description of the estimator kind."""
    return words(lang)(f"method_{kind}")


def conventions_text(meta: Meta, lang: str) -> str:
    """lavaan's conventions of the run, named by its estimator kind.  Why not ``meta.conventions`` as stored:
    that text is English, and for a FIML run it repeats ML's ("expected information SEs") although the run
    used the observed information (``meta.information``)."""
    return words(lang)(f"conventions_{estimator_kind(meta.estimator, meta.missing)}")


def fit_note(kind: str, lang: str) -> str:
    """The sentence under the fit table naming the reported statistic and indices ('' for plain ML/FIML)."""
    row = by_kind(kind)
    return words(lang)(f"fit_note_{kind}") if row is not None and row.robust else ""


def choice_note(choice: EstimatorChoice, advice: Advice, normality: Normality | None, lang: str) -> str:
    """What the items suggest, the estimator advised (kurtosis decides between ML and MLR) and whether the
    run used it — one piece of advice, the same the normality sentences give."""
    t = words(lang)
    row = advice.row
    used = row.shown if row is not None else advice.kind
    if categorical(choice.recommended):
        items = list(dict.fromkeys(choice.few_categories + choice.asymmetric))
        shown = ", ".join(items[:12]) + (", …" if len(items) > 12 else "")
        lines = [t("choice_categorical", k=FEW_CATEGORIES, s=f"{SKEW_LIMIT:g}", items=shown)]
    else:
        lines = [t("choice_continuous", k=FEW_CATEGORIES, s=f"{SKEW_LIMIT:g}")]
        no_mardia = normality is None or normality.kurtosis is None
        lines.append(t("advised_none") if no_mardia else t(f"advised_{advice.advised}"))
    if advice.rerun is None:
        base = row.estimator if row is not None else advice.kind
        lines.append(t("used_as_advised" if base == advice.advised else "used_also_valid", used=used))
    elif advice.categorical:
        lines.append(t("used_wlsmv_valid", rerun=advice.rerun))
    else:
        lines.append(t("used_differs", used=used, rerun=advice.rerun))
    return ("" if lang == "zh" else " ").join(lines)     # Chinese sentences end in 。 and need no space


def kurtosis_sentence(advice: Advice, significant: bool, lang: str) -> str:
    """Mardia's kurtosis verdict with the advice that fits the estimator run."""
    t = words(lang)
    if not significant:
        return t("kurtosis_fine")
    if advice.categorical:
        return t("kurtosis_advice_WLSMV")
    if advice.robust:
        return t("kurtosis_advice_MLR")
    if categorical(advice.advised):
        return t("kurtosis_advice_categorical")
    return t("kurtosis_advice_ML", rerun=advice.rerun or "--estimator MLR")


__all__ = ["Advice", "words", "conventions_text", "test_key", "test_name", "index_name", "method_text", "fit_note",
           "choice_note", "kurtosis_sentence"]
