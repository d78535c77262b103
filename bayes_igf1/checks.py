"""Model checks: posterior predictive test statistics, prior predictive range, PSIS-LOO.

Each design's observed variables carry, as the coordinate of their single dimension, the
position of each observation in the validated tidy frame, so a check can map every
observation back to its animal and group.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

#: Pareto k above which PSIS-LOO is unreliable for an observation (Vehtari et al. 2024).
PARETO_K_BAD = 0.7


def _observed_vars(tree: xr.DataTree, names: Sequence[str]) -> list[str]:
    return [n for n in names if n in tree["observed_data"].data_vars]


def posterior_predictive_stats(
    tree: xr.DataTree, frame: pd.DataFrame, *, by: str | Sequence[str], var: str = "y",
    transform=None,
) -> pd.DataFrame:
    """Posterior predictive p-values of per-group mean, SD, min and max of ``var``.

    ``p`` is P(T(y_rep) >= T(y)) over the posterior predictive draws (the mid-p of
    `predictive_stats`); values near 0 or 1 flag a feature of the data the model does not
    reproduce. For censored data use
    `replicates` with `predictive_stats` (censored alike on both sides) or `censored_ppc`.
    """
    obs = tree["observed_data"][var]
    rep = tree["posterior_predictive"][var]
    dim = obs.dims[0]
    positions = obs[dim].values
    labels = frame.iloc[positions][by if isinstance(by, str) else list(by)]
    key = labels.astype(str) if isinstance(by, str) else labels.astype(str).agg("|".join, axis=1)
    y = np.asarray(obs.values, dtype=float)
    yrep = np.asarray(rep.stack(sample=("chain", "draw")).transpose("sample", dim).values, dtype=float)
    if transform is not None:
        y, yrep = transform(y), transform(yrep)
    return predictive_stats(yrep, y, key.to_numpy())


def predictive_stats(rep: np.ndarray, y: np.ndarray, groups: np.ndarray) -> pd.DataFrame:
    """Posterior predictive p of each group's mean, SD, minimum and maximum (rep: draws x rows).

    p = P(T(y_rep) > T(y)) + P(T(y_rep) = T(y)) / 2, the mid-p: equal to P(T(y_rep) >= T(y))
    for continuous replicates, and not pushed to 1 by ties when values are censored at a
    limit on both sides (a minimum at the assay limit).
    """
    rows = []
    for level in pd.unique(groups):
        mask = np.asarray(groups == level)
        for stat, fn in (("mean", np.mean), ("sd", lambda a, axis=None: np.std(a, axis=axis, ddof=1)),
                         ("min", np.min), ("max", np.max)):
            t_obs = float(fn(y[mask]))
            t_rep = fn(rep[:, mask], axis=1)
            rows.append({"group": level, "statistic": stat, "observed": t_obs,
                         "predicted_median": float(np.median(t_rep)),
                         "p": float(np.mean(t_rep > t_obs) + 0.5 * np.mean(t_rep == t_obs))})
    return pd.DataFrame(rows)


def replicates(tree: xr.DataTree, var_names: Sequence[str], n_rows: int) -> np.ndarray:
    """Posterior predictive draws of every row of the tidy frame, shape (draws, n_rows).

    Each observed variable's single dimension holds the rows' positions in the frame; the
    draws of ``var_names`` (e.g. the observed and the censored terms) are put back in row
    order. A replicate of a censored term is what PyMC draws for it: clipped at that row's
    bound.
    """
    out = np.full((0, n_rows), np.nan)
    for name in _observed_vars(tree, var_names):
        rep = tree["posterior_predictive"][name]
        dim = [d for d in rep.dims if d not in ("chain", "draw")][0]
        draws = np.asarray(rep.stack(sample=("chain", "draw")).transpose("sample", dim).values, dtype=float)
        if out.shape[0] == 0:
            out = np.full((draws.shape[0], n_rows), np.nan)
        out[:, np.asarray(rep[dim].values, dtype=int)] = draws
    return out


def censoring_times(value: np.ndarray, censored: np.ndarray) -> np.ndarray:
    """Each row's right-censoring time: a censored row's own (observed) time; for a row whose event
    was seen, the follow-up end, i.e. the largest censoring time (a common cut-off such as 600 s)."""
    value, censored = np.asarray(value, dtype=float), np.asarray(censored, dtype=bool)
    return np.where(censored, value, float(np.max(value[censored])))


def km_summaries(times: np.ndarray, events: np.ndarray, *, tau: float) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan-Meier median and restricted mean up to ``tau`` of each row of right-censored data.

    ``times`` and ``events`` have shape (..., n). The median is the first time at which the
    survival curve is at or below 0.5 (inf where it never falls that far); the restricted
    mean is the area under the curve from 0 to ``tau`` (survival::survfit's ``rmean``; the
    times must be positive). Ties: events before censorings at the same time, as in R.
    """
    times = np.asarray(times, dtype=float)
    events = np.asarray(events, dtype=bool)
    order = np.lexsort((~events, times), axis=-1)
    t = np.take_along_axis(times, order, axis=-1)
    e = np.take_along_axis(events, order, axis=-1)
    n = t.shape[-1]
    at_risk = n - np.arange(n)
    surv = np.cumprod(np.where(e, 1.0 - 1.0 / at_risk, 1.0), axis=-1)
    below = (surv <= 0.5 + 1e-12) & e
    median = np.where(below.any(axis=-1), np.take_along_axis(t, np.argmax(below, axis=-1)[..., None], -1)[..., 0],
                      np.inf)
    edges = np.minimum(np.concatenate([np.zeros(t.shape[:-1] + (1,)), t, np.full(t.shape[:-1] + (1,), tau)], -1), tau)
    level = np.concatenate([np.ones(t.shape[:-1] + (1,)), surv], -1)
    rmean = np.sum(level * np.diff(edges, axis=-1), axis=-1)
    return median, rmean


