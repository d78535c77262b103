"""JASP-style inclusion Bayes factors of a between-animal factorial ANOVA (issue 14, item 8).

For k >= 2 crossed fixed factors and a normal outcome with one row per animal (cells may be
unbalanced, none empty), every model of the space that respects marginality (each interaction
with all of its lower-order terms: BayesFactor's ``anovaBF(..., whichModels = "withmain")``) is
compared with the intercept-only model under the JZS priors of Rouder et al. (2012) as
BayesFactor sets them:

* each factor coded with centred orthonormal contrasts (an orthonormal basis of the sum-to-zero
  space, BayesFactor's ``fixedFromRandomProjection``; the Bayes factor does not depend on which
  basis), an interaction by the row-wise Kronecker product of its factors' codes;
* effects theta_t ~ Normal(0, g_t sigma^2 I), one g per term, g_t ~ Inverse-Gamma(1/2, r^2/2)
  with r = ``rscale_fixed`` (1/2, "medium");
* Jeffreys' prior on the intercept and sigma.

Given the g's the Bayes factor is closed form (the g-prior integral, centred data):
``BF(g) = |G|^-1/2 |X'X + G^-1|^-1/2 (1 - y'X (X'X + G^-1)^-1 X'y / y'y)^-(N-1)/2``.
The g's are integrated out on q = log g (d = number of terms of the model), in the
coordinates set by Laplace's approximation (mode and Hessian of the integrand):

* d <= 3: a deterministic tensor trapezoid rule in u, q = mode + C z, z = 2 sinh(u / 2) (the
  exponential tails of log g become double-exponential); its error is BayesFactor's kind for
  quadrature, the difference from the rule of twice the step (the even grid points), relative,
  plus the share on the grid's edge: conservative (the rule's own error is far smaller);
* d >= 4: importance sampling from a multivariate Student-t (4 df, heavier-tailed than the
  integrand, so the weights have finite variance) at the weighted mean and 1.3^2 x the
  weighted covariance of a pilot, drawn as 32 independently scrambled Sobol' sets (randomised quasi-Monte Carlo); its
  error is the standard error of the mean over the sets, relative (BayesFactor's "±%").

Both errors are relative errors of the BF, to first order standard errors of log BF. At the
defaults the models' errors are below about 1%; a 2 x 2 x 2 design takes about half a second.

Inclusion Bayes factors are those of bayestestR's ``bayesfactor_inclusion``: uniform prior
over the models (the null included); ``match_models = FALSE`` (posterior inclusion odds over
prior inclusion odds over all models) and ``match_models = TRUE`` (models with the effect and
without its higher-order interactions against the same models without it: JASP's "across
matched models"). Their error propagates the models' errors by the delta method.

Nuisance (block) terms, JASP's "nuisance" terms (``nuisance=["cohort"]``): each nuisance column is
a factor coded like the others, with its own g and the same scale ``rscale_fixed`` (BayesFactor
treats a block that is not in ``whichRandom`` as a fixed factor), entered additively in every
model, the null included; each model's BF is against the nuisance-only model,
BF(M + nuisance vs intercept) / BF(nuisance vs intercept), as BayesFactor's
``generalTestBF(y ~ A * B + cohort, whichModels = "withmain", neverExclude = "^cohort$")``
divided by its cohort-only model. The inclusion BFs are then over the same model space as
without nuisance. The full design (intercept, nuisance, every factor term) must have full
column rank: a term confounded with a block (npk's N:P:K with its blocks) is refused.

Out of scope: within-animal (repeated-measures) factors and random effects (BayesFactor's
``whichRandom``), covariates, non-normal outcomes. Give ``animal=`` to have repeated rows
of an animal refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd
from scipy import optimize, special
from scipy.stats import qmc

from bayes_igf1.constants import DEFAULT_SEED
from bayes_igf1.errors import DesignError

__all__ = ["inclusion_bayes_factors", "model_space"]

#: Largest number of g's integrated by the deterministic tensor trapezoid rule.
MAX_QUADRATURE_DIM = 3
#: Largest number of factors (k = 4 has 166 models besides the null; k = 5 has 7579).
MAX_FACTORS = 4
#: The importance sampler's t degrees of freedom and the inflation of the pilot's scale.
_T_DF = 4.0
_INFLATE = 1.3
#: Trapezoid step in u by number of g's, the sinh scale and the range in Laplace-standardised units.
_QUAD_STEP = {1: 0.2, 2: 0.3, 3: 0.6}
_SINH_S = 2.0
_Z_MAX = 40.0
_RSCALE_NAMES = {"medium": 0.5, "wide": np.sqrt(2) / 2, "ultrawide": 1.0}
#: Independent scrambled Sobol' sets of the importance sampler.
_RQMC_REPS = 32


def model_space(factors: Sequence[str]) -> list[tuple[str, ...]]:
    """The non-null models that respect marginality, as tuples of R term labels.

    Parameters
    ----------
    factors : sequence of str
        Factor names, in formula order.

    Returns
    -------
    list of tuple of str
        Each model's terms in R's order (main effects, then two-way interactions, ...),
        models ordered by number of terms; the null model (no term) is not included.
    """
    terms = _terms(list(factors))
    index = {frozenset(t): i for i, t in enumerate(terms)}
    parents = [[index[frozenset(s)] for s in combinations(t, len(t) - 1)] if len(t) > 1 else []
               for t in terms]
    found: list[tuple[int, ...]] = []

    def walk(i: int, chosen: tuple[int, ...]) -> None:
        if i == len(terms):
            if chosen:
                found.append(chosen)
            return
        walk(i + 1, chosen)
        if all(p in chosen for p in parents[i]):
            walk(i + 1, chosen + (i,))

    walk(0, ())
    found.sort(key=lambda m: (len(m), m))
    return [tuple(":".join(terms[i]) for i in m) for m in found]


def inclusion_bayes_factors(
    frame: pd.DataFrame,
    *,
    outcome: str,
    factors: Sequence[str],
    rscale_fixed: float = 0.5,
    seed: int = DEFAULT_SEED,
    n_samples: int = 32_768,
    animal: str | None = None,
    nuisance: Sequence[str] = (),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Inclusion Bayes factors of every effect of a between-animal factorial ANOVA.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per animal.
    outcome : str
        Numeric outcome column.
    factors : sequence of str
        The k >= 2 crossed factors (2 <= k <= 4), in formula order; every cell must hold a row.
    rscale_fixed : float or {"medium", "wide", "ultrawide"}, optional
        Scale r of the fixed-effect prior, g ~ Inverse-Gamma(1/2, r^2/2); BayesFactor's names
        stand for 1/2, sqrt(2)/2 and 1.
    seed : int, optional
        Seed of the importance sampling (models with more than three g's).
    n_samples : int, optional
        Importance samples per such model: 32 scrambled Sobol' sets of the largest power of two
        <= n_samples / 32 (at least 64) each, after a pilot of up to 2048 draws.
    animal : str, optional
        Animal id column: repeated rows of an animal are refused (within-animal designs are
        out of scope).
    nuisance : sequence of str, optional
        Nuisance (block) factor columns, e.g. ``["cohort"]``: each entered additively (its own g,
        scale ``rscale_fixed``) in every model, the null included, so that every BF is against
        the nuisance-only model. Empty factor x nuisance combinations are allowed; the design
        must have full column rank.

    Returns
    -------
    effects : pandas.DataFrame
        One row per term (R's labels, e.g. ``supp:dose``): ``effect``, ``p_prior_incl``,
        ``p_post_incl``, ``BF_incl``, ``log_BF_incl``, ``BF_incl_matched``,
        ``log_BF_incl_matched``, ``error`` and ``error_matched`` (relative errors of the two BFs).
    models : pandas.DataFrame
        One row per model, the null first: ``model`` (formula right-hand side, ``1`` for the
        null; with nuisance the nuisance terms first, the null e.g. ``cohort``), ``terms``
        (tuple of the tested terms, nuisance excluded), ``n_g`` (g's integrated, nuisance
        included; 0 for the null), ``method`` (``null``, ``quadrature``, ``importance``),
        ``log_BF10`` (against the null), ``error`` (relative error of BF10), ``p_prior`` and
        ``p_posterior``. Both frames' ``attrs["nuisance"]`` is the tuple of nuisance columns;
        the models' ``attrs["nuisance_log_BF10"]`` and ``attrs["nuisance_error"]`` are the
        nuisance-only model's log BF against the intercept-only model and its relative error
        (0 and 0 without nuisance).

    Raises
    ------
    DesignError
        Fewer than 2 (or more than 4) factors, a missing column, a non-numeric or missing
        outcome, a missing factor level, a factor with one level, an empty cell, no residual
        degree of freedom, an animal with several rows; a nuisance column that is missing,
        also a factor, the outcome or the animal id, with a missing level or one level, or
        confounded with the other terms (the design matrix not of full column rank).
    """
    factors = list(factors)
    nuisance = [nuisance] if isinstance(nuisance, str) else list(nuisance)
    y, codes, nuisance_codes = _validate(frame, outcome, factors, animal, nuisance)
    rscale_fixed = _RSCALE_NAMES.get(rscale_fixed, rscale_fixed) if isinstance(rscale_fixed, str) else rscale_fixed
    if not (isinstance(rscale_fixed, (int, float)) and np.isfinite(rscale_fixed) and rscale_fixed > 0):
        raise DesignError(f"rscale_fixed must be a positive number, got {rscale_fixed!r}.")
    if int(n_samples) < 100:
        raise DesignError(f"n_samples must be at least 100, got {n_samples!r}.")
    coded = {f: _contrasts(int(c.max()) + 1)[c]
             for f, c in zip([*nuisance, *factors], [*nuisance_codes, *codes], strict=True)}
    all_terms = [(c,) for c in nuisance] + _terms(factors)
    stats_ = _sufficient(y, coded, all_terms)
    _check_rank(stats_, all_terms, nuisance, factors, outcome)
    terms = [":".join(t) for t in _terms(factors)]
    base = list(range(len(nuisance)))  # the nuisance terms' indices, in every model
    space = model_space(factors)
    # the models' seeds do not depend on the nuisance (the nuisance-only model's is spawned last)
    seeds = np.random.SeedSequence(seed).spawn(len(space) + (1 if nuisance else 0))
    log_bf0, err0 = 0.0, 0.0
    if nuisance:
        log_bf0, err0, _ = _Integrand(stats_, base, rscale_fixed).integrate(
            np.random.default_rng(seeds[-1]), int(n_samples))
    prefix = [" + ".join(nuisance)] if nuisance else []
    rows = [{"model": prefix[0] if nuisance else "1", "terms": (), "n_g": 0, "method": "null",
             "log_BF10": 0.0, "error": 0.0}]
    raw_err = [err0]  # errors of the BFs against the intercept-only model, for the inclusion BFs
    for model, child in zip(space, seeds[: len(space)], strict=True):
        index = base + [len(nuisance) + terms.index(t) for t in model]
        integrand = _Integrand(stats_, index, rscale_fixed)
        log_bf, err, method = integrand.integrate(np.random.default_rng(child), int(n_samples))
        raw_err.append(err)
        rows.append({"model": " + ".join([*prefix, *model]), "terms": model, "n_g": len(index),
                     "method": method, "log_BF10": log_bf - log_bf0,
                     "error": float(np.hypot(err, err0)) if nuisance else err})
    models = pd.DataFrame(rows)
    lbf = models["log_BF10"].to_numpy()
    models["p_prior"] = 1.0 / len(models)
    models["p_posterior"] = np.exp(lbf - special.logsumexp(lbf))
    effects = pd.DataFrame([_inclusion(term, models, np.asarray(raw_err)) for term in terms])
    models.attrs.update(nuisance=tuple(nuisance), nuisance_log_BF10=float(log_bf0), nuisance_error=float(err0))
    effects.attrs.update(nuisance=tuple(nuisance))
    return effects, models


