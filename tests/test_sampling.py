"""sampling: the automatic refit's settings follow what failed the gate."""

from __future__ import annotations

import pandas as pd
import pytest

from bayes_igf1.sampling import Diagnostics, SamplerSettings


def _diag(divergences: int, problems: tuple[str, ...]) -> Diagnostics:
    return Diagnostics(max_rhat=1.02, min_ess_bulk=300.0, min_ess_tail=350.0, divergences=divergences,
                       treedepth_saturated=0, min_bfmi=0.9, passed=False, problems=problems, table=pd.DataFrame())


def test_divergences_lower_the_step_size():
    s = SamplerSettings(draws=1000, tune=1000, target_accept=0.8)
    r = s.for_retry(_diag(3, ("3 divergent transitions (allowed: 0)",)))
    assert (r.tune, r.draws, r.target_accept) == (2000, 1000, 0.95)


def test_rhat_or_ess_alone_get_more_draws_at_the_same_target():
    s = SamplerSettings(draws=1000, tune=1000, target_accept=0.8)
    r = s.for_retry(_diag(0, ("R-hat 1.012 > 1.01 (beta[a])", "bulk ESS 300 < 400 (beta[a])")))
    assert (r.tune, r.draws, r.target_accept) == (2000, 2000, 0.8)


def test_short_tuning_is_raised_to_1000_and_no_diagnostics_means_the_cautious_choice():
    s = SamplerSettings(draws=20, tune=10, target_accept=0.9)
    assert s.for_retry(_diag(0, ("bulk ESS 30 < 400",))).tune == 1000
    r = s.for_retry()
    assert (r.tune, r.draws, r.target_accept) == (1000, 20, 0.95)


def test_one_chain_is_refused_with_the_fix():
    # The gate's R-hat compares chains: one chain used to crash in the verdict (all-NaN R-hat).
    from bayes_igf1.errors import DesignError

    with pytest.raises(DesignError, match="chains must be at least 2.*Fix: chains=4"):
        SamplerSettings(chains=1)
