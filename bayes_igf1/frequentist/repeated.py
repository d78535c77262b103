"""Frequentist repeated-measures analyses: mixed ANOVA, paired t and REML mixed-model contrasts.

Every function reproduces R to at least 6 significant digits (golden values in
``tests/test_frequentist_repeated.py`` and ``tests/test_frequentist_mixed.py``, R scripts
``tests/fixtures/repeated_golden.R`` and ``tests/fixtures/mixed_golden.R``):

* :func:`mixed_anova` is ``afex::aov_ez(id, dv, data, between = c(...), within = c(...),
  type = 3, anova_table = list(es = c("pes", "ges"), correction = "none"))`` for any number
  of between and within factors, with the Greenhouse-Geisser / Huynh-Feldt corrections and
  Mauchly tests of ``summary()`` (``car:::summary.Anova.mlm``). :func:`rm_anova` is its
  one-between, one-within special case (kept with its original output).
* :func:`paired_t` is ``t.test(x, y, paired = TRUE)`` with Cohen's d_z.
* :func:`mixed_model_contrasts` is ``lme4::lmer(dv ~ group * time + (1 | subject))`` with
  ``emmeans(fit, ~ group | time, lmer.df = "satterthwaite")``, ``contrast(...,
  "trt.vs.ctrl")`` and ``summary(..., by = NULL, adjust = "sidak")``;
  :func:`factorial_mixed_contrasts` does the same for several between factors
  (``dv ~ A * B * time + (1 | subject)``, ``emmeans(fit, ~ A * B | time)``: every combination
  of the between factors against the reference combination at each time).

No function calls R; R was used once, to compute the golden values.
"""

from __future__ import annotations

import itertools
import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import reduce

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.regression.mixed_linear_model import MixedLM
from statsmodels.stats.multitest import multipletests

from bayes_igf1.constants import CI_PROB
from bayes_igf1.errors import ConvergenceError, DataError, DesignError
from bayes_igf1.frequentist.blocks import RandomInterceptBlocks

__all__ = [
    "cell_contrasts",
    "MixedModel",
    "PairedT",
    "RMAnova",
    "factorial_mixed_contrasts",
    "mixed_anova",
    "mixed_model_contrasts",
    "paired_t",
    "rm_anova",
]

ANOVA_COLUMNS = [
    "effect",
    "df_num",
    "df_den",
    "F",
    "p",
    "epsilon_gg",
    "p_gg",
    "epsilon_hf",
    "p_hf",
    "partial_eta_sq",
    "generalized_eta_sq",
    "SS",
    "SS_error",
]
CONTRAST_COLUMNS = [
    "group",
    "reference",
    "time",
    "estimate",
    "se",
    "df",
    "ci_low",
    "ci_high",
    "ci_low_adjusted",
    "ci_high_adjusted",
    "p",
    "p_adjusted",
    "method",
]
# factorial_mixed_contrasts: one column per between factor (the compared cell's level) first.
FACTORIAL_CONTRAST_COLUMNS = ["contrast", *CONTRAST_COLUMNS[2:]]


@dataclass(frozen=True)
class RMAnova:
    """Mixed (between x within) ANOVA, type III sums of squares.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per effect, named and ordered as afex does (between effects, then each
        within effect followed by its interactions with the between effects):
        ``effect, df_num, df_den, F, p, epsilon_gg, p_gg, epsilon_hf, p_hf,
        partial_eta_sq, generalized_eta_sq, SS, SS_error``. Degrees of freedom are
        uncorrected; ``p_gg`` / ``p_hf`` use the corrected ones. ``epsilon_hf`` is reported
        as car does (may exceed 1); its p value uses ``min(1, epsilon_hf)``. From
        :func:`mixed_anova` the four correction columns are NaN where car reports no
        correction (between effects, within effects with 1 df, singular error SSP); for
        :func:`rm_anova`'s fill-ins see its Returns section.
    mauchly : pandas.DataFrame
        ``effect, W, p``: Mauchly's sphericity test for within effects with > 1 df.
    n_subjects : int
        Subjects used.
    subjects_dropped : list
        Subjects left out because they lack a within cell (or, with no within factor, a
        value), in order of first appearance in the data.
    drop_reason : str
        Why they were left out ("" when none was).
    """

    table: pd.DataFrame
    mauchly: pd.DataFrame
    n_subjects: int
    subjects_dropped: list = field(default_factory=list)
    drop_reason: str = ""


@dataclass(frozen=True)
class PairedT:
    """Paired t test of ``level - reference`` (``t.test(x, y, paired = TRUE)``).

    Attributes
    ----------
    level, reference : object
        The two levels of the within factor; differences are ``level - reference``.
    estimate : float
        Mean of the per-subject differences.
    se : float
        Its standard error, ``sd_diff / sqrt(n_subjects)``.
    df : float
        ``n_subjects - 1``.
    t, p : float
        t statistic and two-sided p value.
    ci_low, ci_high : float
        t interval of the mean difference with probability ``ci_prob``.
    ci_prob : float
        Probability of the interval.
    cohens_dz : float
        Standardised mean difference ``estimate / sd_diff`` (Cohen's d_z).
    sd_diff : float
        Standard deviation of the differences (n - 1 denominator).
    n_subjects : int
        Subjects with both values (pairs used).
    subjects_dropped : list
        Subjects lacking one of the two values, in order of first appearance.
    drop_reason : str
        Why they were left out ("" when none was).
    method : str
        ``"paired t test"``.
    """

    level: object
    reference: object
    estimate: float
    se: float
    df: float
    t: float
    p: float
    ci_low: float
    ci_high: float
    ci_prob: float
    cohens_dz: float
    sd_diff: float
    n_subjects: int
    subjects_dropped: list = field(default_factory=list)
    drop_reason: str = ""
    method: str = "paired t test"

    def to_frame(self) -> pd.DataFrame:
        """The result as a one-row frame (without the drop list)."""
        keys = ["level", "reference", "estimate", "se", "df", "t", "p", "ci_low", "ci_high",
                "ci_prob", "cohens_dz", "sd_diff", "n_subjects", "method"]
        return pd.DataFrame([{k: getattr(self, k) for k in keys}])


@dataclass(frozen=True)
class MixedModel:
    """REML random-intercept model ``dv ~ group * time + (1 | subject)`` and its contrasts.

    Attributes
    ----------
    fixed_effects : pandas.DataFrame
        ``term, estimate, se`` with R's names and treatment coding (reference group and
        first time as baseline), e.g. ``"(Intercept)"``, ``"treatmentketamine10:hour1"``
        or, with several between factors, ``"treatmentA:genderM:phasepost"``.
    sd_animal, sd_residual : float
        REML standard deviations of the subject intercepts and of the residuals.
    contrasts : pandas.DataFrame
        From :func:`mixed_model_contrasts`: ``group, reference, time, estimate, se, df,
        ci_low, ci_high, ci_low_adjusted, ci_high_adjusted, p, p_adjusted, method``.
        From :func:`factorial_mixed_contrasts`: one column per between factor (the level
        of the compared cell), then ``contrast`` (emmeans' label, e.g. ``"A M - control
        F"``), ``time, estimate, ...`` as above. Cell - reference at each time; unadjusted
        t-based CI and p, Sidak-adjusted p and CI over the whole family returned.
    n_obs, n_subjects : int
        Rows and subjects used (incomplete subjects are kept).
    method : str
        ``"REML"``.
    df_method : str
        ``"Satterthwaite"``.
    """

    fixed_effects: pd.DataFrame
    sd_animal: float
    sd_residual: float
    contrasts: pd.DataFrame
    n_obs: int
    n_subjects: int
    method: str = "REML"
    df_method: str = "Satterthwaite"


