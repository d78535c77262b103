"""Time courses from summaries: group x time means, SEM or SD and n (issue 16, item 4).

A published time-course figure gives, for each group g and time t, the mean of the group's
n_g animals, its SEM or SD, and n_g (the same animals at every time). The animals' values
are not given, and neither is the within-animal correlation across times, which the paper's
repeated-measures ANOVA used: that ANOVA cannot be reproduced exactly from the figure. This
module fits the normal repeated-measures model with an ASSUMED correlation ``rho``
(compound symmetry), and `rho_sensitivity` shows how the headline estimands move with it.

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

Each is summarised by its posterior median and 95% HDI (`bayes_igf1.summaries.describe`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr
from pymc.exceptions import ImplicitFreezeWarning

from bayes_igf1.constants import DEFAULT_SEED
from bayes_igf1.errors import DesignError
from bayes_igf1.sampling import Diagnostics, SamplerSettings, fit
from bayes_igf1.summaries import describe

#: Free parameters of the model (the diagnostics gate).
FREE_PARAMETERS = ("mu", "sigma")
#: The interval every estimate is summarised by.
CI_PROB, CI_KIND = 0.95, "hdi"
#: The rhos of the sensitivity table (issue 16: 0.2, 0.5 and 0.8 side by side).
DEFAULT_RHOS = (0.2, 0.5, 0.8)
#: The sentence every result carries.
NOT_REPRODUCIBLE = (
    "The paper's repeated-measures ANOVA cannot be reproduced exactly from the summaries: it depends on the "
    "within-animal correlation across times, which the figure does not contain; this analysis assumes a "
    "compound-symmetry correlation rho = {rho:g} (see the rho sensitivity table for 0.2, 0.5 and 0.8)."
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
        Times in order; ``times[0]`` is the baseline.
    mean, sd : numpy.ndarray
        (G, T) means and SDs (an SEM converted as SEM x sqrt(n)).
    n : numpy.ndarray
        (G,) animals per group.
    sd_from_sem : bool
        True when the SDs were converted from SEMs.
    """

    groups: tuple[str, ...]
    times: tuple
    mean: np.ndarray
    sd: np.ndarray
    n: np.ndarray
    sd_from_sem: bool

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

    def location_scale(self) -> tuple[float, float]:
        """Mean ``m`` and SD ``s`` of all animal-by-time values, exact from the summaries."""
        w = np.broadcast_to(self.n[:, None], self.mean.shape).astype(float)
        total = float(w.sum())
        m = float((w * self.mean).sum() / total)
        ss = float(((w - 1) * self.sd**2).sum() + (w * (self.mean - m) ** 2).sum())
        return m, math.sqrt(ss / (total - 1))


def _row_label(index) -> str:
    """Spreadsheet row (header = row 1) of a position in a 0-based RangeIndex, else the index label."""
    return f"row {int(index) + 2}" if isinstance(index, (int, np.integer)) else f"index {index!r}"


