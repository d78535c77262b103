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
"""

from __future__ import annotations

import csv
import difflib
import io
import itertools
import math
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as dtime
from pathlib import Path

import numpy as np
import pandas as pd

from bayes_igf1.constants import ANIMAL, CENSORED, COHORT, GROUP, LIMIT, ROW, TIME, VALUE
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

#: Labels that mark a summary row (compared lower-case, without a trailing colon).
SUMMARY_WORDS = frozenset(
    {
        "average", "mean", "median", "sd", "s.d.", "stdv", "stdev", "std", "std dev",
        "std. dev.", "standard deviation", "sem", "se", "s.e.", "s.e.m.", "sterror",
        "stderr", "std error", "std. error", "standard error", "n", "count", "total",
        "sum", "min", "max",
    }
)
#: Cell texts read as a missing value (compared lower-case).
MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "-", "#n/a"})

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
    """

    source: str
    entries: pd.DataFrame

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
        return RowLedger(source=self.source, entries=new)

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


def _ledger(source: str, entries: list[tuple[int, str, str, str]]) -> RowLedger:
    frame = pd.DataFrame(entries, columns=["row", "status", "reason", "column"])
    frame["row"] = frame["row"].astype(np.int64)
    for col in ("status", "reason", "column"):
        frame[col] = frame[col].astype(str)
    return RowLedger(source=source, entries=frame)


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

    def reference_levels(self) -> dict[str, str]:
        """Group / factor column -> its reference level (the keys of ``reference_rule``)."""
        out = {}
        for name, frame_col in zip(self._factor_names(), self.factors, strict=True):
            out[name] = str(self.frame[frame_col].cat.categories[0])
        return out

    def _factor_names(self) -> list[str]:
        """The names the report uses: the group column's name (time course), the factor names."""
        if self.design == "timecourse":
            return [str(self.columns.get("group", GROUP))]
        return list(self.factors)

    def _n_per_group(self) -> dict[str, int]:
        f = self.frame
        if self.design == "timecourse":
            n = f.groupby(GROUP, observed=False)[ANIMAL].nunique()
            return {str(k): int(v) for k, v in n.items()}
        levels = [list(f[name].cat.categories) for name in self.factors]
        n = f.groupby(list(self.factors), observed=False)[ANIMAL].nunique()
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
            "n_animals": int(f[ANIMAL].nunique()),
            "n_per_group": self._n_per_group(),
        }
        if self.design == "timecourse":
            out["times"] = [float(t) for t in sorted(f[TIME].unique())]
            out["time_unit"] = self.time_unit
        else:
            out["factors"] = list(self.factors)
        out["n_observations"] = int(len(f))
        out["n_censored"] = n_cens
        out["censoring"] = None if n_cens == 0 else ("left" if self.design == "timecourse" else "right")
        out["reference_level"] = self.reference_levels()
        out["reference_rule"] = dict(self.reference_rule)
        out["notes"] = list(self.notes)
        return out

    def data_block(self) -> dict:
        """The results.json ``data`` block (ledger, n, reference levels and how they were chosen, notes)."""
        block = self.ledger.to_dict()
        block["n_animals"] = int(self.frame[ANIMAL].nunique())
        block["n_per_group"] = self._n_per_group()
        block["reference_level"] = self.reference_levels()
        block["reference_rule"] = dict(self.reference_rule)
        if self.notes:
            block["notes"] = list(self.notes)
        return block


# ------------------------------------------------------------------------ raw table


@dataclass(frozen=True, eq=False)
class _Table:
    source: str
    header: list[str]
    header_row: int
    cells: list[list[object]]
    rows: list[int]

    def label(self, i: int) -> str:
        """Display name of column ``i``: its header, else its spreadsheet letter."""
        return self.header[i] if self.header[i].strip() else f"column {_letter(i)}"

    def listing(self) -> str:
        return ", ".join(repr(h) for h in self.header if h.strip())


