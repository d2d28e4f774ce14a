"""The typed ``moderation`` block (results/document.py) carries the stored record and the tables read it."""
from __future__ import annotations

from cluster_sem.render.moderation import moderation_context, simple_slopes_svg
from cluster_sem.results.document import ModerationRecord, ResultsDocument


def test_moderation_record_mirrors_the_stored_block(example_doc):
    (raw,) = example_doc["moderation"]
    (rec,) = ResultsDocument.of(example_doc).moderation
    assert isinstance(rec, ModerationRecord)
    assert (rec.name, rec.to, rec.focal, rec.moderator, rec.method) == \
        (raw["name"], raw["to"], raw["focal"], raw["moderator"], raw["method"])
    assert (rec.est, rec.se, rec.pvalue, rec.std, rec.level) == \
        (raw["est"], raw["se"], raw["pvalue"], raw["std"], raw["level"])
    assert [(s.at, s.est, s.ci_lower, s.ci_upper) for s in rec.simple_slopes] == \
        [(s["at"], s["est"], s["ci_lower"], s["ci_upper"]) for s in raw["simple_slopes"]]
    assert (rec.lrt.chi2, rec.lrt.df, rec.lrt.pvalue) == (raw["lrt"]["chi2"], raw["lrt"]["df"], raw["lrt"]["pvalue"])
    assert [(e.indirect, e.path, e.est, len(e.conditional_indirect)) for e in rec.index_of_moderated_mediation] == \
        [(e["indirect"], tuple(e["path"]), e["est"], len(e["conditional_indirect"]))
         for e in raw["index_of_moderated_mediation"]]
    assert rec.plot.x == tuple(raw["plot"]["x"])
    assert [line.y for line in rec.plot.lines] == [tuple(line["y"]) for line in raw["plot"]["lines"]]


def test_tables_and_plot_read_the_same_from_dict_or_typed_document(example_doc):
    typed = ResultsDocument.of(example_doc)
    for lang in ("en", "zh"):
        assert moderation_context(example_doc, lang) == moderation_context(typed, lang)
    raw = example_doc["moderation"][0]
    assert simple_slopes_svg(raw, example_doc, "zh") == simple_slopes_svg(typed.moderation[0], typed, "zh")


def test_document_without_interactions_has_no_moderation_tables():
    assert ResultsDocument.of({}).moderation == ()
    assert moderation_context({}, "en")["moderation"] == []
