"""Frequentist repeated-measures analyses: mixed ANOVA and REML mixed-model contrasts.

Both functions reproduce R to at least 6 significant digits (golden values in
``tests/test_frequentist_repeated.py``, R script in ``tests/fixtures/repeated_golden.R``):

* :func:`rm_anova` is ``afex::aov_ez(..., type = 3)`` with ``summary()`` / ``anova()``
  (which call ``car::Anova(idata = ...)`` and ``car:::summary.Anova.mlm``).
* :func:`mixed_model_contrasts` is ``lme4::lmer(dv ~ group * time + (1 | subject))`` with
  ``emmeans(fit, ~ group | time, lmer.df = "satterthwaite")``, ``contrast(...,
  "trt.vs.ctrl")`` and ``summary(..., by = NULL, adjust = "sidak")``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.regression.mixed_linear_model import MixedLM
from statsmodels.stats.multitest import multipletests

from bayes_igf1.constants import CI_PROB
from bayes_igf1.errors import ConvergenceError, DataError, DesignError
from bayes_igf1.frequentist.blocks import RandomInterceptBlocks

__all__ = ["MixedModel", "RMAnova", "mixed_model_contrasts", "rm_anova"]

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


@dataclass(frozen=True)
class RMAnova:
    """Two-way mixed (between x within) ANOVA, type III sums of squares.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per effect: ``effect, df_num, df_den, F, p, epsilon_gg, p_gg, epsilon_hf,
        p_hf, partial_eta_sq, generalized_eta_sq, SS, SS_error``. Degrees of freedom are
        uncorrected; ``p_gg`` / ``p_hf`` use the corrected ones. ``epsilon_hf`` is reported
        as car does (may exceed 1); its p value uses ``min(1, epsilon_hf)``.
    mauchly : pandas.DataFrame
        ``effect, W, p``: Mauchly's sphericity test for within effects with > 1 df.
    n_subjects : int
        Subjects used.
    subjects_dropped : list
        Subjects left out because they lack a within level.
    drop_reason : str
        Why they were left out ("" when none was).
    """

    table: pd.DataFrame
    mauchly: pd.DataFrame
    n_subjects: int
    subjects_dropped: list = field(default_factory=list)
    drop_reason: str = ""


@dataclass(frozen=True)
class MixedModel:
    """REML random-intercept model ``dv ~ group * time + (1 | subject)`` and its contrasts.

    Attributes
    ----------
    fixed_effects : pandas.DataFrame
        ``term, estimate, se`` with R's names and treatment coding (reference group and
        first time as baseline), e.g. ``"(Intercept)"``, ``"treatmentketamine10:hour1"``.
    sd_animal, sd_residual : float
        REML standard deviations of the subject intercepts and of the residuals.
    contrasts : pandas.DataFrame
        ``group, reference, time, estimate, se, df, ci_low, ci_high, p, p_adjusted, method``:
        group - reference at each time; unadjusted t-based CI and p, Sidak-adjusted p over
        the whole family (all groups and times reported).
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


def _check_columns(data: pd.DataFrame, columns: dict[str, str]) -> None:
    if not isinstance(data, pd.DataFrame):
        raise DataError(
            f"expected a pandas DataFrame, got {type(data).__name__}",
            fix="pass the tidy long frame (one row per subject and time)",
        )
    for role, name in columns.items():
        if name not in data.columns:
            raise DataError(
                f"the {role} column {name!r} is not in the data (columns: {list(data.columns)})",
                column=name,
                fix=f"pass {role}= one of the column names above",
            )
    for role, name in columns.items():
        if role != "dv" and data[name].isna().any():
            raise DataError(
                f"the {role} column {name!r} has {int(data[name].isna().sum())} empty cell(s)",
                column=name,
                fix="fill in the labels or remove those rows",
            )


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


