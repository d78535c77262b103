"""Journal number formatting, in one place (APA 7th edition style).

* p values: exact to three decimals without a leading zero ("p = .031"), "p < .001" below
  .001 and "p > .999" when they would round to 1.
* Posterior probabilities: the same style ("P(increase) > .999").
* Test statistics: "F(2, 16) = 39.53", "t(56.11) = 3.00", "χ²(1) = 7.16" (corrected,
  non-integer df to two decimals).
* Statistics that cannot exceed 1 in size (η², ε, r, W): no leading zero (".83", "−.28").
* Intervals: "131–198%" (en dash), "−12 to 30%" when a bound is negative, so that the dash
  is never read as a minus sign.
* Bayes factors: at most 3 significant figures, "> 100" and "< 0.01" beyond, with the
  verbal category of Lee & Wagenmakers (2013) ("BF10 = 4.2, moderate evidence for H1").
* Estimates: the decimals follow the uncertainty (two significant digits of about one
  posterior SD, i.e. a quarter of the 95% interval), and an estimate and its interval
  always share them.

Negative numbers carry the typographic minus sign (U+2212) unless ``minus="-"`` is passed.
"""

from __future__ import annotations

import math

MINUS = "\u2212"
EN_DASH = "\u2013"
EM_DASH = "\u2014"
TIMES = "\u00d7"
#: Printed where a value is missing (not estimated, not applicable).
MISSING = EM_DASH

__all__ = [
    "EN_DASH",
    "MINUS",
    "MISSING",
    "bf_category",
    "decimals_for",
    "fmt_bf",
    "fmt_F",
    "fmt_apa_interval",
    "fmt_bounded",
    "fmt_chisq",
    "fmt_df",
    "fmt_estimate",
    "fmt_interval",
    "fmt_num",
    "fmt_number",
    "fmt_p",
    "fmt_p_value",
    "fmt_prob",
    "fmt_t",
    "parse_number",
]


def _missing(x) -> bool:
    try:
        return x is None or not math.isfinite(float(x))
    except (TypeError, ValueError):
        return True


def fmt_number(x: float | None, decimals: int = 2, *, minus: str = MINUS, sign: bool = False) -> str:
    """``x`` rounded to ``decimals`` places with a typographic minus ("−0.25").

    ``sign=True`` writes "+" before positive numbers. A value that rounds to zero is
    written without a sign. Missing / non-finite values give `MISSING`.
    """
    if _missing(x):
        return MISSING
    decimals = max(int(decimals), 0)
    text = f"{abs(float(x)):.{decimals}f}"
    is_zero = float(text) == 0.0
    if float(x) < 0 and not is_zero:
        return minus + text
    if sign and not is_zero:
        return "+" + text
    return text


def decimals_for(low: float | None, high: float | None, *, max_decimals: int = 3) -> int:
    """Decimals that show an interval ``[low, high]`` to about two significant digits of its spread.

    The spread is a quarter of the interval width (about one SD for a 95% interval);
    the result is ``1 - floor(log10(spread))`` clipped to ``[0, max_decimals]``:
    a 95% interval 41–99 gives 0 decimals, 0.25–0.52 gives 3 (the SD, about 0.07, to two digits).
    """
    if _missing(low) or _missing(high):
        return min(2, max_decimals)
    spread = abs(float(high) - float(low)) / 4.0
    if spread <= 0:
        return min(2, max_decimals)
    return int(min(max(1 - math.floor(math.log10(spread)), 0), max_decimals))


def fmt_interval(
    low: float | None,
    high: float | None,
    decimals: int | None = None,
    *,
    unit: str = "",
    minus: str = MINUS,
) -> str:
    """An interval as a journal writes it: "131–198%", "0.25–0.52", "−12 to 30%".

    The unit is written once, after the upper bound. ``decimals`` defaults to
    `decimals_for`.
    """
    if _missing(low) or _missing(high):
        return MISSING
    d = decimals_for(low, high) if decimals is None else decimals
    lo, hi = fmt_number(low, d, minus=minus), fmt_number(high, d, minus=minus)
    sep = " to " if lo.startswith(minus) or hi.startswith(minus) else EN_DASH
    return f"{lo}{sep}{hi}{unit}"


def fmt_estimate(
    estimate: float | None,
    low: float | None,
    high: float | None,
    *,
    unit: str = "",
    decimals: int | None = None,
    minus: str = MINUS,
    brackets: str = "[]",
) -> str:
    """Estimate and interval with shared decimals: "69% [41–99%]"."""
    d = decimals_for(low, high) if decimals is None else decimals
    est = fmt_number(estimate, d, minus=minus)
    if est != MISSING:
        est += unit
    if _missing(low) or _missing(high):
        return est
    return f"{est} {brackets[0]}{fmt_interval(low, high, d, unit=unit, minus=minus)}{brackets[1]}"


def fmt_p_value(p: float | None) -> str:
    """The value part of an APA p: ".031", "< .001", "> .999" (no leading zero, 3 decimals)."""
    if _missing(p):
        return MISSING
    p = float(p)
    if p < 0.001:
        return "< .001"
    text = f"{p:.3f}"
    if float(text) >= 1.0:
        return "> .999"
    return text.lstrip("0") if text.startswith("0.") else text


def fmt_p(p: float | None, *, symbol: str = "p") -> str:
    """APA p: ``0.0004 -> "p < .001"``, ``0.0312 -> "p = .031"``, ``0.05 -> "p = .050"``."""
    value = fmt_p_value(p)
    if value == MISSING:
        return f"{symbol} = {MISSING}" if symbol else MISSING
    if not symbol:
        return value
    if value[0] in "<>":
        return f"{symbol} {value}"
    return f"{symbol} = {value}"


