"""Factorial design: k >= 2 between-animal factors (treatment x antibody, sex x treatment x antibody).

Model (one row per observation ``i`` of animal ``j`` in cell ``(a, b, ...)``, cohort ``c``)::

    y[i] ~ Normal(mu[i], sigma)           family "normal" (default)
         ~ StudentT(nu, mu[i], sigma)     family "student"
         ~ LogNormal(mu[i], sigma)        family "lognormal" (mu on the log scale)
    mu[i] = cell_mean[a, b, ...] + cohort_effect[c] + animal_effect[j]
    cell_mean[a, b, ...] ~ Normal(m, s_cell)                 iid over the cells
    cohort_effect   ~ ZeroSumNormal(s_cohort)                fixed block, < 5 cohorts
                    = sigma_cohort * z, z ~ Normal(0, 1)     random effect, >= 5 cohorts
    animal_effect   ~ Normal(0, sigma_animal)                only with several rows per
                                                             animal (centred when many)

Right-censored rows (e.g. an NSFT latency at the 600 s cut-off) enter through their
survival probability (``pm.Censored``, upper = the cut-off) as a likelihood term
``y_censored`` separate from the observed rows ``y``: never dropped, never replaced.

Estimands (``estimates`` rows, ``name``): ``cell_mean`` (``cell_median`` for lognormal),
``main_effect`` (sum-to-zero), ``simple_effect`` (each non-reference level vs the reference
within each combination of the other factors' levels; ratios for lognormal), ``pct_change``
(lognormal only), ``interaction`` (the highest-order interaction contrast of every 2 x ... x 2
sub-table against the reference levels, for A x B (a - a0 | b) - (a - a0 | b0); a ratio of
ratios for lognormal), ``simple_interaction`` (with three or more factors: each lower-order
interaction within each combination of the other factors' levels), ``blockade_pct`` (100 (1 -
effect of a under b / effect of a under b0); ``prob_above`` and ``prob_direction`` of these
rows are relative to 50 %, so ``prob_above`` = P(blockade > 50 %)), ``cohens_d`` (contrast /
residual SD; log scale for lognormal) and ``cohens_d_total`` (contrast / sqrt(sigma^2 +
sigma_animal^2 + sigma_cohort^2), only with random effects).

Bayes factor of each highest-order interaction contrast by Savage-Dickey: with iid Normal(m,
s) cell means a k-way contrast (an alternating sum over 2^k cells) has the prior Normal(0,
sqrt(2^k) s), 2 s for A x B. The prior scale of the cell means is declared with ``pm.Data``
so that the x0.5 and x2 sensitivity refits reuse one nutpie compilation
(``compiled.with_data(...)``).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pymc as pm
from pymc.exceptions import ImplicitFreezeWarning
import xarray as xr
from scipy import stats

from bayes_igf1.designs.base import PipelineSteps
from bayes_igf1.constants import ANIMAL, CENSORED, CI_KIND, CI_PROB, COHORT, COVARIATE, DEFAULT_SEED, ROW, VALUE
from bayes_igf1.errors import ConvergenceError, DesignError
from bayes_igf1.frequentist import between, repeated
from bayes_igf1.io import read_factorial, relabel_levels
from bayes_igf1.pipeline import analyse as run_pipeline
from bayes_igf1.report.format import TIMES, bf_category, fmt_bf
from bayes_igf1.results import ESTIMATE_COLUMNS, AnalysisResult, jsonable
from bayes_igf1.sampling import SamplerSettings, diagnose, sample_compiled
from bayes_igf1.summaries import centre, describe, finite_population_sd, savage_dickey_bf10

DESIGN = "factorial"
FAMILIES = ("normal", "student", "lognormal")
#: With fewer cohorts than this the cohort is a fixed (sum-to-zero) block effect.
COHORT_RANDOM_MIN = 5
#: From this many observations per animal (on average) the animal intercepts are centred.
CENTRED_MIN_OBS = 4
#: Multipliers of the cell-mean prior scale in the Bayes factor sensitivity refits.
BF_PRIOR_MULTIPLIERS = (0.5, 1.0, 2.0)
#: Names a factor cannot have: model dimensions and variables, summary columns.
RESERVED_NAMES = frozenset({
    "chain", "draw", "obs", "obs_censored", "obs_all", ANIMAL, COHORT, ROW, VALUE, CENSORED,
    "cell_mean", "sigma", "nu", "sigma_animal", "animal_mean", "animal_z", "animal_effect",
    "cohort_effect", "cohort_z", "sigma_cohort", "grand_mean", "main_effect_a", "main_effect_b",
    "interaction_effect", "y", "y_censored", "cell_mean_prior_mu", "cell_mean_prior_sigma",
    COVARIATE, "covariate_slope",
    "mean", "median", "sd", "ci_low", "ci_high", "prob_above", "prob_direction", "prob_in_rope",
    "ci_prob", "ci_kind", "rope_low", "rope_high",
})
PRIOR_NAMES = ("cell_mean", "sigma", "nu", "sigma_animal", "cohort_effect", "sigma_cohort", "covariate_slope")


# ------------------------------------------------------------------------------ options


@dataclass(frozen=True)
class FactorialOptions:
    """Modelling options of the factorial design (CLI flags of the same names).

    ``rope`` is the half-width of the region of practical equivalence around no effect, in
    the outcome's units for ``normal`` / ``student``; for ``lognormal`` a % change, the
    ROPE of a ratio being [1 / (1 + rope / 100), 1 + rope / 100].

    ``blocker`` names the factor that is an antagonist or neutralizing antibody: the % of the
    other factor's effect that it abolishes (``blockade_pct``) is reported only then.
    """

    family: str = "normal"
    rope: float | None = None
    ss_type: int = 3
    ci_prob: float = CI_PROB
    ci_kind: str = CI_KIND
    prior_scale: float = 1.0
    blocker: str | None = None

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise DesignError(
                f"family must be one of {FAMILIES}, not {self.family!r}. Fix: pass "
                "family='normal' (default), 'student' (outliers) or 'lognormal' (skewed "
                "positive outcomes such as latencies)."
            )
        if self.ci_kind not in ("hdi", "eti"):
            raise DesignError(f"ci_kind must be 'hdi' or 'eti', not {self.ci_kind!r}. Fix: ci_kind='hdi'.")
        if not _is_number(self.ci_prob) or not 0 < self.ci_prob < 1:
            raise DesignError(f"ci_prob must be between 0 and 1, not {self.ci_prob!r}. Fix: ci_prob=0.95.")
        if not _is_number(self.prior_scale) or not (self.prior_scale > 0 and math.isfinite(self.prior_scale)):
            raise DesignError(
                f"prior_scale must be a positive number, not {self.prior_scale!r}. Fix: prior_scale=1 "
                "(the default), 0.5 for tighter or 2 for wider priors."
            )
        if self.ss_type not in (2, 3) or isinstance(self.ss_type, bool):
            raise DesignError(f"ss_type must be 2 or 3, not {self.ss_type!r}. Fix: ss_type=3 (afex / SPSS default).")
        if self.rope is not None and (not _is_number(self.rope) or not (self.rope > 0 and math.isfinite(self.rope))):
            raise DesignError(
                f"rope must be a positive number (half-width of the ROPE), not {self.rope!r}. "
                "Fix: e.g. rope=10 (outcome units; % change for lognormal), or leave it out."
            )

    @property
    def log(self) -> bool:
        return self.family == "lognormal"


def _is_number(x: object) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, (bool, np.bool_))


# ------------------------------------------------------------------------------ data


@dataclass(frozen=True)
class FactorialData:
    """Arrays of the validated sheet, ready for the model.

    ``y`` is on the model scale (log for lognormal), ``value`` as read. ``factors`` are the
    k >= 2 factor columns and ``levels`` their levels (reference first); row-level
    ``obs_cells[i, f]`` and animal-level ``animal_cells[j, f]`` index ``levels[f]``;
    ``obs_animal`` and ``obs_cohort`` index ``animals`` and ``cohorts``.
    """

    frame: pd.DataFrame = field(repr=False)
    factors: tuple[str, ...]
    levels: tuple[tuple[str, ...], ...]
    animals: tuple[str, ...]
    cohorts: tuple[str, ...]
    obs_cells: np.ndarray = field(repr=False)
    obs_animal: np.ndarray = field(repr=False)
    obs_cohort: np.ndarray = field(repr=False)
    animal_cells: np.ndarray = field(repr=False)
    animal_cohort: np.ndarray = field(repr=False)
    value: np.ndarray = field(repr=False)
    y: np.ndarray = field(repr=False)
    censored: np.ndarray = field(repr=False)
    family: str = "normal"
    animal_ids_made_up: bool = False
    blocker: str | None = None
    #: the covariate of each row, centred at its mean over the animals (None without one)
    covariate: np.ndarray | None = field(default=None, repr=False)
    covariate_mean: float = float("nan")
    covariate_name: str = ""
    #: the factors that vary within an animal (crossover, test day, drug vs vehicle)
    within: tuple[str, ...] = ()

    @property
    def between(self) -> tuple[str, ...]:
        return tuple(f for f in self.factors if f not in self.within)

    @property
    def k(self) -> int:
        return len(self.factors)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(lv) for lv in self.levels)

    @property
    def n_cells(self) -> int:
        return int(np.prod(self.shape))

    @property
    def n_obs(self) -> int:
        return len(self.y)

    @property
    def obs_per_animal(self) -> float:
        return self.n_obs / len(self.animals)

    @property
    def animal_effect(self) -> bool:
        """True when some animal has several observations (animal random intercept)."""
        return self.n_obs > len(self.animals)

    @property
    def centred(self) -> bool:
        return self.obs_per_animal >= CENTRED_MIN_OBS

    @property
    def cohort_kind(self) -> str:
        """"none", "fixed" (fewer than 5 cohorts) or "random"."""
        if not self.cohorts:
            return "none"
        return "fixed" if len(self.cohorts) < COHORT_RANDOM_MIN else "random"

    @property
    def random_effects(self) -> bool:
        return self.animal_effect or self.cohort_kind == "random"

    @property
    def reference(self) -> tuple[str, ...]:
        return tuple(lv[0] for lv in self.levels)

    def cells(self) -> list[tuple[str, ...]]:
        """Every cell (a tuple of levels in factor order), the last factor varying fastest."""
        return list(itertools.product(*self.levels))


def prepare(frame: pd.DataFrame, factors: Sequence[str], options: FactorialOptions, *,
            animal_ids_made_up: bool = False, outcome: str | None = None,
            covariate_name: str | None = None, within: Sequence[str] = ()) -> FactorialData:
    """Turn a validated tidy frame (``io.read_factorial``) into model arrays.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns ``row, animal, <factors...>, value, censored`` (+ ``cohort``); the factor
        columns are Categoricals with the reference level first.
    factors : sequence of str
        The k >= 2 factor columns.
    options : FactorialOptions
    animal_ids_made_up : bool
        No animal column was given (each row is one animal).
    outcome : str, optional
        The sheet's name of the outcome column (for messages).
    covariate_name : str, optional
        The sheet's name of the covariate column, when the frame has a ``covariate`` column:
        it is centred at its mean over the animals (each animal's mean over its rows), so
        that the cell means are at the average covariate, as emmeans reports them.
    within : sequence of str
        The factors (among ``factors``) that vary within an animal: an animal keeps one level
        of every other factor and may have rows at several levels of these.
    """
    factors = _check_factors(factors)
    within = tuple(str(w) for w in within)
    if any(w not in factors for w in within):
        raise DesignError(f"within factors {list(within)} must be among the factors {list(factors)}. "
                          "Fix: name each --within column also as a factor.")
    if options.blocker is not None and options.blocker not in factors:
        raise DesignError(
            f"the blocker {options.blocker!r} is not one of the factors {list(factors)}. Fix: name the factor that "
            f"is the antagonist or antibody, e.g. --blocker {factors[-1]}, or leave --blocker out (no % blockade)."
        )
    for col in (ANIMAL, VALUE, CENSORED, *factors):
        if col not in frame.columns:
            raise DesignError(f"the tidy frame has no column {col!r}. Fix: read the sheet with io.read_factorial.")
    levels = []
    for name in factors:
        col = frame[name]
        cats = list(col.cat.categories) if isinstance(col.dtype, pd.CategoricalDtype) else list(pd.unique(col))
        cats = [str(c) for c in cats]
        if len(cats) < 2:
            raise DesignError(
                f"factor {name!r} has a single level ({cats[0]!r}); a factorial design needs at least "
                "two levels per factor. Fix: check the column and --where, or leave the factor out."
            )
        if len(set(cats)) != len(cats):
            raise DesignError(f"factor {name!r} has levels that read the same as text ({cats}). Fix: relabel them.")
        levels.append(tuple(cats))
    texts = [frame[name].astype(str).to_numpy() for name in factors]
    obs_cells = np.column_stack([
        np.array([{lv: i for i, lv in enumerate(levels[f])}[v] for v in texts[f]], dtype=np.int64)
        if len(frame) else np.zeros(0, dtype=np.int64)
        for f in range(len(factors))
    ])
    animal_txt = frame[ANIMAL].astype(str).to_numpy()
    animals = tuple(pd.unique(animal_txt))
    index = {a: i for i, a in enumerate(animals)}
    obs_animal = np.array([index[a] for a in animal_txt], dtype=np.int64)
    rows = frame[ROW].to_numpy() if ROW in frame.columns else np.arange(len(frame)) + 2

    def cell_of(k: int) -> str:
        return "|".join(t[k] for t in texts)

    # An animal belongs to one level of each between factor (and one cohort).
    fixed = [i for i, f in enumerate(factors) if f not in within]
    first = np.full(len(animals), -1)
    for k, j in enumerate(obs_animal):
        if first[j] < 0:
            first[j] = k
        elif not np.array_equal(obs_cells[k, fixed], obs_cells[first[j], fixed]):
            raise DesignError(
                f"row {rows[k]}: animal {animals[j]!r} is in cell {cell_of(k)} but also in "
                f"{cell_of(first[j])} (row {rows[first[j]]}); in a between-animal design "
                "each animal belongs to one cell. Fix: correct the animal ID or the factor levels"
                + (", or name a factor that varies within an animal with --within." if not within else ".")
            )
    animal_cells = obs_cells[first]  # with within factors: the animal's first row's cell
    # Every cell needs >= 2 animals; an empty cell is named with all the others.
    counts = np.zeros(tuple(len(lv) for lv in levels), dtype=int)
    pairs = np.unique(np.column_stack([obs_animal, obs_cells]), axis=0)  # each animal once per cell
    np.add.at(counts, tuple(pairs[:, 1:].T), 1)
    named = [", ".join(f"{f}={lv}" for f, lv in zip(factors, cell, strict=True))
             for cell in itertools.product(*levels)]
    empty = [t for t, n in zip(named, counts.ravel(), strict=True) if n == 0]
    if empty:
        raise DesignError(
            f"empty cell(s), with no animal: {'; '.join(empty)}. Every combination of the factors' levels needs "
            "animals (the cell-means model and the ANOVA are not defined otherwise). Fix: drop the unused level "
            "with --where, or analyse fewer factors."
        )
    for t, n in zip(named, counts.ravel(), strict=True):
        if n < 2:
            raise DesignError(
                f"the cell {t} has {n} animal(s); every cell needs "
                "at least 2 animals. Fix: add animals, or drop the level with --where."
            )
    cohorts: tuple[str, ...] = ()
    obs_cohort = np.zeros(len(frame), dtype=np.int64)
    animal_cohort = np.zeros(len(animals), dtype=np.int64)
    if COHORT in frame.columns:
        c_txt = frame[COHORT].astype(str).to_numpy()
        cohorts = tuple(sorted(pd.unique(c_txt), key=_natural))
        ic = {c: i for i, c in enumerate(cohorts)}
        obs_cohort = np.array([ic[c] for c in c_txt], dtype=np.int64)
        animal_cohort = obs_cohort[first]
        bad = np.flatnonzero(obs_cohort != animal_cohort[obs_animal])
        if len(bad):
            k = bad[0]
            raise DesignError(
                f"row {rows[k]}: animal {animal_txt[k]!r} is in cohort {c_txt[k]!r} but also in cohort "
                f"{cohorts[animal_cohort[obs_animal[k]]]!r}. Fix: an animal is tested in one cohort; correct "
                "the cohort or the animal ID."
            )
        if len(cohorts) < 2:
            cohorts, obs_cohort, animal_cohort = (), np.zeros(len(frame), np.int64), np.zeros(len(animals), np.int64)
    value = frame[VALUE].to_numpy(dtype=float)
    censored = frame[CENSORED].to_numpy(dtype=bool)
    if not np.all(np.isfinite(value)):
        raise DesignError("the outcome has missing or infinite values. Fix: read the sheet with io.read_factorial.")
    if options.log:
        bad = np.flatnonzero(value <= 0)
        if len(bad):
            raise DesignError(
                f"row {rows[bad[0]]}: the value {value[bad[0]]:g} is not above zero, so it has no logarithm "
                "(family='lognormal'). Fix: use family='normal' or 'student', or check the value."
            )
    if censored.all():
        raise DesignError(
            "every value is censored (at the cut-off), so the cell means cannot be estimated. Fix: check "
            "the censoring column or --censor-at."
        )
    if len(value) and np.all(value == value[0]):
        column = f"the outcome column {outcome!r}" if outcome else "the outcome"
        raise DesignError(
            f"every value of {column} is {value[0]:g} (in all {len(value)} rows used), so there is no variation to "
            "model: the residual SD, the effects and the checks are undefined. Fix: check that the outcome (--outcome) "
            "names the measured column and that --where keeps the rows you mean."
        )
    y = np.log(value) if options.log else value.copy()
    cov = cov_mean = None
    if COVARIATE in frame.columns and within:
        raise DesignError("a covariate with a within-animal factor is not supported yet. Fix: leave out --covariate "
                          "or --within.")
    if COVARIATE in frame.columns:
        x = frame[COVARIATE].to_numpy(dtype=float)
        if not np.all(np.isfinite(x)):
            raise DesignError("the covariate has missing or infinite values. Fix: read the sheet with io.read_factorial.")
        per_animal = np.bincount(obs_animal, weights=x) / np.bincount(obs_animal)
        if np.ptp(per_animal) == 0:
            raise DesignError(
                f"the covariate {covariate_name or COVARIATE!r} has the same value ({x[0]:g}) for every animal, so its "
                "slope cannot be estimated. Fix: check the column, or leave out --covariate."
            )
        cov_mean = float(per_animal.mean())
        cov = x - cov_mean
    data = FactorialData(
        frame=frame.reset_index(drop=True),
        factors=factors,
        levels=tuple(levels),
        animals=animals,
        cohorts=cohorts,
        obs_cells=obs_cells,
        obs_animal=obs_animal,
        obs_cohort=obs_cohort,
        animal_cells=animal_cells,
        animal_cohort=animal_cohort,
        value=value,
        y=y,
        censored=censored,
        family=options.family,
        animal_ids_made_up=animal_ids_made_up,
        blocker=options.blocker,
        covariate=cov,
        covariate_mean=float("nan") if cov_mean is None else cov_mean,
        covariate_name=str(covariate_name or COVARIATE) if cov is not None else "",
        within=within,
    )
    if data.cohort_kind == "fixed":
        why = _cohort_confounding(data)
        if why:
            raise DesignError(
                f"the cohort is confounded with the factors: {why}. A fixed cohort block cannot be "
                "estimated beside them (in the Bayesian model or the ANOVA). Fix: leave out --cohort, or "
                "analyse the cohort as a factor."
            )
    return data


def _natural(text: str):
    try:
        return (0, float(text), text)
    except ValueError:
        return (1, 0.0, text)


def _check_factors(factors: Sequence[str]) -> tuple[str, ...]:
    if isinstance(factors, str) or not isinstance(factors, Sequence) or len(factors) < 2:
        raise DesignError(
            f"factors must name at least two columns, got {factors!r}. "
            'Fix: factors=["treatment", "antibody"] (--factor treatment --factor antibody; add --factor sex '
            "for a three-way design)."
        )
    names = tuple(str(f) for f in factors)
    twice = sorted({f for f in names if names.count(f) > 1})
    if twice:
        raise DesignError(f"the factor {twice[0]!r} is given twice. Fix: name each factor column once.")
    for f in names:
        if f in RESERVED_NAMES:
            raise DesignError(
                f"a factor cannot be called {f!r}, a name the model or its tables use. Fix: rename the "
                "column in the sheet (e.g. 'Treatment')."
            )
    return names


# ------------------------------------------------------------------------------ priors


def location_scale(y: np.ndarray, censored: np.ndarray) -> tuple[float, float]:
    """Maximum-likelihood mean and SD of a normal sample with right-censored values.

    ``y`` on the model scale (log for lognormal), censored values at their censoring time;
    a censored value contributes P(Y > y). Without censoring: the sample mean and the SD
    (ddof = 1, as before). With censoring: R's ``survreg(Surv(y, event) ~ 1, dist =
    "gaussian")`` (``"lognormal"`` on the raw times), so that a prior scaled from it respects
    the censoring instead of taking the censored values as observed.
    """
    y = np.asarray(y, dtype=float)
    censored = np.asarray(censored, dtype=bool)
    m = float(np.mean(y))
    s = float(np.std(y, ddof=1)) if len(y) > 1 else 1.0
    s = s if np.isfinite(s) and s > 0 else 1.0
    if not censored.any() or censored.all():
        return m, s
    from scipy.optimize import minimize

    obs, cens = y[~censored], y[censored]

    def nll(theta):
        mu, log_sd = theta
        sd = np.exp(log_sd)
        return -(stats.norm.logpdf(obs, mu, sd).sum() + stats.norm.logsf(cens, mu, sd).sum())

    fit = minimize(nll, x0=[m, np.log(s)], method="Nelder-Mead",
                   options={"xatol": 1e-12, "fatol": 1e-12, "maxiter": 20000, "maxfev": 40000})
    mu, sd = float(fit.x[0]), float(np.exp(fit.x[1]))
    if not (fit.success and np.isfinite(mu) and np.isfinite(sd) and sd > 0):
        return m, s
    return mu, sd


def default_priors(data: FactorialData, options: FactorialOptions) -> dict[str, dict]:
    """Weakly informative priors scaled to the data (name -> distribution and parameters).

    ``m`` and ``s`` are the mean and SD of the outcome on the model scale (log for
    lognormal) over all rows; with censored rows, the maximum-likelihood mean and SD of a
    censored normal sample (`location_scale`), never the censored values taken as observed.
    ``prior_scale`` multiplies every scale (and divides the rate of nu's Gamma).
    """
    m, s = location_scale(data.y, data.censored)
    k = float(options.prior_scale)
    priors = {
        "cell_mean": {"dist": "Normal", "mu": round(m, 6), "sigma": round(2.5 * s * k, 6)},
        "sigma": {"dist": "HalfNormal", "sigma": round(s * k, 6)},
    }
    if data.family == "student":
        priors["nu"] = {"dist": "Gamma", "alpha": 2.0, "beta": round(0.1 / k, 6)}
    if data.animal_effect:
        priors["sigma_animal"] = {"dist": "HalfNormal", "sigma": round(s * k, 6)}
    if data.cohort_kind == "fixed":
        priors["cohort_effect"] = {"dist": "ZeroSumNormal", "sigma": round(s * k, 6)}
    elif data.cohort_kind == "random":
        priors["sigma_cohort"] = {"dist": "HalfNormal", "sigma": round(s * k, 6)}
    if data.covariate is not None:
        # 2.5 outcome SDs per covariate SD: as wide as the cell means' prior, on the slope's scale
        sx = float(np.std(data.covariate, ddof=1))
        priors["covariate_slope"] = {"dist": "Normal", "mu": 0.0, "sigma": round(2.5 * s * k / sx, 6)}
    return priors


def resolve_priors(data: FactorialData, options: FactorialOptions, user: Mapping[str, Mapping] | None = None) -> dict:
    """Priors merged user > data-scaled > default.

    A user entry with ``"dist"`` replaces the default entry; without it, it updates the
    default's parameters (``{"sigma": {"sigma": 10}}``). The cell-mean prior must stay
    Normal: the Savage-Dickey Bayes factor uses its closed form.
    """
    priors = {k: dict(v) for k, v in default_priors(data, options).items()}
    for name, spec in (user or {}).items():
        if name not in priors:
            allowed = ", ".join(priors)
            raise DesignError(
                f"there is no prior called {name!r} in this model. Fix: use one of {allowed}."
            )
        if not isinstance(spec, Mapping):
            raise DesignError(f"prior {name!r} must be a dict like {{'dist': 'Normal', 'mu': 0, 'sigma': 1}}.")
        spec = dict(spec)
        if "dist" in spec:
            if not hasattr(pm, str(spec["dist"])):
                raise DesignError(f"prior {name!r}: PyMC has no distribution {spec['dist']!r}. Fix: e.g. 'HalfNormal'.")
            priors[name] = spec
        else:
            priors[name].update(spec)
    cm = priors["cell_mean"]
    if cm.get("dist") != "Normal" or set(cm) != {"dist", "mu", "sigma"}:
        raise DesignError(
            "the cell-mean prior must be Normal(mu, sigma) (the Savage-Dickey Bayes factor of the "
            "interaction uses its closed form). Fix: give {'mu': ..., 'sigma': ...} for 'cell_mean'."
        )
    return priors


def _prior(name: str, spec: dict, **kwargs):
    params = {k: v for k, v in spec.items() if k != "dist"}
    return getattr(pm, spec["dist"])(name, **params, **kwargs)


def interaction_prior_sd(cell_mean_sigma: float, order: int = 2) -> float:
    """Prior SD of an ``order``-way interaction contrast under iid Normal(m, s) cell means.

    The contrast is an alternating sum over the 2^order cells of a 2 x ... x 2 sub-table
    (for order 2: mu_ab - mu_a0b - mu_ab0 + mu_a0b0), each with weight +-1, so m cancels
    and its prior is Normal(0, sqrt(2^order) s): 2 s for a 2 x 2, sqrt(8) s for a 2 x 2 x 2.
    """
    return math.sqrt(2.0**order) * float(cell_mean_sigma)


def interaction_prior_density_at_zero(cell_mean_sigma: float, order: int = 2) -> float:
    """Prior density of the interaction contrast at 0: 1 / (sqrt(2 pi) sqrt(2^order) s)."""
    return float(stats.norm.pdf(0.0, loc=0.0, scale=interaction_prior_sd(cell_mean_sigma, order)))


# ------------------------------------------------------------------------------ model


def build_model(data: FactorialData, priors: dict[str, dict], options: FactorialOptions) -> pm.Model:
    """The PyMC model, one named dim per factor (+ ``animal``, ``cohort``), ``obs``, ``obs_censored``.

    The cell-mean prior's location and scale are ``pm.Data`` (``cell_mean_prior_mu``,
    ``cell_mean_prior_sigma``) so that refits with another prior scale reuse one compilation.
    """
    observed = np.flatnonzero(~data.censored)
    cens = np.flatnonzero(data.censored)
    coords: dict[str, list] = {f: list(lv) for f, lv in zip(data.factors, data.levels, strict=True)}
    coords["obs"] = observed.tolist()
    if len(cens):
        coords["obs_censored"] = cens.tolist()
    if data.animal_effect:
        coords[ANIMAL] = list(data.animals)
    if data.cohort_kind != "none":
        coords[COHORT] = list(data.cohorts)
    with pm.Model(coords=coords) as model:
        prior_mu = pm.Data("cell_mean_prior_mu", float(priors["cell_mean"]["mu"]))
        prior_sigma = pm.Data("cell_mean_prior_sigma", float(priors["cell_mean"]["sigma"]))
        cell_mean = pm.Normal("cell_mean", mu=prior_mu, sigma=prior_sigma, dims=data.factors)
        if data.cohort_kind == "fixed":
            cohort = _prior("cohort_effect", priors["cohort_effect"], dims=COHORT)
        elif data.cohort_kind == "random":
            sigma_cohort = _prior("sigma_cohort", priors["sigma_cohort"])
            z = pm.Normal("cohort_z", 0.0, 1.0, dims=COHORT)
            cohort = pm.Deterministic("cohort_effect", sigma_cohort * z, dims=COHORT)
        else:
            cohort = None
        if data.within:
            # an animal's rows sit in several cells: its intercept is a deviation added to each row's
            # cell mean (centred: the deviations themselves are the parameters)
            sigma_animal = _prior("sigma_animal", priors["sigma_animal"])
            if data.centred:
                effect = pm.Normal("animal_effect", 0.0, sigma_animal, dims=ANIMAL)
            else:
                z = pm.Normal("animal_z", 0.0, 1.0, dims=ANIMAL)
                effect = pm.Deterministic("animal_effect", sigma_animal * z, dims=ANIMAL)
            mu = cell_mean[tuple(data.obs_cells.T)] + effect[data.obs_animal]
            if cohort is not None:
                mu = mu + cohort[data.obs_cohort]
        elif data.animal_effect:
            expected = cell_mean[tuple(data.animal_cells.T)]
            if cohort is not None:
                expected = expected + cohort[data.animal_cohort]
            sigma_animal = _prior("sigma_animal", priors["sigma_animal"])
            if data.centred:
                level = pm.Normal("animal_mean", mu=expected, sigma=sigma_animal, dims=ANIMAL)
                pm.Deterministic("animal_effect", level - expected, dims=ANIMAL)
            else:
                z = pm.Normal("animal_z", 0.0, 1.0, dims=ANIMAL)
                effect = pm.Deterministic("animal_effect", sigma_animal * z, dims=ANIMAL)
                level = expected + effect
            mu = level[data.obs_animal]
        else:
            mu = cell_mean[tuple(data.obs_cells.T)]
            if cohort is not None:
                mu = mu + cohort[data.obs_cohort]
        if data.covariate is not None:
            mu = mu + _prior("covariate_slope", priors["covariate_slope"]) * data.covariate
        sigma = _prior("sigma", priors["sigma"])
        nu = _prior("nu", priors["nu"]) if data.family == "student" else None

        def dist(m):
            if data.family == "student":
                return pm.StudentT.dist(nu=nu, mu=m, sigma=sigma)
            if data.family == "lognormal":
                return pm.LogNormal.dist(mu=m, sigma=sigma)
            return pm.Normal.dist(mu=m, sigma=sigma)

        # Observed and censored rows are separate terms: a censored Student-t costs an
        # incomplete beta function (and its gradient) per row.
        if len(observed):
            m = mu[observed]
            # pm.Data: a compiled model takes new data of the same shape (calibration, planning).
            obs_values = pm.Data("y_data", data.value[observed], dims="obs")
            if data.family == "student":
                pm.StudentT("y", nu=nu, mu=m, sigma=sigma, observed=obs_values, dims="obs")
            elif data.family == "lognormal":
                pm.LogNormal("y", mu=m, sigma=sigma, observed=obs_values, dims="obs")
            else:
                pm.Normal("y", mu=m, sigma=sigma, observed=obs_values, dims="obs")
        if len(cens):
            cut = data.value[cens]
            pm.Censored("y_censored", dist(mu[cens]), lower=None, upper=cut, observed=cut, dims="obs_censored")
    return model


def free_parameters(data: FactorialData) -> list[str]:
    """Names of the free parameters the diagnostics gate checks."""
    names = ["cell_mean", "sigma"]
    if data.family == "student":
        names.append("nu")
    if data.animal_effect:
        names += ["sigma_animal", ("animal_effect" if data.within else "animal_mean") if data.centred else "animal_z"]
    if data.cohort_kind == "fixed":
        names.append("cohort_effect")
    elif data.cohort_kind == "random":
        names += ["sigma_cohort", "cohort_z"]
    if data.covariate is not None:
        names.append("covariate_slope")
    return names


# ------------------------------------------------------------------------------ estimands


def cell_key(*levels: str) -> str:
    """Cell label ``"a|b"`` / ``"a|b|c"``, levels in factor order (results.json ``n_per_group`` keys)."""
    return "|".join(str(lv) for lv in levels)


def factor_letter(data: FactorialData, factor: str) -> str:
    """``a`` for the first factor, ``b`` for the second, ... (estimand keys ``simple_a``)."""
    return "abcdefghijklmnopqrstuvwxyz"[data.factors.index(factor)]


def _vs_reference(x: xr.DataArray, factor: str, levels: Sequence[str]) -> xr.DataArray:
    """Each non-reference level of ``factor`` minus its reference level (the dim keeps the non-reference levels)."""
    return x.sel({factor: list(levels[1:])}) - x.sel({factor: levels[0]}, drop=True)


def _ordered(x: xr.DataArray, data: FactorialData) -> xr.DataArray:
    return x.transpose(..., *data.factors)


def interaction_sets(data: FactorialData) -> list[tuple[str, ...]]:
    """Every set of >= 2 factors, in R's term order (A:B, A:C, B:C, A:B:C)."""
    return [s for r in range(2, data.k + 1) for s in itertools.combinations(data.factors, r)]


