"""Lab sheets as they really come (issue 15): a corpus of bad and awkward sheets.

Each case writes one file in tmp_path (byte for byte, so that quotes, line ends and
encodings are exactly as given) and states its expected outcome: a DataError whose message
holds a fragment (and names a row), or a correct read whose numbers are worked by hand.
One parametrised test per class of problem, and one test that the row ledger accounts for
every physical line of each file read.
"""

from __future__ import annotations

import codecs
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from bayes_igf1.errors import DataError
from bayes_igf1.io import Sheet, read_factorial, read_table, read_timecourse

# ----------------------------------------------------------------------------- helpers


@dataclass(frozen=True)
class Case:
    """One sheet and its expected outcome.

    ``write(tmp_path) -> path`` writes the file; ``read(path)`` reads it; ``error`` is a
    fragment of the DataError's message (None: the read must succeed and ``check`` runs on
    its result); ``row`` is the row the error must name.
    """

    id: str
    write: Callable[[Path], Path]
    read: Callable[[Path], object]
    error: str | None = None
    row: int | None = None
    check: Callable[[object], None] | None = None


def text_file(content: str, name: str = "sheet.csv", encoding: str = "utf-8") -> Callable[[Path], Path]:
    def write(tmp: Path) -> Path:
        path = tmp / name
        path.write_bytes(content.encode(encoding))
        return path

    return write


def bytes_file(content: bytes, name: str = "sheet.csv") -> Callable[[Path], Path]:
    def write(tmp: Path) -> Path:
        path = tmp / name
        path.write_bytes(content)
        return path

    return write


def lines(*rows: str, end: str = "\n") -> str:
    return end.join(rows) + end


def tc(**kw) -> Callable[[Path], Sheet]:
    opts = dict(animal="Mouse", group="Treatment", time="Hour", value="IGF1")
    opts.update(kw)
    return lambda path: read_timecourse(path, **opts)


def fx(**kw) -> Callable[[Path], Sheet]:
    opts = dict(outcome="Immobility", factors=["Genotype", "Treatment"], animal="Animal")
    opts.update(kw)
    return lambda path: read_factorial(path, **opts)


def values(sheet: Sheet) -> dict[tuple[str, float], float]:
    """Time course: (animal, time) -> value."""
    f = sheet.frame
    return {(a, t): v for a, t, v in zip(f["animal"], f["time"], f["value"], strict=True)}


def by_animal(sheet: Sheet) -> dict[str, float]:
    """Factorial (one row per animal): animal -> outcome."""
    return dict(zip(sheet.frame["animal"], sheet.frame["value"], strict=True))


# Time course, long layout: 2 groups x 2 animals x 2 hours (lines 2-9).
TC = [
    "Mouse,Treatment,Hour,IGF1",
    "V1,Vehicle,0,10", "V1,Vehicle,1,12",
    "V2,Vehicle,0,11", "V2,Vehicle,1,13",
    "K1,Ketamine,0,10", "K1,Ketamine,1,20",
    "K2,Ketamine,0,12", "K2,Ketamine,1,22",
]
TC_VALUES = {("V1", 0): 10, ("V1", 1): 12, ("V2", 0): 11, ("V2", 1): 13,
             ("K1", 0): 10, ("K1", 1): 20, ("K2", 0): 12, ("K2", 1): 22}

# Factorial: 2 x 2, two animals per cell (lines 2-9).
FX = [
    "Animal,Genotype,Treatment,Immobility",
    "W1,WT,Vehicle,100", "W2,WT,Vehicle,110",
    "W3,WT,Fluox,60", "W4,WT,Fluox,70",
    "K1,KO,Vehicle,150", "K2,KO,Vehicle,160",
    "K3,KO,Fluox,90", "K4,KO,Fluox,80",
]
FX_VALUES = {"W1": 100, "W2": 110, "W3": 60, "W4": 70, "K1": 150, "K2": 160, "K3": 90, "K4": 80}
FX_N = {"WT|Vehicle": 2, "WT|Fluox": 2, "KO|Vehicle": 2, "KO|Fluox": 2}


def insert(rows: list[str], at: int, *new: str) -> list[str]:
    """``rows`` with ``new`` inserted before list index ``at`` (= line ``at + 1``)."""
    return rows[:at] + list(new) + rows[at:]


def excluded(sheet: Sheet) -> dict[int, str]:
    return {e["row"]: e["reason"] for e in sheet.ledger.excluded if "column" not in e}


def run(case: Case, tmp_path: Path) -> object:
    path = case.write(tmp_path)
    if case.error is not None:
        with pytest.raises(DataError) as err:
            case.read(path)
        assert case.error in str(err.value), str(err.value)
        if case.row is not None:
            assert err.value.row == case.row, str(err.value)
        return err.value
    out = case.read(path)
    if case.check is not None:
        case.check(out)
    return out


# ------------------------------------------------- class 1: summary rows with labels


def _summary_tc(label_row: str, line: int, reason: str):
    def check(sheet: Sheet) -> None:
        assert values(sheet) == TC_VALUES  # the summary row is not an animal
        assert sheet.summary()["n_per_group"] == {"Vehicle": 2, "Ketamine": 2}
        assert excluded(sheet) == {line: reason}

    return Case(f"tc-{label_row.split(',')[0]}", text_file(lines(*insert(TC, 5, label_row))), tc(), check=check)


