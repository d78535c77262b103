"""The notebooks run end to end with few draws, and are stored without outputs.

Each notebook is executed with nbclient in a fresh kernel ("python3", this interpreter),
with the working directory ``notebooks/``. The cell tagged ``parameters`` is replaced by
``FAST_PARAMETERS`` first (papermill-style injection, done by hand), so every fit runs with
100 draws on 2 chains; those fits fail the diagnostics gate and are refitted once, as
designed, and their reports say FAILED. The kernel's TMPDIR is the test's ``tmp_path``, so
the report folders the notebooks write with ``tempfile.mkdtemp`` land there and are checked.
"""

from __future__ import annotations

import copy
import json
import os
import re
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
NAMES = ["01_timecourse.ipynb", "02_interaction.ipynb", "03_your_data.ipynb", "04_published_figure.ipynb"]
STORED_PARAMETERS = {"draws": 1000, "tune": 1000, "chains": 4, "retry": True}
FAST_PARAMETERS = "draws = 100\ntune = 100\nchains = 2\nretry = False"
CELL_TIMEOUT_S = 600


def _read(name: str) -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOKS / name, as_version=4)


def _parameters_cell(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    tagged = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"expected one cell tagged 'parameters', found {len(tagged)}"
    assert tagged[0].cell_type == "code"
    return tagged[0]


def inject_parameters(nb: nbformat.NotebookNode, source: str = FAST_PARAMETERS) -> nbformat.NotebookNode:
    """A copy of ``nb`` whose parameters cell reads ``source``."""
    nb = copy.deepcopy(nb)
    _parameters_cell(nb).source = source
    return nb


def _report_dirs(root: Path) -> dict[str, Path]:
    """Report folders under ``root`` (those holding a report.html), keyed by folder name."""
    return {p.parent.name: p.parent for p in root.rglob("report.html")}


def _check_report(folder: Path, design: str) -> dict:
    for name in ("report.html", "report.md", "results.json", "tables/estimates.csv", "tables/anova.csv"):
        assert (folder / name).is_file(), f"{folder / name} missing"
    assert list((folder / "figures").glob("*.png")), f"no figures in {folder}"
    assert (folder / "posterior.nc").exists()
    doc = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    assert doc["design"] == design
    assert doc["settings"]["draws"] == 100 and doc["settings"]["chains"] == 2  # the injected parameters
    assert doc["estimates"]
    return doc


# ------------------------------------------------------------------ stored notebooks


@pytest.mark.parametrize("name", NAMES)
def test_stored_notebook_is_clean(name):
    nb = _read(name)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{name}: outputs stored in cell {cell.get('id')}"
            assert cell.execution_count is None, f"{name}: execution count stored in cell {cell.get('id')}"
    assert nb.cells[0].cell_type == "markdown"
    params = {}
    exec(_parameters_cell(nb).source, {}, params)
    assert params == STORED_PARAMETERS


@pytest.mark.parametrize("name", NAMES)
def test_every_fit_uses_the_parameters(name):
    code = "\n".join(c.source for c in _read(name).cells if c.cell_type == "code")
    fits = re.findall(r"\banalyse_(?:timecourse|factorial|summary|battery)\(", code)
    assert fits
    for option in ("draws=draws", "tune=tune", "chains=chains"):
        assert code.count(option) == len(fits), f"{name}: not every fit passes {option}"


def test_injection_replaces_only_the_parameters_cell():
    nb = _read(NAMES[0])
    fast = inject_parameters(nb)
    assert _parameters_cell(fast).source == FAST_PARAMETERS
    assert _parameters_cell(nb).source != FAST_PARAMETERS
    changed = [a.get("id") for a, b in zip(nb.cells, fast.cells, strict=True) if a.source != b.source]
    assert changed == [_parameters_cell(nb).get("id")]


# ------------------------------------------------------------------ executed notebooks


def _execute(name: str, tmp_path: Path) -> tuple[nbformat.NotebookNode, float]:
    nb = inject_parameters(_read(name))
    client = NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOKS)}})
    env = {**os.environ, "TMPDIR": str(tmp_path), "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    start = time.perf_counter()
    client.execute(env=env)  # raises CellExecutionError, with the cell and its traceback, on any error
    return nb, time.perf_counter() - start


def _text(nb: nbformat.NotebookNode) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", ""))
            parts.append(out.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def _n_images(nb: nbformat.NotebookNode) -> int:
    return sum("image/png" in out.get("data", {}) for c in nb.cells for out in c.get("outputs", []))


def test_01_timecourse_runs(tmp_path):
    nb, seconds = _execute("01_timecourse.ipynb", tmp_path)
    print(f"01_timecourse.ipynb: {seconds:.0f} s")
    dirs = _report_dirs(tmp_path)
    assert set(dirs) == {"timecourse"}
    doc = _check_report(dirs["timecourse"], "timecourse")
    assert doc["settings"]["lloq"] == 8.0
    assert {e["reason"] for e in doc["data"]["excluded"]} == {"missing value (lost fraction)"}
    assert (dirs["timecourse"] / "figures" / "timecourse.png").is_file()
    text = _text(nb)
    assert "Report folder:" in text and "P(ketamine 30 > ketamine 10 at every hour)" in text
    assert _n_images(nb) >= 3  # raw values, PPC, time-course panels


def test_02_interaction_runs(tmp_path):
    nb, seconds = _execute("02_interaction.ipynb", tmp_path)
    print(f"02_interaction.ipynb: {seconds:.0f} s")
    dirs = _report_dirs(tmp_path)
    assert set(dirs) == {"fst", "nsft"}
    _check_report(dirs["fst"], "factorial")
    nsft = _check_report(dirs["nsft"], "factorial")
    assert nsft["settings"]["family"] == "lognormal" and nsft["settings"]["censored"] == "nsft_censored"
    for table in ("frequentist_km_median", "frequentist_logrank", "frequentist_cox", "checks_bayes_factor"):
        assert (dirs["nsft"] / "tables" / f"{table}.csv").is_file(), table
    assert (dirs["fst"] / "tables" / "checks_bayes_factor.csv").is_file()
    text = _text(nb)
    assert "P(blockade > 50%)" in text and "Cox interaction" in text
    assert _n_images(nb) >= 4


def test_03_your_data_runs(tmp_path):
    nb, seconds = _execute("03_your_data.ipynb", tmp_path)
    print(f"03_your_data.ipynb: {seconds:.0f} s")
    dirs = _report_dirs(tmp_path)
    assert set(dirs) == {"timecourse_report", "fst_stress_report"}
    assert list(tmp_path.rglob("dialysis.xlsx")) and list(tmp_path.rglob("dialysis_long.csv"))
    tc = _check_report(dirs["timecourse_report"], "timecourse")
    assert tc["settings"]["layout"] == "wide-time"
    assert tc["settings"]["reference"] == "Vehicle" and tc["settings"]["rope"] == 10.0
    reasons = {e["reason"] for e in tc["data"]["excluded"]}
    assert {"summary row (mean)", "blank row", "missing value (lost fraction)"} <= reasons
    assert tc["data"]["n_per_group"] == {"Vehicle": 5, "Ketamine": 5}
    fx = _check_report(dirs["fst_stress_report"], "factorial")
    assert fx["settings"]["where"] == ["Group=Stress"]
    reasons = {e["reason"] for e in fx["data"]["excluded"]}
    assert any(r.startswith("filtered out by --where") for r in reasons)
    assert "summary row (average)" in reasons
    assert "DataError:" in _text(nb)  # the misspelled column, caught and shown


def test_04_published_figure_runs(tmp_path):
    nb, seconds = _execute("04_published_figure.ipynb", tmp_path)
    print(f"04_published_figure.ipynb: {seconds:.0f} s")
    dirs = _report_dirs(tmp_path)
    assert set(dirs) == {"summary"}
    doc = _check_report(dirs["summary"], "summary")
    assert doc["data"]["n_animals"] == 38
    text = _text(nb)
    assert "Report folder:" in text and "summary statistics" in text  # the plan's note on its source