def interaction_key(data: FactorialData, factors: Sequence[str]) -> str:
    """``interaction`` for the highest order (all factors), ``interaction_ab`` for a lower one."""
    if len(factors) == data.k:
        return "interaction"
    return "interaction_" + "".join(factor_letter(data, f) for f in factors)


def blockade_key(data: FactorialData, treated: str) -> str:
    """``blockade_pct`` when one factor is blocked (A x B), else ``blockade_pct_<letter>``."""
    return "blockade_pct" if data.k == 2 else f"blockade_pct_{factor_letter(data, treated)}"


def contrast_draws(cell_mean: xr.DataArray, data: FactorialData) -> dict[str, xr.DataArray]:
    """Contrasts of the cell means on the model scale (differences; log ratios for lognormal).

    Each keeps one dim per factor, reduced to the non-reference levels of the factors it
    contrasts:

    - ``simple_<x>`` for each factor x (``simple_a``, ``simple_b``, ...): each non-reference
      level of x minus x's reference within every combination of the other factors' levels;
    - ``interaction``: the highest-order interaction contrast against the reference levels,
      the alternating sum over each 2 x ... x 2 sub-table (for A x B: (a - a0 | b) - (a - a0
      | b0)); with three or more factors also ``interaction_<xy...>`` for every lower-order set
      of factors, within every combination of the other factors' levels (e.g. treatment x
      antibody within each sex);
    - only when the design names a blocker, ``blockade_pct`` (one treated factor) or
      ``blockade_pct_<x>`` for each other factor x: 100 (1 - (x - x0 | blocker level) / (x -
      x0 | blocker reference)), the % of x's effect that the blocker abolishes, within every
      combination of the remaining factors.
    """
    out: dict[str, xr.DataArray] = {}
    for f, lv in zip(data.factors, data.levels, strict=True):
        out[f"simple_{factor_letter(data, f)}"] = _ordered(_vs_reference(cell_mean, f, lv), data)
    for group in interaction_sets(data):
        x = cell_mean
        for f in group:
            x = _vs_reference(x, f, data.levels[data.factors.index(f)])
        out[interaction_key(data, group)] = _ordered(x, data)
    if data.blocker is not None:
        blk, blk_levels = data.blocker, data.levels[data.factors.index(data.blocker)]
        for f in data.factors:
            if f == blk:
                continue
            eff = out[f"simple_{factor_letter(data, f)}"]
            ratio = eff.sel({blk: list(blk_levels[1:])}) / eff.sel({blk: blk_levels[0]}, drop=True)
            out[blockade_key(data, f)] = _ordered(100.0 * (1.0 - ratio), data)
    return out


