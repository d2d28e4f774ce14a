"""Number formatting in one place (APA style: no leading zero for p, fixed decimals elsewhere)."""
from __future__ import annotations


def fmt(x: float | None, digits: int = 3) -> str:
    if x is None:
        return "—"
    return f"{x:.{digits}f}"


def fmt_p(p: float | None) -> str:
    """APA p value: '< .001' or '.023' (no leading zero)."""
    if p is None:
        return "—"
    if p < 0.001:
        return "< .001"
    return f"{p:.3f}".lstrip("0") if p < 1 else "1.000"


def stars(p: float | None) -> str:
    if p is None:
        return ""
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else ""
