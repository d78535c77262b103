"""Frequentist analysis of a k-way between-animal design (k >= 2 factors), numbered as R numbers it.

The functions take a tidy frame (one row per observation) with an outcome column, two or more
factor columns (A x B, A x B x C, ...) and, optionally, an animal column and a block (cohort)
column. The model is always the full factorial ``y ~ A * B * ...`` (every interaction); with a
block it is ``y ~ block + A * B * ...`` (an additive fixed block, sum-to-zero contrasts), as
``car::Anova(lm(y ~ block + A * B), type = 3)`` and emmeans on that model, whose cell means
are averaged over the blocks with equal weights. Level order is the order of a pandas
Categorical, else the order of first appearance; the first level is the reference. Cells are
listed in emmeans' order (the first factor varies fastest). Every cell (combination of levels)
needs at least 2 animals. Every figure is pinned to R (afex, car, emmeans, lme4, survival):
two factors in ``tests/test_frequentist_between.py`` (R scripts ``tests/fixtures/between_golden.R``
and ``reviewer_golden.R``), three and four factors in ``tests/test_frequentist_kway.py``
(``tests/fixtures/kway_golden.R``).

Functions
---------
factorial_anova        type III (sum-to-zero contrasts) or type II ANOVA table (afex / car),
                       effects in R's term order (A, B, C, A:B, A:C, B:C, A:B:C).
cell_posthoc           Tukey HSD over all cells (emmeans ``pairs``).
simple_effects         planned simple effects of each factor against its reference within
                       every combination of the other factors, Sidak over the whole family,
                       Hedges' g.
interaction_contrasts  every 2-way, 3-way, ... interaction contrast against the reference
                       levels (within every combination of the remaining factors), from the
                       full model's pooled error (emmeans ``interaction``), Sidak.
assumption_checks      Shapiro-Wilk of the residuals, Levene (median-centred) across cells.
factorial_mixed_model  REML ``dv ~ A * B * ... + (1 | animal)`` on every observation (lme4).
censored_tests         Kaplan-Meier medians, log-rank simple effects, Cox model (survival).
block_confounding      why ``y ~ block + A * B * ...`` is not estimable ("" when it is).
"""

from __future__ import annotations

import itertools
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pingouin as pg
import statsmodels.formula.api as smf
from scipy import stats
from statsmodels.duration.hazard_regression import PHReg
from statsmodels.duration.survfunc import SurvfuncRight, survdiff
from statsmodels.stats.anova import anova_lm

from bayes_igf1.constants import CI_PROB
from bayes_igf1.errors import ConvergenceError, DesignError
from bayes_igf1.frequentist.blocks import RandomInterceptBlocks

__all__ = [
    "FactorialAnova",
    "MixedModelFit",
    "assumption_checks",
    "block_confounding",
    "cell_posthoc",
    "censored_tests",
    "covariate_slope",
    "factorial_anova",
    "factorial_mixed_model",
    "interaction_contrasts",
    "simple_effects",
]

ANOVA_COLUMNS = (
    "effect", "df_num", "df_den", "F", "p", "partial_eta_sq", "generalized_eta_sq", "SS",
    "SS_error",
)
POSTHOC_COLUMNS = ("contrast", "estimate", "se", "df", "t", "p_adjusted", "ci_low", "ci_high")
SIMPLE_COLUMNS = (
    "effect", "level", "reference", "within", "estimate", "se", "df", "t", "p", "p_adjusted",
    "ci_low", "ci_high", "ci_low_adjusted", "ci_high_adjusted", "hedges_g", "g_se", "g_ci_low", "g_ci_high",
)
#: :func:`interaction_contrasts` with two factors: the A x B version's columns, then the
#: k-way ones it lacked (``within`` is "" there).
INTERACTION_COLUMNS = (
    "effect", "level_a", "level_b", "reference_a", "reference_b", "contrast", "estimate", "se",
    "df", "t", "p", "p_adjusted", "ci_low", "ci_high", "ci_low_adjusted", "ci_high_adjusted",
    "within", "cell", "reference_cell",
)
#: :func:`interaction_contrasts` with three or more factors.
INTERACTION_KWAY_COLUMNS = (
    "effect", "within", "cell", "reference_cell", "contrast", "estimate", "se", "df", "t", "p",
    "p_adjusted", "ci_low", "ci_high", "ci_low_adjusted", "ci_high_adjusted",
)
LOGRANK_COLUMNS = (
    "effect", "level", "reference", "within", "chisq", "df", "p", "p_adjusted",
)
COX_COLUMNS = ("term", "coef", "se", "hazard_ratio", "z", "p")

# Internal column names of the validated frame (patsy-safe whatever the user's names are);
# factor i is held in column f"_f{i}".
_Y, _S, _CELL, _BLK, _COV = "_y", "_subject", "_cell", "_block", "_cov"
# emmeans wraps a contrast operand in parentheses when it contains one of these (option parens).
_PARENS = re.compile(r"-|\+|/|\*")
# What R's as.numeric() reads as a number: emmeans then prefixes the factor name to the level.
_R_NUMBER = re.compile(
    r"^\s*[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|0[xX][0-9a-fA-F]+|inf|infinity)\s*$",
    re.IGNORECASE,
)


def _key(i: int) -> str:
    """Internal column of factor i."""
    return f"_f{i}"


def _emm_order(level_sets: Sequence[Sequence[str]]) -> list[tuple[str, ...]]:
    """Every combination of the level sets, the first set varying fastest (emmeans' order)."""
    return [tuple(reversed(c)) for c in itertools.product(*reversed(level_sets))]


def _at(names: Sequence[str], values: Sequence[str], sep: str = "=") -> str:
    """"A=a, B=b" (``sep`` between name and level)."""
    return ", ".join(f"{n}{sep}{v}" for n, v in zip(names, values, strict=True))


@dataclass(frozen=True)
class FactorialAnova:
    """Result of :func:`factorial_anova`.

    Attributes
    ----------
    table : pandas.DataFrame
        Columns ``effect, df_num, df_den, F, p, partial_eta_sq, generalized_eta_sq, SS,
        SS_error``; effects named and ordered as R names and orders the terms of
        ``y ~ A * B * C`` (``"A"``, ``"B"``, ``"C"``, ``"A:B"``, ``"A:C"``, ``"B:C"``,
        ``"A:B:C"``), the block (if any) last.
    ss_type : int
        2 or 3.
    n_analysed : int
        Rows entering the ANOVA (animals when ``aggregated``).
    aggregated : bool
        True when several rows per animal were averaged to one mean per animal.
    note : str
        How the data were analysed, one or two sentences for the methods text.
    levels : dict
        Factor name -> tuple of level labels, reference first (in the order of ``factors``).
    """

    table: pd.DataFrame
    ss_type: int
    n_analysed: int
    aggregated: bool
    note: str
    levels: dict[str, tuple[str, ...]]


