"""Bayesian assurance of the next experiment (``bayes-igf1 plan``).

The design prior is either the posterior of a fitted results folder (its ``posterior.nc``
and ``results.json``: each simulated study draws one posterior draw of the parameters) or
effect sizes the user states (a point mass). For each candidate n per group, ``sims`` data
sets are simulated (`bayes_igf1.simulate`), the design's model is fitted to each (one
nutpie compilation per n and worker process, the data swapped in with
``compiled.with_data(y_data=...)``), and the share of data sets meeting each decision rule
is the assurance (O'Hagan & Stevens 2001). The frequentist power of the matching ANOVA
test is computed on the same simulated data with the package's frequentist modules.

Decision rules
--------------
factorial   k >= 2 factors (between animals, or some within animals with an animal intercept).
            Per highest-order interaction contrast (each non-reference level of every factor,
            A x B: the difference of differences): its 95 % HDI excludes 0; Savage-Dickey BF10
            > 3 (prior Normal(0, sqrt(2^k) s) from the cell-mean prior). Per % blockade of the
            treated factor's effect (the first factor that is not the blocker; the blocker is
            the last factor unless named) by each non-reference blocker level, within every
            combination of the other factors' levels: P(blockade > 50 %) > 0.9. Power: the
            highest-order interaction of the type III ANOVA, p < .05 (between animals), or of
            the mixed ANOVA (Greenhouse-Geisser p when the term has a within part with > 1 df).
timecourse  per non-reference group: the 95 % HDI of the % change vs the reference excludes 0
            at every post-injection time, all on the same side ("sustained"), and at the
            peak time (fixed before the simulation: the time of the largest mean % change
            under the design prior). Power: RM ANOVA group:time, Greenhouse-Geisser p < .05.

Seeds: simulation k of sample size n takes its parameter draw from
``SeedSequence(seed, spawn_key=(0, k))`` (the same draw for every n: common random numbers
make the assurance curve smoother), its data from ``spawn_key=(1, n, k)`` and its sampler
seed from ``spawn_key=(2, n, k)``; the table does not depend on how the simulations are
split over workers.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import pickle
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from bayes_igf1.constants import CI_KIND, CI_PROB, DEFAULT_SEED
from bayes_igf1.designs.base import get_design
from bayes_igf1.errors import DesignError
from bayes_igf1.results import jsonable
from bayes_igf1.sampling import SamplerSettings, Thresholds

__all__ = [
    "PlanResult",
    "parse_cell_means",
    "parse_pct_change",
    "plan_factorial",
    "plan_timecourse",
    "plot_assurance",
    "write_plan",
]

#: Planning fits: 2 chains after 500 tuning steps; 1000 draws per chain for the factorial,
#: 2000 for the time course. The R-hat <= 1.01 gate over ~35 time-course parameters fails by
#: chance alone with few draws: 16 of 20 fits with 2 x 500, 2 of 20 with 2 x 1000 (37 of 400
#: in a K = 100 x 4 plan), 0 of 20 with 2 x 2000. The factorial failed 1 of 800 with 2 x 1000.
PLAN_DRAWS = {"factorial": 1000, "timecourse": 2000}
PLAN_TUNE, PLAN_CHAINS = 500, 2
DEFAULT_TIMES = (-2.0, -1.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0)
DEFAULT_FACTORS = ("treatment", "antibody")
#: Animals per cell / group of the large simulated data set the stated-effects priors are scaled to.
_PRIOR_N = 500
#: The CLI exits 1 (failed diagnostics) when more than this share of planning fits failed the gate.
FAILED_GATE_EXIT_FRACTION = 0.05
#: Compiled models kept per process (one per plan and n).
_CACHE_SIZE = 8

TABLE_COLUMNS = ["n", "rule", "target", "description", "assurance", "mc_se", "power", "power_mc_se",
                 "test", "sims", "failed_gate"]
FREQ_COLUMNS = ["n", "test", "power", "mc_se", "sims", "undefined"]


# ----------------------------------------------------------------------------- result


@dataclass(frozen=True)
class PlanResult:
    """Assurance and power of the next experiment for each candidate n.

    Attributes
    ----------
    design : "factorial" or "timecourse"
    table : one row per n, rule and target (the cell or group the rule is about): ``n, rule,
        target, description, assurance, mc_se, power, power_mc_se, test, sims, failed_gate``;
        ``mc_se = sqrt(p (1 - p) / sims)``; ``power`` is the frequentist power of ``test``
        on the same data sets; ``failed_gate`` counts the fits of that n that failed the
        diagnostics gate (they are included in the assurance).
    frequentist : power of every frequentist test computed, ``n, test, power, mc_se, sims,
        undefined`` (data sets where the p value could not be computed count as p >= alpha).
    simulations : one row per n, k and target with each rule's outcome, the p values, the
        gate and the true value of the contrast in that simulation.
    settings : everything needed to rerun the plan.
    design_prior : what the parameters were drawn from.
    priors : the (frozen) priors of the planning fits.
    seconds : wall time.
    notes : sentences the report of the plan must say.
    """

    design: str
    table: pd.DataFrame = field(repr=False)
    frequentist: pd.DataFrame = field(repr=False)
    simulations: pd.DataFrame = field(repr=False)
    settings: dict = field(repr=False)
    design_prior: dict = field(repr=False)
    priors: dict = field(repr=False)
    seconds: float = float("nan")
    notes: tuple[str, ...] = ()

    @property
    def failed_gate(self) -> dict[int, int]:
        """Fits that failed the diagnostics gate, per n."""
        if self.simulations.empty or "passed" not in self.simulations:
            return {}
        one = self.simulations.drop_duplicates(["n", "k"])
        return {int(n): int((~g["passed"].astype(bool)).sum()) for n, g in one.groupby("n")}

    @property
    def failed_fraction(self) -> float:
        """Share of all planning fits that failed the diagnostics gate (0 without fits)."""
        total = self.settings["sims"] * len(self.settings["n"]) if self.settings.get("bayesian", True) else 0
        return sum(self.failed_gate.values()) / total if total else 0.0

    def to_json_dict(self) -> dict:
        from importlib.metadata import version

        return jsonable({
            "design": self.design,
            "package_version": version("bayes-igf1"),
            "seed": self.settings.get("seed"),
            "settings": self.settings,
            "design_prior": self.design_prior,
            "priors": self.priors,
            "table": self.table.to_dict("records"),
            "frequentist": self.frequentist.to_dict("records"),
            "failed_gate": {str(k): v for k, v in self.failed_gate.items()},
            "seconds": round(self.seconds, 1),
            "notes": list(self.notes),
        })


# ----------------------------------------------------------------------------- the spec


@dataclass(frozen=True, eq=False)
class _Spec:
    """Everything a worker needs (picklable): the design, the design prior, the analysis."""

    design: str
    params: dict                      # name -> array with the design-prior draws first
    priors: dict
    settings: SamplerSettings
    thresholds: Thresholds
    rules: dict                       # ci_prob, ci_kind, alpha, bf, blockade_pct, blockade_prob
    bayesian: bool
    # factorial: every factor (between ones first, then the within ones), their levels (reference
    # first), the factors that vary within an animal, the blocker and the treated factor whose
    # effect the % blockade is of
    factors: tuple[str, ...] = ("", "")
    levels: tuple[tuple[str, ...], ...] = ()
    within: tuple[str, ...] = ()
    blocker: str = ""
    treated: str = ""
    family: str = "normal"
    # timecourse
    groups: tuple[str, ...] = ()
    times: tuple[float, ...] = ()
    likelihood: str = "student"
    peak_times: dict = field(default_factory=dict)
    token: str = ""

    @property
    def n_draws(self) -> int:
        return int(next(iter(self.params.values())).shape[0])

    @property
    def levels_a(self) -> tuple[str, ...]:
        """The first factor's levels (as before k factors)."""
        return self.levels[0]

    @property
    def levels_b(self) -> tuple[str, ...]:
        """The second factor's levels (as before k factors)."""
        return self.levels[1]


def _tokenised(spec: _Spec) -> _Spec:
    from dataclasses import replace

    payload = pickle.dumps({k: v for k, v in spec.__dict__.items() if k != "token"}, protocol=4)
    return replace(spec, token=hashlib.sha1(payload).hexdigest())


def _sequence(seed: int, *key: int) -> np.random.SeedSequence:
    return np.random.SeedSequence(seed, spawn_key=tuple(int(x) for x in key))


def _int_seed(seq: np.random.SeedSequence) -> int:
    return int(seq.generate_state(1)[0])


def _draw_index(spec: _Spec, k: int) -> int:
    if spec.n_draws == 1:
        return 0
    return int(np.random.default_rng(_sequence(spec.settings.seed, 0, k)).integers(spec.n_draws))


# ----------------------------------------------------------------------------- simulation