def _summary_fx(label_row: str, line: int, reason: str, ident: str | None = None):
    def check(sheet: Sheet) -> None:
        assert by_animal(sheet) == FX_VALUES
        assert sheet.summary()["n_per_group"] == FX_N
        assert excluded(sheet) == {line: reason}

    return Case(ident or f"fx-{label_row.split(',')[0]}", text_file(lines(*insert(FX, 3, label_row))), fx(),
                check=check)


def _real_ids(sheet: Sheet) -> None:
    # every one of these IDs is an animal: a word followed by a number is never a summary label
    assert sorted(by_animal(sheet)) == sorted(["M01", "Mean1", "SD-3", "N12", "SEM_2", "Mean 3", "Avg7", "Se1"])
    assert sheet.ledger.excluded == []
    assert by_animal(sheet)["Mean1"] == 110 and by_animal(sheet)["SD-3"] == 60


def _sleep_deprivation(sheet: Sheet) -> None:
    # 'SD' is a level (sleep deprivation) in a factor column, not a summary label; no animal column
    assert list(sheet.frame["Condition"].cat.categories) == ["Control", "SD"]
    assert sheet.summary()["n_per_group"] == {"Control": 2, "SD": 3}
    assert sheet.frame["value"].tolist() == [5.0, 6.0, 9.0, 10.0, 11.0]
    assert excluded(sheet) == {7: "summary row (mean)"}


def _prism(sheet: Sheet) -> None:
    assert sheet.summary()["n_per_group"] == {"Vehicle": 2, "Ketamine": 2}
    assert values(sheet) == {("Vehicle-1", 0): 10, ("Vehicle-2", 0): 11, ("Ketamine-1", 0): 10, ("Ketamine-2", 0): 12,
                             ("Vehicle-1", 1): 12, ("Vehicle-2", 1): 13, ("Ketamine-1", 1): 20, ("Ketamine-2", 1): 22}
    assert excluded(sheet) == {4: "summary row (mean ± sem)", 5: "summary row (n)", 6: "summary row (sd)"}


def _wide_avg(sheet: Sheet) -> None:
    assert values(sheet) == TC_VALUES
    assert excluded(sheet) == {4: "summary row (avg)"}


SUMMARY_CASES = [
    _summary_tc("Avg (n=2),Vehicle,0,10.5", 6, "summary row (avg (n=2))"),
    _summary_tc('"Mean ± SEM",Vehicle,1,12.5 ± 0.5', 6, "summary row (mean ± sem)"),
    _summary_tc("MEAN:,Vehicle,1,12.5", 6, "summary row (mean)"),
    _summary_tc("n = 2,Vehicle,1,2", 6, "summary row (n = 2)"),
    _summary_tc("Mean WT vehicle,Vehicle,1,12.5", 6, "summary row (mean wt vehicle)"),
    # blank ID, the label in the time column
    _summary_tc(",Vehicle,Mean,11", 6, "summary row (mean)"),
    _summary_fx("Mean±SD,WT,Vehicle,105", 4, "summary row (mean±sd)"),
    _summary_fx("SEM,WT,Vehicle,5", 4, "summary row (sem)"),
    _summary_fx("N=2,WT,Vehicle,2", 4, "summary row (n=2)"),
    _summary_fx("Std. Dev.,WT,Vehicle,7.07", 4, "summary row (std. dev.)"),
    # blank ID, a decorated label in a factor column
    _summary_fx(",Mean ± SEM,Vehicle,105", 4, "summary row (mean ± sem)", ident="fx-label-in-factor-column"),
    # 'Avg' under each block, with the block's levels carried: was 'animal Avg appears in two groups'
    Case("fx-avg-under-each-block",
         text_file(lines(*FX[:3], "Avg,WT,Vehicle,105", *FX[3:5], "Avg,WT,Fluox,65", *FX[5:])), fx(),
         check=lambda s: (by_animal(s) == FX_VALUES
                          and excluded(s) == {4: "summary row (avg)", 7: "summary row (avg)"}) or pytest.fail(str(excluded(s)))),
    Case("wide-time-avg",
         text_file(lines("Mouse,Treatment,0,1", "V1,Vehicle,10,12", "V2,Vehicle,11,13", "Avg,Vehicle,10.5,12.5",
                         "K1,Ketamine,10,20", "K2,Ketamine,12,22")),
         tc(layout="wide-time"), check=_wide_avg),
    Case("prism-mean-n-sd-rows",
         text_file(lines("Hour,Vehicle,,Ketamine,", "0,10,11,10,12", "1,12,13,20,22", '"Mean ± SEM",11,12,15,17',
                         "N,2,2,2,2", "SD,1,1,5,5")),
         tc(layout="wide-group"), check=_prism),
    Case("ids-that-look-like-labels-are-animals",
         text_file(lines("Animal,Genotype,Treatment,Immobility", "M01,WT,Vehicle,100", "Mean1,WT,Vehicle,110",
                         "SD-3,WT,Fluox,60", "N12,WT,Fluox,70", "SEM_2,KO,Vehicle,150", "Mean 3,KO,Vehicle,160",
                         "Avg7,KO,Fluox,90", "Se1,KO,Fluox,80")),
         fx(), check=_real_ids),
    Case("sd-is-a-level-not-a-summary",
         text_file(lines("Condition,Score", "Control,5", "Control,6", "SD,9", "SD,10", "SD,11", "Mean,8.2")),
         lambda p: read_factorial(p, outcome="Score", factors=["Condition"]), check=_sleep_deprivation),
]


@pytest.mark.parametrize("case", SUMMARY_CASES, ids=lambda c: c.id)
def test_summary_rows(case, tmp_path):
    run(case, tmp_path)