# ----------------------------------------------------------------------------- model space


def _terms(factors: list[str]) -> list[tuple[str, ...]]:
    """All 2^k - 1 terms in R's order: by order, then by the factors' positions."""
    return [t for order in range(1, len(factors) + 1) for t in combinations(factors, order)]


def _contrasts(n_levels: int) -> np.ndarray:
    """Orthonormal basis of the sum-to-zero space (normalised Helmert), levels x (levels - 1)."""
    s = np.zeros((n_levels, n_levels - 1))
    for j in range(1, n_levels):
        s[:j, j - 1] = 1.0
        s[j, j - 1] = -float(j)
        s[:, j - 1] /= np.sqrt(j * (j + 1.0))
    return s


@dataclass(frozen=True)
class _Stats:
    xtx: np.ndarray  # centred X'X of the full model
    xty: np.ndarray  # centred X'y
    yty: float  # centred y'y
    n: int
    columns: list[np.ndarray]  # column indices of each term (in _terms order)


def _sufficient(y: np.ndarray, coded: dict[str, np.ndarray], terms: list[tuple[str, ...]]) -> _Stats:
    """Centred X'X, X'y, y'y of the design of ``terms`` (each factor's codes in ``coded``)."""
    blocks, columns, start = [], [], 0
    for term in terms:
        x = coded[term[0]]
        for f in term[1:]:
            x = (x[:, :, None] * coded[f][:, None, :]).reshape(len(y), -1)
        blocks.append(x)
        columns.append(np.arange(start, start + x.shape[1]))
        start += x.shape[1]
    x = np.hstack(blocks)
    x = x - x.mean(axis=0)
    yc = y - y.mean()
    return _Stats(xtx=x.T @ x, xty=x.T @ yc, yty=float(yc @ yc), n=len(y), columns=columns)


