"""Synthetic studies with known truth.

The raw data of Deyama et al. (2022, Transl Psychiatry 12:178) are not public. This module
simulates data with the study's design and plausible magnitudes, and returns the truth
(parameters and the estimands a model should recover) beside every data set. It serves the
shipped files in ``data/`` (:func:`write_study_data`), recovery tests, calibration and
planning (:func:`simulate_timecourse`, :func:`simulate_factorial`).

Every random draw comes from ``numpy.random.default_rng`` seeded by an integer; sub-seeds are
derived with ``numpy.random.SeedSequence(seed).spawn(k)``, so each part (and each shipped
file) is independent of the others and the same seed always gives the same numbers.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bayes_igf1.constants import DEFAULT_SEED
from bayes_igf1.errors import DesignError

__all__ = [
    "simulate_factorial",
    "simulate_timecourse",
    "write_study_data",
    "STUDY_FILES",
    "LLOQ_PG_ML",
]

#: Lower limit of quantification of the IGF-1 ELISA in the shipped microdialysis file (pg/mL).
LLOQ_PG_ML: float = 8.0

#: Names of the files written by :func:`write_study_data`, in the order written.
STUDY_FILES: tuple[str, ...] = (
    "microdialysis_igf1.csv",
    "fst_igf1_nab.csv",
    "fst_igf1_nab_minutes.csv",
    "behaviour_battery.csv",
    "bdnf_igf1_crossover.csv",
    "truth.json",
)

_GENERATOR = "bayes_igf1.simulate.write_study_data"
_RESERVED = ("mouse", "cohort", "value", "censored")


# --------------------------------------------------------------------------- helpers


def _check_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise DesignError(f"seed must be a non-negative integer, got {seed!r}.")
    return int(seed)


def _child_seeds(seed: int, k: int) -> list[int]:
    """Derive ``k`` independent integer seeds from ``seed`` (deterministic)."""
    children = np.random.SeedSequence(_check_seed(seed)).spawn(k)
    return [int(child.generate_state(1, dtype=np.uint64)[0]) for child in children]


def _time_key(t: float) -> str:
    """JSON key of a time point: ``"1"`` for whole numbers, else the float's repr."""
    return str(int(t)) if float(t).is_integer() else repr(float(t))


def _cell_key(*levels: str) -> str:
    return "|".join(levels)


def _finite(name: str, value: Any, *, positive: bool = False, nonneg: bool = False) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise DesignError(f"{name} must be a number, got {value!r}.") from None
    if not math.isfinite(x):
        raise DesignError(f"{name} must be finite, got {value!r}.")
    if positive and x <= 0:
        raise DesignError(f"{name} must be > 0, got {value!r}.")
    if nonneg and x < 0:
        raise DesignError(f"{name} must be >= 0, got {value!r}.")
    return x


def _count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise DesignError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)


def _ids(prefix: str, n: int) -> list[str]:
    width = max(2, len(str(n)))
    return [f"{prefix}{i:0{width}d}" for i in range(1, n + 1)]


def _tenths(x: Any) -> np.ndarray:
    """Round to tenths and return integer tenths (round half to even, platform independent)."""
    return np.rint(np.asarray(x, dtype=float) * 10.0).astype(np.int64)


def _fmt_tenths(q: int) -> str:
    """Format integer tenths as a decimal with one digit, exactly (no float arithmetic)."""
    q = int(q)
    sign = "-" if q < 0 else ""
    q = abs(q)
    return f"{sign}{q // 10}.{q % 10}"


def _fmt_column(x: Any) -> list[str]:
    return [_fmt_tenths(q) for q in _tenths(x)]


def _jsonable(obj: Any) -> Any:
    """Convert to JSON types, rounding floats to 6 decimals (no ``-0.0``, NaN -> null)."""
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, np.ndarray)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        if not math.isfinite(x):
            return None
        x = round(x, 6)
        return 0.0 if x == 0 else x
    return obj


# --------------------------------------------------------------------------- time course