# ------------------------------------------- class 2: quotes, line ends, row numbers


def _notes_sheet(note_rows: dict[int, str], *, end: str = "\n", final_newline: bool = True) -> str:
    """FX with a Notes column; ``note_rows``: list index -> the Notes cell as written."""
    rows = [FX[0] + ",Notes"] + [r + "," + note_rows.get(k, "") for k, r in enumerate(FX[1:], start=1)]
    text = end.join(rows)
    return text + end if final_newline else text


def _crlf_blank_lines(sheet: Sheet) -> None:
    # header on line 2 (line 1 blank); blank lines 5 and 8; every animal at its own line
    assert sheet.ledger.header_row == 2
    assert excluded(sheet) == {5: "blank row", 8: "blank row"}
    assert dict(zip(sheet.frame["animal"], sheet.frame["row"], strict=True)) == {
        "W1": 3, "W2": 4, "W3": 6, "W4": 7, "K1": 9, "K2": 10, "K3": 11, "K4": 12}
    assert by_animal(sheet) == FX_VALUES


QUOTE_CASES = [
    # a stray quote opens a cell on line 4 (W3) and swallows the lines after it
    Case("stray-quote-swallows-lines", text_file(_notes_sheet({3: '"looked sick'})), fx(),
         error="a quote (\") opens a cell in line 4 and does not close on that line: lines 4-9 would be read as one cell",
         row=4),
    Case("stray-quote-names-the-column", text_file(_notes_sheet({3: '"looked sick'})), fx(),
         error="column 'Notes'", row=4),
    # the same on the last line, without a final newline
    Case("unclosed-quote-on-the-last-line", text_file(_notes_sheet({8: '"no end'}, final_newline=False)), fx(),
         error="opens a cell in line 9 and does not close on that line: the quote is never closed", row=9),
    # a quoted note closed on the next line: a cell with a line break is refused too
    Case("quoted-cell-with-a-line-break", text_file(_notes_sheet({2: '"calm', 3: 'then active"'})), fx(),
         error="opens a cell in line 3 and does not close on that line: lines 3-4", row=3),
    # quotes that open and close on one line, and a quote inside a cell, are read
    Case("quotes-on-one-line-are-fine", text_file(_notes_sheet({1: '"ok, calm"', 2: 'said "hi"', 5: '""'})), fx(),
         check=lambda s: (by_animal(s) == FX_VALUES and s.ledger.excluded == []) or pytest.fail("misread")),
    Case("crlf-and-blank-lines-keep-line-numbers",
         text_file(lines("", FX[0], FX[1], FX[2], "", FX[3], FX[4], ",,,", *FX[5:], end="\r\n")), fx(),
         check=_crlf_blank_lines),
    Case("old-mac-line-ends",
         text_file(lines(*FX, end="\r")), fx(),
         check=lambda s: (s.frame["row"].tolist() == list(range(2, 10)) and by_animal(s) == FX_VALUES)
         or pytest.fail("misread")),
]


@pytest.mark.parametrize("case", QUOTE_CASES, ids=lambda c: c.id)
def test_quotes_and_line_numbers(case, tmp_path):
    run(case, tmp_path)


# ------------------------------------------------- class 3: decimal / thousands


SEMI_THOUSANDS = lines(
    "Animal;Genotype;Treatment;Immobility",
    "W1;WT;Vehicle;960", "W2;WT;Vehicle;1.810",
    "W3;WT;Fluox;600", "W4;WT;Fluox;700",
    "K1;KO;Vehicle;1.500", "K2;KO;Vehicle;1.600",
    "K3;KO;Fluox;900", "K4;KO;Fluox;800",
)
SEMI_COMMAS = lines(
    "Animal;Genotype;Treatment;Immobility",
    "W1;WT;Vehicle;12,5", "W2;WT;Vehicle;1.810,25",
    "W3;WT;Fluox;6", "W4;WT;Fluox;7,75",
    "K1;KO;Vehicle;15", "K2;KO;Vehicle;16,5",
    "K3;KO;Fluox;9", "K4;KO;Fluox;8",
)


def _expect(expected: dict[str, float]) -> Callable[[Sheet], None]:
    def check(sheet: Sheet) -> None:
        assert by_animal(sheet) == pytest.approx(expected)

    return check


def _read_table_floats(out) -> None:
    frame, rows = out
    assert rows == list(range(2, 10))
    assert frame["Immobility"].tolist() == [12.5, 1810.25, 6.0, 7.75, 15.0, 16.5, 9.0, 8.0]
    assert frame["Mouse"].tolist()[:2] == ["W1", "W2"]  # text stays text


