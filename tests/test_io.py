"""Tests of bayes_igf1.io: reading lab sheets into a tidy frame and a row ledger."""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bayes_igf1.errors import DataError
from bayes_igf1.io import RowLedger, Sheet, parse_where, read_factorial, read_table, read_timecourse

# ----------------------------------------------------------------------------- helpers


def write_csv(path: Path, rows: list[list[object]], *, delimiter: str = ",") -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, delimiter=delimiter).writerows(rows)
    return path


TC_HEADER = ["Mouse", "Treatment", "Hour", "IGF-1 (pg/mL)"]


def timecourse_rows() -> list[list[object]]:
    """2 groups x 2 animals x 3 times, long layout (rows 2-13)."""
    rows = [list(TC_HEADER)]
    for group, animals in (("Vehicle", ("V1", "V2")), ("Ketamine", ("K1", "K2"))):
        for a in animals:
            for t, base in ((0, 10.0), (1, 12.0), (2, 15.0)):
                rows.append([a, group, t, base + (5 if group == "Ketamine" else 0) + int(a[1])])
    return rows


def read_tc(path, **kw):
    opts = dict(animal="Mouse", group="Treatment", time="Hour", value="IGF-1 (pg/mL)")
    opts.update(kw)
    return read_timecourse(path, **opts)


FST_HEADER = ["Animal", "Genotype", "Group", "Treatment", "Time Immobile (s)", "Latency to Immobility (s)"]


def fst_rows() -> tuple[list[list[object]], dict]:
    """A sheet shaped like the lab's FST sheet: blocks of animals, summary and blank rows.

    Stress cells: WT/Vehicle 4, WT/Fluoxetine 3, KO/Vehicle 2, KO/Fluoxetine 3 (unbalanced).
    """
    blocks = [
        ("WT", "Control", "Vehicle", ["C1", "C2", "C3"]),
        ("WT", "Control", "Fluoxetine", ["C11", "C12"]),
        ("WT", "Stress", "Vehicle", ["351", "191", "E1", "E2"]),
        ("WT", "Stress", "Fluoxetine", ["211", "E6", "E7"]),
        ("FGF2KO", "Stress", "Vehicle", ["411", "131"]),
        ("FGF2KO", "Stress", "Fluoxetine", ["121", "201", "181"]),
    ]
    rows = [list(FST_HEADER)]
    k = 0
    for b, (gen, grp, trt, ids) in enumerate(blocks):
        for a in ids:
            k += 1
            rows.append([a, gen, grp, trt, float(100 + 7 * k), float(3 + k)])
        rows.append(["average", "", "", "", "150.5", "9.2"])
        rows.append(["stdv", "", "", "", "20.1", "2.2"])
        rows.append(["sterror", "", "", "", "8.3", "1.1"])
        if b < len(blocks) - 1:
            rows.append(["", "", "", "", "", ""])
    return rows


def assert_ledger_consistent(sheet: Sheet) -> None:
    led = sheet.ledger
    assert led.rows_read == led.rows_used + len(led.excluded)
    assert led.rows_used == len(sheet.frame)
    used_rows = led.entries.loc[led.entries["status"] == "used", "row"].to_numpy()
    np.testing.assert_array_equal(used_rows, sheet.frame["row"].to_numpy())


# ------------------------------------------------------------------------ time course


def test_timecourse_long_reads_tidy_frame(tmp_path):
    path = write_csv(tmp_path / "dialysis.csv", timecourse_rows())
    sheet = read_tc(path)
    f = sheet.frame
    assert list(f.columns) == ["row", "animal", "group", "time", "value", "censored", "limit"]
    assert f["row"].tolist() == list(range(2, 14))
    assert f["row"].dtype == np.int64
    assert isinstance(f["group"].dtype, pd.CategoricalDtype)
    assert list(f["group"].cat.categories) == ["Vehicle", "Ketamine"]  # Vehicle is named like a control
    assert f["time"].dtype == float and f["value"].dtype == float
    assert not f["censored"].any() and f["limit"].isna().all()
    assert sheet.design == "timecourse" and sheet.factors == ("group",)
    assert sheet.columns == {"animal": "Mouse", "group": "Treatment", "time": "Hour", "value": "IGF-1 (pg/mL)"}
    assert sheet.source == "dialysis.csv" and not sheet.animal_ids_made_up
    s = sheet.summary()
    assert s["n_animals"] == 4 and s["n_per_group"] == {"Vehicle": 2, "Ketamine": 2}
    assert s["times"] == [0.0, 1.0, 2.0] and s["n_observations"] == 12
    assert s["n_censored"] == 0 and s["censoring"] is None
    assert sheet.data_block() == {
        "rows_read": 12, "rows_used": 12, "excluded": [], "n_animals": 4,
        "n_per_group": {"Vehicle": 2, "Ketamine": 2},
        "reference_level": {"Treatment": "Vehicle"},
        "reference_rule": {"Treatment": "named like a control (Vehicle)"},
    }
    assert_ledger_consistent(sheet)


def test_timecourse_reference_and_loose_column_names(tmp_path):
    path = write_csv(tmp_path / "d.csv", timecourse_rows())
    sheet = read_timecourse(
        path, animal="mouse", group=" TREATMENT", time="hour", value="igf-1  (pg/ml)", reference="Ketamine"
    )
    assert list(sheet.frame["group"].cat.categories) == ["Ketamine", "Vehicle"]
    assert sheet.columns["value"] == "IGF-1 (pg/mL)"


def test_timecourse_missing_values_are_excluded(tmp_path):
    rows = timecourse_rows()
    for r, token in zip((2, 5, 8, 10, 12), ("", "NA", "N/A", "nan", "-"), strict=True):
        rows[r - 1][3] = token
    sheet = read_tc(write_csv(tmp_path / "d.csv", rows))
    assert sheet.ledger.excluded == [{"row": r, "reason": "missing value (lost fraction)"} for r in (2, 5, 8, 10, 12)]
    assert sheet.ledger.rows_read == 12 and sheet.ledger.rows_used == 7
    assert_ledger_consistent(sheet)


@pytest.mark.parametrize(
    ("cell", "limit"),
    [("< 1.5", 1.5), ("<1.5", 1.5), ("<2 pg/mL", 2.0), ("<LLOQ", 0.8), ("BLQ", 0.8), ("BLOQ", 0.8),
     ("ND", 0.8), ("<LOD", 0.8), ("below LLOQ", 0.8), ("blq", 0.8)],
)
def test_below_limit_values_are_left_censored(tmp_path, cell, limit):
    rows = timecourse_rows()
    rows[3][3] = cell  # row 4
    sheet = read_tc(write_csv(tmp_path / "d.csv", rows), lloq=0.8, log_scale=True)
    hit = sheet.frame.loc[sheet.frame["row"] == 4].iloc[0]
    assert bool(hit["censored"]) and hit["value"] == limit and hit["limit"] == limit
    assert sheet.frame["censored"].sum() == 1
    assert sheet.summary()["censoring"] == "left" and sheet.summary()["n_censored"] == 1


def test_below_limit_without_limit_needs_lloq(tmp_path):
    rows = timecourse_rows()
    rows[6][3] = "<LLOQ"  # row 7
    path = write_csv(tmp_path / "d.csv", rows)
    with pytest.raises(DataError, match="--lloq VALUE") as err:
        read_tc(path)
    assert err.value.row == 7 and err.value.column == "IGF-1 (pg/mL)" and err.value.file == "d.csv"
    # a stated limit needs no --lloq
    rows[6][3] = "<0.5"
    assert read_tc(write_csv(tmp_path / "d.csv", rows)).frame["censored"].sum() == 1