def _rows(frame: pd.DataFrame, mask) -> str:
    return ", ".join(_row_label(i) for i in frame.index[np.asarray(mask)])


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
) -> TimecourseSummaryData:
    """Read and validate a group x time summary table.

    Parameters
    ----------
    source : str, Path or pandas.DataFrame
        A CSV file, or a DataFrame, with one row per group and time.
    group, time, mean, n : str
        Columns of the group label, the time, the mean and the group's number of animals
        (a whole number >= 2, the same at every time: the same animals are followed).
    sem, sd : str, optional
        Column of the SEMs or of the SDs; exactly one. An SEM is converted as SEM x sqrt(n).
    reference : str, optional
        The reference group (default: the first group in the table's order).

    Returns
    -------
    TimecourseSummaryData
        Groups with the reference first, times in ascending order (numbers) or in the
        table's order (text); the first time is the baseline.

    Raises
    ------
    DesignError
        Naming the rows and the fix: a column missing, both or neither of ``sem`` / ``sd``,
        a value that is not a finite number, n < 2 or not whole, n differing over times within
        a group, an SD or SEM that is not above zero, a group x time given twice or missing,
        fewer than 2 groups or 2 times, an unknown reference.
    """
    if (sem is None) == (sd is None):
        raise DesignError(
            "give exactly one of sem= and sd= (got " + ("both" if sem is not None else "neither") + "). Fix: "
            "sem='COLUMN' when the error bars are standard errors of the mean (most figures), sd='COLUMN' when "
            "they are standard deviations.")
    if isinstance(source, pd.DataFrame):
        frame = source.copy()
        where = "the table"
        if not (isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0 and frame.index.step == 1):
            frame.index = pd.Index([str(i) for i in frame.index])  # named by label, not by a made-up row
    else:
        path = Path(source)
        if not path.exists():
            raise DesignError(f"there is no file {str(path)!r}. Fix: give the path of the CSV summary table.")
        frame = pd.read_csv(path)
        frame.index = pd.RangeIndex(len(frame))
        where = f"file {str(path)!r}"
    spread = sem if sem is not None else sd
    spread_word = "SEM" if sem is not None else "SD"
    for option, col in (("group", group), ("time", time), ("mean", mean), ("n", n),
                        ("sem" if sem is not None else "sd", spread)):
        if col not in frame.columns:
            raise DesignError(f"{where} has no column {col!r} (given as {option}=). Fix: use one of "
                              f"{', '.join(repr(str(c)) for c in frame.columns)}.")
    if len(frame) == 0:
        raise DesignError(f"{where} has no rows. Fix: give one row per group and time.")
    values = {}
    for what, col in (("mean", mean), (spread_word, spread), ("n", n)):
        x = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(x)
        if bad.any():
            raise DesignError(f"{where}: the {what} (column {col!r}) is not a finite number in {_rows(frame, bad)}. "
                              f"Fix: type the {what} read off the figure as a number.")
        values[what] = x
    k = values["n"]
    bad = (np.abs(k - np.round(k)) > 1e-9) | (k < 2)
    if bad.any():
        raise DesignError(f"{where}: n (column {n!r}) must be a whole number >= 2, not "
                          f"{', '.join(f'{v:g}' for v in k[bad])} in {_rows(frame, bad)}. Fix: give each group's "
                          "number of animals from the figure legend (an SD needs at least 2 animals).")
    bad = ~(values[spread_word] > 0)
    if bad.any():
        raise DesignError(f"{where}: the {spread_word} (column {spread!r}) must be above zero, not "
                          f"{', '.join(f'{v:g}' for v in values[spread_word][bad])} in {_rows(frame, bad)}. Fix: "
                          f"check the value; an error bar too short to read off the figure needs a higher zoom, "
                          "not 0.")
    if frame[group].isna().any() or frame[time].isna().any():
        bad = frame[group].isna().to_numpy() | frame[time].isna().to_numpy()
        raise DesignError(f"{where}: the group or time is missing in {_rows(frame, bad)}. Fix: fill it in, or "
                          "delete the row.")
    labels = frame[group].astype(str).str.strip()
    groups = list(dict.fromkeys(labels))
    time_num = pd.to_numeric(frame[time], errors="coerce")
    if time_num.notna().all():
        time_key = time_num.to_numpy(dtype=float)
        times = sorted(set(time_key.tolist()))
        times = [int(t) if float(t).is_integer() else t for t in times]
        time_key = [int(t) if float(t).is_integer() else t for t in time_key]
    else:
        time_key = frame[time].astype(str).str.strip().tolist()
        times = list(dict.fromkeys(time_key))
    if len(groups) < 2:
        raise DesignError(f"{where} has {len(groups)} group ({groups}); the estimands compare groups. Fix: give "
                          "at least 2 groups in the group column.")
    if len(times) < 2:
        raise DesignError(f"{where} has {len(times)} time ({times}); a time course needs a baseline and a later "
                          "time. Fix: give at least 2 times in the time column.")
    if reference is not None:
        if str(reference) not in groups:
            raise DesignError(f"reference={reference!r} is not a group. Fix: use one of "
                              f"{', '.join(repr(g) for g in groups)}.")
        groups.remove(str(reference))
        groups.insert(0, str(reference))
    keys = list(zip(labels, time_key, strict=True))
    seen: dict = {}
    for idx, key in zip(frame.index, keys, strict=True):
        if key in seen:
            raise DesignError(f"{where}: group {key[0]!r} at time {key[1]!r} is given twice ({_row_label(seen[key])} "
                              f"and {_row_label(idx)}). Fix: one row per group and time; delete one or correct it.")
        seen[key] = idx
    missing = [f"{g!r} at time {t!r}" for g in groups for t in times if (g, t) not in seen]
    if missing:
        raise DesignError(f"{where}: no row for {', '.join(missing)}. Fix: every group needs a row (mean, "
                          f"{spread_word}, n) at every time; add it, or drop the time for every group.")
    n_by_group = np.zeros(len(groups), dtype=np.int64)
    for j, g in enumerate(groups):
        mask = (labels == g).to_numpy()
        ks = k[mask]
        if np.unique(ks).size > 1:
            detail = "; ".join(f"{_row_label(i)}: n = {v:g}" for i, v in zip(frame.index[mask], ks, strict=True))
            raise DesignError(
                f"{where}: group {g!r} has n differing over time ({detail}). The model follows the same animals "
                "at every time. Fix: give the group's number of animals at every time; if animals dropped out, "
                "the summaries of the smaller set are not those of the same animals - use the times where all "
                "were measured, or the smallest n as an approximation.")
        n_by_group[j] = int(round(ks[0]))
    mean_arr = np.empty((len(groups), len(times)))
    sd_arr = np.empty_like(mean_arr)
    pos = {idx: p for p, idx in enumerate(frame.index)}
    for j, g in enumerate(groups):
        for i, t in enumerate(times):
            p = pos[seen[(g, t)]]
            mean_arr[j, i] = values["mean"][p]
            s = values[spread_word][p]
            sd_arr[j, i] = s * math.sqrt(n_by_group[j]) if sem is not None else s
    return TimecourseSummaryData(groups=tuple(groups), times=tuple(times), mean=mean_arr, sd=sd_arr,
                                 n=n_by_group, sd_from_sem=sem is not None)


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
        raise DesignError(f"rho must be a number, not {rho!r}. Fix: rho=0.5 (the default).") from None
    low = -1.0 / (n_times - 1)
    if not (math.isfinite(r) and low < r < 1.0):
        raise DesignError(
            f"rho = {rho!r} is outside ({low:.4g}, 1), the range in which a compound-symmetry correlation over "
            f"{n_times} times is a valid (positive definite) correlation matrix. Fix: give the assumed within-animal "
            "correlation strictly inside that range, e.g. rho=0.5; try 0.2 and 0.8 with rho_sensitivity.")
    return r