def _one_group_per_subject(data: pd.DataFrame, subject: str, group: str) -> pd.Series:
    counts = data.groupby(subject, sort=False, observed=True)[group].nunique()
    if (counts > 1).any():
        who = counts.index[counts > 1][0]
        raise DataError(
            f"subject {who!r} appears in more than one {group!r} level",
            column=group,
            fix=f"give each subject one {group!r} level (or unique subject ids per group)",
        )
    return data.groupby(subject, sort=False, observed=True)[group].first()


def _no_duplicates(data: pd.DataFrame, subject: str, time: str) -> None:
    dup = data.duplicated([subject, time], keep=False)
    if dup.any():
        row = data[dup].iloc[0]
        raise DataError(
            f"subject {row[subject]!r} has {int(dup.sum())} rows sharing a {time!r} value "
            f"(e.g. {row[time]!r}); one row per subject and {time} is expected",
            column=time,
            fix="average the replicates or correct the subject / time labels",
        )


# --------------------------------------------------------------------------- ANOVA


def _orthonormal_contrasts(k: int) -> np.ndarray:
    """k x (k-1) orthonormal basis of the contrasts (columns orthogonal to 1)."""
    q, _ = np.linalg.qr(np.column_stack([np.ones(k), np.eye(k)[:, : k - 1]]))
    return q[:, 1:]