@dataclass(frozen=True)
class MixedModelFit:
    """Result of :func:`factorial_mixed_model`.

    Attributes
    ----------
    fixed_effects : pandas.DataFrame
        Columns ``term, estimate, se, t``; treatment contrasts, terms named and ordered as lme4
        names them (``"(Intercept)"``, ``"treatmentketamine"``,
        ``"treatmentketamine:antibodynAb"``, ``"treatmentketamine:antibodynAb:sexM"``).
    sd_animal, sd_residual : float
        REML standard deviations of the animal intercepts and of the residual.
    reml_criterion : float
        -2 x REML log-likelihood (lme4 ``REMLcrit``).
    method : str
        ``"REML"``.
    n_obs, n_animals : int
        Observations and animals used.
    """

    fixed_effects: pd.DataFrame
    sd_animal: float
    sd_residual: float
    reml_criterion: float
    method: str
    n_obs: int
    n_animals: int


@dataclass(frozen=True)
class _Design:
    frame: pd.DataFrame  # _y, _f0.._f{k-1} (Categoricals of labels), _subject / _block if given
    factors: tuple[str, ...]
    levels: tuple[tuple[str, ...], ...]  # per factor, reference first
    block: str | None = None
    covariate: str | None = None

    @property
    def keys(self) -> tuple[str, ...]:
        """Internal factor columns."""
        return tuple(_key(i) for i in range(len(self.factors)))

    @property
    def block_term(self) -> str:
        """The block's part of a patsy formula ("" without a block)."""
        return f"C({_BLK}, Sum) + " if self.block is not None else ""

    @property
    def additive(self) -> str:
        """The additive terms beside the cells for patsy: `` + C(_block, Sum) + _cov`` ("" without)."""
        return ((f" + C({_BLK}, Sum)" if self.block is not None else "")
                + (f" + {_COV}" if self.covariate is not None else ""))

    def crossed(self, op: str = "*", contrast: str = ", Sum") -> str:
        """The factors joined for patsy: ``C(_f0, Sum) * C(_f1, Sum) * ...``."""
        return f" {op} ".join(f"C({k}{contrast})" for k in self.keys)

    @property
    def label(self) -> str:
        """``"A x B x C"``."""
        return " x ".join(self.factors)

    def cells(self) -> list[tuple[str, ...]]:
        """Cells in emmeans' order: the first factor varies fastest."""
        return _emm_order(self.levels)

    def cell_codes(self) -> np.ndarray:
        """Index (into :meth:`cells`) of each row's cell."""
        f, idx, stride = self.frame, np.zeros(len(self.frame), dtype=int), 1
        for key, levels in zip(self.keys, self.levels, strict=True):
            idx += f[key].cat.codes.to_numpy().astype(int) * stride
            stride *= len(levels)
        return idx


# ----------------------------------------------------------------------------- validation


def _level_label(value: object) -> str:
    """Level text as R's ``as.character`` writes it (1.0 -> "1", 0.5 -> "0.5")."""
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.15g}"
    return str(value)


def _levels(column: pd.Series) -> tuple[list[object], list[str]]:
    if isinstance(column.dtype, pd.CategoricalDtype):
        raw = list(column.cat.categories)
    else:
        raw = list(pd.unique(column))
    return raw, [_level_label(v) for v in raw]


def _check_columns(data: object, columns: dict[str, object]) -> None:
    if not isinstance(data, pd.DataFrame):
        raise DesignError(
            f"data must be a pandas DataFrame (one row per observation), got "
            f"{type(data).__name__}. Fix: pass a tidy frame, e.g. pd.read_csv(...)."
        )
    for role, name in columns.items():
        if name is not None and name not in data.columns:
            raise DesignError(
                f"{role} column {name!r} is not in the data (columns: {list(data.columns)}). "
                f"Fix: pass {role}= one of the column names."
            )


def _factor_names(factors: object) -> tuple[str, ...]:
    """The factor columns as a tuple of k >= 2 distinct names, else a DesignError."""
    fix = 'Fix: pass factors=["treatment", "antibody"] (or three or more columns for a k-way design).'
    names = () if isinstance(factors, str) or not isinstance(factors, Sequence) else tuple(map(str, factors))
    if len(names) < 2 or len(set(names)) != len(names):
        raise DesignError(f"factors must name at least two different columns, got {factors!r}. {fix}")
    return names


def _prepare(
    data: object,
    *,
    dv: str,
    factors: Sequence[str],
    subject: str | None = None,
    block: str | None = None,
    covariate: str | None = None,
) -> _Design:
    """Validate the frame and return it with internal column names and level order."""
    names = _factor_names(factors)
    _check_columns(data, {"dv": dv, "subject": subject, "block": block, "covariate": covariate})
    if covariate is not None and covariate in (*names, dv, subject, block):
        raise DesignError(
            f"covariate column {covariate!r} is also the outcome, a factor, the animal or the block. "
            "Fix: pass the numeric covariate column (e.g. body weight)."
        )
    missing = [n for n in names if n not in data.columns]
    if missing:
        raise DesignError(
            f"factor column(s) {missing} not in the data (columns: {list(data.columns)}). "
            "Fix: pass factors= column names of the data."
        )
    if dv in names:
        raise DesignError(f"outcome column {dv!r} is also a factor. Fix: pass the measured column as dv.")
    if subject is not None and subject in names:
        raise DesignError(
            f"subject column {subject!r} is also a factor. Fix: pass the animal id column."
        )
    if block is not None and (block in names or block == subject):
        raise DesignError(
            f"block column {block!r} is also a factor or the animal column. Fix: pass the "
            "cohort column as block."
        )
    y = data[dv]
    if not pd.api.types.is_numeric_dtype(y) or pd.api.types.is_bool_dtype(y):
        raise DesignError(
            f"outcome column {dv!r} is not numeric (dtype {y.dtype}). "
            "Fix: convert it with pd.to_numeric and drop non-numeric rows."
        )
    bad = ~np.isfinite(y.to_numpy(dtype=float))
    if bad.any():
        raise DesignError(
            f"outcome column {dv!r} has {int(bad.sum())} missing or infinite values "
            f"(first at index {data.index[bad][0]!r}). Fix: drop those rows first."
        )
    frame = pd.DataFrame(index=data.index)
    frame[_Y] = y.to_numpy(dtype=float)
    level_sets = []
    for i, name in enumerate(names):
        col = data[name]
        if col.isna().any():
            raise DesignError(
                f"factor column {name!r} has {int(col.isna().sum())} missing values. "
                "Fix: drop those rows or give them a level."
            )
        raw, labels = _levels(col)
        if len(set(labels)) != len(labels):
            raise DesignError(
                f"factor {name!r} has levels that read the same as text ({labels}). "
                "Fix: give each level a distinct label."
            )
        if len(labels) < 2:
            raise DesignError(
                f"factor {name!r} has a single level ({labels[0]!r}); a factorial analysis needs "
                "at least two levels per factor. Fix: check the column, or leave that factor out."
            )
        mapping = dict(zip(raw, labels, strict=True))
        frame[_key(i)] = pd.Categorical([mapping[v] for v in col.to_numpy()], categories=labels)
        level_sets.append(tuple(labels))
    if subject is not None:
        if data[subject].isna().any():
            raise DesignError(
                f"subject column {subject!r} has missing values. Fix: give every row its animal."
            )
        frame[_S] = data[subject].to_numpy()
    if block is not None:
        if data[block].isna().any():
            raise DesignError(
                f"block column {block!r} has missing values. Fix: give every row its cohort."
            )
        frame[_BLK] = pd.Categorical(data[block].astype(str).to_numpy())
        if frame[_BLK].nunique() < 2:
            block = None
            frame = frame.drop(columns=_BLK)
    if covariate is not None:
        x = data[covariate]
        if not pd.api.types.is_numeric_dtype(x) or pd.api.types.is_bool_dtype(x) or not np.all(
                np.isfinite(x.to_numpy(dtype=float))):
            raise DesignError(
                f"covariate column {covariate!r} must be numeric without missing values. Fix: convert it with "
                "pd.to_numeric and drop the rows without it."
            )
        frame[_COV] = x.to_numpy(dtype=float)
    design = _Design(frame, names, tuple(level_sets), block, covariate)
    _check_cells(design)
    if block is not None:
        _check_block(design)
    return design