def _letter(i: int) -> str:
    s, n = "", i + 1
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


def _text(cell: object) -> str:
    """The cell as stripped text; '' for empty / NaN; whole floats without '.0'."""
    if cell is None or cell is pd.NA or cell is pd.NaT:
        return ""
    if isinstance(cell, str):
        return cell.strip()
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
    return str(cell).strip()


def _header_text(cell: object) -> str:
    return cell if isinstance(cell, str) else _text(cell)


def _finish(source: str, records: list[tuple[int, list[object]]]) -> _Table:
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
    return _Table(
        source=source,
        header=[header[i] for i in keep],
        header_row=header_row,
        cells=[[r[i] for i in keep] for r in cells],
        rows=[n for n, _ in data],
    )


def _load(source: str | Path | pd.DataFrame, *, sheet: str | int | None) -> _Table:
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
    if ext in _EXTENSIONS_TEXT:
        if sheet is not None:
            raise DataError("--sheet applies to Excel files only", file=name, fix="drop --sheet")
        return _read_text(path, name, ext)
    if ext in (".xlsx", ".xlsm"):
        return _read_xlsx(path, name, sheet)
    if ext == ".xls":
        return _read_xls(path, name, sheet)
    raise DataError(
        f"cannot read files of type {ext or '(no extension)'!r}",
        file=name,
        fix="save the sheet as .csv or .xlsx (read: " + ", ".join(_EXTENSIONS_TEXT + _EXTENSIONS_EXCEL) + ")",
    )


def _read_text(path: Path, name: str, ext: str) -> _Table:
    raw = path.read_bytes()
    if not raw.strip():
        raise DataError("the file is empty", file=name, fix="check the file name, or save the sheet again")
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if ext == ".tsv":
        delimiter = "\t"
    else:
        first = next((line for line in text.splitlines() if line.strip()), "")
        counts = {d: first.count(d) for d in (",", ";", "\t")}
        delimiter = max(counts, key=lambda d: (counts[d], d == ","))
        if counts[delimiter] == 0:
            delimiter = ","
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise DataError(
            f"cannot read the file as a table ({exc})", file=name, fix="check the quotes in the file, or save it again as CSV"
        ) from exc
    return _finish(name, [(k + 1, r) for k, r in enumerate(records)])


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


def _read_xlsx(path: Path, name: str, sheet: str | int | None) -> _Table:
    import openpyxl  # noqa: PLC0415  (optional at import time)

    try:
        wb = openpyxl.load_workbook(path, data_only=True)
    except Exception as exc:  # openpyxl raises many types on a broken file
        raise DataError(
            f"cannot read the file as an Excel workbook ({type(exc).__name__})",
            file=name,
            fix="open it in Excel and save it again as .xlsx, or save it as .csv",
        ) from exc
    try:
        ws = wb.worksheets[_pick_sheet(wb.sheetnames, sheet, name)]
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
    try:
        return _finish(name, [(k + 1, r) for k, r in enumerate(grid)])
    except DataError as exc:
        raise DataError(
            f"the sheet {title!r} is empty", file=name, fix="choose the sheet with the data with --sheet"
        ) from exc


def _read_xls(path: Path, name: str, sheet: str | int | None) -> _Table:
    try:
        import xlrd  # noqa: F401, PLC0415
    except ImportError as exc:
        raise DataError(
            "old Excel files (.xls) need the xlrd package, which is not installed",
            file=name,
            fix="save the sheet as .xlsx or .csv",
        ) from exc
    names = list(pd.ExcelFile(path, engine="xlrd").sheet_names)
    k = _pick_sheet(names, sheet, name)
    raw = pd.read_excel(path, sheet_name=k, header=None, dtype=object, na_filter=False, engine="xlrd")
    return _finish(name, [(i + 1, list(r)) for i, r in enumerate(raw.itertuples(index=False))])