# --------------------------------------------------------------------------- helpers


def _check_columns(
    data: pd.DataFrame, columns: Mapping[str, str] | Sequence[tuple[str, str]]
) -> None:
    """Data is a frame holding every (role, column); label columns have no empty cell."""
    pairs = list(columns.items()) if isinstance(columns, Mapping) else list(columns)
    if not isinstance(data, pd.DataFrame):
        raise DataError(
            f"expected a pandas DataFrame, got {type(data).__name__}",
            fix="pass the tidy long frame (one row per subject and time)",
        )
    for role, name in pairs:
        if name not in data.columns:
            raise DataError(
                f"the {role} column {name!r} is not in the data (columns: {list(data.columns)})",
                column=name,
                fix=f"pass {role}= one of the column names above",
            )
    for role, name in pairs:
        if role != "dv" and data[name].isna().any():
            raise DataError(
                f"the {role} column {name!r} has {int(data[name].isna().sum())} empty cell(s)",
                column=name,
                fix="fill in the labels or remove those rows",
            )


def _factor_names(value: str | Sequence[str], role: str) -> list[str]:
    """A factor list: one name (str) or a sequence of names."""
    if isinstance(value, str):
        return [value]
    try:
        names = list(value)
    except TypeError:
        raise DesignError(
            f"{role}= must be a column name or a list of column names, got {value!r}. "
            f"Fix: pass e.g. {role}=['treatment', 'sex']"
        ) from None
    bad = [v for v in names if not isinstance(v, str)]
    if bad:
        raise DesignError(
            f"{role}= must hold column names (strings); got {bad[0]!r}. "
            f"Fix: pass e.g. {role}=['treatment', 'sex']"
        )
    return names


def _distinct_roles(named: Sequence[tuple[str, str]]) -> None:
    """No column plays two roles (e.g. a factor listed as both between and within)."""
    seen: dict[str, str] = {}
    for role, name in named:
        if name in seen:
            raise DesignError(
                f"column {name!r} is given both as {seen[name]} and as {role}. "
                "Fix: give each column one role (subject, outcome, between or within factor)"
            )
        seen[name] = role


def _numeric(data: pd.DataFrame, dv: str) -> pd.Series:
    values = pd.to_numeric(data[dv], errors="coerce")
    bad = values.isna() & data[dv].notna()
    if bad.any():
        raise DataError(
            f"the outcome column {dv!r} holds non-numeric values, e.g. {data[dv][bad].iloc[0]!r}",
            column=dv,
            fix="leave missing values empty and use numbers elsewhere",
        )
    return values.astype(float)


def _levels(values: pd.Series) -> list:
    """Levels in a stable order: categorical order if categorical, else sorted."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        present = set(values.dropna())
        return [c for c in values.cat.categories if c in present]
    return sorted(pd.unique(values.dropna()))


def _label(value: object) -> str:
    """A level as R's ``as.character`` writes it (1.0 -> "1", 0.5 -> "0.5")."""
    if isinstance(value, (float, np.floating)):
        return format(float(value), ".15g")
    return str(value)


def _show(value: object) -> str:
    """repr of a label for messages, numpy scalars as plain Python (1, not np.int64(1))."""
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value)


def _cell_label(factors: Sequence[str], values: Sequence) -> str:
    """``"phase post x hour 3"``: a cell of several factors, for messages."""
    return " x ".join(f"{f} {_label(v)}" for f, v in zip(factors, values))


def _one_group_per_subject(data: pd.DataFrame, subject: str, group: str) -> pd.Series:
    counts = data.groupby(subject, sort=False, observed=True)[group].nunique()
    if (counts > 1).any():
        who = counts.index[counts > 1][0]
        raise DataError(
            f"subject {_show(who)} appears in more than one {group!r} level",
            column=group,
            fix=f"give each subject one {group!r} level (or unique subject ids per group)",
        )
    return data.groupby(subject, sort=False, observed=True)[group].first()


def _no_duplicates(data: pd.DataFrame, subject: str, time: str) -> None:
    dup = data.duplicated([subject, time], keep=False)
    if dup.any():
        first = data.index[dup][0]
        raise DataError(
            f"subject {_show(data.at[first, subject])} has {int(dup.sum())} rows sharing a "
            f"{time!r} value (e.g. {_show(data.at[first, time])}); one row per subject and "
            f"{time} is expected",
            column=time,
            fix="average the replicates or correct the subject / time labels",
        )


def _no_replicates(data: pd.DataFrame, subject: str, within: list[str], dv: str) -> None:
    """One row per subject and within cell (one row per subject without within factors).

    afex would average replicates (``fun_aggregate = mean``) with a warning; here they are
    refused so that no averaging happens silently.
    """
    dup = data.duplicated([subject, *within], keep=False)
    if not dup.any():
        return
    first = data.index[dup][0]
    row = {c: data.at[first, c] for c in [subject, *within]}  # per column: keeps dtypes
    same = (data[subject] == row[subject]).to_numpy().copy()
    for w in within:
        same &= (data[w] == row[w]).to_numpy()
    n_rows = int(same.sum())
    keys = ", ".join(repr(c) for c in [subject, *within])
    if within:
        where = f"the within cell {_cell_label(within, [row[w] for w in within])}"
        expected = "one row per subject and within cell is expected"
    else:
        where = "the data"
        expected = "with no within factor the ANOVA uses one value per subject"
    raise DesignError(
        f"subject {_show(row[subject])} has {n_rows} rows in {where}; {expected} "
        "(afex would average them silently). Fix: average the replicates first, e.g. "
        f"data.groupby([{keys}], as_index=False)[{dv!r}].mean() (keeping the between "
        "columns), or correct the subject / factor labels"
    )


def _r_terms(n_factors: int) -> list[tuple[int, ...]]:
    """Terms of the full factorial ``f1 * f2 * ...`` in R's order (``terms()``).

    R orders by degree, then as the expansion of ``((f1 * f2) * f3) * ...`` produces them,
    i.e. by the bit pattern ``sum(2^i)`` of the factors present: a, b, c, a:b, a:c, b:c, a:b:c.
    """
    subsets = [
        tuple(i for i in range(n_factors) if mask >> i & 1) for mask in range(1, 2**n_factors)
    ]
    return sorted(subsets, key=len)  # stable: keeps bit-pattern order within a degree


# --------------------------------------------------------------------------- ANOVA


def _orthonormal_contrasts(k: int) -> np.ndarray:
    """k x (k-1) orthonormal basis of the contrasts (columns orthogonal to 1)."""
    q, _ = np.linalg.qr(np.column_stack([np.ones(k), np.eye(k)[:, : k - 1]]))
    return q[:, 1:]


def _car_mauchly(sspe: np.ndarray, k: int, df_error: int) -> tuple[float, float]:
    """Mauchly's test as ``car:::summary.Anova.mlm`` computes it.

    car's second-order term uses ``3 * p`` with ``p`` the number of within cells ``k``
    (rows of the within design, all within factors crossed) where ``stats::mauchly.test``
    uses the dimension of the tested contrasts; kept so that p matches R.
    """
    pp = sspe.shape[0]
    n = df_error
    log_w = np.linalg.slogdet(sspe)[1] - pp * np.log(np.trace(sspe) / pp)
    rho = 1 - (2 * pp**2 + pp + 2) / (6 * pp * n)
    w2 = (
        (pp + 2) * (pp - 1) * (pp - 2) * (2 * pp**3 + 6 * pp**2 + 3 * k + 2)
        / (288 * (n * pp * rho) ** 2)
    )
    z = -n * rho * log_w
    f = pp * (pp + 1) / 2 - 1
    pr1 = stats.chi2.sf(z, f)
    pr2 = stats.chi2.sf(z, f + 4)
    return float(np.exp(log_w)), float(pr1 + w2 * (pr2 - pr1))