NUMBER_CASES = [
    # '1.810' beside '960' in a ;-file: 1810 or 1.81? Stop and name the cells.
    Case("semicolon-thousands-point-is-an-error", text_file(SEMI_THOUSANDS), fx(),
         error="'1.810' (row 3), '1.500' (row 6), '1.600' (row 7) have a point and three digits after it, "
               "beside '960' (row 2)", row=3),
    Case("semicolon-thousands-error-gives-both-readings", text_file(SEMI_THOUSANDS), fx(),
         error="probably a thousands separator (1810), not a decimal point (1.81)"),
    Case("semicolon-thousands-read-when-told", text_file(SEMI_THOUSANDS), fx(thousands=".", decimal=","),
         check=_expect({"W1": 960, "W2": 1810, "W3": 600, "W4": 700, "K1": 1500, "K2": 1600, "K3": 900, "K4": 800})),
    Case("semicolon-decimal-points-when-told", text_file(SEMI_THOUSANDS), fx(decimal="."),
         check=_expect({"W1": 960, "W2": 1.81, "W3": 600, "W4": 700, "K1": 1.5, "K2": 1.6, "K3": 900, "K4": 800})),
    # decimal commas and a thousands point in one column
    Case("decimal-commas-and-thousands-point", text_file(SEMI_COMMAS), fx(decimal=",", thousands="."),
         check=_expect({"W1": 12.5, "W2": 1810.25, "W3": 6, "W4": 7.75, "K1": 15, "K2": 16.5, "K3": 9, "K4": 8})),
    Case("decimal-comma-without-the-option", text_file(SEMI_COMMAS.replace("1.810,25", "18,25")), fx(),
         error="'12,5' has a comma in the number", row=2),
    Case("decimal-comma-error-names-the-option", text_file(SEMI_COMMAS.replace("1.810,25", "18,25")), fx(),
         error="--decimal , (decimal=',')"),
    Case("decimal-comma-read", text_file(SEMI_COMMAS.replace("1.810,25", "18,25")), fx(decimal=","),
         check=_expect({"W1": 12.5, "W2": 18.25, "W3": 6, "W4": 7.75, "K1": 15, "K2": 16.5, "K3": 9, "K4": 8})),
    # a comma-separated file whose other column writes decimal commas: '1.810' beside '150' is flagged
    Case("comma-file-with-decimal-commas-elsewhere",
         text_file(lines("Animal,Genotype,Treatment,Immobility,Weight", 'W1,WT,Vehicle,1.810,"21,5"',
                         *[r + ",22" for r in FX[2:]])),
         fx(), error="as the file writes decimal commas (e.g. '21,5' in row 2)", row=2),
    # the rule's boundary: a comma-separated file with no decimal comma anywhere gives no evidence of
    # thousands, so its points are decimal points ('1.810' is 1.81; thousands='.' reads 1810)
    Case("comma-file-points-are-decimal-points", text_file(lines(*FX[:2], "W2,WT,Vehicle,1.810", *FX[3:])), fx(),
         check=_expect({**FX_VALUES, "W2": 1.81})),
    # a point where decimal=',' was given is not silently dropped
    Case("point-against-the-format-given", text_file(SEMI_COMMAS.replace("1.810,25", "18.25")), fx(decimal=","),
         error="'18.25' is not a number written with decimal ',', no thousands separator", row=3),
    # dot decimals with three places in a ;-file: no thousands (a leading 0, or no whole numbers beside)
    Case("semicolon-dot-decimals-are-fine",
         text_file(SEMI_THOUSANDS.replace("1.810", "0.125").replace("1.500", "2.5").replace("1.600", "3.25")), fx(),
         check=_expect({"W1": 960, "W2": 0.125, "W3": 600, "W4": 700, "K1": 2.5, "K2": 3.25, "K3": 900, "K4": 800})),
    # the check reads a wide sheet's value columns as one measure
    Case("wide-time-thousands-across-columns",
         text_file(lines("Mouse;Treatment;0;1", "V1;Vehicle;960;1.210", "V2;Vehicle;970;1.300",
                         "K1;Ketamine;950;2.010", "K2;Ketamine;990;2.200")),
         tc(layout="wide-time"), error="have a point and three digits after it, beside '960' (row 2)", row=2),
    Case("wide-time-thousands-read-when-told",
         text_file(lines("Mouse;Treatment;0;1", "V1;Vehicle;960;1.210", "V2;Vehicle;970;1.300",
                         "K1;Ketamine;950;2.010", "K2;Ketamine;990;2.200")),
         tc(layout="wide-time", thousands="."),
         check=lambda s: values(s) == {("V1", 0): 960, ("V1", 1): 1210, ("V2", 0): 970, ("V2", 1): 1300,
                                       ("K1", 0): 950, ("K1", 1): 2010, ("K2", 0): 990, ("K2", 1): 2200}
         or pytest.fail(str(values(s)))),
    # a no-break space as thousands separator: named escaped, read with thousands=' '
    Case("nbsp-thousands-is-named", text_file(lines(*FX[:2], "W2,WT,Vehicle,1\u00a0810", *FX[3:])), fx(),
         error="expected a number, found '1\\xa0810'", row=3),
    Case("nbsp-thousands-hint", text_file(lines(*FX[:2], "W2,WT,Vehicle,1\u00a0810", *FX[3:])), fx(),
         error="say so with --thousands ' '"),
    Case("nbsp-thousands-read", text_file(lines(*FX[:2], "W2,WT,Vehicle,1\u00a0810", *FX[3:])), fx(thousands=" "),
         check=_expect({**FX_VALUES, "W2": 1810})),
    # read_table gives floats for numbers in the format given, text stays text
    Case("read-table-with-decimal-options", text_file(SEMI_COMMAS.replace("Animal", "Mouse")),
         lambda p: read_table(p, decimal=",", thousands="."), check=_read_table_floats),
    Case("bad-decimal-option", text_file(lines(*FX)), fx(decimal=";"), error="the decimal separator must be '.' or ','"),
    Case("same-decimal-and-thousands", text_file(lines(*FX)), fx(decimal=",", thousands=","),
         error="the decimal and the thousands separator are both ','"),
]


@pytest.mark.parametrize("case", NUMBER_CASES, ids=lambda c: c.id)
def test_decimal_and_thousands_separators(case, tmp_path):
    run(case, tmp_path)


