"""The result of an analysis: what the report writers and results.json are made from.

One frozen dataclass for every design. Tables are DataFrames with stable column names;
``tree`` holds every draw. Library code builds it and never prints.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import version

import numpy as np
import pandas as pd
import xarray as xr

from bayes_igf1.io import Sheet
from bayes_igf1.sampling import Diagnostics

#: Columns of ``AnalysisResult.estimates`` (DESIGN.md, results.json ``estimates``).
ESTIMATE_COLUMNS = [
    "name", "label", "group", "reference", "time", "cell", "scale",
    "mean", "median", "sd", "ci_low", "ci_high", "ci_prob", "ci_kind", "prob_direction",
    "prob_above", "rope_low", "rope_high", "prob_in_rope", "headline",
    "freq_estimate", "freq_se", "freq_ci_low", "freq_ci_high", "freq_ci_low_adjusted", "freq_ci_high_adjusted",
    "freq_p", "freq_p_adjusted", "freq_method", "freq_survival",
]


@dataclass(frozen=True)
class AnalysisResult:
    """Everything one analysis produced.

    Attributes
    ----------
    design : "timecourse" or "factorial"
    title : short human title, e.g. "IGF-1 (pg/mL) by treatment over time"
    settings : every option needed to rerun the analysis (JSON-serialisable)
    seed : the random seed
    sheet : the validated input with its row ledger
    priors : resolved priors, name -> {"dist", parameters...}
    model_text : the model in words and formulas (methods section)
    tree : DataTree with posterior, sample_stats, prior, predictive, log_likelihood, data
    diagnostics : the diagnostics gate
    estimates : one row per reported estimand element, columns `ESTIMATE_COLUMNS`
    bayes_anova : Bayesian ANOVA table (source, sd_median, sd_ci_low, sd_ci_high, eta_median, eta_ci_low, eta_ci_high)
    anova : frequentist F table (effect, df_num, df_den, F, p, epsilon_gg, p_gg, epsilon_hf, p_hf, partial_eta_sq, generalized_eta_sq)
    anova_data : {"n_animals", "animals_dropped", "reason", "dv", "note"}
    mixed_model : {"fixed_effects": [...], "sd_animal", "sd_residual", "method", ...}
    frequentist_extra : other frequentist tables (post hoc, checks, survival), name -> DataFrame or dict
    checks : predictive checks, LOO, sensitivity (filled by bayes_igf1.checks)
    notes : sentences the report must say (data handling, choices made)
    """

    design: str
    title: str
    settings: dict
    seed: int
    sheet: Sheet
    priors: dict
    model_text: str
    tree: xr.DataTree = field(repr=False)
    diagnostics: Diagnostics = field(repr=False)
    estimates: pd.DataFrame = field(repr=False)
    bayes_anova: pd.DataFrame = field(repr=False)
    anova: pd.DataFrame = field(repr=False)
    anova_data: dict = field(repr=False)
    mixed_model: dict = field(repr=False)
    frequentist_extra: dict = field(default_factory=dict, repr=False)
    checks: dict = field(default_factory=dict, repr=False)
    notes: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return bool(self.diagnostics.passed)

    def to_json_dict(self) -> dict:
        """The results.json document (DESIGN.md keys)."""
        estimates = []
        for rec in self.estimates.to_dict("records"):
            item = {k: jsonable(rec.get(k)) for k in ESTIMATE_COLUMNS if not k.startswith("freq_")}
            item["rope"] = (
                None if jsonable(rec.get("rope_low")) is None else [jsonable(rec["rope_low"]), jsonable(rec["rope_high"])]
            )
            item["frequentist"] = {
                "estimate": jsonable(rec.get("freq_estimate")),
                "se": jsonable(rec.get("freq_se")),
                "ci_low": jsonable(rec.get("freq_ci_low")),
                "ci_high": jsonable(rec.get("freq_ci_high")),
                "ci_low_adjusted": jsonable(rec.get("freq_ci_low_adjusted")),
                "ci_high_adjusted": jsonable(rec.get("freq_ci_high_adjusted")),
                "p": jsonable(rec.get("freq_p")),
                "p_adjusted": jsonable(rec.get("freq_p_adjusted")),
                "method": jsonable(rec.get("freq_method")),
            }
            if isinstance(rec.get("freq_survival"), Mapping):  # censored outcome: the censoring-aware test
                item["frequentist"]["survival"] = jsonable(rec["freq_survival"])
            estimates.append(item)
        return jsonable({
            "design": self.design,
            "title": self.title,
            "package_version": version("bayes-igf1"),
            "seed": self.seed,
            "settings": self.settings,
            "data": self.sheet.data_block(),
            "priors": self.priors,
            "diagnostics": self.diagnostics.to_dict(),
            "estimates": estimates,
            "bayes_anova": self.bayes_anova.to_dict("records"),
            "anova": self.anova.to_dict("records"),
            "anova_data": self.anova_data,
            "mixed_model": self.mixed_model,
            **self._extra_blocks(),
            "checks": self.checks,
            "notes": list(self.notes),
        })

    def _extra_blocks(self) -> dict:
        """``anova_plain`` (the lab's ANOVA without the cohort block) and ``survival`` (censored
        outcomes: Kaplan-Meier medians, log-rank, Cox), when the analysis has them."""
        extra = self.frequentist_extra or {}
        out = {}
        if "anova_plain" in extra:
            out["anova_plain"] = extra["anova_plain"].to_dict("records")
        if "logrank" in extra:
            out["survival"] = {k: extra[k] for k in ("km_median", "logrank", "cox", "cox_interaction", "cox_main")
                               if k in extra}
            out["survival"]["ties"] = extra.get("survival_ties")
            out["survival"]["note"] = extra.get("survival_note")
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_json_dict(), indent=2, allow_nan=False) + "\n"


def jsonable(obj):
    """JSON-safe copy: numpy scalars to Python, NaN/inf to None, frames to records, other objects
    (paths, dates) to their text."""
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, pd.DataFrame):
        return jsonable(obj.to_dict("records"))
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return None if not math.isfinite(float(obj)) else float(obj)
    if obj is None or obj is pd.NA or obj is pd.NaT:
        return None
    if isinstance(obj, (str, int)):
        return obj
    return str(obj)


def blockade_base(estimates: pd.DataFrame, row: Mapping) -> dict | None:
    """The simple effect a % blockade row is a percentage of: the treated factor's effect under the
    blocker's reference level (a vs a0 under b0 when B blocks; b vs b0 under a0 when A blocks).

    The blockade row's ``group`` is ``"treated:blocker"``. Returns that ``simple_effect`` row of
    ``estimates`` with ``interpretable``: False when its interval contains no effect (0; 1 for a
    ratio). 100 (1 - x / y) is undefined at y = 0, and its posterior is then heavy-tailed and
    says nothing about a blockade.
    """
    from bayes_igf1.designs.factorial import cell_key  # not at the top: factorial imports this module

    a, b = str(row["cell"]).split("|", 1)
    a0, b0 = str(row["reference"]).split("|", 1)
    treated = str(row.get("group") or "").split(":", 1)[0]
    match = estimates[(estimates["name"] == "simple_effect") & (estimates["group"] == treated)
                      & estimates["cell"].isin([cell_key(a, b0), cell_key(a0, b)])
                      & (estimates["reference"] == cell_key(a0, b0))]
    if not len(match):
        return None
    base = match.iloc[0].to_dict()
    null = 1.0 if "ratio" in str(base.get("scale") or "") else 0.0
    base["interpretable"] = not (float(base["ci_low"]) <= null <= float(base["ci_high"]))
    base["null"] = null
    return base
