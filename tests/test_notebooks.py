"""The notebooks are stored executed, and still run end to end.

``make notebooks`` (``notebooks/execute.py``) runs each notebook with its stored parameters
(4 x 1000 draws) and stores the outputs, so that the notebooks read on a web page; it records
the parameters and a hash of the code cells in ``metadata["bayes_igf1"]``. Here:

* the stored copies are checked: executed top to bottom with the stored parameters and the
  stored code, no error, no path of the machine that ran them, small figures;
* each notebook is executed again the same way (``execute.execute``: a fresh kernel "python3",
  working directory ``notebooks/``, TMPDIR = the test's ``tmp_path`` so the report folders the
  notebooks write with ``tempfile.mkdtemp`` land there and are checked) with the cell tagged
  ``parameters`` replaced by ``FAST_PARAMETERS`` (100 draws on 2 chains; those fits fail the
  diagnostics gate, as designed, and their reports say FAILED), and compared with the stored
  copy: the same cells, and every code cell gives outputs of the same kinds;
* a slow test re-executes each notebook with its stored parameters: every text output equals
  the stored one.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import re
import struct
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
NAMES = ["01_timecourse.ipynb", "02_interaction.ipynb", "03_your_data.ipynb", "04_published_figure.ipynb"]
STORED_PARAMETERS = {"draws": 1000, "tune": 1000, "chains": 4, "retry": True}
FAST_PARAMETERS = "draws = 100\ntune = 100\nchains = 2\nretry = False"
CELL_TIMEOUT_S = 600
MAX_NOTEBOOK_BYTES = 1_500_000
MAX_PNG_BYTES, MAX_PNG_WIDTH = 200_000, 1100
# An absolute path of a machine, or a file URI: stored outputs must show neither.
MACHINE_PATH = re.compile(r"file://|(?<![\w.~<])/(?:tmp|home|root|work|Users|var|private|opt|usr)/"
                          r"|\b[A-Z]:\\(?:Users|Windows)\\")
TEXT_MIMES = ("text/plain", "text/html", "text/markdown", "text/latex", "application/json")

_spec = importlib.util.spec_from_file_location("notebook_execute", NOTEBOOKS / "execute.py")
nbexec = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(nbexec)


def _read(name: str) -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOKS / name, as_version=4)


def _code_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [c for c in nb.cells if c.cell_type == "code"]


def _kinds(cell: nbformat.NotebookNode) -> set[str]:
    """What a cell shows: ``stream:stdout``, ``stream:stderr``, ``error`` and the MIME types."""
    kinds = set()
    for out in cell.outputs:
        if out.output_type == "stream":
            kinds.add(f"stream:{out.name}")
        elif out.output_type == "error":
            kinds.add("error")
        else:
            kinds.update(out.get("data", {}))
    return kinds


def _cell_texts(cell: nbformat.NotebookNode) -> list[str]:
    """Every text a code cell shows, in order (streams, text MIME types, tracebacks)."""
    texts = []
    for out in cell.outputs:
        texts.append(out.get("text", ""))
        data = out.get("data", {})
        texts += [v if isinstance(v, str) else json.dumps(v) for k, v in sorted(data.items()) if k in TEXT_MIMES]
        texts += out.get("traceback", [])
    return texts


def _texts(nb: nbformat.NotebookNode) -> list[str]:
    return [t for cell in _code_cells(nb) for t in _cell_texts(cell)]


def _text(nb: nbformat.NotebookNode) -> str:
    return "\n".join(_texts(nb))


def _pngs(nb: nbformat.NotebookNode) -> list[bytes]:
    return [base64.b64decode(out["data"]["image/png"]) for c in _code_cells(nb) for out in c.outputs
            if "image/png" in out.get("data", {})]


def _png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    return struct.unpack(">II", png[16:24])


# ------------------------------------------------------------------ stored notebooks


@pytest.mark.parametrize("name", NAMES)
def test_stored_notebook_is_executed_with_its_code_and_parameters(name):
    nb = _read(name)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert nb.cells[0].cell_type == "markdown"
    assert nbexec.parameters(nb) == STORED_PARAMETERS
    recorded = nb.metadata.get("bayes_igf1")
    assert recorded, f"{name}: no execution record: run `make notebooks`"
    assert recorded["parameters"] == STORED_PARAMETERS
    assert recorded["code_sha256"] == nbexec.code_hash(nb), \
        f"{name}: code changed since its outputs were stored: run `make notebooks`"
    code = _code_cells(nb)
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), "not run top to bottom once"
    assert sum(bool(c.outputs) for c in code) >= len(code) // 2
    for cell in code:
        assert "error" not in _kinds(cell), f"{name}: error stored in cell {cell.get('id')}"
        assert "execution" not in cell.metadata, f"{name}: timings stored in cell {cell.get('id')}"
    assert "version" not in nb.metadata.get("language_info", {})


@pytest.mark.parametrize("name", NAMES)
def test_stored_outputs_show_no_machine_path_and_small_figures(name):
    nb = _read(name)
    leaks = [m.group(0) for t in _texts(nb) for m in MACHINE_PATH.finditer(t)]
    assert not leaks, f"{name}: stored outputs show paths of a machine: {leaks[:3]}"
    assert not nbexec.machine_paths(nb)
    assert (NOTEBOOKS / name).stat().st_size < MAX_NOTEBOOK_BYTES
    for png in _pngs(nb):
        width, height = _png_size(png)
        assert len(png) < MAX_PNG_BYTES and width <= MAX_PNG_WIDTH and height <= MAX_PNG_WIDTH, (width, height)


def test_machine_path_checks_catch_a_temporary_folder(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(outputs=[
        nbformat.v4.new_output("stream", name="stdout", text=f"Report folder: {tmp_path / 'fst'}\n")])])
    assert nbexec.machine_paths(nb)
    for shown in ("/tmp/igf1_x/fst", "/home/ana/igf1/fst", "file:///tmp/r.html", r"C:\Users\ana\fst"):
        assert MACHINE_PATH.search(f"Report folder: {shown}"), shown
    assert not MACHINE_PATH.search("Report folder: <temporary folder>/fst")


@pytest.mark.parametrize("name", NAMES)
def test_every_fit_uses_the_parameters(name):
    code = "\n".join(c.source for c in _code_cells(_read(name)))
    fits = re.findall(r"\banalyse_(?:timecourse|factorial|summary|battery)\(", code)
    assert fits
    for option in ("draws=draws", "tune=tune", "chains=chains"):
        assert code.count(option) == len(fits), f"{name}: not every fit passes {option}"


def test_injection_replaces_only_the_parameters_cell():
    nb = _read(NAMES[0])
    fast = nbexec.with_parameters(nb, FAST_PARAMETERS)
    assert nbexec.parameters_cell(fast).source == FAST_PARAMETERS
    assert nbexec.parameters_cell(nb).source != FAST_PARAMETERS
    changed = [a.get("id") for a, b in zip(nb.cells, fast.cells, strict=True) if a.source != b.source]
    assert changed == [nbexec.parameters_cell(nb).get("id")]


# ------------------------------------------------------------------ executed notebooks


def _execute(name: str, tmp_path: Path, source: str | None = FAST_PARAMETERS) -> nbformat.NotebookNode:
    """``name`` executed afresh (raises CellExecutionError, with the cell and traceback, on any error)."""
    return nbexec.execute(_read(name), tmpdir=tmp_path, source=source, timeout=CELL_TIMEOUT_S)


def _compare_with_stored(name: str, fresh: nbformat.NotebookNode, tmp_path: Path) -> None:
    stored = _read(name)
    assert [(c.cell_type, c.get("id")) for c in fresh.cells] == [(c.cell_type, c.get("id")) for c in stored.cells]
    parameters_id = nbexec.parameters_cell(stored).get("id")
    for old, new in zip(_code_cells(stored), _code_cells(fresh), strict=True):
        assert "error" not in _kinds(new)
        assert new.source == old.source or old.get("id") == parameters_id
        assert _kinds(new) == _kinds(old), f"{name}, cell {old.get('id')}: {_kinds(new)} != {_kinds(old)}"
    assert len(_pngs(fresh)) == len(_pngs(stored))
    assert str(tmp_path) not in _text(fresh) and not MACHINE_PATH.search(_text(fresh))


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


def test_01_timecourse_runs(tmp_path):
    nb = _execute("01_timecourse.ipynb", tmp_path)
    _compare_with_stored("01_timecourse.ipynb", nb, tmp_path)
    dirs = _report_dirs(tmp_path)
    assert set(dirs) == {"timecourse"}
    doc = _check_report(dirs["timecourse"], "timecourse")
    assert doc["settings"]["lloq"] == 8.0
    assert {e["reason"] for e in doc["data"]["excluded"]} == {"missing value (lost fraction)"}
    assert (dirs["timecourse"] / "figures" / "timecourse.png").is_file()
    text = _text(nb)
    assert "Report folder: <temporary folder>/timecourse" in text
    assert "P(ketamine 30 > ketamine 10 at every hour)" in text
    assert len(_pngs(nb)) >= 3  # raw values, PPC, time-course panels


def test_02_interaction_runs(tmp_path):
    nb = _execute("02_interaction.ipynb", tmp_path)
    _compare_with_stored("02_interaction.ipynb", nb, tmp_path)
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
    assert len(_pngs(nb)) >= 4


def test_03_your_data_runs(tmp_path):
    nb = _execute("03_your_data.ipynb", tmp_path)
    _compare_with_stored("03_your_data.ipynb", nb, tmp_path)
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
    nb = _execute("04_published_figure.ipynb", tmp_path)
    _compare_with_stored("04_published_figure.ipynb", nb, tmp_path)
    dirs = _report_dirs(tmp_path)
    assert set(dirs) == {"summary"}
    doc = _check_report(dirs["summary"], "summary")
    assert doc["data"]["n_animals"] == 38
    text = _text(nb)
    assert "Report folder: <temporary folder>/summary" in text
    assert "summary statistics" in text  # the plan's note on its source
    assert "source analysis (<temporary folder>/summary)" in text


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_stored_outputs_are_reproduced_exactly(name, tmp_path):
    """With its stored parameters a notebook prints exactly what is stored (seeded fits)."""
    stored = _read(name)
    fresh = _execute(name, tmp_path, source=None)
    _compare_with_stored(name, fresh, tmp_path)
    for old, new in zip(_code_cells(stored), _code_cells(fresh), strict=True):
        assert _cell_texts(new) == _cell_texts(old), f"{name}, cell {old.get('id')}: text outputs differ"
    dirs = _report_dirs(tmp_path)
    assert dirs
    for folder in dirs.values():
        assert json.loads((folder / "results.json").read_text())["settings"]["draws"] == STORED_PARAMETERS["draws"]