def fmt_prob(prob: float | None, *, event: str | None = None) -> str:
    """A posterior probability in the p style: ``fmt_prob(1.0, event="increase")`` -> "P(increase) > .999".

    Without ``event`` only the value part is returned (".983", "> .999").
    """
    if event is None:
        return fmt_p_value(prob)
    return fmt_p(prob, symbol=f"P({event})")


def fmt_df(df: float | None) -> str:
    """Degrees of freedom: integers as integers, corrected df to two decimals."""
    if _missing(df):
        return MISSING
    df = float(df)
    if abs(df - round(df)) < 1e-9:
        return str(round(df))
    return f"{df:.2f}"


def fmt_F(df_num: float | None, df_den: float | None, F: float | None) -> str:
    """APA F: "F(2, 16) = 39.53"."""
    return f"F({fmt_df(df_num)}, {fmt_df(df_den)}) = {fmt_number(F, 2)}"


def fmt_t(df: float | None, t: float | None) -> str:
    """APA t: "t(32) = −6.93", "t(56.11) = 3.00" (Satterthwaite df to two decimals)."""
    return f"t({fmt_df(df)}) = {fmt_number(t, 2)}"


def fmt_chisq(df: float | None, chisq: float | None) -> str:
    """APA chi-square: "χ²(1) = 7.16"."""
    return f"\u03c7\u00b2({fmt_df(df)}) = {fmt_number(chisq, 2)}"


def fmt_bounded(x: float | None, decimals: int = 2, *, minus: str = MINUS) -> str:
    """A statistic that cannot exceed 1 in size (η², ε, a correlation, Mauchly's W) without the
    leading zero, as APA asks: ``0.8317 -> ".83"``, ``-0.28 -> "−.28"``, ``1.0 -> "1.00"``."""
    text = fmt_number(x, decimals, minus=minus)
    if text == MISSING:
        return text
    return text.replace("0.", ".", 1) if text.lstrip(minus).startswith("0.") else text


def fmt_apa_interval(low: float | None, high: float | None, decimals: int | None = None, *, unit: str = "",
                     minus: str = MINUS) -> str:
    """An interval in APA brackets, each bound with its unit: "[59%, 121%]", "[−98, −53]"."""
    if _missing(low) or _missing(high):
        return MISSING
    d = decimals_for(low, high) if decimals is None else decimals
    return f"[{fmt_number(low, d, minus=minus)}{unit}, {fmt_number(high, d, minus=minus)}{unit}]"


def parse_number(text: str) -> float:
    """Inverse of `fmt_number` (typographic minus, "+" and a trailing "%" allowed)."""
    cleaned = text.strip().replace(MINUS, "-").rstrip("%").replace(",", "")
    return float(cleaned)


def fmt_num(x: float | None, decimals: int | None = None, *, minus: str = MINUS) -> str:
    """A single number: to ``decimals`` places, or by default to about three significant digits.

    ``fmt_num(69.24) -> "69.2"``, ``fmt_num(150.1) -> "150"``, ``fmt_num(0.1234) -> "0.123"``.
    Use `fmt_estimate` when an interval goes with it (they then share decimals).
    """
    if _missing(x):
        return MISSING
    if decimals is None:
        mag = abs(float(x))
        decimals = 2 if mag == 0 else int(min(max(2 - math.floor(math.log10(mag)), 0), 4))
    return fmt_number(x, decimals, minus=minus)


#: Lee & Wagenmakers (2013, after Jeffreys 1961): upper bounds of BF10 (>= 1) and the words.
_BF_WORDS = ((3.0, "anecdotal"), (10.0, "moderate"), (30.0, "strong"), (100.0, "very strong"),
             (math.inf, "extreme"))


def fmt_bf(bf: float | None) -> str:
    """A Bayes factor with at most 3 significant figures: "0.64", "4.21", "42.1"; "> 100" above
    100 and "< 0.01" below 1/100 (a Savage-Dickey ratio that far out is not estimated to 3 figures)."""
    if bf is None or (isinstance(bf, float) and math.isnan(bf)):
        return MISSING
    bf = float(bf)
    if bf > 100:
        return "> 100"
    if bf < 0.01:
        return "< 0.01"
    return f"{bf:.3g}"


def bf_category(bf: float | None, *, h1: str = "H1", h0: str = "H0") -> str:
    """Verbal category of a BF10 (Lee & Wagenmakers 2013): "moderate evidence for H1", "anecdotal
    evidence for H0", ...; "no evidence either way" at exactly 1."""
    if bf is None or (isinstance(bf, float) and math.isnan(bf)):
        return MISSING
    bf = float(bf)
    if bf == 1.0:
        return "no evidence either way"
    size, side = (bf, h1) if bf > 1 else (1.0 / bf if bf > 0 else math.inf, h0)
    word = next(w for bound, w in _BF_WORDS if size <= bound)
    return f"{word} evidence for {side}"


def outcome_label(result) -> str:
    """The outcome's name in text: ``--label`` when given, else the sheet's column name."""
    return str((result.settings or {}).get("label") or result.sheet.columns.get("value", "the outcome"))


def outcome_unit(result) -> str:
    """The outcome's unit (``--unit``; "" when none was given)."""
    return str((result.settings or {}).get("unit") or "")


def outcome_axis(result) -> str:
    """An axis label: "immobility (s)", or the name alone without a unit."""
    unit = outcome_unit(result)
    return f"{outcome_label(result)} ({unit})" if unit else outcome_label(result)
