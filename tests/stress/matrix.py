"""Stress matrix: spec x data shapes x CLI commands, checked against the outside contract (exit 0 or 2).

Not a pytest module (slow: minutes); run by hand before a release:

    nice python tests/stress/matrix.py [--only NAME,...] [--commands fit,validate,...]

Every variant is derived from the shipped example (a reduced copy of the Zhejiang spec keeps it fast: a
second-order construct, controls, a group with ``group_levels``, an indirect effect) or from the specs under
tests/specs.  Each run goes through ``cluster_sem.cli.main`` in-process and is checked: exit 0 or 2; on 2
exactly one error line with 'Fix:' and no output directory; on 0 a strict-JSON results.json (no NaN or
Infinity) and both reports.  Anything else (a traceback, exit 1, a hang) is printed as BUG.  Each BUG found
becomes a focused test in tests/test_hardening_*.py.
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import io
import json
import shutil
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
SPEC = ROOT / "questionnaires" / "zhejiang_cluster_growth.yaml"
DATA = ROOT / "data" / "zhejiang_128_synthetic.csv"
KEEP = ["NC", "TS", "RV", "RH", "RS", "RD", "KA", "CE"]

COMMANDS = {
    "validate": ["validate", "{spec}", "{data}"],
    "fit": ["fit", "{spec}", "{data}", "--out", "{out}", "--quiet"],
    "fit_mlr": ["fit", "{spec}", "{data}", "--out", "{out}", "--quiet", "--estimator", "MLR"],
    "fit_fiml": ["fit", "{spec}", "{data}", "--out", "{out}", "--quiet", "--missing", "fiml"],
    "fit_wlsmv": ["fit", "{spec}", "{data}", "--out", "{out}", "--quiet", "--estimator", "WLSMV"],
    "fit_boot": ["fit", "{spec}", "{data}", "--out", "{out}", "--quiet", "--bootstrap", "200", "--jobs", "2"],
    "inv": ["invariance", "{spec}", "{data}", "--out", "{out}", "--quiet"],
    "inv_mlr": ["invariance", "{spec}", "{data}", "--out", "{out}", "--quiet", "--estimator", "MLR"],
    "inv_fiml": ["invariance", "{spec}", "{data}", "--out", "{out}", "--quiet", "--missing", "fiml"],
    "inv_wlsmv": ["invariance", "{spec}", "{data}", "--out", "{out}", "--quiet", "--estimator", "WLSMV"],
    "power": ["power", "{spec}", "--n", "150", "--reps", "4", "--seed", "1", "--out", "{out}", "--quiet"],
}


def base_spec() -> dict:
    """The example reduced to NC, TS, RD (second order), KA, CE with controls, group and one indirect."""
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    spec["constructs"] = {k: v for k, v in spec["constructs"].items() if k in KEEP}
    spec["paths"] = [{"to": "KA", "from": ["NC", "TS", "RD"], "hypothesis": "H1"},
                     {"to": "CE", "from": ["KA", "NC"], "hypothesis": "H2"}]
    spec["covariances"] = []
    spec["indirect"] = [{"name": "ind_NC_CE", "path": ["NC", "KA", "CE"]}]
    spec.pop("interactions", None)
    spec["hypotheses"] = {k: v for k, v in spec.get("hypotheses", {}).items() if k in ("H1", "H2")} or {}
    pop = spec["population"]
    items = {i if isinstance(i, str) else i["id"] for c in spec["constructs"].values() for i in c.get("items", [])}
    pop["loadings"] = {k: v for k, v in pop["loadings"].items() if k in items}
    pop["dimension_loadings"] = {k: v for k, v in pop["dimension_loadings"].items() if k in ("RV", "RH", "RS")}
    pop["paths"] = {"KA": {"NC": 0.25, "TS": 0.3, "RD": 0.2}, "CE": {"KA": 0.4, "NC": 0.1}}
    for k in ("correlations", "residual_correlations", "interactions"):
        pop.pop(k, None)
    for c in pop.get("controls", {}).values():
        c["effects"] = {k: v for k, v in c.get("effects", {}).items() if k in KEEP}
    return spec


def base_data() -> pd.DataFrame:
    return pd.read_csv(DATA, dtype=str, keep_default_na=False)


def items_of(spec: dict) -> list[str]:
    return [i if isinstance(i, str) else i["id"] for c in spec["constructs"].values() for i in c.get("items", [])]


def blanked(frame: pd.DataFrame, columns: list[str], rate: float, rng) -> pd.DataFrame:
    """A copy with about ``rate`` of the cells of ``columns`` left blank (completely at random)."""
    out = frame.copy()
    for c in columns:
        out.loc[rng.random(len(out)) < rate, c] = ""
    return out


# ---- variants: name -> (spec dict, data frame of strings, file kind) -----------------------------------

def variants() -> dict:
    rng = np.random.default_rng(7)
    S, D = base_spec(), base_data()
    its = items_of(S)
    out: dict = {}

    def add(name, spec=None, data=None, kind="csv", raw=None):
        out[name] = (spec if spec is not None else copy.deepcopy(S), data if data is not None else D.copy(), kind, raw)

    add("base")
    full = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    add("example_full", spec=full)

    add("blank_items", data=blanked(D, its, 0.05, rng))

    d = D.copy()
    s = copy.deepcopy(S)
    s["missing_codes"] = [99, -99]
    for c, code in zip(its[:8], ["-99", "99", "NA", " ", "-99", "N/A", "99", ""]):
        d.loc[rng.choice(len(d), 4, replace=False), c] = code
    add("missing_codes_items", spec=s, data=d)

    d = D.copy()
    d.loc[[3, 9], its[0]] = "-99"
    add("minus99_not_declared", data=d)

    d = D.copy()
    d.loc[[1, 5, 7], "firm_age"] = ""
    d.loc[[2, 6], "log_employees"] = "99"
    d.loc[[11], "log_employees"] = "NA"
    add("missing_controls", data=d)

    d = D.copy()
    d.loc[[0, 4, 8, 50], "region"] = ""
    add("blank_group", data=d)

    d = D.copy()
    d.loc[[0, 4], "region"] = "99"
    add("group_missing_code", data=d)

    d = D.copy()
    d["firm_age"] = np.where(rng.random(len(d)) < 0.5, "small", "large")
    add("control_text", data=d)

    d = D.copy()
    d["firm_age"] = "5"
    add("control_constant", data=d)

    d = D.copy()
    d["firm_age"] = ""
    add("control_all_blank", data=d)

    for k in (1, 3, 5):
        d = D.copy()
        d.loc[list(range(k)), "region"] = "Lishui"
        s = copy.deepcopy(S)
        s.pop("group_levels")
        add(f"tiny_group_{k}_nolevels", spec=s, data=d)
        s2 = copy.deepcopy(S)
        s2["group_levels"] = {"north": ["Hangzhou", "Ningbo", "Shaoxing"], "south": ["Wenzhou", "Taizhou"],
                              "west": ["Lishui"]}
        add(f"tiny_group_{k}_levels", spec=s2, data=d)

    codes = {"Hangzhou": "1", "Ningbo": "2", "Shaoxing": "3", "Wenzhou": "4", "Taizhou": "5"}
    d = D.copy()
    d["region"] = d["region"].map(codes)
    s = copy.deepcopy(S)
    s["group_levels"] = {"north": [1, 2, 3], "south": [4, 5]}
    add("numeric_group_levels", spec=s, data=d)
    s = copy.deepcopy(S)
    s.pop("group_levels")
    add("numeric_group_nolevels", spec=s, data=d.copy())
    d2 = d.copy()
    d2.loc[[0, 1], "region"] = ""
    add("numeric_group_blanks", spec=copy.deepcopy(S) | {"group_levels": {"north": [1, 2, 3], "south": [4, 5]}}, data=d2)

    zh = {"Hangzhou": "杭州", "Ningbo": "宁波", "Shaoxing": "绍兴", "Wenzhou": "温州", "Taizhou": "台州"}
    d = D.copy()
    d["region"] = d["region"].map(zh)
    s = copy.deepcopy(S)
    s["group_levels"] = {"北部": ["杭州", "宁波", "绍兴"], "南部": ["温州", "台州"]}
    add("unicode_groups", spec=s, data=d)
    add("unicode_groups_gbk", spec=copy.deepcopy(s), data=d.copy(), kind="gbk")
    add("unicode_groups_xlsx", spec=copy.deepcopy(s), data=d.copy(), kind="xlsx")

    d = D.copy()
    d.loc[0, its[0]] = "3 "
    d.loc[1, its[1]] = "3.0"
    d.loc[2, its[2]] = "N/A"
    add("item_text_ok", data=d)
    d = d.copy()
    d.loc[3, its[3]] = "４"
    add("item_fullwidth", data=d)
    d = D.copy()
    d.loc[4, its[4]] = "three"
    add("item_word", data=d)

    d = D.copy()
    d[its[5]] = "3"
    add("constant_item", data=d)
    d = D.copy()
    d[its[5]] = ""
    add("item_all_blank", data=d)
    d = D.copy()
    d.loc[[0, 1], "NC4"] = "6"
    d.loc[[2], "NC4"] = "0"
    add("reverse_out_of_range", data=d)

    d = D.copy()
    add("duplicate_columns", data=d, raw="dupcol")
    add("bom", data=D.copy(), kind="bom")
    add("semicolon", data=D.copy(), kind="semicolon")
    add("xlsx", data=D.copy(), kind="xlsx")
    add("sav", data=D.copy(), kind="sav")
    d = D.copy()
    d.loc[[0, 1], its[0]] = ""
    d.loc[[2], "firm_age"] = ""
    add("sav_blanks", data=d, kind="sav")

    add("n10", data=D.iloc[:10].copy())
    add("n30", data=D.iloc[:30].copy())
    add("n60", data=D.iloc[:60].copy())

    s = copy.deepcopy(S)
    s["constructs"]["CE"]["items"] = s["constructs"]["CE"]["items"][:2]
    s["population"]["loadings"] = {k: v for k, v in s["population"]["loadings"].items() if k not in ("CE3", "CE4")}
    add("two_item_construct", spec=s)

    s = copy.deepcopy(S)
    s["hypotheses"] = {}
    for p in s["paths"]:
        p.pop("hypothesis", None)
    add("empty_hypotheses", spec=s)
    s = copy.deepcopy(S)
    s["hypotheses"] = []
    add("hypotheses_list", spec=s)

    d = D.drop(columns=["firm_id"])
    add("id_absent_in_data", data=d)
    s = copy.deepcopy(S)
    s.pop("id")
    add("no_id_spec", spec=s, data=d.copy())
    s = copy.deepcopy(S)
    s.pop("group")
    s.pop("group_levels")
    s["population"].pop("groups")
    add("no_group_spec", spec=s)

    s = copy.deepcopy(S)
    s["ordinal"] = True
    add("ordinal_spec", spec=s)

    d = D.copy()
    d["CE1"] = ((d["NC1"].astype(float) + d["TS1"].astype(float)) / 2).map(lambda v: f"{v:g}")
    add("collinear_items", data=d)
    d = D.copy()
    south = d["region"].isin(["Wenzhou", "Taizhou"])
    d.loc[south, "KA2"] = "4"
    add("group_constant_item", data=d)
    d = D.copy()
    d.loc[south, "log_employees"] = "4.5"
    add("group_constant_control", data=d)
    add("heavy_blanks", data=blanked(D, its, 0.35, rng))
    d = D.copy()
    d.loc[d["region"] == "Wenzhou", "TS3"] = ""
    add("item_blank_in_one_group", data=d)

    s = copy.deepcopy(S)
    s["constructs"]["RD"]["dimensions"] = ["RV", "RH"]
    s["population"]["dimension_loadings"].pop("RS")
    s["paths"][0]["from"] = ["NC", "TS", "RD", "RS"]
    add("second_order_2dims", spec=s)

    zh_names = {c: f"题{c}" for c in its}
    s = copy.deepcopy(S)
    for c in s["constructs"].values():
        c["items"] = [zh_names.get(i, i) if isinstance(i, str) else dict(i, id=zh_names[i["id"]])
                      for i in c.get("items", [])]
    s["population"]["loadings"] = {zh_names[k]: v for k, v in s["population"]["loadings"].items()}
    add("chinese_columns", spec=s, data=D.rename(columns=zh_names))

    add("example_full_blanks", spec=copy.deepcopy(full), data=blanked(D, items_of(full), 0.03, rng))

    codes2 = {"Hangzhou": "1", "Ningbo": "2", "Shaoxing": "3", "Wenzhou": "4", "Taizhou": "5"}
    d = D.copy()
    d["region"] = d["region"].map(codes2)
    d.loc[[0, 1], "region"] = ""
    d.loc[[5], "TS1"] = ""
    add("xlsx_numeric_group_blanks", spec=copy.deepcopy(S) | {"group_levels": {"north": [1, 2, 3], "south": [4, 5]}},
        data=d, kind="xlsx")
    d = D.copy()
    d.loc[[3], "region"] = ""
    add("sav_string_group_blank", data=d, kind="sav")
    d = D.copy()
    d.loc[[1, 2], "NC4"] = ""
    d.loc[[3], "NC4"] = "99"
    add("reverse_with_blanks", data=d)

    ref = ROOT / "tests" / "reference"
    hs = yaml.safe_load((ROOT / "tests" / "specs" / "hs_cfa.yaml").read_text(encoding="utf-8"))
    hs_school = dict(hs, group="school", controls=["ageyr"],
                     paths=[{"to": "textual", "from": ["visual"]}, {"to": "speed", "from": ["textual"]}],
                     indirect=[{"name": "ind", "path": ["visual", "textual", "speed"]}])
    add("hs_school", spec=hs_school, data=pd.read_csv(ref / "HolzingerSwineford1939.csv", dtype=str,
                                                      keep_default_na=False))
    add("hs_missing_school", spec=dict(hs, group="school"),
        data=pd.read_csv(ref / "HolzingerSwineford1939_missing.csv", dtype=str, keep_default_na=False))
    hso = yaml.safe_load((ROOT / "tests" / "specs" / "hs_ordinal.yaml").read_text(encoding="utf-8"))
    add("hs_ordinal", spec=hso, data=pd.read_csv(ref / "HolzingerSwineford1939_ordinal.csv", dtype=str,
                                                 keep_default_na=False))
    add("poldem", spec=yaml.safe_load((ROOT / "tests" / "specs" / "poldem.yaml").read_text(encoding="utf-8")),
        data=pd.read_csv(ref / "PoliticalDemocracy.csv", dtype=str, keep_default_na=False))

    # Heywood: a 3-item construct whose first item correlates .8 with both others (r23 = .5) -> loading > 1
    add("heywood", spec=heywood_spec(), data=heywood_data(rng))
    add("nonconv", spec=nonconv_spec(), data=nonconv_data(rng))
    return out


def heywood_spec() -> dict:
    return {"spec_version": 1, "title": {"en": "Heywood"}, "scale": {"min": -100, "max": 100},
            "group": "g", "constructs": {"A": {"items": ["a1", "a2", "a3"]}, "B": {"items": ["b1", "b2", "b3"]}},
            "paths": [{"to": "B", "from": ["A"]}]}


def heywood_data(rng) -> pd.DataFrame:
    n = 200
    c = np.array([[1, .8, .8], [.8, 1, .5], [.8, .5, 1]])   # λ1² = .8·.8/.5 = 1.28 > 1
    a = rng.normal(size=(n, 3)) @ np.linalg.cholesky(c).T
    b = 0.4 * a[:, [1]] + rng.normal(size=(n, 3)) * 0.8
    df = pd.DataFrame(np.round(np.hstack([a, b]) * 10, 2), columns=["a1", "a2", "a3", "b1", "b2", "b3"])
    df["g"] = np.where(np.arange(n) % 2, "x", "y")
    return df.astype(str)


def nonconv_spec() -> dict:
    return {"spec_version": 1, "title": {"en": "Underidentified"}, "scale": {"min": -100, "max": 100},
            "group": "g", "constructs": {"A": {"items": ["a1", "a2"]}, "B": {"items": ["b1", "b2"]}},
            "paths": [{"to": "B", "from": ["A"]}]}


def nonconv_data(rng) -> pd.DataFrame:
    n = 150
    x = rng.normal(size=(n, 4))   # no correlation at all: two-item constructs are empirically underidentified
    df = pd.DataFrame(np.round(x * 10, 2), columns=["a1", "a2", "b1", "b2"])
    df["g"] = np.where(np.arange(n) % 2, "x", "y")
    return df.astype(str)


def write_data(frame: pd.DataFrame, kind: str, raw, folder: Path) -> Path:
    if raw == "dupcol":
        path = folder / "data.csv"
        text = frame.to_csv(index=False)
        head, rest = text.split("\n", 1)
        path.write_text(head.replace("TS2", "TS1", 1) + "\n" + rest, encoding="utf-8")
        return path
    if kind in ("csv", "bom", "gbk", "semicolon"):
        path = folder / "data.csv"
        text = frame.to_csv(index=False, sep=";" if kind == "semicolon" else ",")
        enc = {"bom": "utf-8-sig", "gbk": "gbk"}.get(kind, "utf-8")
        path.write_bytes(text.encode(enc))
        return path
    num = frame.apply(lambda s: pd.to_numeric(s, errors="coerce") if s.map(_numberish).all() else s)
    if kind == "xlsx":
        path = folder / "data.xlsx"
        num.to_excel(path, index=False)
        return path
    if kind == "sav":
        import pyreadstat
        path = folder / "data.sav"
        pyreadstat.write_sav(num, str(path))
        return path
    raise ValueError(kind)


def _numberish(v) -> bool:
    if v == "":
        return True
    try:
        float(v)
        return True
    except ValueError:
        return False


# ---- running and checking --------------------------------------------------------------------------

class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang()


def strict_json(text: str):
    def bad(name):
        raise ValueError(f"non-finite literal {name}")
    return json.loads(text, parse_constant=bad)


def run_one(argv: list[str], out: Path | None, timeout: int) -> tuple[str, str]:
    from cluster_sem import cli
    err, std = io.StringIO(), io.StringIO()
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(timeout)
    t0 = time.time()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(std):
            code = cli.main(argv)
    except Hang:
        return "BUG", f"hang > {timeout}s"
    except SystemExit as exc:
        code = exc.code
    except BaseException:  # noqa: BLE001
        return "BUG", "traceback: " + traceback.format_exc()[-1500:]
    finally:
        signal.alarm(0)
    dt = time.time() - t0
    lines = [ln for ln in err.getvalue().splitlines() if ln.strip()]
    errors = [ln for ln in lines if not ln.startswith("warning:")]
    if code == 2:
        problems = []
        if len(errors) != 1 and not (argv[0] == "validate" and all("Fix:" in e for e in errors)):
            problems.append(f"{len(errors)} error lines")
        if errors and "Fix:" not in errors[0] and "see 'cluster-sem" not in errors[0]:
            problems.append("no 'Fix:'")
        if out is not None and out.exists():
            problems.append("output dir written")
        return ("BUG" if problems else "exit2"), f"{dt:.1f}s " + "; ".join(problems) + " | " + " / ".join(errors)[:400]
    if code != 0:
        return "BUG", f"exit {code}: " + " / ".join(lines)[-600:]
    note = ""
    if out is not None:
        name = "power.json" if argv[0] == "power" else "results.json"
        try:
            doc = strict_json((out / name).read_text(encoding="utf-8"))
        except Exception as exc:  # noqa: BLE001
            return "BUG", f"{name}: {exc}"
        reports = ["power.html", "power.md"] if argv[0] == "power" else ["report.html", "report.md"]
        missing = [r for r in reports if not (out / r).is_file()]
        if missing:
            return "BUG", f"missing {missing}"
        note = suspicious(doc, argv[0])
    warn = [ln for ln in lines if ln.startswith("warning:")]
    return ("SUSPECT" if note else "ok"), f"{dt:.1f}s {note} | warnings: {len(warn)} " + " / ".join(warn)[:300]


FIT_CORE = ("chi2", "df", "cfi", "tli", "rmsea", "srmr", "n")


def suspicious(doc: dict, command: str) -> str:
    """Nulls where the contract promises numbers (core fit indices, estimates), as a flag to look at."""
    notes = []
    if command == "fit":
        for model in ("measurement_model", "structural_model"):
            fit = doc.get(model, {}).get("fit", {})
            nulls = [k for k in FIT_CORE if fit.get(k) is None]
            if nulls:
                notes.append(f"{model}.fit nulls {nulls}")
            est_null = [f"{p['lhs']}{p['op']}{p['rhs']}" for p in doc.get(model, {}).get("parameters", [])
                        if p.get("est") is None]
            if est_null:
                notes.append(f"{model} est null {est_null[:3]}")
        if doc.get("warnings"):
            notes.append("warnings: " + " / ".join(map(str, doc["warnings"]))[:300])
    return "; ".join(notes)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default="")
    ap.add_argument("--commands", default=",".join(COMMANDS) + ",report,report_zh,report_inv")
    ap.add_argument("--timeout", type=int, default=240)
    args = ap.parse_args()
    wanted = set(filter(None, args.only.split(",")))
    commands = args.commands.split(",")
    tally: dict[str, int] = {}
    for name, (spec, data, kind, raw) in variants().items():
        if wanted and name not in wanted:
            continue
        folder = Path(tempfile.mkdtemp(prefix=f"stress-{name}-"))
        spec_path = folder / "spec.yaml"
        spec_path.write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")
        data_path = write_data(data, kind, raw, folder)
        fit_out = inv_out = None
        for cmd in commands:
            if cmd.startswith("report"):
                source = inv_out if cmd == "report_inv" else fit_out
                if source is None:
                    continue
                argv, out = ["report", str(source)] + (["--lang", "zh"] if cmd == "report_zh" else []), None
            else:
                out = None if cmd == "validate" else folder / f"out_{cmd}"
                argv = [a.format(spec=spec_path, data=data_path, out=out) for a in COMMANDS[cmd]]
            status, detail = run_one(argv, out, args.timeout)
            if cmd == "fit" and status in ("ok", "SUSPECT"):
                fit_out = out
            if cmd.startswith("inv") and status in ("ok", "SUSPECT"):
                inv_out = out
            tally[status] = tally.get(status, 0) + 1
            print(f"{status:7s} {name:28s} {cmd:9s} {detail}", flush=True)
        shutil.rmtree(folder, ignore_errors=True)
    print("TOTAL", tally)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