# --------------------------------------------------------------- class 4: Excel


def _workbook(sheets: dict[str, list[list[object]]], *, hidden: tuple[str, ...] = ()):
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for r in rows:
            ws.append(r)
        if title in hidden:
            ws.sheet_state = "hidden"
    return wb


FX_ROWS = [r.split(",") for r in FX]
FX_ROWS = [FX_ROWS[0]] + [[a, g, t, float(v)] for a, g, t, v in FX_ROWS[1:]]


def xlsx(sheets: dict[str, list[list[object]]], *, name: str = "book.xlsx", hidden: tuple[str, ...] = (),
         cache: dict[str, str] | None = None) -> Callable[[Path], Path]:
    """An .xlsx written by openpyxl (formulas have no stored value); ``cache``: cell -> a stored
    value written into the XML afterwards (as Excel would store it; '' = an empty text result)."""

    def write(tmp: Path) -> Path:
        path = tmp / name
        _workbook(sheets, hidden=hidden).save(path)
        if cache:
            with zipfile.ZipFile(path) as z:
                files = {n: z.read(n) for n in z.namelist()}
            xml = files["xl/worksheets/sheet1.xml"].decode()
            for cell, value in cache.items():
                pattern = rf'<c r="{cell}"([^>]*)><f>(.*?)</f><v\s*/>'
                kind = ' t="str"' if value == "" else ""
                xml, n = re.subn(pattern, rf'<c r="{cell}"\1{kind}><f>\2</f><v>{value}</v>', xml)
                assert n == 1, (cell, xml)
            files["xl/worksheets/sheet1.xml"] = xml.encode()
            with zipfile.ZipFile(path, "w") as z:
                for n, b in files.items():
                    z.writestr(n, b)
        return path

    return write


def _with_formula(rows: list[list[object]], *, empty_note: bool = False) -> list[list[object]]:
    rows = [list(r) for r in rows]
    rows[0] = rows[0] + ["Note"]
    for r in rows[1:]:
        r.append(None)
    rows[2][3] = "=D2+10"  # W2 = W1 + 10 = 110
    if empty_note:
        rows[1][4] = '=IF(D2>500,"high","")'
    return rows


def _misnamed(sheet: Sheet) -> None:
    assert by_animal(sheet) == FX_VALUES
    assert any("is an Excel workbook (.xlsx) despite its .csv name" in n for n in sheet.notes)


EXCEL_CASES = [
    Case("two-sheets-with-data-and-no-sheet",
         xlsx({"Info": [["note"], ["read me"]], "Data": FX_ROWS}), fx(),
         error="the workbook has 2 sheets holding data (0: 'Info' (2 rows), 1: 'Data' (9 rows)) and no sheet was chosen"),
    Case("two-sheets-error-names-the-option",
         xlsx({"Info": [["note"], ["read me"]], "Data": FX_ROWS}), fx(), error="--sheet 'Info'"),
    Case("hidden-sheet-with-data-is-listed",
         xlsx({"Data": FX_ROWS, "lookup": [["k", "v"], [1, 2]]}, hidden=("lookup",)), fx(),
         error="1: 'lookup' (2 rows, hidden)"),
    Case("the-one-sheet-with-data-is-read",
         xlsx({"Cover": [["FST study 7"]], "Data": FX_ROWS}), fx(),
         check=lambda s: (by_animal(s) == FX_VALUES and s.frame["row"].tolist() == list(range(2, 10)))
         or pytest.fail("misread")),
    Case("sheet-given-among-several",
         xlsx({"Info": [["note"], ["read me"]], "Data": FX_ROWS}), fx(sheet="Data"),
         check=lambda s: by_animal(s) == FX_VALUES or pytest.fail("misread")),
    # formulas without a stored value: never "missing outcome"
    Case("formula-without-stored-value", xlsx({"Data": _with_formula(FX_ROWS)}), fx(),
         error="1 formula cell of the sheet 'Data' has no stored value (D3)", row=3),
    Case("formula-error-names-the-column", xlsx({"Data": _with_formula(FX_ROWS)}), fx(),
         error="column 'Immobility': 1 formula cell"),
    Case("formula-error-names-the-fix", xlsx({"Data": _with_formula(FX_ROWS)}), fx(),
         error="open and save the workbook in Excel (or LibreOffice) so that it stores the values"),
    # a stored value is read; a formula that gives "" (stored as an empty text) is a blank cell
    Case("formula-with-stored-value",
         xlsx({"Data": _with_formula(FX_ROWS, empty_note=True)}, cache={"D3": "110", "E2": ""}), fx(),
         check=lambda s: by_animal(s) == FX_VALUES or pytest.fail(str(by_animal(s)))),
    Case("csv-that-is-an-xlsx-is-read-as-excel", xlsx({"Data": FX_ROWS}, name="export.csv"), fx(), check=_misnamed),
]


@pytest.mark.parametrize("case", EXCEL_CASES, ids=lambda c: c.id)
def test_excel_workbooks(case, tmp_path):
    run(case, tmp_path)


# --------------------------------------------------------- class 5: pasted duplicates


def _minutes(sheet: Sheet) -> None:
    # the same animal, cell and value twice, told apart by the minute: two observations
    f = sheet.frame
    assert len(f) == 9 and (f["animal"] == "W1").sum() == 2
    assert f.loc[f["animal"] == "W1", "value"].tolist() == [100.0, 100.0]