def _factorial_frame(df: pd.DataFrame, spec: _Spec) -> pd.DataFrame:
    return pd.DataFrame({
        "row": np.arange(len(df)) + 2,
        "animal": df["mouse"].astype(str).to_numpy(),
        **{f: pd.Categorical(df[f].astype(str), categories=list(lv)) for f, lv in zip(spec.factors, spec.levels,
                                                                                   strict=True)},
        "value": df["value"].to_numpy(dtype=float),
        "censored": np.zeros(len(df), dtype=bool),
    })


def _simulate_factorial(spec: _Spec, n: int, index: int, seed: int) -> tuple[pd.DataFrame, dict]:
    """n animals per between-animal cell (each crossing the within levels), from design-prior draw ``index``."""
    import itertools

    from bayes_igf1.simulate import simulate_factorial

    cm = spec.params["cell_mean"][index]
    means = {cell: float(np.exp(cm[ix]) if spec.family == "lognormal" else cm[ix])
             for ix, cell in zip(np.ndindex(cm.shape), itertools.product(*spec.levels), strict=True)}
    extra = {}
    if spec.within:
        extra = {"within": spec.within, "animal_sd": float(spec.params["sigma_animal"][index])}
    df, _ = simulate_factorial(cell_means=means, n_per_cell=int(n), residual_sd=float(spec.params["sigma"][index]),
                               factor_names=spec.factors, family=spec.family, seed=seed, **extra)
    return _factorial_frame(df, spec), {"cell_mean": cm}


def _timecourse_frame(df: pd.DataFrame, spec: _Spec) -> pd.DataFrame:
    return pd.DataFrame({
        "row": np.arange(len(df)) + 2,
        "animal": df["mouse"].astype(str).to_numpy(),
        "group": pd.Categorical(df["treatment"].astype(str), categories=list(spec.groups)),
        "time": df["hour"].to_numpy(dtype=float),
        "value": df["igf1_pg_ml"].to_numpy(dtype=float),
        "censored": np.zeros(len(df), dtype=bool),
    })


def _simulate_timecourse(spec: _Spec, n: int, index: int, seed: int) -> tuple[pd.DataFrame, dict]:
    from bayes_igf1.simulate import simulate_timecourse

    p = spec.params
    beta = p["beta"][index]
    nu = p["nu"][index] if "nu" in p else None
    df, _ = simulate_timecourse(
        n_per_group=int(n), groups=spec.groups, times=spec.times, baseline_log_mean=float(p["mu"][index]),
        animal_sd=float(p["sigma_animal"][index]), residual_sd=float(p["sigma"][index]),
        residual_nu=None if nu is None or not np.isfinite(nu) else float(nu),
        effects={g: beta[i].tolist() for i, g in enumerate(spec.groups)}, lloq=None, seed=seed,
    )
    return _timecourse_frame(df, spec), {"beta": beta}


def _simulate(spec: _Spec, n: int, k: int) -> tuple[pd.DataFrame, dict]:
    index = _draw_index(spec, k)
    seed = _int_seed(_sequence(spec.settings.seed, 1, n, k))
    frame, truth = get_design(spec.design).plan_simulate(spec, n, index, seed)
    truth["draw"] = index
    return frame, truth


# ----------------------------------------------------------------------------- models


_CACHE: dict[tuple[str, int], tuple] = {}


def _compiled(spec: _Spec, n: int):
    """(compiled model, data template, free parameters) of sample size n, once per process."""
    key = (spec.token, int(n))
    if key in _CACHE:
        return _CACHE[key]
    from bayes_igf1.compile import compile_model

    design = get_design(spec.design)
    frame, _ = _simulate(spec, n, 0)
    data, options = design.plan_prepare(spec, frame)
    model, params = design.plan_model(spec, data, options)
    # Only the gated parameters are stored: a smaller expand function compiles faster.
    entry = (compile_model(model, var_names=params), data, params)
    while len(_CACHE) >= _CACHE_SIZE:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = entry
    return entry


# ----------------------------------------------------------------------------- one simulation


def _factorial_test_key(spec: _Spec) -> str:
    """The p value the factorial's power is of: the highest-order interaction of the ANOVA.

    ``"anova A:B:C p"`` (between animals, type III), ``"mixed_anova A:W p"`` or, when the term's
    within part has more than one df, ``"mixed_anova A:W p_gg"`` (Greenhouse-Geisser).
    """
    term = ":".join(spec.factors)
    if not spec.within:
        return f"anova {term} p"
    df_within = math.prod(len(lv) - 1 for f, lv in zip(spec.factors, spec.levels, strict=True) if f in spec.within)
    return f"mixed_anova {term} " + ("p_gg" if df_within > 1 else "p")


def _factorial_freq(spec: _Spec, frame: pd.DataFrame) -> dict[str, float]:
    from bayes_igf1.frequentist import between, repeated

    key = _factorial_test_key(spec)
    work = frame if spec.family != "lognormal" else frame.assign(value=np.log(frame["value"]))
    if not spec.within:
        table = between.factorial_anova(work, dv="value", factors=list(spec.factors), ss_type=3).table
    else:
        work = work.assign(**{f: work[f].astype(str) for f in spec.factors})
        table = repeated.mixed_anova(work, subject="animal", dv="value",
                                     between=[f for f in spec.factors if f not in spec.within],
                                     within=list(spec.within)).table
    # the term whose factors are all of them (R orders a mixed term's between factors first)
    row = table[[set(str(e).split(":")) == set(spec.factors) for e in table["effect"]]].iloc[0]
    return {key: float(row[key.rsplit(" ", 1)[1]])}


def _timecourse_freq(spec: _Spec, frame: pd.DataFrame) -> dict[str, float]:
    from bayes_igf1.designs.timecourse import percent_of_baseline
    from bayes_igf1.frequentist.repeated import rm_anova

    post, _ = percent_of_baseline(frame)
    post = post.assign(group=post["group"].astype(str))
    table = rm_anova(post, subject="animal", between="group", within="time", dv="pct").table.set_index("effect")
    return {"rm_anova group:time p_gg": float(table.loc["group:time", "p_gg"]),
            "rm_anova group p": float(table.loc["group", "p"])}


def _factorial_interaction_targets(spec: _Spec) -> list[tuple[str, ...]]:
    """The cells of the highest-order interaction contrasts: a non-reference level of every factor."""
    import itertools

    return list(itertools.product(*(lv[1:] for lv in spec.levels)))


def _factorial_blockade_targets(spec: _Spec) -> list[tuple[str, ...]]:
    """The cells of the % blockade rule: a non-reference level of the treated factor and of the
    blocker, any level of the other factors (in factor order)."""
    import itertools

    choices = [lv[1:] if f in (spec.treated, spec.blocker) else lv
               for f, lv in zip(spec.factors, spec.levels, strict=True)]
    return list(itertools.product(*choices))


def _factorial_rule_targets(spec: _Spec) -> dict[str, list[str]]:
    """Rule column -> the targets ("a|b|c" cells) it is judged for."""
    inter = ["|".join(c) for c in _factorial_interaction_targets(spec)]
    block = ["|".join(c) for c in _factorial_blockade_targets(spec)]
    rule_inter, rule_block, rule_bf = (name for name, _, _ in _factorial_rule_names(spec))
    return {rule_inter: inter, rule_block: block, rule_bf: inter}


def _factorial_targets(spec: _Spec) -> list[str]:
    """Every target: the interaction cells, then the blockade cells that are not also one (A x B: the same)."""
    out = ["|".join(c) for c in _factorial_interaction_targets(spec)]
    return out + [t for t in ("|".join(c) for c in _factorial_blockade_targets(spec)) if t not in out]


def _factorial_rules(spec: _Spec, post, data, truth: dict) -> list[dict]:
    import xarray as xr

    from bayes_igf1.designs import factorial as fa
    from bayes_igf1.summaries import interval, savage_dickey_bf10

    r = spec.rules
    factors = list(spec.factors)
    con = fa.contrast_draws(post["cell_mean"], data)
    low, high = interval(con["interaction"], ci_prob=r["ci_prob"], ci_kind=r["ci_kind"])
    density = fa.interaction_prior_density_at_zero(float(spec.priors["cell_mean"]["sigma"]), len(factors))
    true_cm = xr.DataArray(np.asarray(truth["cell_mean"], dtype=float), dims=factors,
                           coords={f: list(lv) for f, lv in zip(factors, spec.levels, strict=True)})
    true_inter = fa.contrast_draws(true_cm, data)["interaction"]
    block_da = con[fa.blockade_key(data, spec.treated)]
    block_rule = f"p_blockade_gt_{r['blockade_pct']:g}_above_{r['blockade_prob']:g}"
    blockade_cells = set(_factorial_blockade_targets(spec))
    out = {}
    for cell in _factorial_interaction_targets(spec):
        sel = dict(zip(factors, cell, strict=True))
        inter = con["interaction"].sel(sel).values.ravel()
        lo, hi = float(low.sel(sel)), float(high.sel(sel))
        bf = savage_dickey_bf10(inter, density)["BF10"]
        rec = {"target": fa.cell_key(*cell), "interaction_hdi_excludes_0": bool(lo > 0 or hi < 0)}
        if cell in blockade_cells:
            p_block = float(np.mean(block_da.sel(sel).values.ravel() > r["blockade_pct"]))
            rec[block_rule] = bool(p_block > r["blockade_prob"])
        rec[f"bf10_gt_{r['bf']:g}"] = bool(bf > r["bf"])
        rec.update({"interaction_ci_low": lo, "interaction_ci_high": hi})
        if cell in blockade_cells:
            rec["p_blockade"] = p_block
        rec.update({"bf10": float(bf), "true_interaction": float(true_inter.sel(sel))})
        out[cell] = rec
    for cell in _factorial_blockade_targets(spec):
        if cell in out:
            continue
        p_block = float(np.mean(block_da.sel(dict(zip(factors, cell, strict=True))).values.ravel() > r["blockade_pct"]))
        out[cell] = {"target": fa.cell_key(*cell), block_rule: bool(p_block > r["blockade_prob"]),
                     "p_blockade": p_block}
    return list(out.values())


