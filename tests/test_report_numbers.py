"""Report content that used to be silently wrong (issue #26, part 2): missing-data diagnostics after deletion,
R², one CI story per mediation claim, Johnson–Neyman bounds outside the data, optimiser internals in notes,
and the path diagram (interaction, residual covariances, R², negative zero)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT / "tests" / "reference"
HS_SPEC = ROOT / "tests" / "specs" / "hs_cfa.yaml"
STAMP = "2026-01-02T03:04:05+00:00"


def hs_blanked(tmp_path: Path, share: float = 0.03, seed: int = 26) -> tuple[Path, pd.DataFrame]:
    """HolzingerSwineford1939 with ~``share`` of the x1–x9 cells blanked at random (the file as written)."""
    d = pd.read_csv(REF / "HolzingerSwineford1939.csv")
    items = [f"x{i}" for i in range(1, 10)]
    rng = np.random.default_rng(seed)
    d[items] = d[items].mask(rng.random((len(d), len(items))) < share)
    path = tmp_path / "hs_blanks.csv"
    d.to_csv(path, index=False)
    return path, d[items]


# -- 1. missing-data diagnostics describe the data as read ------------------------------------------------

@pytest.fixture(scope="module")
def listwise_blanks(tmp_path_factory):
    import cluster_sem as cs
    path, items = hs_blanked(tmp_path_factory.mktemp("blanks"))
    return cs.fit(HS_SPEC, path, seed=1, timestamp=STAMP).to_dict(), items


def test_missing_diagnostics_are_computed_before_listwise_deletion(listwise_blanks):
    doc, items = listwise_blanks
    assert doc["data"]["n_dropped"] > 40                       # listwise deletion really removed rows
    md = doc["missing_data"]
    expected = (items.isna().mean() * 100).to_dict()
    assert md["percent_missing"] == pytest.approx(expected, abs=1e-12)
    assert md["n_patterns"] > 1 and md["patterns"][0]["missing"] == []
    assert sum(p["n"] for p in md["patterns"]) <= len(items)
    assert md["patterns"][0]["n"] == doc["data"]["n_used"]      # complete rows = the rows analysed
    assert md["little_mcar"] is not None and md["little_mcar"]["df"] > 0
    assert doc["normality"]["n"] == doc["data"]["n_used"]       # Mardia: the rows analysed


def test_fiml_run_describes_the_same_blanks_without_the_hint(tmp_path, listwise_blanks):
    import cluster_sem as cs
    from cluster_sem.render.markdown import render_markdown
    path, items = hs_blanked(tmp_path)
    doc = cs.fit(HS_SPEC, path, seed=1, missing="fiml", timestamp=STAMP).to_dict()
    assert doc["data"]["n_dropped"] == 0
    assert doc["missing_data"] == listwise_blanks[0]["missing_data"]    # the data as read: same in both runs
    # no hint to switch to FIML (the estimator advice may still name --missing fiml, to keep it in a rerun)
    assert "consider --missing fiml" not in render_markdown(doc, "en")


def test_missing_report_says_blanks_exist_and_hints_fiml(listwise_blanks):
    from cluster_sem.render.markdown import render_markdown
    doc, _ = listwise_blanks
    for lang, absent, hint in (("en", "No item has missing values", "--missing fiml"),
                               ("zh", "所有题项均无缺失值", "--missing fiml")):
        text = render_markdown(doc, lang)
        assert absent not in text
        assert hint in text
    text = render_markdown(doc, "en")
    assert "Little's (1988) MCAR test" in text
    assert "before" in text    # the pattern percentages say which rows they count


# -- 2. R² (lavaan's lavInspect(fit, "r2")) ---------------------------------------------------------------

def lavaan_r2(rows: list[dict]) -> dict[str, float]:
    """lavaan's r2 from its own parameter table: 1 − std.all of each endogenous variable's residual variance."""
    endogenous = {r["rhs"] for r in rows if r["op"] == "=~"} | {r["lhs"] for r in rows if r["op"] == "~"}
    return {r["lhs"]: 1 - r["std.all"] for r in rows
            if r["op"] == "~~" and r["lhs"] == r["rhs"] and r["lhs"] in endogenous}


@pytest.mark.parametrize("spec, data, key", [("poldem", "PoliticalDemocracy", "poldem_sem"),
                                             ("hs_cfa", "HolzingerSwineford1939", "hs_cfa")])
def test_r_squared_equals_lavaan(spec, data, key):
    import cluster_sem as cs
    ref = lavaan_r2(json.loads((REF / "lavaan_reference.json").read_text())[key]["params"])
    res = cs.fit(ROOT / "tests" / "specs" / f"{spec}.yaml", REF / f"{data}.csv", timestamp=STAMP)
    doc = res.to_dict()
    assert list(doc["r_squared"]) == list(ref)                  # the same variables, in lavaan's order
    assert doc["r_squared"] == pytest.approx(ref, abs=2e-6)
    assert res.r_squared.to_dict() == pytest.approx(ref, abs=2e-6)   # the Python API
    if key == "poldem_sem":
        assert {"dem60", "dem65"} <= set(doc["r_squared"]) and "ind60" not in doc["r_squared"]


def test_r_squared_heywood_is_none_not_above_one():
    from cluster_sem.model.rsquare import r_squared
    rows = [{"lhs": "F", "op": "=~", "rhs": "a", "std_all": 1.1}, {"lhs": "a", "op": "~~", "rhs": "a", "std_all": -0.21},
            {"lhs": "F", "op": "=~", "rhs": "b", "std_all": 0.6}, {"lhs": "b", "op": "~~", "rhs": "b", "std_all": 0.64},
            {"lhs": "F", "op": "~~", "rhs": "F", "std_all": 1.0}]
    assert r_squared(rows) == {"a": None, "b": pytest.approx(0.36)}
    grouped = [dict(r, group=g) for g in ("north", "south") for r in rows]
    assert list(r_squared(grouped)) == ["north", "south"]


def test_r_squared_in_every_report(example_doc):
    from cluster_sem.render.html import render_html
    from cluster_sem.render.markdown import render_markdown
    from cluster_sem.render.terminal import render_summary
    from cluster_sem.render.numbers import fmt_unit
    r2 = example_doc["r_squared"]
    outcome = next(c for c in ("IOL", "CE", "CI") if c in r2)
    shown = fmt_unit(r2[outcome])
    md_en, md_zh = render_markdown(example_doc, "en"), render_markdown(example_doc, "zh")
    assert "Explained variance (R²)" in md_en and "解释方差（R²）" in md_zh
    row = next(line for line in md_en.splitlines() if line.startswith("| ") and f"({outcome}) | {shown} |" in line)
    assert row
    assert 'id="tbl-r2"' in render_html(example_doc, "en")
    assert f"{outcome} {shown}" in render_summary(example_doc)


def test_r_squared_per_group_equals_lavaan_configural():
    """Rows with a group column give R² per group, as lavaan's r2 of a multigroup fit (HS by school)."""
    from cluster_sem.model.fitted import fit_model
    from cluster_sem.model.rsquare import r_squared
    groups = ("Pasteur", "Grant-White")
    hs = pd.read_csv(REF / "HolzingerSwineford1939.csv")
    fit = fit_model("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n", hs,
                    group="school", groups=groups)
    ours = r_squared(fit.parameters.to_dict("records"))
    rows = json.loads((REF / "lavaan_reference_groups.json").read_text())["invariance_ML"]["configural"]["params"]
    assert list(ours) == list(groups)
    for g, name in enumerate(groups, start=1):
        ref = lavaan_r2([r for r in rows if r["group"] == g])
        assert list(ours[name]) == list(ref)
        assert ours[name] == pytest.approx(ref, abs=3e-5)


