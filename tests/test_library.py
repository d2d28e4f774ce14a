"""The scale library and `cluster-sem new`: every library scale is well-formed, ends up in a spec that
validates, simulates and fits (so no scale is broken), `library list/show` print it, `new` numbers
hypotheses in path order and refuses bad requests with exit 2 and one line, and the report cites the
source of each construct's items."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from cluster_sem.cli import main
from cluster_sem.library import library_scales
from cluster_sem.spec import load_spec

ROOT = Path(__file__).resolve().parents[1]
ZHEJIANG = ROOT / "questionnaires" / "zhejiang_cluster_growth.yaml"

# five models that together use every library scale (second-order scales bring their dimensions)
MODELS = {
    "zhejiang": ("NC,TS,RD,IOL,CE,CI,AF,DF", "NC,TS,RD -> IOL -> CE,CI; AF,DF -> CE"),
    "fujian": ("SC,CNW,SNW,PNW,LM,KI", "SC,CNW,SNW,PNW -> LM -> KI"),
    "liaoning": ("CL,GS,CG,AC,TC,IC", "CL,GS,CG -> AC -> TC -> IC"),
    "knowledge": ("TR,RQ,KT,PACAP,RACAP", "TR,RQ -> KT -> PACAP -> RACAP"),
    "performance": ("NCEN,NH,ED,OL,IP,FP", "NCEN,NH,ED,OL -> IP -> FP"),
}


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cluster_sem.cli", *args], capture_output=True, text=True,
                          cwd=cwd, encoding="utf-8")


# -- the library files -----------------------------------------------------------------------------------
def test_library_has_at_least_20_well_formed_bilingual_scales():
    scales = library_scales()
    assert len(scales) >= 20
    ids = [it.id for s in scales.values() for it in s.items or ()]
    assert len(ids) == len(set(ids)), "item ids must be unique across the library (scales are combined)"
    for key, s in scales.items():
        assert s.label.en and s.label.zh and s.adaptation.en and s.adaptation.zh, key
        if s.dimensions:
            assert s.items is None and len(s.dimensions) >= 3, key
            assert all(scales[d].items for d in s.dimensions), key
            continue
        assert s.scale and len(s.items) >= 3, key
        assert s.scale.anchors.en and s.scale.anchors.zh, key
        assert s.source and s.source.title and s.source.journal and 1900 < s.source.year < 2030, key
        for it in s.items:
            assert it.id.startswith(key) and it.text.en and it.text.zh, it.id
            # the Chinese wording is a translation, not a copy of the English
            assert re.search(r"[\u4e00-\u9fff]", it.text.zh) and not re.search(r"[\u4e00-\u9fff]", it.text.en)


def test_library_covers_the_constructs_of_the_issue():
    keys = set(library_scales())
    assert {"NC", "TS", "RV", "RH", "RS", "RD", "KA", "KS", "KC", "IOL", "CE", "CI", "AF", "DF",   # Zhejiang
            "KI", "LM", "SC", "SCS", "SCR", "SCC", "CNW", "SNW", "PNW",                          # Fujian
            "TC", "AC", "CL", "IC", "CG", "GS",                                                  # Liaoning, governance
            "TR", "NCEN", "NH", "KT", "PACAP", "RACAP", "IP", "FP", "ED"} <= keys


def test_zhejiang_scales_match_the_shipped_questionnaire():
    """The library's Zhejiang scales carry the shipped questionnaire's items, reverse keys and wording."""
    spec, scales = load_spec(ZHEJIANG), library_scales()
    for name, c in spec.constructs.items():
        lib = scales[name]
        if c.dimensions:
            assert lib.dimensions == c.dimensions
            continue
        assert [(i.id, i.reverse, i.text.en, i.text.zh) for i in lib.items] == \
               [(i.id, i.reverse, i.text.en, i.text.zh) for i in c.items]
        assert (lib.scale.min, lib.scale.max) == (spec.scale.min, spec.scale.max)


def test_every_scale_is_in_one_test_model():
    used = set()
    for names, _ in MODELS.values():
        for n in names.split(","):
            used |= {n, *(library_scales()[n].dimensions or ())}
    assert used == set(library_scales())


# -- new → validate → simulate → fit on every scale ------------------------------------------------------
@pytest.fixture(scope="module", params=list(MODELS))
def fitted(request, tmp_path_factory):
    names, paths = MODELS[request.param]
    folder = tmp_path_factory.mktemp(request.param)
    spec, data, out = folder / "study.yaml", folder / "study.csv", folder / "results"
    assert main(["new", str(spec), "--from", names, "--paths", paths, "--controls", "firm_age,firm_size"]) == 0
    assert main(["validate", str(spec)]) == 0
    assert main(["simulate", str(spec), "--n", "400", "--seed", "7", "--out", str(data)]) == 0
    assert main(["fit", str(spec), str(data), "--out", str(out), "--bootstrap", "0", "--quiet"]) == 0
    return spec, json.loads((out / "results.json").read_text(encoding="utf-8")), out


def test_every_scale_fits_simulated_data(fitted):
    spec_path, doc, _ = fitted
    spec = load_spec(spec_path)
    loadings = {r["rhs"]: r for r in doc["measurement_model"]["parameters"] if r["op"] == "=~"}
    assert set(spec.items) <= set(loadings)
    assert all(0.45 < loadings[i]["std_all"] < 0.95 for i in spec.items), \
        {i: loadings[i]["std_all"] for i in spec.items}
    assert doc["measurement_model"]["fit"]["cfi"] > 0.95 and doc["structural_model"]["fit"]["rmsea"] < 0.05
    assert not [w for w in doc.get("warnings", []) if "converge" in w or "negative" in w]
    paths = [r for r in doc["structural_model"]["parameters"] if r["op"] == "~" and r["rhs"] in spec.constructs]
    assert len(paths) == sum(len(p.from_) for p in spec.paths)
    # the population's paths are recovered: each standardized estimate within 3.5 standard errors of its
    # population value (a scale with swapped reverse keys or a broken population would miss by far more)
    for r in paths:
        population = spec.population.paths[r["lhs"]][r["rhs"]]
        se_std = r["se"] * r["std_all"] / r["est"]
        assert abs(r["std_all"] - population) < 3.5 * se_std, (r["lhs"], r["rhs"], r["std_all"], population)


def test_report_cites_the_source_of_every_construct(fitted):
    spec_path, doc, out = fitted
    spec = load_spec(spec_path)
    md = (out / "report.md").read_text(encoding="utf-8")
    html = (out / "report.html").read_text(encoding="utf-8")
    note = next(line for line in md.splitlines() if "Item sources" in line)
    for name, c in spec.constructs.items():
        if c.source:
            assert f"({c.items[0].id}–{c.items[-1].id})" in note if c.items else f"({', '.join(c.dimensions)})" in note
            assert f"{c.source.authors} ({c.source.year})".replace("&", "&amp;") in html
    assert doc["spec"]["constructs"][next(iter(spec.constructs))]["source"]["year"] > 1900


def test_new_spec_runs_power_unchanged(tmp_path):
    spec = tmp_path / "study.yaml"
    assert main(["new", str(spec), "--from", "TS,RQ,OL,CG", "--paths", "TS,RQ -> OL -> CG"]) == 0
    assert main(["power", str(spec), "--n", "150", "--reps", "20", "--seed", "3", "--out", str(tmp_path / "p"),
                 "--quiet"]) == 0
    power = json.loads((tmp_path / "p" / "power.json").read_text(encoding="utf-8"))
    effects = {e["name"]: e for e in power["sizes"][0]["effects"]}
    assert {"OL~TS", "OL~RQ", "CG~OL", "ind_TS_OL_CG", "ind_RQ_OL_CG"} <= set(effects)
    assert all(e["population"] > 0 for e in effects.values())


# -- what `new` writes -----------------------------------------------------------------------------------
def test_new_numbers_hypotheses_in_path_order_and_names_indirect_effects(tmp_path):
    spec_path = tmp_path / "s.yaml"
    assert main(["new", str(spec_path), "--from", "ka,AC,IP,RD", "--paths", "KA,RD -> AC -> IP; KA -> IP",
                 "--controls", "firm_age"]) == 0
    text = spec_path.read_text(encoding="utf-8")
    assert text.startswith("# Written by cluster-sem") and "# Source: Cohen & Levinthal (1990)" in text
    raw = yaml.safe_load(text)
    assert list(raw["constructs"]) == ["KA", "AC", "IP", "RV", "RH", "RS", "RD"]
    assert raw["paths"] == [{"to": "AC", "from": ["KA", "RD"], "hypothesis": {"KA": "H1", "RD": "H2"}},
                            {"to": "IP", "from": ["AC", "KA"], "hypothesis": {"AC": "H3", "KA": "H4"}}]
    assert [(i["name"], i["hypothesis"]) for i in raw["indirect"]] == [("ind_KA_AC_IP", "H5"), ("ind_RD_AC_IP", "H6")]
    assert raw["hypotheses"]["H1"]["text"] == {"en": "Knowledge acquisition has a positive effect on absorptive "
                                                     "capacity.", "zh": "知识获取对吸收能力有正向影响。"}
    assert raw["hypotheses"]["H5"]["text"]["zh"] == "吸收能力在知识获取与创新绩效之间起中介作用。"
    # IP is a 7-point scale among 5-point ones: its items carry their own range
    assert raw["scale"] == {"min": 1, "max": 5}
    assert all(it["scale"] == {"min": 1, "max": 7} for it in raw["constructs"]["IP"]["items"])
    pop = raw["population"]
    assert set(pop["loadings"]) == set(load_spec(spec_path).items)
    assert pop["paths"] == {"AC": {"KA": 0.34, "RD": 0.34}, "IP": {"AC": 0.34, "KA": 0.34}}
    assert pop["correlations"] == [{"between": ["KA", "RD"], "r": 0.3}]
    assert pop["controls"]["firm_age"]["effects"] == {"AC": 0.05, "IP": 0.05}
    assert raw["constructs"]["AC"]["source"]["journal"] == "Administrative Science Quarterly"
    assert "source" not in raw["constructs"]["RD"]


def test_python_api_matches_the_command(tmp_path):
    import cluster_sem as cs
    assert set(cs.library_scales()) == set(library_scales())
    text = cs.new_spec(["TS", "OL"], "TS -> OL")
    assert main(["new", str(tmp_path / "s.yaml"), "--from", "TS,OL", "--paths", "TS -> OL"]) == 0
    body = [line for line in (tmp_path / "s.yaml").read_text(encoding="utf-8").splitlines()
            if not line.startswith("# Command")]
    assert text.splitlines() == body


@pytest.mark.parametrize("args, message", [
    (["--from", "TS,PACPA", "--paths", "TS -> PACPA"], "'PACPA' is not a scale of the library (did you mean 'PACAP'"),
    (["--from", "TS,OL", "--paths", "TS -> OL -> CG"], "names 'CG', which is not in --from (TS, OL)"),
    (["--from", "TS,OL,CG", "--paths", "TS -> OL -> CG; CG -> TS"], "the paths form a cycle CG -> TS -> OL -> CG"),
    (["--from", "TS,OL", "--paths", "TS -> TS"], "makes a construct predict itself"),
    (["--from", "TS,OL", "--paths", "TS -> "], "a chain needs names on both sides"),
    (["--from", "TS,OL", "--paths", "TS -> OL", "--controls", "firm age"], "'firm age' is not a valid column name"),
    (["--from", "TS,OL", "--paths", "TS -> OL", "--controls", "TS1"], "'TS1' is also"),
])
def test_new_refuses_bad_requests_with_one_line(tmp_path, args, message):
    proc = run_cli("new", "s.yaml", *args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert not list(tmp_path.iterdir()), "nothing is written when the request is refused"


def test_new_refuses_a_missing_folder(tmp_path):
    proc = run_cli("new", "nodir/s.yaml", "--from", "TS,OL", "--paths", "TS -> OL", cwd=tmp_path)
    assert proc.returncode == 2 and "does not exist" in proc.stderr and proc.stderr.count("\n") == 1
    assert not list(tmp_path.iterdir())


def test_new_refuses_an_existing_file_unless_forced(tmp_path):
    (tmp_path / "s.yaml").write_text("keep me\n", encoding="utf-8")
    proc = run_cli("new", "s.yaml", "--from", "TS,OL", "--paths", "TS -> OL", cwd=tmp_path)
    assert proc.returncode == 2 and "already exists" in proc.stderr and "--force" in proc.stderr
    assert (tmp_path / "s.yaml").read_text(encoding="utf-8") == "keep me\n"
    proc = run_cli("new", "s.yaml", "--from", "TS,OL", "--paths", "TS -> OL", "--force", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert load_spec(tmp_path / "s.yaml").paths[0].to == "OL"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"]   # no temporary file left behind


# -- library list / show ---------------------------------------------------------------------------------
def test_library_list_shows_every_scale_with_source(tmp_path):
    proc = run_cli("library", "list", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = {line.split()[0]: line for line in proc.stdout.splitlines() if line and line.split()[0] in library_scales()}
    assert set(rows) == set(library_scales())
    assert "Tie strength" in rows["TS"] and "Granovetter (1973)" in rows["TS"] and "en+zh" in rows["TS"]
    assert re.search(r"\b11 \(KA\+KS\+KC\)", rows["IOL"])
    zh = run_cli("library", "list", "--lang", "zh", cwd=tmp_path).stdout
    assert "关系强度" in zh and "Tie strength" not in zh


def test_library_show_prints_items_in_both_languages_or_one(tmp_path):
    both = run_cli("library", "show", "ts", cwd=tmp_path)
    assert both.returncode == 0, both.stderr
    assert "TS4 (R)" in both.stdout and "short-lived" in both.stdout and "随时可能中断" in both.stdout
    assert "source: Granovetter (1973). The strength of weak ties. American Journal of Sociology" in both.stdout
    assert "response scale: 1–5" in both.stdout
    zh = run_cli("library", "show", "TS", "--lang", "zh", cwd=tmp_path).stdout
    assert "随时可能中断" in zh and "short-lived" not in zh
    second = run_cli("library", "show", "SC", cwd=tmp_path).stdout
    assert "SCS" in second and "Nahapiet & Ghoshal (1998)" in second


def test_library_show_refuses_an_unknown_scale(tmp_path):
    proc = run_cli("library", "show", "trust", cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "'trust' is not a scale of the library (did you mean" in proc.stderr and "'TR'" in proc.stderr


def test_spec_source_key_is_checked(tmp_path):
    text = ZHEJIANG.read_text(encoding="utf-8").replace(
        "    label: {en: Tie strength, zh: 关系强度}\n",
        "    label: {en: Tie strength, zh: 关系强度}\n    source: {authors: Granovetter, year: soon}\n")
    (tmp_path / "s.yaml").write_text(text, encoding="utf-8")
    proc = run_cli("validate", "s.yaml", cwd=tmp_path)
    assert proc.returncode == 2 and "constructs.TS.source.year" in proc.stderr