def _sum_coded(codes: np.ndarray, g: int) -> np.ndarray:
    """n x (g-1) sum-to-zero (``contr.sum``) columns of a factor with integer codes."""
    contr = np.vstack([np.eye(g - 1), -np.ones(g - 1)])
    return contr[codes]


def _row_kron(blocks: list[np.ndarray]) -> np.ndarray:
    """Row-wise Kronecker product, first block varying fastest (R's interaction columns)."""
    out = blocks[0]
    for b in blocks[1:]:
        out = (b[:, :, None] * out[:, None, :]).reshape(len(out), -1)
    return out


def mixed_anova(
    data: pd.DataFrame,
    *,
    subject: str,
    dv: str,
    between: str | Sequence[str] = (),
    within: str | Sequence[str] = (),
) -> RMAnova:
    """Type III mixed ANOVA with any number of between and within factors, as afex.

    Parameters
    ----------
    data : pandas.DataFrame
        Long frame: one row per subject and within cell (one row per subject when there is
        no within factor).
    subject, dv : str
        Column names of the subject id and of the outcome.
    between : str or sequence of str
        Between-subject factors (constant within a subject); may be empty.
    within : str or sequence of str
        Within-subject factors (each with >= 2 levels; numeric values are treated as
        categories in sorted order); may be empty. At least one of ``between`` and
        ``within`` must be given.

    Returns
    -------
    RMAnova
        Effects named and ordered as ``afex::aov_ez``: the between effects
        (``A, B, A:B`` in R's term order), then for each within term (``W1, W2, W1:W2``)
        the term itself followed by its interactions with the between effects
        (``W1, A:W1, B:W1, A:B:W1, ...``). ``epsilon_gg, p_gg, epsilon_hf, p_hf`` are
        given for within effects with > 1 df (car's ``summary()``; HF may exceed 1, its p
        uses ``min(1, eps)``) and are NaN elsewhere; ``mauchly`` has one row per such
        effect. ``generalized_eta_sq`` is afex's ges with all factors manipulated:
        ``SS / (SS + sum of the error SS of all strata)``.

    Raises
    ------
    DataError
        Missing column, empty factor label, non-numeric outcome, a subject in two levels
        of a between factor.
    DesignError
        No factor given, a column in two roles, several rows for one subject and within
        cell (afex would average them; average them first), a within factor with < 2
        levels, a between factor with < 2 levels or an empty between cell among the
        complete subjects, no error degrees of freedom.

    Notes
    -----
    Subjects lacking a value in any within cell (absent row or empty outcome) are dropped
    and listed in ``subjects_dropped`` with the cells they lack, as afex does (with a
    warning). With no within factor this is the between-subjects type III ANOVA of
    ``car::Anova(lm(dv ~ A * B), type = 3)`` with sum-to-zero contrasts.

    The multivariate approach of ``car::Anova(idata = ...)``: the wide outcome matrix Y
    (subjects x within cells, all within factors crossed) is regressed on the sum-to-zero
    coded full factorial of the between factors. Each effect pairs a between term (or the
    intercept) with a within term (or none): its hypothesis SSP is that of the between
    term's coefficients (type III) projected on P, the within term's orthonormal contrasts
    (Kronecker product over the within factors of orthonormal contrasts for the factors in
    the term and the normalised constant for the others). SS = tr(SSP_H), SS_error =
    tr(P' E P), df = df_between x df_within and df_error x df_within. pingouin is not used:
    its mixed ANOVA is not type III in unbalanced designs (see :func:`rm_anova`).
    """
    between = _factor_names(between, "between")
    within = _factor_names(within, "within")
    if not between and not within:
        raise DesignError(
            "mixed_anova needs at least one factor. Fix: pass between=[...] (factors that "
            "differ between subjects) and/or within=[...] (factors measured on every subject)"
        )
    roles = [("subject", subject), *(("between", b) for b in between),
             *(("within", w) for w in within), ("dv", dv)]
    _distinct_roles(roles)
    _check_columns(data, roles)
    frame = data[[subject, *between, *within]].copy()
    frame["__y"] = _numeric(data, dv)
    _no_replicates(frame, subject, within, dv)
    group_of = {b: _one_group_per_subject(frame, subject, b) for b in between}
    subjects = frame.groupby(subject, sort=False, observed=True).size().index
    w_levels = [_levels(frame[w]) for w in within]
    for w, lv in zip(within, w_levels):
        if len(lv) < 2:
            raise DesignError(
                f"the within factor {w!r} has {len(lv)} level(s); at least 2 are needed. "
                f"Fix: check the {w!r} column, or use a between-subjects ANOVA"
            )

    # Wide outcome: subjects x within cells (first within factor varying slowest).
    if not within:
        wide = frame.set_index(subject)[["__y"]].reindex(subjects)
        cells: list[tuple] = [()]
    elif len(within) == 1:
        wide = frame.pivot(index=subject, columns=within[0], values="__y")
        wide = wide.reindex(index=subjects, columns=w_levels[0])
        cells = [(lv,) for lv in w_levels[0]]
    else:
        cells = list(itertools.product(*w_levels))
        wide = frame.pivot(index=subject, columns=within, values="__y")
        wide = wide.reindex(index=subjects, columns=pd.MultiIndex.from_tuples(cells))
    incomplete = wide.isna().any(axis=1)
    dropped = wide.index[incomplete].tolist()
    reason = ""
    if dropped:
        row_of = {s: i for i, s in enumerate(wide.index)}
        missing = wide.isna().to_numpy()
        if len(within) == 1:
            w = within[0]
            parts = [
                f"{s} (no {w} {', '.join(_label(t) for t in wide.columns[wide.loc[s].isna()])})"
                for s in dropped
            ]
            reason = (
                f"the repeated-measures ANOVA needs a {dv!r} value at every {w!r} level for "
                f"each subject; dropped: " + "; ".join(parts)
            )
        elif within:
            parts = [
                f"{s} (no "
                + ", ".join(_cell_label(within, cells[j]) for j in np.flatnonzero(missing[row_of[s]]))
                + ")"
                for s in dropped
            ]
            reason = (
                f"the repeated-measures ANOVA needs a {dv!r} value in every "
                f"{' x '.join(repr(w) for w in within)} cell for each subject; dropped: "
                + "; ".join(parts)
            )
        else:
            reason = (
                f"the ANOVA needs a {dv!r} value for each subject; dropped (no value): "
                + "; ".join(str(s) for s in dropped)
            )
    wide = wide.loc[~incomplete]
    n, k = wide.shape

    # Between design: sum-to-zero coded full factorial, columns grouped by R term.
    b_levels, b_codes = [], []
    for b in between:
        used = group_of[b].loc[wide.index]
        lv = _levels(used)
        if len(lv) < 2:
            after = f"the missing {', '.join(within)} values" if within else "the missing values"
            raise DesignError(
                f"the between factor {b!r} has {len(lv)} level(s) with complete subjects; at "
                f"least 2 are needed. Fix: check the {b!r} column or {after}"
            )
        b_levels.append(lv)
        b_codes.append(pd.Categorical(used, categories=lv).codes)
    n_cells = int(np.prod([len(lv) for lv in b_levels])) if between else 1
    if len(between) > 1:
        combo = pd.Series(list(zip(*b_codes)))
        present = set(combo)
        empty = [
            _cell_label(between, [b_levels[i][c] for i, c in enumerate(cell)])
            for cell in itertools.product(*[range(len(lv)) for lv in b_levels])
            if cell not in present
        ]
        if empty:
            raise DesignError(
                f"no complete subject in the between cell(s) {empty}; type III tests need "
                f"every combination of {' x '.join(repr(b) for b in between)}. Fix: add "
                "subjects to those cells, or leave one of the factors out"
            )
    df_error = n - n_cells
    if df_error < 1:
        what = (
            f"{n_cells} {between[0]!r} groups" if len(between) == 1
            else f"{n_cells} {' x '.join(repr(b) for b in between)} cells" if between
            else "one group"
        )
        raise DesignError(
            f"{n} complete subjects in {what} leave no error degrees of freedom. "
            "Fix: add subjects (at least one group needs 2 complete subjects)"
        )

    y = wide.to_numpy(float)
    coded = [_sum_coded(c, len(lv)) for c, lv in zip(b_codes, b_levels)]
    b_terms = _r_terms(len(between))
    columns = [np.ones(n)]
    term_cols = [[0]]
    start = 1
    for term in b_terms:
        block = _row_kron([coded[i] for i in term])
        columns.append(block)
        term_cols.append(list(range(start, start + block.shape[1])))
        start += block.shape[1]
    x = np.column_stack(columns)
    xtx_inv = np.linalg.inv(x.T @ x)
    coef = xtx_inv @ x.T @ y
    resid = y - x @ coef
    sspe_full = resid.T @ resid
    eye = np.eye(x.shape[1])
    b_names = [""] + [":".join(between[i] for i in term) for term in b_terms]

    # Within terms: P = Kronecker product over the within factors (orthonormal columns).
    w_terms: list[tuple[int, ...]] = [()] + _r_terms(len(within))
    contrasts_w = [_orthonormal_contrasts(len(lv)) for lv in w_levels]
    constants_w = [np.full((len(lv), 1), 1 / np.sqrt(len(lv))) for lv in w_levels]

    def within_matrix(term: tuple[int, ...]) -> np.ndarray:
        if not within:
            return np.ones((1, 1))
        mats = [contrasts_w[i] if i in term else constants_w[i] for i in range(len(within))]
        return reduce(np.kron, mats)

    def test(lmat: np.ndarray, pmat: np.ndarray) -> tuple[float, float, int, int]:
        lb = lmat @ coef @ pmat
        ssph = lb.T @ np.linalg.solve(lmat @ xtx_inv @ lmat.T, lb)
        sspe = pmat.T @ sspe_full @ pmat
        q = pmat.shape[1]
        return float(np.trace(ssph)), float(np.trace(sspe)), lmat.shape[0] * q, df_error * q

    rows = []  # (name, (ss, sse, df1, df2), eps_gg, eps_hf, mauchly or None)
    ss_error_sum = 0.0
    for w_term in w_terms:
        pmat = within_matrix(w_term)
        w_name = ":".join(within[i] for i in w_term)
        sspe_w = pmat.T @ sspe_full @ pmat
        pp = pmat.shape[1]
        ss_error_sum += float(np.trace(sspe_w))
        eps_gg = eps_hf = np.nan
        sphericity = None
        if pp > 1 and np.linalg.matrix_rank(sspe_w) == pp:  # singular error SSP: car gives NA
            lam = np.linalg.eigvalsh(sspe_w)
            lam = lam[lam > 0]
            eps_gg = float(lam.sum() ** 2 / (pp * (lam**2).sum()))
            eps_hf = ((df_error + 1) * pp * eps_gg - 2) / (pp * (df_error - pp * eps_gg))
            sphericity = _car_mauchly(sspe_w, k, df_error)
        for b_term, b_name, cols in zip([(), *b_terms], b_names, term_cols):
            if not b_term and not w_term:
                continue  # the intercept: not reported by afex
            name = ":".join(part for part in (b_name, w_name) if part)
            rows.append((name, test(eye[cols], pmat), eps_gg, eps_hf, sphericity))

    records = []
    mauchly_rows = []
    for name, (ss, sse, df1, df2), e_gg, e_hf, sphericity in rows:
        f_val = (ss / df1) / (sse / df2)
        p_val = float(stats.f.sf(f_val, df1, df2))
        if np.isfinite(e_gg):
            p_gg = float(stats.f.sf(f_val, e_gg * df1, e_gg * df2))
            cap = min(1.0, e_hf)
            p_hf = float(stats.f.sf(f_val, cap * df1, cap * df2))
        else:
            p_gg = p_hf = np.nan
        if sphericity is not None:
            mauchly_rows.append((name, *sphericity))
        records.append(
            {
                "effect": name,
                "df_num": float(df1),
                "df_den": float(df2),
                "F": f_val,
                "p": p_val,
                "epsilon_gg": e_gg,
                "p_gg": p_gg,
                "epsilon_hf": e_hf,
                "p_hf": p_hf,
                "partial_eta_sq": ss / (ss + sse),
                # afex's ges, all factors manipulated: error SS of every stratum.
                "generalized_eta_sq": ss / (ss + ss_error_sum),
                "SS": ss,
                "SS_error": sse,
            }
        )
    table = pd.DataFrame.from_records(records, columns=ANOVA_COLUMNS)
    mauchly = pd.DataFrame(mauchly_rows, columns=["effect", "W", "p"])
    return RMAnova(
        table=table,
        mauchly=mauchly,
        n_subjects=int(n),
        subjects_dropped=dropped,
        drop_reason=reason,
    )