def simulate_timecourse(
    *,
    n_per_group: int | Mapping[str, int],
    groups: Sequence[str] = ("saline", "ketamine 10", "ketamine 30"),
    times: Sequence[float] = (-2, -1, 1, 2, 3, 4, 5, 6),
    baseline_log_mean: float,
    animal_sd: float,
    residual_sd: float,
    residual_nu: float | None,
    effects: Mapping[str, Sequence[float]],
    lloq: float | None = None,
    p_lost: float = 0.0,
    seed: int,
) -> tuple[pd.DataFrame, dict]:
    """Simulate a microdialysis time course (one row per animal and fraction).

    Model, on the log scale: ``log y[i, t] = baseline_log_mean + a[i] + effect[g(i), t] + e[i, t]``
    with ``a[i] ~ Normal(0, animal_sd)`` (probe recovery), ``effect = 0`` at baseline
    times (``t <= 0``) and ``e = residual_sd * StudentT(residual_nu)`` (``Normal`` when
    ``residual_nu`` is None; ``residual_sd`` is the scale, not the SD, of the t).

    Parameters
    ----------
    n_per_group : int or mapping of str to int
        Animals per group (one number for all, or per group).
    groups : sequence of str
        Group labels; the first is the reference.
    times : sequence of float
        Fraction times (h); ``t <= 0`` are baseline fractions, at least one is required.
    baseline_log_mean : float
        Mean log concentration at baseline (``exp`` of it is the median animal's baseline).
    animal_sd : float
        SD of the animal intercepts (log scale).
    residual_sd : float
        Scale of the residuals (log scale).
    residual_nu : float or None
        Degrees of freedom of the Student-t residuals; None for normal residuals.
    effects : mapping of str to sequence of float
        For every group (reference included), the log-scale effect at each post-injection
        time (``t > 0``, in the order of ``times``), relative to that group's baseline.
    lloq : float, optional
        Lower limit of quantification: values below it are censored.
    p_lost : float
        Probability that a fraction is lost (row kept, value missing).
    seed : int
        Seed of the random generator.

    Returns
    -------
    data : pandas.DataFrame
        Columns ``mouse, treatment, hour, igf1_pg_ml, censored``. Lost fractions have
        ``igf1_pg_ml`` NaN; censored ones (``censored`` True) hold the limit ``lloq``.
    truth : dict
        Parameters, realised animal effects, counts, and the true estimands:
        ``pct_of_baseline[g][t] = 100 * exp(effect[g, t])``,
        ``log_ratio_vs_reference[g][t] = effect[g, t] - effect[ref, t]`` and
        ``pct_change_vs_reference[g][t] = 100 * (exp(log_ratio) - 1)`` for non-reference
        groups; time keys are strings (``"1"``).
    """
    seed = _check_seed(seed)
    groups = [str(g) for g in groups]
    if not groups or len(set(groups)) != len(groups):
        raise DesignError(f"groups must be non-empty and unique, got {groups!r}.")
    times_f = [_finite("times", t) for t in times]
    if not times_f or len(set(times_f)) != len(times_f):
        raise DesignError(f"times must be non-empty and unique, got {list(times)!r}.")
    post = [t for t in times_f if t > 0]
    if len(post) == len(times_f) or not post:
        raise DesignError(
            "times need at least one baseline fraction (t <= 0) and one after injection "
            f"(t > 0), got {list(times)!r}."
        )
    if isinstance(n_per_group, Mapping):
        if set(map(str, n_per_group)) != set(groups):
            raise DesignError(
                f"n_per_group keys {sorted(map(str, n_per_group))} must equal groups {groups}."
            )
        ns = {g: _count(f"n_per_group[{g!r}]", n_per_group[g]) for g in groups}
    else:
        n = _count("n_per_group", n_per_group)
        ns = {g: n for g in groups}
    mu0 = _finite("baseline_log_mean", baseline_log_mean)
    sd_a = _finite("animal_sd", animal_sd, nonneg=True)
    sd_e = _finite("residual_sd", residual_sd, positive=True)
    nu = None if residual_nu is None else _finite("residual_nu", residual_nu, positive=True)
    if set(map(str, effects)) != set(groups):
        raise DesignError(
            "effects must give every group (reference included): "
            f"keys {sorted(map(str, effects))}, groups {groups}."
        )
    eff: dict[str, np.ndarray] = {}
    for g in groups:
        e = np.asarray([_finite(f"effects[{g!r}]", v) for v in effects[g]], dtype=float)
        if e.shape != (len(post),):
            raise DesignError(
                f"effects[{g!r}] needs one value per post-injection time {post}, got {len(e)}."
            )
        eff[g] = e
    limit = None if lloq is None else _finite("lloq", lloq, positive=True)
    p_lost = _finite("p_lost", p_lost, nonneg=True)
    if p_lost >= 1:
        raise DesignError(f"p_lost must be in [0, 1), got {p_lost!r}.")

    s_animal, s_resid, s_lost = _child_seeds(seed, 3)
    n_total = sum(ns.values())
    mice = _ids("M", n_total)
    mouse_group = [g for g in groups for _ in range(ns[g])]
    n_t = len(times_f)

    a = np.random.default_rng(s_animal).normal(0.0, sd_a, size=n_total)
    post_index = {t: k for k, t in enumerate(post)}
    effect_matrix = np.zeros((n_total, n_t))
    for i, g in enumerate(mouse_group):
        for j, t in enumerate(times_f):
            if t > 0:
                effect_matrix[i, j] = eff[g][post_index[t]]
    rng_e = np.random.default_rng(s_resid)
    if nu is None:
        z = rng_e.standard_normal(size=(n_total, n_t))
    else:
        z = rng_e.standard_t(nu, size=(n_total, n_t))
    y = np.exp(mu0 + a[:, None] + effect_matrix + sd_e * z)
    if p_lost > 0:
        lost = np.random.default_rng(s_lost).random(size=(n_total, n_t)) < p_lost
    else:
        lost = np.zeros((n_total, n_t), dtype=bool)
    censored = ~lost & (y < limit) if limit is not None else np.zeros_like(lost)
    value = np.where(lost, np.nan, np.where(censored, limit if limit is not None else 0.0, y))

    whole = all(t.is_integer() for t in times_f)
    hours = np.asarray(times_f, dtype=float)
    data = pd.DataFrame(
        {
            "mouse": np.repeat(mice, n_t),
            "treatment": np.repeat(mouse_group, n_t),
            "hour": np.tile(hours.astype(np.int64) if whole else hours, n_total),
            "igf1_pg_ml": value.ravel(),
            "censored": censored.ravel(),
        }
    )

    ref = groups[0]
    tk = [_time_key(t) for t in post]
    truth = {
        "design": "timecourse",
        "seed": seed,
        "groups": groups,
        "reference": ref,
        "times": [float(t) for t in times_f],
        "post_times": [float(t) for t in post],
        "n_per_group": ns,
        "baseline_log_mean": mu0,
        "baseline_median": math.exp(mu0),
        "animal_sd": sd_a,
        "residual_sd": sd_e,
        "residual_nu": nu,
        "lloq": limit,
        "p_lost": p_lost,
        "n_lost": int(lost.sum()),
        "n_censored": int(censored.sum()),
        "animal_effects": dict(zip(mice, a.tolist(), strict=True)),
        "effects": {g: dict(zip(tk, eff[g].tolist(), strict=True)) for g in groups},
        "pct_of_baseline": {
            g: {k: 100.0 * math.exp(v) for k, v in zip(tk, eff[g], strict=True)} for g in groups
        },
        "log_ratio_vs_reference": {
            g: {k: float(v) for k, v in zip(tk, eff[g] - eff[ref], strict=True)}
            for g in groups[1:]
        },
        "pct_change_vs_reference": {
            g: {k: 100.0 * math.expm1(v) for k, v in zip(tk, eff[g] - eff[ref], strict=True)}
            for g in groups[1:]
        },
    }
    return data, truth


# --------------------------------------------------------------------------- factorial


def _cell_tuple(key: Any, k: int, what: str, names: Sequence[str]) -> tuple[str, ...]:
    """A cell key as a tuple of k level names: a tuple, or the text ``"a|b|c"``."""
    if isinstance(key, str):
        parts = tuple(p.strip() for p in key.split("|"))
    elif isinstance(key, tuple):
        parts = tuple(str(p) for p in key)
    else:
        parts = ()
    if len(parts) != k or not all(parts):
        example = "|".join(f"<{n}>" for n in names) if names else "()"
        raise DesignError(
            f"{what} key {key!r} must give one level of each of the {k} factor(s) {list(names)}, as a tuple "
            f"or as the text {example!r}."
        )
    return parts


def _levels(keys: Sequence[tuple[str, ...]], k: int) -> list[list[str]]:
    """The levels of each of the k factors, in the order they first appear in ``keys``."""
    levels: list[list[str]] = [[] for _ in range(k)]
    for key in keys:
        for f, lv in enumerate(key):
            if lv not in levels[f]:
                levels[f].append(lv)
    return levels


def _with(cell: Sequence[str], f: int, level: str) -> tuple[str, ...]:
    """``cell`` with factor ``f`` set to ``level``."""
    out = list(cell)
    out[f] = level
    return tuple(out)


