"""Terminal summary: the tables of a methods section, as plain text.  Reads the typed results blocks only
(``results.document``)."""
from __future__ import annotations

from ..results.document import ResultsDocument, pick
from ..results.effects import ci_excludes_zero
from ..results.fit_verdicts import reported_key
from .estimator_text import index_name, test_name
from .numbers import fmt, fmt_p, p_eq, stars
from .plain_text import terminal_safe


def _table(header: list[str], rows: list[list[str]], align: str | None = None) -> list[str]:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)] if rows else [len(h) for h in header]
    align = align or "l" + "r" * (len(header) - 1)

    def line(cells):
        return "  ".join(str(c).ljust(w) if a == "l" else str(c).rjust(w) for c, w, a in zip(cells, widths, align))

    return [line(header), "  ".join("-" * w for w in widths)] + [line(r) for r in rows]


def _fit_block(name: str, fit, verdicts: dict) -> list[str]:
    key = {k: reported_key(fit, k) for k in ("chi2", "pvalue", "cfi", "tli", "rmsea", "rmsea_ci90")}
    lo, hi = fit[key["rmsea_ci90"]]
    same = key["rmsea_ci90"].removeprefix("rmsea_ci90") == key["rmsea"].removeprefix("rmsea")
    ci = f" 90% CI [{fmt(lo)}, {fmt(hi)}]" if same else ""   # a document without the CI of the reported RMSEA
    v = {k: verdicts[k].verdict for k in verdicts}
    stat, n = test_name(fit, "en"), {k: index_name(fit, k, "en") for k in ("cfi", "tli", "rmsea")}
    return [
        f"{name}: {stat}({fit['df']}) = {fmt(fit[key['chi2']], 2)}, p {p_eq(fit[key['pvalue']])}, "
        f"{stat}/df = {fmt(verdicts['chi2_df'].value, 2)} [{v['chi2_df']}]",
        f"    {n['cfi']} = {fmt(fit[key['cfi']])} [{v['cfi']}], {n['tli']} = {fmt(fit[key['tli']])} [{v['tli']}], "
        f"{n['rmsea']} = {fmt(fit[key['rmsea']])}{ci} [{v['rmsea']}], "
        f"SRMR = {fmt(fit['srmr'])} [{v['srmr']}]",
        f"    AIC = {fmt(fit['aic'], 1)}, BIC = {fmt(fit['bic'], 1)}, n = {fit['n']}",
    ]


def render_summary(doc: dict, *, lang: str = "en") -> str:
    from .kinds import own_renderer
    own = own_renderer(doc, "summary")       # a PLS, invariance or cmb document has its own summary
    if own is not None:
        return own(doc, lang)
    r = ResultsDocument.of(doc)
    out = _header_lines(r, lang) + _fit_lines(r)
    from .diagnostics import summary_lines
    out += summary_lines(r)
    from .design import summary_lines as design_lines
    from .rsquare import summary_lines as r_squared_lines
    out += design_lines(r)
    out += _quality_lines(r) + _path_lines(r) + r_squared_lines(r) + _indirect_lines(r) + _moderation_lines(r)
    from .publication import summary_lines as publication_lines
    out += publication_lines(r)
    out.append("")
    out.append("* p < .05, ** p < .01, *** p < .001")
    return "\n".join(terminal_safe(line) for line in out)   # titles, names, warnings are user text


def _header_lines(r: ResultsDocument, lang: str) -> list[str]:
    meta, data = r.meta, r.data
    title = pick(meta.title, lang, "") or "cluster-sem results"
    out = [title, "=" * min(len(title) * (2 if lang == "zh" else 1), 78),
           f"Data: {data.source} — n = {data.n_used} used, {data.n_dropped} dropped "
           f"(estimator {meta.estimator}, missing = {meta.missing}, information = "
           f"{meta.information or 'expected'}, test = {meta.test or 'standard'})", ""]
    if r.warnings:
        out += ["WARNINGS"] + [f"  ! {w}" for w in r.warnings] + [""]
    return out


def _fit_lines(r: ResultsDocument) -> list[str]:
    return (["Model fit (cut-offs: Hu & Bentler 1999 — CFI/TLI ≥ .95, RMSEA ≤ .06, SRMR ≤ .08)"]
            + _fit_block("  Measurement model (CFA)", r.measurement.fit, r.fit_verdicts["measurement"])
            + _fit_block("  Structural model", r.structural.fit, r.fit_verdicts["structural"]) + [""])


