"""Option values, declared as data and checked once at the API boundary (the CLI calls the same API).

Modelled on scikit-learn's ``_param_validation``: each option names its constraint, one checker walks the
table, and a bad value gives one line — "The 'ci_level' option (--ci-level) of fit must be a number in
(0, 1). Got 1.5 instead. Fix: …" — as a ``ClusterSemError`` (exit 2 on the command line).

To add an allowed value (a new estimator, ``missing="fiml"``), extend the tuple in ``FIT_OPTIONS``; to add
an option, add a row.  Whether a *valid* value is implemented is the pipeline's business, not this table's.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any, Callable

from .errors import ClusterSemError
from .lavoptions import ENGINES, ESTIMATORS, MISSING

MIN_BOOTSTRAP = 200        # below this, percentile/BC limits are order statistics of a handful of draws
MAX_BOOTSTRAP = 100_000    # ~4 min at 2.3 ms/resample for a 38-item model on 2 cores; 5000 is usual
MAX_SIMULATE_N = 1_000_000
MAX_POWER_N = 100_000      # one replication of n cases is drawn and held whole (a 50-item model: 40 MB at 10⁵)
MAX_POWER_REPS = 100_000   # per sample size; 1000 is usual (power's Monte Carlo SE ≤ .016), 10 000 is plenty
MAX_CLUSTERS = 10_000      # clusters per design (power: per --clusters value); cluster-robust SEs want ≥ 20
MAX_CLUSTER_SIZE = 10_000  # firms per cluster; K × M is bounded by the n row as well
MAX_SEED = 2 ** 63 - 1
DEFAULT_SEED = 2026         # the one default seed of fit, power and every CI stream (cluster_sem.rng)


@dataclass(frozen=True)
class Integer:
    """An int (not bool, not float) in [low, high]; ``or_zero`` also allows 0 (e.g. "no bootstrap")."""

    low: int
    high: int
    or_zero: bool = False

    def ok(self, v: Any) -> bool:
        return isinstance(v, numbers.Integral) and not isinstance(v, bool) and \
            ((self.or_zero and v == 0) or self.low <= v <= self.high)

    def describe(self) -> str:
        text = f"an integer in [{self.low}, {self.high}]"
        return ("0 or " + text) if self.or_zero else text


@dataclass(frozen=True)
class Real:
    """A finite real number in the open interval (low, high)."""

    low: float
    high: float

    def ok(self, v: Any) -> bool:
        return isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v) and \
            self.low < v < self.high

    def describe(self) -> str:
        return f"a number in ({self.low:g}, {self.high:g})"


@dataclass(frozen=True)
class OneOf:
    """One of ``values``; ``fold`` normalises before comparing (e.g. ``str.upper`` for estimator names)."""

    values: tuple
    fold: Callable[[str], str] | None = None

    def ok(self, v: Any) -> bool:
        if not isinstance(v, str):
            return v is None and None in self.values
        return (self.fold(v) if self.fold else v) in self.values

    def describe(self) -> str:
        return "one of " + ", ".join(repr(x) if x is not None else "None" for x in self.values)


@dataclass(frozen=True)
class TextOrNone:
    """None or a non-empty string (e.g. a column name)."""

    def ok(self, v: Any) -> bool:
        return v is None or (isinstance(v, str) and v.strip() != "")

    def describe(self) -> str:
        return "None or a non-empty text"


class Flag:
    """True or False (a switch such as --cluster-bootstrap; not 0/1 or a text)."""

    def ok(self, v: Any) -> bool:
        return isinstance(v, bool)

    def describe(self) -> str:
        return "True or False"


@dataclass(frozen=True)
class SchedulerAddress:
    """None, 'local' / 'local-threads', or a dask address ``[scheme://]host:port`` of a network protocol
    (tcp, tls, ws, wss, ucx): checked before any work, as dask itself raises a bare ValueError on garbage,
    and 'inproc://' or 'file://' cannot reach a scheduler of another process."""

    SCHEMES = ("tcp", "tls", "ws", "wss", "ucx")

    def ok(self, v: Any) -> bool:
        if v is None or v in ("local", "local-threads"):
            return True
        if not isinstance(v, str) or not v.strip() or any(c.isspace() for c in v):
            return False
        from urllib.parse import urlsplit
        try:
            parts = urlsplit(v if "://" in v else f"tcp://{v}")
            port = parts.port
        except ValueError:
            return False
        return parts.scheme in self.SCHEMES and bool(parts.hostname) and port is not None and 0 < port < 65536 \
            and parts.path in ("", "/") and not (parts.query or parts.fragment or parts.username)

    def describe(self) -> str:
        return "'local' or a dask scheduler address such as tcp://host:8786"


@dataclass(frozen=True)
class Option:
    constraint: Integer | Real | OneOf | TextOrNone | SchedulerAddress | Flag
    flag: str        # the command-line spelling
    fix: str         # an example of a valid value


FIT_OPTIONS: dict[str, Option] = {
    "bootstrap": Option(Integer(MIN_BOOTSTRAP, MAX_BOOTSTRAP, or_zero=True), "--bootstrap",
                        f"use 0 (no bootstrap) or at least {MIN_BOOTSTRAP} resamples; 5000 is usual"),
    "seed": Option(Integer(0, MAX_SEED), "--seed", "use a non-negative integer, e.g. --seed 1"),
    "jobs": Option(Integer(1, 1024), "--jobs", "use 1 or the number of cores, e.g. --jobs 2"),
    "ci_level": Option(Real(0.0, 1.0), "--ci-level", "use e.g. 0.95 (not 95)"),
    "ci": Option(OneOf(("auto", "percentile", "bc", "delta", "monte-carlo")), "--ci", "use e.g. --ci auto"),
    "missing": Option(OneOf(MISSING), "--missing", "use --missing listwise"),
    "estimator": Option(OneOf(ESTIMATORS + (None,), fold=str.upper), "--estimator",
                        "use --estimator ML (None: the spec decides, WLSMV if it says ordinal: true)"),
    "scheduler": Option(SchedulerAddress(), "--scheduler", "give a dask address such as tcp://host:8786, or 'local'"),
    "engine": Option(OneOf(ENGINES), "--engine", "use --engine default (or semopy to cross-check)"),
    "interaction_method": Option(OneOf(("lms", "qml", "dblcent")), "--interaction-method",
                                 "use --interaction-method lms (or dblcent)"),
    # bootstrap needs ~2 s CPU per LMS resample on the shipped example (~80 min for B = 5000 on 2 cores): opt-in
    "moderation_ci": Option(OneOf(("monte-carlo", "bootstrap")), "--moderation-ci",
                            "use --moderation-ci monte-carlo (or bootstrap, with --bootstrap B and LMS)"),
    "cluster": Option(TextOrNone(), "--cluster", "name the data column of the firms' clusters, e.g. --cluster region"),
    "weights": Option(TextOrNone(), "--weights", "name the data column of sampling weights, e.g. --weights w"),
    "cluster_bootstrap": Option(Flag(), "--cluster-bootstrap", "pass True (with cluster= and bootstrap=B) or False"),
}

SIMULATE_OPTIONS: dict[str, Option] = {
    "n": Option(Integer(1, MAX_SIMULATE_N), "--n", "use e.g. --n 128"),
    "seed": FIT_OPTIONS["seed"],
    "clusters": Option(Integer(2, MAX_CLUSTERS), "--clusters", "use e.g. --clusters 20 (firms split evenly)"),
    "cluster_size": Option(Integer(1, MAX_CLUSTER_SIZE), "--cluster-size", "use e.g. --cluster-size 8"),
}


POWER_OPTIONS: dict[str, Option] = {
    "n": Option(Integer(2, MAX_POWER_N), "--n", "use sample sizes such as --n 100,128,200,300"),
    "reps": Option(Integer(2, MAX_POWER_REPS), "--reps", "use e.g. --reps 1000 (replications per sample size)"),
    "seed": FIT_OPTIONS["seed"],
    "jobs": FIT_OPTIONS["jobs"],
    "scheduler": FIT_OPTIONS["scheduler"],
    "clusters": Option(Integer(2, MAX_CLUSTERS), "--clusters", "use numbers of clusters such as --clusters 20,30,40"),
    "cluster_size": Option(Integer(1, MAX_CLUSTER_SIZE), "--cluster-size",
                           "use e.g. --cluster-size 8 (firms per cluster)"),
}


def _shown(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 40 else text[:37] + "..."


def check_options(where: str, values: dict[str, Any], table: dict[str, Option] = FIT_OPTIONS) -> None:
    """Raise one ClusterSemError for the first value in ``values`` that breaks its declared constraint."""
    for name, value in values.items():
        opt = table.get(name)
        if opt is None or opt.constraint.ok(value):
            continue
        raise ClusterSemError(f"The '{name}' option ({opt.flag}) of {where} must be {opt.constraint.describe()}. "
                              f"Got {_shown(value)} instead. Fix: {opt.fix}")


def check_moderation_ci(moderation_ci: str, bootstrap: int, interaction_method: str) -> None:
    """``--moderation-ci bootstrap`` needs resamples and the LMS estimator (the only one with a bootstrap engine)."""
    if moderation_ci != "bootstrap":
        return
    if bootstrap == 0:
        raise ClusterSemError("The 'moderation_ci' option (--moderation-ci) of fit is 'bootstrap' but no resamples "
                              "were asked for. Fix: add --bootstrap 5000 (or use --moderation-ci monte-carlo)")
    if interaction_method != "lms":
        raise ClusterSemError(f"The 'moderation_ci' option (--moderation-ci) of fit is 'bootstrap', which refits "
                              f"LMS, not --interaction-method {interaction_method}. Fix: use --interaction-method "
                              f"lms (or --moderation-ci monte-carlo)")


__all__ = ["check_moderation_ci", "FIT_OPTIONS", "SIMULATE_OPTIONS", "POWER_OPTIONS", "MIN_BOOTSTRAP", "MAX_BOOTSTRAP", "check_options", "Option",
           "Integer", "Real", "OneOf", "SchedulerAddress"]