def _contrast(mu: Mapping[tuple[str, ...], float], cell: tuple[str, ...], factors: Sequence[int],
              refs: Sequence[str]) -> float:
    """Alternating sum over the 2^len(factors) cells: ``cell``'s levels vs the references of ``factors``.

    The last factor is peeled first, so for A x B this is ``(mu[a, b] - mu[a0, b]) - (mu[a, b0]
    - mu[a0, b0])``, the same floating-point operations as the two-factor formula.
    """
    if not factors:
        return mu[cell]
    f, rest = factors[-1], factors[:-1]
    return _contrast(mu, cell, rest, refs) - _contrast(mu, _with(cell, f, refs[f]), rest, refs)


def _factorial_estimands(
    mu: Mapping[tuple[str, ...], float],
    levels: Sequence[Sequence[str]],
    factor_names: Sequence[str],
    blocker: str | None = None,
) -> dict:
    """Simple effects, interaction contrasts and % blockade on the scale of ``mu``.

    Keys of the inner dicts are the levels of the other factors (``"b"`` for A x B, ``"b|c"``
    with three factors). The % blockade is of each other factor's effect by ``blocker`` (the
    last factor by default): flat ``{"a - a0": {b: pct}}`` for two factors, nested by the
    treated factor for more. With three or more factors, ``simple_interactions`` holds every
    lower-order interaction within each combination of the remaining factors' levels.
    """
    names = [str(f) for f in factor_names]
    k = len(names)
    refs = [lv[0] for lv in levels]
    cells = list(itertools.product(*levels))
    blk = names.index(blocker) if blocker is not None else k - 1

    def others_of(group: Sequence[int]) -> list[int]:
        return [g for g in range(k) if g not in group]

    def full(fixed: Mapping[int, str]) -> tuple[str, ...]:
        return tuple(fixed[g] for g in range(k))

    simple: dict[str, dict] = {}
    for f, name in enumerate(names):
        others = others_of([f])
        simple[name] = {
            f"{lv} - {refs[f]}": {
                "|".join(oc): mu[full({f: lv, **dict(zip(others, oc, strict=True))})]
                - mu[full({f: refs[f], **dict(zip(others, oc, strict=True))})]
                for oc in itertools.product(*(levels[g] for g in others))
            }
            for lv in levels[f][1:]
        }
    top = list(range(k))
    interaction = {
        " x ".join(f"({cell[f]} - {refs[f]})" for f in top): _contrast(mu, cell, top, refs)
        for cell in itertools.product(*(lv[1:] for lv in levels))
    }
    blockade: dict[str, Any] = {}
    for t in range(k):
        if t == blk:
            continue
        rest = others_of([t, blk])
        per: dict[str, dict[str, float | None]] = {}
        for lv in levels[t][1:]:
            at: dict[str, float | None] = {}
            for oc in itertools.product(*(levels[g] for g in rest)):
                fixed = dict(zip(rest, oc, strict=True))
                control = mu[full({**fixed, t: lv, blk: refs[blk]})] - mu[full({**fixed, t: refs[t], blk: refs[blk]})]
                for b in levels[blk][1:]:
                    under = {**fixed, blk: b}
                    label = "|".join(under[g] for g in sorted(under))
                    effect = mu[full({**under, t: lv})] - mu[full({**under, t: refs[t]})]
                    at[label] = None if control == 0 else 100.0 * (1.0 - effect / control)
            per[f"{lv} - {refs[t]}"] = at
        if k == 2:
            blockade.update(per)
        else:
            blockade[names[t]] = per
    marginal = {name: {lv: float(np.mean([mu[c] for c in cells if c[f] == lv])) for lv in levels[f]}
                for f, name in enumerate(names)}
    out: dict[str, Any] = {
        "simple_effects": simple,
        "interaction": interaction,
        "pct_blockade": blockade,
        "marginal_means": marginal,
        "main_effects": {
            name: {f"{lv} - {refs[f]}": marginal[name][lv] - marginal[name][refs[f]] for lv in levels[f][1:]}
            for f, name in enumerate(names)
        },
    }
    if k >= 3:
        lower: dict[str, dict] = {}
        for r in range(2, k):
            for group in itertools.combinations(range(k), r):
                rest = others_of(group)
                lower[":".join(names[g] for g in group)] = {
                    " x ".join(f"({lv} - {refs[g]})" for g, lv in zip(group, gl, strict=True)): {
                        "|".join(oc): _contrast(
                            mu, full({**dict(zip(group, gl, strict=True)), **dict(zip(rest, oc, strict=True))}),
                            list(group), refs)
                        for oc in itertools.product(*(levels[g] for g in rest))
                    }
                    for gl in itertools.product(*(levels[g][1:] for g in group))
                }
        out["simple_interactions"] = lower
    return out


