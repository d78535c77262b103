"""Frequentist analysis of an A x B between-animal design, numbered as R numbers it.

The functions take a tidy frame (one row per observation) with an outcome column, two factor
columns and, optionally, an animal column and a block (cohort) column. With a block, every
model is ``y ~ block + A * B`` (an additive fixed block, sum-to-zero contrasts), as
``car::Anova(lm(y ~ block + A * B), type = 3)`` and emmeans on that model, whose cell means
are averaged over the blocks with equal weights. Level order is the order of a pandas Categorical,
else the order of first appearance; the first level is the reference. Every figure is pinned
to R (afex, car, emmeans, lme4, survival) in ``tests/test_frequentist_between.py``; the R
script is ``tests/fixtures/between_golden.R``.

Functions
---------
factorial_anova        type III (sum-to-zero contrasts) or type II ANOVA table (afex / car).
cell_posthoc           Tukey HSD over all A x B cells (emmeans ``pairs``).
simple_effects         planned simple effects, Sidak over the whole family, Hedges' g.
interaction_contrasts  difference of differences of every 2 x 2 against the reference levels,
                       from the full model's pooled error (emmeans ``interaction``), Sidak.
assumption_checks      Shapiro-Wilk of the residuals, Levene (median-centred) across cells.
factorial_mixed_model  REML ``dv ~ A * B + (1 | animal)`` on every observation (lme4).
censored_tests         Kaplan-Meier medians, log-rank simple effects, Cox model (survival).
"""

from __future__ import annotations

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
    "cell_posthoc",
    "censored_tests",
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
INTERACTION_COLUMNS = (
    "effect", "level_a", "level_b", "reference_a", "reference_b", "contrast", "estimate", "se",
    "df", "t", "p", "p_adjusted", "ci_low", "ci_high", "ci_low_adjusted", "ci_high_adjusted",
)
LOGRANK_COLUMNS = (
    "effect", "level", "reference", "within", "chisq", "df", "p", "p_adjusted",
)
COX_COLUMNS = ("term", "coef", "se", "hazard_ratio", "z", "p")