def _check_rank(st: _Stats, terms: list[tuple[str, ...]], nuisance: list[str], factors: list[str],
                outcome: str) -> None:
    """Refuse a design (intercept, nuisance, every factor term) without full column rank, naming
    the first term (nuisance first, then R's order) whose columns are a combination of the
    earlier ones and the terms of that combination; then refuse no residual degree of freedom."""
    p = st.xtx.shape[0]
    formula = " + ".join([*nuisance, " * ".join(factors)])

    def rank(cols: np.ndarray) -> int:
        sub = st.xtx[np.ix_(cols, cols)]
        ev = np.linalg.eigvalsh(sub)
        return int((ev > 1e-10 * max(ev.max(initial=0.0), 1e-300)).sum())

    full = rank(np.arange(p))
    if full < p:
        for i in range(len(terms)):
            cols = np.concatenate(st.columns[: i + 1])
            if rank(cols) < len(cols):
                sub = st.xtx[np.ix_(cols, cols)]
                ev, vec = np.linalg.eigh(sub)
                null = vec[:, ev <= 1e-10 * ev.max()]
                load = np.abs(null).max(axis=1)
                involved = [":".join(t) for j, t in enumerate(terms[: i])
                            if np.any(load[st.columns[j]] > 1e-6)]
                kind = "nuisance" if i < len(nuisance) else "term"
                raise DesignError(
                    f"{outcome} ~ {formula} is not identifiable: its design matrix (intercept included) "
                    f"has rank {full + 1} < {p + 1} columns; {kind} {':'.join(terms[i])!r} is confounded "
                    f"with {', '.join(repr(t) for t in involved) or 'the intercept'} (columns "
                    f"{sorted({c for t in [terms[i], *[tuple(s.split(':')) for s in involved]] for c in t})}). "
                    f"Fix: leave {', '.join(repr(c) for c in nuisance) or 'the block'} out of the nuisance "
                    "or test fewer factors (a block must not coincide with a level or a combination "
                    "of levels of the factors).")
    if nuisance and st.n - (p + 1) < 1:
        raise DesignError(f"{st.n} animals leave no residual degree of freedom for {outcome} ~ {formula} "
                          f"({p + 1} coefficients). Fix: fewer nuisance levels or more animals.")