def simulate_factorial(
    *,
    cell_means: Mapping[tuple[str, ...] | str, float],
    n_per_cell: int | Mapping[tuple[str, ...] | str, int],
    residual_sd: float,
    factor_names: Sequence[str],
    within: Sequence[str] = (),
    animal_sd: float = 0.0,
    blocker: str | None = None,
    family: str = "normal",
    cohorts: int | None = None,
    cohort_sd: float = 0.0,
    censor_at: float | None = None,
    bounds: tuple[float, float] | None = None,
    seed: int,
) -> tuple[pd.DataFrame, dict]:
    """Simulate a factorial design: k >= 2 factors, between animals or within (one row per observation).

    ``family="normal"``: ``y = cell_mean + cohort + animal + e``, ``e ~ Normal(0, residual_sd)``.
    ``family="lognormal"``: ``log y = log(cell_mean) + cohort + animal + e``; the cell means are
    then medians and the SDs are on the log scale. ``animal ~ Normal(0, animal_sd)`` is the
    animal's random intercept, present only with ``within`` factors (each animal then gives
    one row at every combination of the within levels). Values are clipped to ``bounds`` and
    then right-censored at ``censor_at`` (in that order).

    Parameters
    ----------
    cell_means : mapping of tuple of str (or "a|b|c" text) to float
        Mean (normal) or median (lognormal) of every cell: a tuple of one level per factor in
        the order of ``factor_names``, or the levels joined by "|"; all combinations are
        required. The first level of each factor (in the mapping's order) is its reference.
    n_per_cell : int or mapping
        Animals per between-animal cell (without ``within``: per cell); a mapping is keyed
        like ``cell_means`` by the levels of the between factors only.
    residual_sd : float
        Residual SD (log scale for lognormal).
    factor_names : sequence of str
        Column names of the k >= 2 factors, e.g. ``("treatment", "antibody")`` or
        ``("sex", "treatment", "antibody")``.
    within : sequence of str
        The factors (among ``factor_names``) that vary within an animal (crossover, test day).
    animal_sd : float
        SD of the animal intercepts (only with ``within``).
    blocker : str, optional
        The factor whose non-reference levels block the others' effects in the truth's
        ``pct_blockade`` (default: the last factor).
    family : {"normal", "lognormal"}
        Outcome distribution.
    cohorts : int, optional
        Number of cohorts (blocks); the animals of each between cell are spread over the
        cohorts in turn. None for no ``cohort`` column.
    cohort_sd : float
        SD of the fixed cohort effects; they are drawn once and centred to sum to zero, so
        the cell means stay the truth.
    censor_at : float, optional
        Right-censoring cut-off: values at or above it are recorded as ``censor_at`` with
        ``censored`` True (e.g. a 600 s latency cut-off).
    bounds : tuple of float, optional
        ``(low, high)`` range of possible values; values outside are clipped.
    seed : int
        Seed of the random generator.

    Returns
    -------
    data : pandas.DataFrame
        Columns ``mouse, [cohort,] <factors...>, value, censored``; ids ``M01``... by animal,
        rows by cohort, then between cell, then animal, then within cell.
    truth : dict
        Parameters, realised cohort (and animal) effects, counts, and the true estimands on
        the model scale (``"identity"`` or ``"log"``): ``cell_means``, ``simple_effects``,
        ``interaction`` (the highest-order contrast of every 2 x ... x 2 sub-table against the
        references, for A x B the difference of differences), ``pct_blockade``
        ``= 100 * (1 - effect under a blocker level / effect under the blocker's reference)``,
        marginal means and main effects (+ ``simple_interactions`` with three or more
        factors). Cell keys are ``"a|b"`` / ``"a|b|c"``.
    """
    seed = _check_seed(seed)
    names_ok = (
        isinstance(factor_names, (tuple, list))
        and len(factor_names) >= 2
        and all(isinstance(f, str) and f for f in factor_names)
        and len(set(factor_names)) == len(factor_names)
        and not any(f in _RESERVED for f in factor_names)
    )
    if not names_ok:
        raise DesignError(
            f"factor_names must be two or more distinct non-empty names other than {_RESERVED}, "
            f"got {factor_names!r}."
        )
    names = [str(f) for f in factor_names]
    k_f = len(names)
    if isinstance(within, str):
        within = (within,)
    within = tuple(str(w) for w in within)
    if len(set(within)) != len(within) or any(w not in names for w in within):
        raise DesignError(f"within must name distinct factors among {names}, got {list(within)!r}.")
    sd_a = _finite("animal_sd", animal_sd, nonneg=True)
    if sd_a > 0 and not within:
        raise DesignError(
            "animal_sd needs within factors (an animal has one row otherwise, and its intercept is "
            "part of the residual). Fix: give within=[...] or animal_sd=0."
        )
    if blocker is not None and blocker not in names:
        raise DesignError(f"blocker must be one of the factors {names}, got {blocker!r}.")
    if family not in ("normal", "lognormal"):
        raise DesignError(f"family must be 'normal' or 'lognormal', got {family!r}.")
    if not isinstance(cell_means, Mapping) or not cell_means:
        raise DesignError("cell_means must map every cell to its mean.")
    keys = [_cell_tuple(key, k_f, "cell_means", names) for key in cell_means]
    levels = _levels(keys, k_f)
    cells = list(itertools.product(*levels))
    if any(len(lv) < 2 for lv in levels) or set(keys) != set(cells) or len(keys) != len(cells):
        raise DesignError(
            "cell_means must give every combination of at least two levels of each factor once, "
            f"got {keys}."
        )
    means = {
        key: _finite(f"cell_means[{raw!r}]", v, positive=family == "lognormal")
        for key, (raw, v) in zip(keys, cell_means.items(), strict=True)
    }
    b_idx = [i for i, f in enumerate(names) if f not in within]
    w_idx = [i for i, f in enumerate(names) if f in within]
    b_names = [names[i] for i in b_idx]
    between_cells = list(itertools.product(*(levels[i] for i in b_idx)))
    within_cells = list(itertools.product(*(levels[i] for i in w_idx)))
    if isinstance(n_per_cell, Mapping):
        if not b_idx:
            raise DesignError("with every factor within animals, n_per_cell is one number (the animals).")
        nkeys = [_cell_tuple(key, len(b_idx), "n_per_cell", b_names) for key in n_per_cell]
        if set(nkeys) != set(between_cells) or len(nkeys) != len(between_cells):
            raise DesignError(
                f"n_per_cell keys must be the {'between-animal ' if within else ''}cells {between_cells}, "
                f"got {sorted(nkeys)}."
            )
        ns = {
            key: _count(f"n_per_cell[{raw!r}]", v)
            for key, (raw, v) in zip(nkeys, n_per_cell.items(), strict=True)
        }
    else:
        n = _count("n_per_cell", n_per_cell)
        ns = {c: n for c in between_cells}
    sd_e = _finite("residual_sd", residual_sd, positive=True)
    k = 1 if cohorts is None else _count("cohorts", cohorts)
    sd_c = _finite("cohort_sd", cohort_sd, nonneg=True)
    cut = None
    if censor_at is not None:
        cut = _finite("censor_at", censor_at, positive=family == "lognormal")
    if bounds is not None:
        lo, hi = (_finite("bounds", v) for v in bounds)
        if not lo < hi:
            raise DesignError(f"bounds must be (low, high) with low < high, got {bounds!r}.")

    seeds = _child_seeds(seed, 3 if within else 2)  # spawn children do not depend on how many
    s_cohort, s_resid = seeds[0], seeds[1]
    raw = np.random.default_rng(s_cohort).normal(0.0, sd_c, size=k)
    cohort_eff = raw - raw.mean() if cohorts is not None and k > 1 else np.zeros(k)

    def merge(bc: tuple[str, ...], wc: tuple[str, ...]) -> tuple[str, ...]:
        cell = [""] * k_f
        for i, lv in zip(b_idx, bc, strict=True):
            cell[i] = lv
        for i, lv in zip(w_idx, wc, strict=True):
            cell[i] = lv
        return tuple(cell)

    rows_cell: list[tuple[str, ...]] = []
    rows_cohort: list[int] = []
    rows_animal: list[int] = []
    animal_cohort: list[int] = []
    for c in range(k):
        for bc in between_cells:
            m = sum(1 for j in range(ns[bc]) if j % k == c)
            for _ in range(m):
                animal = len(animal_cohort)
                animal_cohort.append(c)
                for wc in within_cells:
                    rows_cell.append(merge(bc, wc))
                    rows_cohort.append(c + 1)
                    rows_animal.append(animal)
    n_total = len(rows_cell)
    n_animals = len(animal_cohort)
    cohort_idx = np.asarray(rows_cohort) - 1
    loc = np.asarray(
        [means[c] if family == "normal" else math.log(means[c]) for c in rows_cell], dtype=float
    ) + cohort_eff[cohort_idx]
    mice = _ids("M", n_animals)
    if within:
        a = np.random.default_rng(seeds[2]).normal(0.0, sd_a, size=n_animals)
        loc = loc + a[np.asarray(rows_animal, dtype=np.int64)]
    eta = loc + sd_e * np.random.default_rng(s_resid).standard_normal(n_total)
    y = eta if family == "normal" else np.exp(eta)
    n_clipped = 0
    if bounds is not None:
        n_clipped = int(((y < lo) | (y > hi)).sum())
        y = np.clip(y, lo, hi)
    censored = np.zeros(n_total, dtype=bool) if cut is None else y >= cut
    if cut is not None:
        y = np.where(censored, cut, y)

    columns: dict[str, Any] = {"mouse": [mice[j] for j in rows_animal]}
    if cohorts is not None:
        columns["cohort"] = np.asarray(rows_cohort, dtype=np.int64)
    for f, name in enumerate(names):
        columns[name] = [c[f] for c in rows_cell]
    columns["value"] = y
    columns["censored"] = censored
    data = pd.DataFrame(columns)

    scale = "identity" if family == "normal" else "log"
    mu = {c: (means[c] if family == "normal" else math.log(means[c])) for c in cells}
    per_cell = {c: ns[tuple(c[i] for i in b_idx)] for c in cells}
    truth: dict[str, Any] = {
        "design": "factorial",
        "seed": seed,
        "family": family,
        "scale": scale,
        "factor_names": names,
        "levels": {name: levels[f] for f, name in enumerate(names)},
        "reference": {name: levels[f][0] for f, name in enumerate(names)},
        "n_per_cell": {_cell_key(*c): per_cell[c] for c in cells},
        "residual_sd": sd_e,
        "cohorts": cohorts,
        "cohort_sd": sd_c,
        "cohort_effects": {str(c + 1): float(cohort_eff[c]) for c in range(k)} if cohorts else {},
        "censor_at": cut,
        "bounds": None if bounds is None else [lo, hi],
        "n_censored": int(censored.sum()),
        "n_clipped": n_clipped,
        "cell_means": {_cell_key(*c): means[c] for c in cells},
    }
    if within:
        truth["within"] = list(within)
        truth["animal_sd"] = sd_a
        truth["n_animals"] = n_animals
        truth["animal_effects"] = dict(zip(mice, a.tolist(), strict=True))
    if blocker is not None or k_f > 2:
        truth["blocker"] = blocker if blocker is not None else names[-1]
    if family == "lognormal":
        truth["cell_log_means"] = {_cell_key(*c): mu[c] for c in cells}
    truth.update(_factorial_estimands(mu, levels, names, blocker))
    if family == "lognormal":
        truth["simple_effect_ratios"] = {
            f: {d: {lv: math.exp(v) for lv, v in at.items()} for d, at in eff.items()}
            for f, eff in truth["simple_effects"].items()
        }
    return data, truth


