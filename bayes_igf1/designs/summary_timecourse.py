"""Time courses from summaries: group x time means, SEM or SD and n (issue 16, item 4).

A published time-course figure gives, for each group g and time t, the mean of the group's
n_g animals, its SEM or SD, and n_g (the same animals at every time). The animals' values
are not given, and neither is the within-animal correlation across times, which the paper's
repeated-measures ANOVA used: that ANOVA cannot be reproduced exactly from the figure. This
module fits the normal repeated-measures model with an ASSUMED correlation ``rho``
(compound symmetry) and refits it at rho = 0.2, 0.5 and 0.8 to show how the headline
estimands move with it. It is the registered design ``summary-timecourse``
(`SummaryTimeCourse`; ``bayes-igf1 summary-timecourse``): `analyse_summary_timecourse`
returns an `bayes_igf1.results.AnalysisResult` that `bayes_igf1.write_report` writes like
every design's, with a rho sensitivity table (``checks["rho_sensitivity"]``, long; the report's
``tables/rho_sensitivity``) and figure; `rho_sensitivity` gives the same side by side as one
wide table.

Model, for G groups and T times (t0 = the first time, the baseline)::

    mu[g, t]  ~ Normal(m, 2.5 s)            iid         (the factorial's cell-mean prior)
    sigma     ~ HalfNormal(s)                            (the factorial's sigma prior)
    R         = (1 - rho) I_T + rho J_T                  (rho given, not estimated)
    ybar[g, :] ~ MvNormal(mu[g, :], sigma^2 R / n_g)     (likelihood term "ybar", exact; fitted
                                                          as sqrt(n_g) ybar[g, :] ~ MvNormal(
                                                          sqrt(n_g) mu[g, :], sigma^2 R))
    SS[t]     = sum_g (n_g - 1) sd[g, t]^2
              ~ sigma^2 chi-square(N - G)                (term "ss_within", one per time)

``m`` and ``s`` are the mean and SD of all N x T animal-by-time values about it, recovered
exactly from the summaries (SS_total = sum_gt (n_g - 1) sd_gt^2 + n_g (ybar_gt - m)^2), as the
factorial's priors are scaled. Given rho and sigma, the vector of a group's T means is
exactly multivariate normal with covariance sigma^2 R / n_g, so the ``ybar`` term is the exact
likelihood of the means. The ``ss_within`` terms are an APPROXIMATION: each time's pooled SD
is exactly sigma^2 chi-square(N - G) / (N - G), but the per-time SDs of the same animals are
correlated across times (their joint law is a Wishart's diagonal, which depends on rho), and
the model treats them as independent. This is the information the figure's error bars carry
about sigma; it overstates it somewhat when rho is large (T SDs count as T independent
estimates), so sigma's posterior is a little too narrow, not biased.

Estimands, for each non-reference group g against the reference group r:

* ``difference`` at each time: mu[g, t] - mu[r, t];
* ``change_difference`` at each time after the baseline (the headline):
  (mu[g, t] - mu[g, t0]) - (mu[r, t] - mu[r, t0]). Its sampling variance in a group of n
  animals is 2 sigma^2 (1 - rho) / n per group, so its uncertainty shrinks as rho grows:
  the assumed rho matters most here.

Each is summarised by its posterior median and 95% HDI (`bayes_igf1.summaries.describe`), beside
the posterior group means (``group_mean``) and ``sigma``. Reading goes through `bayes_igf1.io`
(CSV / Excel, ``--where``, separators, blank and summary rows in the row ledger). Checks: the
posterior predictive p of each group's mean and SD at each time (`replicate_summaries`; no LOO:
one mean per parameter) and the power-scaling prior sensitivity. No frequentist twin.
Calibration (`SummaryTimeCourse.calibration_model`) uses the same likelihood written as
independent normals (``build_model(joint=True)``): the rotation Q' (first column 1 / sqrt(T))
diagonalises every compound-symmetry matrix, so sqrt(n_g) Q' ybar[g, :] has independent
components with variances sigma^2 (1 + (T - 1) rho) and sigma^2 (1 - rho).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
import xarray as xr
from pymc.exceptions import ImplicitFreezeWarning

from bayes_igf1.designs.base import NotPlanned, PipelineSteps
from bayes_igf1.constants import CENSORED, DEFAULT_SEED, GROUP, ROW, TIME, VALUE
from bayes_igf1.constants import CI_KIND as _CI_KIND
from bayes_igf1.constants import CI_PROB as _CI_PROB
from bayes_igf1.errors import BayesIGF1Error, DataError, DesignError
from bayes_igf1.io import (
    EXCLUDED,
    N_ANIMALS,
    USED,
    Sheet,
    _check_levels,
    _check_lookalikes,
    _check_separators,
    _distinct,
    _ledger,
    _load,
    _no_data_left,
    _number_format,
    _one_unit,
    _order_levels,
    _plus_minus_columns,
    _required_text,
    _resolve,
    _screen,
    _show,
    _time_cell,
    _time_unit_option,
    relabel_levels,
)
from bayes_igf1.results import ESTIMATE_COLUMNS, AnalysisResult
from bayes_igf1.sampling import Diagnostics, SamplerSettings, fit
from bayes_igf1.summaries import describe

#: Registry name, CLI sub-command, ``AnalysisResult.design``.
DESIGN = "summary-timecourse"
#: Free parameters of the model (the diagnostics gate).
FREE_PARAMETERS = ("mu", "sigma")
#: The interval every estimate is summarised by (the default; ``ci_prob`` / ``ci_kind`` change it).
CI_PROB, CI_KIND = _CI_PROB, _CI_KIND
#: The rhos of the sensitivity table (issue 16: 0.2, 0.5 and 0.8 side by side).
DEFAULT_RHOS = (0.2, 0.5, 0.8)
#: Tidy-frame columns beside ``row, group, time, value`` (the mean) and ``censored`` (False): the SD
#: (given, or SEM x sqrt(n)), the SEM (given, or SD / sqrt(n)), the row's n, whether the SD came from
#: an SEM. ``n_animals`` (`bayes_igf1.io.N_ANIMALS`) holds the group's n on its baseline row and 0 on
#: its later rows (the same animals), so that the Sheet counts each animal once.
SD, SEM, N_ROW, SD_FROM_SEM = "sd", "sem", "n", "sd_from_sem"
#: The sentence every result carries.
NOT_REPRODUCIBLE = (
    "The paper's repeated-measures ANOVA cannot be reproduced exactly from the summaries: it depends on the "
    "within-animal correlation across times, which the figure does not contain; this analysis assumes a "
    "compound-symmetry correlation rho = {rho:g} (see the rho sensitivity table for 0.2, 0.5 and 0.8)."
)
#: The per-time SD approximation, stated in every result.
SD_APPROXIMATION = (
    "The group means over time enter through their exact multivariate normal likelihood given rho; the SDs "
    "enter as one pooled within-group variance per time, each sigma^2 chi-square(N - G) / (N - G), treated "
    "as independent across times (an approximation: the same animals' SDs are correlated across times, so "
    "sigma's posterior is somewhat too narrow when rho is large)."
)


# ------------------------------------------------------------------------------ data


@dataclass(frozen=True)
class TimecourseSummaryData:
    """A validated group x time summary table, as arrays (groups x times).

    Attributes
    ----------
    groups : tuple of str
        Group labels, the reference first.
    times : tuple
        Times in ascending order (whole numbers as int); ``times[0]`` is the baseline.
    mean, sd : numpy.ndarray
        (G, T) means and SDs (an SEM converted as SEM x sqrt(n)).
    n : numpy.ndarray
        (G,) animals per group.
    sd_from_sem : bool
        True when the SDs were converted from SEMs.
    sheet : Sheet, optional
        The validated table with its row ledger (`read_summary_timecourse`).
    """

    groups: tuple[str, ...]
    times: tuple
    mean: np.ndarray
    sd: np.ndarray
    n: np.ndarray
    sd_from_sem: bool
    sheet: Sheet | None = field(default=None, repr=False, compare=False)

    @property
    def reference(self) -> str:
        return self.groups[0]

    @property
    def df_within(self) -> int:
        """N - G: the degrees of freedom of each time's pooled within-group sum of squares."""
        return int(self.n.sum() - len(self.n))

    @property
    def ss_within(self) -> np.ndarray:
        """(T,) pooled within-group sums of squares, sum_g (n_g - 1) sd_gt^2."""
        return ((self.n[:, None] - 1) * self.sd**2).sum(axis=0)

    @property
    def time_labels(self) -> list[str]:
        """The times as the model's ``time`` coordinate ("0", "7", "0.5")."""
        return [_tg(t) for t in self.times]

    def location_scale(self) -> tuple[float, float]:
        """Mean ``m`` and SD ``s`` of all animal-by-time values, exact from the summaries."""
        w = np.broadcast_to(self.n[:, None], self.mean.shape).astype(float)
        total = float(w.sum())
        m = float((w * self.mean).sum() / total)
        ss = float(((w - 1) * self.sd**2).sum() + (w * (self.mean - m) ** 2).sum())
        return m, math.sqrt(ss / (total - 1))


def _tg(t) -> str:
    """A time as text: 7.0 -> "7", 0.5 -> "0.5"."""
    return f"{float(t):g}"


def _whole(t: float):
    return int(t) if float(t).is_integer() else float(t)


def _cell_number(table, rownum: int, cells: list, idx: int, what: str) -> float:
    from bayes_igf1.designs.summary import _cell_number as cell_number

    return cell_number(table, rownum, cells, idx, what)


