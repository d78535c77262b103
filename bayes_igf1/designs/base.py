"""The Design protocol and the registry of designs.

Each design is one class that answers every question the shared layers (report, reproduce,
CLI) would otherwise ask by testing the design's name: how its rows are grouped, what its
results say, which figures it draws, how its headline finding reads. Code outside
``designs/`` looks a design up with `get_design` (by its registry name, which is also
``AnalysisResult.design`` and results.json's ``design``) and calls it.

The registry names the modules rather than importing them, and holds each design's one-line
help, so that ``bayes-igf1 --help`` and ``inspect`` stay fast (a design module imports PyMC).
A design's sub-command is built from its class (``add_arguments``, ``options_from_args``,
``compare_alternatives``, ``refit_options``); ``cli.cmd_analysis`` runs any of them.

First step of the redesign (issue 12): the report, reproduce, plan, calibrate and the CLI ask
the design (``tests/test_designs.py`` fails if code outside ``designs/`` tests a design's name);
part of a design's report text still lives in ``report/`` (reached through its design class).
A design's plan and calibration methods may call design-specific functions that stay in
``plan.py`` / ``calibrate.py`` (imported inside the method: no import cycle, and ``--help``
stays fast).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from importlib import import_module
from typing import TYPE_CHECKING, NamedTuple, Protocol, runtime_checkable

if TYPE_CHECKING:
    import argparse
    from pathlib import Path

    import numpy as np
    import pandas as pd
    import pymc as pm
    import xarray as xr
    from matplotlib.figure import Figure

    from bayes_igf1.pipeline import Setup
    from bayes_igf1.plan import PlanResult, _Spec
    from bayes_igf1.results import AnalysisResult

class Registered(NamedTuple):
    """A registry entry: where the design's class is, and its one-line help (``bayes-igf1 --help``
    lists every design without importing one)."""

    target: str  # "module:Class"
    help: str


#: Registry name -> (module:Class, one-line help). One line per design.
DESIGNS: dict[str, Registered] = {
    "timecourse": Registered("bayes_igf1.designs.timecourse:TimeCourse",
                             "time course (e.g. microdialysis IGF-1): Bayesian model + RM ANOVA"),
    "factorial": Registered("bayes_igf1.designs.factorial:Factorial",
                            "k-way design (e.g. treatment x antibody), between or within animals: Bayesian model + ANOVA"),
    "summary": Registered("bayes_igf1.designs.summary:Summary",
                          "a published figure: the factorial's model + ANOVA from cell means, SD or SEM and n"),
    "battery": Registered("bayes_igf1.designs.battery:Battery",
                          "several tests of the same animals (FST, FUST, NSFT) jointly: Bayesian model + MANOVA"),
    "summary-timecourse": Registered("bayes_igf1.designs.summary_timecourse:SummaryTimeCourse",
                                     "a published time-course figure: group x time means, SD or SEM and n, at an "
                                     "assumed within-animal rho"),
}


@runtime_checkable
class Design(Protocol):
    """What a design knows about itself (see DESIGN.md, "The Design protocol")."""

    #: CLI sub-command, ``AnalysisResult.design`` and results.json ``design``.
    name: str
    #: ``bayes-igf1 <name> --help``: what the sub-command fits and writes.
    description: str
    #: Options set on the extra refits of ``--prior-sensitivity`` / ``--compare`` (e.g. no BF sensitivity).
    refit_options: dict
    #: What one group of animals is called in text: "group" (time course), "cell" (factorial).
    unit_word: str

    def analyse(self, source, **options) -> AnalysisResult:
        """Read, fit, check and set beside the frequentist twin (the design's ``analyse_*``, a thin wrapper
        over `bayes_igf1.pipeline.analyse`)."""

    # ---- the pipeline's two design steps (bayes_igf1.pipeline.analyse runs the fit between them)

    def setup(self, source, **options) -> Setup:
        """Read and validate the sheet, prepare it, resolve the priors, build the model (an unknown option: error)."""

    def finish(self, setup: Setup, tree: xr.DataTree, diag, *, sampler, retry: bool, progress: bool) -> AnalysisResult:
        """Estimates, checks, the frequentist twin and notes from the fitted tree (its ``estimands`` group stored)."""

    # ---- command line: the CLI adds DATA, --sheet, --where, --decimal, --thousands before the
    # design's own options and the fitting options (--out ... --quiet) after them, and passes
    # both to ``analyse`` with the design's keyword arguments.

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """The design's own options (columns, model, labels) on its sub-command's parser."""

    def options_from_args(self, args: argparse.Namespace) -> dict:
        """``analyse``'s keyword arguments from the parsed options (a bad combination: an error naming the flag)."""

    def compare_alternatives(self, args: argparse.Namespace) -> dict:
        """``--compare``: option -> its alternative value, one refit each (an error when there is none)."""

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
    # whose sheet has no animal rows), ``headline_draws(result, group) -> {label: (draws, scale)}``
    # (the headline estimands' draws from posterior.nc's "estimands" / "prior_estimands" group: the
    # prior-vs-posterior figure) and ``plan_rule_targets(spec)``; the report and plan use them when a
    # design has them.

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