def _no_ids(sheet: Sheet) -> None:
    # without an animal column two animals may have the same cell and value
    assert len(sheet.frame) == 9 and sheet.summary()["n_per_group"]["WT|Vehicle"] == 3
    assert sorted(sheet.frame["value"].tolist()) == sorted([100.0, 110.0, 110.0, 60.0, 70.0, 150.0, 160.0, 90.0, 80.0])


DUPLICATE_CASES = [
    Case("factorial-pasted-row", text_file(lines(*insert(FX, 3, FX[2]))), fx(),
         error="row 4 repeats row 3 cell for cell (same animal, cell and outcome), like a pasted duplicate", row=4),
    Case("factorial-pasted-row-after-a-gap", text_file(lines(*FX, "", FX[5])), fx(),
         error="row 11 repeats row 6 cell for cell", row=11),
    Case("timecourse-pasted-row", text_file(lines(*insert(TC, 4, TC[3]))), tc(),
         error="row 5 repeats row 4 cell for cell (same animal, time and value)", row=5),
    Case("wide-time-pasted-row",
         text_file(lines("Mouse,Treatment,0,1", "V1,Vehicle,10,12", "V2,Vehicle,11,13", "V2,Vehicle,11,13",
                         "K1,Ketamine,10,20", "K2,Ketamine,12,22")),
         tc(layout="wide-time"), error="row 4 repeats row 3 cell for cell", row=4),
    Case("prism-pasted-time-row",
         text_file(lines("Hour,Vehicle,,Ketamine,", "0,10,11,10,12", "1,12,13,20,22", "1,12,13,20,22")),
         tc(layout="wide-group"), error="row 4 repeats row 3 cell for cell (same time and values)", row=4),
    # same animal and time, same value, but another column differs: still two values at one time
    Case("timecourse-same-value-other-note",
         text_file(lines("Mouse,Treatment,Hour,IGF1,Note", *[r + "," for r in TC[1:3]], "V1,Vehicle,1,12,again",
                         *[r + "," for r in TC[3:]])),
         tc(), error="animal 'V1' has two values at time 1 (rows 3 and 4, both 12: a pasted duplicate?)", row=4),
    Case("factorial-minutes-are-not-duplicates",
         text_file(lines("Animal,Genotype,Treatment,Minute,Immobility", "W1,WT,Vehicle,1,100", "W1,WT,Vehicle,2,100",
                         *[f"{a},{g},{t},1,{v}" for a, g, t, v in (r.split(",") for r in FX[2:])])),
         fx(), check=_minutes),
    Case("factorial-without-ids-same-values-are-two-animals",
         text_file(lines("Genotype,Treatment,Immobility", *[r.split(",", 1)[1] for r in insert(FX, 3, FX[2])[1:]])),
         lambda p: read_factorial(p, outcome="Immobility", factors=["Genotype", "Treatment"]), check=_no_ids),
]


@pytest.mark.parametrize("case", DUPLICATE_CASES, ids=lambda c: c.id)
def test_pasted_duplicate_rows(case, tmp_path):
    run(case, tmp_path)


# ------------------------------------------------ class 6: messages that name the cause


def _plus_minus(sheet: Sheet) -> None:
    assert list(sheet.frame["Genotype"].cat.categories) == ["-", "+"]
    assert sheet.reference_rule["Genotype"] == "named like a control (-, without)"
    assert sheet.summary()["n_per_group"] == {"-|Vehicle": 2, "-|Fluox": 2, "+|Vehicle": 2, "+|Fluox": 2}
    assert by_animal(sheet) == FX_VALUES


def _zygosity(sheet: Sheet) -> None:
    assert list(sheet.frame["Genotype"].cat.categories) == ["+/+", "+/-", "-/-"]


def _lost_fraction_keeps_schedule(sheet: Sheet) -> None:
    # hour 2 has one value left (V1, K1), the other animals' fractions at 2 h were lost
    assert values(sheet) == {**TC_VALUES, ("V1", 2): 14, ("K1", 2): 25}
    assert excluded(sheet) == {11: "missing value (lost fraction)", 13: "missing value (lost fraction)"}


def _minus_sign(sheet: Sheet) -> None:
    assert sorted(set(sheet.frame["time"])) == [-1.0, 1.0]


FX_PM = [FX[0]] + [r.replace(",WT,", ",-,").replace(",KO,", ",+,") for r in FX[1:]]
TC_LOST = TC + ["V1,Vehicle,2,14", "V2,Vehicle,2,", "K1,Ketamine,2,25", "K2,Ketamine,2,NA"]