def total_sd(posterior: xr.Dataset) -> xr.DataArray | None:
    """sqrt(sigma^2 + sigma_animal^2 + sigma_cohort^2) over the random effects present; None without."""
    parts = [posterior[n] for n in ("sigma_animal", "sigma_cohort") if n in posterior]
    if not parts:
        return None
    total = posterior["sigma"] ** 2
    for p in parts:
        total = total + p**2
    return np.sqrt(total)


def main_effects(mu: xr.DataArray, data: FactorialData) -> dict[str, xr.DataArray]:
    """Sum-to-zero main effect of each factor (model scale): its marginal mean less the grand mean."""
    return {f: centre(mu.mean([g for g in data.factors if g != f]), [f]) for f in data.factors}


def _contrast_keys(con: Mapping[str, xr.DataArray]) -> list[str]:
    """The contrasts that get a Cohen's d: simple effects and interactions (not the blockade)."""
    return [k for k in con if k.startswith(("simple_", "interaction"))]


def estimand_draws(posterior: xr.Dataset, data: FactorialData) -> dict[str, xr.DataArray]:
    """Posterior draws of every reported quantity, on the reporting scale.

    Normal / Student: ``cell`` (cell means), ``main_<x>`` (sum-to-zero main effect of each
    factor x), the contrasts of `contrast_draws` (differences). Lognormal: ``cell`` =
    exp(cell mean) (cell medians), main effects, simple effects and interactions as ratios,
    plus ``pct_change_<x>`` = 100 (ratio - 1) of the simple effects. Always: the % blockade
    and Cohen's d of every simple effect and interaction (``d_<key>``: model-scale contrast /
    sigma; ``dtot_<key>`` on the total SD when there are random effects).
    """
    mu = posterior["cell_mean"]
    con = contrast_draws(mu, data)
    out: dict[str, xr.DataArray] = {}
    tr = np.exp if data.family == "lognormal" else (lambda x: x)
    out["cell"] = tr(mu)
    for f, main in main_effects(mu, data).items():
        out[f"main_{factor_letter(data, f)}"] = tr(main)
    keys = _contrast_keys(con)
    for key in keys:
        out[key] = tr(con[key])
    if data.family == "lognormal":
        for f in data.factors:
            x = factor_letter(data, f)
            out[f"pct_change_{x}"] = 100.0 * (np.exp(con[f"simple_{x}"]) - 1.0)
    for key in con:
        if key.startswith("blockade_pct"):
            out[key] = con[key]
    if data.covariate is not None:
        out["covariate_slope"] = posterior["covariate_slope"]
    sigma = posterior["sigma"]
    for key in keys:
        out[f"d_{key}"] = con[key] / sigma
    tot = total_sd(posterior)
    if tot is not None:
        for key in keys:
            out[f"dtot_{key}"] = con[key] / tot
    return out


def gated_estimands(posterior: xr.Dataset, data: FactorialData) -> dict[str, xr.DataArray]:
    """The reported contrasts, each flattened to one dimension of "a|b" labels, for the gate.

    (Simple effects of A and of B carry different levels on the same factor dimensions,
    which one Dataset cannot hold side by side.)
    """
    con = contrast_draws(posterior["cell_mean"], data)
    out = {}
    for key, da in {"cell_mean": posterior["cell_mean"], **con}.items():
        out[key] = _flat(da, key, data)
    return out


def _flat(da: xr.DataArray, key: str, data: FactorialData) -> xr.DataArray:
    """``da`` with its factor dims flattened to one ``<key>_cell`` dim of "a|b" labels."""
    da = da.transpose("chain", "draw", *data.factors)
    labels = [cell_key(*c) for c in itertools.product(*(da[f].values for f in data.factors))]
    return xr.DataArray(
        da.values.reshape(da.sizes["chain"], da.sizes["draw"], -1), dims=("chain", "draw", f"{key}_cell"),
        coords={"chain": da["chain"].values, "draw": da["draw"].values, f"{key}_cell": labels},
    )


def stored_estimands(posterior: xr.Dataset, data: FactorialData) -> xr.Dataset:
    """The draws of every reported contrast on the reporting scale, for ``posterior.nc``'s
    ``estimands`` group: one variable per key of `estimand_draws` (simple effects,
    interactions, % blockade), its cells flattened to ``<key>_cell``; the attributes ``name``
    and ``group`` say which estimates rows it holds."""
    draws = estimand_draws(posterior, data)
    return xr.Dataset({key: _flat(draws[key], key, data).assign_attrs(name=name, group=":".join(factors))
                       for key, (name, factors) in contrast_meta(data).items()})


def contrast_meta(data: FactorialData) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Key of `contrast_draws` -> (its estimates-table ``name``, the factors of its ``group``)."""
    meta = {f"simple_{factor_letter(data, f)}": ("simple_effect", (f,)) for f in data.factors}
    for group in interaction_sets(data):
        meta[interaction_key(data, group)] = ("interaction" if len(group) == data.k else "simple_interaction", group)
    if data.blocker is not None:
        for f in data.factors:
            if f != data.blocker:
                meta[blockade_key(data, f)] = ("blockade_pct", (f, data.blocker))
    return meta



def _rope(options: FactorialOptions, kind: str) -> tuple[float, float] | None:
    """ROPE on the reporting scale: kind "diff", "ratio" or "pct"."""
    if options.rope is None:
        return None
    r = float(options.rope)
    if kind == "diff":
        return (-r, r)
    if kind == "ratio":
        return (1.0 / (1.0 + r / 100.0), 1.0 + r / 100.0)
    return (100.0 * (1.0 / (1.0 + r / 100.0) - 1.0), r)


def _named(r: Mapping, factors: Sequence[str]) -> str:
    """"C=c, D=d" for the given factors of a row."""
    return ", ".join(f"{f}={r[f]}" for f in factors)


def _within_text(r: Mapping, factors: Sequence[str]) -> str:
    return ", ".join(str(r[f]) for f in factors)


def _interaction_label(r: Mapping, group: Sequence[str], data: FactorialData) -> str:
    """"(a vs a0) under b minus under b0" for two factors, "(a vs a0) × (b vs b0) × (c vs c0)" for more,
    "... within c" for a lower-order interaction within the other factors' levels (as the simple effects)."""
    refs = {f: data.levels[data.factors.index(f)][0] for f in group}
    if len(group) == 2:
        f, g = group
        # a ratio of ratios divides: "relative to", not "minus"
        word = "relative to" if data.family == "lognormal" else "minus"
        text = f"({r[f]} vs {refs[f]}) under {r[g]} {word} under {refs[g]}"
    else:
        text = f" {TIMES} ".join(f"({r[f]} vs {refs[f]})" for f in group)
    others = [f for f in data.factors if f not in group]
    return text + (f" within {_within_text(r, others)}" if others else "")


def estimates_table(draws: dict[str, xr.DataArray], data: FactorialData, options: FactorialOptions) -> pd.DataFrame:
    """One row per estimand element, columns `ESTIMATE_COLUMNS` (frequentist columns empty).

    Rows: cell means (medians), main effects, simple effects of each factor (the first
    factor's are the headline), lower-order interactions within the other factors
    (``simple_interaction``, three or more factors), the highest-order interaction
    (headline), the % blockade (headline), % changes (lognormal), Cohen's d.
    """
    factors = data.factors
    log = data.family == "lognormal"
    eff_scale = "ratio" if log else "difference"
    null_eff = 1.0 if log else 0.0
    rope_eff = _rope(options, "ratio" if log else "diff")
    kw = {"ci_prob": options.ci_prob, "ci_kind": options.ci_kind}
    frames = []

    def add(da, name, scale, null, rope, meta, headline=False):
        tab = describe(da, rope=rope, null=null, **kw)
        metas = [meta(r) for r in tab.to_dict("records")]
        tab = tab.assign(
            name=name, scale=scale, headline=headline,
            label=[m["label"] for m in metas], group=[m.get("group") for m in metas],
            reference=[m.get("reference") for m in metas], cell=[m.get("cell") for m in metas],
        )
        frames.append(tab)

    def key_of(r, **override):
        return cell_key(*(override.get(f, r[f]) for f in factors))

    add(draws["cell"], "cell_median" if log else "cell_mean", "median (exp of log-scale mean)" if log else "outcome",
        0.0, None, lambda r: {"label": _within_text(r, factors), "cell": key_of(r)})
    for f in factors:
        add(draws[f"main_{factor_letter(data, f)}"], "main_effect",
            "ratio to grand median" if log else "deviation from grand mean", null_eff, rope_eff,
            lambda r, f=f: {"label": f"main effect of {f}: {r[f]} (sum-to-zero)", "group": f, "cell": str(r[f])})
    if "covariate_slope" in draws:
        add(draws["covariate_slope"], "covariate_slope",
            f"{'log outcome' if log else 'outcome'} per unit of {data.covariate_name}", 0.0, None,
            lambda r: {"label": f"slope of {data.covariate_name} (cell means at its mean, "
                                f"{_fmt(data.covariate_mean)})", "group": data.covariate_name})
    metas = {}
    for f, lv in zip(factors, data.levels, strict=True):
        others = [g for g in factors if g != f]
        metas[f"simple_{factor_letter(data, f)}"] = (
            lambda r, f=f, ref=lv[0], others=others: {
                "label": f"{r[f]} vs {ref} within {_within_text(r, others)}", "group": f,
                "cell": key_of(r), "reference": key_of(r, **{f: ref})})
    for group in interaction_sets(data):
        refs = {f: data.levels[factors.index(f)][0] for f in group}
        metas[interaction_key(data, group)] = (
            lambda r, group=group, refs=refs: {
                "label": _interaction_label(r, group, data), "group": ":".join(group),
                "cell": key_of(r), "reference": key_of(r, **refs)})
    for i, f in enumerate(factors):
        x = f"simple_{factor_letter(data, f)}"
        add(draws[x], "simple_effect", eff_scale, null_eff, rope_eff, metas[x], headline=i == 0)
    dd = "ratio of ratios" if log else "difference of differences"
    for group in interaction_sets(data):
        key = interaction_key(data, group)
        top = len(group) == data.k
        add(draws[key], "interaction" if top else "simple_interaction", dd, null_eff, rope_eff, metas[key],
            headline=top)
    if data.blocker is not None:
        blk = data.blocker
        b0 = data.levels[factors.index(blk)][0]
        for f in factors:
            if f == blk:
                continue
            t0 = data.levels[factors.index(f)][0]
            others = [g for g in factors if g not in (f, blk)]

            def meta_blk(r, f=f, t0=t0, others=others):
                within = f" within {_within_text(r, others)}" if others else ""
                # group "treated:blocker" (results.blockade_base reads which simple effect it divides by)
                return {"label": f"% of the {r[f]} vs {t0} effect abolished by {r[blk]} (vs {b0}){within}",
                        "group": f"{f}:{blk}", "cell": key_of(r), "reference": key_of(r, **{f: t0, blk: b0})}

            add(draws[blockade_key(data, f)], "blockade_pct",
                "percent (P relative to 50 %)" + (", log scale" if log else ""), 50.0, None, meta_blk, headline=True)
    if log:
        for f in factors:
            x = factor_letter(data, f)
            add(draws[f"pct_change_{x}"], "pct_change", "percent change", 0.0, _rope(options, "pct"),
                metas[f"simple_{x}"])
    on_log = ", log scale" if log else ""
    for prefix, name, sd_text in (("d", "cohens_d", "residual SD" + on_log), ("dtot", "cohens_d_total", "total SD" + on_log)):
        for key, meta in metas.items():
            if f"{prefix}_{key}" not in draws:
                continue
            add(draws[f"{prefix}_{key}"], name, sd_text, 0.0, None,
                lambda r, meta=meta, sd_text=sd_text: {**meta(r), "label": f"d ({sd_text}): {meta(r)['label']}"})
    table = pd.concat(frames, ignore_index=True)
    table["time"] = np.nan
    for col in ESTIMATE_COLUMNS:
        if col not in table.columns:
            table[col] = None if col in ("freq_method", "freq_survival") else np.nan
    for col in ("freq_method", "freq_survival"):
        table[col] = table[col].astype(object)
    return table[ESTIMATE_COLUMNS]


# ------------------------------------------------------------------------------ Bayes factor


def interaction_bayes_factors(cell_mean: xr.DataArray, data: FactorialData, cell_mean_sigma: float,
                              *, multiplier: float = 1.0) -> pd.DataFrame:
    """Savage-Dickey BF10 of every highest-order interaction contrast (model scale) against 0.

    Its prior follows from the iid Normal cell-mean prior: Normal(0, sqrt(2^k) s) for k factors.
    """
    inter = contrast_draws(cell_mean, data)["interaction"]
    density = interaction_prior_density_at_zero(cell_mean_sigma, data.k)
    rows = []
    for cell in itertools.product(*(lv[1:] for lv in data.levels)):
        draws = inter.sel(dict(zip(data.factors, cell, strict=True))).values
        bf = savage_dickey_bf10(draws, density)
        rows.append({
            "contrast": _interaction_label(dict(zip(data.factors, cell, strict=True)), data.factors, data),
            "cell": cell_key(*cell),
            "prior_multiplier": float(multiplier),
            "cell_mean_prior_sd": float(cell_mean_sigma),
            "interaction_prior_sd": interaction_prior_sd(cell_mean_sigma, data.k),
            **bf,
        })
    return pd.DataFrame(rows)