# Internal column names of the validated frame (patsy-safe whatever the user's names are).
_Y, _A, _B, _S, _CELL, _BLK = "_y", "_a", "_b", "_subject", "_cell", "_block"
# emmeans wraps a contrast operand in parentheses when it contains one of these (option parens).
_PARENS = re.compile(r"-|\+|/|\*")
# What R's as.numeric() reads as a number: emmeans then prefixes the factor name to the level.
_R_NUMBER = re.compile(
    r"^\s*[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|0[xX][0-9a-fA-F]+|inf|infinity)\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class FactorialAnova:
    """Result of :func:`factorial_anova`.

    Attributes
    ----------
    table : pandas.DataFrame
        Columns ``effect, df_num, df_den, F, p, partial_eta_sq, generalized_eta_sq, SS,
        SS_error``; effects named as R names them (``"A"``, ``"B"``, ``"A:B"``).
    ss_type : int
        2 or 3.
    n_analysed : int
        Rows entering the ANOVA (animals when ``aggregated``).
    aggregated : bool
        True when several rows per animal were averaged to one mean per animal.
    note : str
        How the data were analysed, one or two sentences for the methods text.
    levels : dict
        Factor name -> tuple of level labels, reference first.
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
        Columns ``term, estimate, se, t``; treatment contrasts, terms named as lme4 names them
        (``"(Intercept)"``, ``"treatmentketamine"``, ``"treatmentketamine:antibodynAb"``).
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
    frame: pd.DataFrame  # columns _y, _a, _b (Categoricals of labels), _subject and _block if given
    a: str
    b: str
    levels_a: tuple[str, ...]
    levels_b: tuple[str, ...]
    block: str | None = None

    @property
    def block_term(self) -> str:
        """The block's part of a patsy formula ("" without a block)."""
        return f"C({_BLK}, Sum) + " if self.block is not None else ""


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


def _prepare(
    data: object,
    *,
    dv: str,
    factors: Sequence[str],
    subject: str | None = None,
    block: str | None = None,
) -> _Design:
    """Validate the frame and return it with internal column names and level order."""
    if isinstance(factors, str) or len(factors) != 2 or factors[0] == factors[1]:
        raise DesignError(
            f"factors must name exactly two different columns, got {factors!r}. "
            'Fix: pass factors=["treatment", "antibody"].'
        )
    a, b = (str(f) for f in factors)
    _check_columns(data, {"dv": dv, "factor": a, "second factor": b, "subject": subject,
                          "block": block})
    if subject is not None and subject in (a, b):
        raise DesignError(
            f"subject column {subject!r} is also a factor. Fix: pass the animal id column."
        )
    if block is not None and block in (a, b, subject):
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
    for name, key in ((a, _A), (b, _B)):
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
                f"factor {name!r} has a single level ({labels[0]!r}); an A x B analysis needs "
                "at least two levels per factor. Fix: check the column, or analyse the other "
                "factor alone."
            )
        mapping = dict(zip(raw, labels, strict=True))
        frame[key] = pd.Categorical(
            [mapping[v] for v in col.to_numpy()], categories=labels
        )
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
    design = _Design(frame, a, b, level_sets[0], level_sets[1], block)
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
    """"" when ``y ~ block + A * B`` is of full rank on ``data`` (one row per animal), else why
    not, in one sentence naming the block and the factor (e.g. every litter holds one sex)."""
    a, b = (str(f) for f in factors)
    f = pd.DataFrame({_A: data[a].astype(str).to_numpy(), _B: data[b].astype(str).to_numpy(),
                      _BLK: pd.Categorical(data[block].astype(str).to_numpy())})
    return _block_confounding(_Design(f, a, b, (), (), block))


def _block_confounding(design: _Design) -> str:
    f = design.frame
    for name, key in ((design.a, _A), (design.b, _B)):
        per_block = f.groupby(_BLK, observed=True)[key].nunique()
        if (per_block == 1).all():
            example = per_block.index[0]
            level = f.loc[f[_BLK] == example, key].iloc[0]
            return (
                f"every {design.block} holds a single level of {name!r} (e.g. {design.block} {example} holds "
                f"only {name} = {level}), so the {name} effect cannot be told apart from the {design.block} effect"
            )
    import patsy

    x = patsy.dmatrix(f"{design.block_term}C({_A}, Sum) * C({_B}, Sum)", f)
    if np.linalg.matrix_rank(np.asarray(x)) < x.shape[1]:
        return (
            f"the model y ~ {design.block} + {design.a} * {design.b} is not of full rank (some "
            f"{design.a} x {design.b} cells occur in too few {design.block}s)"
        )
    return ""


def _check_cells(design: _Design) -> None:
    f = design.frame
    if _S in f.columns:
        cells_per_animal = f.groupby(_S, observed=True)[[_A, _B]].nunique().max(axis=1)
        crossed = cells_per_animal[cells_per_animal > 1]
        if len(crossed):
            raise DesignError(
                f"animal {crossed.index[0]!r} appears in more than one {design.a} x {design.b} "
                "cell, but this is a between-animal design. Fix: give each animal a unique "
                "id, or use a repeated-measures analysis."
            )
        counts = f.groupby([_A, _B], observed=False)[_S].nunique()
        unit = "animals"
    else:
        counts = f.groupby([_A, _B], observed=False)[_Y].size()
        unit = "observations"
    empty = [f"{design.a}={ka}, {design.b}={kb}" for (ka, kb), n in counts.items() if n == 0]
    if empty:
        raise DesignError(
            f"empty cell(s): {'; '.join(empty)}. Every {design.a} x {design.b} combination "
            "needs data. Fix: drop the unused level (e.g. Series.cat.remove_unused_categories) "
            "or analyse the cells that were run with a one-way design."
        )
    small = [
        f"{design.a}={ka}, {design.b}={kb} (n = {n})" for (ka, kb), n in counts.items() if n < 2
    ]
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
    keys = [_S, _A, _B] + ([_BLK] if design.block is not None else [])
    means = f.groupby(keys, observed=True, sort=False)[_Y].mean().reset_index()
    return _Design(means, design.a, design.b, design.levels_a, design.levels_b, design.block), True