def censored_ppc(
    rep: np.ndarray, value: np.ndarray, censored: np.ndarray, cut: np.ndarray, groups: np.ndarray,
) -> pd.DataFrame:
    """Posterior predictive p-values of right-censored data, censored alike on both sides.

    Each replicate row is censored at that row's own censoring time ``cut`` (the observed
    censoring time of a censored row; the follow-up end for a row whose event was seen), and
    the same statistics are computed on the observed and the replicated censored data, per
    group: the share censored, the Kaplan-Meier median (inf when not reached) and the
    restricted mean up to the largest censoring time (when every time is positive). Columns
    group, statistic, observed, predicted_median, p = P(T(y_rep) > T(y)) + P(T(y_rep) = T(y)) / 2
    (the mid-p: these statistics tie often, e.g. two medians that are not reached).
    """
    value, censored, cut = (np.asarray(a) for a in (value, censored, cut))
    rep_time = np.minimum(rep, cut)
    rep_event = rep < cut
    tau = float(np.max(cut))
    positive = bool(np.all(value > 0) and np.all(rep_time > 0))
    rows = []
    for level in pd.unique(groups):
        m = np.asarray(groups == level)
        stats_ = {"share censored": (float(np.mean(censored[m])), np.mean(~rep_event[:, m], axis=1))}
        if positive:
            med_o, rm_o = km_summaries(value[m], ~censored[m], tau=tau)
            med_r, rm_r = km_summaries(rep_time[:, m], rep_event[:, m], tau=tau)
            stats_["Kaplan-Meier median"] = (float(med_o), med_r)
            stats_[f"restricted mean to {tau:.4g}"] = (float(rm_o), rm_r)
        for name, (t_obs, t_rep) in stats_.items():
            # mid-p: these statistics tie (a share; a median not reached on both sides, inf = inf)
            p = float(np.mean(t_rep > t_obs) + 0.5 * np.mean(t_rep == t_obs))
            rows.append({"group": level, "statistic": name, "observed": t_obs,
                         "predicted_median": float(np.median(t_rep)), "p": p})
    return pd.DataFrame(rows)


def prior_predictive_range(
    tree: xr.DataTree, *, var: str = "y", low: float, high: float, transform=None
) -> dict:
    """Share of prior predictive draws of ``var`` outside the plausible range [low, high]."""
    draws = np.asarray(tree["prior_predictive"][var].values, dtype=float).ravel()
    if transform is not None:
        draws = transform(draws)
    outside = float(np.mean((draws < low) | (draws > high)))
    return {"low": low, "high": high, "share_outside": outside,
            "quantiles": dict(zip(("q01", "q50", "q99"), map(float, np.quantile(draws, [0.01, 0.5, 0.99]))))}


def _pointwise(tree: xr.DataTree, var_names: Sequence[str]) -> tuple[xr.DataTree, list[int]]:
    """One log-likelihood variable ``y_all`` over every observation (observed and censored
    terms together), and the position of each observation in the tidy frame."""
    names = [n for n in var_names if n in tree["log_likelihood"].data_vars]
    pieces, positions = [], []
    for n in names:
        da = tree["log_likelihood"][n]
        dim = [d for d in da.dims if d not in ("chain", "draw")][0]
        positions.extend(int(p) for p in da[dim].values)
        pieces.append(da.rename({dim: "obs_all"}).drop_vars("obs_all"))
    ll = xr.concat(pieces, dim="obs_all")
    return xr.DataTree.from_dict({
        "posterior": tree["posterior"].to_dataset(),
        "log_likelihood": xr.Dataset({"y_all": ll}),
    }), positions