# --------------------------------------------------------------------------- shipped study

_TC_PCT_OF_BASELINE = {  # true % of baseline at hours 1..6 (geometric means)
    "saline": (103.0, 100.0, 98.0, 97.0, 99.0, 96.0),
    "ketamine 10": (145.0, 165.0, 160.0, 150.0, 140.0, 120.0),
    "ketamine 30": (190.0, 215.0, 220.0, 210.0, 200.0, 185.0),
}
_TC_N = {"saline": 7, "ketamine 10": 8, "ketamine 30": 6}
_TC_N_LOST = 3

_FST_MEANS = {
    ("saline", "IgG"): 150.0,
    ("saline", "IGF-1 nAb"): 153.0,
    ("ketamine", "IgG"): 90.0,
    ("ketamine", "IGF-1 nAb"): 146.0,
}
_FST_N = {
    ("saline", "IgG"): 10,
    ("saline", "IGF-1 nAb"): 9,
    ("ketamine", "IgG"): 11,
    ("ketamine", "IGF-1 nAb"): 8,
}
_BATTERY_N = {
    ("saline", "IgG"): 9,
    ("saline", "IGF-1 nAb"): 10,
    ("ketamine", "IgG"): 8,
    ("ketamine", "IGF-1 nAb"): 11,
}
_FUST_MEANS = {
    ("saline", "IgG"): 25.0,
    ("saline", "IGF-1 nAb"): 24.0,
    ("ketamine", "IgG"): 45.0,
    ("ketamine", "IGF-1 nAb"): 27.0,
}
_NSFT_MEDIANS = {
    ("saline", "IgG"): 360.0,
    ("saline", "IGF-1 nAb"): 370.0,
    ("ketamine", "IgG"): 180.0,
    ("ketamine", "IGF-1 nAb"): 345.0,
}
_BATTERY_OUTCOMES = ("fst_immobility_s", "fust_sniffing_s", "nsft_latency_s")
_CROSS = {
    "BDNF x IGF-1 nAb": {
        "means": {
            ("vehicle", "IgG"): 148.0,
            ("vehicle", "IGF-1 nAb"): 151.0,
            ("BDNF", "IgG"): 98.0,
            ("BDNF", "IGF-1 nAb"): 101.0,
        },
        "n": {
            ("vehicle", "IgG"): 9,
            ("vehicle", "IGF-1 nAb"): 8,
            ("BDNF", "IgG"): 10,
            ("BDNF", "IGF-1 nAb"): 9,
        },
    },
    "IGF-1 x BDNF nAb": {
        "means": {
            ("vehicle", "IgG"): 152.0,
            ("vehicle", "BDNF nAb"): 154.0,
            ("IGF-1", "IgG"): 102.0,
            ("IGF-1", "BDNF nAb"): 104.0,
        },
        "n": {
            ("vehicle", "IgG"): 10,
            ("vehicle", "BDNF nAb"): 9,
            ("IGF-1", "IgG"): 8,
            ("IGF-1", "BDNF nAb"): 10,
        },
    },
}
# Share of the last-4-min immobility falling in minutes 3, 4, 5, 6 (immobility rises over
# the test), the Dirichlet concentration of the per-mouse split, and minutes 1-2 as a
# fraction of the mouse's mean minute-3..6 immobility (+ normal noise, s).
_MINUTE_PROFILE = (0.22, 0.245, 0.26, 0.275)
_MINUTE_CONCENTRATION = 150.0
_EARLY_MINUTES = {"1": {"fraction": 0.15, "sd": 3.0}, "2": {"fraction": 0.5, "sd": 5.0}}