def rm_anova(
    data: pd.DataFrame, *, subject: str, between: str, within: str, dv: str
) -> RMAnova:
    """Two-way mixed ANOVA (one between, one within factor), type III, as ``afex::aov_ez``.

    Parameters
    ----------
    data : pandas.DataFrame
        Long frame, one row per subject and within level.
    subject, between, within, dv : str
        Column names: subject id, between-subject factor, within-subject factor (numeric
        values are treated as categories in sorted order), outcome.

    Returns
    -------
    RMAnova
        :func:`mixed_anova` with ``between=[between], within=[within]``, except that the
        between effect has ``p_gg = p_hf = p`` and, for a two-level within factor (1 df,
        spherical), the within effects have epsilons of exactly 1 and ``p_gg = p_hf = p``
        (car reports NA there; kept from the original two-way function). Subjects missing
        any within level (absent row or missing value) are dropped.

    Raises
    ------
    DataError
        Also for several rows sharing a subject and within level (this function's original
        contract; :func:`mixed_anova` raises a DesignError).

    Notes
    -----
    pingouin's ``mixed_anova`` does not give type III tests in unbalanced designs: on
    ``tests/fixtures/repeated_unbalanced.csv`` (8/4/4 subjects) its within main effect has
    F = 3.96 where afex gives 4.89 (between effect and interaction agree). So the
    multivariate approach of ``car::Anova(idata = ...)`` is computed (see
    :func:`mixed_anova`).
    """
    _check_columns(data, {"subject": subject, "between": between, "within": within, "dv": dv})
    _numeric(data, dv)
    _no_duplicates(data, subject, within)
    res = mixed_anova(data, subject=subject, dv=dv, between=[between], within=[within])
    table = res.table.copy()
    is_between = table["effect"] == between
    table.loc[is_between, "p_gg"] = table.loc[is_between, "p"]
    table.loc[is_between, "p_hf"] = table.loc[is_between, "p"]
    if len(_levels(data[within])) == 2:
        w = ~is_between
        table.loc[w, "epsilon_gg"] = 1.0
        table.loc[w, "epsilon_hf"] = 1.0
        table.loc[w, "p_gg"] = table.loc[w, "p"]
        table.loc[w, "p_hf"] = table.loc[w, "p"]
    return RMAnova(
        table=table,
        mauchly=res.mauchly,
        n_subjects=res.n_subjects,
        subjects_dropped=res.subjects_dropped,
        drop_reason=res.drop_reason,
    )