def test_wide_time_layout(tmp_path):
    rows = [
        ["Mouse", "Treatment", "Notes", "-1", "0", "1 h", "2h", "3 hr"],
        ["V1", "Vehicle", "", 10, 11, 12, 13, 14],
        ["V2", "Vehicle", "ok", 10, 11, "", 13, 14],
        ["Mean", "", "", 10, 11, 12, 13, 14],
        ["K1", "Ketamine", "", 10, 15, 18, 20, "<LLOQ"],
        ["K2", "Ketamine", "", 10, 16, 19, 21, 22],
    ]
    sheet = read_timecourse(
        write_csv(tmp_path / "w.csv", rows), animal="Mouse", group="Treatment", time="hour",
        value="igf1", layout="wide-time", lloq=0.5,
    )
    f = sheet.frame
    assert sheet.summary()["times"] == [-1.0, 0.0, 1.0, 2.0, 3.0]
    assert sheet.time_unit == "h"
    assert len(f) == 19 and f["animal"].nunique() == 4
    assert sheet.columns == {"animal": "Mouse", "group": "Treatment", "time": "hour", "value": "igf1"}
    assert f.loc[(f["animal"] == "K1") & (f["time"] == 3.0), "censored"].item()
    led = sheet.ledger
    assert led.rows_read == 19 + 1 + 1  # 20 used cells + lost cell + summary row
    assert {"row": 3, "reason": "missing value (lost fraction)", "column": "1 h"} in led.excluded
    assert {"row": 4, "reason": "summary row (mean)"} in led.excluded
    assert_ledger_consistent(sheet)
    assert "1 h" in led.to_text()


def test_wide_time_errors(tmp_path):
    base = dict(animal="Mouse", group="Treatment", time="t", value="v", layout="wide-time")
    rows = [["Mouse", "Treatment", "0 h", "30 min"], ["V1", "A", 1, 2], ["V2", "A", 1, 2], ["K1", "B", 1, 2], ["K2", "B", 1, 2]]
    with pytest.raises(DataError, match="mix units") as err:
        read_timecourse(write_csv(tmp_path / "a.csv", rows), **base)
    assert err.value.row == 1
    rows[0] = ["Mouse", "Treatment", "Day A", "Day B"]
    with pytest.raises(DataError, match="no time-point columns") as err:
        read_timecourse(write_csv(tmp_path / "b.csv", rows), **base)
    assert "--layout long" in str(err.value)
    rows[0] = ["Mouse", "Treatment", "1", "1 h"]
    with pytest.raises(DataError, match="same time point"):
        read_timecourse(write_csv(tmp_path / "c.csv", rows), **base)


def test_wide_group_layout_prism(tmp_path):
    rows = [
        ["Hour", "Vehicle", "Vehicle", "", "Ketamine", "Ketamine", "Ketamine"],
        [0, 10, 11, 12, 10, 11, 12],
        [1, 12, 13, "", 20, 21, 22],
        [2, 14, 15, 16, 25, 26, 27],
        ["Mean", 1, 1, 1, 1, 1, 1],
    ]
    sheet = read_timecourse(
        write_csv(tmp_path / "prism.csv", rows), animal="mouse", group="treatment", time="Hour",
        value="igf1", layout="wide-group",
    )
    f = sheet.frame
    assert sheet.animal_ids_made_up
    assert sorted(f["animal"].unique()) == sorted(
        ["Vehicle-1", "Vehicle-2", "Vehicle-3", "Ketamine-1", "Ketamine-2", "Ketamine-3"]
    )
    assert f.loc[f["animal"] == "Vehicle-3", "group"].unique().tolist() == ["Vehicle"]
    assert len(f) == 17 and sheet.summary()["n_per_group"] == {"Vehicle": 3, "Ketamine": 3}
    assert {"row": 3, "reason": "missing value (lost fraction)", "column": "column D"} in sheet.ledger.excluded
    assert {"row": 5, "reason": "summary row (mean)"} in sheet.ledger.excluded
    assert_ledger_consistent(sheet)
    # GROUP|ANIMAL headers give the animal IDs
    rows[0] = ["Hour", "Vehicle|M1", "Vehicle|M2", "Vehicle|M3", "Ketamine|M4", "Ketamine|M5", "Ketamine|M6"]
    sheet = read_timecourse(
        write_csv(tmp_path / "p2.csv", rows), animal="mouse", group="treatment", time="Hour",
        value="igf1", layout="wide-group",
    )
    assert not sheet.animal_ids_made_up and set(sheet.frame["animal"]) == {f"M{k}" for k in range(1, 7)}


def test_unknown_layout():
    with pytest.raises(DataError, match="wide-time"):
        read_tc(pd.DataFrame({"a": [1]}), layout="wide")


# -------------------------------------------------------------- factorial, real-like


def test_factorial_real_like_sheet_with_where(tmp_path):
    rows = fst_rows()
    sheet = read_factorial(
        write_csv(tmp_path / "fst.csv", rows), outcome="Time Immobile (s)",
        factors=["Genotype", "Treatment"], animal="Animal", where=["Group=Stress"],
    )
    led = sheet.ledger
    assert led.rows_read == len(rows) - 1 == 40
    assert led.rows_used == 12
    assert led.reason_counts() == {
        "filtered out by --where Group=Stress": 5,
        "summary row (average)": 6,
        "summary row (stdv)": 6,
        "summary row (sterror)": 6,
        "blank row": 5,
    }
    assert {"row": 5, "reason": "summary row (average)"} in led.excluded
    assert {"row": 8, "reason": "blank row"} in led.excluded
    assert [e["row"] for e in led.excluded if e["reason"].startswith("filtered")] == [2, 3, 4, 9, 10]
    f = sheet.frame
    assert list(f.columns) == ["row", "animal", "Genotype", "Treatment", "value", "censored"]
    assert list(f["Genotype"].cat.categories) == ["WT", "FGF2KO"]
    assert list(f["Treatment"].cat.categories) == ["Vehicle", "Fluoxetine"]
    assert f["animal"].iloc[0] == "351"
    s = sheet.summary()
    assert s["n_per_group"] == {"WT|Vehicle": 4, "WT|Fluoxetine": 3, "FGF2KO|Vehicle": 2, "FGF2KO|Fluoxetine": 3}
    assert s["n_animals"] == 12 and s["censoring"] is None
    assert sheet.columns == {
        "value": "Time Immobile (s)", "animal": "Animal", "Genotype": "Genotype", "Treatment": "Treatment"
    }
    block = sheet.data_block()
    assert block["rows_read"] == 40 and block["rows_used"] == 12 and len(block["excluded"]) == 28
    assert_ledger_consistent(sheet)
    text = led.to_text()
    assert "40 rows read, 12 used, 28 excluded" in text and "blank row: 5" in text


def test_factorial_reference_and_or_filter(tmp_path):
    rows = fst_rows()
    sheet = read_factorial(
        write_csv(tmp_path / "fst.csv", rows), outcome="latency to immobility (s)",
        factors=["Group", "Treatment"], animal="Animal", where=["Genotype=WT"],
        reference={"treatment": "fluoxetine", "Group": "Stress"},
    )
    assert list(sheet.frame["Treatment"].cat.categories) == ["Fluoxetine", "Vehicle"]
    assert list(sheet.frame["Group"].cat.categories) == ["Stress", "Control"]
    with pytest.raises(DataError, match="no animals in the cell Genotype=FGF2KO, Group=Control"):
        read_factorial(
            write_csv(tmp_path / "fst.csv", rows), outcome="Time Immobile (s)",
            factors=["Genotype", "Group"], animal="Animal",
        )
    # same column twice = OR
    both = read_factorial(
        write_csv(tmp_path / "fst.csv", rows), outcome="Time Immobile (s)", factors=["Genotype"],
        animal="Animal", where=["Treatment=Vehicle", "Treatment=Fluoxetine", "Group=Stress"],
    )
    assert len(both.frame) == 12 and both.summary()["n_per_group"] == {"WT": 7, "FGF2KO": 5}


