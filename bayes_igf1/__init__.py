"""bayes-igf1: hierarchical Bayesian analysis of ketamine / IGF-1 studies beside the frequentist ANOVA.

The public API is imported lazily (PEP 562) so that ``bayes-igf1 --help`` does not wait
for PyMC to load.
"""

from importlib import import_module
from importlib.metadata import version as _version

__version__ = _version("bayes-igf1")

_EXPORTS = {
    "analyse": "bayes_igf1.pipeline",
    "analyse_timecourse": "bayes_igf1.designs.timecourse",
    "analyse_factorial": "bayes_igf1.designs.factorial",
    "analyse_summary": "bayes_igf1.designs.summary",
    "analyse_battery": "bayes_igf1.designs.battery",
    "read_battery": "bayes_igf1.designs.battery",
    "relabel_levels": "bayes_igf1.io",
    "read_summary": "bayes_igf1.designs.summary",
    "analyse_summary_timecourse": "bayes_igf1.designs.summary_timecourse",
    "rho_sensitivity": "bayes_igf1.designs.summary_timecourse",
    "read_timecourse": "bayes_igf1.io",
    "read_factorial": "bayes_igf1.io",
    "RowLedger": "bayes_igf1.io",
    "Sheet": "bayes_igf1.io",
    "write_report": "bayes_igf1.report.writer",
    "AnalysisResult": "bayes_igf1.results",
    "load_result": "bayes_igf1.results",
    "plan_factorial": "bayes_igf1.plan",
    "plan_timecourse": "bayes_igf1.plan",
    "write_plan": "bayes_igf1.plan",
    "DataError": "bayes_igf1.errors",
    "DesignError": "bayes_igf1.errors",
    "ConvergenceError": "bayes_igf1.errors",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'bayes_igf1' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