def read_summary_timecourse(
    source: str | Path | pd.DataFrame,
    *,
    group: str,
    time: str,
    mean: str,
    n: str,
    sem: str | None = None,
    sd: str | None = None,
    reference: str | None = None,
    outcome: str | None = None,
    time_unit: str | None = None,
    sheet: str | int | None = None,
    where: Sequence[str] = (),
    decimal: str | None = None,
    thousands: str | None = None,
) -> TimecourseSummaryData:
    """Read and validate a group x time summary table.

    Parameters
    ----------
    source : str, Path or pandas.DataFrame
        The table (.csv / .tsv / .txt / .xlsx) or a DataFrame, one row per group and time.
    group, time, mean, n : str
        Columns of the group label, the time (a number, optionally with a unit: "7", "7 d"), the
        mean and the group's number of animals (a whole number >= 2, the same at every time: the
        same animals are followed).
    sem, sd : str, optional
        Column of the SEMs or of the SDs; exactly one. An SEM is converted as SEM x sqrt(n).
    reference : str, optional
        The reference group (default: the io rule: named like a control, else the lowest
        number, else the first in sorted order).
    outcome : str, optional
        The outcome's name in the report (default: the ``mean`` column's header).
    time_unit : str, optional
        Unit of the times (h, min, day, week, ...) when the cells do not say it.
    sheet, where, decimal, thousands
        As `bayes_igf1.io.read_factorial` (Excel sheet, ``COLUMN=VALUE`` row filters, separators).

    Returns
    -------
    TimecourseSummaryData
        Groups with the reference first, times ascending (the first is the baseline), and
        ``sheet``: the tidy frame (one row per group and time, `SD` / `SEM` / `N_ROW` columns)
        with its row ledger (blank, summary and ``--where`` rows excluded with their reason).

    Raises
    ------
    DataError
        Naming the file, row, column and the fix: a column missing, both or neither of ``sem`` /
        ``sd``, a value that is not a number, n < 2 or not whole, n differing over times within a
        group, an SD or SEM that is not above zero, a group x time given twice or missing, fewer
        than 2 groups or 2 times, an unknown reference.
    """
    if (sem is None) == (sd is None):
        raise DataError(
            "give exactly one of sem= and sd= (--sem / --sd); got " + ("both" if sem is not None else "neither"),
            fix="sem='COLUMN' (--sem COLUMN) when the error bars are standard errors of the mean (most figures), "
                "sd='COLUMN' (--sd COLUMN) when they are standard deviations")
    unit_given = _time_unit_option(time_unit)
    table = _load(source, sheet=sheet, fmt=_number_format(decimal, thousands))
    spread_option, spread_word = ("--sem", "SEM") if sem is not None else ("--sd", "SD")
    ig = _resolve(table, group, option="--group")
    it = _resolve(table, time, option="--time")
    im = _resolve(table, mean, option="--mean")
    isp = _resolve(table, sem if sem is not None else sd, option=spread_option)
    inn = _resolve(table, n, option="--n")
    _distinct(table, {"--group": ig, "--time": it, "--mean": im, spread_option: isp, "--n": inn})
    reasons = _screen(table, id_cols=[], label_cols=[ig], used_cols=[ig, it, im, isp, inn], where=where)
    _check_separators(table, [[im], [isp], [inn]], reasons)
    dash = _plus_minus_columns(table, reasons, [ig])
    entries, obs, seen, units = [], [], {}, {}
    for rownum, cells, reason in zip(table.rows, table.cells, reasons, strict=True):
        if reason:
            entries.append((rownum, EXCLUDED, reason, ""))
            continue
        g = _required_text(table, rownum, cells, ig, "group", dash_level=ig in dash)
        t, unit = _time_cell(table, rownum, cells[it], table.label(it))
        units.setdefault(unit, (rownum, table.label(it)))
        m = _cell_number(table, rownum, cells, im, "mean")
        s = _cell_number(table, rownum, cells, isp, spread_word)
        k = _cell_number(table, rownum, cells, inn, "n")
        if abs(k - round(k)) > 1e-9 or k < 2:
            raise DataError(
                f"n must be a whole number >= 2, not {k:g}", file=table.source, row=rownum, column=table.label(inn),
                fix="give the group's number of animals from the figure legend (an SD needs at least 2 animals)")
        if not s > 0:
            raise DataError(
                f"the {spread_word} is {s:g}; it must be above zero", file=table.source, row=rownum,
                column=table.label(isp),
                fix=f"check the value: an {spread_word} of 0 says every animal had the same value; an error bar too "
                    "short to read off the figure needs a higher zoom, not 0")
        if (g, t) in seen:
            raise DataError(
                f"group {_show(g)} at time {_tg(t)} is given twice (rows {seen[(g, t)]} and {rownum})",
                file=table.source, row=rownum,
                fix="one row per group and time: delete one of the rows, or correct the group or time")
        seen[(g, t)] = rownum
        obs.append((rownum, g, t, m, s, int(round(k))))
        entries.append((rownum, USED, "", ""))
    if not obs:
        raise _no_data_left(table, entries)
    tunit = _one_unit(table, units, given=unit_given)
    levels = list(dict.fromkeys(o[1] for o in obs))
    firsts: dict[str, int] = {}
    for o in obs:
        firsts.setdefault(o[1], o[0])
    _check_lookalikes(table, firsts, column=table.label(ig), what="level", fold_case=True)
    _check_levels(table, levels, column=table.label(ig))
    if reference is not None:
        ref = str(reference).strip()
        if not any(lv == ref or lv.casefold() == ref.casefold() for lv in levels):
            raise DataError(f"reference={reference!r} is not a group of column {table.label(ig)!r}",
                            file=table.source, column=table.label(ig),
                            fix="use one of " + ", ".join(_show(lv) for lv in levels) + " (--reference LEVEL)")
    levels, rule = _order_levels(table, levels, reference, column=table.label(ig), option="--reference")
    times = sorted({o[2] for o in obs})
    if len(times) < 2:
        raise DataError(f"the rows used have a single time ({_tg(times[0])}); a time course needs a baseline and a "
                        "later time", file=table.source, column=table.label(it),
                        fix="give at least 2 times in the time column (check --where)")
    missing = [f"{_show(g)} at time {_tg(t)}" for g in levels for t in times if (g, t) not in seen]
    if missing:
        raise DataError(f"no row for {', '.join(missing)}", file=table.source,
                        fix=f"every group needs a row (mean, {spread_word}, n) at every time: add it, or drop the time "
                            "for every group (--where)")
    by_row = {o[0]: o for o in obs}
    for g in levels:
        rows = [seen[(g, t)] for t in times]
        ks = [by_row[r][5] for r in rows]
        if len(set(ks)) > 1:
            detail = "; ".join(f"row {r}: n = {k}" for r, k in zip(rows, ks, strict=True))
            first_bad = next(r for r, k in zip(rows, ks, strict=True) if k != ks[0])
            raise DataError(
                f"group {_show(g)} has n differing over time ({detail}); the model follows the same animals at every "
                "time", file=table.source, row=first_bad, column=table.label(inn),
                fix="give the group's number of animals at every time; if animals dropped out, the summaries of the "
                    "smaller set are not those of the same animals: use the times where all were measured, or the "
                    "smallest n as an approximation")
    order = [(seen[(g, t)], g, t) for g in levels for t in times]
    rec = [by_row[r] for r, _, _ in order]
    ns = np.array([o[5] for o in rec], dtype=np.int64)
    spreads = np.array([o[4] for o in rec], dtype=float)
    is_base = np.array([o[2] == times[0] for o in rec])
    frame = pd.DataFrame({
        ROW: np.array([o[0] for o in rec], dtype=np.int64),
        GROUP: pd.Categorical([o[1] for o in rec], categories=levels),
        TIME: np.array([o[2] for o in rec], dtype=float),
        VALUE: np.array([o[3] for o in rec], dtype=float),
        SD: spreads * np.sqrt(ns) if sem is not None else spreads,
        SEM: spreads if sem is not None else spreads / np.sqrt(ns),
        N_ROW: ns,
        N_ANIMALS: np.where(is_base, ns, 0).astype(np.int64),
        SD_FROM_SEM: np.full(len(rec), sem is not None),
        CENSORED: np.zeros(len(rec), dtype=bool),
    })
    columns = {"group": table.header[ig], "time": table.header[it], "value": str(outcome) if outcome else table.header[im],
               "mean": table.header[im], ("sem" if sem is not None else "sd"): table.header[isp], "n": table.header[inn],
               "animal": table.header[inn]}
    sheet_obj = Sheet(frame=frame, ledger=_ledger(table, entries), columns=columns, source=table.source,
                      design=DESIGN, factors=(GROUP,), animal_ids_made_up=False, time_unit=tunit,
                      reference_rule={table.header[ig]: rule}, notes=tuple(table.notes))
    return summary_data(sheet_obj)


def summary_data(sheet: Sheet) -> TimecourseSummaryData:
    """The model arrays of a validated sheet (`read_summary_timecourse`'s, or one reloaded)."""
    f = sheet.frame
    groups = [str(g) for g in f[GROUP].cat.categories]
    times = sorted(set(f[TIME].astype(float)))
    pos = {(str(g), float(t)): i for i, (g, t) in enumerate(zip(f[GROUP].astype(str), f[TIME].astype(float),
                                                                 strict=True))}
    idx = np.array([[pos[(g, t)] for t in times] for g in groups])
    return TimecourseSummaryData(
        groups=tuple(groups), times=tuple(_whole(t) for t in times), mean=f[VALUE].to_numpy(float)[idx],
        sd=f[SD].to_numpy(float)[idx], n=f[N_ROW].to_numpy(np.int64)[idx[:, 0]],
        sd_from_sem=bool(f[SD_FROM_SEM].any()), sheet=sheet)


