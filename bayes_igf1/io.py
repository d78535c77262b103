"""Read lab sheets (CSV / Excel, long or wide) into a validated tidy frame and a row ledger.

Every data row read is accounted for in a :class:`RowLedger`: used, or excluded with its
reason (blank row, summary row, filtered out by ``--where``, missing value). Everything
else that is wrong raises :class:`~bayes_igf1.errors.DataError` naming the file, the
spreadsheet row (header row = 1, as Excel shows it), the column and the fix.

Layouts read
------------
long
    One row per observation (both designs).
wide-time (time course)
    One row per animal: an animal column, a group column, and one column per time point.
    Every other column whose header is a number, optionally with a time unit (``-1``,
    ``0``, ``1 h``, ``2h``, ``3 hr``, ``30 min``, ``Day 2``), is a time point; other
    columns are ignored. One ledger entry per animal x time cell.
wide-group (time course)
    A Prism grouped-table export: a time column (the row titles; a first column with a
    blank header is taken when the named one is absent), then one column per animal,
    headed by its group. The replicate columns of a group repeat the group name or are
    left blank after the first. Animal IDs are made up as ``"<group>-<k>"`` (k = replicate
    column within the group) unless the header reads ``"<group>|<animal id>"``. One ledger
    entry per time x animal cell.

The factorial reader reads the long layout only (one row per animal).

Sheets as they really come
--------------------------
Nothing is read silently wrong: what cannot be read for sure is a
:class:`~bayes_igf1.errors.DataError` (exit code 2 in the CLI).

* Rows are the file's physical lines (the rows Excel shows). Every line is accounted for:
  blank lines above the header, the header (``RowLedger.header_row``), one ledger entry per
  line from the header to the last non-blank line, blank lines after it
  (``RowLedger.n_lines`` is the file's line count). A quoted cell that spans lines (a stray
  or unclosed quote) is an error naming the line where the quote opened.
* Summary rows are recognised by their label in the animal-ID column (the time column of a
  Prism table): ``average``, ``avg``, ``mean``, ``SD``, ``SEM``, ``n``, ... in any case, with
  counts, symbols and parentheses (``Avg (n=7)``, ``Mean ± SEM``, ``Mean±SD``, ``n = 7``,
  ``Mean:``) or inside a phrase (``Mean WT``, ``Group average``). When the ID cell is blank
  (or there is no ID column), a decorated label or an unambiguous word (mean, average, SEM,
  ...) in a group / factor / time column marks the row too, and so does any summary word in
  the row's first text cell outside those columns. Rule for IDs: a word followed by a number
  (``Mean1``, ``Mean 3``, ``SD-3``, ``SEM_2``, ``N12``) is an animal ID, never a summary label;
  a number in a summary label is only a count (``n=7``). Short words that are also level names
  (``SD`` sleep deprivation, ``SE``, ``median``, ``total``, ``n``) mark a row only in the ID
  column.
* Numbers: ``decimal=`` / ``thousands=`` say how the sheet writes them (``decimal=","`` reads
  ``12,5`` as 12.5, ``thousands="."`` reads ``1.810`` as 1810). Without them a point is a
  decimal point, and a numeric column that mixes values like ``1.810`` (a point and three
  digits) with whole numbers or decimal commas in a ``;``-separated file or a file with
  decimal commas is an error naming the cells (1810 or 1.81?).
* Excel: with several sheets holding data (two or more non-blank rows) and no ``sheet=`` the
  reader stops and lists them; a formula cell without a stored value is an error naming the
  cells. A ``.csv`` that is really a workbook is read as Excel (and noted); UTF-16 / UTF-32
  text with a byte-order mark is read; other binary files are named as such.
* A row repeated cell for cell (a pasted duplicate) is an error naming both rows (time
  course; factorial with an animal column: without one two animals may share a row's values).
* Levels or IDs that look the same but differ (invisible characters, look-alike letters such
  as Cyrillic ``е``, dashes, NBSP; levels also in case) are an error; messages show such
  characters escaped (``'\\u2013'``). Zero-width characters and spaces at the ends of a cell
  are dropped. ``+`` and ``-`` are factor levels when the column has a ``+`` (``-`` alone is
  otherwise a missing value). A time (long layout) at which no group has two animals
  sampled (lost fractions count) is an error naming its row.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import itertools
import math
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from datetime import time as dtime
from pathlib import Path

import numpy as np
import pandas as pd

from bayes_igf1.constants import ANIMAL, CENSORED, COHORT, COVARIATE, GROUP, LIMIT, ROW, TIME, VALUE
from bayes_igf1.errors import DataError

__all__ = [
    "LAYOUTS",
    "RowLedger",
    "Sheet",
    "parse_where",
    "read_factorial",
    "read_table",
    "read_timecourse",
]

#: Source name used for a DataFrame passed instead of a file.
DATAFRAME_SOURCE = "<DataFrame>"
#: Layouts understood by :func:`read_timecourse`.
LAYOUTS: tuple[str, ...] = ("long", "wide-time", "wide-group")
USED = "used"
EXCLUDED = "excluded"
#: Tidy-frame column of a summary table (one row per cell): how many animals the row stands for.
#: A `Sheet` whose frame has it counts animals by it instead of by distinct animal IDs.
N_ANIMALS = "n_animals"

#: Plain words of a summary label (examples; the rule is ``_summary_label``).
SUMMARY_WORDS = frozenset(
    {
        "average", "avg", "ave", "mean", "median", "sd", "s.d.", "stdv", "stdev", "std", "std dev",
        "std. dev.", "standard deviation", "sem", "se", "s.e.", "s.e.m.", "sterror",
        "stderr", "std error", "std. error", "standard error", "n", "count", "total",
        "sum", "min", "max", "variance", "var", "cv", "iqr", "range",
    }
)
#: Cell texts read as a missing value (compared lower-case); a lone en / em dash is a "-".
MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "-", "#n/a", "\u2013", "\u2014"})

# Summary labels (see the module docstring). Words that are never a level name:
_SUMMARY_STRONG = (
    r"average|avg|mean|arithmetic\s*mean|geo(?:metric)?\.?\s*mean|grand\s*mean|overall\s*mean|group\s*mean"
    r"|s\.\s?d\.?|stdv|stdev|st\.?\s?dev\.?|std\.?\s?dev\.?|standard\s*deviation"
    r"|s\.\s?e\.\s?m\.?|sem|s\.\s?e\.|sterror|stderr|st\.?\s?err(?:or)?\.?|std\.?\s?err(?:or)?\.?"
    r"|standard\s*error(?:\s*of\s*(?:the\s*)?mean)?|variance|%\s?cv|95\s?%\s?ci|conf(?:idence)?\.?\s*int(?:erval)?"
)
# ... and words that may also be a level or a name (SD = sleep deprivation, median raphe, total):
_SUMMARY_WEAK = r"median|sd|se|std|var|cv|iqr|range|ci|n|count|total|sum|min(?:imum)?|max(?:imum)?|ave"
_SUMMARY_COUNT = r"n\s*[=:]\s*\d+"
_SUMMARY_SEP = r"(?:\s|[±+/,;&()\[\]:.=-]|\band\b)"
_SUMMARY_TOKEN = rf"(?:{_SUMMARY_COUNT}|{_SUMMARY_STRONG}|{_SUMMARY_WEAK})"
_SUMMARY_LABEL = re.compile(rf"{_SUMMARY_SEP}*{_SUMMARY_TOKEN}(?:{_SUMMARY_SEP}+{_SUMMARY_TOKEN})*{_SUMMARY_SEP}*")
_SUMMARY_WEAK_ONLY = re.compile(rf"(?:{_SUMMARY_WEAK})")
_SUMMARY_IN_PHRASE = re.compile(
    r"(?<![^\W_])(?:average|avg|mean|sem|stdev|stdv|sterror|stderr|std\.?\s?dev|std\.?\s?err(?:or)?"
    r"|standard\s+(?:deviation|error))(?![^\W_])"
)
#: An animal ID: a word and a number ("Mean1", "Mean 3", "SD-3", "SEM_2", "N12", "M01").
_ID_SHAPE = re.compile(r"[^\W\d_]+[\s\-_#.]?\d+[^\W\d_]?")

#: Invisible characters dropped at the ends of a cell, like spaces (zero-width space and
#: joiners, word joiner, byte-order mark).
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
_EDGES = re.compile(rf"^[\s{_INVISIBLE}]+|[\s{_INVISIBLE}]+$")
#: Characters shown escaped in messages (they look like others or are invisible).
_LOOKALIKE = re.compile(
    "[\u00a0\u00ad\u1680\u2000-\u200f\u2010-\u2015\u2028-\u202f\u205f-\u2064\u2212\u2215"
    "\u3000\ufe63\ufeff\uff01-\uff5e]"
)
_MIXED_SCRIPT = re.compile("[\u0370-\u03ff\u0400-\u04ff]")
#: Look-alike letters and dashes -> the ASCII character they are taken for.
_CONFUSABLE = str.maketrans(
    {
        **dict(zip("аеорсухіјѕԁһАВЕКМНОРСТХІЈЅ", "aeopcyxijsdhABEKMHOPCTXIJS", strict=True)),
        **dict(zip("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧοι", "ABEZHIKMNOPTYXoi", strict=True)),
        **{c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\uff0d"},
    }
)
#: Dashes that are not the minus sign (en dash, em dash, hyphens) -- a typed "-" was meant.
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\ufe63\uff0d"

_EXTENSIONS_TEXT = (".csv", ".tsv", ".txt")
_EXTENSIONS_EXCEL = (".xlsx", ".xlsm", ".xls")
_NUM = r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)"
_NUMBER = re.compile(rf"[+-]?{_NUM}(?:[eE][+-]?[0-9]+)?")
_BELOW = re.compile(
    r"(?:<\s*(?:ll?oq|ll?od)?|blq|bloq|nd|n\.d\.?|not\s+detected"
    r"|below\s+(?:the\s+)?(?:ll?oq|ll?od|limit(?:\s+of\s+(?:detection|quantification))?"
    r"|detection\s+limit))"
    rf"\s*(?:[:=(]\s*)?(?:(?P<num>{_NUM}(?:[eE][+-]?[0-9]+)?)\s*\)?\s*(?:[a-zµμ%/]+)?)?",
    re.IGNORECASE,
)
_DECIMAL_COMMA = re.compile(r"[0-9],[0-9]")
_TIME_UNITS = {
    "s": "s", "sec": "s", "secs": "s", "second": "s", "seconds": "s",
    "m": "min", "min": "min", "mins": "min", "minute": "min", "minutes": "min",
    "h": "h", "hr": "h", "hrs": "h", "hour": "h", "hours": "h",
    "d": "d", "day": "d", "days": "d",
    "w": "wk", "wk": "wk", "wks": "wk", "week": "wk", "weeks": "wk",
}
_TIME_SUFFIX = re.compile(rf"(?P<num>[+-]?{_NUM})\s*(?P<unit>[a-zA-Z]+)?\.?")
_TIME_PREFIX = re.compile(
    rf"(?P<unit>day|hour|hr|min|minute|week|wk)s?\s*[-_ ]?\s*(?P<num>[+-]?{_NUM})", re.IGNORECASE
)
#: Names accepted by ``time_unit=`` / ``--time-unit`` ("m" is left out: minute or month?).
_TIME_UNIT_OPTION = frozenset(_TIME_UNITS) - {"m"}
_FLAG_TRUE = frozenset({"1", "true", "yes", "y"})
_FLAG_FALSE = frozenset({"0", "false", "no", "n"})
#: Share of censored rows above which the reader warns that the coding may be reversed.
CENSORED_WARN_SHARE = 0.9
#: A column header that reads like an event indicator (1 = the event happened), whole words.
_EVENT_HEADER = re.compile(r"(?<![^\W_])(?:status|event|dead|death|died|failure|tumou?r)s?(?![^\W_])", re.IGNORECASE)

# Default reference level (no --reference): see _default_order.
#: Words that name a control level, matched as whole words in the level's text, any case.
_CONTROL_WORDS = (
    "saline", "vehicle", "veh", "control", "ctrl", "con", "sham", "placebo", "igg(?:[1-4][a-c]?)?", "wt",
    r"wild[\s_-]?type", "none", "untreated", "na[iï]ve",
)
_ZERO = r"[+-]?0+(?:\.0+)?"
_CONTROL = re.compile(
    r"(?<![^\W_])(?:" + "|".join(_CONTROL_WORDS) + r")(?![^\W_])"  # a control word
    + rf"|(?<![\w.,]){_ZERO}(?![\d.,])",  # a zero dose: "0", "0 mg/kg", "0mg/kg" (not "10", "0.5")
    re.IGNORECASE,
)
#: A level that is nothing but a zero, optionally with a unit ("0", "0 mg/kg").
_ZERO_LEVEL = re.compile(rf"{_ZERO}(?:\s*[^\d\s.,+-][^\d]*)?")
#: Separators left over when a level is made of control words only ("Control IgG", "saline + vehicle").
_SEPARATORS = re.compile(r"[\s_\-/+&,;:()\[\].]+")
#: A level that is a number, optionally with a unit ("10", "10 mg/kg", "2.5mg/kg").
_LEVEL_NUMBER = re.compile(rf"(?P<num>[+-]?{_NUM}(?:[eE][+-]?[0-9]+)?)\s*(?P<unit>\D*)")
#: Reference rule recorded when the user chose the reference.
RULE_GIVEN = "given with --reference"


# --------------------------------------------------------------------------- ledger


@dataclass(frozen=True, eq=False)
class RowLedger:
    """What happened to every data row read.

    Parameters
    ----------
    source : str
        File name, or ``"<DataFrame>"``.
    entries : pandas.DataFrame
        One row per entry read, in file order, with columns ``row`` (spreadsheet row
        number), ``status`` (``"used"`` / ``"excluded"``), ``reason`` (``""`` when used)
        and ``column`` (``""`` for a whole row; the cell's column in wide layouts, where a
        used sheet row gives one entry per time x animal cell).
    header_row : int
        Line (Excel row) of the header; the lines above it are blank.
    n_lines : int
        Physical lines of the file (rows of the Excel sheet). Every line is accounted for:
        the blank lines above the header, the header, one or more entries for each line from
        ``header_row + 1`` to the last non-blank line, and blank lines after it.
    """

    source: str
    entries: pd.DataFrame
    header_row: int = 1
    n_lines: int = 0

    @property
    def rows_read(self) -> int:
        """Number of entries read (sheet rows in the long layout)."""
        return int(len(self.entries))

    @property
    def rows_used(self) -> int:
        """Number of entries used (equal to the length of the tidy frame)."""
        return int((self.entries["status"] == USED).sum())

    @property
    def excluded(self) -> list[dict]:
        """Excluded entries as ``{"row", "reason"}`` (plus ``"column"`` for a single cell)."""
        out = []
        for row, status, reason, column in self.entries[["row", "status", "reason", "column"]].itertuples(
            index=False
        ):
            if status != EXCLUDED:
                continue
            item: dict = {"row": int(row), "reason": str(reason)}
            if column:
                item["column"] = str(column)
            out.append(item)
        return out

    def exclude(self, rows: Iterable[int], reason: str) -> RowLedger:
        """Return a new ledger with the used entries of ``rows`` excluded for ``reason``.

        Parameters
        ----------
        rows : iterable of int
            Spreadsheet row numbers (as in the tidy frame's ``row`` column).
        reason : str
            Why they are left out (non-empty).
        """
        if not str(reason).strip():
            raise ValueError("RowLedger.exclude needs a non-empty reason")
        wanted = {int(r) for r in rows}
        unknown = wanted - set(int(r) for r in self.entries["row"])
        if unknown:
            raise ValueError(f"rows not in the ledger of {self.source!r}: {sorted(unknown)}")
        new = self.entries.copy()
        mask = new["row"].isin(wanted) & (new["status"] == USED)
        new.loc[mask, "status"] = EXCLUDED
        new.loc[mask, "reason"] = str(reason)
        return replace(self, entries=new)

    def reason_counts(self) -> dict[str, int]:
        """Number of excluded entries per reason, in order of first appearance."""
        counts: dict[str, int] = {}
        for item in self.excluded:
            counts[item["reason"]] = counts.get(item["reason"], 0) + 1
        return counts

    def to_dict(self) -> dict:
        """``{"rows_read", "rows_used", "excluded": [{"row", "reason"}]}`` for results.json."""
        return {"rows_read": self.rows_read, "rows_used": self.rows_used, "excluded": self.excluded}

    def to_text(self) -> str:
        """Short human summary: read, used, excluded by reason with the rows listed."""
        cells = bool((self.entries["column"] != "").any())
        unit = "entries read (one per cell of the wide sheet; rows left out whole count once)" if cells else "rows read"
        n_ex = self.rows_read - self.rows_used
        lines = [f"{self.source}: {self.rows_read} {unit}, {self.rows_used} used, {n_ex} excluded."]
        by_reason: dict[str, list[dict]] = {}
        for item in self.excluded:
            by_reason.setdefault(item["reason"], []).append(item)
        for reason, items in by_reason.items():
            whole = sorted({i["row"] for i in items if "column" not in i})
            parts = [_ranges(whole)] if whole else []
            parts += [f"{i['row']} [{i['column']}]" for i in items if "column" in i]
            word = "row" if len(items) == 1 else "rows"
            lines.append(f"  {reason}: {len(items)} ({word} {', '.join(parts)})")
        return "\n".join(lines)


def _ranges(rows: list[int]) -> str:
    """Compress sorted row numbers: [2, 3, 4, 7] -> '2-4, 7'."""
    parts = []
    for _, grp in itertools.groupby(enumerate(rows), key=lambda t: t[1] - t[0]):
        run = [r for _, r in grp]
        parts.append(str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}")
    return ", ".join(parts)


def _ledger(table: _Table, entries: list[tuple[int, str, str, str]]) -> RowLedger:
    frame = pd.DataFrame(entries, columns=["row", "status", "reason", "column"])
    frame["row"] = frame["row"].astype(np.int64)
    for col in ("status", "reason", "column"):
        frame[col] = frame[col].astype(str)
    return RowLedger(source=table.source, entries=frame, header_row=table.header_row, n_lines=table.n_lines)


# ---------------------------------------------------------------------------- sheet


@dataclass(frozen=True, eq=False)
class Sheet:
    """A validated tidy frame with its row ledger.

    Parameters
    ----------
    frame : pandas.DataFrame
        Time course: ``row, animal, group, time, value, censored, limit``. Factorial:
        ``row, animal, <one Categorical per factor>, value, censored`` (+ ``cohort``).
    ledger : RowLedger
        Every row read, used or excluded with its reason.
    columns : dict of str to str
        Role -> the user's column name (``{"animal": "Animal", "value": ...}``); for a
        factorial sheet each factor maps to its column too.
    source : str
        File name, or ``"<DataFrame>"``.
    design : str
        ``"timecourse"`` or ``"factorial"``.
    factors : tuple of str
        ``("group",)`` for a time course; the factor names as given for a factorial.
    animal_ids_made_up : bool
        True when animal IDs were made up (no animal column).
    time_unit : str
        Unit of the times (``"s"``, ``"min"``, ``"h"``, ``"d"``, ``"wk"``), read from the time
        values or headers or given with ``time_unit=``; ``""`` if neither gives one.
    reference_rule : dict of str to str
        Group / factor column -> how its reference level (the first category) was chosen:
        ``"given with --reference"``, ``"named like a control (saline)"``, ``"lowest
        number"`` or ``"first in sorted order"``. Keyed by the group column's name (time
        course) or the factor name (factorial).
    notes : tuple of str
        What the reader noticed and the report should say (e.g. most rows censored).
    censoring_side : str
        "left" (below an assay limit, time course) or "right" (a cut-off or follow-up end).
    """

    frame: pd.DataFrame
    ledger: RowLedger
    columns: dict[str, str]
    source: str
    design: str
    factors: tuple[str, ...]
    animal_ids_made_up: bool
    time_unit: str = ""
    reference_rule: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    censoring_side: str = "right"

    def reference_levels(self) -> dict[str, str]:
        """Group / factor column -> its reference level (the keys of ``reference_rule``)."""
        out = {}
        for name, frame_col in zip(self._factor_names(), self.factors, strict=True):
            out[name] = str(self.frame[frame_col].cat.categories[0])
        return out

    def _factor_names(self) -> list[str]:
        """The names the report uses: the sheet's column of each grouping (``group`` -> the user's
        group column in a time course; a factorial's factors are the user's names already)."""
        return [str(self.columns.get(f, f)) for f in self.factors]

    def _n_animals(self) -> int:
        """Animals in the frame: distinct IDs, or the sum of the ``n_animals`` column of a summary table."""
        if N_ANIMALS in self.frame.columns:
            return int(self.frame[N_ANIMALS].sum())
        return int(self.frame[ANIMAL].nunique())

    def _n_per_group(self) -> dict[str, int]:
        """Animals per group (one grouping column) or per cell ("A|B", several)."""
        f = self.frame
        levels = [list(f[name].cat.categories) for name in self.factors]
        by = f.groupby(list(self.factors), observed=False)
        n = by[N_ANIMALS].sum() if N_ANIMALS in f.columns else by[ANIMAL].nunique()
        out = {}
        for combo in itertools.product(*levels):
            key = combo[0] if len(combo) == 1 else combo
            out["|".join(str(c) for c in combo)] = int(n.get(key, 0))
        return out

    def summary(self) -> dict:
        """Counts: n_animals, n_per_group, times (+ time_unit), n_observations, n_censored, censoring;
        reference_level and reference_rule (per group / factor column); notes."""
        f = self.frame
        n_cens = int(f[CENSORED].sum())
        out: dict = {
            "design": self.design,
            "n_animals": self._n_animals(),
            "n_per_group": self._n_per_group(),
        }
        if TIME in f.columns:
            out["times"] = [float(t) for t in sorted(f[TIME].unique())]
            out["time_unit"] = self.time_unit
        else:
            out["factors"] = list(self.factors)
        out["n_observations"] = int(len(f))
        out["n_censored"] = n_cens
        out["censoring"] = None if n_cens == 0 else self.censoring_side
        out["reference_level"] = self.reference_levels()
        out["reference_rule"] = dict(self.reference_rule)
        out["notes"] = list(self.notes)
        return out

    def data_block(self) -> dict:
        """The results.json ``data`` block (ledger, n, reference levels and how they were chosen, notes)."""
        block = self.ledger.to_dict()
        block["n_animals"] = self._n_animals()
        block["n_per_group"] = self._n_per_group()
        block["reference_level"] = self.reference_levels()
        block["reference_rule"] = dict(self.reference_rule)
        if self.notes:
            block["notes"] = list(self.notes)
        return block


# ------------------------------------------------------------------------ raw table


@dataclass(frozen=True)
class _NumberFormat:
    """How the sheet writes numbers: ``decimal`` and ``thousands`` separators, ``given`` by the user."""

    decimal: str = "."
    thousands: str = ""
    given: bool = False

    def describe(self) -> str:
        th = f", thousands {self.thousands!r}" if self.thousands else ", no thousands separator"
        return f"decimal {self.decimal!r}{th}"


_SPACES = " \u00a0\u202f\u2009\u2007"


def _number_format(decimal: str | None, thousands: str | None) -> _NumberFormat:
    """The ``decimal=`` / ``thousands=`` options, checked."""
    if decimal is None and thousands is None:
        return _NumberFormat()
    th0 = "" if thousands is None else str(thousands)
    dec = ("," if th0 == "." else ".") if decimal is None else str(decimal)  # thousands='.' implies decimal ','

    if dec not in (".", ","):
        raise DataError(
            f"the decimal separator must be '.' or ',', got {_show(dec)}",
            fix="pass --decimal , when numbers are written 12,5 (decimal=',' in Python), or --decimal . for 12.5",
        )
    th = "" if thousands is None else str(thousands)
    if th and th not in (".", ",", "'") and th not in _SPACES:
        raise DataError(
            f"the thousands separator must be '.', ',', \"'\" or a space, got {_show(th)}",
            fix="pass e.g. --thousands . when 1810 is written 1.810 (thousands='.' in Python)",
        )
    if th == dec:
        raise DataError(
            f"the decimal and the thousands separator are both {dec!r}",
            fix="give two different separators, e.g. --decimal , --thousands .",
        )
    if th and th in _SPACES:
        th = " "
    return _NumberFormat(decimal=dec, thousands=th, given=True)


@dataclass(frozen=True, eq=False)
class _Table:
    source: str
    header: list[str]
    header_row: int
    cells: list[list[object]]
    rows: list[int]
    #: spreadsheet column index (from 0) of each column kept (blank columns are dropped)
    cols: list[int] = field(default_factory=list)
    #: "text", "excel" or "frame"
    kind: str = "text"
    delimiter: str = ""
    #: physical lines of the file / rows of the Excel sheet
    n_lines: int = 0
    fmt: _NumberFormat = field(default_factory=_NumberFormat)
    notes: tuple[str, ...] = ()

    def label(self, i: int) -> str:
        """Display name of column ``i``: its header, else its spreadsheet letter."""
        return self.header[i] if self.header[i].strip() else f"column {self.letter(i)}"

    def letter(self, i: int) -> str:
        """Spreadsheet letter of column ``i`` (as Excel shows it, blank columns counted)."""
        return _letter(self.cols[i] if self.cols else i)

    def listing(self) -> str:
        return ", ".join(_show(h) for h in self.header if h.strip())

    @property
    def line_word(self) -> str:
        return "line" if self.kind == "text" else "row"


def _letter(i: int) -> str:
    s, n = "", i + 1
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


def _strip(text: str) -> str:
    """``text`` without spaces and invisible characters (zero-width space, BOM) at its ends."""
    return _EDGES.sub("", text)


def _show(text: object) -> str:
    """``repr`` of a cell's text with invisible and look-alike characters escaped ('\\u2013')."""
    s = repr(str(text))
    s = _LOOKALIKE.sub(lambda m: f"\\u{ord(m.group()):04x}", s)
    if re.search("[A-Za-z]", s):  # mixed scripts: a Cyrillic 'е' among Latin letters
        s = _MIXED_SCRIPT.sub(lambda m: f"\\u{ord(m.group()):04x}", s)
    return s