def _allocate(total: int, weights: np.ndarray, cap: int) -> np.ndarray:
    """Split an integer total over bins in proportion to weights, each bin at most ``cap``."""
    if not 0 <= total <= cap * len(weights):
        raise ValueError(f"cannot split {total} over {len(weights)} bins of at most {cap}")
    alloc = np.zeros(len(weights))
    free = np.ones(len(weights), dtype=bool)
    remaining = float(total)
    while free.any():
        share = remaining * weights[free] / weights[free].sum()
        over = share > cap
        if not over.any():
            alloc[free] = share
            break
        idx = np.flatnonzero(free)[over]
        alloc[idx] = cap
        remaining -= cap * len(idx)
        free[idx] = False
    out = np.minimum(np.floor(alloc).astype(np.int64), cap)
    left = int(total - out.sum())
    for i in np.argsort(-(alloc - np.floor(alloc)), kind="stable"):
        if left <= 0:
            break
        if out[i] < cap:
            out[i] += 1
            left -= 1
    i = 0
    while left > 0:  # only when rounding put every remaining unit on capped bins
        if out[i] < cap:
            out[i] += 1
            left -= 1
        i = (i + 1) % len(out)
    return out


def _minutes(totals_tenths: np.ndarray, seed: int) -> np.ndarray:
    """Per-minute immobility (tenths of s, minutes 1..6) whose minutes 3..6 sum to the totals."""
    rng = np.random.default_rng(seed)
    profile = np.asarray(_MINUTE_PROFILE)
    out = np.zeros((len(totals_tenths), 6), dtype=np.int64)
    for i, total in enumerate(totals_tenths):
        w = rng.dirichlet(_MINUTE_CONCENTRATION * profile)
        out[i, 2:] = _allocate(int(total), w, 600)
        per_minute = total / 10.0 / 4.0
        for j, key in enumerate(("1", "2")):
            spec = _EARLY_MINUTES[key]
            x = spec["fraction"] * per_minute + rng.normal(0.0, spec["sd"])
            out[i, j] = int(np.clip(_tenths(x), 0, 600))
    return out


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")


def _relabel(frame: pd.DataFrame, prefix: str) -> pd.DataFrame:
    frame = frame.copy()
    frame["mouse"] = _ids(prefix, len(frame))
    return frame


# Acceptance rules of the shipped realisations (qualitative, on sample point estimates; no
# p-values). Each file draws attempt 0, 1, 2, ... (sub-seeds SeedSequence(file seed,
# spawn_key=(attempt,))) and ships the first attempt whose sample shows the study's findings
# and meets the design's counts. truth.json records the attempt and the sample figures.
_MAX_ATTEMPTS = 200
_RULES = {
    "microdialysis_igf1.csv": (
        "2 to 5 values below the LLOQ; sample geometric-mean change vs saline (log values, "
        "LLOQ substituted, lost fractions dropped, each mouse relative to its mean baseline) "
        ">= +15% for ketamine 10 at 1-5 h and for ketamine 30 at 1-6 h; ketamine 30 above "
        "ketamine 10 on average over 1-6 h"
    ),
    "fst_igf1_nab.csv": (
        "sample ketamine effect under IgG <= -30 s and sample % blockade by the IGF-1 nAb >= 50%"
    ),
    "behaviour_battery.csv": (
        "FST: ketamine effect under IgG <= -30 s; FUST: >= +10 s; NSFT (mean log latency, 600 s "
        "for censored): <= log(0.75); sample % blockade >= 50% in all three; 4 to 10 censored "
        "NSFT latencies"
    ),
    "bdnf_igf1_crossover.csv": (
        "in each experiment the sample infusion effect is <= -25 s under both antibodies and "
        "the sample % blockade lies within [-50%, 50%]"
    ),
}


def _attempt_seeds(file_seed: int, attempt: int, k: int) -> list[int]:
    children = np.random.SeedSequence(file_seed, spawn_key=(attempt,)).spawn(k)
    return [int(child.generate_state(1, dtype=np.uint64)[0]) for child in children]


def _factorial_sample(
    frame: pd.DataFrame, values: np.ndarray, factor_names: tuple[str, str], *, log: bool = False
) -> dict:
    """Sample cell means, effect of A's second level under each B level and % blockade."""
    fa, fb = factor_names
    y = np.log(values) if log else np.asarray(values, dtype=float)
    a_levels = list(dict.fromkeys(frame[fa]))
    b_levels = list(dict.fromkeys(frame[fb]))
    m = {
        (a, b): float(y[((frame[fa] == a) & (frame[fb] == b)).to_numpy()].mean())
        for a in a_levels
        for b in b_levels
    }
    a0, a1 = a_levels[0], a_levels[1]
    effect = {b: m[(a1, b)] - m[(a0, b)] for b in b_levels}
    control = effect[b_levels[0]]
    blockade = 100.0 * (1.0 - effect[b_levels[1]] / control) if control != 0 else float("nan")
    return {
        "scale": "log" if log else "identity",
        "cell_means": {_cell_key(*c): v for c, v in m.items()},
        "effect": {b: v for b, v in effect.items()},
        "pct_blockade": blockade,
    }


