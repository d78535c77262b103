"""Run the notebooks in place and store their outputs (``make notebooks``).

Each notebook runs top to bottom in a fresh ``python3`` kernel with the working directory
``notebooks/`` and its stored parameters (or ``--parameters``), its report folders in a
temporary directory removed afterwards, inline figures as PNG at ``FIGURE_DPI``. Volatile
metadata (cell timings, the kernel's Python version) is not stored, and
``metadata["bayes_igf1"]`` records the parameters and a hash of the code cells, so that
``tests/test_notebooks.py`` can check that the stored outputs belong to the stored code.

    .venv/bin/python notebooks/execute.py                       # all notebooks
    .venv/bin/python notebooks/execute.py 04_published_figure.ipynb
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
FIGURE_DPI = 100
CELL_TIMEOUT_S = 3600
KERNEL_ARGS = [  # options of the kernel: every inline figure a PNG at FIGURE_DPI; no log chatter
    "--IPKernelApp.log_level=ERROR",
    "--InlineBackend.figure_formats=['png']",
    f"--InlineBackend.print_figure_kwargs={{'bbox_inches': 'tight', 'dpi': {FIGURE_DPI}}}",
]


def notebook_names() -> list[str]:
    """File names of the notebooks in ``notebooks/``, sorted."""
    return sorted(p.name for p in HERE.glob("*.ipynb"))


def parameters_cell(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The one code cell tagged ``parameters``."""
    tagged = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(tagged) != 1 or tagged[0].cell_type != "code":
        raise ValueError(f"expected one code cell tagged 'parameters', found {len(tagged)}")
    return tagged[0]


def parameters(nb: nbformat.NotebookNode) -> dict:
    """The values the parameters cell sets."""
    values: dict = {}
    exec(parameters_cell(nb).source, {}, values)
    return values


def with_parameters(nb: nbformat.NotebookNode, source: str) -> nbformat.NotebookNode:
    """A copy of ``nb`` whose parameters cell reads ``source``."""
    nb = copy.deepcopy(nb)
    parameters_cell(nb).source = source
    return nb


def code_hash(nb: nbformat.NotebookNode) -> str:
    """SHA-256 of the code cells' sources, in order."""
    code = "\0".join(c.source for c in nb.cells if c.cell_type == "code")
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def execute(nb: nbformat.NotebookNode, *, tmpdir: Path, source: str | None = None,
            timeout: int = CELL_TIMEOUT_S) -> nbformat.NotebookNode:
    """An executed copy of ``nb``, its parameters cell replaced by ``source`` if given.

    Raises nbclient's ``CellExecutionError`` (with the cell and its traceback) on any error.
    """
    nb = copy.deepcopy(nb) if source is None else with_parameters(nb, source)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                            extra_arguments=KERNEL_ARGS, resources={"metadata": {"path": str(HERE)}})
    env = {**os.environ, "TMPDIR": str(tmpdir), "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    client.execute(env=env)
    nb.metadata.get("language_info", {}).pop("version", None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    return nb


def machine_paths(nb: nbformat.NotebookNode, *extra: Path) -> list[str]:
    """The outputs' lines that show a path of this machine (the repository, home, temp folders)."""
    marks = {str(HERE.parent), str(Path.home()), tempfile.gettempdir(), "file://", *map(str, extra)}
    lines = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            texts = [out.get("text", ""), out.get("traceback", "")] + [
                v for k, v in out.get("data", {}).items() if k.startswith("text/") or k.endswith("json")]
            for text in texts:
                text = "\n".join(text) if isinstance(text, list) else str(text)
                lines += [line for line in text.splitlines() if any(m in line for m in marks)]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="notebook file names (default: all)")
    args = parser.parse_args(argv)
    unknown = sorted({Path(n).name for n in args.names} - set(notebook_names()))
    if unknown:
        parser.error(f"no notebook {', '.join(unknown)} in {HERE.name}/ (there are {', '.join(notebook_names())})")
    for name in args.names or notebook_names():
        path = HERE / Path(name).name
        nb = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="igf1_notebook_") as tmp:
            done = execute(nb, tmpdir=Path(tmp))
            leaks = machine_paths(done, Path(tmp))
        if leaks:
            print(f"{name}: not stored, its outputs show paths of this machine:", *leaks[:5], sep="\n  ",
                  file=sys.stderr)
            return 1
        done.metadata["bayes_igf1"] = {"parameters": parameters(done), "code_sha256": code_hash(done)}
        nbformat.validate(done)
        nbformat.write(done, path)
        print(f"{name}: {time.perf_counter() - start:.0f} s, {path.stat().st_size / 1e6:.2f} MB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