def _skeleton(text: str, *, fold_case: bool) -> str:
    """What a text looks like: NFKC, invisible characters dropped, look-alikes mapped, spaces collapsed."""
    s = unicodedata.normalize("NFKC", text)
    s = re.sub(f"[{_INVISIBLE}\u00ad]", "", s).translate(_CONFUSABLE)
    s = " ".join(s.split())
    return s.casefold() if fold_case else s


def _summary_label(text: str, *, weak: bool, phrase: bool) -> str | None:
    """The summary label of a cell ('avg (n=7)', 'mean ± sem', 'sd') or None.

    ``weak``: also the words that may be a level name (sd, se, median, total, n, ...) alone;
    ``phrase``: also a phrase holding an unambiguous word ("Mean WT", "Group average"). A word
    followed by a number ("Mean1", "SD-3") is an ID, never a label.
    """
    label = " ".join(_skeleton(text, fold_case=True).replace("+/-", "±").replace("+-", "±").split())
    if not label or _ID_SHAPE.fullmatch(label):
        return None
    shown = label.strip(" :")
    if _SUMMARY_LABEL.fullmatch(label):
        if not weak and _SUMMARY_WEAK_ONLY.fullmatch(shown):
            return None
        return shown
    if phrase and _SUMMARY_IN_PHRASE.search(label):
        return shown
    return None


def _text(cell: object) -> str:
    """The cell as stripped text; '' for empty / NaN; whole floats without '.0'."""
    if cell is None or cell is pd.NA or cell is pd.NaT:
        return ""
    if isinstance(cell, str):
        return _strip(cell)
    if isinstance(cell, (bool, np.bool_)):
        return "TRUE" if cell else "FALSE"
    if isinstance(cell, (int, np.integer)):
        return str(int(cell))
    if isinstance(cell, (float, np.floating)):
        x = float(cell)
        if math.isnan(x):
            return ""
        if x.is_integer() and abs(x) < 1e15:
            return str(int(x))
        return repr(x)
    if isinstance(cell, datetime):
        return cell.isoformat(sep=" ").removesuffix(" 00:00:00")
    if isinstance(cell, (date, dtime)):
        return cell.isoformat()
    return _strip(str(cell))


def _header_text(cell: object) -> str:
    return re.sub(f"^[{_INVISIBLE}]+|[{_INVISIBLE}]+$", "", cell) if isinstance(cell, str) else _text(cell)


def _finish(source: str, records: list[tuple[int, list[object]]], **extra) -> _Table:
    """Header = first non-blank record; pad rows; drop trailing blank rows and empty columns."""
    records = [(n, list(r)) for n, r in records]
    start = next((k for k, (_, r) in enumerate(records) if any(_text(c) for c in r)), None)
    if start is None:
        raise DataError(
            "the file is empty (no header row)",
            file=source,
            fix="check the file name, or save the sheet again with its header row",
        )
    header_row, header_cells = records[start]
    data = records[start + 1 :]
    while data and not any(_text(c) for c in data[-1][1]):
        data.pop()
    width = max([len(header_cells)] + [len(r) for _, r in data])
    header = [_header_text(c) for c in header_cells] + [""] * (width - len(header_cells))
    cells = [r + [None] * (width - len(r)) for _, r in data]
    keep = [
        i for i in range(width) if header[i].strip() or any(_text(r[i]) for r in cells)
    ]
    extra.setdefault("n_lines", records[-1][0] if records else 0)
    return _Table(
        source=source,
        header=[header[i] for i in keep],
        header_row=header_row,
        cells=[[r[i] for i in keep] for r in cells],
        rows=[n for n, _ in data],
        cols=keep,
        **extra,
    )