def test_excel_sheet_and_row_numbers(tmp_path):
    rows = fst_rows()
    df = pd.DataFrame(rows[1:], columns=rows[0])
    df["Time Immobile (s)"] = pd.to_numeric(df["Time Immobile (s)"], errors="coerce")
    path = tmp_path / "fst.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as xl:
        pd.DataFrame({"note": ["read me"]}).to_excel(xl, sheet_name="Info", index=False)
        df.to_excel(xl, sheet_name="FST data", index=False)
    kw = dict(outcome="Time Immobile (s)", factors=["Genotype", "Treatment"], animal="Animal", where=["Group=Stress"])
    by_name = read_factorial(path, sheet="FST data", **kw)
    by_index = read_factorial(path, sheet=1, **kw)
    assert by_name.ledger.to_dict() == by_index.ledger.to_dict()
    assert by_name.ledger.rows_used == 12 and by_name.ledger.rows_read == 40
    assert by_name.frame["row"].iloc[0] == 15  # same number as Excel shows
    assert by_name.frame["animal"].iloc[0] == "351"
    raw, nums = read_table(path, sheet="fst data")
    assert nums[0] == 2 and list(raw.columns) == FST_HEADER
    with pytest.raises(DataError, match="'Info'.*'FST data'") as err:
        read_factorial(path, sheet="Sheet9", **kw)
    assert "--sheet" in str(err.value)


def test_factorial_made_up_ids_cohort_and_censoring(tmp_path):
    rows = [["treatment", "antibody", "batch", "latency (s)", "cut"]]
    data = [("veh", "IgG", "A", 120, "no"), ("veh", "IgG", "B", 300, "yes"), ("veh", "anti", "A", 100, "0"),
            ("veh", "anti", "B", 90, "n"), ("ket", "IgG", "A", 30, "false"), ("ket", "IgG", "B", 300, "1"),
            ("ket", "anti", "A", 200, "y"), ("ket", "anti", "B", 210, "TRUE")]
    rows += [list(d) for d in data]
    path = write_csv(tmp_path / "lat.csv", rows)
    sheet = read_factorial(path, outcome="latency (s)", factors=["treatment", "antibody"], cohort="batch", censored="cut",
                           positive=True)
    f = sheet.frame
    assert sheet.animal_ids_made_up and f["animal"].tolist() == [f"row{r}" for r in range(2, 10)]
    assert list(f.columns) == ["row", "animal", "treatment", "antibody", "value", "censored", "cohort"]
    assert f["censored"].tolist() == [False, True, False, False, False, True, True, True]
    assert f["cohort"].tolist() == ["A", "B"] * 4
    assert sheet.summary()["censoring"] == "right" and sheet.columns["cohort"] == "batch"
    cut = read_factorial(path, outcome="latency (s)", factors=["treatment", "antibody"], censor_at=300)
    assert cut.frame["censored"].tolist() == [False, True, False, False, False, True, False, False]
    with pytest.raises(DataError, match="above the cut-off") as err:
        read_factorial(path, outcome="latency (s)", factors=["treatment", "antibody"], censor_at=250)
    assert err.value.row == 3 and "--censor-at" in str(err.value)
    rows[4][4] = "maybe"
    with pytest.raises(DataError, match="found 'maybe'") as err:
        read_factorial(write_csv(tmp_path / "lat.csv", rows), outcome="latency (s)",
                       factors=["treatment", "antibody"], censored="cut")
    assert err.value.row == 5 and err.value.column == "cut" and "write 1" in str(err.value)


def test_dataframe_source_and_read_table(tmp_path):
    df = pd.DataFrame({"id": list("abcdef"), "g": list("xxxyyy"), "y": [1.0, 2.0, np.nan, 3, 4.5, 2.0]})
    sheet = read_factorial(df, outcome="y", factors=["g"], animal="id")
    assert sheet.source == "<DataFrame>" and sheet.ledger.excluded == [{"row": 4, "reason": "missing outcome"}]
    path = tmp_path / "semi.csv"
    path.write_text("\n\nid;g;y\na;x;1.5\n\nb;x;2\n\n", encoding="utf-8")
    raw, nums = read_table(path)
    assert list(raw.columns) == ["id", "g", "y"] and nums == [4, 5, 6]  # leading blanks: header is row 3
    assert raw.iloc[0].tolist() == ["a", "x", "1.5"]
    tsv = write_csv(tmp_path / "t.tsv", [["id", "g", "y"], ["a", "x", "1"]], delimiter="\t")
    assert read_table(tsv)[0].shape == (1, 3)


# ------------------------------------------------------------------------ the ledger


def test_row_ledger_exclude_and_text(tmp_path):
    rows = fst_rows()
    sheet = read_factorial(write_csv(tmp_path / "fst.csv", rows), outcome="Time Immobile (s)",
                           factors=["Genotype", "Treatment"], animal="Animal", where=["Group=Stress"])
    led = sheet.ledger
    later = led.exclude([15, 16], "outlier (Grubbs)")
    assert later.rows_used == led.rows_used - 2 and later.rows_read == led.rows_read
    assert later.reason_counts()["outlier (Grubbs)"] == 2 and "outlier (Grubbs)" not in led.reason_counts()
    assert later.to_dict()["rows_used"] == 10
    assert isinstance(later, RowLedger) and later.source == "fst.csv"
    assert "outlier (Grubbs): 2 (rows 15-16)" in later.to_text()
    assert later.exclude([15], "again").reason_counts() == later.reason_counts()  # already excluded
    with pytest.raises(ValueError, match="not in the ledger"):
        led.exclude([999], "x")
    with pytest.raises(ValueError, match="reason"):
        led.exclude([15], " ")


# ---------------------------------------------------------------------------- errors


def test_error_file_missing_empty_header_only_extension(tmp_path):
    with pytest.raises(DataError, match="does not exist") as err:
        read_tc(tmp_path / "nope.csv")
    assert "check the path" in str(err.value)
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match="empty"):
        read_tc(tmp_path / "empty.csv")
    write_csv(tmp_path / "head.csv", [TC_HEADER, ["", "", "", ""]])
    with pytest.raises(DataError, match="no data rows") as err:
        read_tc(tmp_path / "head.csv")
    assert err.value.file == "head.csv"
    (tmp_path / "d.json").write_text("{}")
    with pytest.raises(DataError, match=r"\.json") as err:
        read_tc(tmp_path / "d.json")
    assert ".xlsx" in str(err.value)
    with pytest.raises(DataError, match="Excel files only"):
        read_tc(write_csv(tmp_path / "d.csv", timecourse_rows()), sheet="x")


def test_error_no_rows_left_after_filter(tmp_path):
    rows = [TC_HEADER, ["average", "", "", "1"], ["", "", "", ""], ["V1", "Vehicle", 0, ""]]
    with pytest.raises(DataError, match="no data rows left.*summary row.*blank row.*missing value"):
        read_tc(write_csv(tmp_path / "d.csv", rows))


def test_error_column_absent_lists_columns(tmp_path):
    path = write_csv(tmp_path / "d.csv", timecourse_rows())
    with pytest.raises(DataError) as err:
        read_tc(path, value="IGF1")
    msg = str(err.value)
    assert "no column 'IGF1' for --value" in msg and "did you mean 'IGF-1 (pg/mL)'" in msg
    assert "choose one of the columns: 'Mouse', 'Treatment', 'Hour', 'IGF-1 (pg/mL)'" in msg
    assert err.value.column == "IGF1" and err.value.row == 1
    with pytest.raises(DataError, match="same column"):
        read_tc(path, value="Hour")


def test_error_duplicate_column_names(tmp_path):
    rows = timecourse_rows()
    rows[0][2] = "Mouse"
    with pytest.raises(DataError, match="2 columns are named 'Mouse'"):
        read_tc(write_csv(tmp_path / "d.csv", rows), time="mouse")