def _quality_lines(r: ResultsDocument) -> list[str]:
    loadings = r.measurement.rows("=~")
    out = ["Measurement quality (α = Cronbach; ω = composite reliability; AVE ≥ .50; loadings ≥ .50)"]
    rows = []
    for rel in r.reliability:
        std = [p.std_all for p in loadings if p.lhs == rel.construct]
        rows.append([rel.construct, fmt(rel.alpha), fmt(rel.omega), fmt(rel.ave),
                     f"{fmt(min(std))}–{fmt(max(std))}" if std else ""])
    out += ["  " + x for x in _table(["construct", "alpha", "omega", "AVE", "std. loadings"], rows)]
    if r.htmt_flags:
        out.append("  HTMT above .85: " + ", ".join(f"{f[0]}–{f[1]} ({fmt(f[2])})" for f in r.htmt_flags))
    cm = r.common_method
    out += [f"  Harman single factor: first component explains {fmt(100 * cm.harman_first_factor_share, 1)}% "
            f"of item variance ({'above' if cm.flag else 'below'} the 50% warning level)", ""]
    return out


def _path_lines(r: ResultsDocument) -> list[str]:
    out = ["Structural paths (unstandardized b, SE, standardized β)"]
    rows = []
    for p in r.structural.rows("~"):
        hyp = next((h for h in r.hypotheses if h.kind == "path" and h.source == p.rhs and h.to == p.lhs), None)
        verdict = "" if not hyp or hyp.id is None else f"{hyp.id}: {'supported' if hyp.supported else 'not supported'}"
        rows.append([f"{p.lhs} <- {p.rhs}", fmt(p.est), fmt(p.se), fmt(p.std_all), fmt_p(p.pvalue) + stars(p.pvalue),
                     verdict])
    return out + ["  " + x for x in _table(["path", "b", "SE", "beta", "p", "hypothesis"], rows, "lrrrll")] + [""]


def _indirect_lines(r: ResultsDocument) -> list[str]:
    if not r.indirect_effects:
        return []
    first = r.indirect_effects[0]
    out = [f"Indirect effects ({int(round(100 * first.level))}% CI, {first.ci_method}; significant = the CI "
           "excludes 0)"]
    med = {m.name: m.mediation for m in r.mediation}
    rows = [[e.name, " -> ".join(e.path), fmt(e.est), fmt(e.se), f"[{fmt(e.ci_lower)}, {fmt(e.ci_upper)}]",
             _significant(e), fmt(e.std_all), med.get(e.name) or ""] for e in r.indirect_effects]
    out += ["  " + x for x in _table(["effect", "path", "est", "SE", "CI", "significant", "std", "mediation"], rows,
                                     "llrrrlrl")]
    b = r.bootstrap
    if b:
        out.append(f"  bootstrap: B = {b.B}, seed {b.seed}, {b.n_converged} converged, "
                   f"{b.n_inadmissible} inadmissible kept (as lavaan does), {b.n_nonconverged} non-converged excluded"
                   + (f"; clusters resampled whole ({b.n_clusters})" if b.resampling == "cluster" else ""))
        if b.n_lost_category:
            out.append(f"  WLSMV: {b.n_lost_category} of {b.B} resamples "
                       f"({b.n_lost_category / b.B:.0%}) dropped: a category had no case (rare answers; "
                       "collapse them with recode:)")
    return out


def _significant(e) -> str:
    """The effect's one claim (results.json ``significant``: its CI excludes zero), as yes/no."""
    significant = e.significant if e.significant is not None else ci_excludes_zero(e.ci_lower, e.ci_upper)
    return "yes" if significant else "no"


def _moderation_lines(r: ResultsDocument) -> list[str]:
    """Latent interactions: product term, simple slopes at -1/0/+1 SD, Johnson–Neyman within ±3 SD, LRT,
    hypothesis verdict."""
    from .moderation import johnson_neyman_sentence
    out = []
    for m in r.moderation:
        hyp = next((h for h in r.hypotheses if h.kind == "interaction" and h.name == m.name and h.to == m.to), None)
        verdict = "" if not hyp or not hyp.id else f"  {hyp.id}: {'supported' if hyp.supported else 'not supported'}"
        out.append(f"Moderation ({m.method}): {m.to} <- {m.focal}:{m.moderator}  b = {fmt(m.est)}, "
                   f"SE = {fmt(m.se)}, p {p_eq(m.pvalue)}{stars(m.pvalue)}{verdict}")
        slopes = ", ".join(f"{s.at:+d} SD: {fmt(s.est)} [{fmt(s.ci_lower)}, {fmt(s.ci_upper)}]"
                           for s in m.simple_slopes)
        out.append(f"  simple slopes of {m.focal} at {m.moderator} {slopes}")
        out.append(f"  {johnson_neyman_sentence(m)}")
        if m.lrt:
            out.append(f"  LRT with vs. without the product: chi2({m.lrt.df}) = {fmt(m.lrt.chi2, 2)}, "
                       f"p {p_eq(m.lrt.pvalue)}")
    return out  # construct ids are validated identifiers: no control characters to strip