def _car_mauchly(sspe: np.ndarray, k: int, df_error: int) -> tuple[float, float]:
    """Mauchly's test as ``car:::summary.Anova.mlm`` computes it.

    car's second-order term uses ``3 * p`` with ``p`` the number of within levels ``k``
    where ``stats::mauchly.test`` uses the dimension ``k - 1``; kept so that p matches R.
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


def rm_anova(
    data: pd.DataFrame, *, subject: str, between: str, within: str, dv: str
) -> RMAnova:
    """Two-way mixed ANOVA with type III sums of squares, as ``afex::aov_ez``.

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
        Subjects missing any within level (absent row or missing value) are dropped.

    Notes
    -----
    pingouin's ``mixed_anova`` does not give type III tests in unbalanced designs: on
    ``tests/fixtures/repeated_unbalanced.csv`` (8/4/4 subjects) its within main effect has
    F = 3.96 where afex gives 4.89 (between effect and interaction agree). So the
    multivariate approach of ``car::Anova(idata = ...)`` is computed here: the wide
    outcome matrix is regressed on sum-to-zero between contrasts; each effect is the
    hypothesis SSP of the intercept (within effects) or the between contrasts, projected
    on the constant (between effects) or on orthonormal within contrasts.
    """
    _check_columns(data, {"subject": subject, "between": between, "within": within, "dv": dv})
    frame = data[[subject, between, within]].copy()
    frame["__y"] = _numeric(data, dv)
    _no_duplicates(frame, subject, within)
    group_of = _one_group_per_subject(frame, subject, between)
    times = _levels(frame[within])
    if len(times) < 2:
        raise DesignError(
            f"the within factor {within!r} has {len(times)} level(s); at least 2 are needed. "
            f"Fix: check the {within!r} column, or use a between-subjects ANOVA"
        )
    wide = frame.pivot(index=subject, columns=within, values="__y")
    wide = wide.reindex(index=group_of.index, columns=times)
    incomplete = wide.isna().any(axis=1)
    dropped = wide.index[incomplete].tolist()
    reason = ""
    if dropped:
        parts = [
            f"{s} (no {within} {', '.join(_label(t) for t in wide.columns[wide.loc[s].isna()])})"
            for s in dropped
        ]
        reason = (
            f"the repeated-measures ANOVA needs a {dv!r} value at every {within!r} level for "
            f"each subject; dropped: " + "; ".join(parts)
        )
    wide = wide.loc[~incomplete]
    groups_used = group_of.loc[wide.index]
    levels = _levels(groups_used)
    n, k, g = wide.shape[0], len(times), len(levels)
    if g < 2:
        raise DesignError(
            f"the between factor {between!r} has {g} level(s) with complete subjects; at least 2 "
            f"are needed. Fix: check the {between!r} column or the missing {within} values"
        )
    df_error = n - g
    if df_error < 1:
        raise DesignError(
            f"{n} complete subjects in {g} {between!r} groups leave no error degrees of freedom. "
            "Fix: add subjects (at least one group needs 2 complete subjects)"
        )

    y = wide.to_numpy(float)
    codes = pd.Categorical(groups_used, categories=levels).codes
    # Sum-to-zero (contr.sum) between contrasts, as afex sets them.
    contr = np.vstack([np.eye(g - 1), -np.ones(g - 1)])
    x = np.column_stack([np.ones(n), contr[codes]])
    xtx_inv = np.linalg.inv(x.T @ x)
    coef = xtx_inv @ x.T @ y
    resid = y - x @ coef
    sspe_full = resid.T @ resid
    p_between = np.full((k, 1), 1 / np.sqrt(k))
    p_within = _orthonormal_contrasts(k)
    l_intercept = np.eye(g)[:1]
    l_group = np.eye(g)[1:]

    def term(lmat: np.ndarray, pmat: np.ndarray) -> tuple[float, float, int, int]:
        lb = lmat @ coef @ pmat
        ssph = lb.T @ np.linalg.solve(lmat @ xtx_inv @ lmat.T, lb)
        sspe = pmat.T @ sspe_full @ pmat
        q = pmat.shape[1]
        return float(np.trace(ssph)), float(np.trace(sspe)), lmat.shape[0] * q, df_error * q

    rows = {
        between: term(l_group, p_between),
        within: term(l_intercept, p_within),
        f"{between}:{within}": term(l_group, p_within),
    }
    # Sphericity: epsilons and Mauchly as car; a 2-level within factor is spherical (eps 1).
    sspe_w = p_within.T @ sspe_full @ p_within
    pp = k - 1
    lam = np.linalg.eigvalsh(sspe_w)
    if pp == 1:
        eps_gg = eps_hf = 1.0
    elif np.linalg.matrix_rank(sspe_w) < pp:
        eps_gg = eps_hf = np.nan  # singular error SSP: car gives NA
    else:
        lam = lam[lam > 0]
        eps_gg = float(lam.sum() ** 2 / (pp * (lam**2).sum()))
        eps_hf = ((df_error + 1) * pp * eps_gg - 2) / (pp * (df_error - pp * eps_gg))
    ss_error_sum = rows[between][1] + rows[within][1]
    records = []
    for name, (ss, sse, df1, df2) in rows.items():
        f_val = (ss / df1) / (sse / df2)
        p_val = float(stats.f.sf(f_val, df1, df2))
        if name == between:
            e_gg = e_hf = np.nan
            p_gg = p_hf = p_val
        else:
            e_gg, e_hf = eps_gg, eps_hf
            p_gg = float(stats.f.sf(f_val, e_gg * df1, e_gg * df2))
            cap = min(1.0, e_hf)
            p_hf = float(stats.f.sf(f_val, cap * df1, cap * df2))
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
                # afex's ges: all factors manipulated, error SS of both strata.
                "generalized_eta_sq": ss / (ss + ss_error_sum),
                "SS": ss,
                "SS_error": sse,
            }
        )
    table = pd.DataFrame.from_records(records, columns=ANOVA_COLUMNS)
    mauchly_rows = []
    if pp > 1 and np.isfinite(eps_gg):
        w, p_w = _car_mauchly(sspe_w, k, df_error)
        mauchly_rows = [(within, w, p_w), (f"{between}:{within}", w, p_w)]
    mauchly = pd.DataFrame(mauchly_rows, columns=["effect", "W", "p"])
    return RMAnova(
        table=table,
        mauchly=mauchly,
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


def _design(
    frame: pd.DataFrame, group: str, time: str, groups: list, times: list
) -> tuple[np.ndarray, list[str]]:
    """Treatment-coded X of group * time with R's column names and order."""
    g_codes = pd.Categorical(frame[group], categories=groups).codes
    t_codes = pd.Categorical(frame[time], categories=times).codes
    gd = np.eye(len(groups))[g_codes][:, 1:]
    td = np.eye(len(times))[t_codes][:, 1:]
    cols = [np.ones(len(frame))] + list(gd.T) + list(td.T)
    g_names = [f"{group}{_label(lv)}" for lv in groups[1:]]
    t_names = [f"{time}{_label(lv)}" for lv in times[1:]]
    names = ["(Intercept)", *g_names, *t_names]
    for j, t_name in enumerate(t_names):
        for i, g_name in enumerate(g_names):
            cols.append(gd[:, i] * td[:, j])
            names.append(f"{g_name}:{t_name}")
    return np.column_stack(cols), names


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
    """
    _check_columns(data, {"subject": subject, "group": group, "time": time, "dv": dv})
    frame = data[[subject, group, time]].copy()
    frame["__y"] = _numeric(data, dv)
    _no_duplicates(frame, subject, time)
    frame = frame.loc[frame["__y"].notna()]
    group_of = _one_group_per_subject(frame, subject, group)
    groups = _levels(frame[group])
    if reference not in groups:
        raise DesignError(
            f"reference {reference!r} is not a level of {group!r} (levels: {groups}). "
            f"Fix: pass reference= one of these levels"
        )
    if len(groups) < 2:
        raise DesignError(
            f"{group!r} has only the level {reference!r}; contrasts need 2 groups or more. "
            f"Fix: check the {group!r} column"
        )
    sizes = {lv: int((group_of == lv).sum()) for lv in groups}
    small = [lv for lv in groups if sizes[lv] < 2]
    if small:
        raise DesignError(
            f"group(s) {small} of {group!r} have fewer than 2 subjects with data "
            f"(sizes: {sizes}). Fix: add subjects, or merge or remove those groups"
        )
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
    groups = [reference] + [lv for lv in groups if lv != reference]
    cells = frame.groupby([group, time], observed=True).size()
    empty = [(gv, tv) for gv in groups for tv in all_times if (gv, tv) not in cells.index]
    if empty:
        raise DesignError(
            f"no data for {group} x {time} cell(s) {empty}; the interaction is not estimable. "
            f"Fix: drop those {time} levels or groups"
        )

    y = frame["__y"].to_numpy(float)
    x, names = _design(frame, group, time, groups, all_times)
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

    records = []
    for tv in report_times:
        tj = all_times.index(tv)
        for gi, gv in enumerate(groups[1:]):
            c = np.zeros(len(names))
            c[1 + gi] = 1.0
            if tj > 0:
                c[names.index(f"{group}{_label(gv)}:{time}{_label(tv)}")] = 1.0
            var = float(c @ cov_beta @ c)
            grad = np.array([c @ dcov[i] @ c for i in keep])
            df = 2 * var**2 / float(grad @ info_inv @ grad)
            est = float(c @ beta)
            se = np.sqrt(var)
            half = stats.t.ppf(0.5 + ci_prob / 2, df) * se
            records.append(
                {
                    "group": gv,
                    "reference": reference,
                    "time": tv,
                    "estimate": est,
                    "se": se,
                    "df": df,
                    "ci_low": est - half,
                    "ci_high": est + half,
                    "p": float(2 * stats.t.sf(abs(est / se), df)),
                }
            )
    contrasts = pd.DataFrame.from_records(records)
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
    contrasts = contrasts[CONTRAST_COLUMNS]
    return MixedModel(
        fixed_effects=fixed,
        sd_animal=float(np.sqrt(theta[0])),
        sd_residual=float(np.sqrt(theta[1])),
        contrasts=contrasts,
        n_obs=int(len(y)),
        n_subjects=int(len(group_of)),
    )