@pytest.mark.parametrize(
    ("cell", "match", "fix"),
    [("12,5", "comma", "decimal point"), ("n/a?", "found 'n/a?'", "enter a number"),
     ("abc", "found 'abc'", "NA for a missing value"), ("12 pg", "found '12 pg'", "no units")],
)
def test_error_non_numeric_outcome(tmp_path, cell, match, fix):
    rows = timecourse_rows()
    rows[5][3] = cell  # row 6
    with pytest.raises(DataError, match=re.escape(match)) as err:
        read_tc(write_csv(tmp_path / "d.csv", rows))
    assert err.value.row == 6 and err.value.column == "IGF-1 (pg/mL)" and fix in str(err.value)


def test_numbers_with_spaces_are_fine(tmp_path):
    rows = timecourse_rows()
    rows[5][3] = "  12.25 "
    sheet = read_tc(write_csv(tmp_path / "d.csv", rows))
    assert sheet.frame.loc[sheet.frame["row"] == 6, "value"].item() == 12.25


def test_error_duplicate_animal_time(tmp_path):
    rows = timecourse_rows()
    rows[2][2] = 0  # row 3: V1 at time 0 again (row 2)
    with pytest.raises(DataError, match=r"two values at time 0 \(rows 2 and 3\)") as err:
        read_tc(write_csv(tmp_path / "d.csv", rows))
    assert err.value.row == 3 and "one value per animal" in str(err.value)


def test_error_animal_in_two_groups(tmp_path):
    rows = timecourse_rows()
    rows[3][1] = "Ketamine"  # row 4: V1 at time 2 now Ketamine
    with pytest.raises(DataError, match=r"'Vehicle' \(row 2\) and in group 'Ketamine' \(row 4\)") as err:
        read_tc(write_csv(tmp_path / "d.csv", rows))
    assert err.value.row == 4 and err.value.column == "Treatment"


@pytest.mark.parametrize(("col", "what"), [(0, "animal ID"), (1, "group")])
def test_error_blank_id_or_group(tmp_path, col, what):
    rows = timecourse_rows()
    rows[4][col] = " "  # row 5
    with pytest.raises(DataError, match=f"the {what} is blank") as err:
        read_tc(write_csv(tmp_path / "d.csv", rows))
    assert err.value.row == 5 and f"fill in the {what}" in str(err.value)


def test_error_blank_factor_cell(tmp_path):
    rows = fst_rows()
    rows[15][3] = ""  # row 16: animal 191, Treatment blank
    with pytest.raises(DataError, match="'Treatment' level is blank") as err:
        read_factorial(write_csv(tmp_path / "f.csv", rows), outcome="Time Immobile (s)",
                       factors=["Genotype", "Treatment"], animal="Animal", where=["Group=Stress"])
    assert err.value.row == 16 and err.value.column == "Treatment"


def test_error_single_level_after_filter(tmp_path):
    rows = timecourse_rows()
    with pytest.raises(DataError, match="single level") as err:
        read_tc(write_csv(tmp_path / "d.csv", rows), where=["Treatment=Vehicle"])
    assert "at least 2 levels" in str(err.value)
    frows = fst_rows()
    with pytest.raises(DataError, match="'Treatment' has a single level"):
        read_factorial(write_csv(tmp_path / "f.csv", frows), outcome="Time Immobile (s)",
                       factors=["Genotype", "Treatment"], where=["Group=Stress", "Treatment=Vehicle"])


@pytest.mark.parametrize("bad", [0, -3.0])
def test_error_log_scale_nonpositive(tmp_path, bad):
    rows = timecourse_rows()
    rows[7][3] = bad  # row 8
    path = write_csv(tmp_path / "d.csv", rows)
    with pytest.raises(DataError, match="not positive") as err:
        read_tc(path, log_scale=True)
    assert err.value.row == 8 and "--scale identity" in str(err.value) and "units" in str(err.value)
    assert len(read_tc(path).frame) == 12  # fine on the identity scale


def test_error_unknown_reference(tmp_path):
    with pytest.raises(DataError, match="'Saline' is not a level") as err:
        read_tc(write_csv(tmp_path / "d.csv", timecourse_rows()), reference="Saline")
    assert "'Vehicle', 'Ketamine'" in str(err.value)
    frows = fst_rows()
    path = write_csv(tmp_path / "f.csv", frows)
    kw = dict(outcome="Time Immobile (s)", factors=["Genotype", "Treatment"], where=["Group=Stress"])
    with pytest.raises(DataError, match="not a level of 'Genotype'.*'WT', 'FGF2KO'"):
        read_factorial(path, reference={"Genotype": "KO"}, **kw)
    with pytest.raises(DataError, match="'Dose', which is not a factor"):
        read_factorial(path, reference={"Dose": "1"}, **kw)


def test_error_fewer_than_two_animals(tmp_path):
    rows = timecourse_rows()[:10]  # Ketamine has only K1
    with pytest.raises(DataError, match="group 'Ketamine' has only 1 animal") as err:
        read_tc(write_csv(tmp_path / "d.csv", rows))
    assert err.value.row == 8 and "at least 2 animals" in str(err.value)
    frows = fst_rows()
    frows = [r for r in frows if r[0] != "131"]  # FGF2KO/Vehicle down to one animal
    with pytest.raises(DataError, match="FGF2KO, Treatment=Vehicle has only 1 animal"):
        read_factorial(write_csv(tmp_path / "f.csv", frows), outcome="Time Immobile (s)",
                       factors=["Genotype", "Treatment"], where=["Group=Stress"])


@pytest.mark.parametrize(("cell", "match"), [("two", "expected a time, found 'two'"), ("", "the time is blank"),
                                             ("1,5", "decimal point")])
def test_error_non_numeric_time(tmp_path, cell, match):
    rows = timecourse_rows()
    rows[4][2] = cell
    with pytest.raises(DataError, match=match) as err:
        read_tc(write_csv(tmp_path / "d.csv", rows))
    assert err.value.row == 5 and err.value.column == "Hour"


def test_times_with_units_in_long_layout(tmp_path):
    rows = timecourse_rows()
    for r in rows[1:]:
        r[2] = f"{r[2]} h"
    sheet = read_tc(write_csv(tmp_path / "d.csv", rows))
    assert sheet.time_unit == "h" and sheet.summary()["times"] == [0.0, 1.0, 2.0]


def test_error_empty_factorial_cell(tmp_path):
    frows = fst_rows()
    frows = [r for r in frows if not (r[1] == "FGF2KO" and r[3] == "Fluoxetine")]
    with pytest.raises(DataError, match="no animals in the cell Genotype=FGF2KO, Treatment=Fluoxetine") as err:
        read_factorial(write_csv(tmp_path / "f.csv", frows), outcome="Time Immobile (s)",
                       factors=["Genotype", "Treatment"], where=["Group=Stress"])
    assert "--where" in str(err.value)


def test_error_negative_with_positive(tmp_path):
    frows = fst_rows()
    frows[16][4] = "-5"  # row 17
    path = write_csv(tmp_path / "f.csv", frows)
    kw = dict(outcome="Time Immobile (s)", factors=["Genotype", "Treatment"], where=["Group=Stress"])
    with pytest.raises(DataError, match="negative") as err:
        read_factorial(path, positive=True, **kw)
    assert err.value.row == 17 and err.value.column == "Time Immobile (s)" and "check the value" in str(err.value)
    assert read_factorial(path, **kw).frame["value"].min() == -5


def test_error_below_limit_text_in_factorial(tmp_path):
    frows = fst_rows()
    frows[16][4] = "<LLOQ"
    with pytest.raises(DataError, match="below-limit value '<LLOQ'") as err:
        read_factorial(write_csv(tmp_path / "f.csv", frows), outcome="Time Immobile (s)",
                       factors=["Genotype", "Treatment"], where=["Group=Stress"])
    assert err.value.row == 17


