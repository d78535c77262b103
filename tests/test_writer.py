"""The report folder is written whole: temporary sibling, marker, lock; CSV and Markdown escaping.

No model is fitted here: `write_report` runs with its file-writing step replaced by a small
fake (`_write_files`), which is all the folder handling sees of a result.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from bayes_igf1.cli import main
from bayes_igf1.report import tables as tables_mod
from bayes_igf1.report import writer
from bayes_igf1.report.writer import MARKER, Block, OutputFolderError, to_markdown, write_report

ROOT = Path(__file__).resolve().parent.parent
FST = str(ROOT / "data" / "fst_igf1_nab.csv")
FX = ["factorial", FST, "--outcome", "immobility_s", "--factor", "treatment", "--factor", "antibody", "--quiet"]


def fake_writer(tag: str, files=("results.json", "report.md", "report.html", "tables/anova.csv")):
    """A stand-in for writer._write_files: every file holds ``tag``."""
    def write(result, out, *, figures):
        written = {}
        for rel in files:
            path = out / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(tag)
            written[rel] = path
        return written
    return write


def contents(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text() for p in sorted(folder.rglob("*")) if p.is_file()}


def leftovers(folder: Path) -> list[str]:
    """What a write leaves beside the folder besides the folder itself (temporary folders, lock)."""
    return sorted(p.name for p in folder.parent.iterdir() if p.name != folder.name)


def child(script: str, *args: str) -> subprocess.Popen:
    """A Python process running ``script`` (stdout piped), the package importable."""
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(script), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


# A writer that writes results.json, says HALFWAY and then waits (for a kill, or for a file to appear).
SLOW_WRITE = """
    import sys, time
    from pathlib import Path
    from bayes_igf1.report import writer

    out, tag, go = sys.argv[1], sys.argv[2], Path(sys.argv[3])

    def slow(result, folder, *, figures):
        (folder / "results.json").write_text(tag)
        print("HALFWAY", flush=True)
        deadline = time.time() + 20
        while not go.exists() and time.time() < deadline:
            time.sleep(0.02)
        (folder / "report.md").write_text(tag)
        return {"results.json": folder / "results.json", "report.md": folder / "report.md"}

    writer._write_files = slow
    writer.write_report(None, out)
    print("DONE", flush=True)
