"""Report section "Estimation, missing data and normality" (en/zh): reads the typed results document only.

What it says: the estimator, missing-data method, information and test in lavaan's words; the most frequent
missing-data patterns; Little's MCAR test; Mardia's multivariate skewness and kurtosis, with the estimator
advice that fits the run (``estimator_text``: MLR when kurtosis is significant, p < .05, unless MLR or WLSMV was
used); the scaled fit statistics (MLR's Yuan–Bentler, WLSMV's scaled-shifted) when present.
Sentences are pre-translated here so the templates only place them (values escaped by the renderers).
"""
from __future__ import annotations

from typing import Mapping

from ..results.document import Meta, MissingData, Normality, ResultsDocument
from ..results.fit_verdicts import reported_key
from .estimator_text import Advice, index_name, kurtosis_sentence, test_name, words
from .numbers import fmt, p_eq

TEXT = {
    "en": {
        "heading": "Estimation, missing data and normality",
        "estimation": "Estimator {estimator}; missing data: {missing}; information: {information}; test: {test} "
                      "(lavaan's terms).",
        "missing_ml": "ml (full-information maximum likelihood: every answered item is used)",
        "missing_listwise": "listwise deletion",
        "patterns": "Most frequent missing-data patterns",
        "blank_items": "Blank items",
        "none": "none (complete)",
        "patterns_note": "{k} patterns in all; percentages of the {n} rows with an answered item, as read "
                         "(before any row was deleted).",
        "little": "Little's (1988) MCAR test (EM estimates): χ²({df}) = {chi2}, p {p}.",
        "little_ok": "MCAR is not rejected.",
        "little_bad": "MCAR is rejected: blanks depend on observed answers (MAR at best), so listwise deletion "
                      "may bias the estimates; FIML remains valid under MAR.",
        "little_none": "No item has missing values; Little's test does not apply.",
        "fiml_hint": "{dropped} of {raw} rows were dropped by listwise deletion; consider --missing fiml "
                     "(full-information ML keeps every answered item and stays valid under MAR).",
        "mardia": "Mardia's multivariate skewness b1 = {b1} (χ²({df}) = {chi2}, p {p1}); kurtosis b2 = {b2} "
                  "(z = {z}, p {p2}); {n} complete rows.",
        "mardia_none": "Mardia's tests need more complete rows than items ({n} complete rows, {p} items); "
                       "not computed.",
        "measurement": "Measurement model", "structural": "Structural model",
    },
    "zh": {
        "heading": "估计方法、缺失数据与正态性",
        "estimation": "估计方法 {estimator}；缺失值处理：{missing}；信息矩阵：{information}；检验统计量：{test}"
                      "（lavaan 术语）。",
        "missing_ml": "ml（全信息极大似然，所有已作答题项均被使用）",
        "missing_listwise": "列删除（listwise）",
        "patterns": "最常见的缺失模式",
        "blank_items": "缺失题项",
        "none": "无（完整作答）",
        "patterns_note": "共 {k} 种缺失模式；百分比以读入的、至少作答一题的 {n} 行为基数（删除任何行之前）。",
        "little": "Little (1988) MCAR 检验（EM 估计）：χ²({df}) = {chi2}，p {p}。",
        "little_ok": "不拒绝完全随机缺失（MCAR）假设。",
        "little_bad": "拒绝 MCAR：缺失与已观测的回答有关（至多为 MAR），列删除可能使估计产生偏差；FIML 在 MAR 下仍然有效。",
        "little_none": "所有题项均无缺失值，不适用 Little 检验。",
        "fiml_hint": "列删除删去了 {raw} 行中的 {dropped} 行；可考虑使用 --missing fiml"
                     "（全信息极大似然使用所有已作答题项，在 MAR 下仍然有效）。",
        "mardia": "Mardia 多元偏度 b1 = {b1}（χ²({df}) = {chi2}，p {p1}）；多元峰度 b2 = {b2}（z = {z}，p {p2}）；"
                  "完整行 {n} 行。",
        "mardia_none": "Mardia 检验要求完整作答的行数多于题项数（完整行 {n} 行，题项 {p} 个），未计算。",
        "measurement": "测量模型", "structural": "结构模型",
    },
}


def diagnostics_context(doc: Mapping | ResultsDocument, lang: str = "en") -> dict | None:
    """Sentences and the pattern table for the section; None when results.json has neither block."""
    tx = TEXT.get(lang, TEXT["en"])
    r = ResultsDocument.read(doc)
    if r.missing_data is None and r.normality is None:
        return None
    out: dict = {"heading": tx["heading"], "sentences": [_estimation_sentence(r.meta, tx)], "patterns": [],
                 "patterns_caption": tx["patterns"], "blank_items": tx["blank_items"], "patterns_note": "",
                 "robust": []}
    if r.missing_data is not None:
        _missing_data_part(r.missing_data, tx, out)
        _fiml_hint(r, tx, out)
    if r.normality is not None:
        _normality_part(r.normality, Advice.of(r.meta, r.estimator_choice, r.normality), out, tx, lang)
    for block, name in ((r.measurement, "measurement"), (r.structural, "structural")):
        if block.fit.get("chi2_scaled") is not None:
            out["robust"].append(_robust_sentence(block.fit, tx[name], lang))
    return out