def test_error_duplicate_animal_in_factorial(tmp_path):
    frows = fst_rows()
    frows[22][0] = "351"  # row 23 (WT/Fluoxetine) reuses the ID of row 15 (WT/Vehicle)
    with pytest.raises(DataError, match=r"'351' appears in two groups \(rows 15 and 23\)"):
        read_factorial(write_csv(tmp_path / "f.csv", frows), outcome="Time Immobile (s)",
                       factors=["Genotype", "Treatment"], animal="Animal", where=["Group=Stress"])


def test_where_parsing_and_errors(tmp_path):
    assert parse_where(["Group=Stress", "Group = Control", "Sex=F", "Group=Stress"]) == {
        "Group": ["Stress", "Control"], "Sex": ["F"]
    }
    assert parse_where(()) == {}
    with pytest.raises(DataError, match="COLUMN=VALUE"):
        parse_where(["Group:Stress"])
    frows = fst_rows()
    path = write_csv(tmp_path / "f.csv", frows)
    kw = dict(outcome="Time Immobile (s)", factors=["Genotype", "Treatment"])
    with pytest.raises(DataError, match="no column 'Sex' for --where") as err:
        read_factorial(path, where=["Sex=F"], **kw)
    assert "'Group'" in str(err.value)
    with pytest.raises(DataError, match="no row has Group=Stres") as err:
        read_factorial(path, where=["Group=Stres"], **kw)
    assert "'Control', 'Stress'" in str(err.value) and err.value.column == "Group"
    assert len(read_factorial(path, where=["group=stress"], **kw).frame) == 12  # loose match


# ------------------------------------------------------------------ property: junk in


JUNK = st.one_of(
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).map(lambda x: f"{x:.6g}"),
    st.integers(-50, 500).map(str),
    st.sampled_from(["", " ", "NA", "n/a", "nan", "-", "<LLOQ", "< 1.5", "BLQ", "ND", "12,5", "abc", "average",
                     "stdv", "sterror", "Mean:", "n", "total", "-3", "0", "1e400", "inf", "TRUE", "ẞ", "\t"]),
    st.text(max_size=5),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    design=st.sampled_from(["timecourse", "factorial"]),
    edits=st.lists(st.tuples(st.integers(0, 11), st.integers(0, 3), JUNK), max_size=8),
    blank_rows=st.lists(st.integers(0, 12), max_size=3),
    lloq=st.sampled_from([None, 0.5]),
    log_scale=st.booleans(),
)
def test_property_junk_cells_give_dataerror_or_valid_sheet(tmp_path_factory, design, edits, blank_rows, lloq, log_scale):
    body = [r[:] for r in timecourse_rows()[1:]]
    if design == "factorial":  # one row per animal
        for k, r in enumerate(body):
            r[0] = f"M{k + 1}"
    for pos in sorted(blank_rows, reverse=True):
        body.insert(pos, ["", "", "", ""])
    for r, c, junk in edits:
        body[r % len(body)][c] = junk
    path = write_csv(tmp_path_factory.mktemp("junk") / "junk.csv", [TC_HEADER] + body)

    def blank(row):
        return not any(str(c).strip() for c in row)

    last = max((k for k, r in enumerate(body) if not blank(r)), default=-1)
    expected_rows = list(range(2, last + 3))
    try:
        if design == "timecourse":
            sheet = read_tc(path, lloq=lloq, log_scale=log_scale)
        else:
            sheet = read_factorial(path, outcome="IGF-1 (pg/mL)", factors=["Treatment"], animal="Mouse",
                                   positive=log_scale, cohort=None)
    except DataError as err:
        assert str(err)
        return
    led = sheet.ledger
    assert led.rows_read == led.rows_used + len(led.excluded)
    assert led.rows_used == len(sheet.frame)
    assert led.entries["row"].tolist() == expected_rows  # every data row exactly once, in file order
    assert set(sheet.frame["row"]) <= set(expected_rows)
    assert np.isfinite(sheet.frame["value"]).all()
    if design == "timecourse":
        cens = sheet.frame[sheet.frame["censored"]]
        assert (cens["value"] == cens["limit"]).all()
        if log_scale:
            assert (sheet.frame["value"] > 0).all()
    for item in led.excluded:
        assert item["reason"]
    assert sheet.summary()["n_observations"] == len(sheet.frame)
    assert not any(math.isnan(v) for v in sheet.summary()["n_per_group"].values())