# ----------------------------------------------------------------------------- ANOVA


def factorial_anova(
    data: pd.DataFrame,
    *,
    dv: str,
    factors: Sequence[str],
    ss_type: int = 3,
    subject: str | None = None,
    block: str | None = None,
) -> FactorialAnova:
    """Two-way between-animal ANOVA, as ``afex::aov_ez`` / ``car::Anova`` compute it.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per observation.
    dv : str
        Outcome column.
    factors : sequence of str
        The two factor columns.
    ss_type : {3, 2}
        Type III sums of squares with sum-to-zero contrasts (afex's default), or type II.
    subject : str, optional
        Animal column. Several rows per animal are averaged to one mean per animal first.
    block : str, optional
        Block (cohort) column: the model is ``y ~ block + A * B`` with sum-to-zero
        contrasts, as ``car::Anova(lm(y ~ block + A * B), type = 3)``; the table then has a
        row for the block too, after the A, B and A:B rows.

    Returns
    -------
    FactorialAnova
        ``generalized_eta_sq`` is afex's ``ges`` with every factor manipulated, which for an
        all-between design equals the partial eta squared.
    """
    if ss_type not in (2, 3):
        raise DesignError(
            f"ss_type must be 2 or 3, got {ss_type!r}. Fix: ss_type=3 (afex / SPSS default) "
            "or ss_type=2."
        )
    design, aggregated = _per_animal(
        _prepare(data, dv=dv, factors=factors, subject=subject, block=block)
    )
    fit = smf.ols(f"{_Y} ~ {design.block_term}C({_A}, Sum) * C({_B}, Sum)", data=design.frame).fit()
    aov = anova_lm(fit, typ=ss_type)
    names = {
        f"C({_A}, Sum)": design.a,
        f"C({_B}, Sum)": design.b,
        f"C({_A}, Sum):C({_B}, Sum)": f"{design.a}:{design.b}",
    }
    if design.block is not None:  # last: the effects of interest come first
        names[f"C({_BLK}, Sum)"] = design.block
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
    note = (
        "Type III sums of squares with sum-to-zero contrasts."
        if ss_type == 3
        else "Type II sums of squares (each main effect adjusted for the other)."
    )
    if design.block is not None:
        note = (
            f"{design.block} entered as an additive fixed block (y ~ {design.block} + "
            f"{design.a} * {design.b}). " + note
        )
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
        levels={design.a: design.levels_a, design.b: design.levels_b},
    )


# ----------------------------------------------------------------------------- cell contrasts


def _cells(design: _Design) -> list[tuple[str, str]]:
    """Cells in emmeans' order: the first factor varies fastest."""
    return [(la, lb) for lb in design.levels_b for la in design.levels_a]


def _cell_fit(design: _Design):
    """OLS of the cell-means model (the full A * B model, one parameter per cell; + block)."""
    f = design.frame.copy()
    cells = _cells(design)
    codes = {cell: i for i, cell in enumerate(cells)}
    f[_CELL] = pd.Categorical(
        [codes[(a, b)] for a, b in zip(f[_A], f[_B], strict=True)], categories=range(len(cells))
    )
    # With a block: y ~ 0 + cell + block (sum-to-zero), so that each cell coefficient is the
    # cell mean averaged over the blocks with equal weights, as emmeans averages.
    block = f" + C({_BLK}, Sum)" if design.block is not None else ""
    fit = smf.ols(f"{_Y} ~ 0 + C({_CELL}){block}", data=f).fit()
    return fit, cells