def check_rho(rho: float, n_times: int) -> float:
    """``rho`` as a float, checked against the compound-symmetry range (-1 / (T - 1), 1).

    Raises
    ------
    DesignError
        When the correlation matrix would not be positive definite.
    """
    try:
        r = float(rho)
    except (TypeError, ValueError):
        raise DesignError(f"rho must be a number, not {rho!r}. Fix: rho=0.5 (--rho 0.5, the default).") from None
    low = -1.0 / (n_times - 1)
    if not (math.isfinite(r) and low < r < 1.0):
        raise DesignError(
            f"rho = {rho!r} (--rho) is outside ({low:.4g}, 1), the range in which a compound-symmetry correlation "
            f"over {n_times} times is a valid (positive definite) correlation matrix. Fix: give the assumed "
            "within-animal correlation strictly inside that range, e.g. --rho 0.5; the report shows 0.2, 0.5 and 0.8 "
            "side by side.")
    return r


# ------------------------------------------------------------------------------ model


def resolve_priors(data: TimecourseSummaryData, *, prior_scale: float = 1.0) -> dict[str, dict]:
    """The priors, scaled from the location ``m`` and scale ``s`` of all values (times ``prior_scale``)."""
    if not (isinstance(prior_scale, (int, float)) and math.isfinite(prior_scale) and prior_scale > 0):
        raise DesignError(f"prior_scale must be a number above 0, not {prior_scale!r}. Fix: e.g. --prior-scale 1.")
    m, s = data.location_scale()
    return {"mu": {"dist": "Normal", "mu": m, "sigma": 2.5 * s * float(prior_scale)},
            "sigma": {"dist": "HalfNormal", "sigma": s * float(prior_scale)}}


def _rotation(n_times: int) -> np.ndarray:
    """An orthonormal T x T matrix whose first column is 1 / sqrt(T): it diagonalises every
    compound-symmetry matrix (eigenvalues 1 + (T - 1) rho, then 1 - rho)."""
    base = np.eye(n_times)
    base[:, 0] = 1.0
    q, _ = np.linalg.qr(base)
    return q * np.sign(q[0, 0])


def build_model(data: TimecourseSummaryData, rho: float, *, priors: dict | None = None,
                joint: bool = False) -> pm.Model:
    """The PyMC model of the module docstring, dims ``group`` x ``time``.

    Parameters
    ----------
    data : TimecourseSummaryData
    rho : float
        The assumed within-animal correlation (compound symmetry), in (-1 / (T - 1), 1).
    priors : dict, optional
        `resolve_priors` (default: at prior scale 1).
    joint : bool
        False (the analysis): the terms ``ybar`` (multivariate normal) and ``ss_within``. True
        (simulation-based calibration): one term ``y`` over ``y_data`` = [the rotated, rescaled
        means sqrt(n_g) Q' ybar[g, :] (independent normals with variances sigma^2 x the eigenvalues of
        R; the same likelihood), the T sums of squares], so that swapping ``y_data`` resimulates all.
    """
    n_groups, n_times = data.mean.shape
    rho = check_rho(rho, n_times)
    priors = priors or resolve_priors(data)
    corr = (1.0 - rho) * np.eye(n_times) + rho * np.ones((n_times, n_times))
    root_n = np.sqrt(data.n.astype(float))
    coords = {"group": list(data.groups), "time": data.time_labels}
    with pm.Model(coords=coords) as model:
        mu = pm.Normal("mu", mu=float(priors["mu"]["mu"]), sigma=float(priors["mu"]["sigma"]), dims=("group", "time"))
        sigma = pm.HalfNormal("sigma", sigma=float(priors["sigma"]["sigma"]))
        if joint:
            q = _rotation(n_times)
            lam = np.r_[1.0 + (n_times - 1) * rho, np.full(n_times - 1, 1.0 - rho)]
            centre = pt.flatten(pt.dot(mu * root_n[:, None], q))
            sd_scale = np.tile(np.sqrt(lam), n_groups)
            z = (data.mean * root_n[:, None]) @ q
            df = float(data.df_within)

            def joint_dist(centre, sigma, sd_scale, size):
                means = pm.Normal.dist(centre, sigma * sd_scale)
                ss = pm.Gamma.dist(alpha=df / 2.0, beta=0.5 / sigma**2, shape=(n_times,))
                return pt.concatenate([means, ss])

            pm.CustomDist("y", centre, sigma, sd_scale, dist=joint_dist,
                          observed=pm.Data("y_data", np.r_[z.ravel(), data.ss_within]), signature="(k),(),(k)->(d)")
            return model
        chol_data = pm.Data("corr_chol", np.linalg.cholesky(corr))
        # sqrt(n_g) ybar[g, :] ~ MvNormal(sqrt(n_g) mu[g, :], sigma^2 R): one Cholesky factor for all
        # groups (a batched one compiles to an object-mode Blockwise in numba); the rescaling of the
        # observations has a constant Jacobian, so the likelihood is the exact one up to a constant.
        rn = pm.Data("root_n", root_n, dims="group")
        pm.MvNormal("ybar", mu=mu * rn[:, None], chol=sigma * chol_data,
                    observed=pm.Data("ybar_data", data.mean * root_n[:, None], dims=("group", "time")),
                    dims=("group", "time"))
        pm.Gamma("ss_within", alpha=data.df_within / 2.0, beta=0.5 / sigma**2,
                 observed=pm.Data("ss_data", data.ss_within, dims="time"), dims="time")
    return model


def estimand_draws(posterior: xr.Dataset, reference: str) -> dict[str, xr.DataArray]:
    """Draws of the two estimands (dims chain, draw, group, time), groups other than the reference.

    ``difference``: mu[g, t] - mu[ref, t] at every time; ``change_difference``: the difference in
    change from the first time, at the times after it.
    """
    mu = posterior["mu"]
    diff = (mu - mu.sel(group=reference)).drop_sel(group=reference)
    change = (diff - diff.isel(time=0)).isel(time=slice(1, None))
    return {"difference": diff, "change_difference": change}


def _at(t, unit: str, time_col: str) -> str:
    return f"{_tg(t)} {unit}" if unit else f"{time_col} {_tg(t)}"


def estimates_table(posterior: xr.Dataset, data: TimecourseSummaryData, *, ci_prob: float = CI_PROB,
                    ci_kind: str = CI_KIND, rope: float | None = None, unit: str = "",
                    time_col: str = "time") -> pd.DataFrame:
    """The estimates in `bayes_igf1.results.ESTIMATE_COLUMNS`: per group and time the posterior group
    mean (``group_mean``), the ``difference`` vs the reference and the ``change_difference`` (headline);
    then ``sigma``."""
    ref = data.reference
    t_of = dict(zip(data.time_labels, data.times, strict=True))
    t0 = _at(data.times[0], unit, time_col)
    rope_pair = None if rope is None else (-float(rope), float(rope))
    parts = []
    specs = [("group_mean", posterior["mu"], "outcome", None, False,
              lambda g, t: f"{g}: mean at {t}"),
             *[(name, draws, scale, rope_pair, name == "change_difference", lab) for name, draws, scale, lab in (
                 ("difference", estimand_draws(posterior, ref)["difference"], "difference",
                  lambda g, t: f"{g} − {ref} at {t}"),
                 ("change_difference", estimand_draws(posterior, ref)["change_difference"],
                  "difference in change from baseline", lambda g, t: f"{g} − {ref}: change from {t0} to {t}"))]]
    for name, draws, scale, rp, headline, lab in specs:
        frame = describe(draws, ci_prob=ci_prob, ci_kind=ci_kind, rope=rp)
        frame["name"] = name
        frame["reference"] = None if name == "group_mean" else ref
        frame["time"] = [float(t_of[str(t)]) for t in frame["time"]]
        frame["label"] = [lab(g, _at(t, unit, time_col)) for g, t in zip(frame["group"], frame["time"], strict=True)]
        frame["scale"] = scale
        frame["headline"] = headline
        parts.append(frame)
    sig = describe(posterior["sigma"], ci_prob=ci_prob, ci_kind=ci_kind)
    sig["name"], sig["label"], sig["scale"], sig["headline"] = "sigma", "sigma: SD of an animal's value", "outcome SD", False
    sig["group"], sig["reference"], sig["time"] = None, None, np.nan
    parts.append(sig)
    out = pd.concat(parts, ignore_index=True)
    for col in ESTIMATE_COLUMNS:
        if col not in out.columns:
            out[col] = None if col in ("cell", "freq_method", "freq_survival") else np.nan
    out["group"] = out["group"].astype(object)
    out["time"] = out["time"].astype(float)
    out["headline"] = out["headline"].astype(bool)
    return out[ESTIMATE_COLUMNS].reset_index(drop=True)


# ------------------------------------------------------------------------------ fitting


def _fit(data: TimecourseSummaryData, rho: float, settings: SamplerSettings, *, priors: dict | None = None,
         progress: bool = False, retry: bool = True, predictive: bool = False) -> tuple[xr.DataTree, Diagnostics]:
    """Fit at ``rho``; with ``predictive`` the tree also holds ``log_likelihood`` and ``log_prior`` (for the
    power-scaling sensitivity; the predictive groups are replaced by `replicate_summaries`)."""
    model = build_model(data, rho, priors=priors)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=ImplicitFreezeWarning)
        tree, diag = fit(model, settings=settings, var_names=list(FREE_PARAMETERS), progress=progress, retry=retry,
                         predictive=predictive,
                         derived=lambda post: {"change_difference": estimand_draws(post, data.reference)[
                             "change_difference"]})
    if predictive:
        keep = ("posterior", "sample_stats", "log_likelihood", "log_prior", "observed_data", "constant_data")
        tree = xr.DataTree.from_dict({name: tree[name].to_dataset() for name in tree.children if name in keep})
    return tree, diag


# ------------------------------------------------------------------------------ checks