def _check_block(design: _Design) -> None:
    """The block must not be confounded with the factors (``y ~ block + A * B`` of full rank)."""
    why = _block_confounding(design)
    if why:
        raise DesignError(
            f"the block {design.block!r} is confounded with the factors: {why}. Fix: leave the block out "
            f"(no --cohort), or analyse {design.block} as a factor."
        )


def block_confounding(data: pd.DataFrame, *, factors: Sequence[str], block: str) -> str:
    """Why the block cannot be told apart from the factors, or "" when it can.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per animal.
    factors : sequence of str
        The k >= 2 factor columns.
    block : str
        Block (cohort) column.

    Returns
    -------
    str
        "" when ``y ~ block + A * B * ...`` is of full rank on ``data``, else why not, in one
        sentence naming the block and the factor (e.g. every litter holds one sex).
    """
    names = _factor_names(factors)
    f = pd.DataFrame({_key(i): data[n].astype(str).to_numpy() for i, n in enumerate(names)})
    f[_BLK] = pd.Categorical(data[block].astype(str).to_numpy())
    return _block_confounding(_Design(f, names, tuple(() for _ in names), block))


def _block_confounding(design: _Design) -> str:
    f = design.frame
    for name, key in zip(design.factors, design.keys, strict=True):
        per_block = f.groupby(_BLK, observed=True)[key].nunique()
        if (per_block == 1).all():
            example = per_block.index[0]
            level = f.loc[f[_BLK] == example, key].iloc[0]
            return (
                f"every {design.block} holds a single level of {name!r} (e.g. {design.block} {example} holds "
                f"only {name} = {level}), so the {name} effect cannot be told apart from the {design.block} effect"
            )
    import patsy

    x = patsy.dmatrix(design.block_term + design.crossed(), f)
    if np.linalg.matrix_rank(np.asarray(x)) < x.shape[1]:
        return (
            f"the model y ~ {design.block} + {' * '.join(design.factors)} is not of full rank (some "
            f"{design.label} cells occur in too few {design.block}s)"
        )
    return ""


def _check_cells(design: _Design) -> None:
    f, keys = design.frame, list(design.keys)
    if _S in f.columns:
        cells_per_animal = f.groupby(_S, observed=True)[keys].nunique().max(axis=1)
        crossed = cells_per_animal[cells_per_animal > 1]
        if len(crossed):
            raise DesignError(
                f"animal {crossed.index[0]!r} appears in more than one {design.label} "
                "cell, but this is a between-animal design. Fix: give each animal a unique "
                "id, or use a repeated-measures analysis."
            )
        counts = f.groupby(keys, observed=False)[_S].nunique()
        unit = "animals"
    else:
        counts = f.groupby(keys, observed=False)[_Y].size()
        unit = "observations"
    empty = [_at(design.factors, cell) for cell, n in counts.items() if n == 0]
    if empty:
        raise DesignError(
            f"empty cell(s): {'; '.join(empty)}. Every {design.label} combination "
            "needs data. Fix: drop the unused level (e.g. Series.cat.remove_unused_categories), "
            "leave a factor out, or analyse the cells that were run with a one-way design."
        )
    small = [f"{_at(design.factors, cell)} (n = {n})" for cell, n in counts.items() if n < 2]
    if small:
        raise DesignError(
            f"cell(s) with fewer than 2 {unit}: {'; '.join(small)}. Cell variances and "
            "post hoc tests need at least 2 animals per cell. Fix: add animals or merge levels."
        )


def _per_animal(design: _Design) -> tuple[_Design, bool]:
    """Average several rows per animal (afex's ``fun_aggregate = mean``)."""
    f = design.frame
    if _S not in f.columns or not f[_S].duplicated().any():
        return design, False
    keys = [_S, *design.keys] + ([_BLK] if design.block is not None else [])
    values = [_Y] + ([_COV] if design.covariate is not None else [])
    means = f.groupby(keys, observed=True, sort=False)[values].mean().reset_index()
    return _Design(means, design.factors, design.levels, design.block, design.covariate), True


# ----------------------------------------------------------------------------- ANOVA


def _terms(design: _Design) -> list[tuple[int, ...]]:
    """The model's terms in R's order for ``y ~ A * B * C * D``: by order (main effects, then
    2-way, ...), and within an order as R expands the formula (``A:B, A:C, B:C, A:D, B:D,
    C:D``: ascending in the bit pattern with factor i as bit i)."""
    terms = itertools.chain.from_iterable(
        itertools.combinations(range(len(design.factors)), size) for size in range(1, len(design.factors) + 1)
    )
    return sorted(terms, key=lambda t: (len(t), sum(1 << i for i in t)))


