"""Errors with the fix in the message.

Every error raised on user input says where (file, row, column), what was expected, and
how to fix it. The CLI prints ``str(error)`` and exits with code 2, never a traceback.
"""

from __future__ import annotations


class BayesIGF1Error(Exception):
    """Base class of the package's errors."""


class DataError(BayesIGF1Error, ValueError):
    """Bad input data.

    Parameters
    ----------
    problem : str
        What is wrong, in one sentence.
    file : str, optional
        The file read.
    row : int, optional
        Spreadsheet row number (header row = 1, first data row = 2).
    column : str, optional
        The column concerned.
    fix : str, optional
        What the user should do.
    """

    def __init__(
        self,
        problem: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.problem = problem
        self.file = file
        self.row = row
        self.column = column
        self.fix = fix
        super().__init__(self._message())

    def _message(self) -> str:
        where = []
        if self.file is not None:
            where.append(f"file {self.file!r}")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        text = (", ".join(where) + ": " if where else "") + self.problem.rstrip(".") + "."
        if self.fix:
            text += " Fix: " + self.fix.rstrip(".") + "."
        return text


class DesignError(BayesIGF1Error, ValueError):
    """The data cannot support the requested design or option (with the fix in the message)."""


class ConvergenceError(BayesIGF1Error, RuntimeError):
    """A model failed the diagnostics gate even after the automatic retry."""