def bayes_factor_sensitivity(model: pm.Model, tree: xr.DataTree, data: FactorialData, priors: dict,
                             settings: SamplerSettings, *, multipliers: Sequence[float] = BF_PRIOR_MULTIPLIERS,
                             progress: bool = False) -> pd.DataFrame:
    """BF10 of the interaction at the cell-mean prior scale times each multiplier.

    Multiplier 1 uses the main fit's draws; the others refit the model compiled once with
    nutpie, swapping ``cell_mean_prior_sigma`` in with ``compiled.with_data``. Each row
    also carries its fit's divergences and the max R-hat of the cell means.
    """
    from bayes_igf1.compile import compile_model

    base = float(priors["cell_mean"]["sigma"])
    tables = []
    compiled = None
    for mult in multipliers:
        if mult == 1.0:
            post = tree["posterior"].to_dataset()
            tab = interaction_bayes_factors(post["cell_mean"], data, base, multiplier=1.0)
            main = diagnose(tree, var_names=["cell_mean"], settings=settings)
            tab["divergences"] = main.divergences
            tab["max_rhat"] = main.max_rhat
        else:
            if compiled is None:
                compiled = compile_model(model)
            refit = sample_compiled(
                compiled.with_data(cell_mean_prior_sigma=np.asarray(base * mult, dtype=float)),
                settings=settings, progress=progress,
            )
            diag = diagnose(refit, var_names=["cell_mean"], settings=settings)
            tab = interaction_bayes_factors(refit["posterior"]["cell_mean"], data, base * mult, multiplier=mult)
            tab["divergences"] = diag.divergences
            tab["max_rhat"] = diag.max_rhat
        tables.append(tab)
    return pd.concat(tables, ignore_index=True)


# ------------------------------------------------------------------------------ Bayesian ANOVA


def anova_sources(data: FactorialData) -> list[tuple[str, ...]]:
    """Every source of the factorial ANOVA in R's term order (A, B, C, A:B, A:C, B:C, A:B:C)."""
    return [s for r in range(1, data.k + 1) for s in itertools.combinations(data.factors, r)]


def bayesian_anova(posterior: xr.Dataset, data: FactorialData) -> dict[str, dict[str, xr.DataArray]]:
    """Finite-population SD of each source (Gelman 2005) and the posterior partial eta squared.

    Sources (model scale): every main effect and interaction of the factors (the sum-to-zero
    decomposition of the cell means: a source's effect is the marginal mean over the other
    factors, centred over each of its own factors in turn), cohort and animal when in the
    model, residual.

    ``sd``: Gelman's finite-population SD of each batch of effects: the square root of its
    sum of squares over its degrees of freedom, the product of (levels - 1) over its factors.

    ``partial_eta_sq``: defined as the ANOVA defines it. The effect variance of a source is
    the mean over the cells of its squared sum-to-zero effect (a population variance: a main
    effect of A counts once per cell, so var_A = mean over a of alpha_a^2); the error
    variance is the mean squared residual of the unit the ANOVA analyses (an animal: its
    mean row minus cell mean and cohort effect; a row when animals have one row), so that
    eta_p^2 = var_effect / (var_effect + var_error) mirrors SS_effect / (SS_effect +
    SS_error) = (SS_effect / N) / (SS_effect / N + SS_error / N). A cohort block's effect
    variance is the mean over the animals of their cohort's squared effect.
    """
    mu = posterior["cell_mean"]
    sds, effect_var = {}, {}
    for source in anova_sources(data):
        rest = [f for f in data.factors if f not in source]
        eff = centre(mu.mean(rest) if rest else mu, list(source))
        dof = math.prod(len(data.levels[data.factors.index(f)]) - 1 for f in source)
        name = ":".join(source)
        sds[name] = np.sqrt((eff**2).sum(list(source)) / dof)
        effect_var[name] = (eff**2).mean(list(source))
    if data.cohort_kind != "none":
        sds[COHORT] = finite_population_sd(posterior["cohort_effect"], [COHORT])
        # a block's effect variance: the mean over the animals of their cohort's squared effect
        effect_var[COHORT] = (posterior["cohort_effect"].isel(
            {COHORT: xr.DataArray(data.animal_cohort, dims="unit")}, drop=True) ** 2).mean("unit")
    if data.animal_effect:
        sds[ANIMAL] = finite_population_sd(posterior["animal_effect"], [ANIMAL])
    if data.covariate is not None:
        # the covariate's effect variance: slope^2 x the mean squared within-cell covariate
        # (the ANCOVA's type III SS of the covariate over N at the least-squares fit)
        within = _covariate_within_cells(data)
        sds[data.covariate_name] = abs(posterior["covariate_slope"]) * float(np.std(within, ddof=1))
        effect_var[data.covariate_name] = posterior["covariate_slope"] ** 2 * float(np.mean(within**2))
    resid = xr.DataArray(data.y, dims="obs_all") - _fitted(posterior, data)
    sds["residual"] = finite_population_sd(resid, ["obs_all"])
    # The ANOVA's unit: per-animal mean residuals, the animal's own deviation (its intercept) part of them.
    unit = xr.DataArray(data.y, dims="obs_all") - _fitted(posterior, data, animal=False)
    unit_resid = unit.assign_coords(unit=("obs_all", data.obs_animal)).groupby("unit").mean()
    error_var = (unit_resid**2).mean("unit")
    eta = {k: v / (v + _error_stratum(k, unit, data, error_var)) for k, v in effect_var.items()}
    return {"sd": sds, "partial_eta_sq": eta}


def _error_stratum(source: str, resid: xr.DataArray, data: FactorialData, between_error: xr.DataArray) -> xr.DataArray:
    """The error variance a source is tested against, as the RM ANOVA's strata: the between-animal
    one (``between_error``) for a source without within factors; for a source with within factors
    W, the mean squared W x animal residual: each animal's mean residual at each combination of
    W's levels (averaged over its other within factors), centred over each factor of W."""
    w_set = [f for f in source.split(":") if f in data.within]
    if not w_set:
        return between_error
    idx = [data.factors.index(f) for f in w_set]
    keys = np.column_stack([data.obs_animal, data.obs_cells[:, idx]])
    combos, unit = np.unique(keys, axis=0, return_inverse=True)
    per_unit = resid.assign_coords(unit=("obs_all", unit.ravel())).groupby("unit").mean()
    per_unit = per_unit.transpose("chain", "draw", "unit")
    sizes = [len(data.animals), *(len(data.levels[i]) for i in idx)]
    cube = np.full((per_unit.sizes["chain"], per_unit.sizes["draw"], *sizes), np.nan)
    cube[(slice(None), slice(None), *combos.T)] = per_unit.values
    cube = xr.DataArray(cube, dims=("chain", "draw", ANIMAL, *w_set))  # NaN: an animal without that level
    return (centre(cube, w_set) ** 2).mean([ANIMAL, *w_set])


def _fitted(posterior: xr.Dataset, data: FactorialData, *, animal: bool = True) -> xr.DataArray:
    """Each row's fitted value; without the animal intercept when ``animal`` is False (the ANOVA's residual
    of an animal then holds its own deviation, as the ANOVA on per-animal means sees it)."""
    mu = posterior["cell_mean"].isel(
        {f: xr.DataArray(data.obs_cells[:, i], dims="obs_all") for i, f in enumerate(data.factors)}, drop=True)
    if data.cohort_kind != "none":
        mu = mu + posterior["cohort_effect"].isel({COHORT: xr.DataArray(data.obs_cohort, dims="obs_all")}, drop=True)
    if data.animal_effect and animal:
        mu = mu + posterior["animal_effect"].isel({ANIMAL: xr.DataArray(data.obs_animal, dims="obs_all")}, drop=True)
    if data.covariate is not None:
        mu = mu + posterior["covariate_slope"] * xr.DataArray(data.covariate, dims="obs_all")
    return mu


def _covariate_within_cells(data: FactorialData) -> np.ndarray:
    """Each animal's mean covariate less its least-squares fit on the cells (and cohort block):
    the part of the covariate the ANCOVA's covariate row tests (its type III SS = slope^2 x the
    sum of these squared)."""
    per_animal = np.bincount(data.obs_animal, weights=data.covariate) / np.bincount(data.obs_animal)
    cell = np.ravel_multi_index(tuple(data.animal_cells.T), data.shape)
    x = np.eye(data.n_cells)[cell]
    if data.cohort_kind != "none":
        x = np.column_stack([x, np.eye(len(data.cohorts))[data.animal_cohort][:, 1:]])
    beta, *_ = np.linalg.lstsq(x, per_animal, rcond=None)
    return per_animal - x @ beta


def bayesian_anova_table(posterior: xr.Dataset, data: FactorialData, *, ci_prob: float, ci_kind: str) -> pd.DataFrame:
    """The Bayesian ANOVA table: one row per source, SD and partial eta squared with intervals."""
    parts = bayesian_anova(posterior, data)
    rows = []
    for source, sd in parts["sd"].items():
        d = describe(sd, ci_prob=ci_prob, ci_kind=ci_kind).iloc[0]
        row = {"source": source, "sd_median": d["median"], "sd_ci_low": d["ci_low"], "sd_ci_high": d["ci_high"],
               "eta_median": np.nan, "eta_ci_low": np.nan, "eta_ci_high": np.nan}
        if source in parts["partial_eta_sq"]:
            e = describe(parts["partial_eta_sq"][source], ci_prob=ci_prob, ci_kind=ci_kind).iloc[0]
            row.update(eta_median=e["median"], eta_ci_low=e["ci_low"], eta_ci_high=e["ci_high"])
        rows.append(row)
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------ frequentist twin

ANOVA_TABLE_COLUMNS = [
    "effect", "df_num", "df_den", "F", "p", "epsilon_gg", "p_gg", "epsilon_hf", "p_hf",
    "partial_eta_sq", "generalized_eta_sq", "SS", "SS_error",
]


def _factor_columns(data: FactorialData, codes: np.ndarray) -> dict[str, pd.Categorical]:
    """One Categorical per factor (reference level first) from level codes (one row per unit)."""
    return {f: pd.Categorical(np.asarray(lv, dtype=object)[codes[:, i]], categories=list(lv))
            for i, (f, lv) in enumerate(zip(data.factors, data.levels, strict=True))}


def _freq_frame(data: FactorialData) -> pd.DataFrame:
    """``animal, <factors...>, value`` (+ ``cohort``) on the model scale (log for lognormal), one row per observation."""
    frame = pd.DataFrame({
        ANIMAL: np.asarray(data.animals, dtype=object)[data.obs_animal],
        **_factor_columns(data, data.obs_cells),
        VALUE: data.y,
    })
    if data.cohort_kind != "none":
        frame[COHORT] = np.asarray(data.cohorts, dtype=object)[data.obs_cohort]
    if data.covariate is not None:
        frame[COVARIATE] = data.covariate
    return frame


def animal_means(data: FactorialData) -> pd.DataFrame:
    """One row per animal: the mean of its rows on the model scale (afex ``fun_aggregate = mean``)."""
    means = np.bincount(data.obs_animal, weights=data.y) / np.bincount(data.obs_animal)
    frame = pd.DataFrame({
        ANIMAL: list(data.animals),
        **_factor_columns(data, data.animal_cells),
        VALUE: means,
    })
    if data.cohort_kind != "none":
        frame[COHORT] = np.asarray(data.cohorts, dtype=object)[data.animal_cohort]
    if data.covariate is not None:
        frame[COVARIATE] = np.bincount(data.obs_animal, weights=data.covariate) / np.bincount(data.obs_animal)
    return frame


def twin_block(data: FactorialData) -> str | None:
    """The cohort column when the frequentist twin adjusts for it, like the Bayesian model (else None).

    A fixed cohort block is always in the twin (``prepare`` refuses a confounded one); a
    random cohort enters the twin as an additive fixed block when that model is of full rank,
    else (e.g. litters nested in a factor) the twin has no cohort term and says so.
    """
    if data.cohort_kind == "none":
        return None
    if data.cohort_kind == "fixed" or not _cohort_confounding(data):
        return COHORT
    return None


def _cohort_confounding(data: FactorialData) -> str:
    """"" when ``y ~ cohort + A * B`` is of full rank over the animals, else why not (one sentence)."""
    return between.block_confounding(animal_means(data), factors=data.factors, block=COHORT)


def _levels_of(data: FactorialData, given: Mapping[str, str], within: str = "") -> tuple[str, ...]:
    """The full cell (levels in factor order) from some factors' levels and a ``within`` text
    ``"B=b, C=c"`` naming the others (as `bayes_igf1.frequentist.between` writes it)."""
    levels = dict(given)
    rest = [f for f in data.factors if f not in levels]
    text = str(within or "")
    for i, f in enumerate(rest):
        if not text.startswith(f"{f}="):
            raise DesignError(f"cannot read the level of {f!r} from {within!r} (internal).")
        text = text[len(f) + 1:]
        if i + 1 < len(rest):
            cut = text.index(f", {rest[i + 1]}=")
            levels[f], text = text[:cut], text[cut + 2:]
        else:
            levels[f] = text
    return tuple(levels[f] for f in data.factors)


def _cell_weights(data: FactorialData) -> dict[str, xr.DataArray]:
    """Each linear contrast of `contrast_draws` as weights over the cells (dim ``unit``, cells in
    `FactorialData.cells` order): the same definitions, applied to the identity."""
    eye = xr.DataArray(np.eye(data.n_cells).reshape(data.n_cells, *data.shape), dims=("unit", *data.factors),
                       coords={f: list(lv) for f, lv in zip(data.factors, data.levels, strict=True)})
    return contrast_draws(eye, dataclasses.replace(data, blocker=None))


def _sidak_family(table: pd.DataFrame, ci_prob: float) -> pd.DataFrame:
    """Sidak-adjusted p and intervals over the rows of ``table`` (one family), as emmeans (the
    between-animal twin's rules, `bayes_igf1.frequentist.between`)."""
    table["p_adjusted"] = between._sidak(table["p"].to_numpy(dtype=float))
    _, half = between._t_half_widths(table["se"].to_numpy(dtype=float), table["df"].to_numpy(dtype=float), ci_prob)
    table["ci_low_adjusted"] = table["estimate"] - half
    table["ci_high_adjusted"] = table["estimate"] + half
    return table