def replicate_summaries(posterior: xr.Dataset, data: TimecourseSummaryData, rho: float, *,
                        seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Posterior predictive group means and SDs (draws x groups x times): each group's vector of means
    ybar_rep[g, :] ~ MvNormal(mu[g, :], sigma^2 R(rho) / n_g), and each SD
    sigma sqrt(chi-square(n_g - 1) / (n_g - 1)) (its exact marginal law under the normal model)."""
    mu = posterior["mu"].transpose("chain", "draw", "group", "time").values
    mu = mu.reshape(-1, *mu.shape[2:])
    sigma = posterior["sigma"].values.reshape(-1)
    n_times = mu.shape[2]
    corr = (1.0 - rho) * np.eye(n_times) + rho * np.ones((n_times, n_times))
    chol = np.linalg.cholesky(corr)
    rng = np.random.default_rng(seed)
    n = data.n.astype(float)[None, :, None]
    z = rng.standard_normal(mu.shape) @ chol.T
    mean_rep = mu + sigma[:, None, None] * z / np.sqrt(n)
    sd_rep = sigma[:, None, None] * np.sqrt(rng.chisquare(np.broadcast_to(n - 1.0, mu.shape)) / (n - 1.0))
    return mean_rep, sd_rep


def _mid_p(rep: np.ndarray, observed: float) -> float:
    return float(np.mean(rep > observed) + 0.5 * np.mean(rep == observed))


def run_checks(tree: xr.DataTree, data: TimecourseSummaryData, rho: float, *, seed: int, unit: str = "",
               time_col: str = "time") -> dict:
    """Posterior predictive p of each group's mean and SD at each time and of the largest / smallest SD,
    and the power-scaling prior sensitivity of the reported differences.

    No PSIS-LOO: each group x time has one mean and its own parameter, so leaving one out leaves it to
    the prior.
    """
    from bayes_igf1 import checks

    post = tree["posterior"].to_dataset()
    mean_rep, sd_rep = replicate_summaries(post, data, rho, seed=seed)
    rows = []
    for j, g in enumerate(data.groups):
        for i, t in enumerate(data.times):
            where = f"{g} at {_at(t, unit, time_col)}"
            for stat, rep, obs in (("mean", mean_rep[:, j, i], data.mean[j, i]), ("sd", sd_rep[:, j, i], data.sd[j, i])):
                rows.append({"group": where, "statistic": stat, "observed": float(obs),
                             "predicted_median": float(np.median(rep)), "p": _mid_p(rep, obs)})
    flat = sd_rep.reshape(len(sd_rep), -1)
    ratio_rep = flat.max(axis=1) / flat.min(axis=1)
    ratio = float(data.sd.max() / data.sd.min())
    rows.append({"group": "all groups and times", "statistic": "largest / smallest SD", "observed": ratio,
                 "predicted_median": float(np.median(ratio_rep)), "p": _mid_p(ratio_rep, ratio)})
    ppc = pd.DataFrame(rows)
    out: dict = {"ppc": {"statistics": ppc.to_dict("records"), "scale": "measured",
                         "n_extreme": int(((ppc["p"] < 0.025) | (ppc["p"] > 0.975)).sum())}}
    if "log_likelihood" in tree.children and "log_prior" in tree.children:
        sens = checks.prior_sensitivity(tree, estimand_draws(post, data.reference))
        out["sensitivity"] = {"table": sens.to_dict("records"),
                              "flagged": sens[sens["diagnosis"] != "ok"].to_dict("records"),
                              "method": "power-scaling (Kallioinen et al. 2024), arviz-stats psense, threshold 0.05"}
    return out


def _check_rhos(rhos, n_times: int) -> list[float]:
    rhos = [check_rho(r, n_times) for r in rhos]
    if not rhos:
        raise DesignError("rhos is empty. Fix: rhos=(0.2, 0.5, 0.8).")
    if len(set(rhos)) < len(rhos):
        raise DesignError(f"rhos repeats a value: {rhos}. Fix: give each rho once, e.g. rhos=(0.2, 0.5, 0.8).")
    return rhos


def sensitivity_rows(posterior: xr.Dataset, data: TimecourseSummaryData, rho: float, diag: Diagnostics, *,
                     main: bool, ci_prob: float, ci_kind: str) -> pd.DataFrame:
    """The headline (change-from-baseline differences) of one fit, long: one row per group x time with
    ``rho``, ``main`` (the analysis's own fit), its gate (``passed``, ``max_rhat``, ``min_ess_bulk``,
    ``divergences``)."""
    frame = describe(estimand_draws(posterior, data.reference)["change_difference"], ci_prob=ci_prob, ci_kind=ci_kind)
    t_of = dict(zip(data.time_labels, data.times, strict=True))
    out = pd.DataFrame({
        "estimand": "change_difference", "group": frame["group"].astype(str), "reference": data.reference,
        "time": [float(t_of[str(t)]) for t in frame["time"]], "rho": float(rho), "main": bool(main),
        "median": frame["median"], "ci_low": frame["ci_low"], "ci_high": frame["ci_high"], "sd": frame["sd"],
        "prob_direction": frame["prob_direction"], "ci_prob": float(ci_prob), "ci_kind": str(ci_kind),
        "passed": bool(diag.passed), "max_rhat": float(diag.max_rhat), "min_ess_bulk": float(diag.min_ess_bulk),
        "divergences": int(diag.divergences)})
    return out


def rho_sensitivity(
    source: str | Path | pd.DataFrame,
    *,
    group: str,
    time: str,
    mean: str,
    n: str,
    sem: str | None = None,
    sd: str | None = None,
    rhos: Sequence[float] = DEFAULT_RHOS,
    reference: str | None = None,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    seed: int = DEFAULT_SEED,
    progress: bool = False,
) -> pd.DataFrame:
    """The headline estimands (change-from-baseline differences) under each assumed rho, side by side.

    Parameters
    ----------
    source, group, time, mean, n, sem, sd, reference, draws, tune, chains, seed, progress
        As `analyse_summary_timecourse` (every rho is fitted with the same seed).
    rhos : sequence of float
        The assumed correlations (default 0.2, 0.5, 0.8), each in (-1 / (T - 1), 1).

    Returns
    -------
    pandas.DataFrame
        One row per non-reference group x time after the baseline: ``group``, ``reference``,
        ``time``, then for each rho ``rho=<r> median``, ``rho=<r> ci_low``, ``rho=<r> ci_high``
        (95% HDI) and ``rho=<r> sd`` (posterior SD). ``attrs["diagnostics"]`` maps each rho to its
        fit's `Diagnostics`, ``attrs["notes"]`` holds the notes (the RM ANOVA sentence last).
    """
    from bayes_igf1.pipeline import sampler_settings

    settings = sampler_settings(draws=draws, tune=tune, chains=chains, seed=seed)
    data = read_summary_timecourse(source, group=group, time=time, mean=mean, n=n, sem=sem, sd=sd,
                                   reference=reference)
    rhos = _check_rhos(rhos, len(data.times))
    out, diagnostics = None, {}
    for r in rhos:
        tree, diag = _fit(data, r, settings, progress=progress)
        diagnostics[r] = diag
        head = sensitivity_rows(tree["posterior"].to_dataset(), data, r, diag, main=False, ci_prob=CI_PROB,
                                ci_kind=CI_KIND)
        head["time"] = [_whole(t) for t in head["time"]]
        head = head[["group", "reference", "time", "median", "ci_low", "ci_high", "sd"]]
        head = head.rename(columns={c: f"rho={r:g} {c}" for c in ("median", "ci_low", "ci_high", "sd")})
        out = head if out is None else out.merge(head, on=["group", "reference", "time"], how="left", sort=False)
    out = out.reset_index(drop=True)
    out.attrs["diagnostics"] = diagnostics
    failed = [f"{r:g}" for r, d in diagnostics.items() if not d.passed]
    notes = [NOT_REPRODUCIBLE.format(rho=rhos[len(rhos) // 2]).split("; this analysis")[0]
             + f"; the estimates are shown under assumed correlations rho = {', '.join(f'{r:g}' for r in rhos)}."]
    if failed:
        notes.insert(0, f"FAILED diagnostics gate at rho = {', '.join(failed)}: do not report those columns.")
    out.attrs["notes"] = tuple(notes)
    return out


# ------------------------------------------------------------------------------ analysis


def _fmt(x: float) -> str:
    return f"{float(x):.4g}"


def model_text(data: TimecourseSummaryData, priors: dict, rho: float, outcome: str, prior_scale: float) -> str:
    """The model in words and formulas (methods section), each prior stated."""
    g, t = len(data.groups), len(data.times)
    words = (
        f"Bayesian {g} x {t} group-by-time model of {outcome!r} fitted to the published summaries (each group's mean, "
        f"SD and n at each time; {int(data.n.sum())} animals followed over {t} times). A group's {t} means are the "
        "means of the same animals, so they are correlated; that correlation is not in a figure, so the model "
        f"assumes compound symmetry with a within-animal correlation rho = {rho:g} between any two times (not "
        "estimated; the rho sensitivity table refits with rho = 0.2, 0.5 and 0.8). Given rho, the vector of a "
        "group's means has its exact multivariate normal likelihood; the SDs enter through each time's pooled "
        "within-group sum of squares, treated as independent across times (an approximation). Weakly informative "
        "priors scaled to the data (the mean m and SD s of all animal-by-time values, recovered exactly from the "
        "summaries)" + (f", every scale multiplied by prior_scale = {prior_scale:g}" if prior_scale != 1 else "") + ".")
    lines = [
        f"ybar[g, :] ~ MvNormal(mu[g, :], sigma^2 R / n[g])   R = (1 - rho) I + rho J, rho = {rho:g}  ({g} groups)",
        f"SS[t] = sum_g (n[g] - 1) sd[g, t]^2 ~ sigma^2 chi-square(N - G) = Gamma((N - G) / 2, rate 1 / (2 sigma^2)),"
        f" N - G = {data.df_within}, independent over the {t} times",
        f"mu[g, t] ~ Normal({_fmt(priors['mu']['mu'])}, {_fmt(priors['mu']['sigma'])})   iid (2.5 s)",
        f"sigma ~ HalfNormal({_fmt(priors['sigma']['sigma'])})",
        f"difference[g, t] = mu[g, t] - mu[{data.reference}, t];  change difference[g, t] = difference[g, t] - "
        f"difference[g, {_tg(data.times[0])}]  (the headline)",
    ]
    return words + "\n\n" + "\n".join(lines)


def _notes(data: TimecourseSummaryData, rho: float, diag: Diagnostics, sens: pd.DataFrame | None,
           time_col: str, unit: str) -> tuple[str, ...]:
    notes = [
        NOT_REPRODUCIBLE.format(rho=rho),
        "The analysis rests on summary statistics: a normal outcome, one SD sigma shared by every group and time, "
        "and compound symmetry (one correlation between any two times of an animal) are assumed, not checked; "
        "no cohort or animal structure can be recovered. No PSIS-LOO is computed (one mean per group and time, "
        "each with its own parameter), which also makes the posterior predictive check of the means weak; that of "
        "the SDs checks the equal-SD assumption.",
        SD_APPROXIMATION,
        f"Baseline: {_at(data.times[0], unit, time_col)}; reference group: {data.reference}.",
    ]
    if data.sd_from_sem:
        notes.append("SDs converted from the SEMs as SEM x sqrt(n).")
    if sens is not None:
        bad = sorted({float(r) for r in sens.loc[~sens["passed"].astype(bool) & ~sens["main"].astype(bool), "rho"]})
        if bad:
            notes.append(f"FAILED diagnostics gate of the sensitivity fit at rho = {', '.join(f'{r:g}' for r in bad)}: "
                         "its column of the rho sensitivity table is not reliable (rerun with more draws / tuning).")
    if not diag.passed:
        notes.insert(0, "FAILED diagnostics gate: " + "; ".join(diag.problems) + ". Do not report these estimates "
                     "before fixing the fit (more draws / tuning).")
    return tuple(notes)


def analyse_summary_timecourse(
    source: str | Path | pd.DataFrame,
    *,
    group: str,
    time: str,
    mean: str,
    n: str,
    sem: str | None = None,
    sd: str | None = None,
    rho: float = 0.5,
    reference: str | None = None,
    outcome: str | None = None,
    time_unit: str | None = None,
    label: str | None = None,
    unit: str | None = None,
    levels: Mapping[str, Mapping[str, str]] | None = None,
    sheet: str | int | None = None,
    where: Sequence[str] = (),
    decimal: str | None = None,
    thousands: str | None = None,
    rope: float | None = None,
    ci_prob: float = CI_PROB,
    ci_kind: str = CI_KIND,
    prior_scale: float = 1.0,
    sensitivity: bool = True,
    rhos: Sequence[float] = DEFAULT_RHOS,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    seed: int = DEFAULT_SEED,
    progress: bool = False,
    retry: bool = True,
) -> AnalysisResult:
    """Fit a group x time summary table with an assumed within-animal correlation, and the rho sensitivity.

    Parameters
    ----------
    source : str, Path or pandas.DataFrame
        The table, one row per group and time (see `read_summary_timecourse`).
    group, time, mean, n : str
        Columns of the group, time, mean and number of animals (constant over time in a group).
    sem, sd : str, optional
        Column of the SEMs or of the SDs; exactly one.
    rho : float
        The assumed within-animal correlation between any two times (compound symmetry),
        in (-1 / (T - 1), 1). Not estimated: the figure does not contain it.
    reference : str, optional
        The reference group (default: the io rule, e.g. a group named like a control).
    outcome, time_unit, sheet, where, decimal, thousands
        As `read_summary_timecourse`.
    label, unit : str, optional
        The outcome's name and unit in the report (``--label`` / ``--unit``).
    levels : mapping, optional
        Group labels in the report, ``{group column: {level: label}}`` (``--level``).
    rope : float, optional
        Half-width of the ROPE of the differences (outcome units).
    ci_prob, ci_kind : float, str
        Interval mass and kind ("hdi" or "eti").
    prior_scale : float
        Multiplies every prior scale.
    sensitivity : bool
        Refit at each of ``rhos`` other than ``rho`` (same settings and seed) for the rho
        sensitivity table (``checks["rho_sensitivity"]``); the main fit is its ``rho`` column.
    rhos : sequence of float
        The sensitivity's correlations (default 0.2, 0.5, 0.8).
    draws, tune, chains, seed : int
        Sampler settings (nutpie); the seed makes the fit reproducible.
    progress : bool
        Show the sampler's progress bar.
    retry : bool
        Refit once with more tuning when the diagnostics gate fails.

    Returns
    -------
    AnalysisResult
        ``design = "summary-timecourse"``; estimates ``group_mean``, ``difference``,
        ``change_difference`` (headline) and ``sigma``; no frequentist twin (the RM ANOVA needs the
        correlation); ``checks["rho_sensitivity"]``: the headline under each rho, long.

    Raises
    ------
    DataError
        Bad input (see `read_summary_timecourse`).
    DesignError
        rho outside its range, bad sampler settings or options.

    Examples
    --------
    >>> res = analyse_summary_timecourse("fig3.csv", group="treatment", time="week", mean="mean",
    ...                                  sem="sem", n="n", rho=0.5, seed=1)  # doctest: +SKIP
    >>> bayes_igf1.write_report(res, "fig3-report")  # doctest: +SKIP
    """
    options = dict(locals())
    from bayes_igf1.pipeline import analyse as run_pipeline

    return run_pipeline(SummaryTimeCourse(), **options)


def _setup(source, *, group, time, mean, n, sem, sd, rho, reference, outcome, time_unit, label, unit, levels, sheet,
           where, decimal, thousands, rope, ci_prob, ci_kind, prior_scale, sensitivity, rhos):
    """Read and validate the table, check the options, resolve the priors, build the model (the pipeline's
    first step)."""
    from bayes_igf1.pipeline import Setup

    if ci_kind not in ("hdi", "eti"):
        raise DesignError(f"ci_kind must be 'hdi' or 'eti', not {ci_kind!r}. Fix: --ci-kind hdi.")
    if not (isinstance(ci_prob, (int, float)) and 0 < float(ci_prob) < 1):
        raise DesignError(f"ci_prob must be between 0 and 1, not {ci_prob!r}. Fix: e.g. --ci 0.95.")
    if rope is not None and not (isinstance(rope, (int, float)) and math.isfinite(rope) and rope > 0):
        raise DesignError(f"rope must be a number above 0 (outcome units), not {rope!r}. Fix: e.g. --rope 2.")
    if isinstance(where, str):
        where = [where]
    data = read_summary_timecourse(source, group=group, time=time, mean=mean, n=n, sem=sem, sd=sd,
                                   reference=reference, outcome=outcome, time_unit=time_unit, sheet=sheet,
                                   where=where, decimal=decimal, thousands=thousands)
    rho = check_rho(rho, len(data.times))
    sens_rhos = _check_rhos(rhos, len(data.times)) if sensitivity else []
    sheet_obj = relabel_levels(data.sheet, levels)
    data = summary_data(sheet_obj)
    priors = resolve_priors(data, prior_scale=prior_scale)
    ref = data.reference

    def stored(post: xr.Dataset) -> xr.Dataset:
        draws = estimand_draws(post, ref)
        return xr.Dataset({"difference": draws["difference"],
                           "change_difference": draws["change_difference"].rename(time="time_after_baseline")})

    settings = {
        "source": str(source) if not isinstance(source, pd.DataFrame) else "<DataFrame>",
        "group": group, "time": time, "mean": mean, "sem": sem, "sd": sd, "n": n,
        "outcome": sheet_obj.columns["value"], "rho": rho,
        "rhos": [float(r) for r in sorted(set(sens_rhos) | {rho})] if sensitivity else [rho],
        "sensitivity": bool(sensitivity), "reference": ref, "time_unit": sheet_obj.time_unit,
        "label": label, "unit": unit, "levels": {k: dict(v) for k, v in (levels or {}).items()},
        "where": list(where), "sheet": sheet, "decimal": decimal, "thousands": thousands,
        "rope": rope, "ci_prob": float(ci_prob), "ci_kind": ci_kind, "prior_scale": float(prior_scale)}
    return Setup(data=data, model=build_model(data, rho, priors=priors), free=list(FREE_PARAMETERS),
                 gated=lambda post: {"change_difference": estimand_draws(post, ref)["change_difference"]},
                 stored=stored, expected_warnings=((ImplicitFreezeWarning, r"(?s).*"),),
                 state={"sheet": sheet_obj, "priors": priors, "rho": rho, "sens_rhos": sens_rhos,
                        "settings": settings})


def _finish(setup, tree: xr.DataTree, diag: Diagnostics, *, sampler: SamplerSettings, retry: bool,
            progress: bool) -> AnalysisResult:
    """Checks, estimates, the rho sensitivity refits and notes (the pipeline's last step)."""
    data, state = setup.data, setup.state
    sheet_obj, priors, rho, user = state["sheet"], state["priors"], state["rho"], state["settings"]
    ci_prob, ci_kind = user["ci_prob"], user["ci_kind"]
    time_col, tunit = sheet_obj.columns["time"], sheet_obj.time_unit
    # The predictive groups are replaced by `replicate_summaries` (checks["ppc"] and the "ppc" figure).
    keep = ("posterior", "sample_stats", "log_likelihood", "log_prior", "observed_data", "constant_data", "estimands")
    tree = xr.DataTree.from_dict({name: tree[name].to_dataset() for name in tree.children if name in keep})
    posterior = tree["posterior"].to_dataset()
    checks_out = run_checks(tree, data, rho, seed=sampler.seed, unit=tunit, time_col=time_col)
    est = estimates_table(posterior, data, ci_prob=ci_prob, ci_kind=ci_kind, rope=user["rope"], unit=tunit,
                          time_col=time_col)
    sens = None
    if user["sensitivity"]:
        parts = [sensitivity_rows(posterior, data, rho, diag, main=True, ci_prob=ci_prob, ci_kind=ci_kind)]
        for r in state["sens_rhos"]:
            if r == rho:
                continue
            t_r, d_r = _fit(data, r, sampler, priors=priors, progress=progress, retry=retry)
            parts.append(sensitivity_rows(t_r["posterior"].to_dataset(), data, r, d_r, main=False, ci_prob=ci_prob,
                                          ci_kind=ci_kind))
        sens = pd.concat(parts, ignore_index=True).sort_values(["rho", "group", "time"], kind="stable")
        sens = sens.reset_index(drop=True)
        checks_out["rho_sensitivity"] = sens
    outcome_name = sheet_obj.columns["value"]
    settings_out = {
        **user, "draws": sampler.draws, "tune": sampler.tune, "chains": sampler.chains, "seed": sampler.seed,
        "retry": bool(retry), "scale": "identity", "baseline": "first time", "family": "normal",
        "model": {"likelihood": "group means over time: multivariate normal, compound symmetry at an assumed rho; "
                                "per-time pooled SS (independent across times, an approximation)",
                  "ss_within": data.ss_within, "df_within": data.df_within},
    }
    label = user["label"]
    return AnalysisResult(
        design=DESIGN,
        title=f"{label or outcome_name} by {time_col} and {sheet_obj.columns['group']} (from group means, SDs and n "
              f"over time; assumed rho = {rho:g})",
        settings=settings_out,
        seed=sampler.seed,
        sheet=sheet_obj,
        priors=priors,
        model_text=model_text(data, priors, rho, str(label or outcome_name), float(user["prior_scale"])),
        tree=tree,
        diagnostics=diag,
        estimates=est,
        bayes_anova=pd.DataFrame(),
        anova=pd.DataFrame(),
        anova_data={},
        mixed_model={"method": None, "note": "A summary table: no mixed model (no animal-level values)."},
        frequentist_extra={},
        checks=checks_out,
        notes=_notes(data, rho, diag, sens, time_col, tunit),
    )


# ------------------------------------------------------------------------------ report pieces


def _unit_suffix(result) -> str:
    unit = str((result.settings or {}).get("unit") or "")
    return f"\u00a0{unit}" if unit else ""


def _time_text(result, t) -> str:
    return _at(t, result.sheet.time_unit, str(result.sheet.columns.get("time", "time")))


def sensitivity_display(result) -> pd.DataFrame:
    """The rho sensitivity table as the report shows it: one row per group x time, one column per rho
    (posterior median [interval], the outcome's unit), the assumed rho marked."""
    from bayes_igf1.report.format import fmt_estimate

    sens = (result.checks or {}).get("rho_sensitivity")
    if not isinstance(sens, pd.DataFrame) or not len(sens):
        return pd.DataFrame()
    unit = str(result.settings.get("unit") or "")
    ci = f"{100 * float(result.settings.get('ci_prob', CI_PROB)):g}% {str(result.settings.get('ci_kind', CI_KIND)).upper()}"
    keys = list(dict.fromkeys(zip(sens["group"], sens["time"], strict=True)))
    rows = []
    for g, t in keys:
        row = {"Contrast": f"{g} − {sens['reference'].iloc[0]}: change from baseline",
               "Time": _time_text(result, t)}
        for r, part in sens.groupby("rho", sort=True):
            rec = part[(part["group"] == g) & (part["time"] == t)].iloc[0]
            head = f"ρ = {r:g}" + (" (assumed)" if bool(rec["main"]) else "") + ("" if bool(rec["passed"]) else
                                                                                   " (gate FAILED)")
            row[f"{head}: median [{ci}]"] = fmt_estimate(rec["median"], rec["ci_low"], rec["ci_high"],
                                                         unit=f" {unit}" if unit else "")
        rows.append(row)
    return pd.DataFrame(rows)


def estimates_display(result) -> pd.DataFrame:
    """Per group and time: the difference vs the reference and the change-from-baseline difference
    (posterior median [interval], P(direction), P(in ROPE) when set)."""
    from bayes_igf1.report.format import MISSING, fmt_estimate, fmt_prob

    e = result.estimates
    unit = str(result.settings.get("unit") or "")
    u = f" {unit}" if unit else ""
    ci = f"{100 * float(result.settings.get('ci_prob', CI_PROB)):g}% {str(result.settings.get('ci_kind', CI_KIND)).upper()}"
    rope = result.settings.get("rope") is not None
    rows = []
    diff, chg = e[e["name"] == "difference"], e[e["name"] == "change_difference"]
    for r in diff.to_dict("records"):
        c = chg[(chg["group"] == r["group"]) & (chg["time"] == r["time"])]
        c = c.iloc[0].to_dict() if len(c) else None
        row = {"Group vs reference": f"{r['group']} − {r['reference']}", "Time": _time_text(result, r["time"]),
               f"Difference [{ci}]": fmt_estimate(r["median"], r["ci_low"], r["ci_high"], unit=u),
               "P(direction)": fmt_prob(r["prob_direction"]),
               f"Change-from-baseline difference [{ci}]": (fmt_estimate(c["median"], c["ci_low"], c["ci_high"], unit=u)
                                                          if c else MISSING),
               "P(direction), change": fmt_prob(c["prob_direction"]) if c else MISSING}
        if rope:
            row["P(in ROPE), change"] = fmt_prob(c["prob_in_rope"]) if c else MISSING
        rows.append(row)
    return pd.DataFrame(rows)


def plot_summary_timecourse(result, *, ax=None):
    """Each group's published mean ± SEM over time and the posterior group mean (median, interval band)."""
    from bayes_igf1.report import figures as F

    fig, ax = F._new_axes(ax, (F.ONE_COLUMN, 2.6))
    f = result.sheet.frame
    post = result.tree["posterior"]["mu"]
    ci_prob = float(result.settings.get("ci_prob", CI_PROB))
    ci_kind = str(result.settings.get("ci_kind", CI_KIND))
    from bayes_igf1.summaries import interval

    low, high = interval(post, ci_prob=ci_prob, ci_kind=ci_kind)
    med = post.median(("chain", "draw"))
    groups = [str(g) for g in f[GROUP].cat.categories]
    times = np.array(sorted(set(f[TIME].astype(float))))
    step = float(np.min(np.diff(times))) if len(times) > 1 else 1.0
    dodge = (np.arange(len(groups)) - (len(groups) - 1) / 2) * 0.06 * step
    labels = [_tg(t) for t in times]
    for i, g in enumerate(groups):
        c, mk = F.PALETTE[i % len(F.PALETTE)], F.MARKERS[i % len(F.MARKERS)]
        m = med.sel(group=g, time=labels).values
        ax.fill_between(times, low.sel(group=g, time=labels).values, high.sel(group=g, time=labels).values,
                        color=c, alpha=0.15, lw=0)
        ax.plot(times, m, color=c, lw=1.2)
        sub = f[f[GROUP].astype(str) == g].sort_values(TIME)
        ax.errorbar(sub[TIME].to_numpy(float) + dodge[i], sub[VALUE], yerr=sub[SEM], fmt=mk, mfc="white", mec=c,
                    color=c, ms=4, lw=0.9, capsize=2, label=f"{g} (n = {int(sub[N_ROW].iloc[0])})")
    ax.set_xlabel(f"{result.sheet.columns.get('time', 'time')}" + (f" ({result.sheet.time_unit})"
                                                                     if result.sheet.time_unit else ""))
    ax.set_ylabel(F._value_label(result))
    ax.set_xticks(times, labels)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), borderaxespad=0.2, fontsize=7)
    return fig, ax