# ------------------------------------------------------------------------------ model


def build_model(data: TimecourseSummaryData, rho: float) -> pm.Model:
    """The PyMC model of the module docstring, dims ``group`` x ``time``.

    Parameters
    ----------
    data : TimecourseSummaryData
    rho : float
        The assumed within-animal correlation (compound symmetry), in (-1 / (T - 1), 1).
    """
    n_groups, n_times = data.mean.shape
    rho = check_rho(rho, n_times)
    m, s = data.location_scale()
    corr = (1.0 - rho) * np.eye(n_times) + rho * np.ones((n_times, n_times))
    chol_corr = np.linalg.cholesky(corr)
    scale = 1.0 / np.sqrt(data.n.astype(float))
    coords = {"group": list(data.groups), "time": [str(t) for t in data.times]}
    with pm.Model(coords=coords) as model:
        chol_data = pm.Data("corr_chol", chol_corr)
        mu = pm.Normal("mu", mu=m, sigma=2.5 * s, dims=("group", "time"))
        sigma = pm.HalfNormal("sigma", sigma=s)
        # sqrt(n_g) ybar[g, :] ~ MvNormal(sqrt(n_g) mu[g, :], sigma^2 R): one Cholesky factor for all
        # groups (a batched one compiles to an object-mode Blockwise in numba); the rescaling of the
        # observations has a constant Jacobian, so the likelihood is the exact one up to a constant.
        root_n = pm.Data("root_n", 1.0 / scale, dims="group")
        pm.MvNormal("ybar", mu=mu * root_n[:, None], chol=sigma * chol_data,
                    observed=pm.Data("ybar_data", data.mean / scale[:, None], dims=("group", "time")),
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


def estimates_table(posterior: xr.Dataset, data: TimecourseSummaryData) -> pd.DataFrame:
    """One row per estimand x group x time: median, 95% HDI, mean, SD, P(direction)."""
    parts = []
    for name, draws in estimand_draws(posterior, data.reference).items():
        frame = describe(draws, ci_prob=CI_PROB, ci_kind=CI_KIND)
        frame.insert(0, "estimand", name)
        frame.insert(2, "reference", data.reference)
        parts.append(frame)
    out = pd.concat(parts, ignore_index=True)
    out["time"] = out["time"].map({str(t): t for t in data.times})
    keep = ["estimand", "group", "reference", "time", "median", "ci_low", "ci_high", "mean", "sd",
            "prob_direction", "ci_prob", "ci_kind"]
    return out[keep]


# ------------------------------------------------------------------------------ analysis


@dataclass(frozen=True)
class SummaryTimecourseResult:
    """What `analyse_summary_timecourse` returns.

    Attributes
    ----------
    estimates : pandas.DataFrame
        Columns ``estimand`` ("difference" or "change_difference"), ``group``, ``reference``,
        ``time``, ``median``, ``ci_low``, ``ci_high`` (95% HDI), ``mean``, ``sd``,
        ``prob_direction``, ``ci_prob``, ``ci_kind``.
    diagnostics : Diagnostics
        The diagnostics gate of the fit (`bayes_igf1.sampling.fit`).
    rho : float
        The assumed within-animal correlation.
    notes : tuple of str
        What the analysis assumes; the first says the paper's RM ANOVA is not reproducible.
    data : TimecourseSummaryData
        The validated table.
    """

    estimates: pd.DataFrame
    diagnostics: Diagnostics
    rho: float
    notes: tuple[str, ...]
    data: TimecourseSummaryData

    @property
    def headline(self) -> pd.DataFrame:
        """The change-from-baseline differences (the rows the sensitivity table compares)."""
        return self.estimates[self.estimates["estimand"] == "change_difference"].reset_index(drop=True)


def _check_sampler(draws, tune, chains, seed) -> SamplerSettings:
    for name, value, lowest in (("draws", draws, 10), ("tune", tune, 0), ("chains", chains, 2)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < lowest:
            raise DesignError(f"{name} must be a whole number >= {lowest}, not {value!r}. Fix: e.g. {name}=1000.")
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise DesignError(f"seed must be a non-negative whole number, not {seed!r}. Fix: seed={DEFAULT_SEED}.")
    return SamplerSettings(draws=int(draws), tune=int(tune), chains=int(chains), seed=int(seed))


def _fit(data: TimecourseSummaryData, rho: float, settings: SamplerSettings, *, progress: bool = False):
    model = build_model(data, rho)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=ImplicitFreezeWarning)
        tree, diag = fit(model, settings=settings, var_names=list(FREE_PARAMETERS), progress=progress,
                         predictive=False,
                         derived=lambda post: {"change_difference": estimand_draws(post, data.reference)[
                             "change_difference"]})
    return tree["posterior"].to_dataset(), diag


def _notes(data: TimecourseSummaryData, rho: float, diag: Diagnostics) -> tuple[str, ...]:
    notes = [
        NOT_REPRODUCIBLE.format(rho=rho),
        "The analysis rests on summary statistics: a normal outcome, one SD sigma shared by every group and time, "
        "and compound symmetry (one correlation between any two times of an animal) are assumed, not checked; "
        "no cohort or animal structure can be recovered.",
        "The group means over time enter through their exact multivariate normal likelihood given rho; the SDs "
        "enter as one pooled within-group variance per time, each sigma^2 chi-square(N - G) / (N - G), treated "
        "as independent across times (an approximation: the same animals' SDs are correlated across times).",
        f"Baseline: time {data.times[0]!r}; reference group: {data.reference!r}.",
    ]
    if data.sd_from_sem:
        notes.append("SDs converted from the SEMs as SEM x sqrt(n).")
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
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    seed: int = DEFAULT_SEED,
    progress: bool = False,
) -> SummaryTimecourseResult:
    """Fit a group x time summary table with an assumed within-animal correlation.

    Parameters
    ----------
    source : str, Path or pandas.DataFrame
        CSV file or DataFrame, one row per group and time (see `read_summary_timecourse`).
    group, time, mean, n : str
        Columns of the group, time, mean and number of animals (constant over time in a group).
    sem, sd : str, optional
        Column of the SEMs or of the SDs; exactly one.
    rho : float
        The assumed within-animal correlation between any two times (compound symmetry),
        in (-1 / (T - 1), 1). Not estimated: the figure does not contain it.
    reference : str, optional
        The reference group (default: the first in the table).
    draws, tune, chains, seed : int
        Sampler settings (nutpie); the seed makes the fit reproducible.
    progress : bool
        Show the sampler's progress bar.

    Returns
    -------
    SummaryTimecourseResult

    Raises
    ------
    DesignError
        Bad input (see `read_summary_timecourse`), rho outside its range, bad sampler settings.

    Examples
    --------
    >>> res = analyse_summary_timecourse("fig3.csv", group="treatment", time="week", mean="mean",
    ...                                  sem="sem", n="n", rho=0.5, seed=1)  # doctest: +SKIP
    >>> res.headline[["group", "time", "median", "ci_low", "ci_high"]]  # doctest: +SKIP
    """
    settings = _check_sampler(draws, tune, chains, seed)
    data = read_summary_timecourse(source, group=group, time=time, mean=mean, n=n, sem=sem, sd=sd,
                                   reference=reference)
    rho = check_rho(rho, len(data.times))
    posterior, diag = _fit(data, rho, settings, progress=progress)
    return SummaryTimecourseResult(estimates=estimates_table(posterior, data), diagnostics=diag, rho=rho,
                                   notes=_notes(data, rho, diag), data=data)


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
        fit's `Diagnostics`, ``attrs["notes"]`` holds the notes (the RM ANOVA sentence first).
    """
    settings = _check_sampler(draws, tune, chains, seed)
    data = read_summary_timecourse(source, group=group, time=time, mean=mean, n=n, sem=sem, sd=sd,
                                   reference=reference)
    rhos = [check_rho(r, len(data.times)) for r in rhos]
    if not rhos:
        raise DesignError("rhos is empty. Fix: rhos=(0.2, 0.5, 0.8).")
    if len(set(rhos)) < len(rhos):
        raise DesignError(f"rhos repeats a value: {rhos}. Fix: give each rho once, e.g. rhos=(0.2, 0.5, 0.8).")
    out, diagnostics = None, {}
    for r in rhos:
        posterior, diag = _fit(data, r, settings, progress=progress)
        diagnostics[r] = diag
        head = estimates_table(posterior, data)
        head = head[head["estimand"] == "change_difference"][["group", "reference", "time", "median", "ci_low",
                                                               "ci_high", "sd"]]
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
