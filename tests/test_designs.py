"""The Design protocol and registry (bayes_igf1.designs.base)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bayes_igf1.designs.base import DESIGNS, Design, get_design
from bayes_igf1.errors import DesignError

PACKAGE = Path(__file__).resolve().parent.parent / "bayes_igf1"
#: Places outside designs/ that ask a design for its name (37 before the protocol): none may come back.
NAME_BRANCHES_LEFT = 0


@pytest.mark.parametrize("name", sorted(DESIGNS))
def test_every_registered_design_implements_the_protocol(name):
    design = get_design(name)
    assert isinstance(design, Design)
    assert design.name == name
    for method in ("analyse", "setup", "finish", "add_arguments", "options_from_args", "compare_alternatives", "groups", "row_groups", "results_sentences", "figures", "finding", "plan_from_args",
                   "plan_source", "plan_simulate", "plan_prepare", "plan_model", "plan_observations",
                   "plan_frequentist", "plan_targets", "plan_rules", "plan_rule_names", "calibration_model"):
        assert callable(getattr(design, method))


def test_each_plan_option_belongs_to_one_design():
    flags = [flag for name in DESIGNS for flag, _ in get_design(name).plan_options]
    assert len(flags) == len(set(flags)) and "--cell-means" in flags and "--pct-change" in flags


@pytest.mark.parametrize("name", sorted(DESIGNS))
def test_calibration_model_of_the_shipped_study(name):
    model, params, priors = get_design(name).calibration_model(PACKAGE.parent / "data")
    free = {rv.name for rv in model.free_RVs}
    assert params and set(params) <= free and "y_data" in model.named_vars and priors


def test_an_unknown_design_is_an_error_naming_the_known_ones():
    with pytest.raises(DesignError, match="no design called 'crossover'.*battery, factorial"):
        get_design("crossover")


def test_no_new_design_name_branches_outside_designs():
    pattern = re.compile(r"""(==|!=)\s*["'](timecourse|factorial|battery)["']""")
    hits = [f"{path.relative_to(PACKAGE)}:{i}" for path in PACKAGE.rglob("*.py") if "designs" not in path.parts
            for i, line in enumerate(path.read_text().splitlines(), 1) if pattern.search(line)]
    assert len(hits) <= NAME_BRANCHES_LEFT, hits
    # these ask the design now
    assert not [h for h in hits if h.startswith(("report", "reproduce", "plan", "calibrate"))], hits


def test_the_cli_lists_every_design_without_importing_one():
    """`bayes-igf1 --help` names each registered design (its registry help) without importing a design module."""
    import subprocess
    import sys

    code = ("import sys\nfrom bayes_igf1.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m == 'pymc' or (m.startswith('bayes_igf1.designs.') "
            "and m != 'bayes_igf1.designs.base')))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip().splitlines()[-1] == "[]"
    for name in DESIGNS:
        assert f"    {name} " in run.stdout


@pytest.mark.parametrize("name", sorted(DESIGNS))
def test_each_design_builds_its_own_sub_command(name, capsys):
    """A design's sub-command is its add_arguments between the CLI's data and fitting options."""
    import argparse

    from bayes_igf1.cli import main

    with pytest.raises(SystemExit):
        main([name, "--help"])
    text = capsys.readouterr().out
    own = argparse.ArgumentParser()
    get_design(name).add_arguments(own)
    flags = [opt for action in own._actions for opt in action.option_strings if opt not in ("-h", "--help")]
    assert flags and all(flag in text for flag in flags)
    assert text.index("--where") < text.index(flags[0]) < text.index("--draws")