def _estimation_sentence(meta: Meta, tx: Mapping[str, str]) -> str:
    """Estimator, missing-data method, information and test in lavaan's words."""
    missing = "" if meta.missing is None else meta.missing
    return tx["estimation"].format(
        estimator=_or(meta.estimator, "ML"),
        missing=tx["missing_ml"] if missing == "ml" else tx["missing_listwise"] if missing == "listwise" else missing,
        information=_or(meta.information, "expected"), test=_or(meta.test, "standard"))


def _missing_data_part(md: MissingData, tx: Mapping[str, str], out: dict) -> None:
    """The pattern table (only when some item is blank) and Little's MCAR sentence."""
    little = md.little_mcar
    if md.patterns and little:
        out["patterns"] = [{"items": ", ".join(p.missing) or tx["none"], "n": str(p.n), "pct": fmt(p.percent, 1)}
                           for p in md.patterns]
        total = round(md.patterns[0].n * 100 / md.patterns[0].percent)
        n_patterns = len(md.patterns) if md.n_patterns is None else md.n_patterns
        out["patterns_note"] = tx["patterns_note"].format(k=n_patterns, n=total)
    if little:
        out["sentences"].append(tx["little"].format(df=little.df, chi2=fmt(little.chi2, 2), p=p_eq(little.pvalue))
                                + " " + (tx["little_bad"] if (little.pvalue or 1) < 0.05 else tx["little_ok"]))
    else:
        out["sentences"].append(tx["little_none"])


def _fiml_hint(r: ResultsDocument, tx: Mapping[str, str], out: dict) -> None:
    """After listwise deletion of rows with blanks, point to FIML (which would have kept them)."""
    md, data = r.missing_data, r.data
    if md is None or md.little_mcar is None or r.meta.missing != "listwise" or not data.n_dropped:
        return
    out["sentences"].append(tx["fiml_hint"].format(dropped=data.n_dropped, raw=data.n_raw))


def _normality_part(nm: Normality, advice: Advice, out: dict, tx: Mapping[str, str], lang: str) -> None:
    """Mardia's tests and the estimator advice that fits the run (``estimator_text.kurtosis_sentence``)."""
    n = _or(nm.n, "")
    if nm.kurtosis is None:
        out["sentences"].append(tx["mardia_none"].format(n=n, p=_or(nm.p, "")))
        return
    sk, ku = nm.skewness, nm.kurtosis
    out["sentences"].append(tx["mardia"].format(
        b1=fmt(sk.b1d, 2), df=fmt(sk.df, 0), chi2=fmt(sk.chi2, 2), p1=p_eq(sk.pvalue),
        b2=fmt(ku.b2d, 2), z=fmt(ku.z, 2), p2=p_eq(ku.pvalue), n=n))
    significant = ku.pvalue is not None and ku.pvalue < 0.05
    out["sentences"].append(kurtosis_sentence(advice, significant, lang))
    out["recommend_mlr"] = bool(significant)


def _robust_sentence(fit: Mapping, model: str, lang: str) -> str:
    """The scaled statistics of one model, named for its estimator (Yuan–Bentler for MLR, scaled-shifted for
    WLSMV) with the CFI/TLI/RMSEA the fit reports (robust for MLR, scaled for WLSMV)."""
    t, shown = words(lang), {k: reported_key(fit, k) for k in ("cfi", "tli", "rmsea")}
    return t("robust_sentence",
             model=model, test=test_name(fit, lang), df=fit.get("df_scaled"), chi2=fmt(fit["chi2_scaled"], 2),
             p=p_eq(fit.get("pvalue_scaled")), c=fmt(fit.get("chi2_scaling_factor"), 3),
             **{f"{k}_name": index_name(fit, k, lang) for k in shown}, **{k: fmt(fit.get(v)) for k, v in shown.items()})


def _or(value, default):
    """``value`` unless it is absent (None): the stored document's own value wins, even a falsy one."""
    return default if value is None else value


def summary_lines(doc: Mapping | ResultsDocument) -> list[str]:
    """Plain-text lines for the terminal summary (English, like the rest of the summary)."""
    ctx = diagnostics_context(doc, "en")
    if ctx is None:
        return []
    out = ["Estimation, missing data and normality"]
    out += [f"  {s}" for s in ctx["sentences"][1:]]
    if ctx["patterns"]:
        top = "; ".join(f"{p['items']}: {p['n']}" for p in ctx["patterns"][:5])
        out.append(f"  Most frequent patterns (blank items: rows): {top}")
    out += [f"  {s}" for s in ctx["robust"]]
    return out + [""]


__all__ = ["diagnostics_context", "summary_lines", "TEXT"]