def factorial_anova(
    data: pd.DataFrame,
    *,
    dv: str,
    factors: Sequence[str],
    ss_type: int = 3,
    subject: str | None = None,
    block: str | None = None,
    covariate: str | None = None,
) -> FactorialAnova:
    """Between-animal ANOVA of k >= 2 crossed factors, as ``afex::aov_ez`` / ``car::Anova``.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per observation.
    dv : str
        Outcome column.
    factors : sequence of str
        The k >= 2 factor columns; the model is the full factorial ``y ~ A * B * ...``.
    ss_type : {3, 2}
        Type III sums of squares with sum-to-zero contrasts (afex's default), or type II
        (each term adjusted for every term that does not contain it, ``car::Anova(type = 2)``).
    subject : str, optional
        Animal column. Several rows per animal are averaged to one mean per animal first.
    block : str, optional
        Block (cohort) column: the model is ``y ~ block + A * B * ...`` with sum-to-zero
        contrasts, as ``car::Anova(lm(y ~ block + A * B), type = 3)``; the table then has a
        row for the block too, after the effects of the factors.
    covariate : str, optional
        Numeric covariate column: the ANCOVA ``y ~ covariate + A * B * ...`` (one slope, no
        covariate x factor interaction), as ``car::Anova(lm(y ~ covariate + A * B), type =
        3)``; its row comes last. With ``subject`` it is averaged per animal like the outcome.

    Returns
    -------
    FactorialAnova
        One row per term in R's order (``A, B, C, A:B, A:C, B:C, A:B:C``), then the block.
        ``generalized_eta_sq`` is afex's ``ges`` with every factor manipulated, which for an
        all-between design equals the partial eta squared.
    """
    if ss_type not in (2, 3):
        raise DesignError(
            f"ss_type must be 2 or 3, got {ss_type!r}. Fix: ss_type=3 (afex / SPSS default) "
            "or ss_type=2."
        )
    design, aggregated = _per_animal(
        _prepare(data, dv=dv, factors=factors, subject=subject, block=block, covariate=covariate)
    )
    fit = smf.ols(f"{_Y} ~ {design.crossed()}{design.additive}", data=design.frame).fit()
    aov = anova_lm(fit, typ=ss_type)
    names = {
        ":".join(f"C({design.keys[i]}, Sum)" for i in term): ":".join(design.factors[i] for i in term)
        for term in _terms(design)
    }
    if design.block is not None:  # last: the effects of interest come first
        names[f"C({_BLK}, Sum)"] = design.block
    if design.covariate is not None:
        names[_COV] = design.covariate
    ss_error = float(aov.loc["Residual", "sum_sq"])
    df_error = float(aov.loc["Residual", "df"])
    rows = []
    for key, effect in names.items():
        ss = float(aov.loc[key, "sum_sq"])
        rows.append(
            {
                "effect": effect,
                "df_num": float(aov.loc[key, "df"]),
                "df_den": df_error,
                "F": float(aov.loc[key, "F"]),
                "p": float(aov.loc[key, "PR(>F)"]),
                "partial_eta_sq": ss / (ss + ss_error),
                # afex::ges with no observed (measured) factors: SS / (SS + SS_error).
                "generalized_eta_sq": ss / (ss + ss_error),
                "SS": ss,
                "SS_error": ss_error,
            }
        )
    table = pd.DataFrame(rows, columns=list(ANOVA_COLUMNS))
    if ss_type == 3:
        note = "Type III sums of squares with sum-to-zero contrasts."
    elif len(design.factors) == 2:
        note = "Type II sums of squares (each main effect adjusted for the other)."
    else:
        note = "Type II sums of squares (each effect adjusted for every effect that does not contain it)."
    if design.block is not None:
        note = (
            f"{design.block} entered as an additive fixed block (y ~ {design.block} + "
            f"{' * '.join(design.factors)}). " + note
        )
    if design.covariate is not None:
        note = (f"ANCOVA: {design.covariate} entered as a covariate with one slope (no covariate x factor "
                "interaction). " + note)
    if aggregated:
        note = (
            f"Several observations per animal were averaged to one mean per animal "
            f"({len(design.frame)} animals) before the ANOVA, as afex does "
            f"(fun_aggregate = mean). " + note
        )
    return FactorialAnova(
        table=table,
        ss_type=ss_type,
        n_analysed=len(design.frame),
        aggregated=aggregated,
        note=note,
        levels=dict(zip(design.factors, design.levels, strict=True)),
    )


# ----------------------------------------------------------------------------- cell contrasts


def _cell_fit(design: _Design):
    """OLS of the cell-means model (the full factorial, one parameter per cell; + block)."""
    cells = design.cells()
    f = design.frame.copy()
    f[_CELL] = pd.Categorical(design.cell_codes(), categories=range(len(cells)))
    # With a block: y ~ 0 + cell + block (sum-to-zero), so that each cell coefficient is the
    # cell mean averaged over the blocks with equal weights, as emmeans averages. With a
    # covariate, centred at its mean over the rows fitted: the cell coefficients are the
    # adjusted means at the mean covariate, as emmeans reports them.
    if design.covariate is not None:
        f[_COV] = f[_COV] - f[_COV].mean()
    fit = smf.ols(f"{_Y} ~ 0 + C({_CELL}){design.additive}", data=f).fit()
    return fit, cells


def _emm_labels(design: _Design, cells: list[tuple[str, ...]]) -> list[str]:
    """Cell labels as emmeans writes them in contrasts (numeric levels get the factor name)."""
    prefixes = [
        name if all(_R_NUMBER.match(v) for v in levels) else ""
        for name, levels in zip(design.factors, design.levels, strict=True)
    ]
    labels = []
    for cell in cells:
        text = " ".join(f"{p}{v}" for p, v in zip(prefixes, cell, strict=True))
        labels.append(f"({text})" if _PARENS.search(text) else text)
    return labels


def _t_contrasts(fit, weights: np.ndarray) -> dict[str, np.ndarray]:
    """t tests of cell contrasts (``weights``: one row per contrast, one column per cell)."""
    full = np.zeros((weights.shape[0], len(fit.params)))
    full[:, : weights.shape[1]] = weights  # block coefficients (if any) follow the cells
    test = fit.t_test(full)
    return {
        "estimate": np.atleast_1d(test.effect).astype(float),
        "se": np.atleast_1d(test.sd).ravel().astype(float),
        "df": np.full(weights.shape[0], float(fit.df_resid)),
        "t": np.atleast_1d(test.tvalue).ravel().astype(float),
        "p": np.atleast_1d(test.pvalue).ravel().astype(float),
    }


def cell_posthoc(
    data: pd.DataFrame,
    *,
    dv: str,
    factors: Sequence[str],
    ci_prob: float = CI_PROB,
    block: str | None = None,
    covariate: str | None = None,
) -> pd.DataFrame:
    """Tukey HSD over all cells: ``pairs(emmeans(fit, ~ A * B * ...))`` and its ``confint``.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per animal.
    dv : str
        Outcome column.
    factors : sequence of str
        The k >= 2 factor columns.
    ci_prob : float
        Coverage of the Tukey-adjusted (simultaneous) intervals.
    block : str, optional
        Block (cohort) column: contrasts of ``y ~ block + A * B * ...``.
    covariate : str, optional
        Numeric covariate column: contrasts of the ANCOVA's adjusted cell means at the mean
        covariate (emmeans on ``lm(y ~ covariate + A * B * ...)``).

    Returns
    -------
    pandas.DataFrame
        Columns ``contrast, estimate, se, df, t, p_adjusted, ci_low, ci_high``: every pair of
        the prod(levels) cells, in emmeans' order (cells with the first factor varying
        fastest) and wording (``"saline IgG - ketamine IgG"``, ``"AsstProf A Female -
        Prof A Female"``, numeric levels prefixed by the factor name as in ``"N0 P0 K0"``),
        from the full model's pooled residual SD and residual df. p uses
        ``scipy.stats.studentized_range`` with as many means as cells, whose absolute accuracy
        (~1e-12, like R's ``ptukey``) limits the relative accuracy of p-values below about 1e-6.
    """
    design = _prepare(data, dv=dv, factors=factors, block=block, covariate=covariate)
    fit, cells = _cell_fit(design)
    labels = _emm_labels(design, cells)
    k = len(cells)
    pairs = [(i, j) for i in range(k) for j in range(i + 1, k)]
    weights = np.zeros((len(pairs), k))
    for row, (i, j) in enumerate(pairs):
        weights[row, i], weights[row, j] = 1.0, -1.0
    res = _t_contrasts(fit, weights)
    df = float(fit.df_resid)
    p_adj = stats.studentized_range.sf(np.abs(res["t"]) * np.sqrt(2.0), k, df)
    half = stats.studentized_range.ppf(ci_prob, k, df) / np.sqrt(2.0) * res["se"]
    return pd.DataFrame(
        {
            "contrast": [f"{labels[i]} - {labels[j]}" for i, j in pairs],
            "estimate": res["estimate"],
            "se": res["se"],
            "df": res["df"],
            "t": res["t"],
            "p_adjusted": np.clip(p_adj, 0.0, 1.0),
            "ci_low": res["estimate"] - half,
            "ci_high": res["estimate"] + half,
        },
        columns=list(POSTHOC_COLUMNS),
    )