# -- 3. one CI story per effect ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def boot_doc():
    """The shipped example with a 300-resample percentile bootstrap (seed 1): RD → IOL → CE's percentile CI
    excludes zero while its delta-method p is .051 — the case where the two tell different stories."""
    import warnings

    import cluster_sem as cs
    from conftest import EXAMPLE_DATA, EXAMPLE_SPEC
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")       # the example's admissibility warnings, as in conftest
        return cs.fit(EXAMPLE_SPEC, EXAMPLE_DATA, seed=1, bootstrap=300, timestamp=STAMP).to_dict()


def test_effect_claims_follow_the_runs_ci(boot_doc):
    from cluster_sem.results.effects import ci_excludes_zero
    effects = boot_doc["indirect_effects"] + boot_doc["total_effects"]
    assert all(e["ci_method"] == "percentile" and e["pvalue_method"] == "delta" for e in effects)
    for e in effects:
        assert e["significant"] == ci_excludes_zero(e["ci_lower"], e["ci_upper"])
        assert e["pvalue_agrees"] == ((e["pvalue"] < 0.05) == e["significant"])
    rd = next(e for e in boot_doc["indirect_effects"] if e["name"] == "ind_RD_CE")
    assert rd["significant"] and rd["pvalue"] > 0.05 and not rd["pvalue_agrees"]
    med = {m["name"]: m for m in boot_doc["mediation"]}
    hyp = {h["name"]: h for h in boot_doc["hypotheses"] if h["kind"] == "indirect"}
    for e in boot_doc["indirect_effects"]:               # mediation verdict and hypothesis: the same claim
        assert (med[e["name"]]["mediation"] != "none") == e["significant"]
        if e["name"] in hyp and hyp[e["name"]]["id"]:
            assert hyp[e["name"]]["supported"] == e["significant"]