#: File signatures (first bytes) of things that are not text tables.
_SIGNATURES = (
    (b"PK\x03\x04", "zip"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole"),
    (b"%PDF", "pdf"),
    (b"\x1f\x8b", "gzip"),
    (b"{\\rtf", "rtf"),
)
_WHAT = {
    "zip": "a ZIP archive (an Excel .xlsx or OpenDocument .ods workbook?)",
    "ole": "an old Excel workbook (.xls) or a password-protected workbook",
    "pdf": "a PDF document",
    "gzip": "a gzip-compressed file",
    "rtf": "a Rich Text (Word) document",
}


def _sniff(path: Path) -> str:
    """'zip', 'ole', 'pdf', 'gzip', 'rtf' from the file's first bytes, else 'text'."""
    with path.open("rb") as fh:
        head = fh.read(8)
    return next((kind for sig, kind in _SIGNATURES if head.startswith(sig)), "text")


def _load(
    source: str | Path | pd.DataFrame, *, sheet: str | int | None, fmt: _NumberFormat | None = None
) -> _Table:
    fmt = fmt or _NumberFormat()
    if isinstance(source, pd.DataFrame):
        if sheet is not None:
            raise DataError("--sheet applies to Excel files only", file=DATAFRAME_SOURCE, fix="drop --sheet")
        header = [_header_text(c) for c in source.columns]
        cells = source.astype(object).to_numpy().tolist()
        return _Table(
            source=DATAFRAME_SOURCE,
            header=header,
            header_row=1,
            cells=[list(r) for r in cells],
            rows=list(range(2, len(cells) + 2)),
            cols=list(range(len(header))),
            kind="frame",
            n_lines=len(cells) + 1,
            fmt=fmt,
        )
    path = Path(source)
    name = path.name
    if not path.exists():
        raise DataError(
            f"the file {str(path)!r} does not exist",
            file=name,
            fix="check the path and the file name",
        )
    if path.is_dir():
        raise DataError(f"{str(path)!r} is a folder, not a file", file=name, fix="give the path of the sheet")
    ext = path.suffix.lower()
    if ext not in _EXTENSIONS_TEXT + _EXTENSIONS_EXCEL:
        raise DataError(
            f"cannot read files of type {ext or '(no extension)'!r}",
            file=name,
            fix="save the sheet as .csv or .xlsx (read: " + ", ".join(_EXTENSIONS_TEXT + _EXTENSIONS_EXCEL) + ")",
        )
    kind = _sniff(path)
    if kind == "zip":
        if ext in (".xlsx", ".xlsm"):
            table = _read_xlsx(path, name, sheet)
        else:
            table = _read_xlsx(path, name, sheet, misnamed=ext)
            table = replace(table, notes=table.notes + (
                f"the file {name!r} is an Excel workbook (.xlsx) despite its {ext} name; it was read as Excel",
            ))
    elif kind == "ole":
        if ext != ".xls":
            raise DataError(
                f"the file is {_WHAT['ole']}, not a {ext} file",
                file=name,
                fix="open it in Excel (enter the password if it has one) and save it as .xlsx or .csv",
            )
        table = _read_xls(path, name, sheet)
    elif kind != "text":
        raise DataError(
            f"the file is {_WHAT[kind]}, not a table", file=name,
            fix="export the sheet from the program that made it as .csv or .xlsx",
        )
    else:
        misnamed = ext in _EXTENSIONS_EXCEL
        if sheet is not None:
            what = f"the file is a text (CSV) file despite its {ext} name, so " if misnamed else ""
            raise DataError(f"{what}--sheet applies to Excel files only", file=name, fix="drop --sheet")
        table = _read_text(path, name, ".csv" if misnamed else ext)
        if misnamed:
            table = replace(table, notes=table.notes + (
                f"the file {name!r} is a text (CSV) file despite its {ext} name; it was read as text",
            ))
    return replace(table, fmt=fmt)


def _decode(raw: bytes, name: str) -> str:
    """The file's text: UTF-32 / UTF-16 by their byte-order mark, UTF-16 without one by its NUL
    bytes, else UTF-8 (with or without BOM), then Windows-1252, then Latin-1."""
    if raw.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        encodings = ("utf-32",)
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ("utf-16",)
    elif b"\x00" in raw:
        head = raw[:4000]
        half = max(len(head) // 2, 1)
        even, odd = head[0::2].count(0) / half, head[1::2].count(0) / half
        if odd > 0.4 and even < 0.05:
            encodings = ("utf-16-le",)
        elif even > 0.4 and odd < 0.05:
            encodings = ("utf-16-be",)
        else:
            at = raw.index(b"\x00")
            line = raw[:at].count(b"\n") + 1
            raise DataError(
                f"the file holds NUL bytes (first in line {line}): it is not a text table",
                file=name, row=line,
                fix="export the sheet again as CSV (UTF-8) or .xlsx from the program that made it",
            )
    else:
        encodings = ("utf-8-sig", "cp1252", "latin-1")
    for encoding in encodings:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding.startswith("utf-16") or encoding == "utf-32":
            text = text.removeprefix("\ufeff")
        if "\x00" in text:
            line = text[: text.index("\x00")].count("\n") + 1
            raise DataError(
                f"the file holds NUL characters (first in line {line}): it is not a text table",
                file=name, row=line,
                fix="export the sheet again as CSV (UTF-8) or .xlsx from the program that made it",
            )
        return text
    raise DataError(
        f"cannot decode the file as {encodings[0].upper()} text",
        file=name, fix="save the sheet again as CSV (UTF-8) or .xlsx",
    )


def _read_text(path: Path, name: str, ext: str) -> _Table:
    raw = path.read_bytes()
    text = _decode(raw, name)
    if not text.strip():
        raise DataError("the file is empty", file=name, fix="check the file name, or save the sheet again")
    if ext == ".tsv":
        delimiter = "\t"
    else:
        first = next((line for line in text.splitlines() if line.strip()), "")
        counts = {d: first.count(d) for d in (",", ";", "\t")}
        delimiter = max(counts, key=lambda d: (counts[d], d == ","))
        if counts[delimiter] == 0:
            delimiter = ","
    if not text.endswith(("\n", "\r")):
        text += "\n"  # so that a quote left open on the last line is seen (it swallows the newline)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records: list[tuple[int, list[str]]] = []
    header: list[str] | None = None
    line = 1
    try:
        for record in reader:
            end = reader.line_num
            spans = [k for k, f in enumerate(record) if "\n" in f or "\r" in f]
            if end > line or spans:
                raise _open_quote(name, line, end, spans[0] if spans else len(record) - 1, header)
            records.append((line, record))
            if header is None and any(_text(c) for c in record):
                header = record
            line = end + 1
    except csv.Error as exc:
        raise DataError(
            f"cannot read line {reader.line_num} as part of a table ({exc})",
            file=name, row=reader.line_num,
            fix="check the quotes in that line, or save the file again as CSV",
        ) from exc
    return _finish(name, records, kind="text", delimiter=delimiter, n_lines=reader.line_num)


def _open_quote(name: str, line: int, end: int, k: int, header: list[str] | None) -> DataError:
    """A quoted cell spanning lines: a stray quote swallowed the following lines."""
    column = f"column {_letter(k)}"
    if header is not None and k < len(header) and _strip(header[k]):
        column = _strip(header[k])
    swallowed = f"lines {line}-{end} would be read as one cell" if end > line else "the quote is never closed"
    return DataError(
        f"a quote (\") opens a cell in line {line} and does not close on that line: {swallowed}, and the rows "
        "after it would be lost or shifted",
        file=name, row=line, column=column,
        fix="remove the stray quote character from that cell (or close it on the same line); "
            "a cell cannot hold a line break",
    )


def _pick_sheet(names: list[str], sheet: str | int | None, name: str) -> int:
    listing = ", ".join(f"{k}: {n!r}" for k, n in enumerate(names))
    if sheet is None:
        return 0
    if isinstance(sheet, (int, np.integer)) and not isinstance(sheet, bool):
        if 0 <= int(sheet) < len(names):
            return int(sheet)
    else:
        wanted = str(sheet)
        for test in (lambda n: n == wanted, lambda n: n.strip().casefold() == wanted.strip().casefold()):
            hits = [k for k, n in enumerate(names) if test(n)]
            if hits:
                return hits[0]
        if wanted.strip().isdigit() and int(wanted) < len(names):
            return int(wanted)
    raise DataError(
        f"the workbook has no sheet {sheet!r}; its sheets are {listing}",
        file=name,
        fix="choose a sheet by name or position (from 0) with --sheet",
    )


def _data_sheet(counts: list[tuple[str, int, bool]], name: str) -> int:
    """The one sheet holding data (two or more non-blank rows) when none is chosen.

    ``counts``: (title, non-blank rows, hidden) per sheet. Several sheets with data: an error
    listing them; none: the first sheet.
    """
    data = [k for k, (_, n, _) in enumerate(counts) if n >= 2]
    if len(data) > 1:
        listing = ", ".join(
            f"{k}: {counts[k][0]!r} ({counts[k][1]} rows{', hidden' if counts[k][2] else ''})" for k in data
        )
        raise DataError(
            f"the workbook has {len(data)} sheets holding data ({listing}) and no sheet was chosen",
            file=name,
            fix=f"choose the sheet with --sheet NAME or --sheet POSITION (sheet= in Python), e.g. --sheet {counts[data[0]][0]!r}",
        )
    return data[0] if data else 0


def _uncached_formulas(path: Path, title: str) -> list[str] | None:
    """Cells of sheet ``title`` holding a formula without a stored (cached) value; None if unknown.

    Read from the workbook's XML: a ``<c>`` with an ``<f>`` and no ``<v>`` (or an empty one
    that is not a text result; a formula giving "" stores an empty text value).
    """
    try:
        with zipfile.ZipFile(path) as z:
            book = _xml(z.read("xl/workbook.xml"))
            rid = next(
                (_attr(el, "id") for el in book.iter() if el.tag.endswith("}sheet") and el.get("name") == title), None
            )
            rels = _xml(z.read("xl/_rels/workbook.xml.rels"))
            target = next((el.get("Target") for el in rels.iter() if el.get("Id") == rid), None)
            if rid is None or target is None:
                return None
            member = target.lstrip("/") if target.startswith("/") else "xl/" + target
            out = []
            import xml.etree.ElementTree as ET  # noqa: PLC0415

            with z.open(member) as fh:
                for _, el in ET.iterparse(fh):
                    if not el.tag.endswith("}c"):
                        continue
                    f = next((c for c in el if c.tag.endswith("}f")), None)
                    if f is not None:
                        v = next((c for c in el if c.tag.endswith("}v")), None)
                        is_ = next((c for c in el if c.tag.endswith("}is")), None)
                        if is_ is None and (v is None or (v.text is None and el.get("t") not in ("str", "s"))):
                            out.append(el.get("r") or "?")
                    el.clear()
            return out
    except (KeyError, zipfile.BadZipFile, OSError, ValueError, SyntaxError):
        return None


def _xml(data: bytes):
    import xml.etree.ElementTree as ET  # noqa: PLC0415

    return ET.fromstring(data)


def _attr(el, local: str) -> str | None:
    return next((v for k, v in el.attrib.items() if k.endswith("}" + local)), None)


def _read_xlsx(path: Path, name: str, sheet: str | int | None, *, misnamed: str = "") -> _Table:
    import openpyxl  # noqa: PLC0415  (optional at import time)

    try:  # from the bytes: openpyxl refuses a path whose extension is not an Excel one
        wb = openpyxl.load_workbook(io.BytesIO(path.read_bytes()) if misnamed else path, data_only=True)
    except Exception as exc:  # openpyxl raises many types on a broken file
        if misnamed:
            raise DataError(
                f"the file is {_WHAT['zip']}, not a {misnamed} text file, and cannot be read as an Excel workbook",
                file=name,
                fix="open it in Excel or LibreOffice and save it as .xlsx or .csv",
            ) from exc
        raise DataError(
            f"cannot read the file as an Excel workbook ({type(exc).__name__})",
            file=name,
            fix="open it in Excel and save it again as .xlsx, or save it as .csv",
        ) from exc
    try:
        names = [w.title for w in wb.worksheets]
        if sheet is None:
            counts = [
                (w.title, sum(1 for r in w.iter_rows(values_only=True) if any(_text(c) for c in r)),
                 w.sheet_state != "visible")
                for w in wb.worksheets
            ]
            k = _data_sheet(counts, name)
        else:
            k = _pick_sheet(names, sheet, name)
        ws = wb.worksheets[k]
        max_row, max_col = ws.max_row, ws.max_column
        grid = [list(r) for r in ws.iter_rows(min_row=1, max_row=max_row, min_col=1, max_col=max_col, values_only=True)]
        for rng in ws.merged_cells.ranges:  # a merged label applies to every cell it covers
            top = grid[rng.min_row - 1][rng.min_col - 1]
            for r in range(rng.min_row, min(rng.max_row, max_row) + 1):
                for c in range(rng.min_col, min(rng.max_col, max_col) + 1):
                    grid[r - 1][c - 1] = top
        title = ws.title
    finally:
        wb.close()
    uncached = _uncached_formulas(path, title)
    if uncached is None:  # the XML was not as expected: ask openpyxl which cells are formulas
        uncached = _uncached_by_openpyxl(path, k, grid)
    if uncached:
        first = uncached[0]
        letters = re.match(r"[A-Z]+", first)
        column = None
        if letters:  # the header's name of the first cell's column, else its letter
            from openpyxl.utils import column_index_from_string  # noqa: PLC0415

            head = next((r for r in grid if any(_text(c) for c in r)), [])
            ci = column_index_from_string(letters.group(0)) - 1
            column = _text(head[ci]) if ci < len(head) and _text(head[ci]) else f"column {letters.group(0)}"
        shown = ", ".join(uncached[:12]) + (f" and {len(uncached) - 12} more" if len(uncached) > 12 else "")
        row = int(re.sub(r"\D", "", first) or 0) or None
        raise DataError(
            f"{len(uncached)} formula cell{'s' if len(uncached) > 1 else ''} of the sheet {title!r} "
            f"{'have' if len(uncached) > 1 else 'has'} no stored value ({shown}): the workbook was saved by a "
            "program that does not calculate formulas, so the values are not in the file",
            file=name, row=row, column=column,
            fix="open and save the workbook in Excel (or LibreOffice) so that it stores the values, "
                "or paste the cells as values",
        )
    try:
        return _finish(name, [(k + 1, r) for k, r in enumerate(grid)], kind="excel", n_lines=max_row)
    except DataError as exc:
        raise DataError(
            f"the sheet {title!r} is empty", file=name, fix="choose the sheet with the data with --sheet"
        ) from exc


def _uncached_by_openpyxl(path: Path, k: int, grid: list[list[object]]) -> list[str]:
    """Formula cells (openpyxl without ``data_only``) whose cached value is None."""
    import openpyxl  # noqa: PLC0415
    from openpyxl.utils import get_column_letter  # noqa: PLC0415

    wb = openpyxl.load_workbook(io.BytesIO(path.read_bytes()), data_only=False, read_only=True)
    try:
        out = []
        for r, row in enumerate(wb.worksheets[k].iter_rows(), start=1):
            for cell in row:
                if getattr(cell, "data_type", None) != "f":
                    continue
                c = cell.column
                cached = grid[r - 1][c - 1] if r <= len(grid) and c <= len(grid[r - 1]) else None
                if cached is None:
                    out.append(f"{get_column_letter(c)}{r}")
        return out
    finally:
        wb.close()


def _read_xls(path: Path, name: str, sheet: str | int | None) -> _Table:
    try:
        import xlrd  # noqa: F401, PLC0415
    except ImportError as exc:
        raise DataError(
            "old Excel files (.xls) need the xlrd package, which is not installed",
            file=name,
            fix="save the sheet as .xlsx or .csv",
        ) from exc
    book = pd.ExcelFile(path, engine="xlrd")
    names = list(book.sheet_names)
    raws = {k: pd.read_excel(book, sheet_name=k, header=None, dtype=object, na_filter=False) for k in range(len(names))}
    if sheet is None:
        counts = [(n, sum(1 for r in raws[k].itertuples(index=False) if any(_text(c) for c in r)), False)
                  for k, n in enumerate(names)]
        k = _data_sheet(counts, name)
    else:
        k = _pick_sheet(names, sheet, name)
    raw = raws[k]
    return _finish(name, [(i + 1, list(r)) for i, r in enumerate(raw.itertuples(index=False))], kind="excel",
                   n_lines=len(raw))


def read_table(
    source: str | Path | pd.DataFrame,
    *,
    sheet: str | int | None = None,
    decimal: str | None = None,
    thousands: str | None = None,
) -> tuple[pd.DataFrame, list[int]]:
    """Read a sheet's raw cells.

    Parameters
    ----------
    source : str, Path or pandas.DataFrame
        A .csv / .tsv / .txt (delimiter sniffed) or .xlsx file, or a DataFrame.
    sheet : str or int, optional
        Excel sheet name or position (from 0). Without it, the one sheet holding data
        (a workbook with several is an error listing them).
    decimal : {".", ","}, optional
        Decimal separator of the numbers written in the sheet (CLI ``--decimal``):
        ``","`` reads ``12,5`` as 12.5. Default ``"."``.
    thousands : {".", ",", "'", " "}, optional
        Thousands separator (CLI ``--thousands``): ``"."`` reads ``1.810`` as 1810 (and makes
        ``","`` the decimal separator unless ``decimal`` is given); ``" "`` also accepts
        no-break and thin spaces. Default none.

    Returns
    -------
    frame : pandas.DataFrame
        The cells (text for CSV, Excel's values otherwise; object dtype), columns named by
        the header row (names may repeat). Blank rows after the last data row are dropped.
        With ``decimal`` or ``thousands`` given, text cells that are numbers written that
        way are floats.
    rows : list of int
        Spreadsheet row number of each frame row: the file's line number (Excel's row).
    """
    fmt = _number_format(decimal, thousands)
    table = _load(source, sheet=sheet, fmt=fmt)
    cells = table.cells
    if fmt.given:
        cells = [[_as_number(c, fmt) for c in row] for row in cells]
    frame = pd.DataFrame(cells, columns=table.header, dtype=object)
    return frame, list(table.rows)


# -------------------------------------------------------------------- cell parsing

#: Digits with separators only: a number, but not in the format given.
_NUMBER_LIKE = re.compile("[+-]?[0-9][0-9.,'\\s]*")
#: A number written with a thousands separator ("1.810.000", "1 810", "1'810").
_GROUPED_LIKE = re.compile("[+-]?[0-9]{1,3}(?:[.,'\\s][0-9]{3})+(?:[.,][0-9]+)?")


def _number_regex(fmt: _NumberFormat) -> re.Pattern[str]:
    d = re.escape(fmt.decimal)
    if fmt.thousands:
        t = f"[{_SPACES}]" if fmt.thousands == " " else re.escape(fmt.thousands)
        intpart = rf"(?:[0-9]{{1,3}}(?:{t}[0-9]{{3}})+|[0-9]+)"
    else:
        intpart = "[0-9]+"
    return re.compile(rf"(?P<sign>[+-]?)(?P<int>{intpart})?(?:{d}(?P<frac>[0-9]*))?(?P<exp>[eE][+-]?[0-9]+)?")


def _canonical(m: re.Match[str]) -> str:
    """The number matched by :func:`_number_regex`, written with a decimal point ('' if no digits)."""
    intpart = re.sub(r"[^0-9]", "", m.group("int") or "")
    frac = m.group("frac")
    if not intpart and not frac:
        return m.group(0) if not (m.group("int") or frac) else ""
    out = m.group("sign") + (intpart or "0")
    if frac is not None:
        out += "." + (frac or "0")
    return out + (m.group("exp") or "")


def _parse_number(text: str, fmt: _NumberFormat | None) -> float | None:
    """The number in ``text`` (whole cell) in the format given, None if it is not one."""
    if fmt is None or not fmt.given:
        return float(text) if _NUMBER.fullmatch(text) else None
    m = _number_regex(fmt).fullmatch(text)
    if not m or not (m.group("int") or m.group("frac")):
        return None
    return float(_canonical(m))


def _canon_numbers(text: str, fmt: _NumberFormat | None) -> str:
    """``text`` with each number in the user's format rewritten with a decimal point."""
    if fmt is None or not fmt.given:
        return text
    return _number_regex(fmt).sub(lambda m: _canonical(m) if m.group(0) else "", text)


def _as_number(cell: object, fmt: _NumberFormat) -> object:
    if not isinstance(cell, str):
        return cell
    x = _parse_number(_text(cell).replace("\u2212", "-"), fmt)
    return cell if x is None else x


def _classify(cell: object, fmt: _NumberFormat | None = None) -> tuple[str, float]:
    """(kind, x): kind 'number' (x), 'missing', 'below' (limit or nan), 'comma' (a decimal comma
    without ``decimal=","``), 'dash' (an en dash or hyphen for a minus), 'format' (digits that do
    not fit the ``decimal`` / ``thousands`` given) or 'bad'; x is nan but for numbers and limits."""
    if isinstance(cell, (bool, np.bool_)):
        return "bad", math.nan
    if isinstance(cell, (int, float, np.integer, np.floating)):
        x = float(cell)
        if math.isnan(x):
            return "missing", math.nan
        return ("number", x) if math.isfinite(x) else ("bad", math.nan)
    text = _text(cell).replace("\u2212", "-")
    if text.casefold() in MISSING_TOKENS:
        return "missing", math.nan
    x = _parse_number(text, fmt)
    if x is not None:
        return ("number", x) if math.isfinite(x) else ("bad", math.nan)
    if text[:1] in _DASHES and _parse_number("-" + text[1:], fmt) is not None:
        return "dash", math.nan
    match = _BELOW.fullmatch(_canon_numbers(text, fmt))
    if match:
        num = match.group("num")
        limit = float(num) if num else math.nan
        return ("below", limit) if math.isnan(limit) or math.isfinite(limit) else ("bad", math.nan)
    if fmt is not None and fmt.given and _NUMBER_LIKE.fullmatch(text):
        return "format", math.nan
    if _DECIMAL_COMMA.search(text):
        return "comma", math.nan
    return "bad", math.nan


def _parse_time(cell: object, fmt: _NumberFormat | None = None) -> tuple[float, str] | None:
    """A time from a number, optionally with a unit ('2', '2 h', '2h', 'Day 2'); None if not."""
    if isinstance(cell, (bool, np.bool_)):
        return None
    if isinstance(cell, (int, float, np.integer, np.floating)):
        x = float(cell)
        return (x, "") if math.isfinite(x) else None
    text = _canon_numbers(_text(cell).replace("\u2212", "-"), fmt)
    m = _TIME_SUFFIX.fullmatch(text) or _TIME_PREFIX.fullmatch(text)
    if not m:
        return None
    unit = (m.group("unit") or "").casefold()
    if unit and unit not in _TIME_UNITS:
        if unit.rstrip("s") not in _TIME_UNITS:
            return None
        unit = unit.rstrip("s")
    x = float(m.group("num"))
    return (x, _TIME_UNITS.get(unit, "")) if math.isfinite(x) else None


def _near_time(text: str) -> str | None:
    """What makes ``text`` almost a time ("1,5 h": a decimal comma; "\u20131": a dash for a minus)."""
    if _DECIMAL_COMMA.search(text) and _parse_time(text.replace(",", ".")) is not None:
        return "a decimal comma"
    if any(c in text for c in _DASHES) and _parse_time(text.translate({ord(c): "-" for c in _DASHES})) is not None:
        return "a dash that is not a minus sign"
    cleaned = re.sub(f"[{_INVISIBLE}\\u00a0\\u202f]", "", text)
    if cleaned != text and _parse_time(cleaned) is not None:
        return "an invisible character or a no-break space"
    return None


def _number_error(
    table: _Table, row: int, column: str, cell: object, kind: str, *, below_ok: bool
) -> DataError:
    text = _text(cell)
    shown = _show(text)
    if kind == "comma":
        return DataError(
            f"{shown} has a comma in the number",
            file=table.source, row=row, column=column,
            fix="use a decimal point and no thousands separator (12.5, not 12,5), or say how the sheet writes "
                "numbers: --decimal , (decimal=',') for decimal commas, --thousands , (thousands=',') for 1,810",
        )
    if kind == "dash":
        return DataError(
            f"{shown} starts with a dash that is not a minus sign ({_show(text[0])})",
            file=table.source, row=row, column=column,
            fix="type the minus with the '-' key (a word processor turns it into a dash)",
        )
    if kind == "format":
        return DataError(
            f"{shown} is not a number written with {table.fmt.describe()}",
            file=table.source, row=row, column=column,
            fix="correct the cell, or the --decimal / --thousands options (decimal= / thousands=)",
        )
    if kind == "below" and not below_ok:
        return DataError(
            f"expected a number, found the below-limit value {shown}",
            file=table.source, row=row, column=column,
            fix="enter the measured number; below-limit values are read only for time courses",
        )
    hint = ", or <LLOQ for a value below the assay's limit" if below_ok else ""
    if _GROUPED_LIKE.fullmatch(text) and not table.fmt.given:
        sep = next(c for c in text if not c.isdigit() and c not in "+-")
        hint += (f"; if {shown} is a number with a thousands separator, say so with --thousands "
                 f"{_show(sep if sep not in _SPACES else ' ')} (thousands= in Python)")
    return DataError(
        f"expected a number, found {shown}",
        file=table.source, row=row, column=column,
        fix=f"enter a number (no units or notes), leave the cell empty or write NA for a missing value{hint}",
    )


def _timecourse_value(
    table: _Table, row: int, column: str, cell: object, *, lloq: float | None, log_scale: bool
) -> tuple[float, bool, float] | None:
    """(value, censored, limit) of a time-course cell, None when missing."""
    kind, x = _classify(cell, table.fmt)
    if kind == "missing":
        return None
    if kind == "below":
        if math.isnan(x):
            if lloq is None:
                raise DataError(
                    f"{_show(_text(cell))} is below the assay's limit but the limit is not known",
                    file=table.source, row=row, column=column,
                    fix="pass --lloq VALUE (the lower limit of quantification), or write the limit in the cell, e.g. <1.5",
                )
            x = float(lloq)
        if log_scale and x <= 0:
            raise DataError(
                f"the detection limit {x:g} is not positive, so it has no logarithm",
                file=table.source, row=row, column=column,
                fix="use --scale identity or check the units and the limit",
            )
        return x, True, x
    if kind != "number":
        raise _number_error(table, row, column, cell, kind, below_ok=True)
    if log_scale and x <= 0:
        raise DataError(
            f"the value {x:g} is not positive, so it has no logarithm",
            file=table.source, row=row, column=column,
            fix="use --scale identity or check the units (a concentration must be above zero on a log scale)",
        )
    return x, False, math.nan


def _flag(table: _Table, row: int, column: str, cell: object, *, event: bool = False) -> bool:
    """A 1/0 flag (also yes/no, y/n, true/false); ``event``: the column is an event indicator."""
    text = _text(cell).casefold()
    if text in _FLAG_TRUE:
        return True
    if text in _FLAG_FALSE:
        return False
    kind, x = _classify(cell)
    if kind == "number" and x in (0.0, 1.0):
        return bool(x)
    what = "event column (--event)" if event else "censoring column (--censored)"
    found = "the cell is blank" if not _text(cell) else f"found {_show(_text(cell))}"
    fix = ("write 1 when the event happened (e.g. the mouse ate) and 0 when the test ended before it (censored)"
           if event else "write 1 when the test ended before the event (censored), 0 otherwise")
    raise DataError(
        f"expected 1/0, yes/no, y/n or true/false in the {what}, {found}",
        file=table.source, row=row, column=column, fix=fix,
    )


# --------------------------------------------------------------- columns and where


def _norm(name: str) -> str:
    return " ".join(re.sub(f"[{_INVISIBLE}]", "", str(name)).split()).casefold()


def _header_hint(table: _Table, names: Sequence[str]) -> tuple[int, str] | None:
    """(line, its cells) of a row below the header holding one of ``names`` as a cell: the real header."""
    keys = {_norm(n) for n in names if _norm(n)}
    for rownum, cells in zip(table.rows[:60], table.cells[:60], strict=False):
        texts = [_header_text(c) for c in cells]
        if any(_norm(t) in keys for t in texts):
            return rownum, ", ".join(_show(_strip(t)) for t in texts if _strip(t))
    return None


def _resolve(table: _Table, name: str, *, option: str) -> int:
    """Index of the column called ``name`` (exact, then case/space-insensitive)."""
    hits = [i for i, h in enumerate(table.header) if h == name]
    if not hits:
        hits = [i for i, h in enumerate(table.header) if _norm(h) == _norm(name)]
    if len(hits) == 1:
        return hits[0]
    if hits:
        raise DataError(
            f"{len(hits)} columns are named {name!r} (columns "
            + ", ".join(_letter(i) for i in hits) + ")",
            file=table.source, row=table.header_row, column=name,
            fix="rename the columns so that each name is used once",
        )
    named = [h for h in table.header if h.strip()]
    key = re.sub(r"\W+", "", name.casefold())
    close = [h for h in named if key and key in re.sub(r"\W+", "", h.casefold())]
    close = close or difflib.get_close_matches(name, named, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    fix = f"choose one of the columns: {table.listing()}"
    found = _header_hint(table, [name])
    if found is not None:
        line, cells = found
        word = table.line_word
        raise DataError(
            f"there is no column {name!r} for {option} in the header, {word} {table.header_row} ({table.listing()}); "
            f"the header seems to be on {word} {line}: {cells}",
            file=table.source, row=table.header_row, column=name,
            fix=f"delete the title rows above {word} {line}, so that the column names are the first non-blank {word}",
        )
    if len(named) < 2:
        fix += f" (the header was read from row {table.header_row}: delete any title rows above the column names)"
    raise DataError(
        f"there is no column {name!r} for {option}{hint}",
        file=table.source, row=table.header_row, column=name, fix=fix,
    )


def _distinct(table: _Table, roles: Mapping[str, int | None]) -> None:
    seen: dict[int, str] = {}
    for option, idx in roles.items():
        if idx is None:
            continue
        if idx in seen:
            raise DataError(
                f"the same column is given for {seen[idx]} and {option}",
                file=table.source, row=table.header_row, column=table.label(idx),
                fix="give each role its own column",
            )
        seen[idx] = option


def parse_where(where: Sequence[str]) -> dict[str, list[str]]:
    """Parse ``COLUMN=VALUE`` filters.

    Parameters
    ----------
    where : sequence of str
        Filters; the same column repeated means OR, different columns mean AND.

    Returns
    -------
    dict of str to list of str
        Column -> accepted values, in the order given.
    """
    if isinstance(where, str):
        where = [where]
    out: dict[str, list[str]] = {}
    for item in where:
        text = str(item)
        column, sep, value = text.partition("=")
        column, value = column.strip(), value.strip()
        if not sep or not column:
            raise DataError(
                f"cannot read the filter --where {text!r}",
                fix="write --where COLUMN=VALUE, e.g. --where Group=Stress",
            )
        values = out.setdefault(column, [])
        if value not in values:
            values.append(value)
    return out


def _summary_row(
    table: _Table,
    cells: list[object],
    texts: list[str],
    *,
    id_cols: Sequence[int],
    label_cols: Sequence[int],
    used_cols: Sequence[int],
) -> str | None:
    """The summary label of a row ('average', 'avg (n=7)', 'mean ± sem', ...) or None.

    ``id_cols``: the animal-ID column (the time column of a Prism table), where any summary
    label counts; ``label_cols``: group / factor / cohort / time columns, where only a label
    that is never a level name counts, and only when the ID is blank. A row with an ID that
    is not a summary label is an animal's row. Without an ID, the row's first text cell counts
    too when it is in none of the ``used_cols`` (e.g. 'average' in an animal column not read).
    """
    ids = [i for i in id_cols if texts[i]]
    for i in ids:
        label = _summary_label(texts[i], weak=True, phrase=True)
        if label:
            return label
    if ids:
        return None
    for i in label_cols:
        if texts[i]:
            label = _summary_label(texts[i], weak=False, phrase=False)
            if label:
                return label
    for i, (cell, text) in enumerate(zip(cells, texts, strict=True)):
        if text and _classify(cell, table.fmt)[0] != "number":  # the row's first text cell
            return None if i in used_cols else _summary_label(text, weak=True, phrase=True)
    return None


def _screen(
    table: _Table,
    *,
    id_cols: Sequence[int],
    label_cols: Sequence[int],
    used_cols: Sequence[int],
    where: Sequence[str],
) -> list[str | None]:
    """Reason each data row is left out before reading (None = read it); see :func:`_summary_row`."""
    conds: dict[int, tuple[str, list[str]]] = {}
    for column, values in parse_where(where).items():
        idx = _resolve(table, column, option="--where")
        shown, old = conds.get(idx, (column, []))
        conds[idx] = (shown, old + [v for v in values if v not in old])
    texts = [[_text(c) for c in cells] for cells in table.cells]
    reasons: list[str | None] = []
    for cells, txt in zip(table.cells, texts, strict=True):
        if not any(txt):
            reasons.append("blank row")
            continue
        word = _summary_row(table, cells, txt, id_cols=id_cols, label_cols=label_cols, used_cols=used_cols)
        if word:
            reasons.append(f"summary row ({word})")
        elif not any(txt[i] for i in used_cols):
            reasons.append("no data in the columns used")
        else:
            reasons.append(None)
    base = [k for k, r in enumerate(reasons) if r is None]
    for idx, (shown, values) in conds.items():
        present = list(dict.fromkeys(texts[k][idx] for k in base))
        matched: set[str] = set()
        for value in values:
            hits = [p for p in present if p == value] or [p for p in present if p.casefold() == value.casefold()]
            if not hits:
                listing = ", ".join(_show(p) if p else "(blank)" for p in present[:30])
                raise DataError(
                    f"no row has {shown}={value}",
                    file=table.source, column=table.label(idx),
                    fix=f"choose one of the values in {table.label(idx)!r}: {listing}",
                )
            matched.update(hits)
        reason = "filtered out by --where " + " or ".join(f"{shown}={v}" for v in values)
        for k in base:
            if reasons[k] is None and texts[k][idx] not in matched:
                reasons[k] = reason
    return reasons


def _no_data_left(table: _Table, entries: list[tuple[int, str, str, str]]) -> DataError:
    if not table.rows:
        return DataError(
            "the sheet has a header row but no data rows",
            file=table.source, row=table.header_row,
            fix="check that this is the right file (and --sheet)",
        )
    counts: dict[str, int] = {}
    for _, _, reason, _ in entries:
        counts[reason] = counts.get(reason, 0) + 1
    detail = "; ".join(f"{r}: {n}" for r, n in counts.items())
    return DataError(
        f"no data rows left: all {len(entries)} rows read were excluded ({detail})",
        file=table.source,
        fix="check --where, the column names and the file",
    )


def _order_levels(
    table: _Table, levels: list[str], reference: str | None, *, column: str, option: str
) -> tuple[list[str], str]:
    """The levels, reference first, and how the reference was chosen.

    ``levels`` are in order of first appearance. A given reference goes first and the others
    keep that order; without one, :func:`_default_order` decides.
    """
    if reference is None:
        return _default_order(levels)
    ref = str(reference).strip()
    hits = [lv for lv in levels if lv == ref] or [lv for lv in levels if lv.casefold() == ref.casefold()]
    if not hits:
        raise DataError(
            f"the reference level {ref!r} is not a level of {column!r}",
            file=table.source, column=column,
            fix=f"use {option} with one of the levels: " + ", ".join(_show(lv) for lv in levels),
        )
    return [hits[0]] + [lv for lv in levels if lv != hits[0]], RULE_GIVEN


def _natural_key(text: str) -> tuple:
    """Sort key: case-insensitive, numbers by value ("dose 2" < "dose 10"), then the text itself."""
    key = []
    for k, part in enumerate(re.split(r"([0-9]+(?:\.[0-9]+)?)", text.casefold())):
        if k % 2:
            key.append((0, float(part), ""))
        elif part:
            key.append((1, 0.0, part))
    return tuple(key), text


def _is_control_text(level: str) -> bool:
    """True when the whole level is a control name ("saline", "Control IgG", "0 mg/kg")."""
    if _ZERO_LEVEL.fullmatch(level):
        return True
    return not _SEPARATORS.sub("", _CONTROL.sub(" ", level))


def _default_order(levels: list[str]) -> tuple[list[str], str]:
    """Reference first when the user names none, and the rule that chose it.

    (a) The one level named like a control (a whole word of ``_CONTROL_WORDS``, any case, or
        a zero dose) is the reference; the others keep their order of first appearance (the
        lab's own order, e.g. saline, ketamine 10, ketamine 30). When several levels are
        named like a control, the one that is nothing but a control name wins ("saline"
        over "ketamine in saline"); if that leaves none or several, (b) / (c) decide.
    (b) When every level is a number with the same unit (or none), the lowest is the
        reference and the levels are in ascending order.
    (c) Otherwise the levels are in natural sorted order (case-insensitive, numbers by
        value) and the first is the reference.

    Before these: levels ``+`` and ``-`` put ``-`` (without) first; genotypes written
    ``+/+``, ``+/-``, ``-/-`` put ``+/+`` (wild type) first, in that order.
    """
    if set(levels) == {"+", "-"}:
        return ["-", "+"], "named like a control (-, without)"
    zygosity = ["+/+", "+/-", "-/+", "-/-"]
    if "+/+" in levels and set(levels) <= set(zygosity):
        return [z for z in zygosity if z in levels], "named like a control (+/+, wild type)"
    named = [lv for lv in levels if _CONTROL.search(lv)]
    if len(named) > 1:
        whole = [lv for lv in named if _is_control_text(lv)]
        chosen = whole if len(whole) == 1 else []
    else:
        chosen = named
    if chosen:
        ref = chosen[0]
        return [ref] + [lv for lv in levels if lv != ref], f"named like a control ({_CONTROL.search(ref).group(0)})"
    note = ""
    if named:
        note = " (several levels are named like a control: " + ", ".join(repr(lv) for lv in named) + ")"
    numbers = [_LEVEL_NUMBER.fullmatch(lv) for lv in levels]
    if all(numbers) and len({" ".join(m.group("unit").split()).casefold() for m in numbers}) == 1:
        value = {lv: float(m.group("num")) for lv, m in zip(levels, numbers, strict=True)}
        return sorted(levels, key=lambda lv: (value[lv], _natural_key(lv))), "lowest number" + note
    return sorted(levels, key=_natural_key), "first in sorted order" + note


def _check_levels(table: _Table, levels: list[str], *, column: str) -> None:
    if len(levels) < 2:
        raise DataError(
            f"{column!r} has a single level ({_show(levels[0])}) in the rows used",
            file=table.source, column=column,
            fix="a comparison needs at least 2 levels: check --where and the column",
        )


# ------------------------------------------------------------- checks on the rows read

#: A number with a point and groups of three digits after it ("1.810", "12.345", "1.234.567").
_POINT_THOUSANDS = re.compile(r"[+-]?[1-9][0-9]{0,2}(?:\.[0-9]{3})+")
_WHOLE = re.compile(r"[+-]?[0-9]+")
#: A decimal comma that is not a group of three ("12,5", "0,25", "3,1416"; not "1,810").
_COMMA_DECIMAL = re.compile(r"[+-]?[0-9]*,(?:[0-9]{1,2}|[0-9]{4,})")


def _check_separators(table: _Table, groups: Sequence[Sequence[int]], reasons: Sequence[str | None]) -> None:
    """Stop when a numeric column mixes '1.810' with whole numbers or decimal commas in a
    ';'-separated file or one with decimal commas (thousands separator or decimal point?).

    ``groups``: the columns read as one measure (one column, or the value columns of a wide
    sheet). Skipped when the user said how numbers are written (``decimal=`` / ``thousands=``).
    """
    if table.fmt.given:
        return
    texts = [[_text(c) if isinstance(c, str) else "" for c in cells] for cells in table.cells]
    commas = [(r, i) for r, row in zip(table.rows, texts, strict=True) for i, t in enumerate(row)
              if _COMMA_DECIMAL.fullmatch(t)]
    if table.delimiter != ";" and not commas:
        return
    why = "the file is separated by ';'" if table.delimiter == ";" else (
        f"the file writes decimal commas (e.g. {_show(texts[table.rows.index(commas[0][0])][commas[0][1]])} "
        f"in row {commas[0][0]})"
    )
    for cols in groups:
        dotted, plain = [], []
        for rownum, row, reason in zip(table.rows, texts, reasons, strict=True):
            if reason:
                continue
            for i in cols:
                t = row[i]
                if _POINT_THOUSANDS.fullmatch(t):
                    dotted.append((rownum, i, t))
                elif _WHOLE.fullmatch(t) or _COMMA_DECIMAL.fullmatch(t):
                    plain.append((rownum, i, t))
        if not dotted or not plain:
            continue
        r0, i0, t0 = dotted[0]
        r1, _, t1 = plain[0]
        as_thousands = t0.replace(".", "")
        cells = ", ".join(f"{_show(t)} (row {r}{'' if len(cols) == 1 else ', ' + table.label(i)})" for r, i, t in dotted[:8])
        more = f" and {len(dotted) - 8} more" if len(dotted) > 8 else ""
        raise DataError(
            f"the numbers in {table.label(i0)!r} are written in two ways: {cells}{more} have a point and three "
            f"digits after it, beside {_show(t1)} (row {r1}); as {why}, the point in {_show(t0)} is probably a "
            f"thousands separator ({as_thousands}), not a decimal point ({float(t0):g})",
            file=table.source, row=r0, column=table.label(i0),
            fix="say how the sheet writes numbers: --thousands . --decimal , (thousands='.', decimal=',' in Python) "
                f"reads {_show(t0)} as {as_thousands}; --decimal . (decimal='.') reads it as {float(t0):g}",
        )


def _check_duplicate_rows(table: _Table, reasons: Sequence[str | None], *, what: str) -> None:
    """A row repeated cell for cell among the rows read (not left out): a pasted duplicate."""
    first: dict[tuple[str, ...], int] = {}
    for rownum, cells, reason in zip(table.rows, table.cells, reasons, strict=True):
        if reason:
            continue
        key = tuple(_text(c) for c in cells)
        if key in first:
            raise DataError(
                f"row {rownum} repeats row {first[key]} cell for cell ({what}), like a pasted duplicate",
                file=table.source, row=rownum,
                fix=f"delete one of rows {first[key]} and {rownum}; if they really are two measurements, "
                    "correct the animal ID or the time, or add a column that tells them apart (e.g. minute or trial)",
            )
        first[key] = rownum


def _check_lookalikes(
    table: _Table, values: Mapping[str, int], *, column: str, what: str, fold_case: bool
) -> None:
    """Two values (levels, IDs) that look the same but differ (look-alike or invisible
    characters; in case too with ``fold_case``). ``values``: value -> first row."""
    seen: dict[str, tuple[str, int]] = {}
    for value, row in values.items():
        key = _skeleton(value, fold_case=fold_case)
        if key in seen and seen[key][0] != value:
            v0, r0 = seen[key]
            how = ("only in upper / lower case" if v0.casefold() == value.casefold()
                   else "in invisible or look-alike characters (shown escaped)")
            raise DataError(
                f"the {what} {_show(v0)} (row {r0}) and {_show(value)} (row {row}) look the same but differ {how}, "
                f"so they would be read as two {what}s",
                file=table.source, row=row, column=column,
                fix=f"retype the cell so that it is written exactly like the other (one {what})",
            )
        seen.setdefault(key, (value, row))


def _plus_minus_columns(table: _Table, reasons: Sequence[str | None], cols: Sequence[int]) -> set[int]:
    """Columns (among ``cols``) where some row read has '+': there '-' is a level, not a missing value."""
    out = set()
    for i in cols:
        if any(not r and _text(cells[i]) == "+" for cells, r in zip(table.cells, reasons, strict=True)):
            out.add(i)
    return out


def _first_rows(obs: Iterable[tuple], pos: int) -> dict[str, int]:
    """Value at position ``pos`` of each observation -> the first row it appears in."""
    out: dict[str, int] = {}
    for o in obs:
        out.setdefault(o[pos], o[0])
    return out


# ----------------------------------------------------------------------- time course


def _group_roles(group: Sequence[str], igs: Sequence[int]) -> dict[str, int]:
    """The --group option(s) -> column index (``--group`` alone for one group column)."""
    if len(igs) == 1:
        return {"--group": igs[0]}
    return {f"--group {g}": i for g, i in zip(group, igs, strict=True)}


def _group_cells(table: _Table, rownum: int, cells: list[object], group: Sequence[str], igs: Sequence[int],
                 pm: set[int]) -> str | tuple[str, ...]:
    """The row's group: its level (one group column) or the tuple of its levels (several)."""
    if len(igs) == 1:
        return _required_text(table, rownum, cells, igs[0], "group", dash_level=igs[0] in pm)
    return tuple(_required_text(table, rownum, cells, i, f"{g!r} level", dash_level=i in pm)
                 for g, i in zip(group, igs, strict=True))


def _group_columns(table: _Table, group: Sequence[str], igs: Sequence[int]) -> dict[str, str]:
    """Sheet.columns entries of the group column(s): ``group`` (one), each group name (several)."""
    if len(igs) == 1:
        return {"group": table.header[igs[0]]}
    return {g: table.header[i] for g, i in zip(group, igs, strict=True)}


def _timecourse_long(table, *, animal, group, time, value, where, lloq, log_scale, time_unit):
    ia = _resolve(table, animal, option="--animal")
    igs = [_resolve(table, g, option="--group") for g in group]
    it = _resolve(table, time, option="--time")
    iv = _resolve(table, value, option="--value")
    _distinct(table, {"--animal": ia, **_group_roles(group, igs), "--time": it, "--value": iv})
    reasons = _screen(table, id_cols=[ia], label_cols=[*igs, it], used_cols=[ia, *igs, it, iv], where=where)
    _check_separators(table, [[iv]], reasons)
    _check_duplicate_rows(table, reasons, what="same animal, time and value")
    pm = _plus_minus_columns(table, reasons, igs)
    entries, obs, units, lost = [], [], {}, []
    for rownum, cells, reason in zip(table.rows, table.cells, reasons, strict=True):
        if reason:
            entries.append((rownum, EXCLUDED, reason, ""))
            continue
        if _classify(cells[iv], table.fmt)[0] == "missing":
            entries.append((rownum, EXCLUDED, "missing value (lost fraction)", ""))
            t = _parse_time(cells[it], table.fmt)
            if t is not None:
                texts = tuple(_text(cells[i]) for i in igs)
                lost.append((rownum, _text(cells[ia]), texts[0] if len(igs) == 1 else texts, t[0]))
            continue
        a = _required_text(table, rownum, cells, ia, "animal ID")
        g = _group_cells(table, rownum, cells, group, igs, pm)
        t = _time_cell(table, rownum, cells[it], table.label(it))
        units.setdefault(t[1], (rownum, table.label(it)))
        parsed = _timecourse_value(table, rownum, table.label(iv), cells[iv], lloq=lloq, log_scale=log_scale)
        obs.append((rownum, a, g, t[0], *parsed))
        entries.append((rownum, USED, "", ""))
    columns = {"animal": table.header[ia], **_group_columns(table, group, igs), "time": table.header[it],
               "value": table.header[iv]}
    unit = _one_unit(table, units, given=time_unit)
    return entries, obs, columns, False, unit, {"group": igs, "time": it, "value": iv, "animal": ia, "lost": lost}


def _check_schedule(table: _Table, obs: list[tuple], lost: list[tuple], *, column: str) -> None:
    """A time (long layout) at which no group has two animals sampled: a typo, or not in the design.

    A group's schedule is the times at which at least two of its animals were sampled, lost
    fractions (a row with the time and no value) included.
    """
    animals: dict[tuple[str, float], set[str]] = {}
    for rownum, a, g, t, *_ in list(obs) + list(lost):
        animals.setdefault((g, t), set()).add(a)
    schedule = {t for (g, t), ids in animals.items() if len(ids) >= 2}
    for rownum, a, g, t, *_ in obs:
        if t in schedule:
            continue
        others = ", ".join(f"{x:g}" for x in sorted(schedule))
        raise DataError(
            f"the time {t:g} (animal {_show(a)}, group {_combo_show(g)}) is in no group's schedule: no group has two "
            f"animals sampled at {t:g} (the times of the design are {others})",
            file=table.source, row=rownum, column=column,
            fix="correct the time (a typo?); a time point needs at least two animals of a group "
                "(write the row with an empty value for a lost fraction)",
        )


def _combo_show(g: str | tuple[str, ...]) -> str:
    """A group (one level) or a combination of group levels (a tuple), for messages."""
    return _show(g) if isinstance(g, str) else "(" + ", ".join(_show(x) for x in g) + ")"


def _required_text(
    table: _Table, rownum: int, cells: list[object], idx: int, what: str, *, dash_level: bool = False
) -> str:
    """The cell's text; blank or a missing token is an error (``dash_level``: '-' is a level)."""
    text = _text(cells[idx])
    if text.casefold() in MISSING_TOKENS and not (dash_level and text == "-"):
        raise DataError(
            f"the {what} is blank in a row with data" if not text else f"the {what} is missing ({_show(text)})",
            file=table.source, row=rownum, column=table.label(idx),
            fix=f"fill in the {what}, or delete the row",
        )
    return text


def _time_cell(table: _Table, rownum: int, cell: object, column: str) -> tuple[float, str]:
    parsed = _parse_time(cell, table.fmt)
    if parsed is None:
        text = _text(cell)
        problem = "the time is blank" if not text else f"expected a time, found {_show(text)}"
        near = _near_time(text) if text else None
        if near:
            problem += f" (a time with {near})"
        fix = "write the time as a number, optionally with a unit (2, 2 h, 30 min)"
        if _DECIMAL_COMMA.search(text):
            fix += " and a decimal point (or pass --decimal , / decimal=',')"
        if near and "dash" in near:
            fix += "; type a minus with the '-' key"
        raise DataError(problem, file=table.source, row=rownum, column=column, fix=fix)
    return parsed


def _time_unit_option(time_unit: str | None) -> str:
    """The unit given with ``time_unit=`` / ``--time-unit``, as io names it ("day" -> "d"); "" for none."""
    if time_unit is None:
        return ""
    key = " ".join(str(time_unit).split()).casefold().rstrip(".")
    if not key:
        return ""
    if key in _TIME_UNIT_OPTION:
        return _TIME_UNITS[key]
    raise DataError(
        f"unknown time unit {str(time_unit)!r}",
        fix="give --time-unit h, min, day or week (also accepted: s, hour(s), hr, minute(s), d, day(s), wk, week(s))",
    )


def _one_unit(table: _Table, units: Mapping[str, tuple[int, str]], *, given: str = "") -> str:
    """The one unit of the times (``units``: unit -> first (row, column) with it), checked against ``given``."""
    named = {u: where for u, where in units.items() if u}
    if len(named) > 1:
        (u0, (r0, c0)), (u1, (r1, c1)) = sorted(named.items(), key=lambda kv: kv[1][0])[:2]
        at0 = f"row {r0}" if c0 == c1 else f"column {c0!r}"
        raise DataError(
            "the times mix units (" + ", ".join(sorted(named)) + f"): {u0} in {at0}, {u1} here",
            file=table.source, row=r1, column=c1,
            fix="write every time in one unit",
        )
    if not named:
        return given
    unit, (row, column) = next(iter(named.items()))
    if given and unit != given:
        raise DataError(
            f"the times in {column!r} are in {unit} but --time-unit gives {given}",
            file=table.source, row=row, column=column,
            fix=f"drop --time-unit (the unit written with the times, {unit}, is used), or correct the times "
                "or --time-unit so that they agree",
        )
    return unit


def _timecourse_wide_time(table, *, animal, group, time, value, where, lloq, log_scale, time_unit):
    ia = _resolve(table, animal, option="--animal")
    igs = [_resolve(table, g, option="--group") for g in group]
    _distinct(table, {"--animal": ia, **_group_roles(group, igs)})
    where_cols = {_resolve(table, c, option="--where") for c in parse_where(where)}
    tcols, seen = [], {}
    for i, h in enumerate(table.header):
        if i == ia or i in igs or i in where_cols:
            continue
        parsed = _parse_time(h, table.fmt) if h.strip() else None
        if parsed is None:
            near = _near_time(_strip(h)) if h.strip() else None
            if near:
                raise DataError(
                    f"the column {_show(h)} looks like a time point written with {near}, so it would be "
                    "left out as a column that is not a time",
                    file=table.source, row=table.header_row, column=h,
                    fix="write the time with a decimal point and the '-' key for a minus (1.5 h, -1), "
                        "or pass --decimal , (decimal=',') for decimal commas",
                )
            continue
        if parsed[0] in seen:
            raise DataError(
                f"the columns {_show(table.header[seen[parsed[0]]])} and {_show(h)} are the same time point",
                file=table.source, row=table.header_row, column=h,
                fix="give each time point one column",
            )
        seen[parsed[0]] = i
        tcols.append((i, parsed))
    if not tcols:
        raise DataError(
            "no time-point columns: in the wide-time layout each time point is a column headed by its time (0, 1 h, 2h)",
            file=table.source, row=table.header_row,
            fix=f"head the time columns by their times, or use --layout long; the columns are: {table.listing()}",
        )
    units: dict[str, tuple[int, str]] = {}
    for i, parsed in tcols:
        units.setdefault(parsed[1], (table.header_row, table.label(i)))
    unit = _one_unit(table, units, given=time_unit)
    reasons = _screen(table, id_cols=[ia], label_cols=igs, used_cols=[ia, *igs] + [i for i, _ in tcols], where=where)
    _check_separators(table, [[i for i, _ in tcols]], reasons)
    _check_duplicate_rows(table, reasons, what="same animal and values")
    pm = _plus_minus_columns(table, reasons, igs)
    entries, obs = [], []
    for rownum, cells, reason in zip(table.rows, table.cells, reasons, strict=True):
        if reason:
            entries.append((rownum, EXCLUDED, reason, ""))
            continue
        a = _required_text(table, rownum, cells, ia, "animal ID")
        g = _group_cells(table, rownum, cells, group, igs, pm)
        for i, (t, _) in tcols:
            label = table.label(i)
            parsed = _timecourse_value(table, rownum, label, cells[i], lloq=lloq, log_scale=log_scale)
            if parsed is None:
                entries.append((rownum, EXCLUDED, "missing value (lost fraction)", label))
            else:
                obs.append((rownum, a, g, t, *parsed))
                entries.append((rownum, USED, "", label))
    columns = {"animal": table.header[ia], **_group_columns(table, group, igs), "time": time, "value": value}
    return entries, obs, columns, False, unit, {"group": igs, "animal": ia, "value": None, "time": None}


def _timecourse_wide_group(table, *, animal, group, time, value, where, lloq, log_scale, time_unit):
    if len(group) > 1:
        raise DataError(
            f"several group columns ({', '.join(map(repr, group))}) cannot be read from the wide-group layout, "
            "whose headers hold one group each",
            file=table.source, row=table.header_row,
            fix="use --layout long (one row per fraction, one column per group factor) or wide-time",
        )
    group = group[0]
    try:
        it = _resolve(table, time, option="--time")
    except DataError:
        if table.header and not table.header[0].strip():
            it = 0
        else:
            raise
    where_cols = {_resolve(table, c, option="--where") for c in parse_where(where)}
    acols: list[tuple[int, str, str]] = []  # (column, group, animal id)
    current, k, ids, made_up = None, {}, {}, False
    # Prism's summary columns: "Mean", "SEM", "Mean ± SD"; a bare "SD" / "N" / "median" header only
    # beside such a column (a group may be called SD, sleep deprivation).
    heads = {i: _strip(h.partition("|")[0]) for i, h in enumerate(table.header) if i != it and h.strip()}
    strong = {g for g in heads.values() if _summary_label(g, weak=False, phrase=False)}
    summary_heads = strong | ({g for g in heads.values() if _summary_label(g, weak=True, phrase=False)} if strong else set())
    for i, h in enumerate(table.header):
        if i == it or i in where_cols:
            continue
        head = h.strip()
        if head:
            grp, sep, aid = (_strip(p) for p in head.partition("|"))
            if grp in summary_heads:
                raise DataError(
                    f"the column {_show(h)} holds a summary statistic, not an animal",
                    file=table.source, row=table.header_row, column=h,
                    fix="export the replicate values (one column per animal), or delete the column",
                )
            if not grp or (sep and not aid):
                raise DataError(
                    f"cannot read the header {_show(h)} as GROUP or GROUP|ANIMAL",
                    file=table.source, row=table.header_row, column=h,
                    fix="head each animal's column by its group, or by GROUP|ANIMAL",
                )
            current = grp
        elif current is None:
            raise DataError(
                "a column with data has no group name in its header",
                file=table.source, row=table.header_row, column=table.label(i),
                fix="write the group in the header of its first replicate column",
            )
        else:
            aid = ""
        k[current] = k.get(current, 0) + 1
        if not aid:
            aid, made_up = f"{current}-{k[current]}", True
        if aid in ids:
            raise DataError(
                f"two columns are the animal {_show(aid)} ({table.label(ids[aid])} and {table.label(i)})",
                file=table.source, row=table.header_row, column=table.label(i),
                fix="give each animal's column its own ID",
            )
        ids[aid] = i
        acols.append((i, current, aid))
    if not acols:
        raise DataError(
            "no animal columns: in the wide-group layout each column after the time column is one animal, headed by its group",
            file=table.source, row=table.header_row,
            fix=f"use --layout long or wide-time; the columns are: {table.listing()}",
        )
    reasons = _screen(table, id_cols=[it], label_cols=[], used_cols=[it] + [i for i, _, _ in acols], where=where)
    _check_separators(table, [[i for i, _, _ in acols]], reasons)
    _check_duplicate_rows(table, reasons, what="same time and values")
    entries, obs, units = [], [], {}
    for rownum, cells, reason in zip(table.rows, table.cells, reasons, strict=True):
        if reason:
            entries.append((rownum, EXCLUDED, reason, ""))
            continue
        t, u = _time_cell(table, rownum, cells[it], table.label(it))
        units.setdefault(u, (rownum, table.label(it)))
        for i, g, a in acols:
            label = table.label(i)
            parsed = _timecourse_value(table, rownum, label, cells[i], lloq=lloq, log_scale=log_scale)
            if parsed is None:
                entries.append((rownum, EXCLUDED, "missing value (lost fraction)", label))
            else:
                obs.append((rownum, a, g, t, *parsed))
                entries.append((rownum, USED, "", label))
    columns = {"animal": animal, "group": group, "time": table.header[it] or time, "value": value}
    unit = _one_unit(table, units, given=time_unit)
    return entries, obs, columns, made_up, unit, {"group": [None], "animal": None, "value": None, "time": it}


def read_timecourse(
    source: str | Path | pd.DataFrame,
    *,
    animal: str,
    group: str | Sequence[str],
    time: str,
    value: str,
    sheet: str | int | None = None,
    where: Sequence[str] = (),
    lloq: float | None = None,
    layout: str = "long",
    log_scale: bool = False,
    reference: str | Mapping[str, str] | None = None,
    time_unit: str | None = None,
    decimal: str | None = None,
    thousands: str | None = None,
) -> Sheet:
    """Read and validate a time-course sheet (e.g. microdialysis fractions).

    Parameters
    ----------
    source : str, Path or pandas.DataFrame
        The sheet (.csv / .tsv / .txt / .xlsx) or a DataFrame.
    animal, time, value : str
        Column names (long layout). In ``wide-time``, ``time`` and ``value`` only name the
        roles; in ``wide-group``, ``animal``, ``group`` and ``value`` do (see the module).
    group : str or sequence of str
        The group column, or several group factor columns (CLI ``--group A --group B``,
        e.g. treatment and antibody; long and wide-time layouts). With several, each is
        validated like one group column, every combination of their levels needs at least
        2 animals, and the frame's ``group`` holds the combination ``"a|b"``.
    sheet : str or int, optional
        Excel sheet name or position (from 0).
    where : sequence of str
        ``COLUMN=VALUE`` filters (same column = OR, different columns = AND).
    lloq : float, optional
        Lower limit of quantification for below-limit cells that state no limit.
    layout : {"long", "wide-time", "wide-group"}
        Shape of the sheet.
    log_scale : bool
        Require values above zero (the model works on the log scale).
    reference : str or mapping of str to str, optional
        Reference group, put first (one group column; ``{group: level}`` works too), or
        ``{factor: level}`` for some or all of several group columns (CLI ``--reference
        FACTOR=LEVEL``). Without it: a group named like a control (saline, vehicle,
        control, sham, IgG, WT, 0 mg/kg, ...), else the lowest dose when every group is a
        number, else the first in sorted order (see ``Sheet.reference_rule``), per column.
    time_unit : str, optional
        Unit of the times: ``"h"``, ``"min"``, ``"day"``, ``"week"`` (also ``"s"``,
        ``"hour(s)"``, ``"minute(s)"``, ``"d"``, ``"wk"``). A unit written with the times
        ("2 h", "Day 2") is read without it, and must agree with it. Without either, the
        times have no unit and none is printed.
    decimal : {".", ","}, optional
        Decimal separator of the numbers in the sheet (CLI ``--decimal``): ``","`` reads
        ``12,5`` as 12.5. Without ``decimal`` and ``thousands`` a point is a decimal point, a
        comma in a number is an error, and a numeric column mixing ``1.810`` with whole numbers
        or decimal commas in a ``;``-separated file (or one with decimal commas) is an error
        naming the cells; giving either option turns that check off.
    thousands : {".", ",", "'", " "}, optional
        Thousands separator (CLI ``--thousands``): ``"."`` reads ``1.810`` as 1810 and
        ``1.810,5`` as 1810.5 (``thousands="."`` makes ``","`` the decimal separator unless
        ``decimal`` is given); ``" "`` accepts no-break and thin spaces too.
        A number that does not fit the separators given is an error.

    Returns
    -------
    Sheet
        Frame columns ``row, animal, group, time, value, censored, limit``; a below-limit
        value is left-censored with ``value = limit``. With several group columns also one
        Categorical per group factor (named as given, reference level first) after
        ``group``, whose categories are the combinations ``"a|b"`` with every factor's levels
        in order (the reference combination first); ``Sheet.factors`` are the group names.
    """
    if layout not in LAYOUTS:
        raise DataError(f"unknown layout {layout!r}", fix="use --layout long, wide-time or wide-group")
    groups = _timecourse_groups(group)
    given_unit = _time_unit_option(time_unit)
    if lloq is not None and not (math.isfinite(float(lloq)) and float(lloq) > 0):
        raise DataError(f"--lloq must be a positive number, got {lloq!r}", fix="pass --lloq VALUE above zero")
    fmt = _number_format(decimal, thousands)
    table = _load(source, sheet=sheet, fmt=fmt)
    reader = {"long": _timecourse_long, "wide-time": _timecourse_wide_time, "wide-group": _timecourse_wide_group}
    entries, obs, columns, made_up, unit, idx = reader[layout](
        table, animal=animal, group=groups, time=time, value=value, where=where, lloq=lloq, log_scale=log_scale,
        time_unit=given_unit,
    )
    if not obs:
        raise _no_data_left(table, entries)
    gcols = [table.label(i) if i is not None else g for g, i in zip(groups, idx["group"], strict=True)]
    gcol = gcols[0]
    multi = len(groups) > 1
    refs = _timecourse_references(table, groups, reference)
    tcol = table.label(idx["time"]) if idx["time"] is not None else time
    acol = table.label(idx["animal"]) if idx["animal"] is not None else animal
    _check_lookalikes(table, _first_rows(obs, 1), column=acol, what="animal ID", fold_case=False)
    if multi:
        for j, gc in enumerate(gcols):
            _check_lookalikes(table, _first_rows(((o[0], o[2][j]) for o in obs), 1), column=gc, what="level",
                              fold_case=True)
    else:
        _check_lookalikes(table, _first_rows(obs, 2), column=gcol, what="group", fold_case=True)
    first_group: dict[str, tuple[str, int]] = {}
    seen: dict[tuple[str, float], tuple[int, float]] = {}
    for rownum, a, g, t, x, *_ in obs:
        if (a, t) in seen:
            r0, x0 = seen[(a, t)]
            same = f", both {x:g}: a pasted duplicate?" if x == x0 else ""
            raise DataError(
                f"animal {_show(a)} has two values at time {t:g} (rows {r0} and {rownum}{same})",
                file=table.source, row=rownum, column=tcol,
                fix="keep one value per animal and time point, or correct the animal ID or the time",
            )
        seen[(a, t)] = (rownum, x)
        g0, r0 = first_group.setdefault(a, (g, rownum))
        if g0 != g:
            where_col = gcol if not multi else gcols[next(j for j in range(len(groups)) if g0[j] != g[j])]
            raise DataError(
                f"animal {_show(a)} is in group {_combo_show(g0)} (row {r0}) and in group {_combo_show(g)} (row {rownum})",
                file=table.source, row=rownum, column=where_col,
                fix="an animal belongs to one group: correct the group or the animal ID",
            )
    if multi:
        cats, rules = [], {}
        for j, (name, gc) in enumerate(zip(groups, gcols, strict=True)):
            lv = list(dict.fromkeys(o[2][j] for o in obs))
            _check_levels(table, lv, column=gc)
            lv, rules[str(columns[name])] = _order_levels(table, lv, refs.get(name), column=gc,
                                                          option=f"--reference {name}=LEVEL")
            bar = [x for x in lv if "|" in x]
            if bar:
                raise DataError(
                    f"the level {_show(bar[0])} contains '|', which joins the levels of a combination ('a|b')",
                    file=table.source, column=gc, fix="rename the level without '|'",
                )
            cats.append(lv)
        _check_combinations(table, obs, groups, cats, gcols)
        labels = ["|".join(c) for c in itertools.product(*cats)]
    else:
        levels = list(dict.fromkeys(o[2] for o in obs))
        _check_levels(table, levels, column=gcol)
        levels, rule = _order_levels(table, levels, refs.get(groups[0]), column=gcol, option="--reference")
        for lv in levels:
            members = [(r, a) for r, a, g, *_ in obs if g == lv]
            n = len({a for _, a in members})
            if n < 2:
                raise DataError(
                    f"group {_show(lv)} has only {n} animal (animal {_show(members[0][1])})",
                    file=table.source, row=members[0][0], column=gcol,
                    fix="each group needs at least 2 animals: add animals, or keep the other groups with --where",
                )
    if len({o[3] for o in obs}) < 2:
        raise DataError(
            f"only one time point ({obs[0][3]:g}) in the rows used",
            file=table.source, column=tcol,
            fix="a time course needs at least 2 time points: check the time column and --where",
        )
    if "lost" in idx:
        _check_schedule(table, obs, idx["lost"], column=tcol)
    rows, animals, groups_, times, values, cens, limits = zip(*obs, strict=True)
    data: dict[str, object] = {
        ROW: np.asarray(rows, dtype=np.int64),
        ANIMAL: pd.array([str(a) for a in animals], dtype="str"),
    }
    if multi:
        data[GROUP] = pd.Categorical(["|".join(g) for g in groups_], categories=labels)
        for j, name in enumerate(groups):
            data[name] = pd.Categorical([g[j] for g in groups_], categories=cats[j])
    else:
        data[GROUP] = pd.Categorical(groups_, categories=levels)
    data[TIME] = np.asarray(times, dtype=float)
    data[VALUE] = np.asarray(values, dtype=float)
    data[CENSORED] = np.asarray(cens, dtype=bool)
    data[LIMIT] = np.asarray(limits, dtype=float)
    return Sheet(
        frame=pd.DataFrame(data),
        ledger=_ledger(table, entries),
        columns=columns,
        source=table.source,
        design="timecourse",
        factors=tuple(groups) if multi else (GROUP,),
        animal_ids_made_up=made_up,
        time_unit=unit,
        reference_rule=rules if multi else {str(columns["group"]): rule},
        notes=table.notes,
        censoring_side="left",
    )


def _timecourse_groups(group: str | Sequence[str]) -> list[str]:
    """The group column name(s) as a list; several must be distinct and not a tidy frame's column name."""
    groups = [group] if isinstance(group, str) else [str(g) for g in group]
    if not groups:
        raise DataError("no group column given", fix="name the group column with --group COLUMN")
    if len({_norm(g) for g in groups}) < len(groups):
        raise DataError(f"a group column is given twice: {groups}", fix="give each --group once")
    if len(groups) > 1:
        reserved = {ROW, ANIMAL, GROUP, TIME, VALUE, CENSORED, LIMIT}
        for g in groups:
            if g in reserved:
                raise DataError(
                    f"with several group columns a group column cannot be called {g!r}, a name the tidy frame uses",
                    column=g, fix="rename the column in the sheet (e.g. 'Treatment') and give that name to --group",
                )
    return groups


def _timecourse_references(table: _Table, groups: list[str], reference) -> dict[str, str]:
    """``reference`` (a level, or group name -> level) as group name -> level."""
    if reference is None:
        return {}
    if not isinstance(reference, Mapping):
        if len(groups) > 1:
            raise DataError(
                f"--reference {str(reference)!r} does not say which of the group columns it is a level of",
                file=table.source,
                fix="give --reference FACTOR=LEVEL for each group column whose reference you set, e.g. --reference "
                    f"{groups[0]}={reference}",
            )
        return {groups[0]: str(reference)}
    out = {}
    for key, lv in reference.items():
        hits = [g for g in groups if g == key] or [g for g in groups if _norm(g) == _norm(str(key))]
        if not hits:
            raise DataError(
                f"--reference names {key!r}, which is not a group column",
                file=table.source, column=str(key),
                fix="use one of the group columns: " + ", ".join(repr(g) for g in groups),
            )
        out[hits[0]] = str(lv)
    return out


def _check_combinations(table: _Table, obs: list[tuple], groups: list[str], cats: list[list[str]],
                        gcols: list[str]) -> None:
    """Every combination of the group levels needs at least 2 animals (several group columns)."""
    members: dict[tuple[str, ...], list[tuple[int, str]]] = {}
    for rownum, a, g, *_ in obs:
        members.setdefault(g, []).append((rownum, a))

    def name(combo):
        return ", ".join(f"{g}={_show(lv)[1:-1]}" for g, lv in zip(groups, combo, strict=True))

    empty = [c for c in itertools.product(*cats) if c not in members]
    if empty:
        raise DataError(
            f"no animals in the combination{'s' if len(empty) > 1 else ''} {'; '.join(name(c) for c in empty)} of "
            f"the group columns {', '.join(map(repr, gcols))}",
            file=table.source, column=gcols[-1],
            fix="every combination of the group levels needs animals: drop a level with --where, or give fewer "
                "--group columns",
        )
    for combo in itertools.product(*cats):
        ids = {a for _, a in members[combo]}
        if len(ids) < 2:
            raise DataError(
                f"the combination {name(combo)} has only 1 animal (animal {_show(next(iter(ids)))})",
                file=table.source, row=members[combo][0][0], column=gcols[-1],
                fix="each combination of the group levels needs at least 2 animals: add animals, or drop a level "
                    "with --where",
            )


# ------------------------------------------------------------------------ factorial


def relabel_levels(sheet: Sheet, levels: Mapping[str, Mapping[str, str]] | None) -> Sheet:
    """The sheet with level labels for the report (CLI ``--level FACTOR=LEVEL=TEXT``).

    ``levels`` maps a factor (or a time course's group column) to {level as in the sheet:
    label}, e.g. ``{"treatment": {"ketamine 10": "ketamine 10 mg/kg"}}``. Levels keep their
    order and reference; an unknown factor or level, or a label that another level already
    has, is an error naming it.
    """
    if not levels:
        return sheet
    frame = sheet.frame.copy()
    for key, mapping in levels.items():
        if key in sheet.factors and key in frame.columns:
            col = key
        elif sheet.columns.get("group") == key and "group" in frame.columns:
            col = "group"
        else:
            names = [str(sheet.columns.get(f, f)) if f == "group" else f for f in sheet.factors]
            raise DataError(f"--level names {key!r}, which is not a factor of this analysis", file=sheet.source,
                            column=str(key), fix="use one of: " + ", ".join(repr(n) for n in names))
        cats = [str(c) for c in frame[col].cat.categories]
        rename = {}
        for old, new in mapping.items():
            hits = [c for c in cats if c == str(old)] or [c for c in cats if c.casefold() == str(old).casefold()]
            if not hits:
                raise DataError(f"--level {key}={old}=...: {key!r} has no level {old!r}", file=sheet.source,
                                column=str(key), fix="use one of its levels: " + ", ".join(repr(c) for c in cats))
            if not str(new).strip():
                raise DataError(f"--level {key}={old}= gives an empty label", file=sheet.source, column=str(key),
                                fix="write the label after the second '=', e.g. --level treatment=ket=ketamine")
            rename[hits[0]] = str(new).strip()
        labels = [rename.get(c, c) for c in cats]
        if len(set(labels)) < len(labels):
            raise DataError(f"--level gives two levels of {key!r} the same label ({labels})", file=sheet.source,
                            column=str(key), fix="give each level its own label")
        frame[col] = frame[col].cat.rename_categories(dict(zip(cats, labels, strict=True)))
        if col != "group" and "group" in frame.columns:  # several groups over time: "a|b" follows its factors
            i = list(sheet.factors).index(col)
            combos = [str(c) for c in frame["group"].cat.categories]
            new = []
            for c in combos:
                parts = c.split("|")
                parts[i] = rename.get(parts[i], parts[i])
                new.append("|".join(parts))
            frame["group"] = frame["group"].cat.rename_categories(dict(zip(combos, new, strict=True)))
    return replace(sheet, frame=frame)


def read_factorial(
    source: str | Path | pd.DataFrame,
    *,
    outcome: str,
    factors: Sequence[str],
    animal: str | None = None,
    cohort: str | None = None,
    censored: str | None = None,
    censor_at: float | None = None,
    sheet: str | int | None = None,
    where: Sequence[str] = (),
    positive: bool = False,
    reference: Mapping[str, str] | None = None,
    event: str | None = None,
    decimal: str | None = None,
    thousands: str | None = None,
    covariate: str | None = None,
    within: Sequence[str] = (),
) -> Sheet:
    """Read and validate a between-animal factorial sheet (one row per animal, long layout).

    Parameters
    ----------
    source : str, Path or pandas.DataFrame
        The sheet (.csv / .tsv / .txt / .xlsx) or a DataFrame.
    outcome : str
        Column of the outcome (e.g. ``"Time Immobile (s)"``).
    factors : sequence of str
        Factor columns (A, B, ...); the frame's factor columns carry these names.
    animal : str, optional
        Animal ID column; IDs are made up as ``"row<N>"`` without one.
    cohort : str, optional
        Cohort / batch column.
    censored : str, optional
        Right-censoring column: 1 (true, yes, y) = censored, the value is the time the test
        ended without the event; 0 (false, no, n) = the event was observed. A header that
        reads like an event indicator (status, event, dead, death, died, failure, tumour)
        is refused: use ``event=`` for such a column.
    censor_at : float, optional
        Test cut-off: values equal to it are right-censored, values above it are an error.
        Combines with ``censored`` / ``event`` (a row is censored if either says so).
    event : str, optional
        Event column, the survival convention: 1 (true, yes, y) = the event happened at the
        value; 0 (false, no, n) = censored at the value. Not with ``censored``.
    sheet : str or int, optional
        Excel sheet name or position (from 0).
    where : sequence of str
        ``COLUMN=VALUE`` filters (same column = OR, different columns = AND).
    positive : bool
        Reject negative outcomes (a time or a count cannot be negative).
    reference : mapping of str to str, optional
        Factor -> reference level, put first. For a factor not named: a level named like a
        control (saline, vehicle, control, IgG, WT, 0 mg/kg, ...), else the lowest number,
        else the first in sorted order (see ``Sheet.reference_rule``).
    decimal : {".", ","}, optional
        Decimal separator of the numbers in the sheet (CLI ``--decimal``): ``","`` reads
        ``12,5`` as 12.5. Without ``decimal`` and ``thousands`` a point is a decimal point, a
        comma in a number is an error, and an outcome column mixing ``1.810`` with whole
        numbers or decimal commas in a ``;``-separated file (or one with decimal commas) is an
        error naming the cells; giving either option turns that check off.
    thousands : {".", ",", "'", " "}, optional
        Thousands separator (CLI ``--thousands``): ``"."`` reads ``1.810`` as 1810 and
        ``1.810,5`` as 1810.5 (``thousands="."`` makes ``","`` the decimal separator unless
        ``decimal`` is given); ``" "`` accepts no-break and thin spaces too.
        A number that does not fit the separators given is an error.
    within : sequence of str
        The factors (among ``factors``) that vary within an animal (CLI ``--within``: a
        crossover, a test day, drug vs vehicle in the same animal): an animal keeps one level
        of every other factor but may have rows at several levels of these.
    covariate : str, optional
        Numeric covariate column (e.g. body weight, a pre-test score; CLI ``--covariate``). A
        row without it is excluded and counted in the ledger ("missing covariate"); text
        that is not a number is an error naming the cell.

    Returns
    -------
    Sheet
        Frame columns ``row, animal, <factors...>, value, censored`` (+ ``cohort``, +
        ``covariate``);
        ``censored`` is True for a right-censored row, whose ``value`` is its own censoring
        time (so animals may have different follow-up times).

    Warns
    -----
    UserWarning
        When more than 90% of the rows are censored (a reversed coding?); also in
        ``Sheet.notes``.
    """
    factors = [factors] if isinstance(factors, str) else [str(f) for f in factors]
    if not factors:
        raise DataError("no factor given", fix="name at least one factor column with --factor COLUMN")
    within = [within] if isinstance(within, str) else [str(w) for w in within]
    stray = [w for w in within if w not in factors]
    if stray:
        raise DataError(f"--within {stray[0]!r} is not one of the factors {factors}",
                        fix="name a factor column with --within (it is read like --factor)")
    between_idx = [j for j, f in enumerate(factors) if f not in within]
    if len({_norm(f) for f in factors}) < len(factors):
        raise DataError(f"a factor is given twice: {factors}", fix="give each --factor once")
    reserved = {ROW, ANIMAL, VALUE, CENSORED, COHORT}
    for f in factors:
        if f in reserved:
            raise DataError(
                f"a factor cannot be called {f!r}, a name the tidy frame uses",
                column=f, fix="rename the column in the sheet (e.g. 'Treatment')",
            )
    if censor_at is not None and not (math.isfinite(float(censor_at)) and float(censor_at) > 0):
        raise DataError(f"--censor-at must be a positive number, got {censor_at!r}", fix="pass the test's cut-off, e.g. --censor-at 300")
    if reference is not None and not isinstance(reference, Mapping):
        raise TypeError("reference must be a mapping of factor name to level")
    if censored is not None and event is not None:
        raise DataError(
            f"both --censored {censored!r} and --event {event!r} are given",
            fix="give one: --event COLUMN when 1 means the event happened (survival coding), "
                "--censored COLUMN when 1 means the test ended before the event",
        )
    fmt = _number_format(decimal, thousands)
    table = _load(source, sheet=sheet, fmt=fmt)
    iv = _resolve(table, outcome, option="--outcome")
    ifs = [_resolve(table, f, option="--factor") for f in factors]
    ia = _resolve(table, animal, option="--animal") if animal is not None else None
    if within and ia is None:
        raise DataError(f"--within {within[0]!r} needs the animal column: without it no row can be matched to "
                        "the other rows of its animal", file=table.source,
                        fix="name the animal ID column with --animal")
    ic = _resolve(table, cohort, option="--cohort") if cohort is not None else None
    flag_option = "--event" if event is not None else "--censored"
    flag_col = event if event is not None else censored
    ik = _resolve(table, flag_col, option=flag_option) if flag_col is not None else None
    icv = _resolve(table, covariate, option="--covariate") if covariate is not None else None
    if ik is not None and event is None and _EVENT_HEADER.search(table.header[ik]):
        raise DataError(
            f"the --censored column {table.header[ik]!r} is named like an event indicator; in survival data "
            "1 in such a column usually means the event happened, not that the value is censored",
            file=table.source, row=table.header_row, column=table.label(ik),
            fix=f"use --event {table.header[ik]!r} if 1 means the event happened; if 1 really means censored, "
                "rename the column (e.g. 'censored')",
        )
    roles = {"--outcome": iv, "--animal": ia, "--cohort": ic, flag_option: ik, "--covariate": icv}
    roles.update({f"--factor {f}": i for f, i in zip(factors, ifs, strict=True)})
    _distinct(table, roles)
    used = [i for i in [iv, ia, ic, ik, icv, *ifs] if i is not None]
    label_cols = [*ifs] + ([ic] if ic is not None else [])
    reasons = _screen(table, id_cols=[ia] if ia is not None else [], label_cols=label_cols, used_cols=used, where=where)
    _check_separators(table, [[iv]] + ([[icv]] if icv is not None else []), reasons)
    if ia is not None:  # without animal IDs two animals may share every cell of a row
        _check_duplicate_rows(table, reasons, what="same animal, cell and outcome")
    pm = _plus_minus_columns(table, reasons, ifs)
    vcol = table.label(iv)
    entries, obs, cov_values = [], [], {}
    for rownum, cells, reason in zip(table.rows, table.cells, reasons, strict=True):
        if reason:
            entries.append((rownum, EXCLUDED, reason, ""))
            continue
        kind, x = _classify(cells[iv], table.fmt)
        if kind == "missing":
            entries.append((rownum, EXCLUDED, "missing outcome", ""))
            continue
        if icv is not None:
            ckind, cx = _classify(cells[icv], table.fmt)
            if ckind == "missing":
                entries.append((rownum, EXCLUDED, f"missing covariate ({table.label(icv)})", ""))
                continue
            if ckind != "number":
                raise _number_error(table, rownum, table.label(icv), cells[icv], ckind, below_ok=False)
            cov_values[rownum] = float(cx)
        a = _required_text(table, rownum, cells, ia, "animal ID") if ia is not None else f"row{rownum}"
        levels = tuple(_required_text(table, rownum, cells, i, f"{f!r} level", dash_level=i in pm)
                       for f, i in zip(factors, ifs, strict=True))
        c = _required_text(table, rownum, cells, ic, "cohort") if ic is not None else None
        if kind != "number":
            raise _number_error(table, rownum, vcol, cells[iv], kind, below_ok=False)
        if positive and x < 0:
            raise DataError(
                f"the outcome {x:g} is negative, which {vcol!r} cannot be",
                file=table.source, row=rownum, column=vcol,
                fix="check the value and its sign (a time or a count cannot be negative)",
            )
        cens = False
        if ik is not None:
            flag = _flag(table, rownum, table.label(ik), cells[ik], event=event is not None)
            cens = not flag if event is not None else flag
        if censor_at is not None:
            cut = float(censor_at)
            if x > cut * (1 + 1e-12):
                raise DataError(
                    f"the value {x:g} is above the cut-off --censor-at {cut:g}; it cannot exceed the test's length",
                    file=table.source, row=rownum, column=vcol,
                    fix="check the value, or set --censor-at to the test's real cut-off",
                )
            if x >= cut * (1 - 1e-12):
                cens, x = True, cut
        obs.append((rownum, a, levels, x, cens, c))
        entries.append((rownum, USED, "", ""))
    if not obs:
        raise _no_data_left(table, entries)
    if ia is not None:
        _check_lookalikes(table, _first_rows(obs, 1), column=table.label(ia), what="animal ID", fold_case=False)
    for j, i in enumerate(ifs):
        firsts: dict[str, int] = {}
        for o in obs:
            firsts.setdefault(o[2][j], o[0])
        _check_lookalikes(table, firsts, column=table.label(i), what="level", fold_case=True)
    if ic is not None:
        _check_lookalikes(table, _first_rows(obs, 5), column=table.label(ic), what="cohort", fold_case=True)
    # An animal may have several rows (repeated observations, e.g. per-minute scores), but
    # all in one cell and one cohort.
    if ia is not None:
        first: dict[str, tuple[int, tuple[str, ...], str]] = {}
        for rownum, a, levels, _x, _c, coh in obs:
            levels = tuple(levels[j] for j in between_idx)  # within factors vary within an animal
            if a in first:
                r0, l0, c0 = first[a]
                if l0 != levels or c0 != coh:
                    what = "two groups" if l0 != levels else "two cohorts"
                    raise DataError(
                        f"animal {_show(a)} appears in {what} (rows {r0} and {rownum})",
                        file=table.source, row=rownum, column=table.label(ia),
                        fix="an animal belongs to one group and one cohort: correct the animal ID or the group",
                    )
                continue
            first[a] = (rownum, levels, coh)
        _check_censoring_times(table, obs, column=table.label(ik) if ik is not None else None, vcol=vcol)
    notes = _censored_share(table, obs, column=table.label(ik) if ik is not None else None, event=event is not None,
                            cut=censor_at is not None)
    ref = dict(reference or {})
    ref_by_factor: dict[str, str] = {}
    for key, lv in ref.items():
        hits = [f for f in factors if f == key] or [f for f in factors if _norm(f) == _norm(key)]
        if not hits:
            raise DataError(
                f"--reference names {key!r}, which is not a factor",
                file=table.source, column=str(key),
                fix="use one of the factors: " + ", ".join(repr(f) for f in factors),
            )
        ref_by_factor[hits[0]] = lv
    cats, rules = [], {}
    for j, (f, i) in enumerate(zip(factors, ifs, strict=True)):
        levels = list(dict.fromkeys(o[2][j] for o in obs))
        _check_levels(table, levels, column=table.label(i))
        levels, rules[f] = _order_levels(
            table, levels, ref_by_factor.get(f), column=table.label(i), option=f"--reference {f}=LEVEL"
        )
        cats.append(levels)
    members: dict[tuple[str, ...], list[tuple[int, str]]] = {}
    for rownum, a, levels, *_ in obs:
        members.setdefault(levels, []).append((rownum, a))
    empty = [", ".join(f"{f}={_show(lv)[1:-1]}" for f, lv in zip(factors, combo, strict=True))
             for combo in itertools.product(*cats) if combo not in members]
    if empty:
        raise DataError(
            f"no animals in the cell{'s' if len(empty) > 1 else ''} {'; '.join(empty)}",
            file=table.source,
            fix="every combination of the factor levels needs animals: drop a level with --where, or analyse fewer factors",
        )
    for combo in itertools.product(*cats):
        label = ", ".join(f"{f}={_show(lv)[1:-1]}" for f, lv in zip(factors, combo, strict=True))
        n = len({a for _, a in members[combo]})
        if n < 2:
            raise DataError(
                f"the cell {label} has only 1 animal",
                file=table.source, row=members[combo][0][0],
                fix="each cell needs at least 2 animals: add animals, or drop a level with --where",
            )
    rows, animals, levels_, values, cens_, cohorts = zip(*obs, strict=True)
    data: dict[str, object] = {
        ROW: np.asarray(rows, dtype=np.int64),
        ANIMAL: pd.array([str(a) for a in animals], dtype="str"),
    }
    for j, f in enumerate(factors):
        data[f] = pd.Categorical([lv[j] for lv in levels_], categories=cats[j])
    data[VALUE] = np.asarray(values, dtype=float)
    data[CENSORED] = np.asarray(cens_, dtype=bool)
    if ic is not None:
        data[COHORT] = pd.array([str(c) for c in cohorts], dtype="str")
    if icv is not None:
        data[COVARIATE] = np.asarray([cov_values[r] for r in rows], dtype=float)
    columns = {"value": table.header[iv]}
    if ia is not None:
        columns["animal"] = table.header[ia]
    for f, i in zip(factors, ifs, strict=True):
        columns[f] = table.header[i]
    if ic is not None:
        columns["cohort"] = table.header[ic]
    if ik is not None:
        columns["event" if event is not None else "censored"] = table.header[ik]
    if icv is not None:
        columns["covariate"] = table.header[icv]
    return Sheet(
        frame=pd.DataFrame(data),
        ledger=_ledger(table, entries),
        columns=columns,
        source=table.source,
        design="factorial",
        factors=tuple(factors),
        animal_ids_made_up=ia is None,
        reference_rule=rules,
        notes=tuple(table.notes) + tuple(notes),
    )


def _check_censoring_times(table: _Table, obs: list[tuple], *, column: str | None, vcol: str) -> None:
    """An animal's censored row cannot end before one of its observed (uncensored) values."""
    by_animal: dict[str, list[tuple[int, float, bool]]] = {}
    for rownum, a, _levels, x, cens, _coh in obs:
        by_animal.setdefault(a, []).append((rownum, x, cens))
    for a, rows in by_animal.items():
        observed = [(r, x) for r, x, c in rows if not c]
        for r, x, c in rows:
            if not c:
                continue
            later = next(((r2, x2) for r2, x2 in observed if x2 > x), None)
            if later is None:
                continue
            raise DataError(
                f"animal {_show(a)} is censored at {x:g} (row {r}) but was observed at {later[1]:g} (row {later[0]}); "
                "a censored value is the last time the animal was seen without the event, so it cannot be "
                "below a value observed for the same animal",
                file=table.source, row=r, column=column or vcol,
                fix="check the censoring flag of both rows (with --censored, 1 = censored; with --event, "
                    "1 = the event happened), the values, and the animal IDs",
            )


def _censored_share(table: _Table, obs: list[tuple], *, column: str | None, event: bool, cut: bool) -> list[str]:
    """A warning (and a note for the Sheet) when more than 90% of the rows are censored."""
    n_cens = sum(1 for o in obs if o[4])
    share = n_cens / len(obs)
    if share <= CENSORED_WARN_SHARE:
        return []
    both = " and --censor-at" if cut else ""
    if column is None:
        source, coding = "at the cut-off (--censor-at)", "values at or above --censor-at are censored: check it"
    elif event:
        source = f"by the event column {column!r}{both}"
        coding = ("with --event the package reads 1 = the event happened, 0 = censored; if 1 means censored "
                  "in this column, use --censored instead")
    else:
        source = f"by the censoring column {column!r}{both}"
        coding = ("with --censored the package reads 1 = censored, 0 = the event happened; if 1 means the "
                  "event happened in this column, use --event instead")
    note = f"{n_cens} of {len(obs)} rows ({100 * share:.1f}%) are right-censored {source}; {coding}."
    warnings.warn(f"{table.source}: {note}", UserWarning, stacklevel=3)
    return [note]