def read_table(
    source: str | Path | pd.DataFrame, *, sheet: str | int | None = None
) -> tuple[pd.DataFrame, list[int]]:
    """Read a sheet's raw cells.

    Parameters
    ----------
    source : str, Path or pandas.DataFrame
        A .csv / .tsv / .txt (delimiter sniffed) or .xlsx file, or a DataFrame.
    sheet : str or int, optional
        Excel sheet name or position (from 0); the first sheet by default.

    Returns
    -------
    frame : pandas.DataFrame
        The cells (text for CSV, Excel's values otherwise; object dtype), columns named by
        the header row (names may repeat). Blank rows after the last data row are dropped.
    rows : list of int
        Spreadsheet row number of each frame row (header row = 1 when it is the first).
    """
    table = _load(source, sheet=sheet)
    frame = pd.DataFrame(table.cells, columns=table.header, dtype=object)
    return frame, list(table.rows)


# -------------------------------------------------------------------- cell parsing


def _classify(cell: object) -> tuple[str, float]:
    """('number', x) | ('missing', nan) | ('below', limit or nan) | ('comma', nan) | ('bad', nan)."""
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
    if _NUMBER.fullmatch(text):
        x = float(text)
        return ("number", x) if math.isfinite(x) else ("bad", math.nan)
    match = _BELOW.fullmatch(text)
    if match:
        num = match.group("num")
        limit = float(num) if num else math.nan
        return ("below", limit) if math.isnan(limit) or math.isfinite(limit) else ("bad", math.nan)
    if _DECIMAL_COMMA.search(text):
        return "comma", math.nan
    return "bad", math.nan


def _parse_time(cell: object) -> tuple[float, str] | None:
    """A time from a number, optionally with a unit ('2', '2 h', '2h', 'Day 2'); None if not."""
    if isinstance(cell, (bool, np.bool_)):
        return None
    if isinstance(cell, (int, float, np.integer, np.floating)):
        x = float(cell)
        return (x, "") if math.isfinite(x) else None
    text = _text(cell).replace("\u2212", "-")
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


def _number_error(
    table: _Table, row: int, column: str, cell: object, kind: str, *, below_ok: bool
) -> DataError:
    text = _text(cell)
    if kind == "comma":
        return DataError(
            f"{text!r} has a comma in the number",
            file=table.source, row=row, column=column,
            fix="use a decimal point and no thousands separator (12.5, not 12,5)",
        )
    if kind == "below" and not below_ok:
        return DataError(
            f"expected a number, found the below-limit value {text!r}",
            file=table.source, row=row, column=column,
            fix="enter the measured number; below-limit values are read only for time courses",
        )
    hint = ", or <LLOQ for a value below the assay's limit" if below_ok else ""
    return DataError(
        f"expected a number, found {text!r}",
        file=table.source, row=row, column=column,
        fix=f"enter a number (no units or notes), leave the cell empty or write NA for a missing value{hint}",
    )