def plot_rho_sensitivity(result, *, ax=None):
    """The change-from-baseline differences vs the reference at each time under each rho (median, interval)."""
    from bayes_igf1.report import figures as F

    fig, ax = F._new_axes(ax, (F.ONE_COLUMN, 2.6))
    sens = (result.checks or {}).get("rho_sensitivity")
    if not isinstance(sens, pd.DataFrame) or not len(sens):
        ax.set_visible(False)
        return fig, ax
    rhos = sorted(set(sens["rho"]))
    groups = list(dict.fromkeys(sens["group"]))
    times = np.array(sorted(set(sens["time"])))
    step = float(np.min(np.diff(times))) if len(times) > 1 else 1.0
    k = len(rhos) * len(groups)
    offsets = (np.arange(k) - (k - 1) / 2) * min(0.08, 0.6 / k) * step
    j = 0
    for gi, g in enumerate(groups):
        for ri, r in enumerate(rhos):
            part = sens[(sens["group"] == g) & (sens["rho"] == r)].sort_values("time")
            main = bool(part["main"].iloc[0])
            c = F.PALETTE[(ri + 1) % len(F.PALETTE)]
            x = part["time"].to_numpy(float) + offsets[j]
            ax.errorbar(x, part["median"], yerr=[part["median"] - part["ci_low"], part["ci_high"] - part["median"]],
                        fmt=F.MARKERS[gi % len(F.MARKERS)], color=c, mfc=c if main else "white", ms=4, lw=1.0,
                        capsize=0, label=f"{g}, ρ = {r:g}" + (" (assumed)" if main else ""))
            j += 1
    ax.axhline(0.0, color="0.5", lw=0.8, ls=":")
    ax.set_xticks(times, [_tg(t) for t in times])
    ax.set_xlabel(f"{result.sheet.columns.get('time', 'time')}" + (f" ({result.sheet.time_unit})"
                                                                     if result.sheet.time_unit else ""))
    unit = str(result.settings.get("unit") or "")
    ax.set_ylabel(f"change difference vs {sens['reference'].iloc[0]}" + (f" ({unit})" if unit else ""))
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), borderaxespad=0.2, fontsize=6.5)
    return fig, ax