def loo_check(tree: xr.DataTree, frame: pd.DataFrame, *, var_names: Sequence[str] = ("y",)) -> dict:
    """PSIS-LOO over every observation (observed and censored terms together), with Pareto k.

    Returns elpd_loo, its SE, p_loo, the number of observations with k > 0.7 and the animals
    they belong to.
    """
    ll_tree, positions = _pointwise(tree, var_names)
    with warnings.catch_warnings():  # high Pareto k is reported below, by observation and animal
        warnings.simplefilter("ignore", UserWarning)
        res = az.loo(ll_tree, pointwise=True, var_name="y_all")
    k = np.asarray(res.pareto_k.values if hasattr(res.pareto_k, "values") else res.pareto_k, dtype=float)
    bad = np.flatnonzero(k > PARETO_K_BAD)
    animals = sorted({str(frame.iloc[positions[i]]["animal"]) for i in bad})
    return {
        "elpd_loo": float(res.elpd),
        "se": float(res.se),
        "p_loo": float(res.p),
        "n_obs": int(len(k)),
        "n_pareto_k_gt_0.7": int(len(bad)),
        "max_pareto_k": float(np.max(k)),
        "animals_flagged": animals,
    }


def prior_sensitivity(tree: xr.DataTree, estimands: dict[str, xr.DataArray]) -> pd.DataFrame:
    """Power-scaling sensitivity of each reported estimand (Kallioinen et al. 2024, Stat. Comput. 34:57).

    Uses arviz-stats ``psense_summary`` (importance-weighted power scaling of the prior and
    of the likelihood by 0.99 and 1.01; sensitivity is the cumulative Jensen-Shannon
    distance per unit log-alpha, flagged above 0.05). Columns: estimand, element, prior,
    likelihood, diagnosis.
    """
    groups = {n: tree[n].to_dataset() for n in ("log_prior", "log_likelihood")}
    rows = []
    for name, draws in estimands.items():
        sub = xr.DataTree.from_dict({**groups, "posterior": xr.Dataset({name: draws})})
        table = az.psense_summary(sub, var_names=[name])  # it logs advice; the flags are in our table
        for label, rec in table.iterrows():
            if not np.isfinite(rec["prior"]):
                continue  # a constant element (e.g. the reference against itself)
            element = str(label)[len(name):].strip("[]")
            rows.append({"estimand": name, "element": element, "prior": float(rec["prior"]),
                         "likelihood": float(rec["likelihood"]), "diagnosis": _diagnosis(str(rec["diagnosis"]))})
    return pd.DataFrame(rows, columns=["estimand", "element", "prior", "likelihood", "diagnosis"])


def _diagnosis(text: str) -> str:
    return "ok" if text.strip() in ("✓", "") else text.strip()


def compare_models(trees: dict[str, xr.DataTree], *, var_names: Sequence[str]) -> pd.DataFrame:
    """PSIS-LOO comparison of fitted alternatives with stacking weights (arviz ``compare``).

    Columns: model, rank, elpd_loo, p_loo, elpd_diff, dse (SE of the difference), weight.
    """
    pointwise = {name: _pointwise(tree, var_names)[0] for name, tree in trees.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        table = az.compare(pointwise, method="stacking", var_name="y_all", round_to="none")
    table = table.reset_index().rename(columns={"index": "model", "elpd": "elpd_loo", "p": "p_loo"})
    keep = [c for c in ("model", "rank", "elpd_loo", "p_loo", "elpd_diff", "dse", "weight") if c in table]
    return table[keep]


def prior_scale_table(results: dict[float, object]) -> pd.DataFrame:
    """The headline estimands of fits with every prior scale multiplied (0.5, 1, 2, ...).

    ``results`` maps the multiplier to an AnalysisResult. Columns: label, name, multiplier,
    median, ci_low, ci_high.
    """
    rows = []
    for mult, res in sorted(results.items()):
        e = res.estimates
        for r in e[e["headline"].astype(bool)].to_dict("records"):
            rows.append({"label": r["label"], "name": r["name"], "multiplier": float(mult),
                         "median": r["median"], "ci_low": r["ci_low"], "ci_high": r["ci_high"]})
    return pd.DataFrame(rows, columns=["label", "name", "multiplier", "median", "ci_low", "ci_high"])