MESSAGE_CASES = [
    Case("utf16-with-bom", text_file(lines(*FX), encoding="utf-16"), fx(),
         check=lambda s: by_animal(s) == FX_VALUES or pytest.fail("misread")),
    Case("utf16-le-without-bom", text_file(lines(*FX), encoding="utf-16-le"), fx(),
         check=lambda s: by_animal(s) == FX_VALUES or pytest.fail("misread")),
    Case("utf8-bom-and-zero-width-edges",
         text_file("\ufeff" + lines(FX[0], "W1\u200b,WT,Vehicle,100", *FX[2:])), fx(),
         check=lambda s: by_animal(s) == FX_VALUES or pytest.fail(str(by_animal(s)))),
    Case("zip-that-is-not-a-workbook", bytes_file(b"PK\x03\x04" + b"\x00" * 60, name="data.csv"), fx(),
         error="the file is a ZIP archive (an Excel .xlsx or OpenDocument .ods workbook?), not a .csv text file"),
    Case("pdf-named-csv", bytes_file(b"%PDF-1.7\n" + b"\x00\x01" * 20), fx(), error="the file is a PDF document"),
    Case("binary-junk", bytes_file(b"Animal,Genotype\nW1,\x00\x13\x00\x00\x07,1\n"), fx(),
         error="the file holds NUL bytes (first in line 2)", row=2),
    Case("title-rows-above-the-header",
         text_file(lines("FST study 7 (immobility s),,,", ",,,", *FX)), fx(),
         error="the header seems to be on line 3: 'Animal', 'Genotype', 'Treatment', 'Immobility'"),
    Case("zero-width-space-inside-a-level",
         text_file(lines(*FX[:2], "W2,WT,Veh\u200bicle,110", *FX[3:])), fx(),
         error="the level 'Vehicle' (row 2) and 'Veh\\u200bicle' (row 3) look the same but differ", row=3),
    Case("cyrillic-letter-in-a-group",
         text_file(lines(*TC[:3], "V2,V\u0435hicle,0,11", "V2,V\u0435hicle,1,13", *TC[5:])), tc(),
         error="'V\\u0435hicle' (row 4) look the same but differ in invisible or look-alike characters", row=4),
    # a trailing no-break space is dropped like a space; one inside a level is named
    Case("nbsp-in-a-level",
         text_file(lines(FX[0], "W1,WT,Vehicle\u00a0,100", "W2,WT,Vehicle,110", "W3,WT,Fluox 10,60",
                         "W4,WT,Fluox\u00a010,70", "K1,KO,Vehicle,150", "K2,KO,Vehicle,160", "K3,KO,Fluox 10,90",
                         "K4,KO,Fluox 10,80")), fx(),
         error="the level 'Fluox 10' (row 4) and 'Fluox\\xa010' (row 5) look the same", row=5),
    Case("levels-differing-in-case", text_file(lines(*FX[:2], "W2,WT,vehicle,110", *FX[3:])), fx(),
         error="'Vehicle' (row 2) and 'vehicle' (row 3) look the same but differ only in upper / lower case"),
    Case("en-dash-as-minus-in-a-time",
         text_file(lines(*TC[:1], "V1,Vehicle,\u20131,10", *TC[2:])), tc(),
         error="expected a time, found '\\u20131' (a time with a dash that is not a minus sign)", row=2),
    Case("en-dash-as-minus-in-a-value",
         text_file(lines(*TC[:1], "V1,Vehicle,0,\u201310", *TC[2:])), tc(),
         error="'\\u201310' starts with a dash that is not a minus sign ('\\u2013')", row=2),
    Case("unicode-minus-is-a-minus",
         text_file(lines(*[r.replace(",0,", ",\u22121,") for r in TC])), tc(), check=_minus_sign),
    Case("wide-time-header-with-decimal-comma",
         text_file(lines('Mouse,Treatment,0,"1,5 h"', "V1,Vehicle,10,12", "V2,Vehicle,11,13",
                         "K1,Ketamine,10,20", "K2,Ketamine,12,22")),
         tc(layout="wide-time"), error="the column '1,5 h' looks like a time point written with a decimal comma"),
    Case("wide-time-header-with-en-dash",
         text_file(lines("Mouse,Treatment,\u20131,1", "V1,Vehicle,10,12", "V2,Vehicle,11,13",
                         "K1,Ketamine,10,20", "K2,Ketamine,12,22")),
         tc(layout="wide-time"), error="'\\u20131' looks like a time point written with a dash that is not a minus sign"),
    Case("time-that-is-not-a-number", text_file(lines(*TC[:3], "V2,Vehicle,1h30,11", *TC[4:])), tc(),
         error="expected a time, found '1h30'", row=4),
    # a typo'd time (1.5 for 1): no group has two animals sampled then
    Case("time-outside-every-schedule", text_file(lines(*TC[:6], "K1,Ketamine,1.5,20", *TC[7:])), tc(),
         error="the time 1.5 (animal 'K1', group 'Ketamine') is in no group's schedule", row=7),
    Case("negative-time-outside-every-schedule", text_file(lines(*TC, "K2,Ketamine,-3,9")), tc(),
         error="the time -3 (animal 'K2', group 'Ketamine') is in no group's schedule", row=10),
    Case("lost-fractions-keep-a-time-in-the-schedule", text_file(lines(*TC_LOST)), tc(),
         check=_lost_fraction_keeps_schedule),
    Case("plus-minus-levels", text_file(lines(*FX_PM)), fx(), check=_plus_minus),
    Case("zygosity-levels",
         text_file(lines("Animal,Genotype,Treatment,Immobility", "A1,+/+,V,1", "A2,+/+,V,2", "A3,-/-,V,3", "A4,-/-,V,4",
                         "A5,+/-,V,5", "A6,+/-,V,6", "B1,+/+,F,1", "B2,+/+,F,2", "B3,-/-,F,3", "B4,-/-,F,4",
                         "B5,+/-,F,5", "B6,+/-,F,6")), fx(), check=_zygosity),
    Case("dash-without-plus-is-missing", text_file(lines(*FX[:2], "W2,-,Vehicle,110", *FX[3:])), fx(),
         error="the 'Genotype' level is missing ('-')", row=3),
    Case("xlsx-that-is-text",
         text_file(lines(*FX), name="sheet.xlsx"), fx(),
         check=lambda s: (by_animal(s) == FX_VALUES and "text (CSV) file despite its .xlsx name" in s.notes[0])
         or pytest.fail("misread")),
]