def _row(text: str, start: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(start))


def test_p_beside_a_bootstrap_ci_is_labelled_delta_without_stars(boot_doc):
    from cluster_sem.render.html import render_html
    from cluster_sem.render.markdown import render_markdown
    from cluster_sem.render.terminal import render_summary
    md = render_markdown(boot_doc, "en")
    assert "| p (delta) |" in md
    rd, ts = _row(md, "| RD → IOL → CE"), _row(md, "| TS → IOL → CE")
    assert "| .051† |" in rd                                 # disagrees with the CI: marked, no stars
    assert "| .042 |" in ts and ".042\\*" not in ts          # agrees: plain, still no stars
    assert "the interval decides" in md and "shown for comparison without stars" in md
    assert "p（delta 法）" in render_markdown(boot_doc, "zh")
    html = render_html(boot_doc, "en")
    assert "p (delta)" in html and ".051<span class=\"stars\">†</span>" in html
    line = _row(render_summary(boot_doc), "  ind_RD_CE")
    assert " yes " in line


def test_brief_case_delta_p_beside_bootstrap_ci_is_not_starred(example_doc_copy):
    """TS→IOL→CE p = .042 beside a bootstrap CI [−0.017, 0.347] and verdict "none" (a document written before
    the claim keys existed): no star, the † mark, and the CI's verdict."""
    from cluster_sem.render.markdown import render_markdown
    doc = example_doc_copy
    for e in doc["indirect_effects"] + doc["total_effects"]:
        e["ci_method"] = "percentile"
        for key in ("significant", "pvalue_method", "pvalue_agrees"):
            e.pop(key, None)
    ts = next(e for e in doc["indirect_effects"] if e["name"] == "ind_TS_CE")
    ts.update(pvalue=0.042, ci_lower=-0.017, ci_upper=0.347)
    row = _row(render_markdown(doc, "en"), "| TS → IOL → CE")
    assert "| .042† |" in row and "\\*" not in row.split("|")[7]


def test_conditional_indirect_note_says_why_its_ci_differs(boot_doc, example_doc):
    from cluster_sem.render.markdown import render_markdown
    for doc, method in ((boot_doc, "percentile bootstrap"), (example_doc, "delta method")):
        md = render_markdown(doc, "en")
        assert f"({method}, from the linear model without the product term) differ in method and model" in md
        assert "在方法和模型上均不同" in render_markdown(doc, "zh")
    assert "--moderation-ci bootstrap (LMS)" in render_markdown(boot_doc, "en")


def test_bootstrap_note_has_no_optimiser_internals(boot_doc):
    from cluster_sem.render.html import render_html
    from cluster_sem.render.markdown import render_markdown
    assert "dF/dtheta" in boot_doc["bootstrap"]["rule"]      # kept in results.json
    for text in (render_markdown(boot_doc, "en"), render_markdown(boot_doc, "zh"), render_html(boot_doc, "en")):
        assert "dF/dtheta" not in text and "quasi-Newton" not in text
    assert "1 that did not converge excluded" in render_markdown(boot_doc, "en")


# -- 4. Johnson–Neyman bounds only inside the moderator's range ------------------------------------------

def test_johnson_neyman_within_three_sd():
    from cluster_sem.results.effects import johnson_neyman_within as within
    r = within([-12.6, 1.63], "inside", 0.815)
    assert r["range"] == pytest.approx([-2.445, 2.445]) and r["bounds"] == [1.63]
    assert r["significant"] == [pytest.approx([-2.445, 1.63])]
    assert within([-12.6, 9.0], "inside", 0.815)["significant"] == [pytest.approx([-2.445, 2.445])]
    assert within([-12.6, 9.0], "outside", 0.815) == {"range": pytest.approx([-2.445, 2.445]), "k_sd": 3.0,
                                                       "bounds": [], "significant": []}
    assert within([-1.0, 1.0], "outside", 1.0)["significant"] == [[-3.0, -1.0], [1.0, 3.0]]
    assert within(None, "everywhere", 2.0)["significant"] == [[-6.0, 6.0]]
    assert within(None, "nowhere", 2.0)["significant"] == []