def _timecourse_rules(spec: _Spec, post, data, truth: dict) -> list[dict]:
    from bayes_igf1.summaries import interval

    r = spec.rules
    beta = post["beta"]
    ref = spec.groups[0]
    others = list(spec.groups[1:])
    pct = 100.0 * np.expm1(beta.sel(group=others) - beta.sel(group=ref))
    low, high = interval(pct, ci_prob=r["ci_prob"], ci_kind=r["ci_kind"])
    true = truth["beta"]
    out = []
    for gi, g in enumerate(others, start=1):
        lo, hi = low.sel(group=g).values, high.sel(group=g).values
        peak = spec.peak_times[g]
        ti = [float(t) for t in beta["time"].values].index(float(peak))
        out.append({
            "target": g,
            "sustained_hdi_excludes_0": bool(np.all(lo > 0) or np.all(hi < 0)),
            "peak_hdi_excludes_0": bool(lo[ti] > 0 or hi[ti] < 0),
            "peak_time": float(peak),
            "peak_ci_low": float(lo[ti]), "peak_ci_high": float(hi[ti]),
            "true_peak_pct_change": float(100.0 * np.expm1(true[gi, ti] - true[0, ti])),
        })
    return out


def _one(spec: _Spec, n: int, k: int, cores: int) -> list[dict]:
    """Simulate, fit and judge data set k of size n: one record per target."""
    design = get_design(spec.design)
    frame, truth = _simulate(spec, n, k)
    base = {"n": int(n), "k": int(k), "draw": truth["draw"]}
    try:
        freq = design.plan_frequentist(spec, frame)
    except Exception as err:  # noqa: BLE001 - a degenerate data set must not stop the plan
        freq = {"freq_error": f"{type(err).__name__}: {err}"}
    base.update(freq)
    if not spec.bayesian:
        return [{**base, "target": t} for t in design.plan_targets(spec)]
    import nutpie

    from bayes_igf1.sampling import diagnose, resolve_adaptation

    compiled, data, params = _compiled(spec, n)
    s = spec.settings
    start = time.perf_counter()
    try:
        # Not sampling.sample_compiled: that runs one thread per chain, and here the chains of
        # the fits running side by side in the worker processes must add up to the cores.
        fit = nutpie.sample(
            compiled.with_data(y_data=design.plan_observations(spec, frame)), draws=s.draws, tune=s.tune, chains=s.chains,
            cores=max(1, min(int(cores), s.chains)), seed=_int_seed(_sequence(s.seed, 2, n, k)),
            adaptation=resolve_adaptation(s.adaptation, compiled.n_dim), target_accept=s.target_accept,
            maxdepth=s.maxdepth, progress_bar=False, save_warmup=False,
        )
        diag = diagnose(fit, var_names=params, thresholds=spec.thresholds, settings=s)
        post = fit["posterior"].to_dataset()
        rules = design.plan_rules(spec, post, data, truth)
        base.update(passed=bool(diag.passed), problems="; ".join(diag.problems), divergences=int(diag.divergences),
                    max_rhat=float(diag.max_rhat), min_ess_bulk=float(diag.min_ess_bulk),
                    min_ess_tail=float(diag.min_ess_tail))
    except Exception as err:  # noqa: BLE001 - counted as a failed fit, reported in the notes
        base.update(passed=False, problems=f"fit failed: {type(err).__name__}: {err}", fit_error=True)
        rules = [{"target": t} for t in design.plan_targets(spec)]
    base["fit_seconds"] = time.perf_counter() - start
    return [{**base, **rule} for rule in rules]


def _run_chunk(spec: _Spec, n: int, ks: Sequence[int], cores: int = 1) -> list[dict]:
    """Worker entry point: the simulations ``ks`` of sample size ``n`` (module level: picklable)."""
    import logging

    logging.getLogger("pymc").setLevel(logging.ERROR)
    logging.getLogger("pytensor").setLevel(logging.ERROR)
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k in ks:
            out.extend(_one(spec, n, k, cores))
    return out


# ----------------------------------------------------------------------------- running


def _chunks(ns: Sequence[int], sims: int, workers: int) -> list[tuple[int, list[int]]]:
    size = max(1, math.ceil(sims / (4 * workers)))
    return [(n, list(range(lo, min(sims, lo + size)))) for n in ns for lo in range(0, sims, size)]