@pytest.mark.parametrize("case", MESSAGE_CASES, ids=lambda c: c.id)
def test_messages_name_the_cause(case, tmp_path):
    run(case, tmp_path)


# --------------------------------------------------- every physical line accounted for

ALL_CASES = SUMMARY_CASES + QUOTE_CASES + NUMBER_CASES + EXCEL_CASES + DUPLICATE_CASES + MESSAGE_CASES
READ_CASES = [c for c in ALL_CASES if c.error is None and not c.id.startswith("read-table")]  # Sheets only


def _physical_lines(path: Path) -> list[str] | None:
    """The file's lines (any line end); None for a workbook."""
    raw = path.read_bytes()
    if raw.startswith(b"PK"):
        return None
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = raw.decode("utf-16")
    elif b"\x00" in raw:
        text = raw.decode("utf-16-le")
    else:
        text = raw.decode("utf-8-sig")
    parts = re.split(r"\r\n|\r|\n", text)
    return parts[:-1] if parts and parts[-1] == "" else parts


def _workbook_lines(path: Path, sheet: str) -> list[str]:
    """The rows of a workbook's sheet as text lines (the corpus names its data sheet 'Data')."""
    import io

    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(path.read_bytes()), data_only=True)  # also a workbook named .csv
    out = [",".join("" if c is None else str(c) for c in row) for row in wb[sheet].iter_rows(values_only=True)]
    wb.close()
    return out


@pytest.mark.parametrize("case", READ_CASES, ids=lambda c: c.id)
def test_ledger_accounts_for_every_physical_line(case, tmp_path):
    path = case.write(tmp_path)
    sheet = case.read(path)
    assert isinstance(sheet, Sheet)
    led = sheet.ledger
    text = _physical_lines(path)
    file_lines = text if text is not None else _workbook_lines(path, "Data")
    assert led.n_lines == len(file_lines)
    blank = lambda line: not re.sub(r"[,;\t\"\s]", "", line)  # noqa: E731
    rows = set(led.entries["row"])
    last = max(rows)
    # blank above the header, one or more entries for every line from the header to the last
    # non-blank line, blank after it: nothing swallowed, nothing shifted
    assert all(blank(file_lines[k - 1]) for k in range(1, led.header_row))
    assert not blank(file_lines[led.header_row - 1])
    assert rows == set(range(led.header_row + 1, last + 1))
    assert not blank(file_lines[last - 1])
    assert all(blank(file_lines[k - 1]) for k in range(last + 1, len(file_lines) + 1))
    for row, reason in excluded(sheet).items():
        assert (reason == "blank row") == blank(file_lines[row - 1])
    # row numbers are the file's lines: each used row's line holds its animal ID
    if not sheet.animal_ids_made_up:
        for row, animal in zip(sheet.frame["row"], sheet.frame["animal"], strict=True):
            assert animal in file_lines[row - 1].replace("\u200b", ""), (row, animal)


def test_corpus_has_every_class():
    assert len(ALL_CASES) == len({c.id for c in ALL_CASES})  # unique ids
    for group in (SUMMARY_CASES, QUOTE_CASES, NUMBER_CASES, EXCEL_CASES, DUPLICATE_CASES, MESSAGE_CASES):
        assert any(c.error for c in group) or group is SUMMARY_CASES
        assert any(c.error is None for c in group)


def test_real_sheet_shape_end_to_end(tmp_path):
    """A small sheet shaped like the lab's FST sheet, with every kind of trouble fixed by the reader."""
    content = lines(
        "FST, cohort 2 (immobility in s);;;",  # a title row is an error with a hint ...
        "Animal;Genotype;Treatment;Immobility",
    )
    path = tmp_path / "title.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match="the header seems to be on line 2"):
        read_factorial(path, outcome="Immobility", factors=["Genotype", "Treatment"], animal="Animal")
    body = lines(
        "Animal;Genotype;Treatment;Immobility;Notes",
        "W1;WT;Vehicle;1.210,5;", "W2;WT;Vehicle;1.190;",
        "Avg (n=2);WT;Vehicle;1.200,25;",
        "", "W3;WT;Fluox;600;\"calm, then active\"", "W4;WT;Fluox;700,5;",
        "Mean ± SEM;WT;Fluox;650 ± 50;",
        "", "K1;KO;Vehicle;1.500;", "K2;KO;Vehicle;1.600;", "n = 2;;;;",
        "", "K3;KO;Fluox;900;", "K4;KO;Fluox;800;",
    )
    path = tmp_path / "fst.csv"
    path.write_bytes(body.encode("utf-16"))
    with pytest.raises(DataError, match="--decimal ,"):
        read_factorial(path, outcome="Immobility", factors=["Genotype", "Treatment"], animal="Animal")
    sheet = read_factorial(path, outcome="Immobility", factors=["Genotype", "Treatment"], animal="Animal",
                           decimal=",", thousands=".")
    assert by_animal(sheet) == {"W1": 1210.5, "W2": 1190, "W3": 600, "W4": 700.5, "K1": 1500, "K2": 1600,
                                "K3": 900, "K4": 800}
    assert excluded(sheet) == {4: "summary row (avg (n=2))", 5: "blank row", 8: "summary row (mean ± sem)",
                               9: "blank row", 12: "summary row (n = 2)", 13: "blank row"}
    assert sheet.ledger.rows_read == 15 - 1 and sheet.ledger.n_lines == 15
