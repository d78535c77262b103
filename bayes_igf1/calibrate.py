"""Simulation-based calibration (Talts et al. 2018) of a design as shipped.

Parameters are drawn from the prior (the priors the shipped data give, frozen), a data set
of the study's size is simulated from each draw, the compiled model is refitted to it (the
data swapped in, never recompiled), and the rank of each true value among the thinned
posterior draws is recorded. A calibrated model gives uniform ranks and nominal coverage.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr
from scipy import stats

from bayes_igf1.sampling import SamplerSettings, Thresholds, diagnose, sample_compiled

COVERAGE_LEVELS = (0.5, 0.8, 0.95)


@dataclass(frozen=True)
class Calibration:
    """Ranks, uniformity tests and interval coverage of an SBC run."""

    design: str
    ranks: pd.DataFrame = field(repr=False)       # sim, parameter, rank
    uniformity: pd.DataFrame = field(repr=False)  # parameter, chi2, df, p
    coverage: pd.DataFrame = field(repr=False)    # parameter, level, coverage
    n_sims: int
    n_ranks: int                                  # posterior draws each rank is taken among (+1 bins)
    failed_gate: int                              # simulated fits that failed the diagnostics gate
    seconds: float
    compile_seconds: float
    settings: SamplerSettings
    #: the synthetic shape calibrated instead of the shipped study (e.g. "2x2x2"), None for the study
    shape: str | None = None

    def summary(self) -> dict:
        cov = self.coverage.groupby("level")["coverage"].agg(["mean", "min", "max"])
        return {
            "design": self.design,
            **({"shape": self.shape} if self.shape is not None else {}),
            "n_sims": self.n_sims,
            "n_parameters": int(self.uniformity.shape[0]),
            "min_uniformity_p": float(self.uniformity["p"].min()),
            "n_uniformity_p_below_0.01": int((self.uniformity["p"] < 0.01).sum()),
            "coverage": {f"{lvl:g}": {k: float(v) for k, v in row.items()} for lvl, row in cov.iterrows()},
            "failed_gate": self.failed_gate,
            "seconds": round(self.seconds, 1),
            "compile_seconds": round(self.compile_seconds, 1),
            "fits_per_minute": round(60.0 * self.n_sims / max(self.seconds - self.compile_seconds, 1e-9), 1),
        }


def _flatten(ds: xr.Dataset, names: Sequence[str], sample_dims: Sequence[str]) -> dict[str, np.ndarray]:
    """name[element] -> array over the sample dims (stacked)."""
    out = {}
    for name in names:
        da = ds[name]
        other = [d for d in da.dims if d not in sample_dims]
        stacked = da.stack(_s=list(sample_dims))
        if not other:
            out[name] = np.asarray(stacked.values, dtype=float)
            continue
        flat = stacked.stack(_e=other).transpose("_e", "_s")
        for i, idx in enumerate(flat["_e"].values):
            label = ", ".join(str(v) for v in (idx if isinstance(idx, tuple) else (idx,)))
            out[f"{name}[{label}]"] = np.asarray(flat.values[i], dtype=float)
    return out


def run_sbc(
    model: pm.Model,
    *,
    design: str,
    parameters: Sequence[str],
    data_name: str = "y_data",
    observed_name: str = "y",
    n_sims: int,
    settings: SamplerSettings,
    n_ranks: int = 99,
    thresholds: Thresholds = Thresholds(),
    progress: Callable[[int, int, float], None] | None = None,
    shape: str | None = None,
) -> Calibration:
    """Simulation-based calibration of ``model`` (compiled once, data swapped in).

    Parameters
    ----------
    model : pymc.Model
        Built on the real data's structure, its observations a ``pm.Data`` named ``data_name``.
    parameters : names of the free parameters to rank.
    n_sims : number of simulated data sets.
    settings : sampler settings of each fit (seed: the SBC's seed).
    n_ranks : each rank is taken among this many thinned posterior draws (ranks 0..n_ranks).
    progress : called as ``progress(done, total, seconds)`` after each fit.
    shape : the synthetic shape the model was built on (recorded), None for the shipped study.
    """
    from bayes_igf1.compile import compile_model

    from bayes_igf1.errors import DesignError

    if observed_name not in {rv.name for rv in model.observed_RVs} or data_name not in model.named_vars:
        raise DesignError(
            f"the {design} model has no observed variable {observed_name!r} on the data {data_name!r} to simulate "
            "from its prior (a likelihood written as a potential cannot be sampled), so simulation-based calibration "
            f"cannot run on it yet. Fix: calibrate another design; the {design} design needs a generative likelihood "
            "(or a simulator of its own) for SBC."
        )
    start = time.perf_counter()
    seeds = np.random.SeedSequence(settings.seed).spawn(n_sims + 1)
    prior = pm.sample_prior_predictive(draws=n_sims, model=model,
                                       random_seed=int(seeds[0].generate_state(1)[0]))
    truth = _flatten(prior["prior"].to_dataset(), parameters, ("chain", "draw"))
    ys = prior["prior_predictive"][observed_name].stack(_s=("chain", "draw")).transpose("_s", ...).values
    compiled = compile_model(model)
    compile_seconds = time.perf_counter() - start
    rank_rows, cover_rows = [], []
    failed = 0
    for i in range(n_sims):
        fit = sample_compiled(
            compiled.with_data(**{data_name: np.asarray(ys[i], dtype=float)}),
            settings=replace(settings, seed=int(seeds[i + 1].generate_state(1)[0])),
        )
        if not diagnose(fit, var_names=list(parameters), thresholds=thresholds, settings=settings).passed:
            failed += 1
        post = _flatten(fit["posterior"].to_dataset(), parameters, ("chain", "draw"))
        for key, draws in post.items():
            thinned = draws[np.linspace(0, len(draws) - 1, n_ranks).round().astype(int)]
            true = truth[key][i]
            rank_rows.append((i, key, int(np.sum(thinned < true))))
            for level in COVERAGE_LEVELS:
                lo, hi = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2])
                cover_rows.append((i, key, level, bool(lo <= true <= hi)))
        if progress is not None:
            progress(i + 1, n_sims, time.perf_counter() - start)
    ranks = pd.DataFrame(rank_rows, columns=["sim", "parameter", "rank"])
    covered = pd.DataFrame(cover_rows, columns=["sim", "parameter", "level", "covered"])
    coverage = covered.groupby(["parameter", "level"], sort=False)["covered"].mean().rename("coverage").reset_index()
    return Calibration(
        design=design, ranks=ranks, uniformity=uniformity(ranks, n_ranks=n_ranks), coverage=coverage,
        n_sims=n_sims, n_ranks=n_ranks, failed_gate=failed, seconds=time.perf_counter() - start,
        compile_seconds=compile_seconds, settings=settings, shape=shape,
    )


def uniformity(ranks: pd.DataFrame, *, n_ranks: int, bins: int | None = None) -> pd.DataFrame:
    """Chi-square test of uniform SBC ranks per parameter (ranks 0..n_ranks in ``bins`` bins).

    The default number of bins keeps about 10 expected ranks per bin (at most 20).
    """
    rows = []
    for name, r in ranks.groupby("parameter", sort=False)["rank"]:
        n = len(r)
        b = bins or int(max(2, min(20, n // 10)))
        edges = np.linspace(-0.5, n_ranks + 0.5, b + 1)
        counts, _ = np.histogram(r.to_numpy(), bins=edges)
        chi2, p = stats.chisquare(counts)
        rows.append({"parameter": name, "chi2": float(chi2), "df": b - 1, "p": float(p)})
    return pd.DataFrame(rows)


def timecourse_model(data_dir, *, likelihood: str = "student"):
    """The shipped time course's design and frozen priors, without its below-limit fractions."""
    from bayes_igf1.designs import timecourse as tc
    from bayes_igf1.io import read_timecourse

    sheet = read_timecourse(data_dir / "microdialysis_igf1.csv", animal="mouse", group="treatment", time="hour",
                            value="igf1_pg_ml", lloq=8.0, log_scale=True)
    options = tc.TimecourseOptions(likelihood=likelihood)
    frame = sheet.frame[~sheet.frame["censored"]].reset_index(drop=True)
    data = tc.prepare(frame, options)
    priors = tc.default_priors(tc.prepare(sheet.frame, options), options)  # frozen: the shipped data's
    params = [p for p in tc.free_parameters(data, options) if p != "alpha"]
    return tc.build_model(data, priors, options), params, priors


def plot_ranks(cal: Calibration, *, max_panels: int = 30):
    """Rank histograms, one panel per parameter, with the 99% band of a uniform histogram."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(cal.uniformity["parameter"])[:max_panels]
    ncol = 6
    nrow = int(np.ceil(len(names) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(2.2 * ncol, 1.8 * nrow), squeeze=False, sharey=True)
    bins = int(max(2, min(20, cal.n_sims // 10)))
    expected = cal.n_sims / bins
    lo, hi = stats.binom.ppf([0.005, 0.995], cal.n_sims, 1 / bins)
    for ax, name in zip(axes.flat, names):
        r = cal.ranks.loc[cal.ranks["parameter"] == name, "rank"]
        ax.axhspan(lo, hi, color="0.88", lw=0)
        ax.axhline(expected, color="0.5", lw=0.8)
        ax.hist(r, bins=np.linspace(-0.5, cal.n_ranks + 0.5, bins + 1), color="#0072B2", edgecolor="white")
        p = float(cal.uniformity.loc[cal.uniformity["parameter"] == name, "p"].iloc[0])
        ax.set_title(f"{name}\np = {p:.2f}", fontsize=7)
        ax.tick_params(labelsize=6)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    what = cal.design + (f" {cal.shape}" if cal.shape else "")
    fig.suptitle(f"SBC rank histograms, {what} ({cal.n_sims} simulated data sets; grey: 99% band of uniform)",
                 fontsize=9)
    fig.tight_layout()
    return fig, axes


def write_calibration(cal: Calibration, out) -> dict:
    """ranks.csv, uniformity.csv, coverage.csv, calibration.json and rank histograms (PNG, SVG)."""
    import json
    from dataclasses import asdict
    from pathlib import Path

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cal.ranks.to_csv(out / "ranks.csv", index=False)
    cal.uniformity.to_csv(out / "uniformity.csv", index=False)
    cal.coverage.to_csv(out / "coverage.csv", index=False)
    summary = {**cal.summary(), "settings": asdict(cal.settings), "n_ranks": cal.n_ranks}
    (out / "calibration.json").write_text(json.dumps(summary, indent=2) + "\n")
    fig, _ = plot_ranks(cal)
    fig.savefig(out / "rank_histograms.png", dpi=150)
    fig.savefig(out / "rank_histograms.svg")
    return summary


def factorial_model(data_dir):
    """The shipped FST x nAb design (2 x 2, 38 mice, 3 cohorts as fixed blocks), frozen priors."""
    from bayes_igf1.designs import factorial as fa
    from bayes_igf1.io import read_factorial

    factors = ["treatment", "antibody"]
    sheet = read_factorial(data_dir / "fst_igf1_nab.csv", outcome="immobility_s", factors=factors,
                           animal="mouse", cohort="cohort")
    options = fa.FactorialOptions()
    data = fa.prepare(sheet.frame, factors, options, animal_ids_made_up=False)
    priors = fa.resolve_priors(data, options, None)
    return fa.build_model(data, priors, options), fa.free_parameters(data), priors


#: Animals per between-animal cell of a synthetic calibration shape (`factorial_shape_model`).
SHAPE_N_PER_CELL = 8


def parse_shape(shape: str) -> tuple[list[int], list[bool]]:
    """``"2x2x2"`` -> ([2, 2, 2], [False] * 3); ``"2x3w"`` -> ([2, 3], [False, True]).

    One token per factor, its number of levels (>= 2), a trailing ``w`` marks a factor that
    varies within an animal; at least two factors.
    """
    from bayes_igf1.errors import DesignError

    example = "Fix: e.g. --shape 2x2x2 (three between-animal factors) or --shape 2x3w (a 3-level within factor)."
    tokens = [t.strip().lower() for t in str(shape).replace("×", "x").split("x")] if str(shape).strip() else []
    sizes, within = [], []
    for t in tokens:
        w = t.endswith("w")
        digits = t[:-1] if w else t
        if not digits.isdigit() or int(digits) < 2:
            raise DesignError(f"--shape {shape!r}: {t!r} is not a number of levels >= 2 (with 'w' for a within "
                              f"factor). {example}")
        sizes.append(int(digits))
        within.append(w)
    if len(sizes) < 2:
        raise DesignError(f"--shape {shape!r} names {len(sizes)} factor(s); a factorial needs at least two. {example}")
    return sizes, within


def factorial_shape_model(shape: str, *, n_per_cell: int = SHAPE_N_PER_CELL, seed: int = 20220412):
    """A synthetic factorial of the given shape (`parse_shape`), its frozen priors and parameters to rank.

    Factors ``A, B, C, ...`` with levels ``a1, a2, ...``; ``n_per_cell`` animals per
    between-animal cell, each crossing every combination of the within factors' levels (an
    animal random intercept then). The priors are the package's data-scaled defaults on one
    data set simulated with cell means 100 + 10 x (sum of the level indices), residual SD 20
    and animal SD 20 (they only set the scale: SBC draws the truth from these priors).
    """
    import itertools

    from bayes_igf1.constants import ANIMAL, CENSORED, ROW, VALUE
    from bayes_igf1.designs import factorial as fa
    from bayes_igf1.simulate import simulate_factorial

    sizes, is_within = parse_shape(shape)
    names = [chr(ord("A") + i) for i in range(len(sizes))]
    levels = [[f"{n.lower()}{j + 1}" for j in range(size)] for n, size in zip(names, sizes, strict=True)]
    within = [n for n, w in zip(names, is_within, strict=True) if w]
    means = {cell: 100.0 + 10.0 * sum(lv.index(c) for lv, c in zip(levels, cell, strict=True))
             for cell in itertools.product(*levels)}
    df, _ = simulate_factorial(cell_means=means, n_per_cell=int(n_per_cell), residual_sd=20.0, factor_names=names,
                               within=within, animal_sd=20.0 if within else 0.0, seed=int(seed))
    frame = pd.DataFrame({ROW: np.arange(len(df)) + 2, ANIMAL: df["mouse"].astype(str).to_numpy(),
                          **{n: pd.Categorical(df[n], categories=lv) for n, lv in zip(names, levels, strict=True)},
                          VALUE: df["value"].to_numpy(dtype=float), CENSORED: np.zeros(len(df), dtype=bool)})
    between = [n for n in names if n not in within]
    options = fa.FactorialOptions()
    data = fa.prepare(frame, [*between, *within], options, within=within)
    priors = fa.resolve_priors(data, options, None)
    return fa.build_model(data, priors, options), fa.free_parameters(data), priors