# ----------------------------------------------------------------------------- the g-integral


class _Integrand:
    """log of BF(g) x prior(g) on q = log g for one model, vectorised over points."""

    def __init__(self, st: _Stats, term_index: list[int], rscale: float) -> None:
        cols = np.concatenate([st.columns[i] for i in term_index])
        self.xtx = st.xtx[np.ix_(cols, cols)]
        self.xty = st.xty[cols]
        self.yty = st.yty
        self.n = st.n
        self.d = len(term_index)
        self.gmap = np.concatenate([np.full(len(st.columns[i]), k) for k, i in enumerate(term_index)])
        self.sizes = np.bincount(self.gmap, minlength=self.d).astype(float)
        self.b = rscale**2 / 2.0
        # log Inverse-Gamma(1/2, b) density of g times the Jacobian g is
        # 1/2 log b - log Gamma(1/2) - q/2 - b e^-q per g
        self.log_const = self.d * (0.5 * np.log(self.b) - special.gammaln(0.5))
        off = self.xtx - np.diag(np.diag(self.xtx))
        # orthogonal columns (balanced designs): X'X + G^-1 is diagonal
        self.diagonal = bool(np.abs(off).max(initial=0.0) <= 1e-10 * np.abs(np.diag(self.xtx)).max())

    def _logdet_quad(self, ginv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """log |X'X + G^-1| and X'y' (X'X + G^-1)^-1 X'y at each row of ``ginv`` (one Cholesky)."""
        if self.diagonal:
            a = np.diag(self.xtx)[None, :] + ginv
            return np.log(a).sum(axis=1), (self.xty**2 / a).sum(axis=1)
        p = len(self.gmap)
        a = self.xtx[None, :, :] + ginv[:, :, None] * np.eye(p)[None]
        chol = np.linalg.cholesky(a)
        v = np.empty_like(ginv)
        for i in range(p):  # forward substitution L v = X'y, vectorised over the points
            v[:, i] = (self.xty[i] - np.einsum("nj,nj->n", chol[:, i, :i], v[:, :i])) / chol[:, i, i]
        logdet = 2.0 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)
        return logdet, (v**2).sum(axis=1)

    def log_f(self, q: np.ndarray) -> np.ndarray:
        """log BF10(g) + log prior density of q = log g, at each row of ``q``."""
        q = np.atleast_2d(q)
        logdet, quad = self._logdet_quad(np.exp(-q[:, self.gmap]))
        log_bf = (-0.5 * (q * self.sizes).sum(axis=1) - 0.5 * logdet
                  - 0.5 * (self.n - 1) * np.log1p(-quad / self.yty))
        return log_bf + self.log_const + (-0.5 * q - self.b * np.exp(-q)).sum(axis=1)

    def grad(self, q: np.ndarray) -> np.ndarray:
        """Gradient of ``log_f`` (rows of ``q``)."""
        q = np.atleast_2d(q)
        ginv = np.exp(-q[:, self.gmap])
        a = self.xtx[None, :, :] + ginv[:, :, None] * np.eye(len(self.gmap))[None]
        ainv = np.linalg.inv(a)
        beta = ainv @ self.xty
        resid = self.yty - beta @ self.xty
        per_col = 0.5 * np.diagonal(ainv, axis1=1, axis2=2) * ginv + 0.5 * (self.n - 1) * beta**2 * ginv / resid[:, None]
        g = np.stack([per_col[:, self.gmap == k].sum(axis=1) for k in range(self.d)], axis=1)
        return g - 0.5 * self.sizes - 0.5 + self.b * np.exp(-q)

    def laplace(self) -> tuple[np.ndarray, np.ndarray]:
        """Mode of ``log_f`` and the Cholesky factor of the inverse negative Hessian there."""
        res = optimize.minimize(lambda v: -self.log_f(v)[0], np.zeros(self.d),
                                jac=lambda v: -self.grad(v)[0], method="BFGS", options={"gtol": 1e-7})
        mode = res.x
        eps = 1e-5
        g = self.grad(np.vstack([mode + eps * np.eye(self.d), mode - eps * np.eye(self.d)]))
        hess = (g[: self.d] - g[self.d:]) / (2 * eps)
        hess = 0.5 * (hess + hess.T)
        try:
            chol = np.linalg.cholesky(np.linalg.inv(-hess))
        except np.linalg.LinAlgError:
            chol = np.diag(1.0 / np.sqrt(np.maximum(np.abs(np.diag(hess)), 1e-2)))
        return mode, chol

    def integrate(self, rng: np.random.Generator, n_samples: int) -> tuple[float, float, str]:
        """log of the integral (log BF10 of the model), its relative error and the method."""
        mode, chol = self.laplace()
        if self.d <= MAX_QUADRATURE_DIM:
            return (*self._quadrature(mode, chol), "quadrature")
        return (*self._importance(mode, chol, rng, n_samples), "importance")

    def _quadrature(self, mode: np.ndarray, chol: np.ndarray) -> tuple[float, float]:
        """Tensor trapezoid rule in u, q = mode + chol z, z = s sinh(u / s) (s = 2: the
        exponential tails of log g become double-exponential in u).

        The error is BayesFactor's kind for quadrature: the difference from the rule of twice
        the step (the even grid points), relative, plus the share on the grid's edge.
        """
        step = _QUAD_STEP[self.d]
        k = int(np.ceil(_SINH_S * np.arcsinh(_Z_MAX / _SINH_S) / step / 2.0)) * 2
        axis = np.arange(-k, k + 1)
        idx = np.stack(np.meshgrid(*[axis] * self.d, indexing="ij"), axis=-1).reshape(-1, self.d)
        u = idx * step
        z = _SINH_S * np.sinh(u / _SINH_S)
        logf = self.log_f(mode + z @ chol.T) + np.log(np.cosh(u / _SINH_S)).sum(axis=1)
        top = logf.max()
        w = np.exp(logf - top)
        fine = w.sum() * step**self.d
        coarse = w[(idx % 2 == 0).all(axis=1)].sum() * (2 * step) ** self.d
        edge = w[(np.abs(idx) == k).any(axis=1)].sum() * step**self.d / fine
        log_i = top + np.log(fine) + np.log(np.diag(chol)).sum()
        return float(log_i), float(abs(fine - coarse) / fine + edge)

    def _importance(self, mode: np.ndarray, chol: np.ndarray, rng: np.random.Generator,
                    n_samples: int) -> tuple[float, float]:
        """Importance sampling from a multivariate t (4 df), randomised quasi-Monte Carlo.

        A pilot of plain draws from the t at the Laplace mode and scale gives the weighted
        posterior mean and covariance of q, the final proposal's location and (times 1.3^2)
        scale. The final draws are ``_RQMC_REPS`` independently scrambled Sobol' sets; the
        estimate is their mean and the error the standard error of that mean over the sets,
        relative.
        """
        d = self.d
        per = 2 ** max(int(np.log2(max(n_samples, _RQMC_REPS * 64) / _RQMC_REPS)), 6)
        pilot = _t_from_uniform(rng.random((min(per, 2048), d + 2)), d)
        logw = self._log_weights(pilot, mode, chol)
        w = np.exp(logw - logw.max())
        w /= w.sum()
        if 1.0 / np.sum(w**2) >= 20 * d:
            q = mode + pilot @ chol.T
            mean = w @ q
            cov = ((q - mean).T * w) @ (q - mean)
            try:
                chol, mode = _INFLATE * np.linalg.cholesky(cov), mean
            except np.linalg.LinAlgError:
                pass
        logs = np.empty(_RQMC_REPS)
        for r in range(_RQMC_REPS):
            u = qmc.Sobol(d + 2, scramble=True, seed=rng).random(per)
            logw = self._log_weights(_t_from_uniform(u, d), mode, chol)
            logs[r] = special.logsumexp(logw) - np.log(per)
        top = logs.max()
        e = np.exp(logs - top)
        return float(top + np.log(e.mean())), float(e.std(ddof=1) / np.sqrt(_RQMC_REPS) / e.mean())

    def _log_weights(self, t: np.ndarray, mode: np.ndarray, chol: np.ndarray) -> np.ndarray:
        d = self.d
        log_t = (special.gammaln((_T_DF + d) / 2) - special.gammaln(_T_DF / 2) - 0.5 * d * np.log(_T_DF * np.pi)
                 - 0.5 * (_T_DF + d) * np.log1p((t**2).sum(axis=1) / _T_DF))
        return self.log_f(mode + t @ chol.T) - (log_t - np.log(np.diag(chol)).sum())