def _sidak(p: np.ndarray) -> np.ndarray:
    """Sidak adjustment over the whole family, 1 - (1 - p)^m without cancellation."""
    return -np.expm1(len(p) * np.log1p(-np.asarray(p, dtype=float)))


def _t_half_widths(se: np.ndarray, df: np.ndarray, ci_prob: float) -> tuple[np.ndarray, np.ndarray]:
    """Half-widths of the unadjusted and the Sidak-adjusted t intervals of a family.

    Sidak, as emmeans ``adjust = "sidak"``: each of the m intervals has coverage
    ``ci_prob ** (1 / m)``, so that all m cover together with probability >= ``ci_prob``.
    """
    se, df = np.asarray(se, dtype=float), np.asarray(df, dtype=float)
    each = ci_prob ** (1.0 / len(se))
    return (stats.t.ppf(0.5 + ci_prob / 2.0, df) * se, stats.t.ppf(0.5 + each / 2.0, df) * se)


@dataclass(frozen=True)
class _Planned:
    """One planned simple effect: ``level`` minus ``reference`` of ``effect`` at ``within``."""

    effect: str
    level: str
    reference: str
    within: str  # "B=b, C=c"
    cell: int  # index into design.cells()
    reference_cell: int


def _planned_pairs(design: _Design) -> list[_Planned]:
    """Each factor's non-reference levels vs its reference, within every combination of the
    other factors' levels: factor by factor, the combinations in emmeans' order (as
    ``contrast(emmeans(fit, ~ A | B * C), "trt.vs.ctrl")``), the levels innermost."""
    index = {cell: i for i, cell in enumerate(design.cells())}
    k, out = len(design.factors), []
    for i, (name, levels) in enumerate(zip(design.factors, design.levels, strict=True)):
        others = [j for j in range(k) if j != i]
        for combo in _emm_order([design.levels[j] for j in others]):
            within = _at([design.factors[j] for j in others], combo)
            for level in levels[1:]:
                cell, ref = list(combo), list(combo)
                cell.insert(i, level)
                ref.insert(i, levels[0])
                out.append(_Planned(name, level, levels[0], within, index[tuple(cell)], index[tuple(ref)]))
    return out


def simple_effects(
    data: pd.DataFrame,
    *,
    dv: str,
    factors: Sequence[str],
    ci_prob: float = CI_PROB,
    block: str | None = None,
    covariate: str | None = None,
) -> pd.DataFrame:
    """Planned simple effects of each factor within every combination of the others, vs reference.

    Each non-reference level of A minus A's reference within every combination of the levels
    of the other factors, then the same for B, C, ..., from the full model (pooled residual
    SD, residual df): emmeans ``contrast(emmeans(fit, ~ A | B * C), "trt.vs.ctrl")``, then
    ``~ B | A * C``, ``~ C | A * B``, Sidak-adjusted together as one family (emmeans
    ``rbind(..., adjust = "sidak")``).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per animal.
    dv : str
        Outcome column.
    factors : sequence of str
        The k >= 2 factor columns.
    ci_prob : float
        Coverage of the intervals.
    block : str, optional
        Block (cohort) column: contrasts of ``y ~ block + A * B * ...``.
    covariate : str, optional
        Numeric covariate column: contrasts of the ANCOVA's adjusted cell means at the mean
        covariate (emmeans on ``lm(y ~ covariate + A * B * ...)``).

    Returns
    -------
    pandas.DataFrame
        Columns ``effect, level, reference, within, estimate, se, df, t, p, p_adjusted,
        ci_low, ci_high, ci_low_adjusted, ci_high_adjusted, hedges_g, g_se, g_ci_low, g_ci_high``.
        ``effect`` is the factor, ``level`` its level compared with ``reference``;
        ``within`` names the levels of the other factors, in factor order: ``"B=b"`` for two
        factors, ``"B=b, C=c"`` for three. Rows factor by factor; within a factor, the
        combinations of the others in emmeans' order (the first varying fastest), the levels
        innermost. ``p`` is unadjusted, ``p_adjusted`` Sidak over all rows; ``ci_low,
        ci_high`` are the unadjusted intervals, ``ci_*_adjusted`` the Sidak-adjusted ones
        (emmeans ``confint(..., adjust = "sidak")``), to stand beside ``p_adjusted``.
        ``hedges_g`` is Hedges' g of the two cells alone (their own pooled SD, pingouin
        ``compute_effsize``) with pingouin's ``compute_esci`` interval.
    """
    design = _prepare(data, dv=dv, factors=factors, block=block, covariate=covariate)
    fit, cells = _cell_fit(design)
    planned = _planned_pairs(design)
    weights = np.zeros((len(planned), len(cells)))
    for row, item in enumerate(planned):
        weights[row, item.cell], weights[row, item.reference_cell] = 1.0, -1.0
    res = _t_contrasts(fit, weights)
    half, half_adj = _t_half_widths(res["se"], res["df"], ci_prob)
    y, codes = design.frame[_Y].to_numpy(), design.cell_codes()
    g, g_se, g_lo, g_hi = [], [], [], []
    for item in planned:
        x, r = y[codes == item.cell], y[codes == item.reference_cell]
        gi = float(pg.compute_effsize(x, r, paired=False, eftype="hedges"))
        ci = pg.compute_esci(
            stat=gi, nx=len(x), ny=len(r), eftype="hedges", confidence=ci_prob, decimals=15
        )
        g.append(gi)
        # pingouin's compute_esci standard error of g (Hedges & Olkin), behind its interval
        g_se.append(float(np.sqrt((len(x) + len(r)) / (len(x) * len(r)) + gi**2 / (2 * (len(x) + len(r))))))
        g_lo.append(float(ci[0]))
        g_hi.append(float(ci[1]))
    return pd.DataFrame(
        {
            "effect": [item.effect for item in planned],
            "level": [item.level for item in planned],
            "reference": [item.reference for item in planned],
            "within": [item.within for item in planned],
            **{key: res[key] for key in ("estimate", "se", "df", "t", "p")},
            "p_adjusted": _sidak(res["p"]),
            "ci_low": res["estimate"] - half,
            "ci_high": res["estimate"] + half,
            "ci_low_adjusted": res["estimate"] - half_adj,
            "ci_high_adjusted": res["estimate"] + half_adj,
            "hedges_g": g,
            "g_se": g_se,
            "g_ci_low": g_lo,
            "g_ci_high": g_hi,
        },
        columns=list(SIMPLE_COLUMNS),
    )