def summary_timecourse_figure(result):
    """(a) published means ± SEM with the posterior group means; (b) the rho sensitivity of the headline."""
    import matplotlib as mpl
    from matplotlib.figure import Figure

    from bayes_igf1.report import figures as F

    with mpl.rc_context(F.STYLE):
        fig = Figure(figsize=(F.TWO_COLUMNS, 2.8), layout="constrained")
        axes = fig.subplots(1, 2)
        plot_summary_timecourse(result, ax=axes[0])
        plot_rho_sensitivity(result, ax=axes[1])
        for ax, letter in zip(axes, "ab", strict=True):
            if ax.get_visible():
                F._panel_letter(ax, letter)
    return fig, axes


def summary_timecourse_ppc_figure(result):
    """Posterior predictive intervals (50%, 90%) of each group's mean and SD at each time beside the published values."""
    import matplotlib as mpl
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    from bayes_igf1.report import figures as F

    data = summary_data(result.sheet)
    post = result.tree["posterior"].to_dataset()
    mean_rep, sd_rep = replicate_summaries(post, data, float(result.settings.get("rho", 0.5)), seed=int(result.seed))
    cells = [(j, i) for j in range(len(data.groups)) for i in range(len(data.times))]
    labels = [f"{data.groups[j]}, {_time_text(result, data.times[i])}" for j, i in cells]
    k = len(cells)
    with mpl.rc_context(F.STYLE):
        fig = Figure(figsize=(F.TWO_COLUMNS, 0.6 + 0.3 * k), layout="constrained")
        axes = fig.subplots(1, 2, sharey=True)
        colour = F.PALETTE[1]
        for ax, rep, obs, title in ((axes[0], mean_rep, data.mean, "mean"), (axes[1], sd_rep, data.sd, "SD")):
            for pos, (j, i) in enumerate(cells):
                yk = k - 1 - pos
                q = np.quantile(rep[:, j, i], [0.05, 0.25, 0.75, 0.95])
                ax.plot(q[[0, 3]], [yk, yk], color=colour, lw=2.0, alpha=0.6, solid_capstyle="butt")
                ax.plot(q[[1, 2]], [yk, yk], color=colour, lw=5.0, solid_capstyle="butt")
                ax.plot([obs[j, i]], [yk], marker="|", color="black", ms=10, mew=1.5, ls="none")
            ax.set_title(title, fontsize=8.5)
            ax.set_xlabel(F._value_label(result))
        axes[0].set_yticks(range(k), labels[::-1])
        axes[0].set_ylim(-0.6, k - 0.4)
        handles = [Line2D([], [], color=colour, lw=5, label="posterior predictive 50%"),
                   Line2D([], [], color=colour, lw=2, alpha=0.6, label="90%"),
                   Line2D([], [], color="black", marker="|", ls="none", ms=10, mew=1.5, label="published")]
        fig.legend(handles=handles, loc="outside upper center", ncol=3)
    return fig, axes