class PipelineSteps:
    """``analyse``, ``setup`` and ``finish`` of a design whose module defines its public ``analyse_*``
    function (named by ``entry``; its signature is the one list of the design's options), ``_setup``
    and ``_finish`` (the pipeline's two design steps). A subclass in another module uses that
    module's three (e.g. ``Summary(Factorial)``)."""

    entry: str

    def _module(self):
        import sys

        return sys.modules[type(self).__module__]

    def analyse(self, source, **options) -> AnalysisResult:
        return getattr(self._module(), self.entry)(source, **options)

    def setup(self, source, **options) -> Setup:
        from bayes_igf1.pipeline import bind_options

        module = self._module()
        return module._setup(**bind_options(getattr(module, self.entry), source, options))

    def finish(self, setup: Setup, tree: xr.DataTree, diag, *, sampler, retry: bool, progress: bool) -> AnalysisResult:
        return self._module()._finish(setup, tree, diag, sampler=sampler, retry=retry, progress=progress)


class NotPlanned:
    """The plan methods of a design that ``bayes-igf1 plan`` does not take: each raises a `DesignError`
    with the design's ``plan_refusal`` (what to plan instead). Put it first among the bases."""

    plan_options: tuple = ()
    plan_refusal: str

    def _no_plan(self, *args, **kwargs):
        from bayes_igf1.errors import DesignError

        raise DesignError(self.plan_refusal)

    plan_from_args = plan_source = plan_simulate = plan_prepare = plan_model = _no_plan
    plan_observations = plan_frequentist = plan_targets = plan_rules = plan_rule_names = _no_plan


def get_design(name: str) -> Design:
    """The design registered as ``name`` (an unknown name is an error listing the known ones)."""
    try:
        module, cls = DESIGNS[str(name)].target.split(":")
    except KeyError:
        from bayes_igf1.errors import DesignError

        raise DesignError(
            f"there is no design called {name!r}. Fix: use one of {', '.join(sorted(DESIGNS))}."
        ) from None
    return getattr(import_module(module), cls)()


# ------------------------------------------------------------------ option helpers of the designs


def add_label_options(parser: argparse.ArgumentParser) -> None:
    """--label, --unit and --level: how the report names the outcome, its unit and the levels."""
    g = parser.add_argument_group("labels in the report")
    g.add_argument("--label", default=None, metavar="TEXT",
                   help="the outcome's name in text, tables and axes (default: its column name)")
    g.add_argument("--unit", default=None, metavar="TEXT",
                   help="the outcome's unit, written after its numbers and on axes (e.g. s, pg/mL; default: none)")
    g.add_argument("--level", action="append", default=[], metavar="FACTOR=LEVEL=TEXT",
                   help="a level's label in the report (repeatable), e.g. --level 'treatment=ketamine 10=ketamine "
                        "10 mg/kg'")


def label_kwargs(args: argparse.Namespace) -> dict:
    """--label, --unit and --level as keyword arguments of the analyse functions."""
    from bayes_igf1.errors import BayesIGF1Error

    levels: dict[str, dict[str, str]] = {}
    for item in args.level:
        parts = str(item).split("=")
        if len(parts) != 3 or not all(p.strip() for p in parts):
            raise BayesIGF1Error(f"--level {item!r} is not FACTOR=LEVEL=TEXT. Fix: e.g. --level "
                                 "'treatment=ketamine 10=ketamine 10 mg/kg'.")
        levels.setdefault(parts[0].strip(), {})[parts[1].strip()] = parts[2].strip()
    return {"label": args.label, "unit": args.unit, "levels": levels or None}


def references(items: Sequence[str]) -> dict[str, str] | None:
    """--reference FACTOR=LEVEL items as a dict (None when none is given)."""
    from bayes_igf1.errors import BayesIGF1Error

    out = {}
    for item in items:
        if "=" not in item:
            raise BayesIGF1Error(f"--reference {item!r} must be FACTOR=LEVEL, e.g. --reference treatment=saline.")
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out or None
