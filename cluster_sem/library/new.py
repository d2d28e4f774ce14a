"""``cluster-sem new``: a complete, commented spec from library scales and a path string.

Why: the shortest road from a research model ("TS, RQ -> OL -> CG") to a report is a spec that already
validates, simulates, fits and runs a power study.  The spec written here has the library's bilingual items
and their ``source``, hypotheses numbered in path order, every indirect effect named, and a ``population``
section with plausible standardized values, so ``simulate`` and ``power`` work before any data exist.  The
text is built as YAML by hand (PyYAML cannot write comments) and parsed back with the spec loader before it
is written, so a spec this module writes is valid by construction.
"""
from __future__ import annotations

import json
import math
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

from ..atomic import write_file
from ..errors import ClusterSemError
from ..spec.validate import find_cycle
from .catalog import LibraryScale, expand, get_scale

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
LOADINGS = (0.80, 0.75, 0.78, 0.72)      # population loadings, cycled over a construct's items
REVERSE_LOADING = 0.68                   # negatively worded items usually load a little lower
DIMENSION_LOADINGS = (0.80, 0.75, 0.70)
EXOGENOUS_R = 0.30                       # correlation of every pair of exogenous constructs
TARGET_R2 = 0.30                         # share of an outcome's variance its predictors explain
CONTROL_EFFECT = 0.05


@dataclass(frozen=True)
class Model:
    """What ``new`` was asked for, resolved: scales (dimensions first), edges in path order, controls."""

    named: tuple[str, ...]                     # --from, as library keys
    scales: tuple[LibraryScale, ...]           # named scales with the dimensions of second-order ones
    edges: tuple[tuple[str, str], ...]         # (predictor, outcome) in the order the paths were written
    controls: tuple[str, ...]


def parse_list(text: str, option: str) -> list[str]:
    """``"A, B,C"`` → ``["A", "B", "C"]``; an empty entry is refused."""
    parts = [p.strip() for p in text.split(",")]
    if not text.strip() or any(not p for p in parts):
        raise ClusterSemError(f"{option} '{text}': empty name in the list. Fix: write names separated by "
                              "commas, e.g. TS,RQ,OL")
    return parts


