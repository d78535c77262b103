"""The result of an analysis: what the report writers and results.json are made from.

One frozen dataclass for every design. Tables are DataFrames with stable column names;
``tree`` holds every draw. Library code builds it and never prints.

`load_result` rebuilds it from a report folder (results.json + posterior.nc) without refitting:
results.json holds every table as records (``frame_dtypes`` gives their columns and dtypes), the
texts, ``sheet`` (the Sheet's description) and ``diagnostics_table``; posterior.nc holds the
draws and the validated input (groups ``tidy_data`` and ``row_ledger``).
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

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
            # What `load_result` needs to rebuild this result (with posterior.nc's tidy_data and row_ledger):
            "model_text": self.model_text,
            "sheet": self._sheet_block(),
            "frequentist_extra": self.frequentist_extra or {},
            "diagnostics_table": self.diagnostics.table.to_dict("records"),
            "frame_dtypes": self._frame_dtypes(),
        })

    def _sheet_block(self) -> dict:
        """The Sheet's description (its frame and ledger are posterior.nc's tidy_data and row_ledger)."""
        sh = self.sheet
        return {"source": sh.source, "design": sh.design, "columns": dict(sh.columns), "factors": list(sh.factors),
                "animal_ids_made_up": bool(sh.animal_ids_made_up), "time_unit": sh.time_unit,
                "reference_rule": dict(sh.reference_rule), "notes": list(sh.notes),
                "censoring_side": sh.censoring_side}

    def _frame_dtypes(self) -> dict:
        """Every table this result holds, by its place in results.json ("anova", "frequentist_extra/tukey",
        "checks/bayes_factor", ...): column -> pandas dtype, in column order, so that `load_result` rebuilds
        the DataFrames from their records with their columns (also when empty) and dtypes."""
        out = {"estimates": self.estimates, "bayes_anova": self.bayes_anova, "anova": self.anova,
               "diagnostics_table": self.diagnostics.table}
        out.update(_frames_in(self.frequentist_extra or {}, "frequentist_extra"))
        out.update(_frames_in(self.checks or {}, "checks"))
        return {path: {str(c): str(frame[c].dtype) for c in frame.columns} for path, frame in out.items()}

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


def _frames_in(obj: Mapping, prefix: str) -> dict[str, pd.DataFrame]:
    """The DataFrames inside a (nested) dict, by path ("checks/bayes_factor")."""
    out = {}
    for k, v in obj.items():
        path = f"{prefix}/{k}"
        if isinstance(v, pd.DataFrame):
            out[path] = v
        elif isinstance(v, Mapping):
            out.update(_frames_in(v, path))
    return out


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


# ------------------------------------------------------------------------------ reload

#: results.json keys a report needs for `load_result` (written since reports could be re-rendered).
RELOAD_KEYS = ("model_text", "sheet", "frequentist_extra", "diagnostics_table", "frame_dtypes")


def load_result(folder: str | Path) -> AnalysisResult:
    """Rebuild the `AnalysisResult` of a report folder from its ``results.json`` and ``posterior.nc``.

    Nothing is refitted: the draws, the validated input (posterior.nc's ``tidy_data`` and
    ``row_ledger`` groups), the tables and texts come back as the analysis made them, so that
    ``write_report(load_result(folder), other)`` (CLI ``bayes-igf1 report FOLDER``) writes the
    same report again, e.g. after the package's wording changed.

    Parameters
    ----------
    folder : path
        A folder written by `bayes_igf1.write_report` (or ``bayes-igf1 timecourse / factorial``).

    Raises
    ------
    DataError
        ``folder`` is not a bayes-igf1 report folder, or was written by a version that did not
        store what a reload needs (the fix: rerun the analysis with this version).
    """
    from bayes_igf1.errors import DataError
    from bayes_igf1.io import RowLedger
    from bayes_igf1.report.writer import SHEET_GROUPS, dataset_to_frame
    from bayes_igf1.sampling import SamplerSettings, Thresholds

    folder = Path(folder)
    fix = ("pass a folder written by a bayes-igf1 analysis (its --out), e.g. "
           "'bayes-igf1 report results/timecourse'")
    if not folder.is_dir():
        raise DataError(f"{str(folder)!r} is not a folder", fix=fix)
    rj = folder / "results.json"
    if not rj.is_file():
        raise DataError(f"{str(folder)!r} is not a bayes-igf1 report folder (it has no results.json)", fix=fix)
    try:
        doc = json.loads(rj.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise DataError(f"{str(rj)!r} is not valid JSON ({err})",
                        fix="rerun the analysis with this version to write the report again") from None
    if not isinstance(doc, dict) or not {"design", "package_version", "diagnostics", "estimates"} <= set(doc):
        raise DataError(f"{str(rj)!r} is not the results.json of a bayes-igf1 report", fix=fix)
    posterior = folder / "posterior.nc"
    rerun = f"rerun the analysis with this version (bayes-igf1 {version('bayes-igf1')}) to write a reloadable report"
    missing = [k for k in RELOAD_KEYS if k not in doc]
    if missing:
        raise DataError(f"{str(folder)!r} was written by bayes-igf1 {doc.get('package_version', '?')}, which did not "
                        f"store what a reload needs (results.json has no {', '.join(missing)})", fix=rerun)
    if not posterior.is_file():
        raise DataError(f"{str(folder)!r} has no posterior.nc (the draws and the validated data)", fix=rerun)
    try:
        with xr.open_datatree(posterior, engine="h5netcdf") as back:
            back.load()
            groups = {node.path: node.to_dataset(inherit=False) for node in back.subtree}
    except (OSError, ValueError) as err:
        raise DataError(f"{str(posterior)!r} cannot be read ({type(err).__name__}: {err})", fix=rerun) from None
    absent = [g for g in SHEET_GROUPS if f"/{g}" not in groups]
    if absent:
        raise DataError(f"{str(posterior)!r} has no {' or '.join(absent)} group (written by bayes-igf1 "
                        f"{doc.get('package_version', '?')}, before reports could be reloaded)", fix=rerun)

    meta = doc["sheet"]
    led = groups.pop("/row_ledger")
    ledger = RowLedger(source=str(led.attrs.get("source", meta["source"])),
                       entries=dataset_to_frame(led, dim=SHEET_GROUPS["row_ledger"]),
                       header_row=int(led.attrs.get("header_row", 1)), n_lines=int(led.attrs.get("n_lines", 0)))
    sheet = Sheet(frame=dataset_to_frame(groups.pop("/tidy_data"), dim=SHEET_GROUPS["tidy_data"]), ledger=ledger,
                  columns=dict(meta["columns"]), source=meta["source"], design=meta["design"],
                  factors=tuple(meta["factors"]), animal_ids_made_up=bool(meta["animal_ids_made_up"]),
                  time_unit=meta.get("time_unit", ""), reference_rule=dict(meta.get("reference_rule", {})),
                  notes=tuple(meta.get("notes", ())), censoring_side=meta.get("censoring_side", "right"))

    dtypes = doc["frame_dtypes"]
    d = doc["diagnostics"]
    diagnostics = Diagnostics(
        max_rhat=_num(d.get("max_rhat")), min_ess_bulk=_num(d.get("min_ess_bulk")),
        min_ess_tail=_num(d.get("min_ess_tail")), divergences=int(d["divergences"]),
        treedepth_saturated=int(d.get("treedepth_saturated", 0)), min_bfmi=_num(d.get("min_bfmi")),
        passed=bool(d["passed"]), problems=tuple(d.get("problems", ())),
        table=_frame(doc["diagnostics_table"], dtypes.get("diagnostics_table")),
        attempts=int(d.get("attempts", 1)), retried=bool(d.get("retried", False)),
        settings=SamplerSettings(**d["settings"]), thresholds=Thresholds(**d["thresholds"]),
        sampling_seconds=_num(d.get("sampling_seconds")))

    return AnalysisResult(
        design=doc["design"], title=doc.get("title", ""), settings=doc.get("settings", {}), seed=doc["seed"],
        sheet=sheet, priors=doc.get("priors", {}), model_text=doc["model_text"],
        tree=xr.DataTree.from_dict(groups), diagnostics=diagnostics,
        estimates=_estimates(doc["estimates"], dtypes.get("estimates")),
        bayes_anova=_frame(doc.get("bayes_anova", []), dtypes.get("bayes_anova")),
        anova=_frame(doc.get("anova", []), dtypes.get("anova")),
        anova_data=doc.get("anova_data", {}), mixed_model=doc.get("mixed_model", {}),
        frequentist_extra=_with_frames(doc["frequentist_extra"], dtypes, "frequentist_extra"),
        checks=_with_frames(doc.get("checks", {}), dtypes, "checks"),
        notes=tuple(doc.get("notes", ())),
    )


def _num(x) -> float:
    return float("nan") if x is None else float(x)


def _frame(records: list, dtypes: Mapping | None) -> pd.DataFrame:
    """A DataFrame from results.json records, with the columns and dtypes it had (``frame_dtypes``)."""
    if dtypes is None:
        return pd.DataFrame(records)
    columns = list(dtypes)
    frame = pd.DataFrame.from_records(records, columns=columns) if records else pd.DataFrame(columns=columns)
    for col, dtype in dtypes.items():
        if dtype == "object":
            frame[col] = pd.Series([None if _missing(v) else v for v in frame[col]], index=frame.index, dtype=object)
            continue
        with contextlib.suppress(TypeError, ValueError):
            frame[col] = frame[col].astype(dtype)
    return frame


def _missing(v) -> bool:
    return v is None or isinstance(v, float) and math.isnan(v)


def _with_frames(block: Mapping, dtypes: Mapping, prefix: str) -> dict:
    """``block`` (a results.json dict) with each table that was a DataFrame (``frame_dtypes`` paths under
    ``prefix``) rebuilt as one."""
    out = {}
    for k, v in block.items():
        path = f"{prefix}/{k}"
        if path in dtypes and isinstance(v, list):
            out[k] = _frame(v, dtypes[path])
        elif isinstance(v, Mapping):
            out[k] = _with_frames(v, dtypes, path)
        else:
            out[k] = v
    return out


def _estimates(items: list, dtypes: Mapping | None) -> pd.DataFrame:
    """results.json ``estimates`` back into the `ESTIMATE_COLUMNS` frame (``frequentist`` -> freq_*)."""
    rows = []
    for item in items:
        rec = {k: item.get(k) for k in ESTIMATE_COLUMNS if not k.startswith("freq_")}
        freq = item.get("frequentist") or {}
        for k in ("estimate", "se", "ci_low", "ci_high", "ci_low_adjusted", "ci_high_adjusted", "p", "p_adjusted",
                  "method"):
            rec[f"freq_{k}"] = freq.get(k)
        rec["freq_survival"] = freq.get("survival")
        rows.append(rec)
    dtypes = {c: (dtypes or {}).get(c, "object") for c in ESTIMATE_COLUMNS}
    return _frame(rows, dtypes)