def _run(spec: _Spec, ns: Sequence[int], sims: int, *, workers: int, dask: str | None,
         progress: Callable[[int, int, float], None] | None) -> list[dict]:
    total = len(ns) * sims
    start = time.perf_counter()
    records: list[dict] = []
    done = 0

    def tick(recs: list[dict]) -> None:
        nonlocal done
        records.extend(recs)
        done += len({(r["n"], r["k"]) for r in recs})
        if progress is not None:
            progress(done, total, time.perf_counter() - start)

    if dask is not None:
        try:
            from distributed import Client, as_completed
        except ImportError as err:  # pragma: no cover - dask[distributed] is a dependency
            raise DesignError(f"--dask needs dask.distributed ({err}). Fix: pip install 'dask[distributed]'.") from err
        try:
            client = Client(dask, timeout="20s")
        except (OSError, TimeoutError, ValueError) as err:
            raise DesignError(
                f"could not connect to the Dask scheduler at {dask!r} ({err}). Fix: start one "
                "(dask scheduler / dask worker) and pass its address, e.g. --dask tcp://10.0.0.5:8786, "
                "or leave out --dask to use the local cores."
            ) from err
        try:
            n_workers = max(1, len(client.scheduler_info().get("workers", {})) or 1)
            futures = [client.submit(_run_chunk, spec, n, ks, 1, pure=False)
                       for n, ks in _chunks(ns, sims, n_workers)]
            for fut in as_completed(futures):
                tick(fut.result())
        finally:
            client.close()
    elif workers == 1:
        cores = os.cpu_count() or 1
        for n, ks in _chunks(ns, sims, 1):
            for k in ks:
                tick(_run_chunk(spec, n, [k], cores))
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        cores = max(1, (os.cpu_count() or 1) // workers)
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            futures = [pool.submit(_run_chunk, spec, n, ks, cores) for n, ks in _chunks(ns, sims, workers)]
            for fut in as_completed(futures):
                tick(fut.result())
    return records


# ----------------------------------------------------------------------------- tables


def _interval_words(spec: _Spec) -> str:
    """"95% HDI": the interval the decision rules use."""
    return f"{100 * spec.rules['ci_prob']:g}% {spec.rules['ci_kind'].upper()}"


def _factorial_rule_names(spec: _Spec) -> list[tuple[str, str, str]]:
    """(rule column, description, frequentist test) of each factorial decision rule."""
    r = spec.rules
    pct = _interval_words(spec)
    test = _factorial_test_key(spec)
    return [
        ("interaction_hdi_excludes_0", f"{pct} of the interaction excludes 0", test),
        (f"p_blockade_gt_{r['blockade_pct']:g}_above_{r['blockade_prob']:g}",
         f"P(blockade > {r['blockade_pct']:g}%) > {r['blockade_prob']:g}", test),
        (f"bf10_gt_{r['bf']:g}", f"BF10 of the interaction > {r['bf']:g} (Savage-Dickey)", test),
    ]


def _timecourse_rule_names(spec: _Spec) -> list[tuple[str, str, str]]:
    """(rule column, description, frequentist test) of each time-course decision rule."""
    pct = _interval_words(spec)
    test = "rm_anova group:time p_gg"
    return [
        ("sustained_hdi_excludes_0",
         f"{pct} of the % change vs {spec.groups[0]} excludes 0 at every post time (same side)", test),
        ("peak_hdi_excludes_0", f"{pct} of the % change vs {spec.groups[0]} excludes 0 at the peak", test),
    ]


_TEST_LABELS = {
    "rm_anova group:time p_gg": "RM ANOVA group:time, Greenhouse-Geisser p < {alpha:g}",
    "rm_anova group p": "RM ANOVA group (between) p < {alpha:g}",
}


_WAYS = {2: "two", 3: "three", 4: "four", 5: "five"}


def _test_label(spec: _Spec, key: str) -> str:
    alpha = spec.rules["alpha"]
    if key.startswith("anova "):
        term = key[len("anova "):-2]
        way = _WAYS.get(term.count(":") + 1, str(term.count(":") + 1))
        return f"{way}-way ANOVA (type III) {term} p < {alpha:g}"
    if key.startswith("mixed_anova "):
        term, p = key[len("mixed_anova "):].rsplit(" ", 1)
        kind = "mixed ANOVA" if len(spec.within) < len(spec.factors) else "RM ANOVA"
        return f"{kind} (type III) {term}" + (", Greenhouse-Geisser" if p == "p_gg" else "") + f" p < {alpha:g}"
    return _TEST_LABELS[key].format(alpha=alpha)


def _tables(spec: _Spec, records: list[dict], ns: Sequence[int], sims: int) -> tuple[pd.DataFrame, ...]:
    # Sorted before the frame is built: the column order too does not depend on the worker split.
    records = sorted(records, key=lambda r: (r["n"], r["k"], str(r["target"])))
    sims_frame = pd.DataFrame(records)
    design = get_design(spec.design)
    alpha = spec.rules["alpha"]
    freq_keys = [c for c in sims_frame.columns if c.endswith((" p", " p_gg"))]
    # rules judged for some targets only (the design says which; every rule for every target otherwise)
    rule_targets = getattr(design, "plan_rule_targets", None)
    rule_targets = rule_targets(spec) if rule_targets is not None else None
    per_sim = sims_frame.drop_duplicates(["n", "k"])
    freq_rows = []
    for n in ns:
        one = per_sim[per_sim["n"] == n]
        for key in freq_keys:
            p = one[key].to_numpy(dtype=float)
            power = float(np.mean(np.nan_to_num(p, nan=1.0) < alpha))
            freq_rows.append({"n": int(n), "test": _test_label(spec, key), "power": power,
                              "mc_se": _mc_se(power, len(p)), "sims": len(p),
                              "undefined": int(np.isnan(p).sum())})
    freq = pd.DataFrame(freq_rows, columns=FREQ_COLUMNS)
    rows = []
    for n in ns:
        sel = sims_frame[sims_frame["n"] == n]
        failed = int((~per_sim.loc[per_sim["n"] == n, "passed"].astype(bool)).sum()) if spec.bayesian else 0
        for target, grp in sel.groupby("target", sort=False):
            for rule, description, test in design.plan_rule_names(spec):
                if rule_targets is not None and target not in rule_targets.get(rule, ()):
                    continue
                if spec.bayesian:
                    hits = grp[rule].eq(True).to_numpy() if rule in grp else np.zeros(len(grp), bool)
                    assurance = float(hits.mean())
                    se = _mc_se(assurance, len(hits))
                else:
                    assurance = se = float("nan")
                label = _test_label(spec, test)
                f = freq[(freq["n"] == n) & (freq["test"] == label)].iloc[0]
                desc = description
                if rule == "peak_hdi_excludes_0":
                    desc += f" (t = {spec.peak_times[target]:g})"
                rows.append({"n": int(n), "rule": rule, "target": target, "description": desc,
                             "assurance": assurance, "mc_se": se, "power": float(f["power"]),
                             "power_mc_se": float(f["mc_se"]), "test": label, "sims": len(grp),
                             "failed_gate": failed})
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    return table, freq, sims_frame


def _mc_se(p: float, k: int) -> float:
    return float(math.sqrt(p * (1 - p) / k)) if k else float("nan")


# ----------------------------------------------------------------------------- validation


def _check_common(n, sims, draws, tune, chains, seed, workers, dask) -> tuple[list[int], int]:
    if isinstance(n, (int, np.integer)) and not isinstance(n, bool):
        n = [n]
    if isinstance(n, str) or not isinstance(n, Sequence) or not n:
        raise DesignError(f"n must list the candidate sample sizes per group, got {n!r}. Fix: e.g. n=[6, 8, 10, 12] "
                          "(--n 6 8 10 12).")
    for v in n:
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 2:
            raise DesignError(f"every candidate n must be a whole number >= 2 (animals per group), got {v!r}. "
                              "Fix: e.g. --n 6 8 10 12.")
    if len(set(n)) != len(n):
        raise DesignError(f"the candidate n repeat a value ({list(n)}). Fix: give each sample size once.")
    for name, value, low, example in (("sims", sims, 1, 200), ("draws", draws, 10, 1000),
                                      ("tune", tune, 0, PLAN_TUNE), ("chains", chains, 1, PLAN_CHAINS)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise DesignError(f"{name} must be a whole number >= {low}, not {value!r}. Fix: e.g. {name}={example}.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise DesignError(f"seed must be a non-negative whole number, not {seed!r}. Fix: seed={DEFAULT_SEED}.")
    if workers is None:
        workers = os.cpu_count() or 1
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1:
        raise DesignError(f"workers must be a whole number >= 1, not {workers!r}. Fix: e.g. --workers 2, or leave "
                          "it out to use every core.")
    if dask is not None and (not isinstance(dask, str) or not dask.strip()):
        raise DesignError(f"dask must be the scheduler address as text, not {dask!r}. Fix: e.g. "
                          "dask='tcp://127.0.0.1:8786'.")
    return sorted(int(v) for v in n), int(workers)


def _check_rules(ci_prob, ci_kind, alpha, bf_threshold, blockade_pct, blockade_prob) -> dict:
    if ci_kind not in ("hdi", "eti"):
        raise DesignError(f"ci_kind must be 'hdi' or 'eti', not {ci_kind!r}. Fix: ci_kind='hdi'.")
    for name, v, lo, hi in (("ci_prob", ci_prob, 0, 1), ("alpha", alpha, 0, 1), ("blockade_prob", blockade_prob, 0, 1)):
        if not _is_number(v) or not lo < v < hi:
            raise DesignError(f"{name} must be a number between {lo} and {hi}, not {v!r}.")
    if not _is_number(bf_threshold) or not bf_threshold > 0:
        raise DesignError(f"bf_threshold must be a positive number, not {bf_threshold!r}. Fix: bf_threshold=3.")
    if not _is_number(blockade_pct):
        raise DesignError(f"blockade_pct must be a number (percent), not {blockade_pct!r}. Fix: blockade_pct=50.")
    return {"ci_prob": float(ci_prob), "ci_kind": ci_kind, "alpha": float(alpha), "bf": float(bf_threshold),
            "blockade_pct": float(blockade_pct), "blockade_prob": float(blockade_prob)}


def _is_number(x) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, (bool, np.bool_)) \
        and math.isfinite(float(x))


def _positive(name: str, value, fix: str) -> float:
    if not _is_number(value) or not value > 0:
        raise DesignError(f"{name} must be a positive number, not {value!r}. Fix: {fix}.")
    return float(value)


# ----------------------------------------------------------------------------- parsing


def parse_cell_means(text: str | Sequence[str]) -> dict[tuple[str, ...], float]:
    """``"saline|IgG=150,ketamine|IgG=90,..."`` -> {("saline", "IgG"): 150.0, ...}.

    One level per factor joined by "|" (``"female|ketamine|IGF-1 nAb=145"`` for three factors),
    in the order of the factors (``--factor`` ..., then ``--within`` ...); the entries are
    separated by commas, or given as a list (``--cell-means`` several times). The first level
    of each factor (in the order given) is its reference.
    """
    example = '"saline|IgG=150,ketamine|IgG=90,saline|IGF-1 nAb=150,ketamine|IGF-1 nAb=145"'
    chunks = [text] if isinstance(text, str) else list(text) if isinstance(text, Sequence) else []
    items = [item.strip() for chunk in chunks if isinstance(chunk, str) for item in chunk.split(",")]
    items = [item for item in items if item]
    if not items:
        raise DesignError(f"--cell-means is empty. Fix: give every cell as A|B=MEAN (A|B|C=MEAN with three factors), "
                          f"e.g. --cell-means {example}.")
    out: dict[tuple[str, ...], float] = {}
    first = None
    for item in items:
        cell, sep, value = item.rpartition("=")
        if not sep or "|" not in cell:
            raise DesignError(f"--cell-means item {item!r} is not LEVEL_A|LEVEL_B=MEAN (one level of each factor, "
                              f"joined by '|'). Fix: e.g. --cell-means {example}.")
        levels = tuple(s.strip() for s in cell.split("|"))
        try:
            v = float(value)
        except ValueError:
            raise DesignError(f"--cell-means item {item!r}: {value!r} is not a number. Fix: e.g. saline|IgG=150.") from None
        if not all(levels) or not math.isfinite(v):
            raise DesignError(f"--cell-means item {item!r} needs a level name of each factor and a finite mean. Fix: "
                              "e.g. saline|IgG=150.")
        if first is not None and len(levels) != len(first[1]):
            raise DesignError(f"--cell-means item {item!r} names {len(levels)} levels but {first[0]!r} names "
                              f"{len(first[1])}: every cell names one level of each factor, in the same order. Fix: "
                              "e.g. female|saline|IgG=150 for sex x treatment x antibody, in every item.")
        first = first or (item, levels)
        if levels in out:
            raise DesignError(f"--cell-means gives the cell {'|'.join(levels)} twice. Fix: give each cell once.")
        out[levels] = v
    return out


def parse_pct_change(items: Sequence[str] | str) -> dict[str, list[float]]:
    """``["ketamine 10=30", "ketamine 30=40,35,30,25,20,15"]`` -> {group: [% change, ...]}.

    One number is a sustained change (the same at every post-injection time); several give
    the change at each post-injection time in order. Items may also share one string:
    ``"ketamine 10=30,ketamine 30=40"``.
    """
    if isinstance(items, str):
        items = [items]
    out: dict[str, list[float]] = {}
    current = None
    for chunk in items:
        for token in str(chunk).split(","):
            token = token.strip()
            if not token:
                continue
            if "=" in token:
                group, _, token = token.partition("=")
                current = group.strip()
                if not current:
                    raise DesignError(f"--pct-change {chunk!r} has no group before '='. Fix: e.g. "
                                      "--pct-change 'ketamine 10=30'.")
                if current in out:
                    raise DesignError(f"--pct-change gives the group {current!r} twice. Fix: give each group once.")
                out[current] = []
            if current is None:
                raise DesignError(f"--pct-change {chunk!r} must start with GROUP=. Fix: e.g. --pct-change "
                                  "'ketamine 10=30' (sustained) or 'ketamine 10=40,35,30,25,20,15' (per time).")
            try:
                out[current].append(float(token))
            except ValueError:
                raise DesignError(f"--pct-change {chunk!r}: {token!r} is not a number. Fix: percent change, e.g. 30.") \
                    from None
    if not out:
        raise DesignError("--pct-change is empty. Fix: e.g. --pct-change 'ketamine 10=30'.")
    return out


# ----------------------------------------------------------------------------- sources


def _open_source(source, *, design: str | tuple[str, ...], what: str, kind: str) -> tuple[dict, xr.Dataset]:  # noqa: F821
    """results.json and the posterior of a results folder that must hold a ``design`` analysis.

    ``what`` and ``kind`` word the error when it holds another design ("a factorial one",
    "factorial": "... not a factorial one ... pass a factorial folder").
    """
    import xarray as xr

    folder = Path(source)
    if not folder.is_dir():
        raise DesignError(f"the results folder {str(folder)!r} does not exist. Fix: pass the --out folder of a "
                          "'bayes-igf1 factorial' or 'bayes-igf1 timecourse' run.")
    rj = folder / "results.json"
    if not rj.is_file():
        raise DesignError(f"{str(folder)!r} has no results.json. Fix: pass the --out folder of a fitted analysis.")
    try:
        results = json.loads(rj.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise DesignError(f"{str(rj)!r} is not valid JSON ({err}). Fix: rerun the analysis to rewrite it.") from None
    for name, engine in (("posterior.nc", "h5netcdf"), ("posterior.zarr", "zarr")):
        path = folder / name
        if path.exists():
            with xr.open_datatree(path, engine=engine) as tree:
                if "posterior" not in tree.children:
                    raise DesignError(f"{str(path)!r} has no posterior group. Fix: rerun the analysis.")
                post = tree["posterior"].to_dataset().load()
            if results.get("design") not in ((design,) if isinstance(design, str) else design):
                raise DesignError(f"{str(source)!r} holds a {results.get('design')!r} analysis, not {what}. Fix: run "
                                  f"'bayes-igf1 plan {results.get('design')} --from {source}', or pass a {kind} folder.")
            return results, post
    raise DesignError(f"{str(folder)!r} has no posterior.nc (or posterior.zarr). Fix: rerun the analysis with the "
                      "report writer (bayes-igf1 factorial / timecourse --out FOLDER).")


def _stack(da, *dims) -> np.ndarray:
    return np.asarray(da.transpose("chain", "draw", *dims).values, dtype=float).reshape(
        (da.sizes["chain"] * da.sizes["draw"],) + tuple(da.sizes[d] for d in dims))


def _source_factorial(source, notes: list[str]) -> dict:
    # a summary-statistics analysis (a published figure) has the same cell-means posterior
    results, post = _open_source(source, design=("factorial", "summary"), what="a factorial one", kind="factorial")
    settings = results.get("settings", {})
    if results.get("design") == "summary":
        notes.append("The source is an analysis of summary statistics (cell means, SD or SEM and n, e.g. a published "
                     "figure): the plan simulates animals from its posterior cell means and residual SD.")
    family = settings.get("family", "normal")
    if family not in ("normal", "lognormal"):
        raise DesignError(
            f"the plan simulates normal or lognormal outcomes; {str(source)!r} was fitted with family {family!r}. "
            "Fix: state the effects (--cell-means ... --sd ...), or plan from a fit with --family normal."
        )
    within = tuple(str(w) for w in settings.get("within") or ())
    # the model's factor order: the between factors, then the within ones
    factors = tuple(str(f) for f in settings.get("factors") or () if f not in within) + within
    if len(factors) < 2 or any(f not in post["cell_mean"].dims for f in factors):
        raise DesignError(f"{str(source)!r}: results.json settings.factors {list(factors)} do not match the "
                          "posterior's cell_mean. Fix: rerun the analysis.")
    ref = settings.get("reference") or {}
    levels = []
    for f in factors:
        lv = [str(v) for v in post["cell_mean"][f].values]
        r = ref.get(f, lv[0])
        levels.append(tuple([r] + [v for v in lv if v != r]))
    cm = post["cell_mean"].assign_coords({f: [str(v) for v in post["cell_mean"][f].values] for f in factors})
    cm = cm.sel({f: list(lv) for f, lv in zip(factors, levels, strict=True)})
    sigma = _stack(post["sigma"])
    params = {"cell_mean": _stack(cm, *factors), "sigma": sigma}
    if within:
        params["sigma_animal"] = _stack(post["sigma_animal"])
    elif "sigma_animal" in post:
        params["sigma"] = np.sqrt(sigma**2 + _stack(post["sigma_animal"]) ** 2)
        notes.append("The source had several rows per animal: the plan simulates one value per animal with SD "
                     "sqrt(sigma^2 + sigma_animal^2) from each posterior draw.")
    if "cohort_effect" in post:
        notes.append("The source had cohort (block) effects: the plan simulates one cohort (no cohort term).")
    if settings.get("censored") or settings.get("censor_at") is not None:
        notes.append("The source had right-censored values: the plan simulates uncensored outcomes.")
    if settings.get("covariate"):
        notes.append("The source had a covariate: the plan simulates the cell means at its mean (no covariate).")
    priors = results.get("priors") or {}
    use = {k: priors[k] for k in ("cell_mean", "sigma", *(("sigma_animal",) if within else ())) if k in priors}
    blocker = settings.get("blocker")
    return {"factors": factors, "levels": levels, "family": family, "within": within,
            "blocker": str(blocker) if blocker in factors else None,
            "params": params, "user_priors": use,
            "design_prior": {"kind": "posterior", "source": str(source), "draws": int(sigma.shape[0]),
                             "family": family}}


def _source_timecourse(source, notes: list[str]) -> dict:
    results, post = _open_source(source, design="timecourse", what="a time course", kind="time-course")
    settings = results.get("settings", {})
    if settings.get("scale", "log") != "log" or settings.get("baseline", "auto") != "auto" or "mu" not in post:
        raise DesignError(
            f"{str(source)!r} was fitted with scale={settings.get('scale')!r}, baseline={settings.get('baseline')!r}; "
            "the plan needs the log scale with a baseline (% change vs reference). Fix: refit with --scale log "
            "--baseline auto, or state the effects (--pct-change, --animal-sd, --residual-sd)."
        )
    groups = [str(g) for g in post["beta"]["group"].values]
    ref = settings.get("reference") or groups[0]
    groups = [ref] + [g for g in groups if g != ref]
    beta = post["beta"].assign_coords(group=[str(g) for g in post["beta"]["group"].values]).sel(group=groups)
    params = {"beta": _stack(beta, "group", "time"), "mu": _stack(post["mu"]),
              "sigma_animal": _stack(post["sigma_animal"]), "sigma": _stack(post["sigma"])}
    likelihood = settings.get("likelihood", "student")
    if "nu" in post:
        params["nu"] = _stack(post["nu"])
    if settings.get("lloq") is not None:
        notes.append("The source had below-limit fractions: the plan simulates no censoring and no lost fractions.")
    return {"groups": tuple(groups), "post_times": tuple(float(t) for t in post["beta"]["time"].values),
            "likelihood": likelihood, "params": params, "priors": results.get("priors") or {},
            "design_prior": {"kind": "posterior", "source": str(source), "draws": int(params["mu"].shape[0])}}


# ----------------------------------------------------------------------------- public API


def plan_factorial(
    *,
    n: Sequence[int],
    sims: int = 200,
    source: str | Path | None = None,
    cell_means: Mapping | str | Sequence[str] | None = None,
    sd: float | None = None,
    family: str = "normal",
    factors: Sequence[str] = DEFAULT_FACTORS,
    within: Sequence[str] = (),
    animal_sd: float | None = None,
    blocker: str | None = None,
    treated: str | None = None,
    draws: int = PLAN_DRAWS["factorial"],
    tune: int = PLAN_TUNE,
    chains: int = PLAN_CHAINS,
    seed: int = DEFAULT_SEED,
    workers: int | None = None,
    dask: str | None = None,
    bayesian: bool = True,
    ci_prob: float = CI_PROB,
    ci_kind: str = CI_KIND,
    alpha: float = 0.05,
    bf_threshold: float = 3.0,
    blockade_pct: float = 50.0,
    blockade_prob: float = 0.9,
    progress: Callable[[int, int, float], None] | None = None,
) -> PlanResult:
    """Assurance of a factorial experiment (k >= 2 factors) with n animals per between-animal cell.

    Parameters
    ----------
    n : candidate animals per cell (per between-animal cell with ``within`` factors: each
        animal is then measured at every combination of the within levels).
    sims : simulated data sets per n (K).
    source : results folder of a factorial analysis (posterior as the design prior; its
        factors, within factors and blocker).
    cell_means, sd : stated effects instead: ``{(a, b, ...): mean}`` (or ``"a|b=mean,..."`` /
        ``"a|b|c=mean,..."``; one level per factor in the order of ``factors`` then ``within``;
        first levels are the references) and the residual SD (log scale for lognormal).
    family : "normal" or "lognormal" (stated effects; cell medians then).
    factors : the between-animal factor names (stated effects).
    within : the within-animal factor names (stated effects), after ``factors`` in the cell keys.
    animal_sd : SD of the animal intercepts (stated effects with ``within``; log scale for lognormal).
    blocker, treated : the % blockade rule is of the effect of ``treated`` (default: the first
        factor other than the blocker) abolished by each non-reference level of ``blocker``
        (default: the last factor), within every combination of the other factors' levels.
    draws, tune, chains : sampler settings of each planning fit.
    seed : master seed.
    workers : local worker processes (default: every core); 1 runs in this process.
    dask : address of an existing Dask scheduler; the simulations run there instead.
    bayesian : False computes only the frequentist power (no fits).
    ci_prob, ci_kind, alpha, bf_threshold, blockade_pct, blockade_prob : the decision rules.
    progress : called as ``progress(done, total, seconds)``.

    Returns
    -------
    PlanResult
    """
    start = time.perf_counter()
    design = get_design("factorial")
    ns, workers = _check_common(n, sims, draws, tune, chains, seed, workers, dask)
    rules = _check_rules(ci_prob, ci_kind, alpha, bf_threshold, blockade_pct, blockade_prob)
    notes: list[str] = []
    if (source is None) == (cell_means is None):
        raise DesignError("give either a results folder (source=..., --from FOLDER) or the effects you expect "
                          "(cell_means=... and sd=..., --cell-means ... --sd ...), not both and not neither. "
                          'Fix: e.g. --cell-means "saline|IgG=150,ketamine|IgG=90,saline|IGF-1 nAb=150,'
                          'ketamine|IGF-1 nAb=145" --sd 30.')
    within = (within,) if isinstance(within, str) else tuple(str(w) for w in within)
    if source is not None:
        if sd is not None or animal_sd is not None:
            raise DesignError("sd and animal_sd are taken from the posterior of the results folder. Fix: leave out "
                              "--sd and --animal-intercept-sd with --from.")
        if within:
            raise DesignError("the within factors are the source analysis's. Fix: leave out --within with --from.")
        src = design.plan_source(source, notes)
        factors, levels, family, within = src["factors"], src["levels"], src["family"], src["within"]
        params, design_prior = src["params"], src["design_prior"]
        user_priors = src["user_priors"]
        blocker = blocker if blocker is not None else src["blocker"]
        prior_note = f"Planning fits use the priors of the source analysis ({source}), frozen."
    else:
        if isinstance(cell_means, str) or (isinstance(cell_means, Sequence) and not isinstance(cell_means, Mapping)):
            cell_means = parse_cell_means(cell_means)
        factors, levels, cm, family, given = _stated_factorial(cell_means, factors, within, family)
        sd = _positive("sd", sd, "give the residual SD in the outcome's units, e.g. --sd 30" + (
            " (log scale for lognormal, e.g. 0.5)" if family == "lognormal" else ""))
        params = {"cell_mean": cm[None], "sigma": np.array([sd])}
        design_prior = {"kind": "stated", "family": family,
                        "cell_means": {"|".join(c): float(v) for c, v in given.items()}, "sd": sd}
        if within:
            params["sigma_animal"] = np.array([_positive(
                "animal_sd", animal_sd, "give the SD of the animal intercepts, e.g. --animal-intercept-sd 20 (a "
                "within-animal design has one per animal)")])
            design_prior["animal_sd"] = float(params["sigma_animal"][0])
        elif animal_sd is not None:
            raise DesignError("animal_sd is the SD of the animal intercepts of a within-animal design. Fix: name the "
                              "within factor(s) with --within, or leave out --animal-intercept-sd.")
        user_priors = None
        prior_note = (f"Planning fits use the package's data-scaled default priors computed on one large simulated data "
                      f"set ({_PRIOR_N} animals per {'between-animal ' if within else ''}cell) from the stated effects, "
                      "frozen for every fit.")
    if blocker is not None and blocker not in factors:
        raise DesignError(f"the blocker {blocker!r} is not one of the factors {list(factors)}. Fix: name the factor "
                          f"that is the antagonist or antibody, e.g. --blocker {factors[-1]} (the default).")
    blocker = blocker if blocker is not None else factors[-1]
    if treated is not None and (treated not in factors or treated == blocker):
        raise DesignError(f"the treated factor {treated!r} is not one of the factors other than the blocker "
                          f"({', '.join(f for f in factors if f != blocker)}). Fix: name the factor whose effect the "
                          f"blocker ({blocker}) abolishes, e.g. --treated {next(f for f in factors if f != blocker)}.")
    treated = treated if treated is not None else next(f for f in factors if f != blocker)
    spec = _Spec(design=design.name, params=params, priors={}, settings=SamplerSettings(
        draws=int(draws), tune=int(tune), chains=int(chains), seed=int(seed)), thresholds=Thresholds(),
        rules=rules, bayesian=bool(bayesian), factors=tuple(factors), levels=tuple(tuple(lv) for lv in levels),
        within=tuple(within), blocker=str(blocker), treated=str(treated), family=family)
    priors = _factorial_priors(spec, user_priors)
    spec = _tokenised(_replace(spec, priors=priors))
    notes.append(prior_note)
    custom = len(factors) > 2 or blocker != factors[-1]
    if custom:
        notes.append(f"The % blockade rule is of the effect of {treated} abolished by {blocker}, within every "
                     "combination of the other factors' levels (treated and blocker: --treated, --blocker).")
    records = _run(spec, ns, int(sims), workers=workers, dask=dask, progress=progress)
    extra = {"source": None if source is None else str(source), "factors": list(factors),
             "levels": {f: list(lv) for f, lv in zip(factors, levels, strict=True)}, "family": family}
    if within:
        extra["within"] = list(within)
    if custom:
        extra.update(blocker=blocker, treated=treated)
    return _result(spec, records, ns, int(sims), design_prior, notes, start,
                   extra={**extra, "workers": workers, "dask": dask})


def _replace(spec: _Spec, **kw) -> _Spec:
    from dataclasses import replace

    return replace(spec, **kw)


def _stated_factorial(cell_means: Mapping, factors, within, family: str):
    """(every factor name, their levels, the cell means as an array over the factors (model scale), family, the
    cell means as given, keyed by level tuples) of stated effects."""
    if family not in ("normal", "lognormal"):
        raise DesignError(f"family must be 'normal' or 'lognormal' for a plan, not {family!r}. Fix: --family normal.")
    between = [factors] if isinstance(factors, str) else [str(f) for f in factors]
    names = [*between, *(str(w) for w in within)]
    if not isinstance(cell_means, Mapping) or not cell_means:
        raise DesignError("cell_means must map each cell to its mean. Fix: e.g. {('saline', 'IgG'): 150, ...}.")
    named = (f"{len(names)} factor(s) are named ({', '.join(names) or 'none'}"
             + ("; the default" if tuple(names) == DEFAULT_FACTORS else "") + ")")
    keys = []
    for key in cell_means:
        parts = tuple(key.split("|")) if isinstance(key, str) else key
        if not isinstance(parts, tuple) or not parts:
            raise DesignError(f"the cell {key!r} must be a tuple of levels, one per factor, or their text joined by "
                              "'|'. Fix: e.g. ('saline', 'IgG') or 'saline|IgG'.")
        if keys and len(parts) != len(keys[0]):
            raise DesignError(f"the cell {key!r} does not give as many levels as the cell {'|'.join(keys[0])!r}. "
                              "Fix: give one level of each factor in every cell, in the same order.")
        keys.append(tuple(str(p).strip() for p in parts))
    if len(set(keys)) != len(keys):
        twice = next(k for k in keys if keys.count(k) > 1)
        raise DesignError(f"the cell means give the cell {'|'.join(twice)} twice. Fix: give each cell once.")
    k = len(keys[0])
    if k != len(names):
        raise DesignError(
            f"the cell means give {k} level(s) per cell (e.g. {'|'.join(keys[0])!r}) but {named}. Fix: name each "
            "factor once, in the order of the levels: --factor for the between-animal factors, then --within for "
            "the factors within animals (factors=..., within=...).")
    if k < 2 or len(set(names)) != k:
        raise DesignError(f"factors must be at least two different names (between: {between}, within: "
                          f"{list(within)}). Fix: e.g. --factor treatment --factor antibody (--factor sex for a third; "
                          "--within day for a factor within animals).")
    order = " x ".join(names)
    values = list(cell_means.values())
    levels = [tuple(dict.fromkeys(key[f] for key in keys)) for f in range(k)]
    few = [f"{len(lv)} of {f}" for f, lv in zip(names, levels, strict=True) if len(lv) < 2]
    if few:
        raise DesignError(f"the cell means give only {', '.join(few)}; a factorial plan needs at least two levels of "
                          f"each factor ({order}). Fix: give every combination of the levels, e.g. all four cells of "
                          "a 2 x 2: saline|IgG, ketamine|IgG, saline|IGF-1 nAb, ketamine|IGF-1 nAb.")
    given = dict(zip(keys, values, strict=True))
    missing = ["|".join(c) for c in itertools.product(*levels) if c not in given]
    if missing:
        shown = ", ".join(missing[:8]) + (f" (and {len(missing) - 8} more)" if len(missing) > 8 else "")
        raise DesignError(f"the cell means miss the cell(s) {shown}. Fix: give every combination of the levels of "
                          + ", ".join(f"{f} ({', '.join(lv)})" for f, lv in zip(names, levels, strict=True)) + ".")
    cm = np.empty(tuple(len(lv) for lv in levels))
    for ix, cell in zip(np.ndindex(cm.shape), itertools.product(*levels), strict=True):
        v = given[cell]
        if not _is_number(v) or (family == "lognormal" and v <= 0):
            raise DesignError(f"the mean of cell {'|'.join(cell)} must be a finite number" + (
                " above 0 (a median, family lognormal)" if family == "lognormal" else "") + f", not {v!r}.")
        cm[ix] = math.log(v) if family == "lognormal" else float(v)
    return tuple(names), tuple(levels), cm, family, given


def _factorial_priors(spec: _Spec, user: dict | None) -> dict:
    """The planning fits' priors: the source's (user) or data-scaled on a large data set at the design-prior mean."""
    from bayes_igf1.designs import factorial as fa

    centre_spec = _replace(spec, params={k: v.mean(axis=0, keepdims=True) for k, v in spec.params.items()})
    frame, _ = _simulate_factorial(centre_spec, _PRIOR_N, 0, _int_seed(_sequence(spec.settings.seed, 3)))
    data, options = get_design(spec.design).plan_prepare(spec, frame)
    return fa.resolve_priors(data, options, user)


def plan_timecourse(
    *,
    n: Sequence[int],
    sims: int = 200,
    source: str | Path | None = None,
    groups: Sequence[str] | None = None,
    times: Sequence[float] | None = None,
    pct_change: Mapping[str, float | Sequence[float]] | Sequence[str] | str | None = None,
    animal_sd: float | None = None,
    residual_sd: float | None = None,
    baseline_level: float = 20.0,
    residual_nu: float | None = None,
    likelihood: str = "student",
    draws: int = PLAN_DRAWS["timecourse"],
    tune: int = PLAN_TUNE,
    chains: int = PLAN_CHAINS,
    seed: int = DEFAULT_SEED,
    workers: int | None = None,
    dask: str | None = None,
    bayesian: bool = True,
    ci_prob: float = CI_PROB,
    ci_kind: str = CI_KIND,
    alpha: float = 0.05,
    progress: Callable[[int, int, float], None] | None = None,
) -> PlanResult:
    """Assurance of a microdialysis time course with n animals per group.

    Parameters
    ----------
    n : candidate animals per group.
    sims : simulated data sets per n (K).
    source : results folder of a time-course analysis (log scale, with baseline).
    groups : group names, the reference first (stated effects; default the groups of
        ``pct_change`` after "saline").
    times : sampling times, baseline ones <= 0 (default -2, -1, 1, ..., 6 h); with a
        source, its post-injection times must match and the baseline times are taken from here.
    pct_change : % change vs the reference of each other group: one number (sustained) or
        one per post-injection time.
    animal_sd, residual_sd : SD of the animal levels and residual scale (log scale, e.g.
        0.3 and 0.15).
    baseline_level : median baseline concentration (only sets the units).
    residual_nu : Student-t degrees of freedom of the simulated residuals (None: normal).
    likelihood : likelihood of the planning fits ("student", the analysis default, or "normal").
    draws, tune, chains, seed, workers, dask, bayesian, ci_prob, ci_kind, alpha, progress :
        as in `plan_factorial`.

    Returns
    -------
    PlanResult
    """
    from bayes_igf1.designs import timecourse as tc

    start = time.perf_counter()
    design = get_design("timecourse")
    ns, workers = _check_common(n, sims, draws, tune, chains, seed, workers, dask)
    rules = _check_rules(ci_prob, ci_kind, alpha, 3.0, 50.0, 0.9)
    notes: list[str] = []
    if likelihood not in ("student", "normal"):
        raise DesignError(f"likelihood must be 'student' or 'normal', not {likelihood!r}. Fix: likelihood='student'.")
    if (source is None) == (pct_change is None):
        raise DesignError("give either a results folder (source=..., --from FOLDER) or the effects you expect "
                          "(pct_change=..., animal_sd=..., residual_sd=...), not both and not neither. Fix: e.g. "
                          "--pct-change 'ketamine 10=30' --animal-sd 0.3 --residual-sd 0.15.")
    times_all = tuple(float(t) for t in (times if times is not None else DEFAULT_TIMES))
    if len(set(times_all)) != len(times_all) or not any(t <= 0 for t in times_all) or not any(t > 0 for t in times_all):
        raise DesignError(f"times must be distinct, with at least one baseline time (<= 0) and one after the injection "
                          f"(> 0), got {list(times_all)}. Fix: e.g. --times -2 -1 1 2 3 4 5 6.")
    times_all = tuple(sorted(times_all))
    post_times = tuple(t for t in times_all if t > 0)
    if source is not None:
        if any(v is not None for v in (animal_sd, residual_sd, groups)):
            raise DesignError("groups and SDs are taken from the posterior of the results folder. Fix: leave out "
                              "--groups, --animal-sd and --residual-sd with --from.")
        src = design.plan_source(source, notes)
        if times is not None and tuple(sorted(src["post_times"])) != post_times:
            raise DesignError(f"the post-injection times {list(post_times)} differ from the source's "
                              f"{list(src['post_times'])}. Fix: leave out --times, or give the source's post times "
                              "with the baseline times you plan.")
        post_times = src["post_times"]
        times_all = tuple(t for t in times_all if t <= 0) + tuple(post_times)
        groups_t, params, design_prior = src["groups"], src["params"], src["design_prior"]
        likelihood = src["likelihood"]
        priors = src["priors"]
        notes.append(f"Planning fits use the priors of the source analysis ({source}), frozen.")
    else:
        if isinstance(pct_change, (str, list, tuple)):
            pct_change = parse_pct_change(pct_change)
        groups_t, beta = _stated_timecourse(pct_change, groups, post_times)
        a_sd = _positive("animal_sd", animal_sd, "SD of the animal baselines on the log scale, e.g. --animal-sd 0.3")
        r_sd = _positive("residual_sd", residual_sd, "residual SD on the log scale, e.g. --residual-sd 0.15")
        level = _positive("baseline_level", baseline_level, "the median baseline concentration, e.g. 20")
        params = {"beta": beta[None], "mu": np.array([math.log(level)]), "sigma_animal": np.array([a_sd]),
                  "sigma": np.array([r_sd])}
        if residual_nu is not None:
            params["nu"] = np.array([_positive("residual_nu", residual_nu, "e.g. 5, or leave it out (normal)")])
        design_prior = {"kind": "stated", "pct_change": {g: [float(v) for v in np.atleast_1d(pct_change[g])]
                                                         for g in pct_change},
                        "animal_sd": a_sd, "residual_sd": r_sd, "baseline_level": level, "residual_nu": residual_nu}
        priors = None
    spec = _Spec(design=design.name, params=params, priors={}, settings=SamplerSettings(
        draws=int(draws), tune=int(tune), chains=int(chains), seed=int(seed)), thresholds=Thresholds(),
        rules=rules, bayesian=bool(bayesian), groups=tuple(groups_t), times=times_all, likelihood=likelihood)
    beta = spec.params["beta"]
    mean_diff = (beta[:, 1:, :] - beta[:, :1, :]).mean(axis=0)
    peaks = {g: float(post_times[int(np.argmax(np.abs(mean_diff[i])))]) for i, g in enumerate(groups_t[1:])}
    spec = _replace(spec, peak_times=peaks)
    if priors is None:
        centre = _replace(spec, params={k: v.mean(axis=0, keepdims=True) for k, v in spec.params.items()})
        frame, _ = _simulate_timecourse(centre, _PRIOR_N, 0, _int_seed(_sequence(int(seed), 3)))
        data, options = design.plan_prepare(spec, frame)
        priors = tc.default_priors(data, options)
        notes.append(f"Planning fits use the package's data-scaled default priors computed on one large simulated "
                     f"data set ({_PRIOR_N} animals per group) from the stated effects, frozen for every fit.")
    spec = _tokenised(_replace(spec, priors=priors))
    notes.append("Peak time of each group (fixed before the simulation, the largest mean % change under the design "
                 "prior): " + ", ".join(f"{g}: {t:g}" for g, t in peaks.items()) + ".")
    notes.append("The RM ANOVA group:time test looks for a change of the group difference over time; a sustained, "
                 "constant % change shows in the group (between) effect, whose power is in the frequentist table.")
    records = _run(spec, ns, int(sims), workers=workers, dask=dask, progress=progress)
    return _result(spec, records, ns, int(sims), design_prior, notes, start, extra={
        "source": None if source is None else str(source), "groups": list(groups_t), "times": list(times_all),
        "likelihood": likelihood, "peak_times": peaks, "workers": workers, "dask": dask})


def _stated_timecourse(pct_change: Mapping, groups, post_times) -> tuple[tuple[str, ...], np.ndarray]:
    if not isinstance(pct_change, Mapping) or not pct_change:
        raise DesignError("pct_change must map each treated group to its % change vs the reference. Fix: e.g. "
                          "{'ketamine 10': 30}.")
    if groups is None:
        groups = ["saline"] + [str(g) for g in pct_change if str(g) != "saline"]
    groups = [str(g) for g in groups]
    if len(groups) < 2 or len(set(groups)) != len(groups):
        raise DesignError(f"groups must be at least two distinct names, the reference first, got {groups}. Fix: e.g. "
                          "--groups saline 'ketamine 10'.")
    for g in pct_change:
        if str(g) not in groups[1:]:
            raise DesignError(f"--pct-change names the group {g!r}, which is not a treated group of {groups} (the first "
                              "is the reference, its change is 0 by definition). Fix: name one of "
                              f"{', '.join(groups[1:])}, or list it in --groups.")
    beta = np.zeros((len(groups), len(post_times)))
    for i, g in enumerate(groups[1:], start=1):
        if g not in pct_change:
            raise DesignError(f"no % change for the group {g!r}. Fix: add --pct-change '{g}=PERCENT' (0 for none).")
        values = np.atleast_1d(np.asarray(pct_change[g], dtype=float))
        if values.size == 1:
            values = np.repeat(values, len(post_times))
        if values.size != len(post_times):
            raise DesignError(f"the % change of {g!r} has {values.size} values but there are {len(post_times)} "
                              f"post-injection times ({', '.join(f'{t:g}' for t in post_times)}). Fix: give one number "
                              "(sustained) or one per post time.")
        if not np.all(np.isfinite(values)) or np.any(values <= -100):
            raise DesignError(f"the % change of {g!r} must be finite numbers above -100, got {values.tolist()}.")
        beta[i] = np.log1p(values / 100.0)
    return tuple(groups), beta


def _result(spec: _Spec, records, ns, sims, design_prior, notes, start, *, extra) -> PlanResult:
    table, freq, simulations = _tables(spec, records, ns, sims)
    s = spec.settings
    if spec.bayesian:
        per = simulations.drop_duplicates(["n", "k"])
        failed = int((~per["passed"].astype(bool)).sum())
        errors = int(per["fit_error"].eq(True).sum()) if "fit_error" in per else 0
        if errors > 0.1 * len(per):
            first = per.loc[per["fit_error"].eq(True), "problems"].iloc[0]
            raise RuntimeError(f"{errors} of {len(per)} planning fits raised an error, which points to the set-up, "
                               f"not to the simulated data (first: {first}).")
        notes.append(
            f"Each planning fit: {s.chains} chains x {s.draws} draws after {s.tune} tuning steps, no automatic refit "
            "(an analysis: 4 x 1000 after 1000, refitted once on failure); the diagnostics gate (R-hat <= 1.01, bulk "
            "and tail ESS >= 400, "
            f"no divergences) failed in {failed} of {len(per)} fits" + (f" ({errors} raised an error)" if errors else "")
            + "; they are counted in the assurance as they came out."
        )
    else:
        notes.append("Frequentist power only (no Bayesian fits): assurance not computed.")
    freq_errors = simulations.get("freq_error")
    if freq_errors is not None and freq_errors.notna().any():
        first = freq_errors.dropna().iloc[0]
        notes.append(f"The ANOVA could not be computed on {int(freq_errors.notna().sum())} simulated data set(s) "
                     f"(first: {first}); counted as p >= alpha.")
    settings = {"design": spec.design, "n": list(ns), "sims": sims, "seed": s.seed, "draws": s.draws, "tune": s.tune,
                "chains": s.chains, "adaptation": s.adaptation, "target_accept": s.target_accept,
                "thresholds": asdict(spec.thresholds), "rules": dict(spec.rules), "bayesian": spec.bayesian, **extra}
    return PlanResult(design=spec.design, table=table, frequentist=freq, simulations=simulations, settings=settings,
                      design_prior=design_prior, priors=spec.priors, seconds=time.perf_counter() - start,
                      notes=tuple(notes))


# ----------------------------------------------------------------------------- output


_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")


def plot_assurance(result: PlanResult, *, ax=None):
    """Assurance of each rule vs n (band: +-2 MC SE), frequentist power dashed; returns (fig, ax)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(6.4, 4.8))
    else:
        fig = ax.figure
    tab = result.table
    multi = tab["target"].nunique() > 1

    def line(x, y, se, colour, style, marker, label):
        x, y, se = (np.asarray(v, dtype=float) for v in (x, y, se))
        ax.fill_between(x, np.clip(y - 2 * se, 0, 1), np.clip(y + 2 * se, 0, 1), color=colour, alpha=0.12, lw=0)
        ax.plot(x, y, color=colour, ls=style, marker=marker, ms=4, lw=1.5, label=label)

    i = 0
    for (_, target), grp in tab.groupby(["rule", "target"], sort=False):
        if grp["assurance"].isna().all():
            continue
        label = grp["description"].iloc[0] + (f" [{target}]" if multi else "")
        line(grp["n"], grp["assurance"], grp["mc_se"], _COLOURS[i % len(_COLOURS)], "-", "o", label)
        i += 1
    for j, (test, grp) in enumerate(result.frequentist.groupby("test", sort=False)):
        line(grp["n"], grp["power"], grp["mc_se"], ("0.25", "0.55")[j % 2], ("--", ":")[j % 2], "s",
             f"power: {test}")
    ax.set_ylim(0, 1.0)
    ax.set_xticks(sorted(tab["n"].unique()))
    ax.set_xlabel(f"animals per {get_design(result.design).unit_word}")
    ax.set_ylabel("assurance / power")
    ax.set_title(f"Assurance vs n ({result.settings['sims']} simulated data sets per n; band: 2 MC SE)", fontsize=9)
    ax.axhline(0.8, color="0.85", lw=0.8, zorder=0)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.legend(fontsize=7, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=1)
    fig.tight_layout()
    return fig, ax


def format_table(result: PlanResult) -> str:
    """The table as text (what the CLI prints)."""
    tab = result.table.copy()
    multi = tab["target"].nunique() > 1
    cols = ["n", "description"] + (["target"] if multi else []) + ["assurance", "mc_se", "power"]
    out = tab[cols].rename(columns={"description": "rule", "mc_se": "MC SE"})
    return out.to_string(index=False, float_format=lambda x: f"{x:.3f}")


def write_plan(result: PlanResult, out) -> dict[str, Path]:
    """plan.csv, plan.json, frequentist.csv, simulations.csv and assurance.png / .svg in ``out``."""
    import matplotlib.pyplot as plt

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = {"plan.csv": out / "plan.csv", "plan.json": out / "plan.json",
             "frequentist.csv": out / "frequentist.csv", "simulations.csv": out / "simulations.csv",
             "assurance.png": out / "assurance.png", "assurance.svg": out / "assurance.svg"}
    result.table.to_csv(files["plan.csv"], index=False)
    result.frequentist.to_csv(files["frequentist.csv"], index=False)
    result.simulations.to_csv(files["simulations.csv"], index=False)
    files["plan.json"].write_text(json.dumps(result.to_json_dict(), indent=2, allow_nan=False) + "\n",
                                  encoding="utf-8")
    fig, _ = plot_assurance(result)
    fig.savefig(files["assurance.png"], dpi=200, metadata={"Software": None})
    fig.savefig(files["assurance.svg"], metadata={"Date": None})
    plt.close(fig)
    return files
