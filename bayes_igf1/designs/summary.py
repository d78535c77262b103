"""Summary design: reanalyse a published figure from its cell means, SD or SEM and n (issue 16).

Input: a small table, one row per cell of a k >= 2 way between-animal design (treatment x
antibody, ...): the factor columns, the cell's mean, its SD or its SEM (SD = SEM sqrt(n)) and
its n, typed or digitised from a bar graph. No animal's value is needed.

Model: the factorial design's cell-means model (`bayes_igf1.designs.factorial`) with the exact
likelihood of the normal model's sufficient statistics. For cell c with n_c animals, mean
ybar_c and SD s_c (C cells, N = sum n_c animals)::

    ybar_c     ~ Normal(cell_mean[c], sigma / sqrt(n_c))             (likelihood term "y")
    SS_within  = sum_c (n_c - 1) s_c^2 ~ sigma^2 chi-square(N - C)   (term "ss_within":
               = Gamma((N - C) / 2, rate = 1 / (2 sigma^2))           Gamma on SS itself)
    cell_mean  ~ Normal(m, 2.5 s)   iid over the cells;   sigma ~ HalfNormal(s)

The product of these densities is, as a function of (cell_mean, sigma), the likelihood of the
animals' values under ``y_i ~ Normal(cell_mean[cell_i], sigma)`` up to a constant, so with the
same priors the posterior is the one the raw-data factorial model gives (``tests/
test_summary.py`` fits both on simulated animals). The priors are the factorial's, scaled
from the grand mean m and the SD s of all N animals about it, both recovered exactly from the
summaries (SS_total = SS_within + sum_c n_c (ybar_c - m)^2). The estimands (cell means, main
and simple effects, interactions, % blockade with a blocker, Cohen's d on sigma), the
Savage-Dickey Bayes factor of the interaction (prior SD sqrt(2^k) x the cell-mean prior SD)
and the Bayesian ANOVA are the factorial's own functions.

Twin: the type III (or II) ANOVA, Tukey over the cells, the planned simple effects (Sidak)
with Hedges' g and the interaction contrasts are exact functions of the cell means, SDs and
n. They are computed by rebuilding, for each cell, n_c values with exactly that mean and SD
(``mean + sd * z``, z evenly spaced and standardised to mean 0 and SD 1; `pseudo_rows`) and
running the factorial's twin (`bayes_igf1.frequentist.between`, pinned to afex / emmeans)
on them: every figure it reports depends on the values only through these statistics, so it
equals the figure afex / emmeans give on the real animals (pinned to R on carData::Moore and
carData::Salaries reduced to summaries, ``tests/fixtures/summary_golden.R``). Tests that need
the animals' values (Shapiro-Wilk, Levene, a mixed model) are not run; Bartlett's test of
equal cell variances, a function of the SDs, is.

What the summaries cannot carry: the shape of the distribution (the normal model is assumed,
not checked), cohorts, litters, repeated rows per animal, censoring and outliers. The report
says so, and names every SD that was converted from an SEM.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pymc as pm
from pymc.exceptions import ImplicitFreezeWarning
import pytensor.tensor as pt
import xarray as xr
from scipy import stats

from bayes_igf1.constants import ANIMAL, CENSORED, CI_KIND, CI_PROB, DEFAULT_SEED, ROW, VALUE
from bayes_igf1.designs import factorial as fa
from bayes_igf1.designs.base import NotPlanned
from bayes_igf1.designs.factorial import Factorial, FactorialData, FactorialOptions
from bayes_igf1.errors import DataError, DesignError
from bayes_igf1.io import (
    EXCLUDED,
    N_ANIMALS,
    USED,
    Sheet,
    _check_levels,
    _check_lookalikes,
    _check_separators,
    _classify,
    _distinct,
    _ledger,
    _load,
    _no_data_left,
    _norm,
    _number_error,
    _number_format,
    _order_levels,
    _plus_minus_columns,
    _required_text,
    _resolve,
    _screen,
    _show,
)
from bayes_igf1.results import AnalysisResult

DESIGN = "summary"
#: Tidy-frame columns of a summary sheet beside ``row``, the factors, ``value`` (the cell mean,
#: as read) and ``censored`` (always False): the SD (given, or converted from the SEM), the SEM
#: (given, or SD / sqrt(n)), n (`bayes_igf1.io.N_ANIMALS`) and whether the SD came from an SEM.
SD, SEM, SD_FROM_SEM = "sd", "sem", "sd_from_sem"
#: Names a factor cannot have (tidy-frame columns and the model's names).
RESERVED_NAMES = fa.RESERVED_NAMES | {SD, SEM, SD_FROM_SEM, N_ANIMALS, "ss_within", "ss_data", "y_data"}
#: Free parameters of the model (the diagnostics gate).
FREE_PARAMETERS = ("cell_mean", "sigma")
#: The shipped summary table (derived from the simulated ``fst_igf1_nab.csv``).
SHIPPED_TABLE = "fst_igf1_nab_summary.csv"


# ------------------------------------------------------------------------------ reading


def read_summary(
    source: str | Path | pd.DataFrame,
    *,
    factors: Sequence[str],
    mean: str,
    n: str,
    sd: str | None = None,
    sem: str | None = None,
    outcome: str | None = None,
    sheet: str | int | None = None,
    where: Sequence[str] = (),
    decimal: str | None = None,
    thousands: str | None = None,
    reference: Mapping[str, str] | None = None,
    value_range: tuple[float, float] | None = None,
) -> Sheet:
    """Read and validate a summary table: one row per cell, its mean, SD or SEM, and n.

    Parameters
    ----------
    source : str, Path or pandas.DataFrame
        The table (.csv / .tsv / .txt / .xlsx) or a DataFrame.
    factors : sequence of str
        The k >= 2 factor columns; every combination of their levels needs exactly one row.
    mean : str
        Column of the cell means.
    n : str
        Column of the number of animals in each cell (a whole number >= 2).
    sd, sem : str, optional
        Column of the cells' standard deviations, or of their standard errors of the mean;
        exactly one. An SEM is converted to an SD as SEM x sqrt(n).
    outcome : str, optional
        The outcome's name in the report (default: the ``mean`` column's header).
    sheet : str or int, optional
        Excel sheet.
    where : sequence of str
        ``COLUMN=VALUE`` row filters (as `bayes_igf1.io.read_factorial`).
    decimal, thousands : str, optional
        The table's decimal and thousands separators (as `bayes_igf1.io.read_factorial`).
    reference : mapping of str to str, optional
        Factor -> reference level; other factors follow the io rule (named like a control,
        else the lowest number, else the first in sorted order).
    value_range : (float, float), optional
        The range a mean of this outcome can take (CLI ``--range LOW,HIGH``, e.g. 0,360 for
        seconds of immobility in a 6-min test): a mean outside it is an error naming its row.

    Returns
    -------
    Sheet
        ``design = "summary"``; frame columns ``row, <factors...>, value`` (the cell mean),
        ``sd, sem, n_animals, sd_from_sem, censored`` (False), one row per cell in the table's
        order. Every data row read is in the ledger (blank, summary and ``--where`` rows
        excluded with their reason). ``columns`` maps ``value`` to the outcome's name and
        ``mean``, ``sd`` or ``sem``, ``n`` (and ``animal``: the animals are counted there) to
        the table's headers.

    Raises
    ------
    DataError
        Naming the file, row, column and the fix: n < 2 or not a whole number, an SD / SEM
        that is not above zero, both or neither of ``sd`` / ``sem``, a cell missing or given
        twice, a cell that is not a number, a mean outside ``value_range``.
    """
    factors = [factors] if isinstance(factors, str) else [str(f) for f in factors]
    if len(factors) < 2:
        raise DataError(f"a summary table needs at least two factor columns, got {factors}",
                        fix="name them with --factor, e.g. --factor treatment --factor antibody")
    if len({_norm(f) for f in factors}) < len(factors):
        raise DataError(f"a factor is given twice: {factors}", fix="give each --factor once")
    for f in factors:
        if f in RESERVED_NAMES:
            raise DataError(f"a factor cannot be called {f!r}, a name the summary design uses", column=f,
                            fix="rename the column in the table (e.g. 'Treatment')")
    if sd is not None and sem is not None:
        raise DataError(f"both --sd {sd!r} and --sem {sem!r} are given",
                        fix="give one: --sd COLUMN when the table has standard deviations, --sem COLUMN when it has "
                            "standard errors of the mean (the error bars of most bar graphs; SD = SEM x sqrt(n))")
    if sd is None and sem is None:
        raise DataError("neither --sd nor --sem is given: the analysis needs each cell's spread",
                        fix="name the column of standard deviations (--sd COLUMN) or of standard errors of the mean "
                            "(--sem COLUMN)")
    low, high = _check_range(value_range)
    table = _load(source, sheet=sheet, fmt=_number_format(decimal, thousands))
    im = _resolve(table, mean, option="--mean")
    spread_option = "--sd" if sd is not None else "--sem"
    isp = _resolve(table, sd if sd is not None else sem, option=spread_option)
    inn = _resolve(table, n, option="--n")
    ifs = [_resolve(table, f, option="--factor") for f in factors]
    roles = {"--mean": im, spread_option: isp, "--n": inn}
    roles.update({f"--factor {f}": i for f, i in zip(factors, ifs, strict=True)})
    _distinct(table, roles)
    used = [im, isp, inn, *ifs]
    reasons = _screen(table, id_cols=[], label_cols=ifs, used_cols=used, where=where)
    _check_separators(table, [[im], [isp], [inn]], reasons)
    dash = _plus_minus_columns(table, reasons, ifs)
    spread_word = "SD" if sd is not None else "SEM"
    entries, obs, seen = [], [], {}
    for rownum, cells, reason in zip(table.rows, table.cells, reasons, strict=True):
        if reason:
            entries.append((rownum, EXCLUDED, reason, ""))
            continue
        levels = tuple(_required_text(table, rownum, cells, i, f"{f!r} level", dash_level=i in dash)
                       for f, i in zip(factors, ifs, strict=True))
        m = _cell_number(table, rownum, cells, im, "mean")
        s = _cell_number(table, rownum, cells, isp, spread_word)
        k = _cell_number(table, rownum, cells, inn, "n")
        if abs(k - round(k)) > 1e-9:
            raise DataError(f"n = {k:g} is not a whole number of animals", file=table.source, row=rownum,
                            column=table.label(inn), fix="give the number of animals in the cell (e.g. 9)")
        k = int(round(k))
        if k < 2:
            raise DataError(
                f"n = {k}: a cell needs at least 2 animals (an SD needs two values)", file=table.source, row=rownum,
                column=table.label(inn),
                fix="check n in the figure legend; a cell of fewer than 2 animals has no SD: drop its level with "
                    "--where, or analyse fewer factors")
        if not s > 0:
            raise DataError(
                f"the {spread_word} is {s:g}; it must be above zero", file=table.source, row=rownum,
                column=table.label(isp),
                fix=f"check the value: an {spread_word} of 0 says every animal had the same value; if the error bar "
                    "was too short to read off the figure, measure it at a higher zoom")
        if low is not None and not low <= m <= high:
            raise DataError(
                f"the mean {m:g} is outside the outcome's range {low:g} to {high:g} (--range)",
                file=table.source, row=rownum, column=table.label(im),
                fix="check the value (a digitising slip, a misplaced decimal point or the wrong axis?) or the "
                    "--range given")
        label = ", ".join(f"{f}={_show(lv)[1:-1]}" for f, lv in zip(factors, levels, strict=True))
        if levels in seen:
            raise DataError(f"the cell {label} is given twice (rows {seen[levels]} and {rownum})",
                            file=table.source, row=rownum,
                            fix="a summary table has one row per cell: delete one of the rows, or correct the levels")
        seen[levels] = rownum
        obs.append((rownum, levels, m, s, k))
        entries.append((rownum, USED, "", ""))
    if not obs:
        raise _no_data_left(table, entries)
    for j, i in enumerate(ifs):
        firsts: dict[str, int] = {}
        for o in obs:
            firsts.setdefault(o[1][j], o[0])
        _check_lookalikes(table, firsts, column=table.label(i), what="level", fold_case=True)
    ref_by_factor = _references(table, factors, reference)
    cats, rules = [], {}
    for j, (f, i) in enumerate(zip(factors, ifs, strict=True)):
        levels = list(dict.fromkeys(o[1][j] for o in obs))
        _check_levels(table, levels, column=table.label(i))
        levels, rules[f] = _order_levels(table, levels, ref_by_factor.get(f), column=table.label(i),
                                         option=f"--reference {f}=LEVEL")
        cats.append(levels)
    for combo in itertools.product(*cats):
        if combo not in seen:
            label = ", ".join(f"{f}={_show(lv)[1:-1]}" for f, lv in zip(factors, combo, strict=True))
            raise DataError(
                f"no row for the cell {label}", file=table.source,
                fix="every combination of the factor levels needs its row (mean, SD or SEM, n): add it, or drop a "
                    "level with --where")
    rows, levels_, means, spreads, ns = zip(*obs, strict=True)
    ns_arr = np.asarray(ns, dtype=np.int64)
    spreads_arr = np.asarray(spreads, dtype=float)
    data: dict[str, object] = {ROW: np.asarray(rows, dtype=np.int64)}
    for j, f in enumerate(factors):
        data[f] = pd.Categorical([lv[j] for lv in levels_], categories=cats[j])
    data[VALUE] = np.asarray(means, dtype=float)
    data[SD] = spreads_arr if sd is not None else spreads_arr * np.sqrt(ns_arr)
    data[SEM] = spreads_arr / np.sqrt(ns_arr) if sd is not None else spreads_arr
    data[N_ANIMALS] = ns_arr
    data[SD_FROM_SEM] = np.full(len(rows), sd is None)
    data[CENSORED] = np.zeros(len(rows), dtype=bool)
    columns = {"value": str(outcome) if outcome else table.header[im], "mean": table.header[im],
               ("sd" if sd is not None else "sem"): table.header[isp], "n": table.header[inn],
               "animal": table.header[inn]}
    for f, i in zip(factors, ifs, strict=True):
        columns[f] = table.header[i]
    return Sheet(frame=pd.DataFrame(data), ledger=_ledger(table, entries), columns=columns, source=table.source,
                 design=DESIGN, factors=tuple(factors), animal_ids_made_up=False, reference_rule=rules,
                 notes=tuple(table.notes))


def _check_range(value_range) -> tuple[float | None, float | None]:
    if value_range is None:
        return None, None
    try:
        low, high = (float(v) for v in value_range)
    except (TypeError, ValueError):
        raise DataError(f"the range {value_range!r} is not two numbers",
                        fix="give it as LOW,HIGH, e.g. --range 0,360 (value_range=(0, 360))") from None
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise DataError(f"the range {low:g},{high:g} is not LOW < HIGH",
                        fix="give it as LOW,HIGH with LOW below HIGH, e.g. --range 0,360")
    return low, high


def _cell_number(table, rownum: int, cells: list, idx: int, what: str) -> float:
    kind, x = _classify(cells[idx], table.fmt)
    if kind == "missing":
        raise DataError(f"the {what} is missing", file=table.source, row=rownum, column=table.label(idx),
                        fix=f"fill in the cell's {what} (from the figure, its legend or the text), or delete the row and "
                            "drop the level with --where")
    if kind != "number":
        raise _number_error(table, rownum, table.label(idx), cells[idx], kind, below_ok=False)
    return float(x)


def _references(table, factors: list[str], reference: Mapping[str, str] | None) -> dict[str, str]:
    """--reference FACTOR=LEVEL matched to the factors (exactly, then case / space-insensitively)."""
    if reference is not None and not isinstance(reference, Mapping):
        raise DataError(f"reference must map each factor to its reference level, got {reference!r}",
                        fix='reference={"treatment": "saline"} (--reference treatment=saline)')
    out: dict[str, str] = {}
    for key, lv in dict(reference or {}).items():
        hits = [f for f in factors if f == key] or [f for f in factors if _norm(f) == _norm(key)]
        if not hits:
            raise DataError(f"--reference names {key!r}, which is not a factor", file=table.source, column=str(key),
                            fix="use one of the factors: " + ", ".join(repr(f) for f in factors))
        out[hits[0]] = lv
    return out


def summary_table(frame: pd.DataFrame, *, outcome: str, factors: Sequence[str], spread: str = "sem",
                  decimals: int | None = None) -> pd.DataFrame:
    """The summary table of raw rows: one row per cell with its mean, SD or SEM and n.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per animal.
    outcome : str
        Outcome column.
    factors : sequence of str
        Factor columns; cells in order of first appearance.
    spread : {"sem", "sd"}
        Which spread to give.
    decimals : int, optional
        Round the mean and the spread (a published figure's precision).

    Returns
    -------
    pandas.DataFrame
        Columns ``<factors...>, <outcome>_mean, <outcome>_<spread>, n``.
    """
    if spread not in ("sem", "sd"):
        raise DesignError(f"spread must be 'sem' or 'sd', not {spread!r}. Fix: spread='sem'.")
    grouped = frame.groupby(list(factors), sort=False, observed=True)[outcome]
    out = grouped.agg(mean="mean", sd=lambda v: float(np.std(v, ddof=1)), n="size").reset_index()
    out["sem"] = out["sd"] / np.sqrt(out["n"])
    keep = out[[*factors, "mean", spread, "n"]].rename(columns={"mean": f"{outcome}_mean",
                                                                spread: f"{outcome}_{spread}"})
    if decimals is not None:
        for col in (f"{outcome}_mean", f"{outcome}_{spread}"):
            keep[col] = keep[col].round(decimals)
    return keep


# ------------------------------------------------------------------------------ data


@dataclass(frozen=True)
class SummaryData:
    """The validated summary table, ready for the model.

    ``mean``, ``sd``, ``n`` and ``cell_codes`` (level index of each factor) are per row of the
    table (its order: the model's ``obs`` dim). ``factorial`` holds the pseudo-rows of
    `pseudo_rows` as a `FactorialData`, for the factorial's estimand, Bayesian ANOVA and twin
    code: every quantity they compute from rows is a function of the cells' means, sums of
    squares and n, so it is what the animals' values would give.
    """

    frame: pd.DataFrame = field(repr=False)
    factorial: FactorialData = field(repr=False)
    mean: np.ndarray = field(repr=False)
    sd: np.ndarray = field(repr=False)
    n: np.ndarray = field(repr=False)
    cell_codes: np.ndarray = field(repr=False)

    @property
    def factors(self) -> tuple[str, ...]:
        return self.factorial.factors

    @property
    def n_total(self) -> int:
        return int(self.n.sum())

    @property
    def n_cells(self) -> int:
        return len(self.n)

    @property
    def df_within(self) -> int:
        """N - C: the degrees of freedom of the pooled within-cell sum of squares."""
        return self.n_total - self.n_cells

    @property
    def ss_within(self) -> float:
        """sum_c (n_c - 1) sd_c^2."""
        return float(np.sum((self.n - 1) * self.sd**2))

    @property
    def pooled_sd(self) -> float:
        return math.sqrt(self.ss_within / self.df_within)


def pseudo_rows(frame: pd.DataFrame, factors: Sequence[str]) -> pd.DataFrame:
    """n values per cell with exactly the cell's mean and SD: ``mean + sd * z``.

    ``z`` is n evenly spaced numbers standardised to mean 0 and SD 1 (ddof = 1). These are not
    the animals' values; they share every statistic the normal cell-means model and its ANOVA
    depend on (n, mean, sum of squares of each cell), so that code written for rows gives the
    figures the real rows would give.

    Returns
    -------
    pandas.DataFrame
        ``row`` (the table's row), ``animal`` (``"<row>.<i>"``), the factors (Categoricals as in
        ``frame``), ``value``, ``censored`` (False).
    """
    parts = []
    for rec in frame.to_dict("records"):
        k = int(rec[N_ANIMALS])
        z = np.linspace(-1.0, 1.0, k)
        z = (z - z.mean()) / np.std(z, ddof=1)
        parts.append(pd.DataFrame({ROW: rec[ROW], ANIMAL: [f"{rec[ROW]}.{i + 1}" for i in range(k)],
                                   **{f: [str(rec[f])] * k for f in factors},
                                   VALUE: rec[VALUE] + rec[SD] * z, CENSORED: False}))
    out = pd.concat(parts, ignore_index=True)
    for f in factors:
        out[f] = pd.Categorical(out[f], categories=list(frame[f].cat.categories))
    return out


def prepare(frame: pd.DataFrame, factors: Sequence[str], options: FactorialOptions, *,
            outcome: str | None = None) -> SummaryData:
    """Model arrays of a validated summary table (`read_summary`'s frame).

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per cell: ``row, <factors...>, value, sd, n_animals`` (factors are Categoricals,
        reference level first).
    factors : sequence of str
        The k >= 2 factor columns.
    options : FactorialOptions
        The factorial's options; the family must be ``"normal"`` (means and SDs are sufficient
        statistics of the normal model only).
    outcome : str, optional
        The outcome's name (for messages).
    """
    if options.family != "normal":
        raise DesignError(
            f"family {options.family!r} cannot be fitted from means and SDs: they are the sufficient statistics of a "
            "normal outcome only (a lognormal fit needs the geometric means and the SDs of the logs). Fix: family="
            "'normal', or analyse the animals' values with the factorial design.")
    factors = fa._check_factors(factors)
    for col in (ROW, VALUE, SD, N_ANIMALS, *factors):
        if col not in frame.columns:
            raise DesignError(f"the summary frame has no column {col!r}. Fix: read the table with read_summary.")
    frame = frame.reset_index(drop=True)
    n = frame[N_ANIMALS].to_numpy(dtype=np.int64)
    sd = frame[SD].to_numpy(dtype=float)
    mean = frame[VALUE].to_numpy(dtype=float)
    if np.any(n < 2) or not np.all(sd > 0) or not np.all(np.isfinite(mean)):
        raise DesignError("every cell needs n >= 2, an SD above zero and a finite mean. Fix: read the table with "
                          "read_summary.")
    fd = fa.prepare(pseudo_rows(frame, factors), factors, options, outcome=outcome)
    codes = np.column_stack([
        np.array([fd.levels[j].index(str(v)) for v in frame[f].astype(str)], dtype=np.int64)
        for j, f in enumerate(factors)])
    if len({tuple(c) for c in codes}) != len(codes) or len(codes) != fd.n_cells:
        raise DesignError("the summary frame needs exactly one row per cell. Fix: read the table with read_summary.")
    return SummaryData(frame=frame, factorial=fd, mean=mean, sd=sd, n=n, cell_codes=codes)


# ------------------------------------------------------------------------------ model


def _joint_dist(mu, sigma, sqrt_n, df, size):
    """The cell means and SS_within as one vector (the calibration model's single observed term)."""
    means = pm.Normal.dist(mu, sigma / sqrt_n)
    ss = pm.Gamma.dist(alpha=df / 2.0, beta=0.5 / sigma**2)
    return pt.concatenate([means, ss[None]])


def build_model(data: SummaryData, priors: dict[str, dict], *, joint: bool = False) -> pm.Model:
    """The PyMC model: one named dim per factor, ``obs`` = the table's rows.

    Parameters
    ----------
    data : SummaryData
    priors : dict
        Resolved priors (`bayes_igf1.designs.factorial.resolve_priors`): ``cell_mean`` and ``sigma``.
    joint : bool
        False (the analysis): two likelihood terms, ``y`` (the cell means, ``pm.Data("y_data")``)
        and ``ss_within`` (``pm.Data("ss_data")``), so that the predictive checks and figures see
        the cell means by cell. True (simulation-based calibration): one term ``y`` over
        ``y_data`` = [cell means..., SS_within], so that a calibration that swaps ``y_data``
        alone resimulates every observation.

    The cell-mean prior's location and scale are ``pm.Data`` (as in the factorial) so that the
    Bayes factor's sensitivity refits reuse one compilation.
    """
    fd = data.factorial
    coords: dict[str, list] = {f: list(lv) for f, lv in zip(fd.factors, fd.levels, strict=True)}
    coords["obs"] = list(range(data.n_cells))
    with pm.Model(coords=coords) as model:
        prior_mu = pm.Data("cell_mean_prior_mu", float(priors["cell_mean"]["mu"]))
        prior_sigma = pm.Data("cell_mean_prior_sigma", float(priors["cell_mean"]["sigma"]))
        cell_mean = pm.Normal("cell_mean", mu=prior_mu, sigma=prior_sigma, dims=fd.factors)
        sigma = fa._prior("sigma", priors["sigma"])
        mu = cell_mean[tuple(data.cell_codes.T)]
        sqrt_n = np.sqrt(data.n.astype(float))
        if joint:
            y_data = pm.Data("y_data", np.r_[data.mean, data.ss_within])
            pm.CustomDist("y", mu, sigma, sqrt_n, float(data.df_within), dist=_joint_dist, observed=y_data,
                          signature="(c),(),(c),()->(d)")
        else:
            y_data = pm.Data("y_data", data.mean, dims="obs")
            pm.Normal("y", mu=mu, sigma=sigma / sqrt_n, observed=y_data, dims="obs")
            ss_data = pm.Data("ss_data", data.ss_within)
            pm.Gamma("ss_within", alpha=data.df_within / 2.0, beta=0.5 / sigma**2, observed=ss_data)
    return model


# ------------------------------------------------------------------------------ twin


def bartlett(data: SummaryData) -> dict:
    """Bartlett's test of equal cell variances from the SDs and n (R ``bartlett.test``)."""
    k, dof = data.n_cells, data.n - 1
    sp2 = data.ss_within / data.df_within
    stat = (data.df_within * math.log(sp2) - float(np.sum(dof * np.log(data.sd**2)))) / (
        1.0 + (float(np.sum(1.0 / dof)) - 1.0 / data.df_within) / (3.0 * (k - 1)))
    return {"test": "Bartlett's test of equal cell variances, from the SDs and n", "K2": stat, "df": float(k - 1),
            "p": float(stats.chi2.sf(stat, k - 1)),
            "note": "a check, not a gate; sensitive to non-normality, which a summary cannot show"}


def summary_twin(data: SummaryData, options: FactorialOptions) -> dict:
    """The factorial's frequentist twin from the summaries (see the module docstring).

    Type III (or II) ANOVA, Tukey over the cells, planned simple effects with Sidak and
    Hedges' g, interaction contrasts and the cell means' t intervals, computed on `pseudo_rows`
    (exact: functions of the means, SDs and n); Bartlett's test instead of Shapiro-Wilk and
    Levene (which need the animals' values); no mixed model.
    """
    twin = fa.frequentist_twin(data.factorial, options)
    extra = twin["extra"]
    extra.pop("assumptions", None)
    extra["bartlett"] = bartlett(data)
    twin["mixed_model"] = {"method": None, "note": "A summary table: no mixed model (no animal-level values)."}
    twin["anova_data"]["note"] = (
        twin["anova_data"]["note"] + " Computed from the cell means, SDs and n, which determine the ANOVA, Tukey, the "
        "simple effects, Hedges' g and the interaction contrasts exactly (each cell rebuilt as n values with its "
        "mean and SD); Shapiro-Wilk and Levene need the animals' values and were not run.")
    twin["anova_data"]["summary_statistics"] = True
    return twin


# ------------------------------------------------------------------------------ checks


def _flat_draws(posterior: xr.Dataset, data: SummaryData) -> tuple[np.ndarray, np.ndarray]:
    """(cell mean of each table row, sigma): draws x rows and draws."""
    cm = posterior["cell_mean"].transpose("chain", "draw", *data.factors).values
    cm = cm.reshape(-1, *cm.shape[2:])
    mu = cm[(slice(None), *data.cell_codes.T)]
    sigma = posterior["sigma"].values.reshape(-1)
    return mu, sigma


def replicate_summaries(posterior: xr.Dataset, data: SummaryData, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Posterior predictive cell means and SDs (draws x rows): ybar_rep ~ Normal(mu, sigma / sqrt(n)) and
    sd_rep = sigma sqrt(chi-square(n - 1) / (n - 1)), independent (normal model)."""
    mu, sigma = _flat_draws(posterior, data)
    rng = np.random.default_rng(seed)
    n = data.n.astype(float)
    mean_rep = rng.normal(mu, sigma[:, None] / np.sqrt(n))
    sd_rep = sigma[:, None] * np.sqrt(rng.chisquare(n - 1.0, size=mu.shape) / (n - 1.0))
    return mean_rep, sd_rep


def _mid_p(rep: np.ndarray, observed: float) -> float:
    return float(np.mean(rep > observed) + 0.5 * np.mean(rep == observed))


def run_checks(tree: xr.DataTree, data: SummaryData, *, seed: int) -> dict:
    """Posterior predictive p of each cell's mean and SD and of the largest / smallest SD, the prior
    predictive range of the cell means, power-scaling prior sensitivity, Bartlett's test.

    No PSIS-LOO: each cell has one observation (its mean) and its own parameter, so leaving a
    cell out leaves its mean to the prior.
    """
    from bayes_igf1 import checks

    post = tree["posterior"].to_dataset()
    mean_rep, sd_rep = replicate_summaries(post, data, seed=seed)
    labels = [fa.cell_key(*(data.factorial.levels[j][c] for j, c in enumerate(code))) for code in data.cell_codes]
    rows = []
    for i, lab in enumerate(labels):
        for stat, rep, obs in (("mean", mean_rep[:, i], data.mean[i]), ("sd", sd_rep[:, i], data.sd[i])):
            rows.append({"group": lab, "statistic": stat, "observed": float(obs),
                         "predicted_median": float(np.median(rep)), "p": _mid_p(rep, obs)})
    ratio_rep = sd_rep.max(axis=1) / sd_rep.min(axis=1)
    ratio = float(data.sd.max() / data.sd.min())
    rows.append({"group": "all cells", "statistic": "largest / smallest SD", "observed": ratio,
                 "predicted_median": float(np.median(ratio_rep)), "p": _mid_p(ratio_rep, ratio)})
    ppc = pd.DataFrame(rows)
    out: dict = {"ppc": {"statistics": ppc.to_dict("records"),
                         "scale": "measured",
                         "n_extreme": int(((ppc["p"] < 0.025) | (ppc["p"] > 0.975)).sum())}}
    lo_v, hi_v = float(np.min(data.mean - 2 * data.sd)), float(np.max(data.mean + 2 * data.sd))
    span = hi_v - lo_v
    low = 0.0 if np.all(data.mean >= 0) else lo_v - span
    out["prior_predictive"] = {
        **checks.prior_predictive_range(tree, var="y", low=low, high=hi_v + span),
        "note": "of the cell means; plausible range 0 (or, with a negative mean, the lowest mean - 2 SD less the "
                "span) to the highest mean + 2 SD plus the span of mean ± 2 SD over the cells"}
    sens = checks.prior_sensitivity(tree, fa.gated_estimands(post, data.factorial))
    out["sensitivity"] = {"table": sens.to_dict("records"),
                          "flagged": sens[sens["diagnosis"] != "ok"].to_dict("records"),
                          "method": "power-scaling (Kallioinen et al. 2024), arviz-stats psense, threshold 0.05"}
    out["equal_variances"] = bartlett(data)
    return out


# ------------------------------------------------------------------------------ text


def model_text(data: SummaryData, priors: dict, options: FactorialOptions, outcome: str) -> str:
    """The model in words and formulas, each prior stated (methods section), in the factorial's style."""
    fd = data.factorial
    shape = " × ".join(str(k) for k in fd.shape)
    idx = ", ".join("abcdefghij"[: fd.k])
    s = float(priors["cell_mean"]["sigma"])
    lines = [
        f"mean[c] ~ Normal(cell_mean[{idx}], sigma / sqrt(n[c]))   the published mean of each of the {fd.n_cells} cells",
        f"SS_within = sum_c (n[c] - 1) sd[c]^2 ~ sigma^2 chi-square(N - C) = Gamma((N - C) / 2, rate 1 / (2 sigma^2))"
        f"   (SS_within = {fa._fmt(data.ss_within)}, N - C = {data.df_within})",
        f"cell_mean[{idx}] ~ {fa._prior_text(priors['cell_mean'])}   iid over the {fd.n_cells} cells",
        f"sigma ~ {fa._prior_text(priors['sigma'])}",
    ]
    sub = " × ".join("2" for _ in fd.factors)
    factor = "2" if fd.k == 2 else f"√{2 ** fd.k}"
    words = [
        f"Bayesian {shape} between-animal model of {outcome} with one mean per {' × '.join(fd.factors)} cell, fitted "
        f"to the cell summaries (mean, SD, n; {data.n_total} animals in {fd.n_cells} cells) through the exact "
        "likelihood of the normal model's sufficient statistics: the posterior equals the one the animals' values "
        "would give under y[i] ~ Normal(cell_mean[cell of i], sigma) with the same priors.",
        "Weakly informative priors scaled to the data (the grand mean and the SD of all animals about it, recovered "
        "exactly from the summaries"
        + (f"; all scales multiplied by prior_scale = {options.prior_scale:g}" if options.prior_scale != 1 else "")
        + "; listed below).",
    ]
    tail = [
        f"The cell means are also reported as sum-to-zero main effects of {fa._and(fd.factors)} and their "
        + ("interaction." if fd.k == 2 else "interactions."),
        f"The interaction contrast of a {sub} sub-table has the prior Normal(0, {factor} × {fa._fmt(s)}) = Normal(0, "
        f"{fa._fmt(fa.interaction_prior_sd(s, fd.k))}) implied by the iid Normal cell-mean prior; its Bayes factor is "
        "the Savage-Dickey density ratio at 0, recomputed with the cell-mean prior scale halved and doubled.",
    ]
    return "\n".join(words + ["    " + ln for ln in lines] + tail)


def summary_sentences(frame: pd.DataFrame, columns: Mapping[str, str], factors: Sequence[str]) -> list[str]:
    """What the analysis rests on, what that assumes, and which SDs were converted from an SEM."""
    n_total = int(frame[N_ANIMALS].sum())
    out = [
        f"This analysis rests on summary statistics: the table gives each cell's mean, "
        f"{'SEM' if 'sem' in columns else 'SD'} and n ({len(frame)} cells, {n_total} animals), not the animals' "
        "values. Means, SDs and n are sufficient for a normal outcome with one SD shared by the cells, so the "
        "Bayesian model and the ANOVA are what the animals' values would give under that model; but it is assumed, "
        "not checked: normality, outliers, skew and censored values cannot be seen in a summary, and no cohort, "
        "litter or animal structure (repeated rows, blocks) can be recovered from it. The equal-SD assumption is "
        "checked from the SDs (Bartlett's test; posterior predictive p of each cell's SD)."]
    from_sem = frame[SD_FROM_SEM].to_numpy(dtype=bool)
    if from_sem.any():
        bits = [f"{fa.cell_key(*(str(r[f]) for f in factors)).replace('|', ' / ')}: SEM {_g(r[SEM])} x sqrt({int(r[N_ANIMALS])})"
                f" = SD {_g(r[SD])}" for r in frame[from_sem].to_dict("records")]
        which = "Every SD" if from_sem.all() else f"{int(from_sem.sum())} of the {len(frame)} SDs"
        out.append(f"{which} was converted from the SEM given (column '{columns.get('sem', 'sem')}') as SD = SEM x "
                   f"sqrt(n): " + "; ".join(bits) + ". If the error bars were SDs, or 95% CIs, these SDs are wrong.")
    else:
        out.append(f"The SDs were given (column '{columns.get('sd', 'sd')}'); none was converted from an SEM.")
    return out


def _g(x: float) -> str:
    return f"{float(x):.4g}"


# ------------------------------------------------------------------------------ public entry


def analyse_summary(
    source: str | Path | pd.DataFrame,
    *,
    factors: Sequence[str],
    mean: str,
    n: str,
    sd: str | None = None,
    sem: str | None = None,
    outcome: str | None = None,
    where: Sequence[str] = (),
    sheet: str | int | None = None,
    decimal: str | None = None,
    thousands: str | None = None,
    reference: Mapping[str, str] | None = None,
    value_range: tuple[float, float] | None = None,
    rope: float | None = None,
    ss_type: int = 3,
    ci_prob: float = CI_PROB,
    ci_kind: str = CI_KIND,
    prior_scale: float = 1.0,
    blocker: str | None = None,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    seed: int = DEFAULT_SEED,
    progress: bool = False,
    priors: Mapping[str, Mapping] | None = None,
    bf_sensitivity: bool = True,
    retry: bool = True,
) -> AnalysisResult:
    """Fit the cell-means model to a summary table, compute its estimands and run the ANOVA twin.

    Parameters
    ----------
    source : str, Path or pandas.DataFrame
        The summary table: one row per cell (see `read_summary`).
    factors : sequence of str
        The k >= 2 factor columns (the first factor's simple effects are the headline).
    mean, n : str
        Columns of the cell means and of the animals per cell.
    sd, sem : str, optional
        Column of the SDs or of the SEMs (exactly one; SD = SEM x sqrt(n)).
    outcome : str, optional
        The outcome's name in the report (default: the mean column's header).
    where, sheet, decimal, thousands, reference, value_range
        As `read_summary`.
    rope : float, optional
        Half-width of the ROPE of the effects (outcome units).
    ss_type : {3, 2}
        Sums of squares of the frequentist ANOVA.
    ci_prob, ci_kind : float, str
        Interval mass and kind ("hdi" or "eti").
    prior_scale : float
        Multiplies every prior scale.
    blocker : str, optional
        The factor that is an antagonist or neutralizing antibody: the % blockade of the other
        factors' effects is reported only when it is named.
    draws, tune, chains, seed : int
        NUTS settings (nutpie).
    progress : bool
        Show nutpie's progress bar.
    priors : mapping, optional
        User priors (``cell_mean``, ``sigma``), merged over the data-scaled defaults.
    bf_sensitivity : bool
        Refit with the cell-mean prior scale x0.5 and x2 for the Bayes factor's sensitivity.
    retry : bool
        Refit once with more tuning when the diagnostics gate fails.

    Returns
    -------
    AnalysisResult
        ``design = "summary"``; the factorial's tables and estimates, from the summaries.
    """
    return fa.run_pipeline(DESIGN, **locals())


def _setup(source, *, factors, mean, n, sd, sem, outcome, where, sheet, decimal, thousands, reference, value_range,
           rope, ss_type, ci_prob, ci_kind, prior_scale, blocker, priors, bf_sensitivity):
    """Read and validate the table, prepare it, resolve the priors, build the model (the pipeline's first step)."""
    from bayes_igf1.pipeline import Setup

    options = FactorialOptions(family="normal", rope=rope, ss_type=ss_type, ci_prob=ci_prob, ci_kind=ci_kind,
                               prior_scale=prior_scale, blocker=blocker)
    factors = fa._check_factors([factors] if isinstance(factors, str) else list(factors))
    if priors is not None and not isinstance(priors, Mapping):
        raise DesignError("priors must be a dict of name -> {'dist': ..., parameters}. Fix: e.g. {'sigma': {'sigma': 20}}.")
    if isinstance(where, str):
        where = [where]
    sheet_obj = read_summary(source, factors=factors, mean=mean, n=n, sd=sd, sem=sem, outcome=outcome, sheet=sheet,
                             where=where, decimal=decimal, thousands=thousands, reference=reference,
                             value_range=value_range)
    outcome_name = sheet_obj.columns["value"]
    data = prepare(sheet_obj.frame, factors, options, outcome=outcome_name)
    fd = data.factorial
    resolved = fa.resolve_priors(fd, options, priors)
    unknown = set(resolved) - {"cell_mean", "sigma"}
    if unknown:  # the factorial adds no other prior for one normal row per animal; guard the model's assumption
        raise DesignError(f"priors {sorted(unknown)} have no place in the summary model. Fix: give cell_mean or sigma.")
    return Setup(data=data, model=build_model(data, resolved), free=list(FREE_PARAMETERS),
                 gated=lambda post: fa.gated_estimands(post, fd), stored=lambda post: fa.stored_estimands(post, fd),
                 expected_warnings=((ImplicitFreezeWarning, r"(?s).*cell_mean_prior"),),
                 state={"sheet": sheet_obj, "options": options, "priors": resolved, "outcome": outcome_name,
                        "bf_sensitivity": bf_sensitivity, "settings": {
                            "source": str(source) if not isinstance(source, pd.DataFrame) else "<DataFrame>",
                            "factors": list(factors), "mean": mean, "sd": sd, "sem": sem, "n": n,
                            "outcome": outcome_name, "family": "normal", "where": list(where), "sheet": sheet,
                            "decimal": decimal, "thousands": thousands,
                            "reference": dict(zip(fd.factors, fd.reference, strict=True)),
                            "value_range": None if value_range is None else [float(v) for v in value_range],
                            "rope": rope, "ss_type": ss_type, "ci_prob": ci_prob, "ci_kind": ci_kind,
                            "prior_scale": prior_scale, "blocker": blocker},
                        "user_priors": {k: dict(v) for k, v in (priors or {}).items()}})


def _finish(setup, tree: xr.DataTree, diag, *, sampler, retry: bool, progress: bool) -> AnalysisResult:
    """Checks, estimates, the twin, the Bayes factors and notes (the pipeline's last step)."""
    st, data = setup.state, setup.data
    fd = data.factorial
    options, resolved, outcome_name, bf_sensitivity = st["options"], st["priors"], st["outcome"], st["bf_sensitivity"]
    posterior = tree["posterior"].to_dataset()
    checks_out = run_checks(tree, data, seed=sampler.seed)
    # The posterior predictive of the cell means is replaced by `replicate_summaries` (means and
    # SDs by cell, in checks["ppc"] and the "ppc" figure), so the tree keeps no such group.
    groups = {name: tree[name].to_dataset() for name in tree.children if name != "posterior_predictive"}
    tree = xr.DataTree.from_dict(groups)

    est = fa.estimates_table(fa.estimand_draws(posterior, fd), fd, options)
    twin = summary_twin(data, options)
    twin["anova_data"]["dv"] = str(outcome_name)
    est = fa.attach_frequentist(est, twin, fd, options)
    bayes_anova = fa.bayesian_anova_table(posterior, fd, ci_prob=options.ci_prob, ci_kind=options.ci_kind)
    bayes_anova = fa.with_inclusion_bf(bayes_anova, fd, seed=sampler.seed)  # exact from the summaries
    if bf_sensitivity:
        bf = fa.bayes_factor_sensitivity(setup.model, tree, fd, resolved, diag.settings, progress=progress)
    else:
        bf = fa.interaction_bayes_factors(posterior["cell_mean"], fd, float(resolved["cell_mean"]["sigma"]))
    notes = [
        "No animal random effect or cohort term: a summary table has one mean per cell, so the residual SD sigma "
        "includes every source of between-animal variation.",
        "Leave-one-out cross-validation (PSIS-LOO) is not computed: each cell contributes one mean and has its own "
        "parameter, so leaving a cell out leaves its mean to the prior.",
    ]
    if options.blocker:
        notes.append(f"% blockade: the share of the other factor's effect abolished by {options.blocker} (the blocking "
                     "factor); P(blockade > 50%) is the posterior probability that more than half is abolished.")
    # The ANOVA's own note (results.json's anova_data) repeats the Methods; the Bayes factor is in
    # Results and Model checking; a failed gate is in the banner and the Results.
    notes.extend(twin["notes"])
    settings_out = {
        **st["settings"], "draws": sampler.draws, "tune": sampler.tune, "chains": sampler.chains,
        "seed": sampler.seed, "priors": st["user_priors"], "bf_sensitivity": bool(bf_sensitivity), "retry": retry,
        "model": {"likelihood": "sufficient statistics (cell means + pooled SS)", "ss_within": data.ss_within,
                  "df_within": data.df_within, "pooled_sd": data.pooled_sd},
    }
    return AnalysisResult(
        design=DESIGN,
        title=f"{outcome_name} by {' × '.join(fd.factors)} (from cell means, SDs and n)",
        settings=settings_out,
        seed=sampler.seed,
        sheet=st["sheet"],
        priors=resolved,
        model_text=model_text(data, resolved, options, outcome_name),
        tree=tree,
        diagnostics=diag,
        estimates=est,
        bayes_anova=bayes_anova,
        anova=twin["anova"],
        anova_data=twin["anova_data"],
        mixed_model=twin["mixed_model"],
        frequentist_extra=twin["extra"],
        checks={**checks_out, "bayes_factor": bf},
        notes=tuple(notes),
    )


# ------------------------------------------------------------------------------ figures


def _summary_data_of(result: AnalysisResult) -> SummaryData:
    options = FactorialOptions(family="normal", blocker=result.settings.get("blocker"))
    return prepare(result.sheet.frame, list(result.sheet.factors), options)


def plot_summary_bars(result: AnalysisResult, *, ax=None):
    """Bars of the published cell means ± SEM (n below each bar) and the posterior cell means (median, HDI)."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from bayes_igf1.report import figures as F

    fig, ax = F._new_axes(ax, (F.ONE_COLUMN, 2.8))
    a_name, rest, la, lb = F._first_and_rest(result)
    f = result.sheet.frame
    cells = F._cell_estimates(result)
    colours = {a: F.PALETTE[i % len(F.PALETTE)] for i, a in enumerate(la)}
    width = 0.8 / len(la)
    for j, b in enumerate(lb):
        for i, a in enumerate(la):
            x = j + (i - (len(la) - 1) / 2) * width
            r = f[F._in_cell(f, result.sheet.factors, (a, *b))].iloc[0]
            c = colours[a]
            ax.bar(x, r[VALUE], width=width * 0.78, color=c, alpha=0.25, edgecolor=c, lw=0.9, zorder=1)
            ax.errorbar(x - width * 0.12, r[VALUE], yerr=r[SEM], color=c, lw=0.9, capsize=2, zorder=2)
            if len(la) * len(lb) <= 8:  # more bars leave no room: n is in the descriptives table
                ax.text(x, 0.0, f"n={int(r[N_ANIMALS])}", transform=ax.get_xaxis_transform(), ha="center",
                        va="bottom", fontsize=6, color="0.3")
            row = cells[cells["cell"] == "|".join((a, *b))]
            if len(row):
                e = row.iloc[0]
                ax.errorbar(x + width * 0.25, e["median"], yerr=[[e["median"] - e["ci_low"]], [e["ci_high"] - e["median"]]],
                            fmt="D", color="black", mfc=c, ms=4, lw=1.0, capsize=0, zorder=4)
    ax.set_xticks(range(len(lb)), [", ".join(b) for b in lb])
    ax.set_xlabel(", ".join(rest))
    ax.set_ylabel(F._value_label(result))
    if np.all(f[VALUE] - f[SEM] >= 0):
        ax.set_ylim(bottom=0)
    handles = [Patch(facecolor=colours[a], alpha=0.35, edgecolor=colours[a], label=a) for a in la]
    handles.append(Line2D([], [], color="0.3", ls="-", lw=0.9, label="published mean ± SEM"))
    if len(cells):
        ci = f"{round(100 * float(result.settings.get('ci_prob', 0.95)))}% {str(result.settings.get('ci_kind', 'hdi')).upper()}"
        handles.append(Line2D([], [], color="black", marker="D", mfc="0.7", ms=4, lw=1.0, label=f"posterior median, {ci}"))
    ax.legend(handles=handles, title=a_name, loc="upper left", bbox_to_anchor=(1.0, 1.0), borderaxespad=0.2,
              title_fontsize=7.5, handlelength=1.3)
    return fig, ax


def summary_figure(result: AnalysisResult):
    """a published means ± SEM with the posterior cell means, b interaction plot, c-d posterior of the
    interaction and the % blockade."""
    import matplotlib as mpl
    from matplotlib.figure import Figure

    from bayes_igf1.report import figures as F

    with mpl.rc_context(F.STYLE):
        names = [nm for nm in ("interaction", "blockade_pct") if len(F._est(result, nm))]
        fig = Figure(figsize=(F.TWO_COLUMNS, 5.2), layout="constrained")
        axes = fig.subplots(2, 2)
        plot_summary_bars(result, ax=axes[0, 0])
        F.plot_interaction(result, ax=axes[0, 1])
        for k, ax in enumerate(axes[1]):
            if k < len(names):
                F.plot_contrast_density(result, name=names[k], ax=ax)
            else:
                ax.set_visible(False)
        for ax, letter in zip(axes.ravel(), "abcd", strict=True):
            if ax.get_visible():
                F._panel_letter(ax, letter)
    return fig, axes


def summary_ppc_figure(result: AnalysisResult, *, seed: int | None = None):
    """Posterior predictive intervals (50%, 90%) of each cell's mean and SD beside the published values."""
    import matplotlib as mpl
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    from bayes_igf1.report import figures as F

    data = _summary_data_of(result)
    post = result.tree["posterior"].to_dataset()
    mean_rep, sd_rep = replicate_summaries(post, data, seed=int(result.seed if seed is None else seed))
    labels = [" / ".join(str(data.frame.loc[i, f]) for f in data.factors) for i in range(data.n_cells)]
    with mpl.rc_context(F.STYLE):
        fig = Figure(figsize=(F.TWO_COLUMNS, 0.6 + 0.32 * data.n_cells), layout="constrained")
        axes = fig.subplots(1, 2, sharey=True)
        colour = F.PALETTE[1]
        for ax, rep, obs, title in ((axes[0], mean_rep, data.mean, "cell mean"), (axes[1], sd_rep, data.sd, "cell SD")):
            for i in range(data.n_cells):
                yk = data.n_cells - 1 - i
                q = np.quantile(rep[:, i], [0.05, 0.25, 0.75, 0.95])
                ax.plot(q[[0, 3]], [yk, yk], color=colour, lw=2.0, alpha=0.6, solid_capstyle="butt")
                ax.plot(q[[1, 2]], [yk, yk], color=colour, lw=5.0, solid_capstyle="butt")
                ax.plot([obs[i]], [yk], marker="|", color="black", ms=10, mew=1.5, ls="none")
            ax.set_title(title, fontsize=8.5)
            ax.set_xlabel(F._value_label(result))
        axes[0].set_yticks(range(data.n_cells), labels[::-1])
        axes[0].set_ylim(-0.6, data.n_cells - 0.4)
        handles = [Line2D([], [], color=colour, lw=5, label="posterior predictive 50%"),
                   Line2D([], [], color=colour, lw=2, alpha=0.6, label="90%"),
                   Line2D([], [], color="black", marker="|", ls="none", ms=10, mew=1.5, label="published")]
        fig.legend(handles=handles, loc="outside upper center", ncol=3)
    return fig, axes


# ------------------------------------------------------------------------------ the design


class Summary(NotPlanned, Factorial):
    """A published figure's cell means, SD or SEM and n: the `bayes_igf1.designs.base.Design` protocol.

    The factorial's report (the same estimates, tables and sentences) with what differs: reading,
    the data and methods sentences (summary statistics and what they assume), the ANOVA's head,
    the figures (no animal dots; a predictive check of each cell's mean and SD), no planning or
    calibration through ``bayes-igf1 plan`` (plan the replication with ``plan factorial``).
    """

    name = DESIGN
    unit_word = "cell"
    description = ("Reanalyse a published figure: fit the factorial's cell-means model to a table of cell means, SDs "
                   "or SEMs and n (one row per cell; the exact likelihood of these summaries of a normal outcome) and "
                   "its frequentist twin (ANOVA type III / II, simple effects, interaction contrasts, Tukey, Hedges' "
                   "g, all exact from the summaries), and write a report folder.")

    entry = "analyse_summary"

    def add_arguments(self, parser) -> None:
        g = parser.add_argument_group("summary columns")
        g.add_argument("--factor", action="append", default=[], dest="factors", metavar="COLUMN",
                       help="a factor column; give it two or more times (e.g. --factor treatment --factor antibody)")
        g.add_argument("--mean", required=True, metavar="COLUMN", help="column with the cell means")
        g.add_argument("--sd", default=None, metavar="COLUMN", help="column with the cell SDs (or give --sem)")
        g.add_argument("--sem", default=None, metavar="COLUMN",
                       help="column with the cell SEMs, the error bars of most bar graphs (converted: SD = SEM x "
                            "sqrt(n))")
        g.add_argument("--n", required=True, metavar="COLUMN", help="column with the number of animals in each cell")
        g.add_argument("--outcome", default=None, metavar="NAME",
                       help="the outcome's name in the report, e.g. 'Time immobile (s)' (default: the --mean header)")
        g.add_argument("--range", default=None, metavar="LOW,HIGH", dest="value_range",
                       help="the range a mean can take (e.g. 0,360 for seconds in a 6-min test): a mean outside it "
                            "is an error (a digitising slip)")
        g = parser.add_argument_group("model")
        g.add_argument("--reference", action="append", default=[], metavar="FACTOR=LEVEL",
                       help="reference level of a factor (repeatable; default as for 'factorial')")
        g.add_argument("--ss-type", type=int, choices=[2, 3], default=3, help="ANOVA sums of squares (default 3)")
        g.add_argument("--blocker", default=None, metavar="FACTOR",
                       help="the factor that is an antagonist or neutralizing antibody: report the %% of the other "
                            "factor's effect it abolishes (default: no %% blockade)")

    def options_from_args(self, args) -> dict:
        from bayes_igf1.designs.base import references
        from bayes_igf1.errors import BayesIGF1Error

        if len(args.factors) < 2:
            raise BayesIGF1Error(f"Give at least two factors with --factor (got {len(args.factors)}), e.g. --factor "
                                 "treatment --factor antibody.")
        value_range = None
        if args.value_range is not None:
            try:
                value_range = tuple(float(t.strip()) for t in str(args.value_range).split(","))
            except ValueError:
                value_range = ()
            if len(value_range) != 2:
                raise BayesIGF1Error(f"--range {args.value_range!r} must be two numbers LOW,HIGH. Fix: e.g. --range "
                                     "0,360.")
        return dict(factors=args.factors, mean=args.mean, sd=args.sd, sem=args.sem, n=args.n, outcome=args.outcome,
                    reference=references(args.reference), value_range=value_range, blocker=args.blocker,
                    ss_type=args.ss_type)

    def compare_alternatives(self, args) -> dict:
        from bayes_igf1.errors import BayesIGF1Error

        raise BayesIGF1Error("--compare has no alternative model for a summary table: means and SDs are sufficient "
                             "for the normal model only. Fix: leave out --compare.")

    def data_sentences(self, result) -> list[str]:
        return summary_sentences(result.sheet.frame, result.sheet.columns, result.sheet.factors)

    def why_bayesian(self, result) -> str:
        blockade = " and of the % blockade" if (result.estimates["name"] == "blockade_pct").any() else ""
        return (f"Why Bayesian: from a published figure's means, SDs and n the model gives the posterior of the "
                f"interaction{blockade} directly, with standardised effects and a Bayes factor, the same posterior the "
                "animals' values would give under a normal model, and a design prior for planning a replication.")

    def frequentist_methods(self, result) -> str:
        return (super().frequentist_methods(result)
                + " All of these are computed from the cell means, SDs and n, which determine them exactly (each cell "
                  "rebuilt as n values with its mean and SD, then the same computations as on the animals' values); "
                  "Shapiro-Wilk and Levene need the animals' values and were not run; Bartlett's test of equal "
                  "variances uses the SDs.")

    def anova_head(self, result) -> str:
        return super().anova_head(result).replace(" ANOVA on ", " ANOVA from the cell summaries on ", 1)

    def figures(self, result) -> dict:
        ci = f"{round(100 * float(result.settings.get('ci_prob', 0.95)))}%"
        kind = str(result.settings.get("ci_kind", "hdi")).upper()
        fig, _ = summary_figure(result)
        blockade = (result.estimates["name"] == "blockade_pct").any()
        out = {"summary": (fig, (
            f"(a) Published mean ± SEM of each cell (n at the foot of each bar, up to 8 bars; a summary table has no "
            "animal values); "
            f"diamonds: posterior median of the cell mean with its {ci} {kind}. (b) Interaction plot of the posterior "
            "cell means. " + ("(c, d) Posterior densities of the interaction contrast and of the % blockade" if blockade
                              else "(c) Posterior density of the interaction contrast")
            + f" (shaded: {ci} {kind}; grey band: ROPE when set)."))}
        fig, _ = summary_ppc_figure(result)
        out["ppc"] = (fig, ("Posterior predictive check of the summaries: for each cell, the 50% and 90% intervals of "
                            "the cell mean (left) and SD (right) replicated from the posterior (one SD sigma shared by "
                            "the cells), and the published value (black). An SD outside its interval questions the "
                            "equal-variance assumption."))
        return out

    def descriptives(self, result) -> pd.DataFrame:
        """The descriptive statistics of a summary table as given: per cell, animals (n), mean, SD, SEM
        and where the SD came from; median, minimum and maximum are not in a summary ("—").

        (For ``report.tables.descriptives_table``, which describes animal-level rows.)
        """
        from bayes_igf1.report.format import fmt_number

        f = result.sheet.frame
        rows = []
        for r in f.to_dict("records"):
            rows.append({"Group": ", ".join(str(r[x]) for x in result.sheet.factors), "Animals": int(r[N_ANIMALS]),
                         "n": int(r[N_ANIMALS]), "Mean": fmt_number(r[VALUE], 3), "SD": fmt_number(r[SD], 3),
                         "SEM": fmt_number(r[SEM], 3), "SD from": "SEM × √n" if r[SD_FROM_SEM] else "given",
                         "Median": "—", "Min": "—", "Max": "—"})
        order = {g: i for i, g in enumerate(self.groups(result))}
        return pd.DataFrame(sorted(rows, key=lambda row: order.get(row["Group"].replace(", ", "|"), len(order))))

    # ---------------------------------------------------------------- plan and calibrate

    #: No ``bayes-igf1 plan`` of its own (`NotPlanned`): a replication is planned with ``plan factorial``.
    plan_refusal = (
        "the summary design is not planned by itself: plan the replication as a factorial experiment, e.g. "
        "'bayes-igf1 plan factorial --cell-means ... --sd ...' with the posterior cell means and sigma of the "
        "summary analysis (results.json). Fix: use 'plan factorial'.")

    def calibration_model(self, data_dir):
        """(model, parameters, priors) of the shipped summary table, its observations one ``y_data`` vector
        (cell means and SS_within: `build_model` with ``joint=True``), so that a calibration that swaps
        ``y_data`` resimulates them all."""
        sheet = read_summary(Path(data_dir) / SHIPPED_TABLE, factors=["treatment", "antibody"],
                             mean="immobility_s_mean", sem="immobility_s_sem", n="n")
        options = FactorialOptions()
        data = prepare(sheet.frame, ["treatment", "antibody"], options)
        priors = fa.resolve_priors(data.factorial, options, None)
        return build_model(data, priors, joint=True), list(FREE_PARAMETERS), priors