def parse_paths(text: str, named: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """Edges of ``"TS,RQ -> OL -> CG; TS -> CG"``: each arrow joins every name on its left to every name
    on its right; chains are separated by ``;``.  Names must be among ``named`` (the --from scales)."""
    by_lower = {n.lower(): n for n in named}
    edges: list[tuple[str, str]] = []
    for chain in (c for c in text.split(";") if c.strip()):
        steps = [parse_list(step, "--paths") if step.strip() else [] for step in chain.split("->")]
        if len(steps) < 2 or any(not s for s in steps):
            raise ClusterSemError(f"--paths '{chain.strip()}': a chain needs names on both sides of every '->'. "
                                  "Fix: write e.g. \"TS,RQ -> OL -> CG\"")
        resolved = [[_in_from(n, by_lower, named) for n in step] for step in steps]
        for left, right in zip(resolved, resolved[1:]):
            for a in left:
                for b in right:
                    if a == b:
                        raise ClusterSemError(f"--paths: {a} -> {a} makes a construct predict itself. "
                                              "Fix: remove it")
                    if (a, b) not in edges:
                        edges.append((a, b))
    if not edges:
        raise ClusterSemError("--paths is empty. Fix: write the model, e.g. --paths \"TS,RQ -> OL -> CG\"")
    cycle = find_cycle(set(edges))
    if cycle:
        raise ClusterSemError(f"--paths: the paths form a cycle {' -> '.join(cycle)}. Fix: remove one of these "
                              "paths (cluster-sem new writes recursive models only)")
    return tuple(edges)


def _in_from(name: str, by_lower: dict[str, str], named: tuple[str, ...]) -> str:
    if name.lower() in by_lower:
        return by_lower[name.lower()]
    raise ClusterSemError(f"--paths names '{name}', which is not in --from ({', '.join(named)}). "
                          f"Fix: add it to --from or correct the name")


def resolve(scales: list[str], paths: str, controls: list[str] | tuple[str, ...] = ()) -> Model:
    """Check the request (unknown scales, path names, cycles, control names) and resolve it to a Model."""
    named = tuple(dict.fromkeys(get_scale(s).key for s in scales))
    edges = parse_paths(paths, named)
    for c in controls:
        if not _IDENT.match(c):
            raise ClusterSemError(f"--controls '{c}' is not a valid column name. Fix: use letters, digits and _ "
                                  "only, not starting with a digit")
    return Model(named, tuple(expand(list(named))), edges, tuple(dict.fromkeys(controls)))


# -- the spec text ---------------------------------------------------------------------------------------
def _q(value) -> str:
    """A YAML flow scalar: JSON strings are valid YAML (and keep Chinese text readable)."""
    return json.dumps(value, ensure_ascii=False)


def _text(t) -> str:
    return "{" + ", ".join(f"{lang}: {_q(getattr(t, lang))}" for lang in ("en", "zh") if getattr(t, lang)) + "}"


def _label(scale: LibraryScale, lang: str) -> str:
    return scale.label.get(lang) or scale.key


def _lower_first(label: str) -> str:
    """"Tie strength" → "tie strength" inside a sentence (acronym-like words such as "SME" stay)."""
    return label[:1].lower() + label[1:] if label[1:2].islower() else label


def _main_scale(model: Model) -> tuple[int, int]:
    """The response scale most items use (ties: the first scale's), written once at the top."""
    counts: dict[tuple[int, int], int] = {}
    for s in model.scales:
        if s.scale:
            counts[(s.scale.min, s.scale.max)] = counts.get((s.scale.min, s.scale.max), 0) + len(s.items or ())
    return max(counts, key=counts.get) if counts else (1, 5)


def _construct_lines(scale: LibraryScale, main: tuple[int, int]) -> list[str]:
    out = [f"  # {_label(scale, 'en')} / {_label(scale, 'zh')}"]
    if scale.source:
        out += textwrap.wrap(f"Source: {scale.source.reference()}", 112, initial_indent="  # ",
                             subsequent_indent="  #   ")
    if scale.reliability and (scale.reliability.alpha or scale.reliability.composite):
        out.append(f"  # Reported reliability: alpha {scale.reliability.alpha}, CR {scale.reliability.composite}")
    out += textwrap.wrap(f"Adapted: {scale.adaptation.en}", 112, initial_indent="  # ", subsequent_indent="  #   ")
    out += [f"  {scale.key}:", f"    label: {_text(scale.label)}"]
    if scale.source:
        src = scale.source.model_dump(exclude_none=True)
        out.append("    source: {" + ", ".join(f"{k}: {_q(v)}" for k, v in src.items()) + "}")
    if scale.dimensions:
        out.append(f"    dimensions: [{', '.join(scale.dimensions)}]")
        return out
    own = (scale.scale.min, scale.scale.max) if scale.scale else main
    override = f", scale: {{min: {own[0]}, max: {own[1]}}}" if own != main else ""
    out.append("    items:")
    for it in scale.items or ():
        rev = ", reverse: true" if it.reverse else ""
        out.append(f"      - {{id: {it.id}{rev}{override}, text: {_text(it.text)}}}")
    return out


def _chains(edges: tuple[tuple[str, str], ...]) -> list[list[str]]:
    """Every directed chain of two or more paths (X → M … → Y), in path order: the indirect effects."""
    succ: dict[str, list[str]] = {}
    for a, b in edges:
        succ.setdefault(a, []).append(b)
    starts = list(dict.fromkeys(a for a, _ in edges))
    out: list[list[str]] = []

    def walk(chain: list[str]) -> None:
        for nxt in succ.get(chain[-1], []):
            longer = chain + [nxt]
            if len(longer) >= 3:
                out.append(longer)
            walk(longer)
    for s in starts:
        walk([s])
    return out


def _hypotheses(model: Model, labels: dict[str, LibraryScale]) -> tuple[dict[tuple[str, str], str], list[list[str]],
                                                                          list[tuple[str, str, str]]]:
    """Hypothesis ids: H1… for the paths in the order written, then one per indirect effect; and their text."""
    direct = {e: f"H{i + 1}" for i, e in enumerate(model.edges)}
    chains = _chains(model.edges)
    texts = []
    for (a, b), h in direct.items():
        texts.append((h, f"{_label(labels[a], 'en')} has a positive effect on {_lower_first(_label(labels[b], 'en'))}.",
                      f"{_label(labels[a], 'zh')}对{_label(labels[b], 'zh')}有正向影响。"))
    for j, ch in enumerate(chains):
        h = f"H{len(direct) + j + 1}"
        mids_en = " and ".join(_lower_first(_label(labels[m], "en")) for m in ch[1:-1])
        mids_zh = "和".join(_label(labels[m], "zh") for m in ch[1:-1])
        verb = "mediates" if len(ch) == 3 else "mediate (in sequence)"
        chain_zh = "起中介作用" if len(ch) == 3 else "起链式中介作用"
        texts.append((h, f"{mids_en[:1].upper() + mids_en[1:]} {verb} the effect of "
                         f"{_lower_first(_label(labels[ch[0]], 'en'))} on {_lower_first(_label(labels[ch[-1]], 'en'))}.",
                      f"{mids_zh}在{_label(labels[ch[0]], 'zh')}与{_label(labels[ch[-1]], 'zh')}之间{chain_zh}。"))
    return direct, chains, texts


def _path_coefficient(k: int) -> float:
    """Equal standardized paths from k predictors (correlated EXOGENOUS_R) explaining TARGET_R2 of an outcome."""
    return round(math.sqrt(TARGET_R2 / (k + k * (k - 1) * EXOGENOUS_R)), 2)


def _population_lines(model: Model, outcomes: dict[str, list[str]]) -> list[str]:
    out = ["# Plausible standardized values of the data-generating model: `simulate` draws data from them and",
           "# `power` takes them as the true effects.  Replace them with values from a pilot study or the literature.",
           "population:", "  loadings:"]
    for s in model.scales:
        for i, it in enumerate(s.items or ()):
            out.append(f"    {it.id}: {REVERSE_LOADING if it.reverse else LOADINGS[i % len(LOADINGS)]:.2f}")
    dims = [d for s in model.scales for d in s.dimensions or ()]
    if dims:
        out.append("  dimension_loadings: {" + ", ".join(
            f"{d}: {DIMENSION_LOADINGS[i % len(DIMENSION_LOADINGS)]:.2f}"
            for s in model.scales for i, d in enumerate(s.dimensions or ())) + "}")
    exogenous = [s.key for s in model.scales if s.key not in outcomes and s.key not in dims]
    pairs = [(a, b) for i, a in enumerate(exogenous) for b in exogenous[i + 1:]]
    if pairs:
        out.append(f"  correlations:    # every pair of exogenous constructs correlates {EXOGENOUS_R:.2f}")
        out += [f"    - {{between: [{a}, {b}], r: {EXOGENOUS_R:.2f}}}" for a, b in pairs]
    out.append(f"  paths:           # equal paths per outcome, R² about {TARGET_R2:.2f} "
               f"when the predictors correlate {EXOGENOUS_R:.2f}")
    for to, sources in outcomes.items():
        b = _path_coefficient(len(sources))
        out.append(f"    {to}: {{" + ", ".join(f"{x}: {b:.2f}" for x in sources) + "}")
    if model.controls:
        effects = "{" + ", ".join(f"{to}: {CONTROL_EFFECT:.2f}" for to in outcomes) + "}"
        out.append("  controls:        # standard-normal covariates with small effects: give your own distribution")
        out += [f"    {c}: {{distribution: normal, mean: 0.0, sd: 1.0, decimals: 2, effects: {effects}}}"
                for c in model.controls]
    return out


def _comment_safe(text: str) -> str:
    """``text`` for one YAML comment line: a file name typed with a newline, an escape sequence or another
    control character (NEL and U+2028 are line breaks to YAML) would otherwise end the comment and make the
    written spec unreadable — refused by its own parse, with a YAML message about a file the user never wrote."""
    from ..render.plain_text import strip_controls
    return " ".join(strip_controls(text).replace("\u2028", " ").replace("\u2029", " ").split())


def spec_text(model: Model, command: str = "") -> str:
    """The commented YAML spec of ``model`` (not yet checked: :func:`new_spec` parses it)."""
    from .. import __version__
    labels = {s.key: s for s in model.scales}
    main = _main_scale(model)
    outcomes: dict[str, list[str]] = {}
    for a, b in model.edges:
        outcomes.setdefault(b, []).append(a)
    direct, chains, hyps = _hypotheses(model, labels)
    anchors = next((s.scale.anchors for s in model.scales if s.scale and (s.scale.min, s.scale.max) == main), None)
    lines = [f"# Written by cluster-sem {__version__} `new` from the scale library (cluster_sem/library/).",
             *([f"# Command: {_comment_safe(command)}"] if command else []),
             "# Item wording is cluster-sem's own, adapted from the source named under each construct",
             "# (`cluster-sem library show KEY` prints it); check it against your questionnaire before fielding it.",
             "# Next: cluster-sem validate SPEC; cluster-sem simulate SPEC --n 200 --seed 1 --out DATA.csv;",
             "#       cluster-sem fit SPEC DATA.csv --out results/; cluster-sem power SPEC --n 100,200,300 --out power/",
             "spec_version: 1",
             "title: {en: \"Study built from the cluster-sem scale library\", zh: \"基于 cluster-sem 量表库的研究\"}",
             f"scale: {{min: {main[0]}, max: {main[1]}}}" + (f"   # {anchors.en} / {anchors.zh}" if anchors and anchors.en else ""),
             "missing_codes: [99]              # 99 = no answer / 未作答",
             "id: firm_id", "", "constructs:"]
    for s in model.scales:
        lines += _construct_lines(s, main)
    if model.controls:
        lines += ["", f"controls: [{', '.join(model.controls)}]   # observed covariates, regressed into every outcome"]
    lines += ["", "# Hypotheses are numbered in the order the paths were written; H for indirect effects follow.",
              "paths:"]
    for to, sources in outcomes.items():
        hyp = ", ".join(f"{x}: {direct[(x, to)]}" for x in sources)
        lines.append(f"  - {{to: {to}, from: [{', '.join(sources)}], hypothesis: {{{hyp}}}}}")
    if chains:
        lines += ["", "indirect:"]
        for j, ch in enumerate(chains):
            label_en = " → ".join(_label(labels[c], "en") for c in ch)
            label_zh = " → ".join(_label(labels[c], "zh") for c in ch)
            lines.append(f"  - {{name: ind_{'_'.join(ch)}, path: [{', '.join(ch)}], hypothesis: H{len(direct) + j + 1}, "
                         f"label: {{en: {_q(label_en)}, zh: {_q(label_zh)}}}}}")
    lines += ["", "hypotheses:"]
    lines += [f"  {h}: {{text: {{en: {_q(en)}, zh: {_q(zh)}}}}}" for h, en, zh in hyps]
    lines += [""] + _population_lines(model, outcomes)
    return "\n".join(lines) + "\n"


def new_spec(scales: list[str], paths: str, controls: list[str] | tuple[str, ...] = (), *, command: str = "",
             source: str = "new spec") -> str:
    """The text of a valid spec for ``scales`` (library keys) and ``paths`` (``"TS,RQ -> OL -> CG"``).

    Refuses (ClusterSemError) an unknown scale (naming close keys), a path naming a scale not in ``scales``,
    a cycle, or a bad control name; the text is parsed with the spec loader before it is returned.
    """
    from ..spec.loader import parse_spec
    text = spec_text(resolve(scales, paths, controls), command)
    parse_spec(text, source=source)
    return text


def write_new_spec(path: str | Path, scales: list[str], paths: str, controls: list[str] | tuple[str, ...] = (), *,
                   force: bool = False, command: str = "") -> Path:
    """Write :func:`new_spec` to ``path`` atomically; an existing file is refused unless ``force``."""
    path = Path(path)
    if path.is_dir():
        raise ClusterSemError(f"{path}: is a directory. Fix: name the spec file to write, e.g. study.yaml")
    if path.exists() and not force:
        raise ClusterSemError(f"{path}: the file already exists. Fix: choose another name, or add --force to "
                              "replace it")
    folder = path.absolute().parent
    if not folder.is_dir():
        raise ClusterSemError(f"{path}: the folder {folder} does not exist. Fix: create it, or name a spec file "
                              "in an existing folder")
    return write_file(path, new_spec(scales, paths, controls, command=command, source=path.name))


__all__ = ["Model", "resolve", "parse_paths", "parse_list", "spec_text", "new_spec", "write_new_spec"]