def _emm_labels(design: _Design, cells: list[tuple[str, str]]) -> list[str]:
    """Cell labels as emmeans writes them in contrasts (numeric levels get the factor name)."""
    prefix_a = design.a if all(_R_NUMBER.match(v) for v in design.levels_a) else ""
    prefix_b = design.b if all(_R_NUMBER.match(v) for v in design.levels_b) else ""
    labels = []
    for la, lb in cells:
        text = f"{prefix_a}{la} {prefix_b}{lb}"
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
) -> pd.DataFrame:
    """Tukey HSD over all A x B cells: ``pairs(emmeans(fit, ~ A * B))`` and its ``confint``.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per animal.
    dv : str
        Outcome column.
    factors : sequence of str
        The two factor columns.
    ci_prob : float
        Coverage of the Tukey-adjusted (simultaneous) intervals.
    block : str, optional
        Block (cohort) column: contrasts of ``y ~ block + A * B``.

    Returns
    -------
    pandas.DataFrame
        Columns ``contrast, estimate, se, df, t, p_adjusted, ci_low, ci_high``; contrasts in
        emmeans' order and wording (``"saline IgG - ketamine IgG"``), from the full model's
        pooled residual SD and residual df. p uses ``scipy.stats.studentized_range``, whose
        absolute accuracy (~1e-12, like R's ``ptukey``) limits the relative accuracy of
        p-values below about 1e-6.
    """
    design = _prepare(data, dv=dv, factors=factors, block=block)
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


def _planned_pairs(design: _Design) -> list[tuple[str, str, str, str, str, tuple, tuple]]:
    """(effect, level, reference, within-factor, within-level, cell, reference cell)."""
    out = []
    ref_a, ref_b = design.levels_a[0], design.levels_b[0]
    for lb in design.levels_b:
        for la in design.levels_a[1:]:
            out.append((design.a, la, ref_a, design.b, lb, (la, lb), (ref_a, lb)))
    for la in design.levels_a:
        for lb in design.levels_b[1:]:
            out.append((design.b, lb, ref_b, design.a, la, (la, lb), (la, ref_b)))
    return out


