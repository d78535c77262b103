"""The Design protocol and the registry of designs.

Each design is one class that answers every question the shared layers (report, reproduce,
CLI) would otherwise ask by testing the design's name: how its rows are grouped, what its
results say, which figures it draws, how its headline finding reads. Code outside
``designs/`` looks a design up with `get_design` (by its registry name, which is also
``AnalysisResult.design`` and results.json's ``design``) and calls it.

The registry names the modules rather than importing them, so that ``bayes-igf1 --help`` and
``inspect`` stay fast (a design module imports PyMC).

First step of the redesign (issue 12): the report, reproduce, plan, calibrate and the CLI ask
the design (``tests/test_designs.py`` fails if code outside ``designs/`` tests a design's name);
part of a design's report text still lives in ``report/`` (reached through its design class).
A design's plan and calibration methods may call design-specific functions that stay in
``plan.py`` / ``calibrate.py`` (imported inside the method: no import cycle, and ``--help``
stays fast).
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    import argparse
    from pathlib import Path

    import numpy as np
    import pandas as pd
    import pymc as pm
    import xarray as xr
    from matplotlib.figure import Figure

    from bayes_igf1.plan import PlanResult, _Spec
    from bayes_igf1.results import AnalysisResult

#: Registry name -> "module:Class". One line per design.
DESIGNS: dict[str, str] = {
    "timecourse": "bayes_igf1.designs.timecourse:TimeCourse",
    "factorial": "bayes_igf1.designs.factorial:Factorial",
    "summary": "bayes_igf1.designs.summary:Summary",
    "battery": "bayes_igf1.designs.battery:Battery",
}


@runtime_checkable
class Design(Protocol):
    """What a design knows about itself (see DESIGN.md, "The Design protocol")."""

    #: CLI sub-command, ``AnalysisResult.design`` and results.json ``design``.
    name: str
    #: What one group of animals is called in text: "group" (time course), "cell" (factorial).
    unit_word: str

    def analyse(self, source, **options) -> AnalysisResult:
        """Read, fit, check and set beside the frequentist twin (the design's ``analyse_*``)."""

    def groups(self, result: AnalysisResult) -> list[str]:
        """Group or cell labels ("A|B"), reference first."""

    def row_groups(self, result: AnalysisResult) -> pd.Series:
        """The group / cell label of every row of the validated frame."""

    def log_scale(self, result: AnalysisResult) -> bool:
        """True when the model works on the log of the outcome."""

    def predictive_transform(self, result: AnalysisResult) -> tuple[Callable, Callable, bool]:
        """(to the model scale, back from it, log axis?) for the values in the tree's observed data."""

    def data_sentences(self, result: AnalysisResult) -> list[str]:
        """Design-specific sentences of the data paragraph (e.g. the sampling schedule)."""

    def why_bayesian(self, result: AnalysisResult) -> str:
        """The methods' "Why Bayesian" sentence."""

    def frequentist_methods(self, result: AnalysisResult) -> str:
        """The methods paragraph on the frequentist twin."""

    def anova_head(self, result: AnalysisResult) -> str:
        """The opening of the ANOVA sentence ("Two-way ANOVA on ... (38 animals; type III)")."""

    def results_sentences(self, result: AnalysisResult) -> list[tuple[str, str]]:
        """(kind, sentence) pairs of the design's findings in the results paragraph."""

    def rope_unit(self, result: AnalysisResult) -> str:
        """The unit of the ROPE's half-width ("%" or "")."""

    def effect_name(self, source: str, result: AnalysisResult) -> str:
        """A Bayesian ANOVA source in the F table's words ("group:time" -> "treatment:hour")."""

    def frequentist_scale_note(self, result: AnalysisResult) -> str:
        """"" when the frequentist contrasts share the Bayesian reporting scale, else their scale."""

    def figures(self, result: AnalysisResult) -> dict[str, tuple[Figure, str]]:
        """The design's own figures: name -> (figure, caption)."""

    def finding(self, result: AnalysisResult) -> str:
        """The headline finding in one sentence (reproduce's index)."""

    # Optional: ``descriptives(result) -> DataFrame`` (the descriptive statistics table, for a design
    # whose sheet has no animal rows) and ``plan_rule_targets(spec)``; the report and plan use them
    # when a design has them.

    def verdict(self, result: AnalysisResult, claim: str) -> tuple[str, str]:
        """Is a claim of kind ``claim`` supported? ("supported" | "not supported" | "undecided", the rule as applied)."""

    # ---- plan (bayes_igf1.plan: one simulated study = simulate, prepare, fit, judge) and calibrate

    #: ``bayes-igf1 plan`` options only this design takes, as (flag, argparse dest) pairs.
    plan_options: tuple[tuple[str, str], ...]

    def plan_from_args(self, args: argparse.Namespace, **common) -> PlanResult:
        """Run ``bayes-igf1 plan <design>`` with its parsed options (``common``: those every design takes)."""

    def plan_source(self, source: str | Path, notes: list[str]) -> dict:
        """The design prior, levels and priors read from a results folder (``--from``); appends notes."""

    def plan_simulate(self, spec: _Spec, n: int, index: int, seed: int) -> tuple[pd.DataFrame, dict]:
        """One simulated study of n per group from design-prior draw ``index``: (tidy frame, truth)."""

    def plan_prepare(self, spec: _Spec, frame: pd.DataFrame) -> tuple[object, object]:
        """(prepared data, options) of a simulated frame, as the analysis would prepare it."""

    def plan_model(self, spec: _Spec, data, options) -> tuple[pm.Model, list[str]]:
        """(model with the spec's frozen priors, the free parameters the gate checks)."""

    def plan_observations(self, spec: _Spec, frame: pd.DataFrame) -> np.ndarray:
        """The model's ``y_data`` vector for a simulated frame (swapped into the compiled model)."""

    def plan_frequentist(self, spec: _Spec, frame: pd.DataFrame) -> dict[str, float]:
        """The p values of the frequentist tests on a simulated frame (key -> p)."""

    def plan_targets(self, spec: _Spec) -> list[str]:
        """The groups / cells the decision rules are judged for."""

    def plan_rules(self, spec: _Spec, post: xr.Dataset, data, truth: dict) -> list[dict]:
        """One record per target: each decision rule's outcome on a fit, and the true value."""

    def plan_rule_names(self, spec: _Spec) -> list[tuple[str, str, str]]:
        """(rule column, description, frequentist test key) of each decision rule."""

    def calibration_model(self, data_dir: Path) -> tuple[pm.Model, list[str], dict]:
        """(model, parameters to rank, frozen priors) of the shipped study, for ``calibrate``."""


def get_design(name: str) -> Design:
    """The design registered as ``name`` (an unknown name is an error listing the known ones)."""
    try:
        module, cls = DESIGNS[str(name)].split(":")
    except KeyError:
        from bayes_igf1.errors import DesignError

        raise DesignError(
            f"there is no design called {name!r}. Fix: use one of {', '.join(sorted(DESIGNS))}."
        ) from None
    return getattr(import_module(module), cls)()