# ------------------------------------------------------------------------------ the design


class SummaryTimeCourse(NotPlanned, PipelineSteps):
    """Time courses from a published figure's group means, SD or SEM and n per time: the
    `bayes_igf1.designs.base.Design` protocol (sub-command ``summary-timecourse``)."""

    name = DESIGN
    help = "a published time-course figure: group x time means, SD or SEM and n, at an assumed within-animal rho"
    description = ("Reanalyse a published time-course figure: fit the group x time means, SDs or SEMs and n (one row "
                   "per group and time; the same animals at every time) with an ASSUMED within-animal correlation "
                   "rho (compound symmetry, --rho, default 0.5; a figure does not contain it), refit at rho = 0.2, "
                   "0.5 and 0.8 for a sensitivity table, and write a report folder. The paper's repeated-measures "
                   "ANOVA cannot be reproduced exactly from summaries; no frequentist twin is run.")
    #: The extra refits of --prior-sensitivity skip the rho sensitivity's own refits.
    refit_options: dict = {"sensitivity": False}
    unit_word = "group"
    claims = ("raised",)

    entry = "analyse_summary_timecourse"

    # ---------------------------------------------------------------- command line

    def add_arguments(self, parser) -> None:
        from bayes_igf1.designs.base import add_label_options

        g = parser.add_argument_group("summary columns (one row per group and time)")
        g.add_argument("--group", required=True, metavar="COLUMN", help="column with the group")
        g.add_argument("--time", required=True, metavar="COLUMN",
                       help="column with the time (a number, optionally with its unit: 7, '7 d'); the first is the "
                            "baseline")
        g.add_argument("--mean", required=True, metavar="COLUMN", help="column with the group means")
        g.add_argument("--sd", default=None, metavar="COLUMN", help="column with the SDs (or give --sem)")
        g.add_argument("--sem", default=None, metavar="COLUMN",
                       help="column with the SEMs, the error bars of most figures (converted: SD = SEM x sqrt(n))")
        g.add_argument("--n", required=True, metavar="COLUMN",
                       help="column with the group's number of animals (the same at every time)")
        g.add_argument("--outcome", default=None, metavar="NAME",
                       help="the outcome's name in the report (default: the --mean header)")
        g.add_argument("--time-unit", default=None, metavar="UNIT",
                       help="unit of the times: h, min, day or week (default: the unit written with the times, "
                            "else none)")
        g = parser.add_argument_group("model")
        g.add_argument("--rho", type=float, default=0.5, metavar="R",
                       help="the assumed within-animal correlation between any two times (compound symmetry; "
                            "default 0.5; valid in (-1/(T-1), 1)); the report adds rho = 0.2, 0.5 and 0.8 side by side")
        g.add_argument("--reference", default=None, metavar="LEVEL",
                       help="reference group (default: a group named like a control, else the lowest number, else "
                            "the first in sorted order)")
        add_label_options(parser)

    def options_from_args(self, args) -> dict:
        from bayes_igf1.designs.base import label_kwargs

        if args.sd is not None and args.sem is not None:
            raise BayesIGF1Error(f"both --sd {args.sd!r} and --sem {args.sem!r} are given. Fix: give one: --sem COLUMN "
                                 "when the error bars are standard errors of the mean, --sd COLUMN when they are SDs.")
        if args.sd is None and args.sem is None:
            raise BayesIGF1Error("neither --sd nor --sem is given: the analysis needs each group's spread at each time. "
                                 "Fix: add --sem COLUMN (standard errors of the mean) or --sd COLUMN.")
        if not (math.isfinite(args.rho) and -1.0 < args.rho < 1.0):
            raise BayesIGF1Error(f"--rho {args.rho:g} is not a correlation strictly between -1 and 1. Fix: e.g. --rho "
                                 "0.5 (compound symmetry needs rho > -1/(T-1) for T times).")
        return dict(group=args.group, time=args.time, mean=args.mean, sd=args.sd, sem=args.sem, n=args.n,
                    outcome=args.outcome, time_unit=args.time_unit, rho=args.rho, reference=args.reference,
                    **label_kwargs(args))

    def compare_alternatives(self, args) -> dict:
        raise BayesIGF1Error("--compare has no alternative model for a summary time course: the group means and SDs "
                             "are sufficient for the normal model only, and the within-animal correlation is assumed, "
                             "not estimated (the report's rho sensitivity table is its comparison). Fix: leave out "
                             "--compare.")

    # ---------------------------------------------------------------- what the report asks

    def groups(self, result) -> list[str]:
        return [str(g) for g in result.sheet.frame[GROUP].cat.categories]

    def row_groups(self, result) -> pd.Series:
        return result.sheet.frame[GROUP].astype(str).reset_index(drop=True)

    def log_scale(self, result) -> bool:
        return False

    def predictive_transform(self, result):
        def same(v):
            return np.asarray(v, dtype=float)

        return same, same, False

    def data_sentences(self, result) -> list[str]:
        f = result.sheet.frame
        times = sorted(set(f[TIME].astype(float)))
        spread = "SEM" if "sem" in result.sheet.columns else "SD"
        out = [f"The table gives each group's mean, {spread} and n at each of {len(times)} times "
               f"({', '.join(_time_text(result, t) for t in times)}; the first is the baseline), not the animals' "
               "values; each group's n is the same at every time (the same animals are followed)."]
        if bool(f[SD_FROM_SEM].any()):
            bits = [f"{r[GROUP]} at {_time_text(result, r[TIME])}: SEM {_fmt(r[SEM])} x sqrt({int(r[N_ROW])}) = SD "
                    f"{_fmt(r[SD])}" for r in f.to_dict("records")]
            out.append("Every SD was converted from the SEM given as SD = SEM x sqrt(n): " + "; ".join(bits) + ".")
        return out

    def why_bayesian(self, result) -> str:
        return ("Why Bayesian: from a published time-course figure's means, SDs and n the model gives the posterior of "
                "each group's change from baseline against the reference group, with the within-animal correlation "
                "the figure lacks made an explicit, stated assumption whose effect the rho sensitivity table shows; "
                "a repeated-measures ANOVA cannot be computed from summaries at all.")

    def frequentist_methods(self, result) -> str:
        return ("No frequentist twin: the paper's repeated-measures ANOVA cannot be reproduced exactly from the "
                "summaries, because its within-animal error terms depend on the correlation of each animal's values "
                "across times, which a figure of means and error bars does not contain.")

    def anova_head(self, result) -> str:
        return "No ANOVA (summaries only)"

    def results_sentences(self, result) -> list[tuple[str, str]]:
        from bayes_igf1.report.format import decimals_for, fmt_interval, fmt_number, fmt_prob

        e = result.estimates
        u = _unit_suffix(result)
        ci = f"{100 * float(result.settings.get('ci_prob', CI_PROB)):g}% {str(result.settings.get('ci_kind', CI_KIND)).upper()}"
        rho = float(result.settings.get("rho", 0.5))
        out = []
        chg = e[e["name"] == "change_difference"]
        base = _time_text(result, min(result.sheet.frame[TIME]))
        for g, rows in chg.groupby("group", sort=False):
            recs = rows.sort_values("time").to_dict("records")
            bits = []
            for r in recs:
                d = decimals_for(r["ci_low"], r["ci_high"])
                event = "increase" if float(r["median"]) >= 0 else "decrease"
                bits.append(f"{fmt_number(r['median'], d, sign=True)}{u} at {_time_text(result, r['time'])} ({ci} "
                            f"{fmt_interval(r['ci_low'], r['ci_high'], d, unit=u)}; {fmt_prob(r['prob_direction'], event=event)})")
            out.append(("change_difference", (
                f"Assuming rho = {rho:g}, the change of {g} from baseline ({base}) differed from that of "
                f"{recs[0]['reference']} by " + "; ".join(bits) + " (posterior medians).")))
        sens = (result.checks or {}).get("rho_sensitivity")
        if isinstance(sens, pd.DataFrame) and len(sens) and sens["rho"].nunique() > 1:
            for g, part in sens.groupby("group", sort=False):
                bits = []
                for r, p in part.groupby("rho", sort=True):
                    width = (p["ci_high"] - p["ci_low"]).to_numpy()
                    excl = int(((p["ci_low"] > 0) | (p["ci_high"] < 0)).sum())
                    d = decimals_for(float(p["ci_low"].min()), float(p["ci_high"].max()))
                    bits.append(f"rho = {r:g}: medians {fmt_number(p['median'].min(), d)} to "
                                f"{fmt_number(p['median'].max(), d)}{u}, {ci} widths {fmt_number(width.min(), d)} to "
                                f"{fmt_number(width.max(), d)}{u}, excluding 0 at {excl} of {len(p)} times"
                                + ("" if bool(p["passed"].all()) else " (gate FAILED)"))
                out.append(("rho_sensitivity", (
                    f"Sensitivity to the assumed correlation (change difference of {g}; table 'rho_sensitivity'): "
                    + "; ".join(bits) + ". A larger rho narrows these intervals (the sampling variance of a change is "
                    "2 sigma^2 (1 - rho) / n per group); the differences at a single time do not depend on rho.")))
        sig = e[e["name"] == "sigma"]
        if len(sig):
            r = sig.iloc[0]
            d = decimals_for(r["ci_low"], r["ci_high"])
            out.append(("sigma", f"SD of an animal's value (sigma, shared by the groups and times): "
                                 f"{fmt_number(r['median'], d)}{u} ({ci} {fmt_interval(r['ci_low'], r['ci_high'], d, unit=u)})."))
        return out

    def rope_unit(self, result) -> str:
        return str(result.settings.get("unit") or "")

    def effect_name(self, source: str, result) -> str:
        return str(source)

    def frequentist_scale_note(self, result) -> str:
        return ""

    def figures(self, result) -> dict:
        ci = f"{100 * float(result.settings.get('ci_prob', CI_PROB)):g}%"
        kind = str(result.settings.get("ci_kind", CI_KIND)).upper()
        fig, _ = summary_timecourse_figure(result)
        out = {"summary_timecourse": (fig, (
            f"(a) Published mean ± SEM of each group at each time (open symbols; n in the legend) and the posterior "
            f"group mean (line: median; band: {ci} {kind}) at the assumed rho = {float(result.settings.get('rho', 0.5)):g}. "
            f"(b) Rho sensitivity: the change-from-baseline difference vs the reference group at each time (median, "
            f"{ci} {kind}) under each assumed within-animal correlation (filled: the assumed rho)."))}
        if (result.checks or {}).get("ppc"):
            fig, _ = summary_timecourse_ppc_figure(result)
            out["ppc"] = (fig, (
                "Posterior predictive check of the summaries: for each group and time, the 50% and 90% intervals of "
                "the mean (left) and SD (right) replicated from the posterior (one SD sigma shared by the groups and "
                "times, the assumed rho), and the published value (black). An SD outside its interval questions the "
                "equal-SD assumption."))
        return out

    def descriptives(self, result) -> pd.DataFrame:
        """The summary table as given, per group and time: animals (n), mean, SD, SEM, where the SD came from."""
        from bayes_igf1.report.format import fmt_number

        f = result.sheet.frame
        unit = result.sheet.time_unit
        rows = [{"Group": str(r[GROUP]), f"Time ({unit})" if unit else "Time": _tg(r[TIME]),
                 "Animals": int(r[N_ROW]), "n": int(r[N_ROW]), "Mean": fmt_number(r[VALUE], 3),
                 "SD": fmt_number(r[SD], 3), "SEM": fmt_number(r[SEM], 3),
                 "SD from": "SEM × √n" if r[SD_FROM_SEM] else "given", "Median": "—", "Min": "—", "Max": "—"}
                for r in f.to_dict("records")]
        return pd.DataFrame(rows)

    def report_tables(self, result) -> list[tuple[str, str, pd.DataFrame]]:
        """The design's own report tables: (name, caption, display frame)."""
        ci = f"{100 * float(result.settings.get('ci_prob', CI_PROB)):g}% {str(result.settings.get('ci_kind', CI_KIND)).upper()}"
        unit = str(result.settings.get("unit") or "")
        in_unit = f" ({unit})" if unit else ""
        out = [("differences", (
            f"Differences vs the reference group at each time and differences in change from baseline (the headline), "
            f"posterior median [{ci}]{in_unit}, P(direction), at the assumed rho = "
            f"{float(result.settings.get('rho', 0.5)):g}."), estimates_display(result))]
        sens = sensitivity_display(result)
        if len(sens):
            out.append(("rho_sensitivity", (
                f"Rho sensitivity: the headline estimands (difference in change from baseline vs the reference group) "
                f"under each assumed within-animal correlation rho (compound symmetry), posterior median [{ci}]"
                f"{in_unit}; each column is its own fit with the same data, priors, settings and seed. "
                + NOT_REPRODUCIBLE.format(rho=float(result.settings.get("rho", 0.5))).split("; this analysis")[0] + "."),
                sens))
        return out

    def finding(self, result) -> str:
        from bayes_igf1.report.format import fmt_num

        sens = (result.checks or {}).get("rho_sensitivity")
        chg = result.estimates[result.estimates["name"] == "change_difference"]
        u = _unit_suffix(result)
        parts = []
        for g, rows in chg.groupby("group", sort=False):
            last = rows.sort_values("time").iloc[-1]
            text = (f"{g} vs {last['reference']}: change difference {fmt_num(last['median'])}{u} at "
                    f"{_time_text(result, last['time'])} (rho = {float(result.settings.get('rho', 0.5)):g})")
            if isinstance(sens, pd.DataFrame) and len(sens):
                p = sens[sens["group"] == g]
                text += "; interval excludes 0 at " + ", ".join(
                    f"{int(((q['ci_low'] > 0) | (q['ci_high'] < 0)).sum())}/{len(q)} times (rho {r:g})"
                    for r, q in p.groupby("rho", sort=True))
            parts.append(text)
        return "; ".join(parts) + "."

    def verdict(self, result, claim: str) -> tuple[str, str]:
        """"The treatment raises the outcome": supported when, for every group, some time's change difference
        has its interval above 0 under every rho fitted; not supported when no time's does under any rho;
        else undecided."""
        if claim not in self.claims:
            raise DesignError(f"no decision rule for a {claim!r} claim. Fix: use one of {self.claims}.")
        sens = (result.checks or {}).get("rho_sensitivity")
        if not isinstance(sens, pd.DataFrame) or not len(sens):
            e = result.estimates
            sens = e[e["name"] == "change_difference"].assign(rho=float(result.settings.get("rho", 0.5)))
        above = {(g, r): bool((p["ci_low"] > 0).any()) for (g, r), p in sens.groupby(["group", "rho"], sort=False)}
        words = "; ".join(f"{g}, rho {r:g}: {'a' if a else 'no'} time with the interval above 0"
                          for (g, r), a in above.items())
        groups = set(sens["group"])
        if all(all(a for (g2, _), a in above.items() if g2 == g) for g in groups):
            return "supported", words
        if not any(above.values()):
            return "not supported", words
        return "undecided", words

    # ---------------------------------------------------------------- plan and calibrate

    #: No ``bayes-igf1 plan`` of its own (`NotPlanned`).
    plan_refusal = (
        "the summary time course is not planned by itself: plan the replication as a time course, e.g. "
        "'bayes-igf1 plan timecourse ...' with the posterior group means and sigma of this analysis "
        "(results.json). Fix: use 'plan timecourse'.")

    def calibration_model(self, data_dir):
        """(model, parameters, priors) of the shipped microdialysis study reduced to the figure a paper would
        show (treatment x hour means and SDs of the measured values, below-limit values at the limit, n = mice
        per group), its observations one ``y_data`` vector (`build_model` with ``joint=True``), at rho = 0.5."""
        from bayes_igf1.io import read_timecourse

        sheet = read_timecourse(Path(data_dir) / "microdialysis_igf1.csv", animal="mouse", group="treatment",
                                time="hour", value="igf1_pg_ml", lloq=8.0, log_scale=False)
        f = sheet.frame
        n_g = f.groupby("group", observed=True)["animal"].nunique()
        table = f.groupby(["group", "time"], observed=True, sort=True)["value"].agg(mean="mean", sd="std").reset_index()
        table["n"] = [int(n_g[g]) for g in table["group"]]
        data = read_summary_timecourse(table, group="group", time="time", mean="mean", sd="sd", n="n")
        priors = resolve_priors(data)
        return build_model(data, 0.5, priors=priors, joint=True), list(FREE_PARAMETERS), priors