def _t_from_uniform(u: np.ndarray, d: int) -> np.ndarray:
    """Standard multivariate t (4 df) draws from (n, d + 2) uniforms by inversion: d normals
    and a chi-square with 4 df as the sum of two chi-squares with 2 df, -2 log U each."""
    u = np.clip(u, 1e-300, 1.0 - 1e-16)
    z = special.ndtri(u[:, :d])
    chi2 = -2.0 * np.log(u[:, d] * u[:, d + 1])
    return z * np.sqrt(_T_DF / chi2)[:, None]


# ----------------------------------------------------------------------------- inclusion


def _inclusion(term: str, models: pd.DataFrame, err: np.ndarray) -> dict:
    """bayestestR's inclusion BFs of ``term``; ``err`` are the models' relative errors against
    the intercept-only model (the null's is the nuisance-only model's, 0 without nuisance)."""
    parts = set(term.split(":"))
    sets = [{frozenset(t.split(":")) for t in m} for m in models["terms"]]
    lbf = models["log_BF10"].to_numpy()
    key = frozenset(parts)
    all_effects = set().union(*sets)
    higher = {e for e in all_effects if key < e}
    lower = {e for e in all_effects if e < key}
    has = np.array([key in s for s in sets])
    every = np.ones(len(sets), dtype=bool)
    matched = np.array([not (s & higher) and (key in s or lower <= s) for s in sets])

    def odds(keep: np.ndarray) -> tuple[float, float, float, float]:
        w, wo = keep & has, keep & ~has
        lw, lwo = special.logsumexp(lbf[w]), special.logsumexp(lbf[wo])
        log_bf = (lw - lwo) - (np.log(w.sum()) - np.log(wo.sum()))
        rel_w, rel_wo = np.exp(lbf[w] - lw), np.exp(lbf[wo] - lwo)
        e = np.sqrt(np.sum((rel_w * err[w]) ** 2) + np.sum((rel_wo * err[wo]) ** 2))
        return float(log_bf), float(e), float(w.sum() / keep.sum()), float(np.exp(lw - special.logsumexp(lbf[keep])))

    log_bf, e, p_prior, p_post = odds(every)
    log_bf_m, e_m, _, _ = odds(matched)
    return {"effect": term, "p_prior_incl": p_prior, "p_post_incl": p_post,
            "BF_incl": float(np.exp(log_bf)), "log_BF_incl": log_bf,
            "BF_incl_matched": float(np.exp(log_bf_m)), "log_BF_incl_matched": log_bf_m,
            "error": e, "error_matched": e_m}