def _within_contrasts(data: FactorialData, ci_prob: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Simple effects and interaction contrasts of a design with within-animal factors, from the
    REML mixed model ``y ~ A * W + (1 | animal)`` with Satterthwaite df (emmeans on lmer), in the
    layout of `bayes_igf1.frequentist.between` (its ``effect, level, within`` and ``effect,
    within, cell`` keys); simple effects Sidak over the whole family, interactions per effect and
    ``within`` level, as the between-animal twin adjusts them."""
    weights = _cell_weights(data)
    keys, rows = [], []
    for key, da in weights.items():
        name, group = contrast_meta(data)[key]
        for cell in itertools.product(*(da[f].values for f in data.factors)):
            at = dict(zip(data.factors, (str(c) for c in cell), strict=True))
            others = [f for f in data.factors if f not in group]
            meta = {"kind": name, "effect": ":".join(group), "within": _named(at, others),
                    "cell": "|".join(at[f] for f in group)}
            if name == "simple_effect":
                meta.update(level=at[group[0]], reference=data.levels[data.factors.index(group[0])][0])
            keys.append(meta)
            rows.append(da.sel(at).values)
    res = repeated.cell_contrasts(data.y, np.ravel_multi_index(tuple(data.obs_cells.T), data.shape),
                                  data.obs_animal, np.vstack(rows), ci_prob=ci_prob)
    table = pd.concat([pd.DataFrame(keys), res], axis=1)
    simple = _sidak_family(table[table["kind"] == "simple_effect"].drop(columns="kind").reset_index(drop=True),
                           ci_prob)
    for col in ("hedges_g", "g_se", "g_ci_low", "g_ci_high"):
        simple[col] = np.nan  # no two-independent-cells effect size within animals
    inter = table[table["kind"] != "simple_effect"].drop(columns=["kind", "level", "reference"])
    inter = pd.concat([_sidak_family(g.copy(), ci_prob) for _, g in inter.groupby(["effect", "within"], sort=False)],
                      ignore_index=True)
    return simple, inter


def _within_twin(data: FactorialData, options: FactorialOptions) -> dict:
    """The twin of a design with within-animal factors: the RM / mixed ANOVA (afex ``aov_ez``,
    GG and HF), REML mixed-model contrasts (Satterthwaite), paired t tests of each 2-level
    within factor, and the descriptive cell means."""
    factors = list(data.factors)
    rows = _freq_frame(data)
    cell_rows = rows.groupby([ANIMAL, *factors], observed=True)[VALUE].mean().reset_index()
    aov = repeated.mixed_anova(cell_rows, subject=ANIMAL, dv=VALUE, between=list(data.between),
                               within=list(data.within))
    out: dict = {"notes": [], "anova": aov.table[ANOVA_TABLE_COLUMNS].copy()}
    dropped = [str(a) for a in aov.subjects_dropped]
    note = (f"Type III repeated-measures ANOVA ({', '.join(data.within)} within animals"
            + (f"; {', '.join(data.between)} between" if data.between else "")
            + "; multivariate approach, as R's afex), Greenhouse-Geisser and Huynh-Feldt corrections for every "
            "within effect with more than 1 df, on one mean per animal and cell"
            + (" (several rows averaged)" if len(cell_rows) < len(rows) else "") + ".")
    if dropped:
        note += (f" The ANOVA leaves out {len(dropped)} animal(s) without a value in every within cell "
                 f"({aov.drop_reason}); the Bayesian model and the mixed model keep their rows.")
    if data.cohort_kind != "none":
        note += " No cohort term in the ANOVA (the Bayesian model has one)."
        out["notes"].append("The repeated-measures ANOVA has no cohort term (the Bayesian model has one).")
    if data.family == "lognormal":
        note += " On the log of the outcome (family lognormal)."
    out["anova_data"] = {"n_animals": len(data.animals), "animals_dropped": dropped, "reason": aov.drop_reason,
                         "dv": f"log({VALUE})" if data.family == "lognormal" else VALUE,
                         "aggregated": bool(len(cell_rows) < len(rows)), "n_analysed": int(aov.n_subjects),
                         "block": None, "note": note}
    out["mixed_model"] = {"method": "REML", "formula": f"{VALUE} ~ {' * '.join(factors)} + (1 | {ANIMAL})",
                          "df_method": "Satterthwaite", "n_obs": data.n_obs, "n_animals": len(data.animals)}
    simple, inter = _within_contrasts(data, options.ci_prob)
    inter["cell"] = [cell_key(*_levels_of(data, dict(zip(r["effect"].split(":"), r["cell"].split("|"), strict=True)),
                                          r["within"])) for r in inter.to_dict("records")]
    extra: dict = {"simple_effects": simple, "interaction_contrasts": inter, "mauchly": aov.mauchly}
    paired = []
    for w in data.within:
        lv = data.levels[factors.index(w)]
        if len(lv) != 2:
            continue
        per_animal = rows.groupby([ANIMAL, *data.between, w], observed=True)[VALUE].mean().reset_index()
        groups = per_animal.groupby(list(data.between), observed=True) if data.between else [((), per_animal)]
        for key, g in groups:
            key = key if isinstance(key, tuple) else (key,)
            t = repeated.paired_t(g, subject=ANIMAL, within=w, dv=VALUE, reference=lv[0], ci_prob=options.ci_prob)
            paired.append({"factor": w, "within": _named(dict(zip(data.between, key, strict=True)), data.between),
                           **t.to_frame().iloc[0].to_dict()})
    if paired:
        extra["paired_t"] = pd.DataFrame(paired)
    cells = []
    for cell in data.cells():
        mask = np.logical_and.reduce([cell_rows[f] == lv for f, lv in zip(factors, cell, strict=True)])
        v = cell_rows.loc[mask, VALUE].to_numpy()
        se = float(np.std(v, ddof=1) / np.sqrt(len(v)))
        half = float(stats.t.ppf(0.5 + options.ci_prob / 2, len(v) - 1)) * se
        cells.append({"cell": cell_key(*cell), **dict(zip(factors, cell, strict=True)), "n": len(v),
                      "mean": float(np.mean(v)), "se": se, "ci_low": float(np.mean(v)) - half,
                      "ci_high": float(np.mean(v)) + half})
    extra["cell_means"] = pd.DataFrame(cells)
    out.update(simple_effects=simple, interaction=inter, cells=extra["cell_means"], extra=extra,
               contrast_method="t contrast of the REML mixed model (one mean per cell + animal intercept), "
                               "Satterthwaite df, Sidak over the planned family (adjusted p and interval)")
    if data.censored.any():
        out["notes"].append("Kaplan-Meier / log-rank / Cox were not run: they need one censored time per animal.")
    return out


def frequentist_twin(data: FactorialData, options: FactorialOptions) -> dict:
    """The analysis the lab would run, from `bayes_igf1.frequentist.between`.

    Type III (or II) ANOVA on one value per animal (per-animal means when animals have
    several rows), the REML mixed model on all rows when they do, Tukey over the cells,
    planned simple effects (Sidak p and intervals) with Hedges' g, the interaction contrast
    of every 2 x 2 sub-table against the reference levels from the full model's pooled
    error (emmeans), Shapiro-Wilk and Levene; for censored outcomes Kaplan-Meier medians,
    log-rank tests of the simple effects and a Cox model with interaction. Model scale
    (log values for lognormal); censored values enter the t-based analyses at the cut-off.

    Like for like: when the Bayesian model has a cohort term, the ANOVA and the contrasts
    adjust for the cohort as an additive fixed block (``car::Anova(lm(y ~ cohort + A * B),
    type = 3)``, emmeans on that model); the lab's plain A * B ANOVA, as the paper ran it,
    is kept beside it as ``extra["anova_plain"]``.
    """
    if data.within:
        return _within_twin(data, options)
    factors = list(data.factors)
    rows = _freq_frame(data)
    per_animal = animal_means(data)
    block = twin_block(data)
    cov = COVARIATE if data.covariate is not None else None
    out: dict = {"notes": []}
    anova = between.factorial_anova(rows, dv=VALUE, factors=factors, ss_type=options.ss_type, subject=ANIMAL,
                                    block=block, covariate=cov)
    table = anova.table.copy()
    for col in ("epsilon_gg", "p_gg", "epsilon_hf", "p_hf"):
        table[col] = np.nan
    if cov is not None:  # the sheet's name of the covariate, not the tidy frame's
        table["effect"] = table["effect"].replace({COVARIATE: data.covariate_name})
    out["anova"] = table[ANOVA_TABLE_COLUMNS]
    extra: dict = {}
    if block is not None or cov is not None:
        note = anova.note.replace(f"ANCOVA: {COVARIATE} ", f"ANCOVA: {data.covariate_name} ") + (" The cohort is a block here as in the Bayesian model." if block else "")
        plain = between.factorial_anova(rows, dv=VALUE, factors=factors, ss_type=options.ss_type, subject=ANIMAL)
        plain_table = plain.table.copy()
        for col in ("epsilon_gg", "p_gg", "epsilon_hf", "p_hf"):
            plain_table[col] = np.nan
        extra["anova_plain"] = plain_table[ANOVA_TABLE_COLUMNS]
    if block is None and data.cohort_kind != "none":
        no_cohort = (f"No cohort term: {_cohort_confounding(data)}; the Bayesian model's random cohort effect has no "
                     "fixed-block twin.")
        note = (note if cov is not None else anova.note) + " " + no_cohort
        out["notes"].append("The ANOVA has no cohort term" + no_cohort.removeprefix("No cohort term"))
    elif block is None and cov is None:
        effects = [f" {TIMES} ".join(src) for src in anova_sources(data)]
        note = anova.note + f" Effects: {', '.join(effects[:-1])} and {effects[-1]} (no cohort in the design)."
    if data.family == "lognormal":
        note += " On the log of the outcome (family lognormal)."
    if data.censored.any():
        note += " Censored values enter at their cut-off: this ANOVA ignores the censoring."
    out["anova_data"] = {
        "n_animals": len(data.animals),
        "animals_dropped": [],
        "reason": "",
        "dv": f"log({VALUE})" if data.family == "lognormal" else VALUE,
        "aggregated": bool(anova.aggregated),
        "n_analysed": int(anova.n_analysed),
        "block": block,
        "note": note,
    }
    if data.animal_effect:
        try:
            mm = between.factorial_mixed_model(rows, dv=VALUE, factors=factors, subject=ANIMAL)
            out["mixed_model"] = {
                "fixed_effects": mm.fixed_effects.to_dict("records"),
                "sd_animal": mm.sd_animal,
                "sd_residual": mm.sd_residual,
                "method": mm.method,
                "reml_criterion": mm.reml_criterion,
                "n_obs": mm.n_obs,
                "n_animals": mm.n_animals,
                "formula": f"{VALUE} ~ {' * '.join(factors)} + (1 | {ANIMAL})",
            }
            if cov is not None:
                out["notes"].append(f"The REML mixed model has no term for the covariate {data.covariate_name!r} "
                                    "(the ANCOVA and the Bayesian model do).")
        except ConvergenceError as err:
            out["mixed_model"] = {"method": "REML", "error": str(err)}
            out["notes"].append(f"The REML mixed model did not converge: {err}")
    else:
        out["mixed_model"] = {
            "method": None,
            "note": "One observation per animal: no mixed model (the animal variance is the residual).",
        }
    kw = {"dv": VALUE, "factors": factors, "ci_prob": options.ci_prob, "block": block, "covariate": cov}
    extra["tukey"] = between.cell_posthoc(per_animal, **kw)
    simple = between.simple_effects(per_animal, **kw)
    extra["simple_effects"] = simple
    out["simple_effects"] = simple
    inter = between.interaction_contrasts(per_animal, **kw)
    # the full cell key of each contrast: its non-reference levels and the levels it is within
    inter["cell"] = [cell_key(*_levels_of(data, dict(zip(r["effect"].split(":"), r["cell"].split("|"), strict=True)),
                                          r["within"])) for r in inter.to_dict("records")]
    extra["interaction_contrasts"] = inter
    out["interaction"] = inter
    extra["assumptions"] = between.assumption_checks(per_animal, dv=VALUE, factors=factors, covariate=cov)
    if cov is not None:
        extra["covariate_slope"] = between.covariate_slope(per_animal, dv=VALUE, factors=factors, covariate=cov,
                                                           ci_prob=options.ci_prob, block=block)
    cells = []
    for cell in data.cells():
        mask = np.logical_and.reduce([per_animal[f] == lv for f, lv in zip(factors, cell, strict=True)])
        v = per_animal.loc[mask, VALUE].to_numpy()
        n = len(v)
        se = float(np.std(v, ddof=1) / np.sqrt(n))
        half = float(stats.t.ppf(0.5 + options.ci_prob / 2, n - 1)) * se
        cells.append({"cell": cell_key(*cell), **dict(zip(factors, cell, strict=True)), "n": n,
                      "mean": float(np.mean(v)), "se": se, "ci_low": float(np.mean(v)) - half,
                      "ci_high": float(np.mean(v)) + half})
    extra["cell_means"] = pd.DataFrame(cells)
    out["cells"] = extra["cell_means"]
    if data.censored.any():
        if data.animal_effect:
            out["notes"].append("Kaplan-Meier / log-rank / Cox were not run: they need one censored time per animal.")
        else:
            surv = pd.DataFrame({
                **{f: rows[f] for f in factors}, "_time": data.value, "_event": ~data.censored,
            })
            try:
                cens = between.censored_tests(surv, time="_time", event="_event", factors=factors)
            except DesignError as err:
                out["notes"].append(f"Kaplan-Meier / log-rank / Cox were not run: {err}")
            else:
                for key in ("km_median", "logrank", "cox", "cox_interaction", "cox_main"):
                    if cens.get(key) is not None:
                        extra[key] = cens[key]
                extra["survival_note"] = cens["note"]
                extra["survival_ties"] = cens["ties"]
    out["extra"] = extra
    return out


def attach_frequentist(estimates: pd.DataFrame, twin: dict, data: FactorialData, options: FactorialOptions) -> pd.DataFrame:
    """Copy the matching frequentist figures into the ``freq_*`` columns (side by side).

    ``freq_se`` is the standard error on the scale the contrast is estimated on: the
    outcome's units, or the log scale for lognormal rows (ratios, % change), whose intervals
    are back-transformed. ``freq_ci_*`` are unadjusted intervals; ``freq_ci_*_adjusted`` are
    adjusted like ``freq_p_adjusted`` (Sidak over the planned family), so that an interval
    stands beside the p-value it agrees with.
    """
    est = estimates.copy()
    log = data.family == "lognormal"
    scale_txt = " on log values, back-transformed to a ratio (SE on the log scale)" if log else ""
    cens_txt = "; censored values at the cut-off (ignores censoring)" if data.censored.any() else ""
    agg_txt = "; per-animal means" if data.animal_effect else ""
    block_txt = f"; adjusted for {COHORT} as a fixed block" if twin["anova_data"].get("block") else ""
    cols = ["freq_estimate", "freq_se", "freq_ci_low", "freq_ci_high", "freq_ci_low_adjusted",
            "freq_ci_high_adjusted", "freq_p", "freq_p_adjusted"]

    def put(mask, method, estimate, se, lo, hi, p=np.nan, p_adj=np.nan, lo_adj=np.nan, hi_adj=np.nan):
        idx = est.index[mask]
        if len(idx) != 1:
            return
        est.loc[idx[0], cols] = [estimate, se, lo, hi, lo_adj, hi_adj, p, p_adj]
        est.at[idx[0], "freq_method"] = method

    def back(x):
        return float(np.exp(x)) if log else float(x)

    def pct(x):
        return 100.0 * (np.exp(x) - 1.0)

    # Cell means: mean of the cell's (per-animal) values with a t interval on its own SD.
    cov_txt = ("; not adjusted for the covariate (the Bayesian cell mean is at its mean)"
               if data.covariate is not None else "")
    for r in twin["cells"].to_dict("records"):
        method = ("geometric mean, t interval on log values (SE on the log scale)" if log
                  else "cell mean, t interval (cell's own SD)") + agg_txt + cens_txt + cov_txt
        put((est["name"].isin(["cell_mean", "cell_median"])) & (est["cell"] == r["cell"]), method,
            back(r["mean"]), r["se"], back(r["ci_low"]), back(r["ci_high"]))
    simple_lookup = {}
    for r in twin["simple_effects"].to_dict("records"):
        simple_lookup[(r["effect"], cell_key(*_levels_of(data, {r["effect"]: r["level"]}, r["within"])))] = r
    model_txt = f" {TIMES} ".join(data.factors)
    within_method = twin.get("contrast_method")
    method_t = ((within_method + scale_txt) if within_method else
                f"t contrast of the {model_txt} cell-means model{scale_txt}, Sidak over the planned family "
                "(adjusted p and interval)" + block_txt + agg_txt) + cens_txt
    for (factor, cell), r in simple_lookup.items():
        mask = (est["name"] == "simple_effect") & (est["group"] == factor) & (est["cell"] == cell)
        put(mask, method_t, back(r["estimate"]), r["se"], back(r["ci_low"]), back(r["ci_high"]), r["p"],
            r["p_adjusted"], back(r["ci_low_adjusted"]), back(r["ci_high_adjusted"]))
        if log:
            mask = (est["name"] == "pct_change") & (est["group"] == factor) & (est["cell"] == cell)
            put(mask, method_t.replace("a ratio", "a % change"), pct(r["estimate"]), r["se"], pct(r["ci_low"]),
                pct(r["ci_high"]), r["p"], r["p_adjusted"], pct(r["ci_low_adjusted"]), pct(r["ci_high_adjusted"]))
        mask = (est["name"] == "cohens_d") & (est["group"] == factor) & (est["cell"] == cell)
        if np.isfinite(r["hedges_g"]):
            put(mask, "Hedges' g of the two cells alone (their pooled SD)" + (", log values" if log else ""),
                r["hedges_g"], r["g_se"], r["g_ci_low"], r["g_ci_high"])
    inter = twin["interaction"]
    family = " Sidak over the sub-tables (adjusted p and interval)" if len(inter) > 1 else ""
    method_i = ((within_method.replace("t contrast", "t contrast (difference of differences)") + scale_txt + cens_txt)
                if within_method else
                f"t contrast (difference of differences) of the {model_txt} cell-means model, pooled error{scale_txt}"
                + ("," + family if family else "") + block_txt + agg_txt + cens_txt)
    for r in inter.to_dict("records"):
        put((est["name"].isin(["interaction", "simple_interaction"])) & (est["group"] == r["effect"])
            & (est["cell"] == r["cell"]), method_i, back(r["estimate"]), r["se"],
            back(r["ci_low"]), back(r["ci_high"]), r["p"], r["p_adjusted"], back(r["ci_low_adjusted"]),
            back(r["ci_high_adjusted"]))
    slope = twin["extra"].get("covariate_slope")
    if slope is not None:
        put(est["name"] == "covariate_slope", "ANCOVA slope, lm(y ~ covariate + factors), t interval"
            + (" (log values)" if log else "") + block_txt + agg_txt + cens_txt, slope["estimate"], slope["se"],
            slope["ci_low"], slope["ci_high"], slope["p"])
    _attach_survival(est, twin, data)
    # Blockade (with a blocker): plug-in ratio of the two simple effects, no interval.
    for r in est[est["name"] == "blockade_pct"].to_dict("records"):
        treated = str(r["group"]).split(":", 1)[0]
        cell = str(r["cell"]).split("|")
        under_0 = list(cell)
        under_0[data.factors.index(data.blocker)] = data.levels[data.factors.index(data.blocker)][0]
        under_b = simple_lookup.get((treated, cell_key(*cell)))
        under_0 = simple_lookup.get((treated, cell_key(*under_0)))
        if under_b is None or under_0 is None or under_0["estimate"] == 0:
            continue
        value = 100.0 * (1.0 - under_b["estimate"] / under_0["estimate"])
        put((est["name"] == "blockade_pct") & (est["group"] == r["group"]) & (est["cell"] == r["cell"]),
            "plug-in from the simple-effect estimates (no interval)" + (", log scale" if log else ""),
            value, np.nan, np.nan, np.nan)
    return est


def _ties_words(ties: str) -> str:
    """"Efron's method for ties" (R coxph's ``ties`` option in words)."""
    return {"efron": "Efron's method for ties", "breslow": "Breslow's method for ties"}.get(str(ties), f"{ties} ties")


def _attach_survival(est: pd.DataFrame, twin: dict, data: FactorialData) -> None:
    """The censoring-aware tests beside each estimate (``freq_survival``, results.json
    ``frequentist.survival``): Kaplan-Meier median of each cell, log-rank test of each simple
    effect (Sidak), the Cox model's interaction term (Efron's ties) or why it was not fitted."""
    extra = twin.get("extra", {})
    if "logrank" not in extra:
        return
    def put(mask, value):
        for i in est.index[mask]:
            est.at[i, "freq_survival"] = jsonable(value)  # plain numbers, as results.json holds them

    for r in extra["km_median"].to_dict("records"):
        cell = cell_key(*(str(r[f]) for f in data.factors))
        put(est["name"].isin(["cell_mean", "cell_median"]) & (est["cell"] == cell), {
            "test": "Kaplan-Meier", "km_median": r["median"] if r["median_reached"] else None,
            "median_reached": bool(r["median_reached"]), "median_label": r["median_label"],
            "n": int(r["n"]), "events": int(r["events"])})
    for r in extra["logrank"].to_dict("records"):
        cell = cell_key(*_levels_of(data, {r["effect"]: r["level"]}, r["within"]))
        put(est["name"].isin(["simple_effect", "pct_change"]) & (est["group"] == r["effect"]) & (est["cell"] == cell), {
            "test": "log-rank", "chisq": r["chisq"], "df": r["df"], "p": r["p"], "p_adjusted": r["p_adjusted"],
            "adjustment": "Sidak over the planned simple effects"})
    cox = extra.get("cox")
    for i in est.index[est["name"] == "interaction"]:
        levels = str(est.at[i, "cell"]).split("|")
        if cox is not None:
            term = cox[cox["term"] == ":".join(f"{f}{lv}" for f, lv in zip(data.factors, levels, strict=True))]
            if len(term):
                t = term.iloc[0]
                est.at[i, "freq_survival"] = jsonable({
                    "test": f"Cox model, interaction term ({_ties_words(extra.get('survival_ties', 'efron'))})",
                    "estimable": True,
                    "hazard_ratio": t["hazard_ratio"], "coef": t["coef"], "se": t["se"], "z": t["z"], "p": t["p"]})
        else:
            main = extra.get("cox_main")
            est.at[i, "freq_survival"] = jsonable({
                "test": "Cox model, interaction term", "estimable": False,
                "reason": str(extra.get("survival_note", "")).removeprefix("No Cox model with the interaction: "),
                "main_effects": None if main is None else main[["term", "hazard_ratio", "se", "z", "p"]].to_dict("records"),
            })


# ------------------------------------------------------------------------------ text


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def _prior_text(spec: dict) -> str:
    params = ", ".join(f"{k}={_fmt(float(v))}" for k, v in spec.items() if k != "dist")
    return f"{spec['dist']}({params})"


def _and(names: Sequence[str]) -> str:
    names = [str(n) for n in names]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def model_text(data: FactorialData, priors: dict, options: FactorialOptions, outcome: str, *,
               label: str | None = None, unit: str = "") -> str:
    """The model in words and formulas, each prior stated (methods section); the outcome is named by
    ``label`` (``--label``, else the column ``outcome``) with its ``unit``."""
    shape = f" {TIMES} ".join(str(n) for n in data.shape)
    name = str(label or outcome) + (f" ({unit})" if unit else "")
    if data.within:
        between_txt = f", {_and(data.between)} between" if data.between else ""
        kind = f"model ({_and(data.within)} within animals{between_txt})"
    else:
        kind = "between-animal model"
    words = [
        f"Bayesian {shape} {kind} of {name} with one mean per {f' {TIMES} '.join(data.factors)} cell "
        f"({data.n_obs} observations of {len(data.animals)} animals)."
    ]
    lik = {
        "normal": "y[i] ~ Normal(mu[i], sigma)",
        "student": "y[i] ~ StudentT(nu, mu[i], sigma)",
        "lognormal": "y[i] ~ LogNormal(mu[i], sigma)   (log y[i] ~ Normal(mu[i], sigma))",
    }[data.family]
    terms = [f"cell_mean[{', '.join(f + '[i]' for f in data.factors)}]"]
    if data.cohort_kind != "none":
        terms.append("cohort_effect[cohort[i]]")
    if data.animal_effect:
        terms.append("animal_effect[animal[i]]")
    if data.covariate is not None:
        terms.append(f"covariate_slope x ({data.covariate_name}[i] - {_fmt(data.covariate_mean)})")
    lines = [lik, "mu[i] = " + " + ".join(terms)]
    lines.append(f"cell_mean[{', '.join('abcdefghij'[:data.k])}] ~ {_prior_text(priors['cell_mean'])}   "
                 f"iid over the {data.n_cells} cells")
    if data.cohort_kind == "fixed":
        lines.append(f"cohort_effect ~ {_prior_text(priors['cohort_effect'])}   (sum to zero: fixed block effect, "
                     f"{len(data.cohorts)} cohorts)")
    elif data.cohort_kind == "random":
        lines.append(f"cohort_effect[c] = sigma_cohort z[c], z[c] ~ Normal(0, 1), sigma_cohort ~ "
                     f"{_prior_text(priors['sigma_cohort'])}   (random effect, {len(data.cohorts)} cohorts)")
    if data.animal_effect:
        form = "centred" if data.centred else "non-centred"
        lines.append(f"animal_effect[j] ~ Normal(0, sigma_animal), sigma_animal ~ {_prior_text(priors['sigma_animal'])}"
                     f"   ({form})")
    if data.covariate is not None:
        lines.append(f"covariate_slope ~ {_prior_text(priors['covariate_slope'])}   (centred covariate: cell means "
                     f"at {data.covariate_name} = {_fmt(data.covariate_mean)})")
    lines.append(f"sigma ~ {_prior_text(priors['sigma'])}")
    if data.family == "student":
        lines.append(f"nu ~ {_prior_text(priors['nu'])}")
    if data.censored.any():
        lines.append("censored rows: P(Y > cut-off) = 1 - F(cut-off | mu[i], sigma)   (right-censored)")
    s = float(priors["cell_mean"]["sigma"])
    words.append(
        "Weakly informative priors scaled to the data" + (" on the log scale" if data.family == "lognormal" else "")
        + (f", all scales multiplied by prior_scale = {options.prior_scale:g}" if options.prior_scale != 1 else "")
        + " (listed below)."
    )
    sub = f" {TIMES} ".join("2" for _ in data.factors)
    contrast = ("mu[a,b] - mu[a0,b] - mu[a,b0] + mu[a0,b0]" if data.k == 2 else
                f"the alternating sum over its {2 ** data.k} cells")
    factor = "2" if data.k == 2 else f"√{2 ** data.k}"
    tail = [
        f"The cell means are also reported as sum-to-zero main effects of {_and(data.factors)} and their "
        + ("interaction." if data.k == 2 else "interactions."),
        f"The interaction contrast of a {sub} sub-table, {contrast}, has the prior "
        f"Normal(0, {factor} {TIMES} {_fmt(s)}) = Normal(0, {_fmt(interaction_prior_sd(s, data.k))}) implied by the iid "
        "Normal cell-mean prior; its Bayes factor is the Savage-Dickey density ratio at 0, recomputed with the "
        "cell-mean prior scale halved and doubled.",
    ]
    if data.family == "lognormal":
        tail.append("Cell means are on the log scale: cell medians exp(cell mean) and effects as ratios are reported.")
    return "\n".join(words[:1] + [words[1]] + ["    " + ln for ln in lines] + tail)


def design_notes(data: FactorialData, options: FactorialOptions, *, unit: str = "") -> list[str]:
    """Sentences on the modelling choices (cohort, animal effect, IDs, censoring, family); ``unit``
    is the outcome's unit (``--unit``), written after the censoring times."""
    notes = []
    if data.animal_ids_made_up:
        notes.append("No animal column was given: each row was taken as one animal (IDs made up from the row number).")
    if data.animal_effect:
        form = ("centred" if data.centred else "non-centred") + (
            f" ({data.obs_per_animal:.1f} observations per animal on average; centred from {CENTRED_MIN_OBS})")
        notes.append(
            f"Animals have several observations ({data.n_obs} rows for {len(data.animals)} animals): the model has an "
            f"animal-level random intercept, {form}."
        )
    else:
        notes.append(
            "One observation per animal: the animal effect cannot be told apart from the residual, so the model has "
            "no animal random effect (the residual SD includes the between-animal variation)."
        )
    if data.cohort_kind == "fixed":
        notes.append(
            f"Cohort ({len(data.cohorts)} levels) entered as a fixed block effect (sum-to-zero, Normal prior): a "
            f"random cohort effect needs at least {COHORT_RANDOM_MIN} cohorts to estimate its SD. Cell means are at "
            "the average cohort."
        )
    elif data.cohort_kind == "none" and COHORT in data.frame.columns:
        notes.append("The cohort column has a single level in the rows used: the model has no cohort term.")
    elif data.cohort_kind == "random":
        notes.append(
            f"Cohort ({len(data.cohorts)} levels) entered as a random effect (non-centred, HalfNormal prior on its SD); "
            "cell means are for the population of cohorts."
        )
    if data.censored.any():
        n = int(data.censored.sum())
        cuts = np.unique(data.value[data.censored])
        u = f" {unit}" if unit else ""
        at = (f"at the {cuts[0]:g}{u} cut-off" if len(cuts) == 1 else
              f"each at its own censoring time ({cuts.min():g} to {cuts.max():g}{u})")
        notes.append(
            f"{n} {'value was' if n == 1 else 'values were'} right-censored {at}: they enter the likelihood through "
            "the probability of exceeding the censoring time, not dropped or replaced; the default priors are scaled from a "
            "censored-normal fit of the outcome, and the predictive checks censor each replicate at its "
            "animal's own time. The ANOVA and t-based tests treat censored values as observed (they ignore "
            "the censoring); Kaplan-Meier, log-rank and Cox treat them as censored."
        )
    if data.family == "lognormal":
        notes.append("The outcome was modelled as log-normal: cell means are on the log scale, and cell medians (the "
                     "exponentiated cell means), ratios and % changes are reported; Cohen's d and the % blockade are "
                     "on the log scale.")
    if data.family == "student":
        notes.append("The residuals were modelled as Student-t: Cohen's d divides by its scale, which is not an SD.")
    if data.random_effects:
        parts = [(name, word) for name, word, on in (("σ_animal²", "between-animal", data.animal_effect),
                                                     ("σ_cohort²", "between-cohort", data.cohort_kind == "random"))
                 if on]
        notes.append("Cohen's d on the total SD divides by √(σ² + " + " + ".join(n for n, _ in parts)
                     + "), the residual and " + _and([w for _, w in parts]) + " variances; fixed cohort blocks are "
                     "not part of the total SD.")
    if data.covariate is not None:
        notes.append(
            f"Covariate {data.covariate_name!r}: centred at its mean over the animals ({_fmt(data.covariate_mean)}), "
            "with one slope shared by all cells (no covariate × factor interaction), so the cell means and every "
            "contrast are at the average covariate (adjusted means, as emmeans reports them); the ANOVA beside it "
            "is the ANCOVA with the same centred covariate (type III, car::Anova)."
        )
    if data.blocker:
        notes.append(f"% blockade: the share of the other factor's effect abolished by {data.blocker} (the blocking "
                     "factor); P(blockade > 50%) is the posterior probability that more than half is abolished.")
    return notes


# ------------------------------------------------------------------------------ reading


def run_checks(tree: xr.DataTree, data: FactorialData) -> dict:
    """Posterior predictive p-values per cell, prior predictive range, PSIS-LOO, prior sensitivity.

    The plausible range of an outcome is from 0 (when no value is negative; else from the
    smallest value minus the observed range) to the largest value plus the observed range. Checks of
    a lognormal outcome are on the log scale.
    """
    from bayes_igf1 import checks

    frame = data.frame.reset_index(drop=True)
    lo_v, hi_v = float(np.min(data.value)), float(np.max(data.value))
    span = hi_v - lo_v
    low = 0.0 if lo_v >= 0 else lo_v - span
    high = hi_v + span
    log = data.family == "lognormal"
    transform = np.log if log else None
    if log:
        low, high = np.log(max(low, 1e-9 * hi_v)), np.log(high)
    out: dict = {}
    if data.censored.any():
        # Replicates censored as the data were: each row at its own censoring time (a censored
        # row's observed time; for a row whose event was seen, the follow-up end, i.e. the
        # largest censoring time), and statistics that respect censoring on both sides.
        cut = checks.censoring_times(data.value, data.censored)
        rep = checks.replicates(tree, ("y", "y_censored"), len(data.value))
        groups = frame[list(data.factors)].astype(str).agg("|".join, axis=1).to_numpy()
        ppc = checks.censored_ppc(rep, data.value, data.censored, cut, groups)
        out["ppc"] = {"statistics": ppc.to_dict("records"), "scale": "outcome, censored as observed",
                      "n_extreme": int(((ppc["p"] < 0.025) | (ppc["p"] > 0.975)).sum())}
        count = (rep >= cut * (1 - 1e-9)).sum(axis=1)
        observed = int(data.censored.sum())
        out["censoring"] = {
            "cut_off": float(np.max(cut)), "per_row_censoring_times": bool(len(np.unique(cut)) > 1),
            "observed_censored": observed,
            "predicted_censored_median": float(np.median(count)),
            "predicted_censored_90": [float(q) for q in np.quantile(count, [0.05, 0.95])],
            "p": float(np.mean(count >= observed)),
        }
    elif "y" in tree["observed_data"].data_vars:
        ppc = checks.posterior_predictive_stats(tree, frame, by=list(data.factors), transform=transform)
        out["ppc"] = {"statistics": ppc.to_dict("records"), "scale": "log" if log else "identity",
                      "n_extreme": int(((ppc["p"] < 0.025) | (ppc["p"] > 0.975)).sum())}
    if "y" in tree["observed_data"].data_vars:
        out["prior_predictive"] = {
            **checks.prior_predictive_range(tree, low=low, high=high, transform=transform),
            "note": ("log scale; " if log else "") + "plausible range from "
                    + ("0" if lo_v >= 0 else "the smallest value minus the observed range")
                    + " to the largest value plus the observed range",
        }
    out["loo"] = checks.loo_check(tree, frame, var_names=("y", "y_censored"))
    sens = checks.prior_sensitivity(tree, gated_estimands(tree["posterior"].to_dataset(), data))
    out["sensitivity"] = {"table": sens.to_dict("records"),
                          "flagged": sens[sens["diagnosis"] != "ok"].to_dict("records"),
                          "method": "power-scaling (Kallioinen et al. 2024), arviz-stats psense, threshold 0.05"}
    return out


# ------------------------------------------------------------------------------ public entry


def analyse_factorial(
    source: str | Path | pd.DataFrame,
    *,
    outcome: str,
    factors: Sequence[str],
    animal: str | None = None,
    cohort: str | None = None,
    family: str = "normal",
    censored: str | None = None,
    event: str | None = None,
    censor_at: float | None = None,
    where: Sequence[str] = (),
    sheet: str | int | None = None,
    decimal: str | None = None,
    thousands: str | None = None,
    reference: Mapping[str, str] | None = None,
    rope: float | None = None,
    ss_type: int = 3,
    ci_prob: float = CI_PROB,
    ci_kind: str = CI_KIND,
    prior_scale: float = 1.0,
    blocker: str | None = None,
    covariate: str | None = None,
    within: Sequence[str] = (),
    label: str | None = None,
    unit: str | None = None,
    levels: Mapping[str, Mapping[str, str]] | None = None,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    seed: int = DEFAULT_SEED,
    progress: bool = False,
    priors: Mapping[str, Mapping] | None = None,
    bf_sensitivity: bool = True,
    retry: bool = True,
) -> AnalysisResult:
    """Fit the A x B model, compute its estimands and run the frequentist twin.

    Parameters
    ----------
    source : str, Path or pandas.DataFrame
        The sheet (long layout, one row per observation) or a DataFrame.
    outcome : str
        Outcome column.
    factors : sequence of two str
        Factor columns A and B (A's simple effects are the headline).
    animal, cohort : str, optional
        Animal ID and cohort columns. Without an animal column each row is one animal.
    family : {"normal", "student", "lognormal"}
    censored : str, optional
        Column flagging right-censored rows, 1 = censored (value = that row's censoring time).
    event : str, optional
        Column in the survival coding, 1 = the event happened, 0 = censored (instead of ``censored``).
    censor_at : float, optional
        Test cut-off: values at it are right-censored.
    where : sequence of str
        ``COLUMN=VALUE`` row filters.
    sheet : str or int, optional
        Excel sheet.
    decimal, thousands : str, optional
        The sheet's decimal and thousands separators (see `bayes_igf1.io.read_factorial`).
    reference : mapping of str to str, optional
        Factor -> reference level (default: named like a control, else the lowest number, else sorted).
    rope : float, optional
        Half-width of the ROPE (outcome units; % change for lognormal).
    ss_type : {3, 2}
        Sums of squares of the frequentist ANOVA.
    ci_prob, ci_kind : float, str
        Interval mass and kind ("hdi" or "eti").
    prior_scale : float
        Multiplies every prior scale.
    blocker : str, optional
        The factor that is an antagonist or neutralizing antibody (e.g. "antibody"): the %
        blockade of the other factor's effect is reported only when it is named.
    covariate : str, optional
        A numeric covariate column (e.g. body weight, a pre-test score): centred, one slope
        shared by the cells, in the Bayesian model and the ANCOVA twin.
    within : sequence of str
        Factor columns that vary within an animal (crossover, test day, drug vs vehicle in the
        same animal), added to ``factors``; needs ``animal``. The model keeps every row (animal
        random intercept); the twin is the RM / mixed ANOVA (GG / HF), REML contrasts with
        Satterthwaite df and paired t tests of 2-level within factors.
    label, unit : str, optional
        The outcome's name and unit in the report's text, tables and axes (e.g. "immobility",
        "s"); default: the column's name and no unit.
    levels : mapping, optional
        Level labels for the report, factor -> {level: label} (`bayes_igf1.io.relabel_levels`).
    draws, tune, chains, seed : int
        NUTS settings (nutpie).
    progress : bool
        Show nutpie's progress bar.
    priors : mapping, optional
        User priors (name -> spec), merged over the data-scaled defaults.
    bf_sensitivity : bool
        Refit with the cell-mean prior scale x0.5 and x2 for the Bayes factor's sensitivity.
    retry : bool
        Refit once with more tuning when the diagnostics gate fails.

    Returns
    -------
    AnalysisResult
    """
    return run_pipeline(DESIGN, **locals())


def _setup(source, *, outcome, factors, animal, cohort, family, censored, event, censor_at, where, sheet, decimal,
           thousands, reference, rope, ss_type, ci_prob, ci_kind, prior_scale, blocker, covariate, within, label, unit,
           levels, priors, bf_sensitivity):
    """Read, validate, prepare, resolve the priors and build the model (the pipeline's first step)."""
    from bayes_igf1.pipeline import Setup

    options = FactorialOptions(family=family, rope=rope, ss_type=ss_type, ci_prob=ci_prob, ci_kind=ci_kind,
                               prior_scale=prior_scale, blocker=blocker)
    within = [within] if isinstance(within, str) else [str(w) for w in within]
    factors = _check_factors([*(factors if not isinstance(factors, str) else [factors]), *within])
    if reference is not None and not isinstance(reference, Mapping):
        raise DesignError(
            f"reference must map each factor to its reference level, got {reference!r}. "
            'Fix: reference={"treatment": "saline", "antibody": "IgG"}.'
        )
    if priors is not None and not isinstance(priors, Mapping):
        raise DesignError("priors must be a dict of name -> {'dist': ..., parameters}. Fix: e.g. {'sigma': {'sigma': 20}}.")
    if isinstance(where, str):
        where = [where]
    sheet_obj = read_factorial(source, outcome=outcome, factors=factors, animal=animal, cohort=cohort,
                               censored=censored, event=event, censor_at=censor_at, sheet=sheet, where=where,
                               decimal=decimal, thousands=thousands, covariate=covariate, within=within,
                               positive=options.log, reference=dict(reference) if reference else None)
    sheet_obj = relabel_levels(sheet_obj, levels)
    data = prepare(sheet_obj.frame, factors, options, animal_ids_made_up=sheet_obj.animal_ids_made_up,
                   outcome=sheet_obj.columns.get("value"), covariate_name=sheet_obj.columns.get("covariate"),
                   within=within)
    resolved = resolve_priors(data, options, priors)
    settings_out = {
        "source": str(source) if not isinstance(source, pd.DataFrame) else "<DataFrame>",
        "outcome": outcome, "factors": [f for f in factors if f not in within], "animal": animal, "cohort": cohort,
        "family": family, "censored": censored, "event": event, "censor_at": censor_at, "where": list(where),
        "sheet": sheet, "decimal": decimal, "thousands": thousands,
        "reference": dict(zip(data.factors, data.reference, strict=True)),
        "rope": rope, "ss_type": ss_type, "ci_prob": ci_prob, "ci_kind": ci_kind, "prior_scale": prior_scale,
        "blocker": blocker, "covariate": covariate, "within": list(within),
        "label": label, "unit": unit, "levels": {k: dict(v) for k, v in (levels or {}).items()},
    }
    return Setup(data=data, model=build_model(data, resolved, options), free=free_parameters(data),
                 gated=lambda post: gated_estimands(post, data), stored=lambda post: stored_estimands(post, data),
                 expected_warnings=((ImplicitFreezeWarning, r"(?s).*cell_mean_prior"),),
                 # The cell-mean prior's pm.Data are constants of the fit: the posterior predictive
                 # rightly keeps the posterior draws of cell_mean (PyMC warns that they may have changed).
                 state={"sheet": sheet_obj, "options": options, "priors": resolved, "user_priors": priors,
                        "bf_sensitivity": bf_sensitivity, "label": label, "outcome": outcome, "within": within,
                        "settings": settings_out})


def with_inclusion_bf(bayes_anova: pd.DataFrame, data: FactorialData, *, seed: int) -> pd.DataFrame:
    """The Bayesian ANOVA table with each effect's JASP-style inclusion Bayes factor beside it.

    `bayes_igf1.inclusion_bf`: JZS ANOVA of one value per animal (model scale) over the models that
    respect marginality, the cohort in every model when the twin adjusts for it (like for like);
    columns ``BF_incl``, ``BF_incl_error`` (relative), ``BF_incl_matched``, ``BF_incl_matched_error``
    on the rows of the design's effects (the report's Methods say how). Not for within-animal
    factors, a covariate or censored values: the table comes back as it was.
    """
    from bayes_igf1.inclusion_bf import inclusion_bayes_factors

    if data.within or data.covariate is not None or bool(np.asarray(data.censored).any()):
        return bayes_anova
    block = twin_block(data)
    effects, _ = inclusion_bayes_factors(animal_means(data), outcome=VALUE, factors=list(data.factors),
                                         nuisance=[block] if block else [], seed=seed)
    cols = {"BF_incl": "BF_incl", "error": "BF_incl_error", "BF_incl_matched": "BF_incl_matched",
            "error_matched": "BF_incl_matched_error"}
    return bayes_anova.join(effects.rename(columns=cols).set_index("effect")[list(cols.values())], on="source")


def _finish(setup, tree: xr.DataTree, diag, *, sampler, retry: bool, progress: bool) -> AnalysisResult:
    """Estimates, the frequentist twin, the Bayes factors, checks and notes (the pipeline's last step)."""
    data, st = setup.data, setup.state
    options, resolved, label, outcome, within = st["options"], st["priors"], st["label"], st["outcome"], st["within"]
    posterior = tree["posterior"].to_dataset()
    est = estimates_table(estimand_draws(posterior, data), data, options)
    twin = frequentist_twin(data, options)
    twin["anova_data"]["dv"] = f"log({label or outcome})" if options.log else str(label or outcome)  # the user's column, not 'value'
    est = attach_frequentist(est, twin, data, options)
    bayes_anova = bayesian_anova_table(posterior, data, ci_prob=options.ci_prob, ci_kind=options.ci_kind)
    bayes_anova = with_inclusion_bf(bayes_anova, data, seed=sampler.seed)
    if st["bf_sensitivity"]:
        bf = bayes_factor_sensitivity(setup.model, tree, data, resolved, diag.settings, progress=progress)
    else:
        bf = interaction_bayes_factors(posterior["cell_mean"], data, float(resolved["cell_mean"]["sigma"]))
    # The ANOVA's own note (results.json's anova_data) repeats the Methods; the Bayes factor is in
    # Results and Model checking; a failed gate is in the banner and the Results.
    notes = design_notes(data, options, unit=str(st["settings"].get("unit") or ""))
    notes.extend(twin["notes"])
    settings_out = {
        **st["settings"],
        "draws": sampler.draws, "tune": sampler.tune, "chains": sampler.chains, "seed": sampler.seed,
        "priors": {k: dict(v) for k, v in (st["user_priors"] or {}).items()},
        "bf_sensitivity": bool(st["bf_sensitivity"]), "retry": retry,
        "model": {"animal_effect": data.animal_effect, "animal_centred": data.animal_effect and data.centred,
                  "cohort": data.cohort_kind},
    }
    return AnalysisResult(
        design=DESIGN,
        title=f"{label or outcome} by {f' {TIMES} '.join(data.factors)}"
        + (f" ({', '.join(within)} within animals)" if within else ""),
        settings=settings_out,
        seed=sampler.seed,
        sheet=st["sheet"],
        priors=resolved,
        model_text=model_text(data, resolved, options, outcome, label=label, unit=str(st["settings"].get("unit") or "")),
        tree=tree,
        diagnostics=diag,
        estimates=est,
        bayes_anova=bayes_anova,
        anova=twin["anova"],
        anova_data=twin["anova_data"],
        mixed_model=twin["mixed_model"],
        frequentist_extra=twin["extra"],
        checks={**run_checks(tree, data), "bayes_factor": bf},
        notes=tuple(notes),
    )


# ------------------------------------------------------------------------------ the design


class Factorial(PipelineSteps):
    """The factorial design (k >= 2 factors, between or within animals): the `bayes_igf1.designs.base.Design` protocol."""

    name = DESIGN
    unit_word = "cell"
    description = ("Fit the hierarchical cell-means model of a k-way design (factors between or within animals) and "
                   "its frequentist twin (ANOVA type III, post hoc, mixed model, survival tests for censored "
                   "latencies; RM ANOVA with --within), and write a report folder.")
    refit_options = {"bf_sensitivity": False}  # the refits serve a comparison; their BF is not reported

    entry = "analyse_factorial"

    def headline_draws(self, result, group: str = "estimands") -> dict[str, tuple[np.ndarray, str]]:
        """Each headline estimate's draws from posterior.nc's ``group`` ("estimands", or "prior_estimands" for
        the same contrasts under the prior): label -> (flat draws on the reporting scale, scale)."""
        from bayes_igf1.report.figures import estimand_draws

        out = {}
        for row in result.estimates[result.estimates["headline"].astype(bool)].itertuples():
            draws = estimand_draws(result, row.name, str(row.cell), group=row.group, store=group)
            if draws is not None:
                out[row.label] = (draws, str(row.scale))
        return out

    def add_arguments(self, parser) -> None:
        from bayes_igf1.designs.base import add_label_options

        g = parser.add_argument_group("factorial columns")
        g.add_argument("--outcome", required=True, help="column with the outcome (e.g. 'Time Immobile (s)')")
        g.add_argument("--factor", action="append", default=[], dest="factors", metavar="COLUMN",
                       help="a between-animal factor column; give it two or more times (e.g. --factor treatment "
                            "--factor antibody, + --factor sex for a three-way design)")
        g.add_argument("--animal", default=None,
                       help="column with the animal ID (needed when an animal has several rows); "
                            "without it each row is one animal")
        g.add_argument("--cohort", default=None, help="column with the cohort / batch")
        g.add_argument("--censored", default=None, metavar="COLUMN",
                       help="column flagging right-censored values: 1 (yes/true) = censored, e.g. a mouse that "
                            "never ate, 0 = the event was seen; the value is the row's own censoring time")
        g.add_argument("--event", default=None, metavar="COLUMN",
                       help="event column, the survival coding: 1 (yes/true) = the event happened, 0 = censored "
                            "(e.g. 'ate'); not with --censored")
        g.add_argument("--censor-at", type=float, default=None,
                       help="cut-off: values at or above it are right-censored there (e.g. 600 for NSFT)")
        g = parser.add_argument_group("model")
        g.add_argument("--family", choices=["normal", "student", "lognormal"], default="normal",
                       help="outcome distribution (default normal; lognormal for latencies)")
        g.add_argument("--reference", action="append", default=[], metavar="FACTOR=LEVEL",
                       help="reference level of a factor (repeatable; default: a level named like a control, "
                            "e.g. saline, vehicle, IgG, WT, 0 mg/kg; else the lowest number; else the first in "
                            "sorted order)")
        g.add_argument("--ss-type", type=int, choices=[2, 3], default=3, help="ANOVA sums of squares (default 3)")
        g.add_argument("--blocker", default=None, metavar="FACTOR",
                       help="the factor that is an antagonist or neutralizing antibody (e.g. antibody): report the "
                            "%% of the other factor's effect it abolishes (default: no %% blockade)")
        g.add_argument("--within", action="append", default=[], metavar="COLUMN",
                       help="a factor that varies within an animal (crossover, test day, drug vs vehicle in the "
                            "same animal); repeatable; needs --animal (default: every factor is between animals)")
        g.add_argument("--covariate", default=None, metavar="COLUMN",
                       help="a numeric covariate (e.g. body weight, a pre-test score): centred, one slope shared by "
                            "the cells, in the Bayesian model and the ANCOVA (default: none)")
        add_label_options(parser)

    def options_from_args(self, args) -> dict:
        from bayes_igf1.designs.base import label_kwargs, references
        from bayes_igf1.errors import BayesIGF1Error

        if len(args.factors) + len(args.within) < 2:
            raise BayesIGF1Error(f"Give at least two factors with --factor / --within (got "
                                 f"{len(args.factors) + len(args.within)}), e.g. --factor treatment --factor antibody "
                                 "(add --factor sex for a three-way design, --within day for a crossover).")
        return dict(outcome=args.outcome, factors=args.factors, animal=args.animal, cohort=args.cohort,
                    censored=args.censored, event=args.event, censor_at=args.censor_at,
                    reference=references(args.reference), blocker=args.blocker, covariate=args.covariate,
                    within=args.within, ss_type=args.ss_type, family=args.family, **label_kwargs(args))

    def compare_alternatives(self, args) -> dict:
        from bayes_igf1.errors import BayesIGF1Error

        other = {"normal": "student", "student": "normal"}.get(args.family)
        if other is None:
            raise BayesIGF1Error("--compare has no alternative model for these options; use it with "
                                 "--family normal or student.")
        return {"family": other}

    def groups(self, result) -> list[str]:
        f = result.sheet.frame
        out = [""]
        for name in result.sheet.factors:
            out = [f"{a}|{b}" if a else b for a in out for b in (str(x) for x in f[name].cat.categories)]
        return out

    def row_groups(self, result) -> pd.Series:
        f = result.sheet.frame
        parts = [f[name].astype(str).reset_index(drop=True) for name in result.sheet.factors]
        out = parts[0]
        for p in parts[1:]:
            out = out + "|" + p
        return out

    def log_scale(self, result) -> bool:
        return result.settings.get("family") == "lognormal"

    def predictive_transform(self, result):
        # the tree holds the raw values; a lognormal outcome is modelled on their log
        def same(v):
            return np.asarray(v, dtype=float)

        if self.log_scale(result):
            return (lambda v: np.log(np.clip(np.asarray(v, dtype=float), 1e-300, None))), np.exp, True
        return same, same, False

    def data_sentences(self, result) -> list[str]:
        return []

    def why_bayesian(self, result) -> str:
        blockade = " and of the % blockade" if (result.estimates["name"] == "blockade_pct").any() else ""
        return (f"Why Bayesian: a hierarchical model gives the posterior of the interaction{blockade} "
                "directly, with intervals for ratios the ANOVA cannot give, handles censored values and unequal cell "
                "sizes, and gives direct posterior probabilities for directional claims.")

    def frequentist_methods(self, result) -> str:
        from bayes_igf1.report.format import TIMES

        extra = result.frequentist_extra or {}
        ad = result.anova_data or {}
        ss = int(result.settings.get("ss_type", 3))
        factors = list(result.sheet.factors) or ["A", "B"]
        way = {2: "two", 3: "three", 4: "four"}.get(len(factors), str(len(factors)))
        within = list(result.settings.get("within") or [])
        if within:
            between = [f for f in factors if f not in within]
            text = (f"For comparison, the analysis a laboratory would run: a {way}-way repeated-measures ANOVA "
                    f"({f' {TIMES} '.join(factors)}; {', '.join(within)} within animals"
                    + (f", {', '.join(between)} between" if between else "")
                    + "; type III sums of squares, the multivariate approach as the R packages afex and car compute "
                    f"it, with Greenhouse-Geisser and Huynh-Feldt corrections) on {ad.get('dv', 'the outcome')}, one "
                    "mean per animal and cell.")
            parts = ["planned simple effects of each factor within each level of the others and the interaction "
                     "contrasts, as t contrasts of the REML mixed model (one mean per cell, animal intercept) with "
                     "Satterthwaite df and Sidak-adjusted p and intervals"]
            if "paired_t" in extra:
                parts.append("paired t tests of each 2-level within factor")
            return text + " Also: " + "; ".join(parts) + "."
        text = (f"For comparison, the analysis a laboratory would run: a {way}-way between-animal ANOVA "
                f"({f' {TIMES} '.join(factors)}; "
                f"type {'III sums of squares with sum-to-zero contrasts' if ss == 3 else 'II sums of squares'}, as "
                f"the R packages afex and car compute them) on {ad.get('dv', 'the outcome')}"
                + (" (per-animal means)" if ad.get("aggregated") else "")
                + (f", with {ad['block']} as a fixed block as in the Bayesian model" if ad.get("block") else "")
                + (f", with {result.settings['covariate']} as a covariate (ANCOVA)" if result.settings.get("covariate")
                   else "") + ".")
        parts = []
        if "tukey" in extra:
            parts.append("Tukey HSD over all cells")
        if "simple_effects" in extra:
            parts.append("planned simple effects of each factor within each level of the other"
                         + ("s" if len(factors) > 2 else "") + " (t contrasts of the "
                         "cell-means model, Sidak-adjusted p and intervals over the family) with Hedges' g")
        if "interaction_contrasts" in extra:
            parts.append("the interaction contrast (difference of differences, the full model's pooled error)")
        if "assumptions" in extra:
            parts.append("Shapiro-Wilk test of the residuals and the median-centred Levene test")
        if "logrank" in extra:
            ties = extra.get("survival_ties", "efron")
            cox = ("a Cox proportional-hazards model with the interaction" if "cox" in extra else
                   f"a main-effects Cox proportional-hazards model ({' + '.join(factors)}; the model with the interaction was "
                   "not estimable, see Results)" if "cox_main" in extra else "no Cox model (not estimable, see Results)")
            parts.append("for the censored outcome, leading the comparison as the analyses that respect censoring: "
                         f"Kaplan-Meier medians, log-rank tests of the simple effects (Sidak) and {cox} ({_ties_words(ties)}); "
                         "the ANOVA and t contrasts above take censored values as observed at the cut-off")
        mm = result.mixed_model or {}
        if mm.get("method") and mm.get("formula"):
            parts.append(f"a {mm['method']} linear mixed model ({mm['formula']})")
        return text + (" Also: " + "; ".join(parts) + "." if parts else "")

    def anova_head(self, result) -> str:
        ad = result.anova_data or {}
        ss = int(result.settings.get("ss_type", 3))
        block = f"; {ad['block']} as a fixed block, as in the Bayesian model" if ad.get("block") else ""
        way = {2: "Two", 3: "Three", 4: "Four"}.get(len(result.sheet.factors), str(len(result.sheet.factors)))
        kind = "repeated-measures ANOVA" if result.settings.get("within") else (
            "ANCOVA" if result.settings.get("covariate") else "ANOVA")
        return (f"{way}-way {kind} on {ad.get('dv', 'the outcome')} ({ad.get('n_analysed', ad.get('n_animals', '?'))} "
                f"animals; type {'III' if ss == 3 else 'II'}{block})")

    def results_sentences(self, result) -> list[tuple[str, str]]:
        from bayes_igf1.report.text import factorial_sentences

        return factorial_sentences(result)

    def rope_unit(self, result) -> str:
        return ""

    def effect_name(self, source: str, result) -> str:
        factors = list(result.sheet.factors)
        letters = {"A": factors[0] if factors else "A", "B": factors[1] if len(factors) > 1 else "B"}
        return ":".join(letters[p] if p in letters and p not in factors else p for p in str(source).split(":"))

    def frequentist_scale_note(self, result) -> str:
        return ""

    def figures(self, result) -> dict:
        from bayes_igf1.report import figures as F

        ci = f"{round(100 * float(result.settings.get('ci_prob', 0.95)))}%"
        kind = str(result.settings.get("ci_kind", "hdi")).upper()
        fig, _ = F.factorial_figure(result)
        blockade = (result.estimates["name"] == "blockade_pct").any()
        out = {"factorial": (fig, (
            ("(a) Geometric mean ×/÷ SEM (of the logs) of each cell with every animal as a dot; diamonds: posterior "
               "cell median " if self.log_scale(result) else
               "(a) Mean ± SEM of each cell with every animal as a dot; diamonds: posterior median of the cell mean ")
            + f"with its {ci} {kind}. (b) Interaction plot of the posterior cell means. "
            + ("(c, d) Posterior densities of the interaction contrast and of the % blockade" if blockade
               else "(c) Posterior density of the interaction contrast")
            + f" (shaded: {ci} {kind}; grey band: ROPE when set)."))}
        f = result.sheet.frame
        if f["censored"].any() and not f["animal"].duplicated().any():  # one (censored) time per animal
            fig, _ = F.survival_figure(result)
            out["survival"] = (fig, (
                "Kaplan-Meier estimate of each cell (steps; ticks: censored animals) with the model's survival "
                f"curve S(t) = P(outcome > t) at the posterior cell mean (dashed: posterior median; band: {ci} "
                "interval over the posterior draws); dotted line: the cut-off (the last censoring time)."))
        return out

    def finding(self, result) -> str:
        from bayes_igf1.report.format import fmt_estimate, fmt_prob, outcome_unit
        from bayes_igf1.results import blockade_base

        e = result.estimates
        col = str(result.sheet.columns.get("value", ""))
        unit = outcome_unit(result) or ("s" if col.endswith("_s") or col.endswith("(s)") else "")
        seconds = f" {unit}" if unit else ""

        def est(r: dict) -> str:
            if str(r["scale"]).startswith("ratio"):  # ratios, not seconds
                return f"{fmt_estimate(r['median'], r['ci_low'], r['ci_high'])} ({r['scale']})"
            return fmt_estimate(r["median"], r["ci_low"], r["ci_high"], unit=seconds)

        out = [f"{r['label']}: {est(r)}"
               for r in e[(e["name"] == "simple_effect") & e["headline"].astype(bool)].to_dict("records")]
        out += [f"interaction {est(r)}" for r in e[e["name"] == "interaction"].to_dict("records")]
        for r in e[e["name"] == "blockade_pct"].to_dict("records"):
            base = blockade_base(e, r)
            if base is not None and not base["interpretable"]:
                out.append("blockade not stated (the effect under the reference level is not credibly non-zero)")
                continue
            out.append(f"blockade {fmt_estimate(r['median'], r['ci_low'], r['ci_high'], unit='%')}, "
                       + fmt_prob(r["prob_above"], event="blockade > 50%"))
        bf = result.checks.get("bayes_factor")
        if bf is not None and len(bf):
            main = bf[bf["prior_multiplier"] == 1.0].iloc[0]
            low, high = fmt_bf(bf["BF10"].min()), fmt_bf(bf["BF10"].max())
            bf10 = fmt_bf(main["BF10"])
            spread = (f" ({low} with the prior scale halved or doubled too)" if low == high
                      else f" ({low} to {high} with the prior scale halved or doubled)") if len(bf) > 1 else ""
            out.append(f"BF10 (interaction) {bf10 if bf10[0] in '<>' else '= ' + bf10}, {bf_category(main['BF10'])}"
                       + spread)
        return "; ".join(out) + "." if out else "see the report."

    #: Claim kinds `verdict` judges.
    claims = ("blocked", "not blocked")

    def verdict(self, result, claim: str) -> tuple[str, str]:
        """The decision rule for a blockade claim, applied to the treated factor's effect under the
        blocker's reference level and the interaction (the first non-reference cell of each).

        ``blocked``: supported when the effect's 95% interval excludes no effect, the interaction's
        excludes it too in the opposite direction, and BF10 > 3; not supported when the
        interaction's interval includes no effect and BF10 < 1/3; else undecided.
        ``not blocked``: supported when the effect's interval excludes no effect, P(interaction in
        the ROPE) > 0.95 and BF01 > 3; not supported when the interaction's interval excludes no
        effect and BF10 > 3; else (or without a ROPE) undecided.
        """
        from bayes_igf1.report.format import fmt_interval

        if claim not in self.claims:
            raise DesignError(f"no decision rule for a {claim!r} claim. Fix: use one of {self.claims}.")
        e = result.estimates
        inter = e[e["name"] == "interaction"]
        if not len(inter):
            return "undecided", "no interaction estimate"
        i = inter.iloc[0]
        blocker = result.settings.get("blocker")
        treated = next((f for f in result.sheet.factors if f != blocker), result.sheet.factors[0])
        ref = str(i["reference"]).split("|")
        cell = str(i["cell"]).split("|")
        under_ref = "|".join(c if f == treated else r for f, c, r in zip(result.sheet.factors, cell, ref, strict=True))
        eff = e[(e["name"] == "simple_effect") & (e["group"] == treated) & (e["cell"] == under_ref)]
        null = 1.0 if str(i["scale"]).startswith("ratio") else 0.0
        bf = result.checks.get("bayes_factor")
        bf = bf[(bf["prior_multiplier"] == 1.0) & (bf["cell"] == i["cell"])] if isinstance(bf, pd.DataFrame) else None
        bf10 = float(bf["BF10"].iloc[0]) if bf is not None and len(bf) else float("nan")

        def excludes(r) -> int:  # +1 above the null, -1 below, 0 includes it
            return 1 if r["ci_low"] > null else -1 if r["ci_high"] < null else 0

        ci = f"{round(100 * float(i['ci_prob']))}% {str(i['ci_kind']).upper()}"
        acts = bool(len(eff)) and excludes(eff.iloc[0]) != 0
        words = (f"effect under the reference {ci} {fmt_interval(eff.iloc[0]['ci_low'], eff.iloc[0]['ci_high'])}"
                 if len(eff) else "no effect under the reference") + (
            f"; interaction {ci} {fmt_interval(i['ci_low'], i['ci_high'])}; BF10 {fmt_bf(bf10)}")
        if claim == "blocked":
            if acts and excludes(i) == -excludes(eff.iloc[0]) and bf10 > 3:
                return "supported", words
            if excludes(i) == 0 and bf10 < 1 / 3:
                return "not supported", words
            return "undecided", words
        rope = i.get("prob_in_rope")
        if rope is None or not np.isfinite(rope):
            return "undecided", words + "; no ROPE set, so equivalence cannot be judged"
        words += (f"; P(interaction in the ROPE [{fmt_interval(i['rope_low'], i['rope_high'])}]) = {rope:.2f}; "
                  f"BF01 {fmt_bf(1 / bf10)}")
        if acts and rope > 0.95 and bf10 < 1 / 3:
            return "supported", words
        if excludes(i) != 0 and bf10 > 3:
            return "not supported", words
        return "undecided", words

    # ---------------------------------------------------------------- plan and calibrate

    #: ``bayes-igf1 plan`` options only this design takes: (flag, argparse dest).
    plan_options = (("--cell-means", "cell_means"), ("--sd", "sd"), ("--factor", "factors"), ("--within", "within"),
                    ("--animal-intercept-sd", "animal_intercept_sd"), ("--blocker", "blocker"), ("--treated", "treated"))

    def plan_from_args(self, args, **common):
        from bayes_igf1 import plan

        # --factor k times (between), --within for factors within animals; neither: treatment x antibody
        factors = args.factors if (args.factors or args.within) else plan.DEFAULT_FACTORS
        return plan.plan_factorial(source=args.source, cell_means=args.cell_means, sd=args.sd, family=args.family,
                                   factors=factors, within=args.within or (), animal_sd=args.animal_intercept_sd,
                                   blocker=args.blocker, treated=args.treated, **common)

    def plan_source(self, source, notes: list[str]) -> dict:
        from bayes_igf1.plan import _source_factorial

        return _source_factorial(source, notes)

    def plan_simulate(self, spec, n: int, index: int, seed: int) -> tuple[pd.DataFrame, dict]:
        from bayes_igf1.plan import _simulate_factorial

        return _simulate_factorial(spec, n, index, seed)

    def plan_prepare(self, spec, frame: pd.DataFrame):
        options = FactorialOptions(family=spec.family, blocker=spec.blocker or spec.factors[-1])
        return prepare(frame, spec.factors, options, within=spec.within), options

    def plan_model(self, spec, data, options) -> tuple[pm.Model, list[str]]:
        return build_model(data, spec.priors, options), free_parameters(data)

    def plan_observations(self, spec, frame: pd.DataFrame) -> np.ndarray:
        # the model's y_data holds the values as read (a lognormal likelihood takes their log itself)
        return frame["value"].to_numpy(dtype=float)

    def plan_frequentist(self, spec, frame: pd.DataFrame) -> dict[str, float]:
        from bayes_igf1.plan import _factorial_freq

        return _factorial_freq(spec, frame)

    def plan_targets(self, spec) -> list[str]:
        from bayes_igf1.plan import _factorial_targets

        return _factorial_targets(spec)

    def plan_rule_targets(self, spec) -> dict[str, list[str]]:
        """Rule column -> the targets it is judged for (the interaction rules: the highest-order
        interaction cells; the blockade rule: its cells within each level of the other factors)."""
        from bayes_igf1.plan import _factorial_rule_targets

        return _factorial_rule_targets(spec)

    def plan_rules(self, spec, post, data, truth: dict) -> list[dict]:
        from bayes_igf1.plan import _factorial_rules

        return _factorial_rules(spec, post, data, truth)

    def plan_rule_names(self, spec) -> list[tuple[str, str, str]]:
        from bayes_igf1.plan import _factorial_rule_names

        return _factorial_rule_names(spec)

    def calibration_model(self, data_dir, *, shape: str | None = None, n_per_cell: int | None = None):
        """The shipped FST x nAb study, or with ``shape`` ("2x2x2", "2x3w": levels per factor, w =
        within animals) a synthetic design of that shape with ``n_per_cell`` animals per between cell."""
        from bayes_igf1 import calibrate

        if shape is None:
            return calibrate.factorial_model(data_dir)
        return calibrate.factorial_shape_model(shape, n_per_cell=n_per_cell or calibrate.SHAPE_N_PER_CELL)