# --------------------------------------------------------------------------- paired t


def paired_t(
    data: pd.DataFrame,
    *,
    subject: str,
    within: str,
    dv: str,
    reference: object = None,
    ci_prob: float = CI_PROB,
) -> PairedT:
    """Paired t test of a two-level within factor, as ``t.test(x, y, paired = TRUE)``.

    Parameters
    ----------
    data : pandas.DataFrame
        Long frame, one row per subject and level of ``within``.
    subject, within, dv : str
        Column names: subject id, the two-level within factor, outcome.
    reference : object, optional
        The level subtracted (``y`` in R's call); default the first level (categorical
        order, else sorted).
    ci_prob : float
        Probability of the t interval (default 0.95).

    Returns
    -------
    PairedT
        Mean, SE, df, t, two-sided p and interval of the differences ``level -
        reference``, and Cohen's d_z = mean difference / SD of the differences. Subjects
        lacking either value (absent row or empty outcome) are dropped and named.

    Raises
    ------
    DataError
        Missing column, empty label, non-numeric outcome, all differences equal.
    DesignError
        ``within`` without exactly 2 levels, unknown ``reference``, several rows for one
        subject and level, fewer than 2 complete pairs, ``ci_prob`` outside (0, 1).
    """
    if not 0 < ci_prob < 1:
        raise DesignError(f"ci_prob={ci_prob!r} is not a probability. Fix: pass e.g. ci_prob=0.95")
    roles = [("subject", subject), ("within", within), ("dv", dv)]
    _distinct_roles(roles)
    _check_columns(data, roles)
    frame = data[[subject, within]].copy()
    frame["__y"] = _numeric(data, dv)
    _no_replicates(frame, subject, [within], dv)
    levels = _levels(frame[within])
    if len(levels) != 2:
        raise DesignError(
            f"a paired t test compares 2 levels; {within!r} has {len(levels)} "
            f"({', '.join(_label(lv) for lv in levels)}). Fix: keep the rows of the two levels "
            f"to compare, or use mixed_anova(within=[{within!r}]) for more levels"
        )
    if reference is None:
        reference = levels[0]
    if reference not in levels:
        raise DesignError(
            f"reference {reference!r} is not a level of {within!r} (levels: {levels}). "
            "Fix: pass reference= one of these levels"
        )
    level = levels[1] if reference == levels[0] else levels[0]
    subjects = frame.groupby(subject, sort=False, observed=True).size().index
    wide = frame.pivot(index=subject, columns=within, values="__y")
    wide = wide.reindex(index=subjects, columns=[reference, level])
    incomplete = wide.isna().any(axis=1)
    dropped = wide.index[incomplete].tolist()
    reason = ""
    if dropped:
        parts = [
            f"{s} (no {within} {', '.join(_label(t) for t in wide.columns[wide.loc[s].isna()])})"
            for s in dropped
        ]
        reason = (
            f"the paired t test needs a {dv!r} value at both {within!r} levels for each "
            "subject; dropped: " + "; ".join(parts)
        )
    wide = wide.loc[~incomplete]
    n = len(wide)
    if n < 2:
        raise DesignError(
            f"{n} subject(s) have a {dv!r} value at both {within!r} levels; a paired t test "
            "needs at least 2. Fix: check the subject labels and the missing values"
        )
    diff = wide[level].to_numpy(float) - wide[reference].to_numpy(float)
    est = float(diff.mean())
    sd = float(diff.std(ddof=1))
    if sd / np.sqrt(n) <= 10 * np.finfo(float).eps * abs(est):  # R's t.test test
        raise DataError(
            f"all {n} differences {_label(level)} - {_label(reference)} equal {est:.6g}; the "
            "paired t statistic is undefined (R: 'data are essentially constant')",
            column=dv,
            fix="check the data (a copied column?) or report the constant difference",
        )
    se = float(sd / np.sqrt(n))
    df = float(n - 1)
    t_val = est / se
    half = float(stats.t.ppf(0.5 + ci_prob / 2, df)) * se
    return PairedT(
        level=level,
        reference=reference,
        estimate=est,
        se=se,
        df=df,
        t=float(t_val),
        p=float(2 * stats.t.sf(abs(t_val), df)),
        ci_low=float(est - half),
        ci_high=float(est + half),
        ci_prob=float(ci_prob),
        cohens_dz=est / sd,
        sd_diff=sd,
        n_subjects=int(n),
        subjects_dropped=dropped,
        drop_reason=reason,
    )


# --------------------------------------------------------------------------- mixed model


def _reml_parts(theta: np.ndarray, y: np.ndarray, x: np.ndarray, blocks: RandomInterceptBlocks):
    """V⁻¹X, (X'V⁻¹X)⁻¹ and P y = V⁻¹(y - X β̂) for V = theta[0] ZZ' + theta[1] I."""
    vx = blocks.vinv(theta, x)
    cov_beta = np.linalg.inv(x.T @ vx)
    cov_beta = (cov_beta + cov_beta.T) / 2
    beta = cov_beta @ (vx.T @ y)
    py = blocks.vinv(theta, y - x @ beta)
    return vx, cov_beta, py


def _reml_loglik(theta: np.ndarray, y: np.ndarray, x: np.ndarray, blocks: RandomInterceptBlocks) -> float:
    """REML log-likelihood (without the constant) at variances theta = (animal, residual)."""
    _, cov_beta, py = _reml_parts(theta, y, x, blocks)
    logdet_c = np.linalg.slogdet(cov_beta)[1]
    return float(-0.5 * (blocks.logdet(theta) - logdet_c + y @ py))


def _reml_score_hessian(
    theta: np.ndarray, y: np.ndarray, x: np.ndarray, blocks: RandomInterceptBlocks
) -> tuple[np.ndarray, np.ndarray]:
    """Closed-form REML score and Hessian w.r.t. theta (V is linear in theta).

    dl/dθi = -tr(P Vi)/2 + y'P Vi P y/2;  d²l/dθidθj = tr(P Vi P Vj)/2 - y'P Vi P Vj P y,
    with P = W - U C U' (W = V⁻¹, U = WX, C = (X'WX)⁻¹), so that
    tr(P Vi P Vj) = tr(W Vi W Vj) - 2 tr(C U'Vi W Vj U) + tr(C U'Vi U C U'Vj U).
    """
    u, cov, py = _reml_parts(theta, y, x, blocks)
    vu = [blocks.apply_deriv(i, u) for i in range(2)]            # V_i U
    uvu = [u.T @ vu[i] for i in range(2)]                       # U' V_i U
    vpy = [blocks.apply_deriv(i, py) for i in range(2)]         # V_i P y
    # tr(P V_i) = tr(W V_i) - tr(C U' V_i U); tr(W ZZ') = sum n_s w1_s, tr(W) likewise.
    w_trace = [_trace_w_vi(theta, blocks, i) for i in range(2)]
    score = np.array([-0.5 * (w_trace[i] - np.sum(cov * uvu[i])) + 0.5 * py @ vpy[i] for i in range(2)])
    hess = np.empty((2, 2))
    for i in range(2):
        for j in range(2):
            w_vj_u = blocks.vinv(theta, vu[j])                  # W V_j U
            cross = np.sum(cov * (vu[i].T @ w_vj_u))            # tr(C U'V_i W V_j U)
            trace = blocks.trace_wawb(theta, i, j) - 2 * cross + np.sum((cov @ uvu[i]) * (cov @ uvu[j]).T)
            p_vj_py = blocks.vinv(theta, vpy[j]) - u @ (cov @ (u.T @ vpy[j]))   # P V_j P y
            hess[i, j] = 0.5 * trace - vpy[i] @ p_vj_py
    return score, (hess + hess.T) / 2