def test_excel_wide_time_numeric_headers_and_merged_group(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Mouse", "Treatment", -1, 0, 1, 2])
    ws.append([101, "Vehicle", 1.0, 2.0, 3.0, 4.0])
    ws.append([102, None, 1.5, 2.5, "<LLOQ", 4.5])
    ws.append([201, "Ketamine", 1.0, 2.0, 3.0, 4.0])
    ws.append([202, None, 1.0, 2.0, None, 4.0])
    ws.merge_cells("B2:B3")
    ws.merge_cells("B4:B5")
    ws.append([])
    ws.append(["Mean", None, 1, 2, 3, 4])
    wb.save(tmp_path / "w.xlsx")
    sheet = read_timecourse(tmp_path / "w.xlsx", animal="Mouse", group="Treatment", time="hour", value="igf1",
                            layout="wide-time", lloq=0.2)
    f = sheet.frame
    assert f["animal"].unique().tolist() == ["101", "102", "201", "202"]
    assert f.groupby("animal")["group"].first().tolist() == ["Vehicle", "Vehicle", "Ketamine", "Ketamine"]
    assert sheet.ledger.reason_counts() == {"missing value (lost fraction)": 1, "blank row": 1, "summary row (mean)": 1}
    assert {"row": 5, "reason": "missing value (lost fraction)", "column": "1"} in sheet.ledger.excluded
    assert sheet.summary()["n_censored"] == 1
    assert_ledger_consistent(sheet)


def test_missing_token_in_group_is_an_error_and_title_row_hint(tmp_path):
    rows = timecourse_rows()
    rows[4][1] = "NA"
    with pytest.raises(DataError, match="the group is missing") as err:
        read_tc(write_csv(tmp_path / "d.csv", rows))
    assert err.value.row == 5
    titled = [["IGF-1 microdialysis, study 7", "", "", ""], ["", "", "", ""]] + timecourse_rows()
    with pytest.raises(DataError, match="the header seems to be on line 3: 'Mouse', 'Treatment', 'Hour'") as err:
        read_tc(write_csv(tmp_path / "t.csv", titled))
    assert "delete the title rows above line 3" in str(err.value)


# --------------------------------------------------------- default reference levels


def one_factor_frame(levels: list[str]) -> pd.DataFrame:
    """Two animals per level, the levels in the order given (= order of first appearance)."""
    return pd.DataFrame({"dose": [lv for lv in levels for _ in range(2)], "y": [float(k) for k in range(2 * len(levels))]})


@pytest.mark.parametrize(
    ("levels", "order", "rule"),
    [
        # (a) one level named like a control: it goes first, the others keep their order in the sheet
        (["ketamine 10", "saline", "ketamine 30"], ["saline", "ketamine 10", "ketamine 30"], "named like a control (saline)"),
        (["IGF-1 nAb", "IgG"], ["IgG", "IGF-1 nAb"], "named like a control (IgG)"),
        (["anti-IGF-1", "Control IgG"], ["Control IgG", "anti-IGF-1"], "named like a control (Control)"),
        (["FGF2KO", "WT"], ["WT", "FGF2KO"], "named like a control (WT)"),
        (["KO", "wild-type"], ["wild-type", "KO"], "named like a control (wild-type)"),
        (["KO", "Wild Type"], ["Wild Type", "KO"], "named like a control (Wild Type)"),
        (["Lesion", "SHAM"], ["SHAM", "Lesion"], "named like a control (SHAM)"),
        (["drug", "Placebo"], ["Placebo", "drug"], "named like a control (Placebo)"),
        (["ket", "veh"], ["veh", "ket"], "named like a control (veh)"),
        (["Stress", "ctrl"], ["ctrl", "Stress"], "named like a control (ctrl)"),
        (["Stress", "Con"], ["Con", "Stress"], "named like a control (Con)"),
        (["Treated", "Untreated"], ["Untreated", "Treated"], "named like a control (Untreated)"),
        (["LPS", "naive"], ["naive", "LPS"], "named like a control (naive)"),
        (["drug", "none"], ["none", "drug"], "named like a control (none)"),
        (["1", "0"], ["0", "1"], "named like a control (0)"),
        (["30mg/kg", "0mg/kg", "10mg/kg"], ["0mg/kg", "30mg/kg", "10mg/kg"], "named like a control (0)"),
        (["10 mg/kg", "0 mg/kg", "30 mg/kg"], ["0 mg/kg", "10 mg/kg", "30 mg/kg"], "named like a control (0)"),
        # several named like a control: the one that is only a control name wins
        (["ketamine in saline", "saline", "ketamine"], ["saline", "ketamine in saline", "ketamine"],
         "named like a control (saline)"),
        # (b) all numbers with one unit: ascending, the lowest first ("0.5" is not a zero dose)
        (["30 mg/kg", "3 mg/kg", "10 mg/kg"], ["3 mg/kg", "10 mg/kg", "30 mg/kg"], "lowest number"),
        (["2", "0.5", "1"], ["0.5", "1", "2"], "lowest number"),
        (["1 mg/kg", "0.5 mg/kg"], ["0.5 mg/kg", "1 mg/kg"], "lowest number"),
        # (c) natural sorted order: case-insensitive, numbers by value
        (["m", "f"], ["f", "m"], "first in sorted order"),
        (["dose 10", "dose 2", "Dose 1"], ["Dose 1", "dose 2", "dose 10"], "first in sorted order"),
        (["30", "10 mg/kg"], ["10 mg/kg", "30"], "first in sorted order"),  # units differ: not (b)
        (["IR", "Controlled release"], ["Controlled release", "IR"], "first in sorted order"),  # not the word 'control'
        (["vehicle", "saline", "ketamine"], ["ketamine", "saline", "vehicle"],
         "first in sorted order (several levels are named like a control: 'vehicle', 'saline')"),
    ],
)
def test_default_reference_level(levels, order, rule):
    sheet = read_factorial(one_factor_frame(levels), outcome="y", factors=["dose"])
    assert list(sheet.frame["dose"].cat.categories) == order
    assert sheet.reference_rule == {"dose": rule}
    assert sheet.reference_levels() == {"dose": order[0]}


def test_reference_rule_in_summary_data_block_and_given_reference(tmp_path):
    path = write_csv(tmp_path / "d.csv", timecourse_rows())
    default = read_tc(path)
    assert default.reference_rule == {"Treatment": "named like a control (Vehicle)"}
    given = read_tc(path, reference="ketamine")
    assert list(given.frame["group"].cat.categories) == ["Ketamine", "Vehicle"]
    assert given.reference_rule == {"Treatment": "given with --reference"}
    assert given.summary()["reference_level"] == {"Treatment": "Ketamine"}
    assert given.data_block()["reference_rule"] == {"Treatment": "given with --reference"}
    # factorial: one factor given, the other by the default rule; the rest keep the sheet's order
    rows = fst_rows()
    sheet = read_factorial(write_csv(tmp_path / "f.csv", rows), outcome="Time Immobile (s)",
                           factors=["Genotype", "Treatment"], animal="Animal", where=["Group=Stress"],
                           reference={"genotype": "FGF2KO"})
    assert list(sheet.frame["Genotype"].cat.categories) == ["FGF2KO", "WT"]
    assert sheet.data_block()["reference_level"] == {"Genotype": "FGF2KO", "Treatment": "Vehicle"}
    assert sheet.data_block()["reference_rule"] == {
        "Genotype": "given with --reference", "Treatment": "named like a control (Vehicle)"}


def test_shipped_data_get_their_control_levels():
    data = Path(__file__).resolve().parent.parent / "data"
    tc = read_timecourse(data / "microdialysis_igf1.csv", animal="mouse", group="treatment", time="hour",
                         value="igf1_pg_ml", lloq=8.0)
    assert list(tc.frame["group"].cat.categories) == ["saline", "ketamine 10", "ketamine 30"]
    fst = read_factorial(data / "fst_igf1_nab.csv", outcome="immobility_s", factors=["treatment", "antibody"])
    assert fst.reference_levels() == {"treatment": "saline", "antibody": "IgG"}
    for where, other in (("BDNF x IGF-1 nAb", "BDNF"), ("IGF-1 x BDNF nAb", "IGF-1")):
        x = read_factorial(data / "bdnf_igf1_crossover.csv", outcome="immobility_s", factors=["infusion", "antibody"],
                           where=[f"experiment={where}"])
        assert list(x.frame["infusion"].cat.categories) == ["vehicle", other]
        assert x.reference_rule == {"infusion": "named like a control (vehicle)", "antibody": "named like a control (IgG)"}


# ------------------------------------------------------------------------ time units


def unit_rows(times: list[object]) -> list[list[object]]:
    """timecourse_rows() with the times 0, 1, 2 replaced by ``times``."""
    rows = timecourse_rows()
    for r in rows[1:]:
        r[2] = times[int(r[2])]
    return rows


@pytest.mark.parametrize(
    ("option", "unit"),
    [("h", "h"), ("hour", "h"), ("Hours", "h"), ("hr", "h"), ("min", "min"), ("minute", "min"), ("minutes", "min"),
     ("day", "d"), ("d", "d"), ("days", "d"), ("week", "wk"), ("wk", "wk"), ("weeks", "wk"), ("s", "s")],
)
def test_time_unit_from_the_option(tmp_path, option, unit):
    sheet = read_tc(write_csv(tmp_path / "d.csv", timecourse_rows()), time_unit=option)
    assert sheet.time_unit == unit and sheet.summary()["time_unit"] == unit
    assert sheet.summary()["times"] == [0.0, 1.0, 2.0]


def test_time_unit_from_the_values_and_agreeing_option(tmp_path):
    path = write_csv(tmp_path / "d.csv", unit_rows(["Day 0", "Day 1", "Day 2"]))
    assert read_tc(path).time_unit == "d"
    assert read_tc(path, time_unit="days").time_unit == "d"  # same unit, spelt differently
    none = read_tc(write_csv(tmp_path / "n.csv", timecourse_rows()))
    assert none.time_unit == "" and none.summary()["time_unit"] == ""
    assert read_tc(write_csv(tmp_path / "e.csv", timecourse_rows()), time_unit="").time_unit == ""


def test_time_unit_conflicting_with_the_values(tmp_path):
    path = write_csv(tmp_path / "d.csv", unit_rows(["0 d", "1 d", "2 d"]))
    with pytest.raises(DataError, match="the times in 'Hour' are in d but --time-unit gives h") as err:
        read_tc(path, time_unit="hours")
    assert err.value.file == "d.csv" and err.value.row == 2 and err.value.column == "Hour"
    assert "drop --time-unit" in str(err.value)
    wide = [["Mouse", "Treatment", "0 h", "1 h"], ["V1", "A", 1, 2], ["V2", "A", 1, 2], ["K1", "B", 1, 2], ["K2", "B", 1, 2]]
    with pytest.raises(DataError, match="are in h but --time-unit gives min") as err:
        read_timecourse(write_csv(tmp_path / "w.csv", wide), animal="Mouse", group="Treatment", time="t", value="v",
                        layout="wide-time", time_unit="min")
    assert err.value.row == 1 and err.value.column == "0 h"


def test_time_unit_mixed_values_name_the_rows(tmp_path):
    rows = unit_rows(["0 h", "1 h", "2 h"])
    rows[6][2] = "120 min"  # row 7
    with pytest.raises(DataError, match=r"mix units \(h, min\): h in row 2, min here") as err:
        read_tc(write_csv(tmp_path / "d.csv", rows))
    assert err.value.row == 7 and err.value.column == "Hour"


@pytest.mark.parametrize("bad", ["fortnight", "m", "hours later", "month"])
def test_unknown_time_unit(tmp_path, bad):
    with pytest.raises(DataError, match="unknown time unit") as err:
        read_tc(write_csv(tmp_path / "d.csv", timecourse_rows()), time_unit=bad)
    assert "h, min, day or week" in str(err.value)


def _text_result(sheet, time_col="Hour"):
    """The parts of an AnalysisResult that data_paragraph and reproduce.finding read."""
    from types import SimpleNamespace

    return SimpleNamespace(sheet=sheet, design=sheet.design, settings={"time": time_col, "baseline": "auto"},
                           anova_data={}, notes=[], estimates=None)


def test_no_time_unit_prints_no_unit_in_the_text(tmp_path):
    from bayes_igf1.report import text
    from bayes_igf1.reproduce import STUDY, finding

    # effect_vs_reference of one group at times 1, 2, 3: P(increase) > .95 at 1 and 2 only; peak +50% at 2
    est = pd.DataFrame({"name": "effect_vs_reference", "group": "Ketamine", "time": [1.0, 2.0, 3.0],
                        "prob_above": [0.99, 0.97, 0.80], "median": [20.0, 50.0, 10.0]})
    timecourse = STUDY[0]
    plain = _text_result(read_tc(write_csv(tmp_path / "n.csv", unit_rows([-1, 1, 2]))))
    plain.estimates = est
    para = text.data_paragraph(plain)
    assert "(Hour \u22121)" in para and "(Hour 1 and 2)" in para  # fmt_number writes a minus sign
    assert not re.search(r"\b(h|hr|hours?|d|days?)\b", para)
    assert text._at(plain, 2.0) == "at Hour 2"
    assert finding(timecourse, plain) == "Ketamine: P(increase) > .95 from 1 to 2; largest +50.0% at 2."
    days = _text_result(read_tc(write_csv(tmp_path / "d.csv", unit_rows([-1, 1, 2])), time_unit="day"))
    days.estimates = est
    para = text.data_paragraph(days)
    assert "(\u22121 d)" in para and "(1 and 2 d)" in para and "Hour" not in para and not re.search(r"\bh\b", para)
    assert text._at(days, 2.0) == "at 2 d"
    assert finding(timecourse, days) == "Ketamine: P(increase) > .95 from 1 to 2 d; largest +50.0% at 2 d."
    hours = _text_result(read_tc(write_csv(tmp_path / "h.csv", unit_rows(["-1 h", "1 h", "2 h"]))))
    hours.estimates = est
    assert finding(timecourse, hours) == "Ketamine: P(increase) > .95 from 1 to 2 h; largest +50.0% at 2 h."


def test_reproduce_gives_the_microdialysis_unit():
    from bayes_igf1.reproduce import STUDY

    assert STUDY[0].design == "timecourse" and STUDY[0].options["time_unit"] == "h"


def test_data_paragraph_states_every_reference_and_why(tmp_path):
    from bayes_igf1.report import text

    rows = [["mouse", "treatment", "antibody", "y"]]
    for k, (a, b) in enumerate([(a, b) for a in ("ketamine", "saline") for b in ("anti-IGF-1", "Control IgG")] * 2):
        rows.append([f"m{k}", a, b, 100 + k])
    sheet = read_factorial(write_csv(tmp_path / "f.csv", rows), outcome="y", factors=["treatment", "antibody"],
                           animal="mouse")
    para = text.data_paragraph(_text_result(sheet))
    assert ("Reference levels: treatment = saline (named like a control); antibody = Control IgG "
            "(named like a control: Control).") in para
    one = read_tc(write_csv(tmp_path / "d.csv", timecourse_rows()), reference="Ketamine")
    assert "Reference level: Treatment = Ketamine (given with --reference)." in text.data_paragraph(_text_result(one))
    frame = pd.concat([one_factor_frame(["vehicle", "saline", "ketamine"])] * 2).assign(z=list("aaaaaabbbbbb"))
    two = read_factorial(frame, outcome="y", factors=["dose", "z"])
    assert ("dose = ketamine (first in sorted order; several levels are named like a control: 'vehicle', "
            "'saline'); z = a (first in sorted order).") in text.data_paragraph(_text_result(two))


# -------------------------------------------------------------------------- censoring


def latency_rows(flags: list[object], values: list[float], *, header: str = "cut") -> list[list[object]]:
    """One row per mouse, 2 x 2 cells of equal size, the flag column called ``header``."""
    n = len(values)
    rows = [["mouse", "treatment", "antibody", "latency", header]]
    for k in range(n):
        rows.append([f"n{k + 1:02d}", ("saline", "ketamine")[k % 2], ("IgG", "nAb")[(k // 2) % 2], values[k], flags[k]])
    return rows


FACTORS = dict(outcome="latency", factors=["treatment", "antibody"], animal="mouse")


def test_event_column_is_the_survival_coding_and_keeps_each_rows_time(tmp_path):
    # different follow-up times per animal: censored at 250, 400 and 600
    values = [250.0, 120.0, 400.0, 80.0, 600.0, 300.0, 90.0, 600.0]
    events = ["0", "1", "no", "yes", "FALSE", "true", "1.0", "0"]
    sheet = read_factorial(write_csv(tmp_path / "e.csv", latency_rows(events, values, header="ate")), event="ate",
                           **FACTORS)
    f = sheet.frame
    assert f["censored"].tolist() == [True, False, True, False, True, False, False, True]
    assert f["value"].tolist() == values  # each row's own time, no common cut-off
    assert f.loc[f["censored"], "value"].tolist() == [250.0, 400.0, 600.0, 600.0]
    assert sheet.columns["event"] == "ate" and "censored" not in sheet.columns
    assert sheet.summary()["n_censored"] == 4 and sheet.summary()["censoring"] == "right"
    assert_ledger_consistent(sheet)
    # the same data coded the other way round, read with --censored, give the same frame
    flipped = ["1", "0", "1", "0", "1", "0", "0", "1"]
    same = read_factorial(write_csv(tmp_path / "c.csv", latency_rows(flipped, values)), censored="cut", **FACTORS)
    pd.testing.assert_frame_equal(same.frame, f)
    # with a cut-off too: 600 is censored by either, 250 and 400 by the flag, at their own times
    both = read_factorial(write_csv(tmp_path / "e.csv", latency_rows(events, values, header="ate")), event="ate",
                          censor_at=600, **FACTORS)
    assert both.frame["censored"].tolist() == f["censored"].tolist() and both.frame["value"].tolist() == values


def test_censored_and_event_together_is_an_error(tmp_path):
    path = write_csv(tmp_path / "e.csv", latency_rows(["0", "1"] * 4, [100.0] * 8))
    with pytest.raises(DataError, match="both --censored 'cut' and --event 'cut' are given") as err:
        read_factorial(path, censored="cut", event="cut", **FACTORS)
    assert "--event COLUMN when 1 means the event happened" in str(err.value)


@pytest.mark.parametrize("option", ["censored", "event"])
@pytest.mark.parametrize(("cell", "found"), [("2", "found '2'"), ("censored", "found 'censored'"),
                                             ("dead", "found 'dead'"), ("-1", "found '-1'"), ("", "the cell is blank")])
def test_flag_values_must_be_0_1(tmp_path, option, cell, found):
    flags = ["0", "1"] * 4
    flags[5] = cell  # row 7
    path = write_csv(tmp_path / "e.csv", latency_rows(flags, [100.0] * 8))
    with pytest.raises(DataError, match=re.escape(found)) as err:
        read_factorial(path, **{option: "cut"}, **FACTORS)
    assert err.value.file == "e.csv" and err.value.row == 7 and err.value.column == "cut"
    msg = str(err.value)
    assert "expected 1/0, yes/no, y/n or true/false" in msg and f"(--{option})" in msg
    expect = "write 1 when the event happened" if option == "event" else "write 1 when the test ended before the event"
    assert expect in msg


@pytest.mark.parametrize("header", ["status", "Event", "dead", "Death", "died", "failure", "tumour", "Tumor",
                                    "event_flag", "Status (1 = dead)", "deaths"])
def test_censored_column_named_like_an_event(tmp_path, header):
    path = write_csv(tmp_path / "e.csv", latency_rows(["0", "1"] * 4, [100.0] * 8, header=header))
    with pytest.raises(DataError, match="named like an event indicator") as err:
        read_factorial(path, censored=header, **FACTORS)
    msg = str(err.value)
    assert err.value.column == header and err.value.row == 1 and err.value.file == "e.csv"
    assert "1 in such a column usually means the event happened" in msg
    assert f"use --event {header!r} if 1 means the event happened" in msg and "rename the column" in msg
    # the same column read as an event column is fine
    assert read_factorial(path, event=header, **FACTORS).frame["censored"].tolist() == [True, False] * 4


@pytest.mark.parametrize("header", ["cut", "censored", "nsft_censored", "eventually", "statusquo"])
def test_censored_column_names_that_are_not_events(tmp_path, header):
    path = write_csv(tmp_path / "e.csv", latency_rows(["0", "1"] * 4, [100.0] * 8, header=header))
    assert read_factorial(path, censored=header, **FACTORS).frame["censored"].sum() == 4


def test_mostly_censored_warns_and_notes(tmp_path):
    values = [600.0] * 20
    values[0], values[1] = 100.0, 200.0
    # 18 of 20 censored = 90%: not more than 90%, no warning
    flags = ["0", "0"] + ["1"] * 18
    import warnings as w

    with w.catch_warnings():
        w.simplefilter("error")
        ok = read_factorial(write_csv(tmp_path / "a.csv", latency_rows(flags, values)), censored="cut", **FACTORS)
    assert ok.notes == () and "notes" not in ok.data_block() and ok.summary()["notes"] == []
    # 19 of 20 = 95%
    flags[1] = "1"
    with pytest.warns(UserWarning, match=r"19 of 20 rows \(95\.0%\) are right-censored by the censoring column 'cut'") as rec:
        sheet = read_factorial(write_csv(tmp_path / "b.csv", latency_rows(flags, values)), censored="cut", **FACTORS)
    msg = str(rec[0].message)
    assert "with --censored the package reads 1 = censored" in msg and "use --event instead" in msg
    assert msg.startswith("b.csv: ")
    assert len(sheet.notes) == 1 and "95.0%" in sheet.notes[0]
    assert sheet.data_block()["notes"] == list(sheet.notes) and sheet.summary()["notes"] == list(sheet.notes)
    assert sheet.frame["censored"].sum() == 19  # read as given, not flipped
    # an event column that is mostly 0
    events = ["1", "0"] + ["0"] * 18
    with pytest.warns(UserWarning, match=r"\(95\.0%\).*event column 'ate'.*1 = the event happened"):
        read_factorial(write_csv(tmp_path / "c.csv", latency_rows(events, values, header="ate")), event="ate", **FACTORS)
    # the cut-off alone: 19 of the 20 values are at it
    rows = latency_rows(["0"] * 20, [600.0] * 19 + [100.0])
    with pytest.warns(UserWarning, match=r"19 of 20 rows \(95\.0%\) are right-censored at the cut-off \(--censor-at\)"):
        read_factorial(write_csv(tmp_path / "d.csv", rows), censor_at=600, **FACTORS)


def test_censored_below_an_observed_value_of_the_same_animal(tmp_path):
    rows = [["mouse", "treatment", "antibody", "latency", "cut"]]
    cells = [("saline", "IgG"), ("saline", "nAb"), ("ketamine", "IgG"), ("ketamine", "nAb")]
    k = 0
    for a, b in cells:
        for m in range(2):
            k += 1
            rows.append([f"{a}-{b}-{m}", a, b, 100.0 + k, "0"])  # trial 1, observed
            rows.append([f"{a}-{b}-{m}", a, b, 600.0, "1"])  # trial 2, censored at 600
    path = write_csv(tmp_path / "t.csv", rows)
    fine = read_factorial(path, censored="cut", **FACTORS)
    assert fine.frame["censored"].sum() == 8
    # row 3: saline-IgG-0 now censored at 90 s, below its own observed 101 s (row 2)
    rows[2][3] = 90.0
    with pytest.raises(DataError, match=r"'saline-IgG-0' is censored at 90 \(row 3\) but was observed at 101 \(row 2\)") as err:
        read_factorial(write_csv(tmp_path / "t.csv", rows), censored="cut", **FACTORS)
    assert err.value.row == 3 and err.value.column == "cut" and err.value.file == "t.csv"
    assert "check the censoring flag" in str(err.value)
    # another animal's observed value above a censoring time is no error
    rows[2][3] = 600.0
    rows[4][3] = 95.0  # row 5: saline-IgG-1 censored at 95; its own observed value (row 4) is 102
    with pytest.raises(DataError, match=r"\(row 5\) but was observed at 102 \(row 4\)"):
        read_factorial(write_csv(tmp_path / "t.csv", rows), censored="cut", **FACTORS)
    rows[4][3] = 102.0  # equal to the observed value: allowed (censored at the time last seen)
    assert read_factorial(write_csv(tmp_path / "t.csv", rows), censored="cut", **FACTORS).frame["censored"].sum() == 8


# ------------------------------------------------- physical lines (issue 15, see test_bad_sheets)


def test_ledger_knows_the_header_line_and_the_line_count(tmp_path):
    path = tmp_path / "d.csv"
    body = "\n".join(",".join(str(c) for c in r) for r in timecourse_rows())
    path.write_text("\n\n" + body + "\n\n,,,\n", encoding="utf-8")  # 2 blank lines above, 2 below
    sheet = read_tc(path)
    led = sheet.ledger
    assert (led.header_row, led.n_lines) == (3, 17)
    assert led.entries["row"].tolist() == list(range(4, 16))
    later = led.exclude([4], "outlier")
    assert (later.header_row, later.n_lines) == (3, 17)  # kept by exclude
    frame = read_tc(pd.read_csv(write_csv(tmp_path / "e.csv", timecourse_rows()))).ledger
    assert (frame.header_row, frame.n_lines) == (1, 13)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    quote_at=st.lists(st.integers(1, 12), max_size=2),
    blanks=st.lists(st.integers(1, 12), max_size=3),
    crlf=st.booleans(),
)
def test_property_every_line_read_or_the_error_names_the_quote(tmp_path_factory, quote_at, blanks, crlf):
    rows = [",".join(str(c) for c in r) + ",note" for r in timecourse_rows()]
    rows[0] = ",".join(TC_HEADER) + ",Notes"
    for k in sorted(set(quote_at)):
        rows[k] = rows[k][: -len("note")] + '"note'  # a stray quote opening the Notes cell
    for k in sorted(blanks, reverse=True):
        rows.insert(k, ",,,,")
    path = tmp_path_factory.mktemp("q") / "q.csv"
    path.write_bytes(("\r\n" if crlf else "\n").join(rows).encode() + b"\n")
    quoted = [n for n, line in enumerate(rows, start=1) if '"' in line]
    try:
        sheet = read_tc(path)
    except DataError as err:
        assert quoted, str(err)
        assert err.row == quoted[0] and f"opens a cell in line {quoted[0]}" in str(err)
        return
    assert not quoted
    led = sheet.ledger
    assert led.n_lines == len(rows) and led.entries["row"].tolist() == list(range(2, len(rows) + 1))
    for row, animal in zip(sheet.frame["row"], sheet.frame["animal"], strict=True):
        assert rows[row - 1].startswith(animal + ",")