def _timecourse_attempt(seeds: Sequence[int]) -> tuple[dict, dict, dict, bool]:
    groups = tuple(_TC_PCT_OF_BASELINE)
    effects = {g: [math.log(p / 100.0) for p in pct] for g, pct in _TC_PCT_OF_BASELINE.items()}
    data, truth = simulate_timecourse(
        n_per_group=_TC_N,
        groups=groups,
        times=(-2, -1, 1, 2, 3, 4, 5, 6),
        baseline_log_mean=math.log(18.0),
        animal_sd=0.4,
        residual_sd=0.13,
        residual_nu=5.0,
        effects=effects,
        lloq=LLOQ_PG_ML,
        p_lost=0.0,
        seed=seeds[0],
    )
    cens = data["censored"].to_numpy()
    candidates = np.flatnonzero(~cens)
    lost_rows = np.sort(
        np.random.default_rng(seeds[1]).choice(candidates, _TC_N_LOST, replace=False)
    )
    lost = np.zeros(len(data), dtype=bool)
    lost[lost_rows] = True
    tenths = _tenths(data["igf1_pg_ml"].fillna(0.0))
    text: list[str] = []
    forms = (f"<{LLOQ_PG_ML:.1f}", "<LLOQ")
    n_cens = 0
    for q, is_lost, is_cens in zip(tenths, lost, cens, strict=True):
        if is_lost:
            text.append("")
        elif is_cens:
            text.append(forms[n_cens % 2])
            n_cens += 1
        else:
            text.append(_fmt_tenths(q))
    out = data[["mouse", "treatment", "hour"]].copy()
    out["igf1_pg_ml"] = text

    # Sample figures, from the values as written (LLOQ substituted, lost dropped).
    y = np.where(lost, np.nan, np.where(cens, LLOQ_PG_ML, tenths / 10.0))
    frame = data[["mouse", "treatment", "hour"]].assign(ly=np.log(y))
    base = frame[frame["hour"] < 0].groupby("mouse", sort=False)["ly"].mean()
    frame["lr"] = frame["ly"] - frame["mouse"].map(base)
    post = frame[frame["hour"] > 0]
    gm = post.groupby(["treatment", "hour"], sort=False)["lr"].mean()
    ref = groups[0]
    hours = sorted(post["hour"].unique())
    pct = {
        g: {_time_key(t): 100.0 * math.expm1(gm[(g, t)] - gm[(ref, t)]) for t in hours}
        for g in groups[1:]
    }
    mean_lr = {g: float(np.mean([gm[(g, t)] for t in hours])) for g in groups}
    sample = {
        "n_below_lloq": int(cens.sum()),
        "pct_change_vs_reference": pct,
        "pct_of_baseline": {
            g: {_time_key(t): 100.0 * math.exp(gm[(g, t)]) for t in hours} for g in groups
        },
    }
    ok = (
        2 <= int(cens.sum()) <= 5
        and all(pct["ketamine 10"][_time_key(t)] >= 15.0 for t in hours if t <= 5)
        and all(pct["ketamine 30"][_time_key(t)] >= 15.0 for t in hours)
        and mean_lr["ketamine 30"] > mean_lr["ketamine 10"]
    )
    truth = dict(truth)
    truth["p_lost"] = 0.0
    truth["n_lost"] = int(lost.sum())
    truth["lost_fractions"] = [
        {"mouse": data["mouse"].iat[r], "hour": int(data["hour"].iat[r])} for r in lost_rows
    ]
    truth["censored_fractions"] = [
        {"mouse": data["mouse"].iat[r], "hour": int(data["hour"].iat[r]), "text": text[r]}
        for r in np.flatnonzero(cens)
    ]
    truth["lloq_text_forms"] = list(forms)
    truth["units"] = {"igf1_pg_ml": "pg/mL", "hour": "h after injection"}
    return {"microdialysis_igf1.csv": out}, truth, sample, ok


def _fst_attempt(seeds: Sequence[int]) -> tuple[dict, dict, dict, bool]:
    data, truth = simulate_factorial(
        cell_means=_FST_MEANS,
        n_per_cell=_FST_N,
        residual_sd=30.0,
        factor_names=("treatment", "antibody"),
        family="normal",
        cohorts=3,
        cohort_sd=5.0,
        bounds=(0.0, 240.0),
        seed=seeds[0],
    )
    data = _relabel(data, "F")
    minutes = _minutes(_tenths(data["value"]), seeds[1])
    totals = minutes[:, 2:].sum(axis=1)
    ids = ["mouse", "cohort", "treatment", "antibody"]
    fst = data[ids].copy()
    fst["immobility_s"] = [_fmt_tenths(q) for q in totals]
    per_minute = data[ids].loc[data.index.repeat(6)].reset_index(drop=True)
    per_minute["minute"] = np.tile(np.arange(1, 7, dtype=np.int64), len(data))
    per_minute["immobility_s"] = [_fmt_tenths(q) for q in minutes.ravel()]
    sample = _factorial_sample(data, totals / 10.0, ("treatment", "antibody"))
    ok = sample["effect"]["IgG"] <= -30.0 and sample["pct_blockade"] >= 50.0
    truth = dict(truth)
    truth["outcome"] = "immobility_s"
    truth["units"] = {"immobility_s": "s (last 4 min of a 6-min FST)"}
    minute_truth = {
        "same_mice_as": "fst_igf1_nab.csv",
        "rule": "minutes 3..6 split the mouse's total (Dirichlet shares, each minute <= 60 s) "
        "and sum exactly to immobility_s of fst_igf1_nab.csv",
        "minute_profile": dict(zip(("3", "4", "5", "6"), _MINUTE_PROFILE, strict=True)),
        "dirichlet_concentration": _MINUTE_CONCENTRATION,
        "early_minutes": _EARLY_MINUTES,
        "expected_minute_3_to_6_before_cap": {
            cell: {m: mean * p for m, p in zip(("3", "4", "5", "6"), _MINUTE_PROFILE, strict=True)}
            for cell, mean in truth["cell_means"].items()
        },
    }
    frames = {"fst_igf1_nab.csv": fst, "fst_igf1_nab_minutes.csv": per_minute}
    return frames, {"total": truth, "minutes": minute_truth}, sample, ok