def simple_effects(
    data: pd.DataFrame,
    *,
    dv: str,
    factors: Sequence[str],
    ci_prob: float = CI_PROB,
    block: str | None = None,
) -> pd.DataFrame:
    """Planned simple effects of each factor within each level of the other, vs reference.

    Each non-reference level of A minus A's reference within every level of B, then each
    non-reference level of B minus B's reference within every level of A, from the full
    A * B model (pooled residual SD, residual df): emmeans ``contrast(emmeans(fit, ~ A | B),
    "trt.vs.ctrl")`` and the reverse, Sidak-adjusted together as one family.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per animal.
    dv : str
        Outcome column.
    factors : sequence of str
        The two factor columns.
    ci_prob : float
        Coverage of the intervals.
    block : str, optional
        Block (cohort) column: contrasts of ``y ~ block + A * B``.

    Returns
    -------
    pandas.DataFrame
        Columns ``effect, level, reference, within, estimate, se, df, t, p, p_adjusted,
        ci_low, ci_high, ci_low_adjusted, ci_high_adjusted, hedges_g, g_se, g_ci_low, g_ci_high``.
        ``p`` is unadjusted, ``p_adjusted`` Sidak over all rows; ``ci_low, ci_high`` are the
        unadjusted intervals, ``ci_*_adjusted`` the Sidak-adjusted ones (emmeans
        ``confint(..., adjust = "sidak")``), to stand beside ``p_adjusted``. ``hedges_g`` is
        Hedges' g of the two cells alone (their own pooled SD, pingouin ``compute_effsize``)
        with pingouin's ``compute_esci`` interval.
    """
    design = _prepare(data, dv=dv, factors=factors, block=block)
    fit, cells = _cell_fit(design)
    index = {cell: i for i, cell in enumerate(cells)}
    planned = _planned_pairs(design)
    weights = np.zeros((len(planned), len(cells)))
    for row, item in enumerate(planned):
        weights[row, index[item[5]]], weights[row, index[item[6]]] = 1.0, -1.0
    res = _t_contrasts(fit, weights)
    half, half_adj = _t_half_widths(res["se"], res["df"], ci_prob)
    f = design.frame
    g, g_se, g_lo, g_hi = [], [], [], []
    for item in planned:
        x = f.loc[(f[_A] == item[5][0]) & (f[_B] == item[5][1]), _Y].to_numpy()
        y = f.loc[(f[_A] == item[6][0]) & (f[_B] == item[6][1]), _Y].to_numpy()
        gi = float(pg.compute_effsize(x, y, paired=False, eftype="hedges"))
        ci = pg.compute_esci(
            stat=gi, nx=len(x), ny=len(y), eftype="hedges", confidence=ci_prob, decimals=15
        )
        g.append(gi)
        # pingouin's compute_esci standard error of g (Hedges & Olkin), behind its interval
        g_se.append(float(np.sqrt((len(x) + len(y)) / (len(x) * len(y)) + gi**2 / (2 * (len(x) + len(y))))))
        g_lo.append(float(ci[0]))
        g_hi.append(float(ci[1]))
    return pd.DataFrame(
        {
            "effect": [item[0] for item in planned],
            "level": [item[1] for item in planned],
            "reference": [item[2] for item in planned],
            "within": [f"{item[3]}={item[4]}" for item in planned],
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
) -> pd.DataFrame:
    """Interaction contrast of every 2 x 2 sub-table against the reference levels.

    For each non-reference level a of A and b of B: (mu[a, b] - mu[a0, b]) - (mu[a, b0] -
    mu[a0, b0]), from the full A * B model (its pooled residual SD and residual df, never
    the 2 x 2 sub-table alone), as emmeans ``contrast(emmeans(fit, ~ A * B), interaction =
    c("trt.vs.ctrl", "trt.vs.ctrl"))``; for a 2 x 2 the one contrast equals emmeans'
    ``interaction = "pairwise"`` (the product of two sign flips).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per animal.
    dv : str
        Outcome column.
    factors : sequence of str
        The two factor columns.
    ci_prob : float
        Coverage of the intervals.
    block : str, optional
        Block (cohort) column: contrasts of ``y ~ block + A * B``.

    Returns
    -------
    pandas.DataFrame
        Columns ``effect, level_a, level_b, reference_a, reference_b, contrast, estimate, se,
        df, t, p, p_adjusted, ci_low, ci_high, ci_low_adjusted, ci_high_adjusted``: ``p`` and
        ``ci_low, ci_high`` unadjusted, ``p_adjusted`` and ``ci_*_adjusted`` Sidak over the
        (I - 1)(J - 1) contrasts (equal to the unadjusted ones for a 2 x 2).
    """
    design = _prepare(data, dv=dv, factors=factors, block=block)
    fit, cells = _cell_fit(design)
    index = {cell: i for i, cell in enumerate(cells)}
    a0, b0 = design.levels_a[0], design.levels_b[0]
    pairs = [(la, lb) for lb in design.levels_b[1:] for la in design.levels_a[1:]]
    weights = np.zeros((len(pairs), len(cells)))
    for row, (la, lb) in enumerate(pairs):
        for cell, w in (((la, lb), 1.0), ((a0, lb), -1.0), ((la, b0), -1.0), ((a0, b0), 1.0)):
            weights[row, index[cell]] = w
    res = _t_contrasts(fit, weights)
    half, half_adj = _t_half_widths(res["se"], res["df"], ci_prob)
    return pd.DataFrame(
        {
            "effect": f"{design.a}:{design.b}",
            "level_a": [la for la, _ in pairs],
            "level_b": [lb for _, lb in pairs],
            "reference_a": a0,
            "reference_b": b0,
            "contrast": [f"({la} - {a0}) x ({lb} - {b0})" for la, lb in pairs],
            **{key: res[key] for key in ("estimate", "se", "df", "t", "p")},
            "p_adjusted": _sidak(res["p"]),
            "ci_low": res["estimate"] - half,
            "ci_high": res["estimate"] + half,
            "ci_low_adjusted": res["estimate"] - half_adj,
            "ci_high_adjusted": res["estimate"] + half_adj,
        },
        columns=list(INTERACTION_COLUMNS),
    )


def assumption_checks(
    data: pd.DataFrame, *, dv: str, factors: Sequence[str]
) -> dict[str, float | str]:
    """Normality of the residuals and homogeneity of the cell variances (checks, not gates).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per animal.
    dv : str
        Outcome column.
    factors : sequence of str
        The two factor columns.

    Returns
    -------
    dict
        ``shapiro_W, shapiro_p`` (Shapiro-Wilk of the full A * B model's residuals, R
        ``shapiro.test(residuals(fit))``), ``levene_F, levene_df_num, levene_df_den,
        levene_p`` (median-centred Levene / Brown-Forsythe across the cells, R
        ``car::leveneTest(y ~ A * B)``), ``n`` and ``note``.
    """
    design = _prepare(data, dv=dv, factors=factors)
    fit, _ = _cell_fit(design)
    resid = np.asarray(fit.resid, dtype=float)
    if len(resid) < 3:
        raise DesignError("Shapiro-Wilk needs at least 3 residuals. Fix: add animals.")
    sw = stats.shapiro(resid)
    f = design.frame
    groups = [
        f.loc[(f[_A] == la) & (f[_B] == lb), _Y].to_numpy() for la, lb in _cells(design)
    ]
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
        match = re.fullmatch(r"C\((_a|_b)\)\[T\.(.*)\]", piece)
        if match is None:  # pragma: no cover - formula is built here
            raise DesignError(f"unexpected model term {name!r}.")
        factor = design.a if match.group(1) == _A else design.b
        parts.append(f"{factor}{match.group(2)}")
    return ":".join(parts)


def factorial_mixed_model(
    data: pd.DataFrame,
    *,
    dv: str,
    factors: Sequence[str],
    subject: str,
) -> MixedModelFit:
    """REML linear mixed model ``dv ~ A * B + (1 | subject)`` on every observation.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per observation (e.g. per-minute scores), several per animal.
    dv : str
        Outcome column.
    factors : sequence of str
        The two factor columns (constant within an animal).
    subject : str
        Animal column.

    Returns
    -------
    MixedModelFit
        Fitted with statsmodels ``MixedLM`` (BFGS, gradient tolerance 1e-10); the fixed
        effects' covariance is lme4's, sigma^2 (X' V^-1 X)^-1 at the REML estimates (statsmodels'
        own Hessian-based one differs slightly), computed as a GLS with that V.
    """
    design = _prepare(data, dv=dv, factors=factors, subject=subject)
    f = design.frame
    if not f[_S].duplicated().any():
        raise DesignError(
            "every animal has a single row, so the animal variance cannot be separated from "
            "the residual. Fix: use factorial_anova for one value per animal."
        )
    model = smf.mixedlm(f"{_Y} ~ C({_A}) * C({_B})", data=f, groups=f[_S])
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
    """Right-censored latencies (e.g. novelty-suppressed feeding) in an A x B design.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per animal.
    time : str
        Latency column (positive).
    event : str
        True (or 1) when the latency was observed (the mouse ate), False (0) when censored.
    factors : sequence of str
        The two factor columns.
    ties : {"efron", "breslow"}
        Tie handling of the Cox model; matches R ``coxph(..., ties = ties)`` (R's default is
        "efron").

    Returns
    -------
    dict
        ``km_median``: DataFrame with the two factor columns, ``n, events, median,
        median_reached, median_label`` (Kaplan-Meier median as R's ``print(survfit)`` gives it; when
        S never falls to 0.5 the median is NaN, ``median_reached`` False and the label
        ``"> T"`` with T the cell's longest follow-up, e.g. the 600 s cut-off).
        ``logrank``: DataFrame ``effect, level, reference, within, chisq, df, p,
        p_adjusted``: two-sample log-rank tests (R ``survdiff``) of the planned simple effects,
        Sidak over the family. ``cox``: DataFrame ``term, coef, se, hazard_ratio, z, p`` of
        ``Surv(time, event) ~ A * B`` (treatment contrasts, R term names), or None when a
        cell has no event or a coefficient diverges (infinite hazard ratio); ``cox_interaction``: Wald chi-square, df
        and p of the interaction terms (for a 2 x 2 the interaction coefficient's p);
        ``cox_main``: when the model with the interaction is not estimable (a cell with no
        event, or a diverging coefficient), the main-effects model ``Surv ~ A + B`` (same
        columns; None when it is not estimable either); ``note`` says which model was fitted
        and names the cells without events. ``cox_loglik``, ``ties`` and ``note``.
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
    a, b = design.a, design.b

    rows = []
    for la, lb in _cells(design):
        sel = (f[_A] == la) & (f[_B] == lb)
        ti, ei = f.loc[sel, _Y].to_numpy(), f.loc[sel, "_event"].to_numpy()
        median = _km_median(ti, ei)
        reached = bool(np.isfinite(median))
        rows.append(
            {
                a: la,
                b: lb,
                "n": int(sel.sum()),
                "events": int(ei.sum()),
                "median": median,
                "median_reached": reached,
                "median_label": f"{median:.15g}" if reached else f"> {np.max(ti):.15g}",
            }
        )
    km = pd.DataFrame(rows)

    planned = _planned_pairs(design)
    lr_rows = []
    for effect, level, ref, wf, wl, cell, ref_cell in planned:
        sel_x = (f[_A] == cell[0]) & (f[_B] == cell[1])
        sel_r = (f[_A] == ref_cell[0]) & (f[_B] == ref_cell[1])
        sub = f[sel_x | sel_r]
        if not sub["_event"].any():
            chisq, p = float("nan"), float("nan")
        else:
            chisq, p = survdiff(
                sub[_Y].to_numpy(), sub["_event"].to_numpy().astype(float),
                np.where(sel_x[sel_x | sel_r].to_numpy(), 1, 0),
            )
        lr_rows.append(
            {
                "effect": effect, "level": level, "reference": ref, "within": f"{wf}={wl}",
                "chisq": float(chisq), "df": 1.0, "p": float(p),
            }
        )
    logrank = pd.DataFrame(lr_rows)
    logrank["p_adjusted"] = _sidak(logrank["p"].to_numpy())
    logrank = logrank[list(LOGRANK_COLUMNS)]

    no_event = km.loc[km["events"] == 0]
    cox = cox_interaction = cox_loglik = cox_main = None
    note = f"Cox model with {ties} ties (R coxph(..., ties = \"{ties}\"))."
    if len(no_event):
        cells = "; ".join(f"{a} = {r[a]}, {b} = {r[b]}" for r in no_event.to_dict("records"))
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
        note += (f" Reported instead: the main-effects Cox model ({a} + {b}, {ties} ties)."
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
    """Cox model ``A * B`` (or ``A + B``): (table, interaction Wald test, log-likelihood), or
    (None, None, None) when a coefficient diverges (monotone likelihood)."""
    formula = f"{_Y} ~ C({_A}) {'*' if interaction else '+'} C({_B})"
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