def _trace_w_vi(theta: np.ndarray, blocks: RandomInterceptBlocks, i: int) -> float:
    """tr(V⁻¹ V_i): sum n_s / (θ_resid + n_s θ_animal) for the animal variance, tr(V⁻¹) for the residual."""
    n = blocks.n_s
    if i == 0:
        return float(np.sum(n / (theta[1] + n * theta[0])))
    c = theta[0] / (theta[1] + n * theta[0])
    return float(np.sum(n * (1 - c)) / theta[1])


def _newton_reml(
    theta: np.ndarray, y: np.ndarray, x: np.ndarray, blocks: RandomInterceptBlocks
) -> np.ndarray | None:
    """Newton ascent of the REML from ``theta``; the interior optimum, or None."""
    theta = np.maximum(theta, 1e-6 * theta[1])
    loglik = _reml_loglik(theta, y, x, blocks)
    for _ in range(50):
        score, hess = _reml_score_hessian(theta, y, x, blocks)
        if np.any(np.linalg.eigvalsh(hess) >= 0):
            step = score * theta**2  # not concave here: scaled gradient step
        else:
            step = -np.linalg.solve(hess, score)
        t = 1.0
        while t > 1e-10:
            trial = theta + t * step
            if np.all(trial > 0):
                new = _reml_loglik(trial, y, x, blocks)
                if new >= loglik - 1e-13 * abs(loglik):
                    break
            t /= 2
        else:
            return None
        theta, loglik = trial, new
        if np.max(np.abs(t * step) / theta) < 1e-12:
            break
    score, hess = _reml_score_hessian(theta, y, x, blocks)
    if np.max(np.abs(score * theta)) > 1e-6 or np.any(np.linalg.eigvalsh(hess) >= 0):
        return None
    return theta


