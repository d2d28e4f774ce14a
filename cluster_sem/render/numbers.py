"""Number formatting in one place (APA style: no leading zero for p, fixed decimals elsewhere)."""
from __future__ import annotations


def unsigned_zero(s: str) -> str:
    """A formatted number that shows zero carries no sign: '-0.00' → '0.00' (-0.0 and values rounding to 0)."""
    return s[1:] if s.startswith("-") and float(s) == 0 else s


def fmt_fixed(x: float, digits: int = 2) -> str:
    """Exactly ``digits`` decimals, never a negative zero (diagram coefficients: '0.00', not '-0.00')."""
    return unsigned_zero(f"{x:.{digits}f}")


def fmt(x: float | None, digits: int = 3) -> str:
    """Fixed decimals; a non-zero value too small for them keeps two significant digits (0.00012, not
    0.000), so a tiny estimate and its CI stay distinguishable from zero.  Never '-0.000'."""
    if x is None:
        return "—"
    if x != 0 and abs(x) < 0.5 * 10 ** -digits:
        return f"{x:.2g}"
    return fmt_fixed(x, digits)


def fmt_p(p: float | None) -> str:
    """APA p value: '< .001' or '.023' (no leading zero)."""
    if p is None:
        return "—"
    if p < 0.001:
        return "< .001"
    return f"{p:.3f}".lstrip("0") if p < 1 else "1.000"


def p_eq(p: float | None) -> str:
    """What follows "p" in running text: '= .016', '< .001' ('= —' without a p value)."""
    text = fmt_p(p)
    return text if text.startswith("<") else f"= {text}"


def stars(p: float | None) -> str:
    if p is None:
        return ""
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else ""


def fmt_unit(x: float | None, digits: int = 3) -> str:
    """A statistic that cannot exceed 1 in absolute value (α, ω, AVE, CFI, RMSEA, a correlation, a
    standardized loading): APA style without the leading zero ('.961', '-.047')."""
    if x is None:
        return "—"
    s = unsigned_zero(f"{x:.{digits}f}")
    if abs(x) < 1 or s.lstrip("-").startswith("0."):
        s = s.replace("0.", ".", 1)
    return s


def fmt_ci(lo: float | None, hi: float | None, digits: int = 3) -> str:
    """A confidence interval as '[0.079, 0.402]'."""
    return f"[{fmt(lo, digits)}, {fmt(hi, digits)}]"


def fmt_pct(x: float | None, digits: int = 1) -> str:
    """A fraction as a percentage number: 0.241 -> '24.1'."""
    if x is None:
        return "—"
    return fmt_fixed(100 * x, digits)


def or_blank(value):
    """A header value (version, n, timestamp) as stored; "" when the document lacks it."""
    return "" if value is None else value