def interaction_contrasts(
    data: pd.DataFrame,
    *,
    dv: str,
    factors: Sequence[str],
    ci_prob: float = CI_PROB,
    block: str | None = None,
    covariate: str | None = None,
) -> pd.DataFrame:
    """Every interaction contrast against the reference levels, from the full model's pooled error.

    For every set S of two or more factors (in R's term order: ``A:B, A:C, B:C, A:B:C``),
    within every combination of the levels of the factors not in S (emmeans' order), and for
    every combination of non-reference levels of S (the first factor of S varying fastest):
    the |S|-way contrast against the reference levels, i.e. the alternating sum over the
    2^|S| cells in which each factor of S is at that level or at its reference (sign
    (-1)^(number at the reference)). With two factors, (mu[a, b] - mu[a0, b]) - (mu[a, b0] -
    mu[a0, b0]), the difference of differences; with three, the difference of those between
    c and c0. Estimates, SEs and df come from the full ``y ~ A * B * ...`` model (+ block):
    its pooled residual SD and residual df, never the sub-table alone.

    One Sidak family is the rows of one (``effect``, ``within``): exactly emmeans'
    ``summary(contrast(emmeans(fit, ~ A * B | C), interaction = c("trt.vs.ctrl",
    "trt.vs.ctrl")), adjust = "sidak", infer = TRUE)`` (adjusted within each ``by`` group,
    emmeans' default) for ``effect = "A:B"`` and ``within = "C=c"``, and
    ``contrast(emmeans(fit, ~ A * B * C), interaction = c("trt.vs.ctrl", "trt.vs.ctrl",
    "trt.vs.ctrl"))`` with ``adjust = "sidak"`` for ``effect = "A:B:C"``. With two factors
    the family is all (I - 1)(J - 1) rows, as before; for a 2 x 2 the one contrast also
    equals emmeans' ``interaction = "pairwise"`` (the product of two sign flips).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per animal.
    dv : str
        Outcome column.
    factors : sequence of str
        The k >= 2 factor columns.
    ci_prob : float
        Coverage of the intervals.
    block : str, optional
        Block (cohort) column: contrasts of ``y ~ block + A * B * ...``.
    covariate : str, optional
        Numeric covariate column: contrasts of the ANCOVA's adjusted cell means at the mean
        covariate (emmeans on ``lm(y ~ covariate + A * B * ...)``).

    Returns
    -------
    pandas.DataFrame
        Three or more factors: columns ``effect, within, cell, reference_cell, contrast,
        estimate, se, df, t, p, p_adjusted, ci_low, ci_high, ci_low_adjusted,
        ci_high_adjusted`` (``INTERACTION_KWAY_COLUMNS``): ``effect`` the factors of S
        (``"A:B"``, ``"A:B:C"``); ``within`` the levels of the other factors (``"C=c"``;
        ``""`` when S holds every factor); ``cell`` the non-reference levels of S joined by
        ``"|"`` in factor order, ``reference_cell`` their reference levels likewise;
        ``contrast`` e.g. ``"(a - a0) x (b - b0) x (c - c0)"``.

        Two factors: the A x B version's columns ``effect, level_a, level_b, reference_a,
        reference_b, contrast, estimate, ..., ci_high_adjusted`` unchanged, then ``within``
        (always ``""``), ``cell`` (``"a|b"``) and ``reference_cell`` (``"a0|b0"``)
        (``INTERACTION_COLUMNS``).

        ``p`` and ``ci_low, ci_high`` are unadjusted, ``p_adjusted`` and ``ci_*_adjusted``
        Sidak within the row's (effect, within) family (equal to the unadjusted ones for a
        family of one contrast, e.g. every 2 x 2 x 2 row).
    """
    design = _prepare(data, dv=dv, factors=factors, block=block, covariate=covariate)
    fit, cells = _cell_fit(design)
    index = {cell: i for i, cell in enumerate(cells)}
    names, levels, k = design.factors, design.levels, len(design.factors)
    rows, weights = [], []
    for term in (t for t in _terms(design) if len(t) >= 2):
        rest = [j for j in range(k) if j not in term]
        refs = tuple(levels[j][0] for j in term)
        for at in _emm_order([levels[j] for j in rest]):
            for combo in _emm_order([levels[j][1:] for j in term]):
                w = np.zeros(len(cells))
                for mask in itertools.product((False, True), repeat=len(term)):
                    cell = dict(zip(rest, at, strict=True))
                    for j, lv, rf, at_level in zip(term, combo, refs, mask, strict=True):
                        cell[j] = lv if at_level else rf
                    w[index[tuple(cell[j] for j in range(k))]] = (-1.0) ** (len(term) - sum(mask))
                weights.append(w)
                rows.append({
                    "effect": ":".join(names[j] for j in term),
                    "within": _at([names[j] for j in rest], at),
                    "cell": "|".join(combo),
                    "reference_cell": "|".join(refs),
                    "contrast": " x ".join(f"({lv} - {rf})" for lv, rf in zip(combo, refs, strict=True)),
                    "levels": combo,
                })
    res = _t_contrasts(fit, np.array(weights))
    out = pd.DataFrame(rows).assign(**{key: res[key] for key in ("estimate", "se", "df", "t", "p")})
    half, _ = _t_half_widths(res["se"], res["df"], ci_prob)
    out["ci_low"], out["ci_high"] = res["estimate"] - half, res["estimate"] + half
    for _, family in out.groupby(["effect", "within"], sort=False).groups.items():
        fam = out.loc[family]
        _, half_adj = _t_half_widths(fam["se"], fam["df"], ci_prob)
        out.loc[family, "p_adjusted"] = _sidak(fam["p"].to_numpy())
        out.loc[family, "ci_low_adjusted"] = fam["estimate"].to_numpy() - half_adj
        out.loc[family, "ci_high_adjusted"] = fam["estimate"].to_numpy() + half_adj
    if k > 2:
        return out[list(INTERACTION_KWAY_COLUMNS)]
    out["level_a"] = [lv[0] for lv in out["levels"]]
    out["level_b"] = [lv[1] for lv in out["levels"]]
    out["reference_a"], out["reference_b"] = levels[0][0], levels[1][0]
    return out[list(INTERACTION_COLUMNS)]


def covariate_slope(
    data: pd.DataFrame,
    *,
    dv: str,
    factors: Sequence[str],
    covariate: str,
    ci_prob: float = CI_PROB,
    block: str | None = None,
) -> dict[str, float]:
    """The ANCOVA's common slope of the covariate, ``coef(lm(y ~ covariate + A * B))``.

    Returns
    -------
    dict
        ``estimate, se, df, t, p, ci_low, ci_high`` (unadjusted t interval), from the cell-means
        model with the covariate (+ block), one row per animal.
    """
    design = _prepare(data, dv=dv, factors=factors, block=block, covariate=covariate)
    fit, _ = _cell_fit(design)
    est, se = float(fit.params[_COV]), float(fit.bse[_COV])
    half = float(stats.t.ppf(0.5 + ci_prob / 2.0, fit.df_resid)) * se
    return {"estimate": est, "se": se, "df": float(fit.df_resid), "t": float(fit.tvalues[_COV]),
            "p": float(fit.pvalues[_COV]), "ci_low": est - half, "ci_high": est + half}