def test_johnson_neyman_bound_far_outside_is_not_reported(boot_doc, example_doc_copy):
    from cluster_sem.render.markdown import render_markdown
    rec = boot_doc["moderation"][0]
    lo, hi = rec["johnson_neyman"]
    assert lo < -3 * rec["moderator_sd"] < hi < 3 * rec["moderator_sd"]    # −15 SD and +2 SD
    assert rec["johnson_neyman_range"]["bounds"] == [pytest.approx(hi)]
    md = render_markdown(boot_doc, "en")
    note = next(line for line in md.splitlines() if "Johnson–Neyman" in line)
    assert f"{hi:.3f}" in note and f"{lo:.3f}" not in note
    doc = example_doc_copy                                   # both bounds outside ±3 SD, no stored range
    m = doc["moderation"][0]
    m.pop("johnson_neyman_range", None)
    m.update(johnson_neyman=[-20.0, 15.0], johnson_neyman_significant="outside")
    en, zh = render_markdown(doc, "en"), render_markdown(doc, "zh")
    assert "no bound inside the observed range ±3 SD" in en and "-20.000" not in en
    assert "内没有边界点" in zh


# -- 6. the diagram: interaction, residual covariances, R², no negative zero -------------------------------

def test_diagram_draws_interaction_residual_covariance_and_r2(example_doc):
    import re
    from cluster_sem.render.diagram import path_diagram_svg
    from cluster_sem.render.html import render_html
    from cluster_sem.render.numbers import fmt_unit
    svg = path_diagram_svg(example_doc, "en")
    (cov,) = re.findall(r'<g id="patch_\d+" class="residual-covariance">(.*?)</g>', svg)
    assert cov.count("<path") == 3                       # the arc and a head at each end
    ce_ci = next(p for p in example_doc["structural_model"]["parameters"]
                 if p["op"] == "~~" and {p["lhs"], p["rhs"]} == {"CE", "CI"})
    assert f">{ce_ci['std_all']:.2f}" in svg
    assert len(re.findall(r'class="interaction"', svg)) == 1
    m = example_doc["moderation"][0]
    assert f"{m['focal']}×{m['moderator']} {m['std']:.2f}".replace("-", "\u2212") in svg
    for construct in ("IOL", "CE", "CI"):
        assert f"R² = {fmt_unit(example_doc['r_squared'][construct])}" in svg
    assert "R² = " not in svg.split("(NC)")[1].split("</g>")[0]       # exogenous: no R²
    html = render_html(example_doc, "en")
    assert "Curved double-headed arrows are residual correlations" in html
    assert "latent interaction (standardized product-term coefficient)" in html
    assert "弯曲的双向箭头" in render_html(example_doc, "zh")


def test_no_negative_zero_anywhere(example_doc_copy):
    from cluster_sem.render.diagram import path_diagram_svg
    from cluster_sem.render.markdown import render_markdown
    from cluster_sem.render.numbers import fmt, fmt_ci, fmt_pct, fmt_unit
    assert fmt(-0.0) == "0.000" and fmt_ci(-0.0, 0.2) == "[0.000, 0.200]"
    assert fmt_pct(-1e-9) == "0.0" and fmt_unit(-0.0001) == ".000"
    doc = example_doc_copy
    path = next(p for p in doc["structural_model"]["parameters"] if p["op"] == "~" and p["lhs"] == "CE"
                and p["rhs"] == "TS")
    path["std_all"] = -0.004
    svg = path_diagram_svg(doc, "en")
    assert "\u22120.00<" not in svg and "-0.00<" not in svg and ">0.00<" in svg
    path["est"] = -0.0
    assert "-0.000" not in render_markdown(doc, "en")


def test_tampered_r_squared_is_refused_by_the_shape_check(example_doc_copy):
    from cluster_sem.results.schema import document_problem as shape_problem
    assert shape_problem(example_doc_copy) is None
    example_doc_copy["r_squared"] = ["CE", 0.4]
    assert shape_problem(example_doc_copy) == "'r_squared' is not an object"
    example_doc_copy["r_squared"] = {"CE": "0.4"}
    assert shape_problem(example_doc_copy) == "'r_squared.CE' is not a number"
    del example_doc_copy["r_squared"]                      # a document written before R² existed
    assert shape_problem(example_doc_copy) is None