def _fit_reml(
    y: np.ndarray, x: np.ndarray, subjects: np.ndarray, blocks: RandomInterceptBlocks
) -> tuple[np.ndarray, bool]:
    """REML variances (animal, residual) and whether the animal variance is on the boundary.

    statsmodels' MixedLM (BFGS, gtol 1e-10) gives the starting optimum: its default
    L-BFGS stopped ~2e-7 (relative) short of it on the test data, moving the 7th digit of
    SEs and dfs, and at a boundary (sd_animal = 0) it stops at a small positive variance.
    Newton steps with the exact REML derivatives then reach the optimum to machine
    precision (REML score ~1e-16; lme4 with bobyqa, rhoend 1e-13, stops ~1e-8 short of it,
    its default optimiser ~2e-8); the boundary
    solution (sigma2_animal = 0, sigma2_resid = RSS / (n - p)) is taken when its REML is
    higher or no interior optimum exists.
    """
    model = MixedLM(y, x, groups=subjects, exog_re=np.ones((len(y), 1)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = model.fit(reml=True, method=["bfgs", "lbfgs"], gtol=1e-10, maxiter=2000)
    start = np.array([float(np.asarray(fit.cov_re)[0, 0]), float(fit.scale)])
    rss = float(y @ y - y @ x @ np.linalg.lstsq(x, y, rcond=None)[0])
    edge = np.array([0.0, rss / (len(y) - x.shape[1])])
    candidates = []
    if _reml_score_hessian(edge, y, x, blocks)[0][0] <= 0:
        candidates.append((_reml_loglik(edge, y, x, blocks), edge, True))
    inner = _newton_reml(start, y, x, blocks) if np.all(np.isfinite(start)) else None
    if inner is not None:
        candidates.append((_reml_loglik(inner, y, x, blocks), inner, False))
    if not candidates:
        raise ConvergenceError(
            "the REML fit of the mixed model did not reach an optimum. Fix: check the data "
            "for outliers, a near-constant outcome or subjects with a single value"
        )
    _, theta, boundary = max(candidates, key=lambda c: c[0])
    return theta, boundary


def _factorial_design(
    frame: pd.DataFrame, factors: Sequence[str], levels: Sequence[list]
) -> tuple[np.ndarray, list[str]]:
    """Treatment-coded X of ``f1 * f2 * ...`` with R's column names and order.

    Terms in R's order (:func:`_r_terms`); within an interaction the first factor varies
    fastest, as ``model.matrix`` does (``"treatmentA:genderM:phasepost"``). The first level
    of each factor is its baseline.
    """
    dummies, names = [], []
    for f, lv in zip(factors, levels):
        codes = pd.Categorical(frame[f], categories=lv).codes
        dummies.append(np.eye(len(lv))[codes][:, 1:])
        names.append([f"{f}{_label(v)}" for v in lv[1:]])
    cols = [np.ones(len(frame))]
    col_names = ["(Intercept)"]
    for term in _r_terms(len(factors)):
        # itertools.product varies its last argument fastest: reverse to make the first
        # factor of the term the fastest.
        for combo in itertools.product(*[range(len(names[i])) for i in reversed(term)]):
            idx = combo[::-1]
            col = dummies[term[0]][:, idx[0]]
            for i, j in zip(term[1:], idx[1:]):
                col = col * dummies[i][:, j]
            cols.append(col)
            col_names.append(":".join(names[i][j] for i, j in zip(term, idx)))
    return np.column_stack(cols), col_names


def _design(
    frame: pd.DataFrame, group: str, time: str, groups: list, times: list
) -> tuple[np.ndarray, list[str]]:
    """Treatment-coded X of group * time with R's column names and order."""
    return _factorial_design(frame, [group, time], [groups, times])


def _reml_contrasts(
    data: pd.DataFrame,
    *,
    subject: str,
    between: list[str],
    time: str,
    dv: str,
    reference: list,
    times: list | None,
    ci_prob: float,
) -> tuple[pd.DataFrame, np.ndarray, list[dict], int, int]:
    """Fit ``dv ~ between... * time + (1 | subject)`` by REML; cell - reference contrasts.

    Returns the fixed effects, the variances θ, one record per contrast (``cell`` tuple
    and the numbers), the rows and the subjects used. With one between factor the checks,
    messages and numbers are those of the original :func:`mixed_model_contrasts`.
    """
    single = len(between) == 1
    role = "group" if single else "between"  # the argument name of the public function
    roles = [("subject", subject), *((role, b) for b in between), ("time", time), ("dv", dv)]
    _distinct_roles(roles)
    _check_columns(data, roles)
    frame = data[[subject, *between, time]].copy()
    frame["__y"] = _numeric(data, dv)
    _no_duplicates(frame, subject, time)
    frame = frame.loc[frame["__y"].notna()]
    group_of = {b: _one_group_per_subject(frame, subject, b) for b in between}
    levels, sorted_levels = [], []
    for b, ref in zip(between, reference):
        lv = _levels(frame[b])
        if ref not in lv:
            how = "reference=" if single else f"reference={{{b!r}: ...}}"
            raise DesignError(
                f"reference {ref!r} is not a level of {b!r} (levels: {lv}). "
                f"Fix: pass {how} one of these levels"
            )
        if len(lv) < 2:
            raise DesignError(
                f"{b!r} has only the level {ref!r}; contrasts need 2 groups or more. "
                f"Fix: check the {b!r} column"
            )
        sorted_levels.append(lv)
        levels.append([ref] + [v for v in lv if v != ref])
    # Subjects per between cell (in sorted level order, for the message).
    counts = Counter(zip(*[group_of[b].to_numpy() for b in between]))
    sizes = {c: counts.get(c, 0) for c in itertools.product(*sorted_levels)}
    small = [c for c, size in sizes.items() if size < 2]
    if small:
        if single:
            raise DesignError(
                f"group(s) {[c[0] for c in small]} of {between[0]!r} have fewer than 2 subjects "
                f"with data (sizes: { {c[0]: size for c, size in sizes.items()} }). "
                "Fix: add subjects, or merge or remove those groups"
            )
        shown = {_cell_label(between, c): size for c, size in sizes.items()}
        raise DesignError(
            f"between cell(s) {[_cell_label(between, c) for c in small]} have fewer than 2 "
            f"subjects with data (sizes: {shown}). Fix: add subjects, or merge levels or "
            "leave a factor out"
        )
    # Cells of the between factors in emmeans' grid order (first factor fastest).
    cells = [c[::-1] for c in itertools.product(*levels[::-1])]
    all_times = _levels(frame[time])
    if len(all_times) < 2:
        raise DesignError(
            f"{time!r} has {len(all_times)} level(s) with data; at least 2 are needed. "
            f"Fix: check the {time!r} column"
        )
    if times is None:
        report_times = list(all_times)
    else:
        report_times = list(times)
        unknown = [t for t in report_times if t not in all_times]
        if unknown or not report_times:
            raise DesignError(
                f"times {unknown or report_times} are not levels of {time!r} with data "
                f"(levels: {all_times}). Fix: pass times= a non-empty subset of these"
            )
    present = set(frame.groupby([*between, time], observed=True).size().index)
    empty = [(*c, tv) for c in cells for tv in all_times if (*c, tv) not in present]
    if empty:
        raise DesignError(
            f"no data for {' x '.join([*between, time])} cell(s) {empty}; the interaction is "
            f"not estimable. Fix: drop those {time} levels or groups"
        )

    y = frame["__y"].to_numpy(float)
    x, names = _factorial_design(frame, [*between, time], [*levels, all_times])
    blocks = RandomInterceptBlocks(pd.Categorical(frame[subject]).codes)
    theta, boundary = _fit_reml(y, x, frame[subject].to_numpy(), blocks)
    vx, cov_beta, _ = _reml_parts(theta, y, x, blocks)
    beta = cov_beta @ (vx.T @ y)
    fixed = pd.DataFrame(
        {"term": names, "estimate": beta, "se": np.sqrt(np.diag(cov_beta))},
    )

    # Satterthwaite: dC/dθi = -C X'V⁻¹ Vi V⁻¹X C, so g_i = -c'C X'V⁻¹ Vi V⁻¹X C c
    # (the sign cancels in g' A g).
    dcov = [cov_beta @ (vx.T @ blocks.apply_deriv(i, vx)) @ cov_beta for i in range(2)]
    _, hess = _reml_score_hessian(theta, y, x, blocks)
    keep = [1] if boundary else [0, 1]
    info_inv = np.linalg.inv(-hess[np.ix_(keep, keep)])

    # Design rows of every cell x time: each contrast is row(cell, t) - row(reference, t).
    grid = pd.DataFrame(
        [(*c, tv) for tv in all_times for c in cells], columns=[*between, time]
    )
    x_grid, _ = _factorial_design(grid, [*between, time], [*levels, all_times])
    row_of = {tuple(r): i for i, r in enumerate(grid.itertuples(index=False, name=None))}
    records = []
    for tv in report_times:
        ref_row = x_grid[row_of[(*cells[0], tv)]]
        for cell in cells[1:]:
            c = x_grid[row_of[(*cell, tv)]] - ref_row
            var = float(c @ cov_beta @ c)
            grad = np.array([c @ dcov[i] @ c for i in keep])
            df = 2 * var**2 / float(grad @ info_inv @ grad)
            est = float(c @ beta)
            se = np.sqrt(var)
            half = stats.t.ppf(0.5 + ci_prob / 2, df) * se
            records.append(
                {
                    "cell": cell,
                    "time": tv,
                    "estimate": est,
                    "se": se,
                    "df": df,
                    "ci_low": est - half,
                    "ci_high": est + half,
                    "p": float(2 * stats.t.sf(abs(est / se), df)),
                }
            )
    return fixed, theta, records, int(len(y)), int(len(group_of[between[0]]))


def cell_contrasts(
    y: np.ndarray,
    cell: np.ndarray,
    subject: np.ndarray,
    weights: np.ndarray,
    *,
    ci_prob: float = CI_PROB,
) -> pd.DataFrame:
    """Contrasts of the cell means of a REML random-intercept model, Satterthwaite df.

    The model is ``y ~ 0 + cell + (1 | subject)``: one mean per cell of the crossed factors
    (between and within the subjects), which spans the same space as ``lmer(y ~ A * B * W
    + (1 | subject))``, so each contrast equals emmeans' on that fit with ``lmer.df =
    "satterthwaite"``.

    Parameters
    ----------
    y : array
        One value per row.
    cell : array of int
        Each row's cell, 0 .. n_cells - 1 (every cell present).
    subject : array
        Each row's subject (animal).
    weights : array, shape (n_contrasts, n_cells)
        One contrast of the cell means per row.
    ci_prob : float
        Coverage of the unadjusted t intervals.

    Returns
    -------
    pandas.DataFrame
        ``estimate, se, df, t, p, ci_low, ci_high`` (unadjusted), one row per contrast.
    """
    y = np.asarray(y, dtype=float)
    cell = np.asarray(cell, dtype=int)
    weights = np.atleast_2d(np.asarray(weights, dtype=float))
    n_cells = weights.shape[1]
    if cell.min() < 0 or cell.max() >= n_cells or len(np.unique(cell)) != n_cells:
        raise DesignError("every cell needs rows for the mixed model's cell means. Fix: drop the empty cell's level.")
    x = np.eye(n_cells)[cell]
    blocks = RandomInterceptBlocks(pd.Categorical(subject).codes)
    theta, boundary = _fit_reml(y, x, np.asarray(subject), blocks)
    vx, cov_beta, _ = _reml_parts(theta, y, x, blocks)
    beta = cov_beta @ (vx.T @ y)
    dcov = [cov_beta @ (vx.T @ blocks.apply_deriv(i, vx)) @ cov_beta for i in range(2)]
    _, hess = _reml_score_hessian(theta, y, x, blocks)
    keep = [1] if boundary else [0, 1]
    info_inv = np.linalg.inv(-hess[np.ix_(keep, keep)])
    rows = []
    for c in weights:
        var = float(c @ cov_beta @ c)
        grad = np.array([c @ dcov[i] @ c for i in keep])
        df = 2 * var**2 / float(grad @ info_inv @ grad)
        est, se = float(c @ beta), float(np.sqrt(var))
        half = float(stats.t.ppf(0.5 + ci_prob / 2, df)) * se
        rows.append({"estimate": est, "se": se, "df": df, "t": est / se,
                     "p": float(2 * stats.t.sf(abs(est / se), df)), "ci_low": est - half, "ci_high": est + half})
    return pd.DataFrame(rows, columns=["estimate", "se", "df", "t", "p", "ci_low", "ci_high"])


def _adjust(contrasts: pd.DataFrame, ci_prob: float) -> pd.DataFrame:
    """Sidak-adjusted p and intervals over the family, and the method text."""
    m = len(contrasts)
    contrasts["p_adjusted"] = multipletests(contrasts["p"].to_numpy(), method="sidak")[1]
    # Sidak intervals as emmeans' confint(adjust = "sidak"): coverage ci_prob^(1/m) each.
    half = stats.t.ppf(0.5 + ci_prob ** (1.0 / m) / 2, contrasts["df"]) * contrasts["se"]
    contrasts["ci_low_adjusted"] = contrasts["estimate"] - half
    contrasts["ci_high_adjusted"] = contrasts["estimate"] + half
    contrasts["method"] = (
        f"REML mixed model, Satterthwaite t; p and {ci_prob:.0%} CI Sidak-adjusted over {m} contrasts "
        "(unadjusted CI also given)"
    )
    return contrasts


def mixed_model_contrasts(
    data: pd.DataFrame,
    *,
    subject: str,
    group: str,
    time: str,
    dv: str,
    reference: object,
    times: list | None = None,
    ci_prob: float = CI_PROB,
) -> MixedModel:
    """REML mixed model ``dv ~ group * time + (1 | subject)`` and group - reference contrasts.

    Parameters
    ----------
    data : pandas.DataFrame
        Long frame; all rows with a value are used (subjects with missing times kept).
    subject, group, time, dv : str
        Column names; time is treated as categorical (sorted values).
    reference : object
        Control level of ``group``.
    times : list, optional
        Times at which to contrast (default: all). The model always uses all times.
    ci_prob : float
        Probability of the unadjusted t intervals (default 0.95).

    Returns
    -------
    MixedModel
        As ``emmeans`` with ``lmer.df = "satterthwaite"``; ``p_adjusted`` is Sidak over all
        contrasts returned (``summary(..., by = NULL, adjust = "sidak")``).

    Notes
    -----
    Satterthwaite df = 2 V² / (g' A g) with V = c'(X'V⁻¹X)⁻¹c, g its gradient in the
    variances θ = (σ²_animal, σ²_residual) and A the inverse observed REML information in θ
    (closed form, V being linear in θ). At a boundary fit (σ²_animal = 0) only the residual
    variance enters, which is what lmerTest's (θ, σ) parametrisation gives there.
    :func:`factorial_mixed_contrasts` with ``between=[group]`` gives the same numbers.
    """
    fixed, theta, records, n_obs, n_subjects = _reml_contrasts(
        data, subject=subject, between=[group], time=time, dv=dv, reference=[reference],
        times=times, ci_prob=ci_prob,
    )
    contrasts = pd.DataFrame.from_records(
        [{"group": r["cell"][0], "reference": reference, **{k: v for k, v in r.items() if k != "cell"}}
         for r in records]
    )
    contrasts = _adjust(contrasts, ci_prob)[CONTRAST_COLUMNS]
    return MixedModel(
        fixed_effects=fixed,
        sd_animal=float(np.sqrt(theta[0])),
        sd_residual=float(np.sqrt(theta[1])),
        contrasts=contrasts,
        n_obs=n_obs,
        n_subjects=n_subjects,
    )


def factorial_mixed_contrasts(
    data: pd.DataFrame,
    *,
    subject: str,
    between: str | Sequence[str],
    time: str,
    dv: str,
    reference: Mapping[str, object],
    times: list | None = None,
    ci_prob: float = CI_PROB,
) -> MixedModel:
    """REML ``dv ~ A * B * ... * time + (1 | subject)``; every between cell vs the reference cell.

    Parameters
    ----------
    data : pandas.DataFrame
        Long frame; all rows with a value are used (subjects with missing times kept).
    subject, time, dv : str
        Column names; time is treated as categorical (sorted values).
    between : str or sequence of str
        One or more between-subject factors (constant within a subject).
    reference : mapping
        The reference (control) level of every between factor, e.g.
        ``{"treatment": "control", "sex": "F"}``; the reference cell is their combination.
    times : list, optional
        Times at which to contrast (default: all). The model always uses all times.
    ci_prob : float
        Probability of the unadjusted t intervals (default 0.95).

    Returns
    -------
    MixedModel
        ``contrasts`` has one column per between factor (level of the compared cell), then
        ``contrast`` (emmeans' label ``"A M - control F"``), ``time, estimate, se, df,
        ci_low, ci_high, ci_low_adjusted, ci_high_adjusted, p, p_adjusted, method``. Rows
        are ordered as emmeans: by time, then cells with the first factor varying fastest
        (levels: reference first, then the others in sorted / categorical order). The Sidak
        family is every contrast returned. ``fixed_effects`` uses R's names and treatment
        coding with the references as baselines.

    Raises
    ------
    DataError
        Missing column, empty label, non-numeric outcome, a subject in two levels of a
        between factor, several rows for one subject and time.
    DesignError
        No between factor, ``reference`` not naming exactly the between factors or not a
        level, a between cell with fewer than 2 subjects, a cell x time without data, a
        between factor named like an output column.

    Notes
    -----
    This is ``lmerTest::lmer(dv ~ A * B * time + (1 | subject), REML = TRUE)``,
    ``emmeans(fit, ~ A * B | time, lmer.df = "satterthwaite")``, ``contrast(emm,
    "trt.vs.ctrl")`` and ``summary(..., by = NULL, adjust = "sidak")`` / ``confint``; the
    REML fit and Satterthwaite df are those of :func:`mixed_model_contrasts`.
    """
    between = _factor_names(between, "between")
    if not between:
        raise DesignError(
            "factorial_mixed_contrasts needs at least one between factor. "
            "Fix: pass between=['treatment', ...]"
        )
    clash = [b for b in between if b in FACTORIAL_CONTRAST_COLUMNS]
    if clash:
        raise DesignError(
            f"between factor(s) {clash} share a name with an output column of the contrasts "
            f"({FACTORIAL_CONTRAST_COLUMNS}). Fix: rename those columns in the data"
        )
    if not isinstance(reference, Mapping):
        raise DesignError(
            f"reference= must map each between factor to its control level, got {reference!r}. "
            f"Fix: pass e.g. reference={{{between[0]!r}: ...}} for every factor in {between}"
        )
    missing = [b for b in between if b not in reference]
    extra = [k for k in reference if k not in between]
    if missing or extra:
        raise DesignError(
            f"reference= must name exactly the between factors {between}; missing {missing}, "
            f"unknown {extra}. Fix: give one control level per between factor"
        )
    refs = [reference[b] for b in between]
    fixed, theta, records, n_obs, n_subjects = _reml_contrasts(
        data, subject=subject, between=between, time=time, dv=dv, reference=refs,
        times=times, ci_prob=ci_prob,
    )
    ref_label = " ".join(_label(v) for v in refs)
    rows = []
    for r in records:
        cell = r["cell"]
        rows.append(
            {
                **dict(zip(between, cell)),
                "contrast": " ".join(_label(v) for v in cell) + " - " + ref_label,
                **{k: v for k, v in r.items() if k != "cell"},
            }
        )
    contrasts = _adjust(pd.DataFrame.from_records(rows), ci_prob)
    contrasts = contrasts[[*between, *FACTORIAL_CONTRAST_COLUMNS]]
    return MixedModel(
        fixed_effects=fixed,
        sd_animal=float(np.sqrt(theta[0])),
        sd_residual=float(np.sqrt(theta[1])),
        contrasts=contrasts,
        n_obs=n_obs,
        n_subjects=n_subjects,
    )