def assumption_checks(
    data: pd.DataFrame, *, dv: str, factors: Sequence[str], covariate: str | None = None
) -> dict[str, float | str]:
    """Normality of the residuals and homogeneity of the cell variances (checks, not gates).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per animal.
    dv : str
        Outcome column.
    factors : sequence of str
        The k >= 2 factor columns.

    Returns
    -------
    dict
        ``shapiro_W, shapiro_p`` (Shapiro-Wilk of the full ``A * B * ...`` model's residuals,
        R ``shapiro.test(residuals(fit))``), ``levene_F, levene_df_num, levene_df_den,
        levene_p`` (median-centred Levene / Brown-Forsythe across all the cells, R
        ``car::leveneTest(y ~ A * B * C)``), ``n`` and ``note``.
    """
    design = _prepare(data, dv=dv, factors=factors, covariate=covariate)
    fit, cells = _cell_fit(design)
    resid = np.asarray(fit.resid, dtype=float)
    if len(resid) < 3:
        raise DesignError("Shapiro-Wilk needs at least 3 residuals. Fix: add animals.")
    sw = stats.shapiro(resid)
    y, codes = design.frame[_Y].to_numpy(), design.cell_codes()
    groups = [y[codes == i] for i in range(len(cells))]
    lev = stats.levene(*groups, center="median")
    return {
        "shapiro_W": float(sw.statistic),
        "shapiro_p": float(sw.pvalue),
        "levene_F": float(lev.statistic),
        "levene_df_num": float(len(groups) - 1),
        "levene_df_den": float(len(resid) - len(groups)),
        "levene_p": float(lev.pvalue),
        "n": len(resid),
        "note": "Reported as checks, not gates: the ANOVA is reported whatever they show.",
    }


# ----------------------------------------------------------------------------- mixed model


def _r_term(name: str, design: _Design) -> str:
    """statsmodels term name -> lme4 / coxph name under treatment contrasts."""
    if name == "Intercept":
        return "(Intercept)"
    parts = []
    for piece in re.split(r"(?<=\]):(?=C\()", name):
        match = re.fullmatch(r"C\(_f(\d+)\)\[T\.(.*)\]", piece)
        if match is None:  # pragma: no cover - formula is built here
            raise DesignError(f"unexpected model term {name!r}.")
        parts.append(f"{design.factors[int(match.group(1))]}{match.group(2)}")
    return ":".join(parts)


def factorial_mixed_model(
    data: pd.DataFrame,
    *,
    dv: str,
    factors: Sequence[str],
    subject: str,
) -> MixedModelFit:
    """REML linear mixed model ``dv ~ A * B * ... + (1 | subject)`` on every observation.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per observation (e.g. per-minute scores), several per animal.
    dv : str
        Outcome column.
    factors : sequence of str
        The k >= 2 factor columns (constant within an animal).
    subject : str
        Animal column.

    Returns
    -------
    MixedModelFit
        Fitted with statsmodels ``MixedLM`` (BFGS, gradient tolerance 1e-10); the fixed
        effects' covariance is lme4's, sigma^2 (X' V^-1 X)^-1 at the REML estimates (statsmodels'
        own Hessian-based one differs slightly), computed as a GLS with that V. Terms in
        lme4's order and names (treatment contrasts).
    """
    design = _prepare(data, dv=dv, factors=factors, subject=subject)
    f = design.frame
    if not f[_S].duplicated().any():
        raise DesignError(
            "every animal has a single row, so the animal variance cannot be separated from "
            "the residual. Fix: use factorial_anova for one value per animal."
        )
    model = smf.mixedlm(f"{_Y} ~ {design.crossed(contrast='')}", data=f, groups=f[_S])
    fit = model.fit(reml=True, method=["bfgs"], gtol=1e-10, maxiter=1000)
    if not fit.converged:
        raise ConvergenceError(
            "the REML fit of the mixed model did not converge. Fix: check the data for an "
            "animal variance near zero, or report factorial_anova on the animal means."
        )
    var_animal = float(fit.cov_re.iloc[0, 0])
    var_resid = float(fit.scale)
    # lme4's SEs: (X'V⁻¹X)⁻¹ at the REML variances, V used through its per-animal blocks.
    blocks = RandomInterceptBlocks(pd.Categorical(f[_S]).codes)
    exog = np.asarray(model.exog, dtype=float)
    cov_beta = np.linalg.inv(exog.T @ blocks.vinv(np.array([var_animal, var_resid]), exog))
    est = np.asarray(fit.fe_params, dtype=float)
    se = np.sqrt(np.diag(cov_beta))
    terms = [_r_term(n, design) for n in model.exog_names]
    fixed = pd.DataFrame({"term": terms, "estimate": est, "se": se, "t": est / se})
    return MixedModelFit(
        fixed_effects=fixed,
        sd_animal=float(np.sqrt(var_animal)),
        sd_residual=float(np.sqrt(var_resid)),
        reml_criterion=float(-2.0 * fit.llf),
        method="REML",
        n_obs=len(f),
        n_animals=int(f[_S].nunique()),
    )


# ----------------------------------------------------------------------------- censored data


def _km_median(time: np.ndarray, event: np.ndarray) -> float:
    """Kaplan-Meier median by the rule of R's ``print(survfit)`` (``survival:::survmean``).

    The first event time with S(t) <= 0.5; where S is exactly 0.5 and falls further later,
    the midpoint between that time and the next event time. NaN when S never reaches 0.5.
    (R's ``quantile(survfit)`` differs only when S ends at exactly 0.5: it then takes the
    midpoint to the last follow-up time.)
    """
    if not event.any():
        return float("nan")
    sf = SurvfuncRight(time, event.astype(float))
    surv, times = np.asarray(sf.surv_prob), np.asarray(sf.surv_times)
    tol = np.sqrt(np.finfo(float).eps)
    keep = surv < 0.5 + tol
    if not keep.any():
        return float("nan")
    surv, times = surv[keep], times[keep]
    lower = np.flatnonzero(surv < surv[0])
    if abs(surv[0] - 0.5) < tol and len(lower):
        return float((times[0] + times[lower[0]]) / 2.0)
    return float(times[0])