# ----------------------------------------------------------------------------- validation


def _validate(frame: pd.DataFrame, outcome: str, factors: list[str], animal: str | None,
              nuisance: list[str]) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    if not isinstance(frame, pd.DataFrame):
        raise DesignError("inclusion_bayes_factors needs a pandas DataFrame with one row per animal.")
    if len(factors) < 2:
        raise DesignError(f"Inclusion Bayes factors need at least 2 crossed factors, got {factors!r}. "
                          "Fix: name two or more factor columns (one factor: compare the two models "
                          "directly, e.g. with a one-way Bayes factor).")
    if len(factors) > MAX_FACTORS:
        raise DesignError(f"At most {MAX_FACTORS} factors are supported (the model space of 5 "
                          f"factors has 7579 models), got {len(factors)}.")
    if len(set(factors)) != len(factors) or outcome in factors:
        raise DesignError(f"Factors {factors!r} and outcome {outcome!r} must be distinct columns.")
    for col in nuisance:
        if not isinstance(col, str):
            raise DesignError(f"nuisance must name columns, got {col!r}.")
        if col in factors or col == outcome or col == animal or nuisance.count(col) > 1:
            role = ("a factor" if col in factors else "the outcome" if col == outcome
                    else "the animal id" if col == animal else "named twice")
            raise DesignError(f"Nuisance column {col!r} is {role}. Fix: a nuisance (block) column is a "
                              "separate factor that is not tested; name it once, not among the factors.")
    for col in [outcome, *factors, *([animal] if animal is not None else []), *nuisance]:
        if col not in frame.columns:
            raise DesignError(f"Column {col!r} is not in the data (columns: {list(frame.columns)}). "
                              "Fix: name an existing column.")
    col = frame[outcome]
    if not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
        raise DesignError(f"Column {outcome!r}: the outcome must be numeric, got dtype {col.dtype}. "
                          "Fix: convert it to numbers (no text such as '<LOD').")
    y = col.to_numpy(dtype=float)
    bad = ~np.isfinite(y)
    if bad.any():
        raise DesignError(f"Column {outcome!r}: missing or non-finite outcome in rows "
                          f"{list(frame.index[bad][:5])}. Fix: drop those rows first.")
    codes = []
    for f in factors:
        values = frame[f]
        missing = values.isna().to_numpy()
        if missing.any():
            raise DesignError(f"Column {f!r}: missing factor level in rows {list(frame.index[missing][:5])}. "
                              "Fix: fill or drop those rows.")
        cat = pd.Categorical(values)
        cat = cat.remove_unused_categories()
        if len(cat.categories) < 2:
            raise DesignError(f"Column {f!r}: a factor needs at least 2 levels, got "
                              f"{list(cat.categories)}. Fix: drop the factor.")
        codes.append(np.asarray(cat.codes, dtype=int))
    nuisance_codes = []
    for f in nuisance:
        values = frame[f]
        missing = values.isna().to_numpy()
        if missing.any():
            raise DesignError(f"Nuisance column {f!r}: missing level in rows {list(frame.index[missing][:5])}. "
                              "Fix: fill or drop those rows.")
        cat = pd.Categorical(values).remove_unused_categories()
        if len(cat.categories) < 2:
            raise DesignError(f"Nuisance column {f!r} has one level {list(cat.categories)}: it is the "
                              "intercept. Fix: leave it out of the nuisance.")
        nuisance_codes.append(np.asarray(cat.codes, dtype=int))
    if animal is not None:
        dup = frame[animal].duplicated(keep=False).to_numpy()
        if dup.any():
            raise DesignError(f"Column {animal!r}: animal {frame[animal][dup].iloc[0]!r} has several rows; "
                              "within-animal (repeated-measures) designs are out of scope of the "
                              "inclusion Bayes factors. Fix: one row per animal (e.g. its mean).")
    sizes = [int(c.max()) + 1 for c in codes]
    cell = np.ravel_multi_index(codes, sizes)
    counts = np.bincount(cell, minlength=int(np.prod(sizes)))
    if (counts == 0).any():
        empty = np.unravel_index(int(np.flatnonzero(counts == 0)[0]), sizes)
        levels = [pd.Categorical(frame[f]).remove_unused_categories().categories[i]
                  for f, i in zip(factors, empty, strict=True)]
        raise DesignError("Empty cell " + ", ".join(f"{f}={lv}" for f, lv in zip(factors, levels, strict=True))
                          + f" ({int((counts == 0).sum())} empty of {counts.size}). Fix: the crossed design "
                          "needs at least one animal in every cell; drop a level or a factor.")
    if len(y) - counts.size < 1:
        raise DesignError(f"{len(y)} animals in {counts.size} cells leave no residual degree of freedom. "
                          "Fix: more than one animal in some cell.")
    if np.ptp(y) == 0:
        raise DesignError(f"Column {outcome!r}: the outcome is constant. Fix: check the column.")
    return y, codes, nuisance_codes