def _battery_attempt(seeds: Sequence[int]) -> tuple[dict, dict, dict, bool]:
    common: dict[str, Any] = {
        "n_per_cell": _BATTERY_N,
        "factor_names": ("treatment", "antibody"),
        "cohorts": 2,
    }
    fst, t_fst = simulate_factorial(
        cell_means=_FST_MEANS, residual_sd=30.0, family="normal", cohort_sd=5.0,
        bounds=(0.0, 240.0), seed=seeds[0], **common,
    )  # fmt: skip
    fust, t_fust = simulate_factorial(
        cell_means=_FUST_MEANS, residual_sd=10.0, family="normal", cohort_sd=2.0,
        bounds=(0.0, 180.0), seed=seeds[1], **common,
    )  # fmt: skip
    nsft, t_nsft = simulate_factorial(
        cell_means=_NSFT_MEDIANS, residual_sd=0.5, family="lognormal", cohort_sd=0.05,
        censor_at=600.0, seed=seeds[2], **common,
    )  # fmt: skip
    ids = ["mouse", "cohort", "treatment", "antibody"]
    for other in (fust, nsft):  # same mice, same design: the columns must agree
        if not other[ids].equals(fst[ids]):
            raise RuntimeError("internal error: the battery's designs differ between tests")
    out = _relabel(fst[ids], "B")
    q_fst, q_fust = _tenths(fst["value"]), _tenths(fust["value"])
    cens = nsft["censored"].to_numpy()
    q_nsft = np.where(cens, 6000, np.minimum(_tenths(nsft["value"]), 5999))
    out["fst_immobility_s"] = [_fmt_tenths(q) for q in q_fst]
    out["fust_sniffing_s"] = [_fmt_tenths(q) for q in q_fust]
    out["nsft_latency_s"] = [_fmt_tenths(q) for q in q_nsft]
    out["nsft_censored"] = cens.astype(np.int64)

    factors = ("treatment", "antibody")
    sample = {
        "fst_immobility_s": _factorial_sample(fst, q_fst / 10.0, factors),
        "fust_sniffing_s": _factorial_sample(fust, q_fust / 10.0, factors),
        "nsft_latency_s": _factorial_sample(nsft, q_nsft / 10.0, factors, log=True),
        "nsft_censored_by_cell": {
            _cell_key(a, b): int(((nsft["treatment"] == a) & (nsft["antibody"] == b) & cens).sum())
            for a, b in _NSFT_MEDIANS
        },
    }
    ok = (
        sample["fst_immobility_s"]["effect"]["IgG"] <= -30.0
        and sample["fust_sniffing_s"]["effect"]["IgG"] >= 10.0
        and sample["nsft_latency_s"]["effect"]["IgG"] <= math.log(0.75)
        and all(sample[k]["pct_blockade"] >= 50.0 for k in _BATTERY_OUTCOMES)
        and 4 <= int(cens.sum()) <= 10
    )
    for t, name, unit in (
        (t_fst, "fst_immobility_s", "s immobile in the last 4 min of a 6-min FST (day 1)"),
        (t_fust, "fust_sniffing_s", "s sniffing female urine in 3 min (day 3)"),
        (t_nsft, "nsft_latency_s", "s to feed (day 4), cut-off 600 s"),
    ):
        t["outcome"] = name
        t["units"] = {name: unit}
    truth = {"outcomes": dict(zip(_BATTERY_OUTCOMES, (t_fst, t_fust, t_nsft), strict=True))}
    return {"behaviour_battery.csv": out}, truth, sample, ok


def _crossover_attempt(seeds: Sequence[int]) -> tuple[dict, dict, dict, bool]:
    parts = []
    truth: dict[str, Any] = {}
    sample: dict[str, Any] = {}
    ok = True
    for (name, spec), s in zip(_CROSS.items(), seeds, strict=True):
        data, t = simulate_factorial(
            cell_means=spec["means"],
            n_per_cell=spec["n"],
            residual_sd=30.0,
            factor_names=("infusion", "antibody"),
            family="normal",
            bounds=(0.0, 240.0),
            seed=s,
        )
        data.insert(1, "experiment", name)
        data["q"] = _tenths(data["value"])
        parts.append(data)
        t["outcome"] = "immobility_s"
        t["units"] = {"immobility_s": "s (last 4 min of a 6-min FST)"}
        truth[name] = t
        smp = _factorial_sample(data, data["q"].to_numpy() / 10.0, ("infusion", "antibody"))
        sample[name] = smp
        ok = ok and all(v <= -25.0 for v in smp["effect"].values())
        ok = ok and -50.0 <= smp["pct_blockade"] <= 50.0
    data = _relabel(pd.concat(parts, ignore_index=True), "X")
    out = data[["mouse", "experiment", "infusion", "antibody"]].copy()
    out["immobility_s"] = [_fmt_tenths(q) for q in data["q"]]
    return {"bdnf_igf1_crossover.csv": out}, {"experiments": truth}, sample, ok


def _accepted(
    name: str, build: Any, file_seed: int, k: int
) -> tuple[dict[str, pd.DataFrame], dict]:
    """Build attempts 0, 1, ... of one file until its acceptance rule holds."""
    for attempt in range(_MAX_ATTEMPTS):
        frames, truth, sample, ok = build(_attempt_seeds(file_seed, attempt, k))
        if ok:
            truth = dict(truth)
            truth["shipped_realisation"] = {
                "attempt": attempt,
                "acceptance_rule": _RULES[name],
                "sample": sample,
            }
            return frames, truth
    raise RuntimeError(f"no realisation of {name} met its acceptance rule in {_MAX_ATTEMPTS} tries")


def write_study_data(directory: str | Path, *, seed: int = DEFAULT_SEED) -> list[Path]:
    """Write every shipped synthetic data file and ``truth.json`` (deterministic).

    Each file gets its own sub-seed from ``SeedSequence(seed).spawn``; within a file,
    realisations are drawn in turn until the sample shows the study's qualitative findings
    (a documented rule on point estimates, recorded in ``truth.json``).

    Parameters
    ----------
    directory : str or Path
        Output folder (created if missing); existing files of the same names are replaced.
    seed : int
        Master seed.

    Returns
    -------
    list of Path
        The files written, in the order of :data:`STUDY_FILES`.
    """
    seed = _check_seed(seed)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    s_tc, s_fst, s_battery, s_cross = _child_seeds(seed, 4)

    frames: dict[str, pd.DataFrame] = {}
    truths: dict[str, Any] = {}
    for name, build, file_seed, k in (
        ("microdialysis_igf1.csv", _timecourse_attempt, s_tc, 2),
        ("fst_igf1_nab.csv", _fst_attempt, s_fst, 2),
        ("behaviour_battery.csv", _battery_attempt, s_battery, 3),
        ("bdnf_igf1_crossover.csv", _crossover_attempt, s_cross, 2),
    ):
        f, t = _accepted(name, build, file_seed, k)
        frames.update(f)
        if name == "fst_igf1_nab.csv":
            t = dict(t)
            truths["fst_igf1_nab_minutes.csv"] = t.pop("minutes")
            t.update(t.pop("total"))
        truths[name] = t

    paths = []
    for name in STUDY_FILES[:5]:
        path = directory / name
        _write_csv(frames[name], path)
        paths.append(path)

    truth = {
        "generator": _GENERATOR,
        "seed": seed,
        "simulated": True,
        "note": "Every number in the shipped files is simulated; none is data of "
        "Deyama et al. (2022).",
        "reference": "Deyama S, Kondo M, Shimada S, Kaneda K. IGF-1 release in the medial "
        "prefrontal cortex mediates the rapid and sustained antidepressant-like actions of "
        "ketamine. Transl Psychiatry. 2022;12:178. doi:10.1038/s41398-022-01943-9",
        "files": truths,
    }
    path = directory / "truth.json"
    text = json.dumps(_jsonable(truth), indent=2, sort_keys=True, allow_nan=False) + "\n"
    path.write_bytes(text.encode("utf-8"))
    paths.append(path)
    return paths