def _timecourse_value(
    table: _Table, row: int, column: str, cell: object, *, lloq: float | None, log_scale: bool
) -> tuple[float, bool, float] | None:
    """(value, censored, limit) of a time-course cell, None when missing."""
    kind, x = _classify(cell)
    if kind == "missing":
        return None
    if kind == "below":
        if math.isnan(x):
            if lloq is None:
                raise DataError(
                    f"{_text(cell)!r} is below the assay's limit but the limit is not known",
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
    found = "the cell is blank" if not _text(cell) else f"found {_text(cell)!r}"
    fix = ("write 1 when the event happened (e.g. the mouse ate) and 0 when the test ended before it (censored)"
           if event else "write 1 when the test ended before the event (censored), 0 otherwise")
    raise DataError(
        f"expected 1/0, yes/no, y/n or true/false in the {what}, {found}",
        file=table.source, row=row, column=column, fix=fix,
    )


# --------------------------------------------------------------- columns and where


def _norm(name: str) -> str:
    return " ".join(str(name).split()).casefold()


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


def _summary_word(cells: list[object], texts: list[str], label_col: int | None) -> str | None:
    """The summary label of a row ('average', 'sd', ...) or None."""
    label = ""
    if label_col is not None and texts[label_col]:
        label = texts[label_col]
    else:
        for cell, text in zip(cells, texts, strict=True):
            if text and _classify(cell)[0] != "number":
                label = text
                break
    word = " ".join(label.casefold().split()).rstrip(":").strip()
    return word if word in SUMMARY_WORDS else None


def _screen(
    table: _Table, *, label_col: int | None, used_cols: Sequence[int], where: Sequence[str]
) -> list[str | None]:
    """Reason each data row is left out before reading (None = read it)."""
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
        word = _summary_word(cells, txt, label_col)
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
                listing = ", ".join(repr(p) if p else "(blank)" for p in present[:30])
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
            fix=f"use {option} with one of the levels: " + ", ".join(repr(lv) for lv in levels),
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
    """
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
            f"{column!r} has a single level ({levels[0]!r}) in the rows used",
            file=table.source, column=column,
            fix="a comparison needs at least 2 levels: check --where and the column",
        )


# ----------------------------------------------------------------------- time course


def _timecourse_long(table, *, animal, group, time, value, where, lloq, log_scale, time_unit):
    ia = _resolve(table, animal, option="--animal")
    ig = _resolve(table, group, option="--group")
    it = _resolve(table, time, option="--time")
    iv = _resolve(table, value, option="--value")
    _distinct(table, {"--animal": ia, "--group": ig, "--time": it, "--value": iv})
    reasons = _screen(table, label_col=ia, used_cols=[ia, ig, it, iv], where=where)
    entries, obs, units = [], [], {}
    for rownum, cells, reason in zip(table.rows, table.cells, reasons, strict=True):
        if reason:
            entries.append((rownum, EXCLUDED, reason, ""))
            continue
        if _classify(cells[iv])[0] == "missing":
            entries.append((rownum, EXCLUDED, "missing value (lost fraction)", ""))
            continue
        a = _required_text(table, rownum, cells, ia, "animal ID")
        g = _required_text(table, rownum, cells, ig, "group")
        t = _time_cell(table, rownum, cells[it], table.label(it))
        units.setdefault(t[1], (rownum, table.label(it)))
        parsed = _timecourse_value(table, rownum, table.label(iv), cells[iv], lloq=lloq, log_scale=log_scale)
        obs.append((rownum, a, g, t[0], *parsed))
        entries.append((rownum, USED, "", ""))
    columns = {"animal": table.header[ia], "group": table.header[ig], "time": table.header[it], "value": table.header[iv]}
    unit = _one_unit(table, units, given=time_unit)
    return entries, obs, columns, False, unit, {"group": ig, "time": it, "value": iv, "animal": ia}


def _required_text(table: _Table, rownum: int, cells: list[object], idx: int, what: str) -> str:
    text = _text(cells[idx])
    if text.casefold() in MISSING_TOKENS:
        raise DataError(
            f"the {what} is blank in a row with data" if not text else f"the {what} is missing ({text!r})",
            file=table.source, row=rownum, column=table.label(idx),
            fix=f"fill in the {what}, or delete the row",
        )
    return text


def _time_cell(table: _Table, rownum: int, cell: object, column: str) -> tuple[float, str]:
    parsed = _parse_time(cell)
    if parsed is None:
        text = _text(cell)
        problem = "the time is blank" if not text else f"expected a time, found {text!r}"
        raise DataError(
            problem, file=table.source, row=rownum, column=column,
            fix="write the time as a number, optionally with a unit (2, 2 h, 30 min)"
            + (" and a decimal point" if _DECIMAL_COMMA.search(text) else ""),
        )
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
    ig = _resolve(table, group, option="--group")
    _distinct(table, {"--animal": ia, "--group": ig})
    where_cols = {_resolve(table, c, option="--where") for c in parse_where(where)}
    tcols, seen = [], {}
    for i, h in enumerate(table.header):
        if i in (ia, ig) or i in where_cols:
            continue
        parsed = _parse_time(h) if h.strip() else None
        if parsed is None:
            continue
        if parsed[0] in seen:
            raise DataError(
                f"the columns {table.header[seen[parsed[0]]]!r} and {h!r} are the same time point",
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
    reasons = _screen(table, label_col=ia, used_cols=[ia, ig] + [i for i, _ in tcols], where=where)
    entries, obs = [], []
    for rownum, cells, reason in zip(table.rows, table.cells, reasons, strict=True):
        if reason:
            entries.append((rownum, EXCLUDED, reason, ""))
            continue
        a = _required_text(table, rownum, cells, ia, "animal ID")
        g = _required_text(table, rownum, cells, ig, "group")
        for i, (t, _) in tcols:
            label = table.label(i)
            parsed = _timecourse_value(table, rownum, label, cells[i], lloq=lloq, log_scale=log_scale)
            if parsed is None:
                entries.append((rownum, EXCLUDED, "missing value (lost fraction)", label))
            else:
                obs.append((rownum, a, g, t, *parsed))
                entries.append((rownum, USED, "", label))
    columns = {"animal": table.header[ia], "group": table.header[ig], "time": time, "value": value}
    return entries, obs, columns, False, unit, {"group": ig, "animal": ia, "value": None, "time": None}


def _timecourse_wide_group(table, *, animal, group, time, value, where, lloq, log_scale, time_unit):
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
    for i, h in enumerate(table.header):
        if i == it or i in where_cols:
            continue
        head = h.strip()
        if head:
            grp, sep, aid = (p.strip() for p in head.partition("|"))
            if " ".join(grp.casefold().split()).rstrip(":") in SUMMARY_WORDS:
                raise DataError(
                    f"the column {h!r} holds a summary statistic, not an animal",
                    file=table.source, row=table.header_row, column=h,
                    fix="export the replicate values (one column per animal), or delete the column",
                )
            if not grp or (sep and not aid):
                raise DataError(
                    f"cannot read the header {h!r} as GROUP or GROUP|ANIMAL",
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
                f"two columns are the animal {aid!r} ({table.label(ids[aid])} and {table.label(i)})",
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
    reasons = _screen(table, label_col=it, used_cols=[it] + [i for i, _, _ in acols], where=where)
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
    return entries, obs, columns, made_up, unit, {"group": None, "animal": None, "value": None, "time": it}


def read_timecourse(
    source: str | Path | pd.DataFrame,
    *,
    animal: str,
    group: str,
    time: str,
    value: str,
    sheet: str | int | None = None,
    where: Sequence[str] = (),
    lloq: float | None = None,
    layout: str = "long",
    log_scale: bool = False,
    reference: str | None = None,
    time_unit: str | None = None,
) -> Sheet:
    """Read and validate a time-course sheet (e.g. microdialysis fractions).

    Parameters
    ----------
    source : str, Path or pandas.DataFrame
        The sheet (.csv / .tsv / .txt / .xlsx) or a DataFrame.
    animal, group, time, value : str
        Column names (long layout). In ``wide-time``, ``time`` and ``value`` only name the
        roles; in ``wide-group``, ``animal``, ``group`` and ``value`` do (see the module).
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
    reference : str, optional
        Reference group, put first. Without it: a group named like a control (saline,
        vehicle, control, sham, IgG, WT, 0 mg/kg, ...), else the lowest dose when every group
        is a number, else the first in sorted order (see ``Sheet.reference_rule``).
    time_unit : str, optional
        Unit of the times: ``"h"``, ``"min"``, ``"day"``, ``"week"`` (also ``"s"``,
        ``"hour(s)"``, ``"minute(s)"``, ``"d"``, ``"wk"``). A unit written with the times
        ("2 h", "Day 2") is read without it, and must agree with it. Without either, the
        times have no unit and none is printed.

    Returns
    -------
    Sheet
        Frame columns ``row, animal, group, time, value, censored, limit``; a below-limit
        value is left-censored with ``value = limit``.
    """
    if layout not in LAYOUTS:
        raise DataError(f"unknown layout {layout!r}", fix="use --layout long, wide-time or wide-group")
    given_unit = _time_unit_option(time_unit)
    if lloq is not None and not (math.isfinite(float(lloq)) and float(lloq) > 0):
        raise DataError(f"--lloq must be a positive number, got {lloq!r}", fix="pass --lloq VALUE above zero")
    table = _load(source, sheet=sheet)
    reader = {"long": _timecourse_long, "wide-time": _timecourse_wide_time, "wide-group": _timecourse_wide_group}
    entries, obs, columns, made_up, unit, idx = reader[layout](
        table, animal=animal, group=group, time=time, value=value, where=where, lloq=lloq, log_scale=log_scale,
        time_unit=given_unit,
    )
    if not obs:
        raise _no_data_left(table, entries)
    gcol = table.label(idx["group"]) if idx["group"] is not None else group
    tcol = table.label(idx["time"]) if idx["time"] is not None else time
    first_group: dict[str, tuple[str, int]] = {}
    seen: dict[tuple[str, float], int] = {}
    for rownum, a, g, t, *_ in obs:
        if (a, t) in seen:
            raise DataError(
                f"animal {a!r} has two values at time {t:g} (rows {seen[(a, t)]} and {rownum})",
                file=table.source, row=rownum, column=tcol,
                fix="keep one value per animal and time point, or correct the animal ID or the time",
            )
        seen[(a, t)] = rownum
        g0, r0 = first_group.setdefault(a, (g, rownum))
        if g0 != g:
            raise DataError(
                f"animal {a!r} is in group {g0!r} (row {r0}) and in group {g!r} (row {rownum})",
                file=table.source, row=rownum, column=gcol,
                fix="an animal belongs to one group: correct the group or the animal ID",
            )
    levels = list(dict.fromkeys(o[2] for o in obs))
    _check_levels(table, levels, column=gcol)
    levels, rule = _order_levels(table, levels, reference, column=gcol, option="--reference")
    for lv in levels:
        members = [(r, a) for r, a, g, *_ in obs if g == lv]
        n = len({a for _, a in members})
        if n < 2:
            raise DataError(
                f"group {lv!r} has only {n} animal (animal {members[0][1]!r})",
                file=table.source, row=members[0][0], column=gcol,
                fix="each group needs at least 2 animals: add animals, or keep the other groups with --where",
            )
    if len({o[3] for o in obs}) < 2:
        raise DataError(
            f"only one time point ({obs[0][3]:g}) in the rows used",
            file=table.source, column=tcol,
            fix="a time course needs at least 2 time points: check the time column and --where",
        )
    rows, animals, groups, times, values, cens, limits = zip(*obs, strict=True)
    frame = pd.DataFrame(
        {
            ROW: np.asarray(rows, dtype=np.int64),
            ANIMAL: pd.array([str(a) for a in animals], dtype="str"),
            GROUP: pd.Categorical(groups, categories=levels),
            TIME: np.asarray(times, dtype=float),
            VALUE: np.asarray(values, dtype=float),
            CENSORED: np.asarray(cens, dtype=bool),
            LIMIT: np.asarray(limits, dtype=float),
        }
    )
    return Sheet(
        frame=frame,
        ledger=_ledger(table.source, entries),
        columns=columns,
        source=table.source,
        design="timecourse",
        factors=(GROUP,),
        animal_ids_made_up=made_up,
        time_unit=unit,
        reference_rule={str(columns["group"]): rule},
    )


# ------------------------------------------------------------------------ factorial


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

    Returns
    -------
    Sheet
        Frame columns ``row, animal, <factors...>, value, censored`` (+ ``cohort``);
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
    table = _load(source, sheet=sheet)
    iv = _resolve(table, outcome, option="--outcome")
    ifs = [_resolve(table, f, option="--factor") for f in factors]
    ia = _resolve(table, animal, option="--animal") if animal is not None else None
    ic = _resolve(table, cohort, option="--cohort") if cohort is not None else None
    flag_option = "--event" if event is not None else "--censored"
    flag_col = event if event is not None else censored
    ik = _resolve(table, flag_col, option=flag_option) if flag_col is not None else None
    if ik is not None and event is None and _EVENT_HEADER.search(table.header[ik]):
        raise DataError(
            f"the --censored column {table.header[ik]!r} is named like an event indicator; in survival data "
            "1 in such a column usually means the event happened, not that the value is censored",
            file=table.source, row=table.header_row, column=table.label(ik),
            fix=f"use --event {table.header[ik]!r} if 1 means the event happened; if 1 really means censored, "
                "rename the column (e.g. 'censored')",
        )
    roles = {"--outcome": iv, "--animal": ia, "--cohort": ic, flag_option: ik}
    roles.update({f"--factor {f}": i for f, i in zip(factors, ifs, strict=True)})
    _distinct(table, roles)
    used = [i for i in [iv, ia, ic, ik, *ifs] if i is not None]
    reasons = _screen(table, label_col=ia, used_cols=used, where=where)
    vcol = table.label(iv)
    entries, obs = [], []
    for rownum, cells, reason in zip(table.rows, table.cells, reasons, strict=True):
        if reason:
            entries.append((rownum, EXCLUDED, reason, ""))
            continue
        kind, x = _classify(cells[iv])
        if kind == "missing":
            entries.append((rownum, EXCLUDED, "missing outcome", ""))
            continue
        a = _required_text(table, rownum, cells, ia, "animal ID") if ia is not None else f"row{rownum}"
        levels = tuple(_required_text(table, rownum, cells, i, f"{f!r} level") for f, i in zip(factors, ifs, strict=True))
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
    # An animal may have several rows (repeated observations, e.g. per-minute scores), but
    # all in one cell and one cohort.
    if ia is not None:
        first: dict[str, tuple[int, tuple[str, ...], str]] = {}
        for rownum, a, levels, _x, _c, coh in obs:
            if a in first:
                r0, l0, c0 = first[a]
                if l0 != levels or c0 != coh:
                    what = "two groups" if l0 != levels else "two cohorts"
                    raise DataError(
                        f"animal {a!r} appears in {what} (rows {r0} and {rownum})",
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
    for combo in itertools.product(*cats):
        label = ", ".join(f"{f}={lv}" for f, lv in zip(factors, combo, strict=True))
        if combo not in members:
            raise DataError(
                f"no animals in the cell {label}",
                file=table.source,
                fix="every combination of the factor levels needs animals: drop a level with --where, or analyse fewer factors",
            )
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
    columns = {"value": table.header[iv]}
    if ia is not None:
        columns["animal"] = table.header[ia]
    for f, i in zip(factors, ifs, strict=True):
        columns[f] = table.header[i]
    if ic is not None:
        columns["cohort"] = table.header[ic]
    if ik is not None:
        columns["event" if event is not None else "censored"] = table.header[ik]
    return Sheet(
        frame=pd.DataFrame(data),
        ledger=_ledger(table.source, entries),
        columns=columns,
        source=table.source,
        design="factorial",
        factors=tuple(factors),
        animal_ids_made_up=ia is None,
        reference_rule=rules,
        notes=tuple(notes),
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
                f"animal {a!r} is censored at {x:g} (row {r}) but was observed at {later[1]:g} (row {later[0]}); "
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
