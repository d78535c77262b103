"""Package-wide constants: interval settings, diagnostics thresholds, dimension names."""

from __future__ import annotations

#: Probability mass of every reported credible / confidence interval.
CI_PROB: float = 0.95
#: Kind of credible interval ("hdi" or "eti"). ArviZ 1.x defaults to 0.89 ETI: always pass both.
CI_KIND: str = "hdi"
#: Default random seed: the same command on the same data gives the same numbers.
DEFAULT_SEED: int = 20220412

# Diagnostics gate (DESIGN.md): R-hat <= 1.01, bulk and tail ESS >= 400, no divergences.
RHAT_MAX: float = 1.01
ESS_MIN: float = 400.0
MAX_DIVERGENCES: int = 0

# Names of dimensions and of the standard columns of a validated tidy frame.
ANIMAL: str = "animal"
GROUP: str = "group"
TIME: str = "time"
VALUE: str = "value"
COHORT: str = "cohort"
CENSORED: str = "censored"
#: Column holding a numeric covariate of the factorial (e.g. body weight), as read.
COVARIATE: str = "covariate"
#: Column holding the detection limit of a left-censored (below-limit) assay value.
LIMIT: str = "limit"
#: Column holding the spreadsheet row number of the observation (header row = 1).
ROW: str = "row"