"""


def wait_for(proc: subprocess.Popen, word: str) -> None:
    line = proc.stdout.readline().strip()
    if line != word:
        proc.kill()
        raise AssertionError(f"child said {line!r}, not {word!r}; stderr: {proc.stderr.read()}")


# -------------------------------------------------------------------- whole folders


def test_folder_is_replaced_whole_with_a_marker(tmp_path, monkeypatch):
    out = tmp_path / "res"
    monkeypatch.setattr(writer, "_write_files", fake_writer("factorial", (
        "results.json", "report.md", "tables/anova.csv", "tables/frequentist_tukey.csv", "figures/factorial.png")))
    files = write_report(None, out)
    assert set(files) == {"results.json", "report.md", "tables/anova.csv", "tables/frequentist_tukey.csv",
                          "figures/factorial.png"}
    assert files["report.md"] == out / "report.md" and files["report.md"].read_text() == "factorial"
    marker = json.loads((out / MARKER).read_text())
    assert marker["written_by"] == "bayes-igf1" and marker["kind"] == "report" and marker["version"]
    assert marker["files"] == sorted(files)
    assert leftovers(out) == []  # no temporary folder, no lock
    # an analysis of another design into the same folder: no file of the first remains
    monkeypatch.setattr(writer, "_write_files", fake_writer("timecourse", ("results.json", "report.md",
                                                                           "tables/mauchly.csv")))
    write_report(None, out)
    assert contents(out).keys() == {MARKER, "results.json", "report.md", "tables/mauchly.csv"}
    assert {v for k, v in contents(out).items() if k != MARKER} == {"timecourse"}
    assert leftovers(out) == []


def test_the_garbage_collector_is_off_during_a_write_and_as_it_was_after(tmp_path, monkeypatch):
    import gc

    seen = []

    def write(result, out, *, figures):
        seen.append(gc.isenabled())
        if len(seen) == 1:  # a nested write (e.g. from a design's own figure code) keeps it off
            write_report(None, tmp_path / "inner")
            seen.append(gc.isenabled())
        (out / "report.md").write_text("x")
        return {"report.md": out / "report.md"}

    monkeypatch.setattr(writer, "_write_files", write)
    was = gc.isenabled()
    try:
        gc.enable()
        write_report(None, tmp_path / "a")
        assert seen == [False, False, False] and gc.isenabled()
        with pytest.raises(RuntimeError):  # a failing write turns it back on too
            monkeypatch.setattr(writer, "_write_files", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("x")))
            write_report(None, tmp_path / "b")
        assert gc.isenabled()
        gc.disable()  # a caller that turned it off keeps it off
        monkeypatch.setattr(writer, "_write_files", fake_writer("t"))
        write_report(None, tmp_path / "c")
        assert not gc.isenabled()
    finally:
        (gc.enable if was else gc.disable)()


def test_a_failing_write_leaves_the_previous_report(tmp_path, monkeypatch):
    out = tmp_path / "res"
    monkeypatch.setattr(writer, "_write_files", fake_writer("old"))
    write_report(None, out)
    before = contents(out)

    def broken(result, folder, *, figures):
        (folder / "results.json").write_text("new")
        raise RuntimeError("figure failed")

    monkeypatch.setattr(writer, "_write_files", broken)
    with pytest.raises(RuntimeError, match="figure failed"):
        write_report(None, out)
    assert contents(out) == before
    assert leftovers(out) == []


def test_users_own_files_are_never_overwritten_without_force(tmp_path, monkeypatch):
    monkeypatch.setattr(writer, "_write_files", fake_writer("ours"))
    mine = tmp_path / "mine"
    (mine / "tables").mkdir(parents=True)
    (mine / "report.md").write_text("my own report")
    (mine / "tables" / "anova.csv").write_text("my own anova")
    with pytest.raises(OutputFolderError) as err:
        write_report(None, mine)
    assert "report.md, tables/anova.csv" in str(err.value) and "force=True" in str(err.value)
    assert (mine / "report.md").read_text() == "my own report" and leftovers(mine) == []
    # a file of the user's own put into a folder the package wrote is protected too
    ours = tmp_path / "ours"
    write_report(None, ours)
    (ours / "notes.txt").write_text("mine")
    with pytest.raises(OutputFolderError, match=r"notes\.txt"):
        write_report(None, ours)
    assert (ours / "notes.txt").read_text() == "mine"
    # with force the folder is replaced whole
    write_report(None, mine, force=True)
    assert contents(mine).keys() == {MARKER, "results.json", "report.md", "report.html", "tables/anova.csv"}
    assert (mine / "report.md").read_text() == "ours"


def test_a_report_folder_from_before_the_marker_is_recognised(tmp_path, monkeypatch):
    old = tmp_path / "old"
    (old / "tables").mkdir(parents=True)
    (old / "results.json").write_text(json.dumps({"design": "factorial", "package_version": "0.1",
                                                  "diagnostics": {}}))
    (old / "tables" / "anova.csv").write_text("x")
    (old / "report.md").write_text("x")
    assert writer.foreign_files(old) == []
    (old / "tables" / "my_plot.R").write_text("x")
    assert writer.foreign_files(old) == ["tables/my_plot.R"]


def test_out_that_is_a_file_or_under_one_or_not_writable(tmp_path, monkeypatch):
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("a,b\n")
    with pytest.raises(OutputFolderError, match=r"is a file, not a folder\. Fix: give a folder"):
        write_report(None, sheet)
    with pytest.raises(OutputFolderError, match=r"lies under .*sheet\.csv', which is a file"):
        write_report(None, sheet / "report")
    monkeypatch.setattr(writer, "_probe_writable", lambda folder: "permission denied")
    with pytest.raises(OutputFolderError, match=r"cannot be written: .*\(permission denied\)\. Fix: choose a folder"):
        write_report(None, tmp_path / "new")
    assert sheet.read_text() == "a,b\n" and not (tmp_path / "new").exists()


def test_a_mount_point_is_refused_with_a_sub_folder_as_the_fix(tmp_path, monkeypatch):
    volume = tmp_path / "volume"
    volume.mkdir()
    real = os.path.ismount
    monkeypatch.setattr(os.path, "ismount", lambda p: os.fspath(p) == str(volume) or real(p))
    with pytest.raises(OutputFolderError, match=r"is a mount point .* Fix: write into a sub-folder of it, e.g. "
                                                r"out_dir='.*volume/report'"):
        writer.check_output_folder(volume)


def test_an_unwritable_parent_is_found_by_the_probe(tmp_path):
    # /proc refuses new files even to root (CI runs as root, where a chmod 555 folder is writable).
    if not Path("/proc").is_dir():
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o555)
        parent = ro
    else:
        parent = Path("/proc")
    with pytest.raises(OutputFolderError, match="cannot be written"):
        writer.check_output_path(parent / "bayes-igf1-report")


def test_a_swap_cut_short_puts_the_previous_report_back(tmp_path, monkeypatch):
    """Killed between moving the old folder aside and the new one in (where the two-step rename is used)."""
    out = tmp_path / "res"
    monkeypatch.setattr(writer, "_write_files", fake_writer("old"))
    write_report(None, out)
    dead = 2**22 + 12345  # above the usual pid_max: no such process
    os.rename(out, tmp_path / f".res.old-{dead}-0a1b2c3d")
    (tmp_path / f".res.tmp-{dead}-0a1b2c3e").mkdir()
    writer._clean_stale(writer.check_output_path(out))
    assert set(contents(out).values()) >= {"old"} and leftovers(out) == []


def test_the_two_step_swap_where_exchange_is_not_available(tmp_path, monkeypatch):
    out = tmp_path / "res"
    monkeypatch.setattr(writer, "_exchange", lambda a, b: False)
    monkeypatch.setattr(writer, "_write_files", fake_writer("one"))
    write_report(None, out)
    monkeypatch.setattr(writer, "_write_files", fake_writer("two"))
    write_report(None, out)
    assert {v for k, v in contents(out).items() if k != MARKER} == {"two"} and leftovers(out) == []


# ---------------------------------------------------------- kill and concurrent runs


def test_a_killed_write_leaves_the_previous_report_and_the_next_run_cleans_up(tmp_path, monkeypatch):
    out = tmp_path / "res"
    monkeypatch.setattr(writer, "_write_files", fake_writer("old"))
    write_report(None, out)
    before = contents(out)
    proc = child(SLOW_WRITE, str(out), "new", str(tmp_path / "never"))
    try:
        wait_for(proc, "HALFWAY")  # results.json of the new run is written, the rest is not
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        proc.kill()
        proc.communicate()
    assert contents(out) == before  # the previous report, complete and untouched
    left = leftovers(out)
    assert left[0].startswith(f".res.tmp-{proc.pid}-") and left[1:] == ["res.lock"]
    assert (tmp_path / left[0] / "results.json").read_text() == "new"
    # the next run takes over the dead run's lock and removes its temporary folder
    monkeypatch.setattr(writer, "_write_files", fake_writer("next"))
    write_report(None, out)
    assert {v for k, v in contents(out).items() if k != MARKER} == {"next"}
    assert leftovers(out) == []


def test_concurrent_runs_into_one_folder_never_interleave(tmp_path, monkeypatch, capsys):
    out = tmp_path / "work" / "res"
    go = tmp_path / "go"
    proc = child(SLOW_WRITE, str(out), "seed 1", str(go))
    try:
        wait_for(proc, "HALFWAY")  # the first run holds the lock, halfway through its files
        monkeypatch.setattr(writer, "_write_files", fake_writer("seed 99"))
        with pytest.raises(OutputFolderError, match=rf"being written by another bayes-igf1 run \(PID {proc.pid}"):
            write_report(None, out)
        # the command line refuses before reading or fitting anything
        monkeypatch.setattr("bayes_igf1.designs.factorial.analyse_factorial",
                            lambda *a, **k: pytest.fail("fitted although --out is in use"))
        assert main([*FX, "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert f"--out '{out}' is being written by another bayes-igf1 run (PID {proc.pid}" in err
        assert "Fix: wait until that run has finished, or choose another --out" in err
        go.touch()
        wait_for(proc, "DONE")
        assert proc.wait(10) == 0
    finally:
        proc.kill()
        proc.communicate()
    assert {v for k, v in contents(out).items() if k != MARKER} == {"seed 1"}
    write_report(None, out)  # free again
    assert {v for k, v in contents(out).items() if k != MARKER} == {"seed 99"} and leftovers(out) == []


def test_the_lock_is_reentrant_in_one_process(tmp_path, monkeypatch):
    monkeypatch.setattr(writer, "_write_files", fake_writer("x"))
    with writer.output_lock(tmp_path / "res", names=writer.CLI_NAMES):
        assert (tmp_path / "res.lock").is_file()
        assert json.loads((tmp_path / "res.lock").read_text())["pid"] == os.getpid()
        write_report(None, tmp_path / "res")
        assert (tmp_path / "res.lock").is_file()
    assert not (tmp_path / "res.lock").exists()


# ---------------------------------------------------------------------- escaping


def test_csv_cells_that_could_be_formulas_are_quoted(tmp_path, monkeypatch):
    display = pd.DataFrame({"Contrast": ["-IgG vs saline", "=SUM(A1)", "+cmd", "@x", "\tx", "saline"],
                            "Estimate": ["-3.2", "\u22120.5 [\u22121.2, 0.3]", "+12% [+4, +20%]", "1.2e-05",
                                         "-3.2 [-5.1, -1.0]", "\u2014"]})
    monkeypatch.setattr(tables_mod, "tables", lambda result: {"contrasts": (display, "caption")})
    estimates = pd.DataFrame({"name": ["simple_effect"], "label": ["=HYPERLINK(\"x\")"], "median": [-3.25]})
    result = SimpleNamespace(estimates=estimates, frequentist_extra={"tukey": pd.DataFrame({"level": ["-IgG"]})},
                             checks={})
    paths = tables_mod.write_tables(result, tmp_path)
    got = pd.read_csv(paths["tables/contrasts.csv"], dtype=str, keep_default_na=False)
    assert list(got["Contrast"]) == ["'-IgG vs saline", "'=SUM(A1)", "'+cmd", "'@x", "'\tx", "saline"]
    assert list(got["Estimate"]) == list(display["Estimate"])  # numbers stay numbers
    est = pd.read_csv(paths["tables/estimates.csv"], keep_default_na=False)
    assert est.loc[0, "label"] == "'=HYPERLINK(\"x\")" and est.loc[0, "median"] == -3.25
    assert pd.read_csv(paths["tables/frequentist_tukey.csv"]).loc[0, "level"] == "'-IgG"


def test_report_md_does_not_turn_labels_into_html():
    frame = pd.DataFrame({"Contrast": ["<script>alert(1)</script> vs saline"], "p": ["< .001"]})
    md = to_markdown([Block("h1", "Study <b>x</b>"), Block("p", "<img src=x onerror=alert(1)> raised it; p < .001"),
                      Block("list", items=["level <!-- x -->"]), Block("table", "Table of <script>", frame=frame,
                                                                         number=1)])
    assert "<script" not in md and "<img" not in md and "<b>" not in md and "<!--" not in md
    assert "&lt;script>alert(1)&lt;/script> vs saline" in md
    assert "*p* < .001" in md and "| < .001 |" in md  # comparisons are left alone (p in italics, APA)