def censored_tests(
    data: pd.DataFrame,
    *,
    time: str,
    event: str,
    factors: Sequence[str],
    ties: str = "efron",
) -> dict[str, object]:
    """Right-censored latencies (e.g. novelty-suppressed feeding) in a k-way between design.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per animal.
    time : str
        Latency column (positive).
    event : str
        True (or 1) when the latency was observed (the mouse ate), False (0) when censored.
    factors : sequence of str
        The k >= 2 factor columns.
    ties : {"efron", "breslow"}
        Tie handling of the Cox model; matches R ``coxph(..., ties = ties)`` (R's default is
        "efron").

    Returns
    -------
    dict
        ``km_median``: DataFrame with one column per factor, then ``n, events, median,
        median_reached, median_label``, one row per cell in emmeans' order (Kaplan-Meier
        median as R's ``print(survfit)`` gives it; when S never falls to 0.5 the median is
        NaN, ``median_reached`` False and the label ``"> T"`` with T the cell's longest
        follow-up, e.g. the 600 s cut-off).
        ``logrank``: DataFrame ``effect, level, reference, within, chisq, df, p,
        p_adjusted``: two-sample log-rank tests (R ``survdiff``) of the planned simple effects
        (the rows of :func:`simple_effects`), Sidak over the family. ``cox``: DataFrame
        ``term, coef, se, hazard_ratio, z, p`` of ``Surv(time, event) ~ A * B * ...`` (the
        full interaction, treatment contrasts, R term names and order), or None when a cell
        has no event or a coefficient diverges (infinite hazard ratio); ``cox_interaction``:
        Wald chi-square, df and p of all the interaction terms together (for a 2 x 2 the
        interaction coefficient's p); ``cox_main``: when the model with the interactions is
        not estimable (a cell with no event, or a diverging coefficient), the main-effects
        model ``Surv ~ A + B + ...`` (same columns; None when it is not estimable either);
        ``note`` says which model was fitted and names the cells without events.
        ``cox_loglik``, ``ties`` and ``note``.
    """
    if ties not in ("efron", "breslow"):
        raise DesignError(f'ties must be "efron" or "breslow", got {ties!r}. Fix: ties="efron".')
    _check_columns(data, {"time": time, "event": event})
    t = pd.to_numeric(data[time], errors="coerce").to_numpy(dtype=float)
    if not np.all(np.isfinite(t)) or np.any(t <= 0):
        raise DesignError(
            f"latency column {time!r} must hold positive numbers with no missing values. "
            "Fix: drop or correct those rows (a mouse that never ate gets the cut-off, "
            "e.g. 600, with event False)."
        )
    raw_event = data[event]
    valid = raw_event.isin([True, False, 0, 1]) & raw_event.notna()
    if not valid.all():
        raise DesignError(
            f"event column {event!r} must be True/False (or 1/0): True when the latency was "
            f"observed, False when censored; found {raw_event[~valid].iloc[0]!r}. "
            "Fix: recode it."
        )
    ev = raw_event.astype(bool).to_numpy()
    design = _prepare(data.assign(**{time: t}), dv=time, factors=factors)
    f = design.frame.assign(_event=ev)
    y, codes = f[_Y].to_numpy(), design.cell_codes()

    rows = []
    for i, cell in enumerate(design.cells()):
        ti, ei = y[codes == i], ev[codes == i]
        median = _km_median(ti, ei)
        reached = bool(np.isfinite(median))
        rows.append(
            {
                **dict(zip(design.factors, cell, strict=True)),
                "n": len(ti),
                "events": int(ei.sum()),
                "median": median,
                "median_reached": reached,
                "median_label": f"{median:.15g}" if reached else f"> {np.max(ti):.15g}",
            }
        )
    km = pd.DataFrame(rows)

    lr_rows = []
    for item in _planned_pairs(design):
        sel = (codes == item.cell) | (codes == item.reference_cell)
        if not ev[sel].any():
            chisq, p = float("nan"), float("nan")
        else:
            chisq, p = survdiff(y[sel], ev[sel].astype(float), (codes[sel] == item.cell).astype(int))
        lr_rows.append(
            {
                "effect": item.effect, "level": item.level, "reference": item.reference,
                "within": item.within, "chisq": float(chisq), "df": 1.0, "p": float(p),
            }
        )
    logrank = pd.DataFrame(lr_rows)
    logrank["p_adjusted"] = _sidak(logrank["p"].to_numpy())
    logrank = logrank[list(LOGRANK_COLUMNS)]

    no_event = km.loc[km["events"] == 0]
    cox = cox_interaction = cox_loglik = cox_main = None
    note = f"Cox model with {ties.capitalize()}'s method for tied times (as R's coxph)."
    if len(no_event):
        cells = "; ".join(_at(design.factors, [r[n] for n in design.factors], " = ")
                          for r in no_event.to_dict("records"))
        note = (
            f"No Cox model with the interaction: the cell(s) {cells} have no event, so the interaction's "
            "hazard ratio is infinite (monotone likelihood; R's coxph warns 'coefficient may be infinite')."
        )
    else:
        cox, cox_interaction, cox_loglik = _cox(f, design, ties, interaction=True)
        if cox is None:
            note = ("No Cox model with the interaction: its coefficients diverge (monotone likelihood; a "
                    "hazard ratio is infinite).")
    if cox is None:
        cox_main, _, _ = _cox(f, design, ties, interaction=False)
        note += (f" Reported instead: the main-effects Cox model ({' + '.join(design.factors)}, {ties} ties)."
                 if cox_main is not None else
                 " The main-effects Cox model is not estimable either (a factor level has no event).")
    return {
        "km_median": km,
        "logrank": logrank,
        "cox": cox,
        "cox_interaction": cox_interaction,
        "cox_main": cox_main,
        "cox_loglik": cox_loglik,
        "ties": ties,
        "note": note,
    }


#: A Cox coefficient beyond this (|log hazard ratio|), or an SE beyond 1e3, is taken as infinite.
_COX_INFINITE = 15.0


def _cox(f: pd.DataFrame, design: _Design, ties: str, *, interaction: bool):
    """Cox model ``A * B * ...`` (or ``A + B + ...``): (table, Wald test of the interaction
    terms, log-likelihood), or (None, None, None) when a coefficient diverges (monotone
    likelihood)."""
    formula = f"{_Y} ~ {design.crossed('*' if interaction else '+', contrast='')}"
    # Design matrix from patsy (treatment contrasts), intercept dropped: Cox has none.
    model = PHReg.from_formula(formula, data=f, status=f["_event"].astype(float).to_numpy(), ties=ties)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = model.fit(method="newton", tol=1e-12, maxiter=200)
    coef = np.asarray(res.params, dtype=float)
    se = np.asarray(res.bse, dtype=float)
    if not (np.all(np.isfinite(coef)) and np.all(np.isfinite(se))) or np.any(np.abs(coef) > _COX_INFINITE) \
            or np.any(se > 1e3):
        return None, None, None
    z = coef / se
    table = pd.DataFrame(
        {
            "term": [_r_term(n, design) for n in model.exog_names],
            "coef": coef,
            "se": se,
            "hazard_ratio": np.exp(coef),
            "z": z,
            "p": 2.0 * stats.norm.sf(np.abs(z)),
        },
        columns=list(COX_COLUMNS),
    )
    wald = None
    if interaction:
        inter = np.array([":" in n for n in model.exog_names])
        cov = np.asarray(res.cov_params(), dtype=float)[np.ix_(inter, inter)]
        chi2 = float(coef[inter] @ np.linalg.solve(cov, coef[inter]))
        wald = {"chisq": chi2, "df": float(inter.sum()), "p": float(stats.chi2.sf(chi2, inter.sum()))}
    return table, wald, float(res.llf)
