"""Battery design: several outcomes of the same animals (FST, FUST, NSFT), modelled jointly.

One row per animal, one column per test. With outcome ``k`` of animal ``j`` in cell ``(a, b, ...)``,
cohort ``c``, on the model scale (the log of a lognormal outcome)::

    y[j, :] ~ MvNormal(mu[j, :], Sigma)          (multivariate Student-t with one nu when an
    mu[j, k] = cell_mean[k, a, b, ...] + cohort_effect[k, c]     outcome has family "student")
    Sigma = diag(sigma) R diag(sigma),   R ~ LKJCorr(eta = 2),   sigma[k] ~ HalfNormal(s_k)
    cell_mean[k, ...] ~ Normal(m_k, 2.5 s_k)  iid over the cells (as the factorial, per outcome)
    cohort_effect[k, :] = s_k z[k, :], z ~ ZeroSumNormal(1)     fixed block, < 5 cohorts
                        = sigma_cohort[k] z[k, :], z ~ Normal(0, 1)  random effect, >= 5 cohorts

``Sigma`` is parametrised by its Cholesky factor (``pm.LKJCholeskyCov``). There is no latent
animal effect to centre or not: the animal-level residual vector is the likelihood itself.
Each animal's contribution is exact:

* its observed outcomes ``O``: the density of the sub-vector ``y[j, O]`` (the marginal of the
  joint: an animal missing a test is kept, that test marginalised out, not imputed);
* a right-censored outcome ``c`` (e.g. an NSFT latency at the 600 s cut-off): the survival
  probability of its exact conditional distribution given the same animal's observed
  outcomes, ``P(y[j, c] > cut | y[j, O])``, a normal with mean ``mu_c + L[c, O] z`` and SD
  ``L[c, c]`` from the Cholesky factor ``L`` of ``Sigma`` restricted to ``O + c``, ``z`` the
  whitened observed residuals (for Student-t: a t with ``nu + |O|`` df, its scale multiplied
  by ``sqrt((nu + z'z) / (nu + |O|))``). At most one censored outcome per animal (two would
  need a bivariate normal probability).

The per-animal log-likelihood (with the Jacobian of the log for lognormal outcomes, so that
it is the density of the values as measured) is stored as ``log_lik_animal`` and is the
log-likelihood of PSIS-LOO by animal.

Estimands (``estimates``): every outcome's factorial estimands (cell means / medians, main and
simple effects, interaction, % blockade, % change, Cohen's d; `bayes_igf1.designs.factorial`),
their ``label`` starting with the outcome's label and their ``group`` with ``"<outcome>/"``;
joint ones: ``residual_sd`` and ``residual_correlation`` (the correlation matrix of the
animal-level residuals, model scale), ``mahalanobis_interaction`` (the length of the vector of
the outcomes' interaction contrasts in residual-SD units, sqrt(d' Sigma^-1 d)),
``min_blockade_pct`` (the smallest % blockade over the outcomes) and ``joint_probability``:
P(the interaction is in the blocking direction on every outcome) = P(every % blockade > 0),
and P(every % blockade > 50%). Every reported quantity is gated (the correlations too).

The frequentist twin: a type III MANOVA of the outcomes (log scale for lognormal ones,
censored values at their cut-off, as a lab would; Pillai, Wilks, Hotelling-Lawley, Roy, as
``car::Manova``) on the animals with every test, cohort-adjusted like the model and plain
beside it; each outcome's factorial twin (type III ANOVA, contrasts, Kaplan-Meier / log-rank /
Cox for a censored outcome), the ANOVA p-values Holm-adjusted across the outcomes per effect.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
import xarray as xr
from scipy import linalg, stats

from bayes_igf1.designs.base import PipelineSteps
from bayes_igf1.constants import ANIMAL, CENSORED, CI_KIND, CI_PROB, COHORT, DEFAULT_SEED, ROW, VALUE
from bayes_igf1.designs import factorial as fx
from bayes_igf1.errors import DataError, DesignError
from bayes_igf1.results import ESTIMATE_COLUMNS, AnalysisResult
from bayes_igf1.sampling import SamplerSettings
from bayes_igf1.summaries import describe

DESIGN = "battery"
FAMILIES = fx.FAMILIES
#: Column of the battery's tidy frame naming the outcome of each row.
OUTCOME = "outcome"
#: Default LKJ shape of the residual correlation matrix (2: mild shrinkage towards 0).
LKJ_ETA = 2.0
#: Observation status codes of ``BatteryData.status``.
MISSING, OBSERVED, CENSORED_CODE = 0, 1, 2
MANOVA_TESTS = ("Pillai", "Wilks", "Hotelling-Lawley", "Roy")


# ------------------------------------------------------------------------------ options


@dataclass(frozen=True)
class BatteryOptions:
    """Modelling options of the battery (CLI flags of the same names).

    ``rope`` maps an outcome to the half-width of its ROPE (its own units; % change for a
    lognormal outcome). ``blocker`` names the antagonist / antibody factor: % blockade and
    the joint blockade probabilities are reported only then.
    """

    rope: Mapping[str, float] = field(default_factory=dict)
    ss_type: int = 3
    ci_prob: float = CI_PROB
    ci_kind: str = CI_KIND
    prior_scale: float = 1.0
    blocker: str | None = None

    def outcome_options(self, family: str, outcome: str) -> fx.FactorialOptions:
        """The factorial options of one outcome (validates the shared settings as the factorial does)."""
        return fx.FactorialOptions(family=family, rope=self.rope.get(outcome), ss_type=self.ss_type,
                                   ci_prob=self.ci_prob, ci_kind=self.ci_kind, prior_scale=self.prior_scale,
                                   blocker=self.blocker)


# ------------------------------------------------------------------------------ reading


_PLACEHOLDER = {"--censored": "COLUMN", "--event": "COLUMN", "--family": "FAMILY", "--label": "TEXT",
                "--unit": "TEXT"}


def _keyed(option: str, given, outcomes: Sequence[str], *, file: str | None = None) -> dict[str, object]:
    """A per-outcome option (mapping OUTCOME -> value) checked against the outcomes."""
    if given is None:
        return {}
    if not isinstance(given, Mapping):
        raise DesignError(f"{option} must map an outcome to its value, got {given!r}. Fix: e.g. "
                          f"{option}={{{outcomes[-1]!r}: ...}} (CLI: {option.replace('_', '-')} OUTCOME=VALUE).")
    out = {}
    for key, value in given.items():
        if str(key) not in outcomes:
            raise DataError(
                f"{option} names {str(key)!r}, which is not an outcome", file=file, column=str(key),
                fix=f"write {option} OUTCOME={_PLACEHOLDER.get(option, 'VALUE')} with OUTCOME one of the outcomes "
                    f"({', '.join(outcomes)}), or add --outcome {key}")
        out[str(key)] = value
    return out


def _check_outcomes(outcomes) -> tuple[str, ...]:
    if isinstance(outcomes, str) or not isinstance(outcomes, Sequence) or len(outcomes) < 2:
        raise DesignError(
            f"the battery needs at least two outcome columns, got {outcomes!r}. Fix: give --outcome once per test, "
            "e.g. --outcome fst_immobility_s --outcome nsft_latency_s (one outcome: use 'bayes-igf1 factorial')."
        )
    names = tuple(str(o) for o in outcomes)
    seen = set()
    for name in names:
        if name in seen:
            raise DataError(f"the outcome {name!r} is given twice", column=name,
                            fix="give each --outcome column once")
        seen.add(name)
    return names


def read_battery(
    source: str | Path | pd.DataFrame,
    *,
    outcomes: Sequence[str],
    factors: Sequence[str],
    animal: str | None = None,
    cohort: str | None = None,
    censored: Mapping[str, str] | None = None,
    event: Mapping[str, str] | None = None,
    censor_at: Mapping[str, float] | None = None,
    positive: Sequence[str] = (),
    sheet: str | int | None = None,
    where: Sequence[str] = (),
    reference: Mapping[str, str] | None = None,
    decimal: str | None = None,
    thousands: str | None = None,
    test: str | None = None,
    value: str | None = None,
):
    """Read and validate a battery sheet: one row per animal, one column per outcome (test).

    With ``test`` and ``value`` the sheet is long instead: one row per animal and test, the
    test named in column ``test`` (e.g. FST, FUST, NSFT) and its value in column ``value``;
    see `read_battery_long` (``outcomes`` then names levels of the test column, or is None
    for all of them).

    Each outcome is read with `bayes_igf1.io.read_factorial` (same factors, animal, cohort,
    filters and reference levels; its own censoring), so every check of a factorial sheet
    applies to each test; the row ledger is merged (a row is used when at least one of its
    tests is), and an animal missing a test is kept (its other tests count).

    Parameters
    ----------
    source : str, Path or pandas.DataFrame
    outcomes : sequence of str
        The outcome columns, at least two, each once.
    factors : sequence of str
        The k >= 2 factor columns.
    animal, cohort : str, optional
        Animal ID and cohort columns (without an animal column each row is one animal).
    censored, event : mapping of outcome to column, optional
        The right-censoring flag column of an outcome (1 = censored), or its event column (1 =
        the event happened).
    censor_at : mapping of outcome to float, optional
        An outcome's cut-off: values at it are right-censored.
    positive : sequence of str
        Outcomes that cannot be negative (lognormal ones).
    sheet, where, reference, decimal, thousands
        As `bayes_igf1.io.read_factorial`.

    Returns
    -------
    sheet : bayes_igf1.io.Sheet
        ``design="battery"``; its frame is long, one row per animal and test with a value:
        ``row, animal, <factors...>, (cohort,) outcome, value, censored``.
    per_outcome : dict of str to bayes_igf1.io.Sheet
        Each outcome's own sheet (its rows, as read).
    """
    from bayes_igf1.io import EXCLUDED, USED, RowLedger, Sheet, read_factorial

    if test is not None or value is not None:
        return read_battery_long(
            source, test=test, value=value, outcomes=outcomes, factors=factors, animal=animal, cohort=cohort,
            censored=censored, event=event, censor_at=censor_at, positive=positive, sheet=sheet, where=where,
            reference=reference, decimal=decimal, thousands=thousands)
    outcomes = _check_outcomes(outcomes)
    file = None if isinstance(source, pd.DataFrame) else Path(str(source)).name
    censored = _keyed("--censored", censored, outcomes, file=file)
    event = _keyed("--event", event, outcomes, file=file)
    censor_at = _keyed("--censor-at", censor_at, outcomes, file=file)
    factors = [factors] if isinstance(factors, str) else [str(f) for f in factors]
    roles = {"--animal": animal, "--cohort": cohort, **{f"--factor {f}": f for f in factors}}
    for name in outcomes:
        for role, col in roles.items():
            if col is not None and str(col) == name:
                raise DataError(f"the outcome {name!r} is also given as {role}", file=file, column=name,
                                fix="give each column one role")
    for option, flags in (("--censored", censored), ("--event", event)):
        for key, col in flags.items():
            if str(col) in outcomes:
                raise DataError(f"{option} {key}={col}: the flag column {col!r} is itself an outcome", file=file,
                                column=str(col), fix=f"name the 0/1 column that flags the censored values of {key!r}")
            if key in censored and key in event:
                raise DataError(f"both --censored and --event are given for the outcome {key!r}", file=file,
                                column=key, fix="give one of them per outcome")
    sheets: dict[str, Sheet] = {}
    ref = dict(reference) if reference else None
    for name in outcomes:
        try:
            sheets[name] = read_factorial(
                source, outcome=name, factors=factors, animal=animal, cohort=cohort, censored=censored.get(name),
                event=event.get(name), censor_at=censor_at.get(name), sheet=sheet, where=where,
                positive=name in positive, reference=ref, decimal=decimal, thousands=thousands)
        except DataError as err:
            raise DataError(f"outcome {name!r}: {err.problem}", file=err.file, row=err.row, column=err.column,
                            fix=err.fix) from None
        if ref is None:  # the first outcome's reference levels for all (the same rule, the same rows)
            ref = sheets[name].reference_levels()
    first = sheets[outcomes[0]]
    for name, sh in sheets.items():
        for f in factors:
            if list(sh.frame[f].cat.categories) != list(first.frame[f].cat.categories):
                raise DataError(
                    f"the levels of {f!r} differ between the rows of {outcomes[0]!r} and of {name!r} "
                    f"({list(first.frame[f].cat.categories)} vs {list(sh.frame[f].cat.categories)})",
                    file=first.source, column=f, fix="every level needs animals with each test; check the values "
                                                     "or drop the level with --where")
        dup = sh.frame[ANIMAL].duplicated(keep=False)
        if dup.any():
            a = str(sh.frame.loc[dup, ANIMAL].iloc[0])
            rows = sh.frame.loc[sh.frame[ANIMAL] == a, ROW].tolist()
            raise DataError(
                f"animal {a!r} has {len(rows)} rows (rows {', '.join(map(str, rows))}); the battery takes one row "
                "per animal with one column per test", file=first.source, row=int(rows[1]),
                column=first.columns.get("animal"),
                fix="put each animal's tests in one row (or correct the animal IDs); for several rows per animal "
                    "of one outcome use 'bayes-igf1 factorial --animal'")
    # The merged ledger: a row is used when one of its tests is; else excluded with its reasons.
    entries = first.ledger.entries[["row", "status", "reason", "column"]].copy()
    statuses = np.column_stack([sheets[o].ledger.entries["status"].to_numpy() for o in outcomes])
    reasons = np.column_stack([sheets[o].ledger.entries["reason"].to_numpy() for o in outcomes])
    used_any = (statuses == USED).any(axis=1)
    merged = []
    for i in range(len(entries)):
        if used_any[i]:
            merged.append(("used", ""))
            continue
        why = list(dict.fromkeys(reasons[i]))
        if why == ["missing outcome"]:
            merged.append(("excluded", f"missing every outcome ({', '.join(outcomes)})"))
        else:
            merged.append(("excluded", "; ".join(w for w in why if w)))
    entries["status"] = [USED if s == "used" else EXCLUDED for s, _ in merged]
    entries["reason"] = [r for _, r in merged]
    entries["column"] = ""
    ledger = RowLedger(source=first.ledger.source, entries=entries.reset_index(drop=True),
                       header_row=first.ledger.header_row, n_lines=first.ledger.n_lines)
    frames = []
    for name in outcomes:
        f = sheets[name].frame.copy()
        f[OUTCOME] = name
        frames.append(f)
    long = pd.concat(frames, ignore_index=True)
    long[OUTCOME] = pd.Categorical(long[OUTCOME], categories=list(outcomes))
    long = long.sort_values([ROW, OUTCOME], kind="stable").reset_index(drop=True)
    front = [ROW, ANIMAL, *factors] + ([COHORT] if COHORT in long.columns else [])
    long = long[front + [OUTCOME, VALUE, CENSORED]]
    for f in factors:
        long[f] = pd.Categorical(long[f].astype(str), categories=list(first.frame[f].cat.categories))
    columns = {k: v for k, v in first.columns.items() if k != "value"}
    for name in outcomes:
        columns[f"outcome:{name}"] = sheets[name].columns["value"]
        for role in ("censored", "event"):
            if role in sheets[name].columns:
                columns[f"{role}:{name}"] = sheets[name].columns[role]
    notes = tuple(dict.fromkeys(n for o in outcomes for n in sheets[o].notes))
    rules = dict(first.reference_rule)
    sheet_obj = Sheet(frame=long, ledger=ledger, columns=columns, source=first.source, design=DESIGN,
                      factors=tuple(factors), animal_ids_made_up=first.animal_ids_made_up, reference_rule=rules,
                      notes=notes, censoring_side="right")
    return sheet_obj, sheets


def _long_table(source, *, test: str | None, value: str | None, animal: str | None, sheet, where: Sequence[str],
                decimal, thousands):
    """The long sheet's table, the indices of its test and value columns, and each row's test text (by row)."""
    from bayes_igf1 import io

    if test is None or value is None:
        missing, given = ("--value", "--test") if value is None else ("--test", "--value")
        raise DesignError(f"{given} is given without {missing}: the long format (one row per animal and test) needs "
                          "both. Fix: e.g. --test test --value value, or leave both out for one column per test "
                          "(--outcome COLUMN once per test).")
    table = io._load(source, sheet=sheet, fmt=io._number_format(decimal, thousands))
    it = io._resolve(table, str(test), option="--test")
    iv = io._resolve(table, str(value), option="--value")
    if it == iv:
        raise DataError(f"--test and --value both name the column {table.label(it)!r}", file=table.source,
                        column=table.label(it), fix="--test names the column of the test names (FST, NSFT, ...), "
                                                    "--value the column of the measurements")
    if animal is None:
        raise DataError("the long format (--test, --value) needs the animal column: without it no row can be matched "
                        "to the other tests of its animal", file=table.source, column=table.label(it),
                        fix="name the animal ID column with --animal")
    where = [where] if isinstance(where, str) else list(where)
    for column in io.parse_where(where):
        if io._resolve(table, column, option="--where") == it:
            raise DataError(f"--where {column}=... filters the test column {table.label(it)!r}", file=table.source,
                            column=table.label(it),
                            fix="choose the tests with --outcome LEVEL (once per test) instead of --where")
    reasons = io._screen(table, id_cols=[], label_cols=[it], used_cols=[it, iv], where=where)
    texts = {}
    for rownum, cells, reason in zip(table.rows, table.cells, reasons, strict=True):
        texts[rownum] = (io._text(cells[it]) if it < len(cells) else "", reason is None)
    return table, it, iv, texts


def long_outcomes(source, *, test: str | None, value: str | None, outcomes: Sequence[str] | None = None,
                  animal: str | None = None, sheet: str | int | None = None, where: Sequence[str] = (),
                  decimal: str | None = None, thousands: str | None = None) -> tuple[str, ...]:
    """The tests (outcomes) of a long battery sheet: ``outcomes`` checked against the levels of the test
    column, or all its levels in order of first appearance when ``outcomes`` is None or empty.

    Raises
    ------
    DataError
        A test column with one level; an ``outcomes`` level not in the test column; a level given twice.
    DesignError
        ``test`` without ``value`` or the reverse.
    """
    table, it, _iv, texts = _long_table(source, test=test, value=value, animal=animal, sheet=sheet, where=where,
                                        decimal=decimal, thousands=thousands)
    present = list(dict.fromkeys(t for t, ok in texts.values() if ok and t))
    col = table.label(it)
    if len(present) < 2:
        raise DataError(
            f"the test column {col!r} has {'one level' if present else 'no values'}"
            + (f" ({present[0]!r})" if present else "") + ": a battery needs at least two tests",
            file=table.source, column=col,
            fix="check that --test names the column of the test names (e.g. FST, FUST, NSFT) and --where; for one "
                "test use 'bayes-igf1 factorial'")
    if outcomes is None or (not isinstance(outcomes, str) and len(outcomes) == 0):
        return tuple(present)
    outcomes = [outcomes] if isinstance(outcomes, str) else [str(o) for o in outcomes]
    for name in outcomes:
        if name not in present:
            near = [p for p in present if p.casefold() == name.casefold()]
            raise DataError(
                f"--outcome {name!r} is not a level of the test column {col!r}", file=table.source, column=col,
                fix=(f"write --outcome {near[0]}" if near else "choose among its levels: " + ", ".join(present))
                + " (or leave out --outcome to use every test)")
    return _check_outcomes(outcomes)


def read_battery_long(
    source: str | Path | pd.DataFrame,
    *,
    test: str | None,
    value: str | None,
    outcomes: Sequence[str] | None,
    factors: Sequence[str],
    animal: str | None,
    cohort: str | None = None,
    censored: str | Mapping[str, str] | None = None,
    event: str | Mapping[str, str] | None = None,
    censor_at: Mapping[str, float] | None = None,
    positive: Sequence[str] = (),
    sheet: str | int | None = None,
    where: Sequence[str] = (),
    reference: Mapping[str, str] | None = None,
    decimal: str | None = None,
    thousands: str | None = None,
):
    """Read a long battery sheet (one row per animal and test) into the battery's sheet (as `read_battery`).

    Each test level is read with `bayes_igf1.io.read_factorial` on the rows of that test (so every
    check of a factorial sheet applies to each test), then the tests are joined by animal. Every
    physical row is in the ledger: used when its test is analysed and its value read, else excluded
    with the reason of its own test (a missing value, a ``--where`` filter, a blank row, ...) or
    because its test is not among ``outcomes``.

    Parameters
    ----------
    test, value : str
        The column naming each row's test and the column of its value.
    outcomes : sequence of str or None
        The test levels to analyse, in this order; None or empty: every level, in order of first
        appearance.
    censored, event : str or mapping test -> column, optional
        One right-censoring flag (or event) column applying to each row's own test, or one per test.
    censor_at, positive
        Keyed by test level.
    factors, animal, cohort, sheet, where, reference, decimal, thousands
        As `read_battery`; ``animal`` is required.

    Raises
    ------
    DataError
        A test column with one level, an ``outcomes`` level that is not in it, an animal with two rows
        for one test (both rows named), an animal whose factor levels or cohort differ between its
        tests, ``--where`` on the test column, and anything `read_factorial` refuses for one test.
    """
    from bayes_igf1.io import EXCLUDED, USED, RowLedger, Sheet, read_factorial

    outcomes = long_outcomes(source, test=test, value=value, outcomes=outcomes, animal=animal, sheet=sheet,
                             where=where, decimal=decimal, thousands=thousands)
    table, it, iv, texts = _long_table(source, test=test, value=value, animal=animal, sheet=sheet, where=where,
                                       decimal=decimal, thousands=thousands)
    file = table.source
    tcol, vcol = table.label(it), table.label(iv)
    factors = [factors] if isinstance(factors, str) else [str(f) for f in factors]
    for role, col in {"--animal": animal, "--cohort": cohort, **{f"--factor {f}": f for f in factors}}.items():
        if col is not None and str(col).strip().casefold() == str(test).strip().casefold():
            raise DataError(f"the test column {tcol!r} is also given as {role}", file=file, column=tcol,
                            fix="give each column one role")

    def per_test(option: str, given) -> dict[str, str]:
        if given is None:
            return {}
        if isinstance(given, str):
            return {o: given for o in outcomes}
        return {k: str(v) for k, v in _keyed(option, given, outcomes, file=file).items()}

    censored = per_test("--censored", censored)
    event = per_test("--event", event)
    censor_at = _keyed("--censor-at", censor_at, outcomes, file=file)
    for option, flags in (("--censored", censored), ("--event", event)):
        for key, col in flags.items():
            if col.strip().casefold() in (str(test).strip().casefold(), str(value).strip().casefold()):
                raise DataError(f"{option} {col!r} is the {'test' if col == test else 'value'} column", file=file,
                                column=col, fix="name the 0/1 column that flags the censored values")
            if key in censored and key in event:
                raise DataError(f"both --censored and --event are given for the test {key!r}", file=file,
                                column=key, fix="give one of them")
    where = [where] if isinstance(where, str) else list(where)
    sheets: dict[str, Sheet] = {}
    ref = dict(reference) if reference else None
    for name in outcomes:
        try:
            sheets[name] = read_factorial(
                source, outcome=str(value), factors=factors, animal=animal, cohort=cohort,
                censored=censored.get(name), event=event.get(name), censor_at=censor_at.get(name), sheet=sheet,
                where=[*where, f"{test}={name}"], positive=name in positive, reference=ref, decimal=decimal,
                thousands=thousands)
        except DataError as err:
            raise DataError(f"test {name!r}: {err.problem}", file=err.file, row=err.row, column=err.column,
                            fix=err.fix) from None
        if ref is None:
            ref = sheets[name].reference_levels()
    first = sheets[outcomes[0]]
    # One row per animal and test; the same factor levels and cohort on every test of an animal.
    seen: dict[str, tuple[str, int, tuple[str, ...], str | None]] = {}
    for name in outcomes:
        fr = sheets[name].frame
        own: dict[str, int] = {}
        for r in range(len(fr)):
            a, row = str(fr[ANIMAL].iloc[r]), int(fr[ROW].iloc[r])
            if a in own:
                raise DataError(
                    f"animal {a!r} has two rows for the test {name!r} (rows {own[a]} and {row})", file=file, row=row,
                    column=tcol, fix="keep one row per animal and test: correct the animal ID or the test name, or "
                                     "drop the repeated row (average repeats before the analysis)")
            own[a] = row
            levels = tuple(str(fr[f].iloc[r]) for f in factors)
            coh = str(fr[COHORT].iloc[r]) if COHORT in fr.columns else None
            if a not in seen:
                seen[a] = (name, row, levels, coh)
                continue
            name0, row0, levels0, coh0 = seen[a]
            for f, l0, l1 in zip(factors, levels0, levels, strict=True):
                if l0 != l1:
                    raise DataError(
                        f"animal {a!r} has {f}={l0} on {name0!r} (row {row0}) but {f}={l1} on {name!r} (row {row})",
                        file=file, row=row, column=first.columns.get(f, f),
                        fix="an animal keeps its group on every test: correct the factor value or the animal ID")
            if coh0 != coh:
                raise DataError(
                    f"animal {a!r} is in cohort {coh0} on {name0!r} (row {row0}) but {coh} on {name!r} (row {row})",
                    file=file, row=row, column=first.columns.get("cohort"),
                    fix="an animal belongs to one cohort: correct the cohort or the animal ID")
    for name, sh in sheets.items():
        for f in factors:
            if list(sh.frame[f].cat.categories) != list(first.frame[f].cat.categories):
                raise DataError(
                    f"the levels of {f!r} differ between the rows of the tests {outcomes[0]!r} and {name!r} "
                    f"({list(first.frame[f].cat.categories)} vs {list(sh.frame[f].cat.categories)})",
                    file=file, column=first.columns.get(f, f),
                    fix="every level needs animals with each test; check the values or drop the level with --where")
    # The ledger: each physical row once, with the status and reason of its own test.
    own_filter = {f"filtered out by --where {test}={name}" for name in outcomes}
    entries = first.ledger.entries[["row", "status", "reason", "column"]].copy().reset_index(drop=True)
    statuses = np.column_stack([sheets[o].ledger.entries["status"].to_numpy() for o in outcomes])
    reasons = np.column_stack([sheets[o].ledger.entries["reason"].to_numpy() for o in outcomes])
    status_out, reason_out = [], []
    for i, row in enumerate(entries["row"].to_numpy()):
        if (statuses[i] == USED).any():
            status_out.append(USED)
            reason_out.append("")
            continue
        why = [w for w in dict.fromkeys(reasons[i]) if w and w not in own_filter]
        if not why:
            txt = texts.get(int(row), ("", False))[0]
            why = [f"missing test ({tcol})" if not txt else
                   f"test {txt!r} not analysed (the tests are {', '.join(outcomes)}; add --outcome {txt})"]
        elif why == ["missing outcome"]:
            why = [f"missing value ({vcol})"]
        status_out.append(EXCLUDED)
        reason_out.append("; ".join(why))
    entries["status"] = status_out
    entries["reason"] = reason_out
    entries["column"] = ""
    ledger = RowLedger(source=first.ledger.source, entries=entries, header_row=first.ledger.header_row,
                       n_lines=first.ledger.n_lines)
    frames = []
    for name in outcomes:
        f = sheets[name].frame.copy()
        f[OUTCOME] = name
        frames.append(f)
    long = pd.concat(frames, ignore_index=True)
    long[OUTCOME] = pd.Categorical(long[OUTCOME], categories=list(outcomes))
    # animals in order of their first row, each animal's tests in the order of the outcomes (as the wide sheet)
    long["_first"] = long.groupby(ANIMAL, sort=False)[ROW].transform("min")
    long = long.sort_values(["_first", OUTCOME], kind="stable").drop(columns="_first").reset_index(drop=True)
    front = [ROW, ANIMAL, *factors] + ([COHORT] if COHORT in long.columns else [])
    long = long[front + [OUTCOME, VALUE, CENSORED]]
    for f in factors:
        long[f] = pd.Categorical(long[f].astype(str), categories=list(first.frame[f].cat.categories))
    columns = {k: v for k, v in first.columns.items() if k not in ("value", "censored", "event")}
    columns["test"] = table.header[it]
    columns["value"] = table.header[iv]
    for name in outcomes:
        columns[f"outcome:{name}"] = f"{table.header[iv]} ({table.header[it]}={name})"
        for role in ("censored", "event"):
            if role in sheets[name].columns:
                columns[f"{role}:{name}"] = sheets[name].columns[role]
    notes = tuple(dict.fromkeys(n for o in outcomes for n in sheets[o].notes))
    sheet_obj = Sheet(frame=long, ledger=ledger, columns=columns, source=first.source, design=DESIGN,
                      factors=tuple(factors), animal_ids_made_up=False, reference_rule=dict(first.reference_rule),
                      notes=notes, censoring_side="right")
    return sheet_obj, sheets


# ------------------------------------------------------------------------------ data


@dataclass(frozen=True)
class BatteryData:
    """Arrays of a validated battery sheet, ready for the model.

    ``value[j, k]`` is animal j's value of outcome k as read (NaN when missing),
    ``status[j, k]`` `MISSING`, `OBSERVED` or `CENSORED_CODE` (the value is then the
    censoring time). ``per_outcome[k]`` is outcome k's `bayes_igf1.designs.factorial.FactorialData`
    (its animals only), which gives its contrasts and its frequentist twin.
    """

    frame: pd.DataFrame = field(repr=False)
    outcomes: tuple[str, ...]
    labels: tuple[str, ...]
    families: tuple[str, ...]
    factors: tuple[str, ...]
    levels: tuple[tuple[str, ...], ...]
    animals: tuple[str, ...]
    cohorts: tuple[str, ...]
    animal_cells: np.ndarray = field(repr=False)
    animal_cohort: np.ndarray = field(repr=False)
    value: np.ndarray = field(repr=False)
    status: np.ndarray = field(repr=False)
    per_outcome: tuple[fx.FactorialData, ...] = field(repr=False)
    blocker: str | None = None

    @property
    def n_outcomes(self) -> int:
        return len(self.outcomes)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(lv) for lv in self.levels)

    @property
    def n_cells(self) -> int:
        return int(np.prod(self.shape))

    @property
    def log(self) -> np.ndarray:
        """True for the outcomes modelled on the log scale (lognormal)."""
        return np.array([f == "lognormal" for f in self.families])

    @property
    def student(self) -> bool:
        return "student" in self.families

    @property
    def y(self) -> np.ndarray:
        """Values on the model scale (log for lognormal; NaN where missing)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.log[None, :], np.log(self.value), self.value)

    @property
    def cohort_kind(self) -> str:
        if not self.cohorts:
            return "none"
        return "fixed" if len(self.cohorts) < fx.COHORT_RANDOM_MIN else "random"

    def patterns(self) -> list[tuple[np.ndarray, tuple[int, ...], int | None]]:
        """The animals grouped by which outcomes they have: (animal indices, observed outcomes, censored outcome)."""
        groups: dict[tuple, list[int]] = {}
        for j, row in enumerate(self.status):
            obs = tuple(int(k) for k in np.flatnonzero(row == OBSERVED))
            cens = np.flatnonzero(row == CENSORED_CODE)
            groups.setdefault((obs, int(cens[0]) if len(cens) else None), []).append(j)
        return [(np.asarray(js, dtype=np.int64), obs, cens) for (obs, cens), js in groups.items()]

    def cells(self) -> list[tuple[str, ...]]:
        return list(itertools.product(*self.levels))


def prepare(sheet, per_outcome_sheets: Mapping, *, families: Mapping[str, str], options: BatteryOptions,
            labels: Mapping[str, str] | None = None) -> BatteryData:
    """Turn a validated battery sheet (`read_battery`) into model arrays (and each outcome's factorial data).

    Raises
    ------
    DesignError
        A family that is not one of `FAMILIES`; an animal censored on two outcomes; fewer
        animals than outcomes + cells (+ cohort block levels - 1); anything the factorial's
        ``prepare`` refuses for one outcome (named).
    """
    frame = sheet.frame
    outcomes = tuple(str(o) for o in frame[OUTCOME].cat.categories)
    factors = tuple(sheet.factors)
    fams = []
    for name in outcomes:
        fam = str(families.get(name, "normal"))
        if fam not in FAMILIES:
            raise DesignError(f"the family of {name!r} must be one of {FAMILIES}, not {fam!r}. Fix: --family "
                              f"{name}=lognormal (latencies), =student (outliers) or leave it out (normal).")
        fams.append(fam)
    if options.blocker is not None and options.blocker not in factors:
        raise DesignError(
            f"the blocker {options.blocker!r} is not one of the factors {list(factors)}. Fix: name the factor that is "
            f"the antagonist or antibody, e.g. --blocker {factors[-1]}, or leave --blocker out (no % blockade).")
    per = []
    for name, fam in zip(outcomes, fams, strict=True):
        sh = per_outcome_sheets[name]
        try:
            per.append(fx.prepare(sh.frame, factors, options.outcome_options(fam, name), outcome=name,
                                  animal_ids_made_up=sh.animal_ids_made_up))
        except DesignError as err:
            raise DesignError(f"outcome {name!r}: {err}") from None
    animals = tuple(pd.unique(frame[ANIMAL].astype(str)))
    index = {a: i for i, a in enumerate(animals)}
    levels = tuple(tuple(str(c) for c in frame[f].cat.categories) for f in factors)
    firsts = frame.drop_duplicates(ANIMAL).set_index(frame.drop_duplicates(ANIMAL)[ANIMAL].astype(str))
    firsts = firsts.loc[list(animals)]
    cells = np.column_stack([
        np.array([{lv: i for i, lv in enumerate(levels[f])}[str(v)] for v in firsts[name]], dtype=np.int64)
        for f, name in enumerate(factors)])
    cohorts: tuple[str, ...] = ()
    animal_cohort = np.zeros(len(animals), dtype=np.int64)
    if COHORT in frame.columns:
        cohorts = tuple(sorted(pd.unique(frame[COHORT].astype(str)), key=fx._natural))
        animal_cohort = np.array([cohorts.index(str(c)) for c in firsts[COHORT]], dtype=np.int64)
        if len(cohorts) < 2:
            cohorts, animal_cohort = (), np.zeros(len(animals), dtype=np.int64)
    value = np.full((len(animals), len(outcomes)), np.nan)
    status = np.zeros((len(animals), len(outcomes)), dtype=np.int64)
    for r in frame[[ANIMAL, OUTCOME, VALUE, CENSORED]].itertuples(index=False):
        j, k = index[str(r[0])], outcomes.index(str(r[1]))
        value[j, k] = float(r[2])
        status[j, k] = CENSORED_CODE if bool(r[3]) else OBSERVED
    twice = np.flatnonzero((status == CENSORED_CODE).sum(axis=1) > 1)
    if len(twice):
        j = twice[0]
        which = [outcomes[k] for k in np.flatnonzero(status[j] == CENSORED_CODE)]
        raise DesignError(
            f"animal {animals[j]!r} is censored on {len(which)} outcomes ({', '.join(which)}); the joint model takes "
            "at most one censored test per animal (two would need a bivariate normal probability). Fix: analyse "
            "those outcomes in separate battery runs, or check the censoring flags.")
    labels = {str(k): str(v) for k, v in (labels or {}).items()}
    data = BatteryData(
        frame=frame.reset_index(drop=True), outcomes=outcomes, labels=tuple(labels.get(o, o) for o in outcomes),
        families=tuple(fams), factors=factors, levels=levels, animals=animals, cohorts=cohorts,
        animal_cells=cells, animal_cohort=animal_cohort, value=value, status=status, per_outcome=tuple(per),
        blocker=options.blocker)
    block = len(cohorts) - 1 if data.cohort_kind == "fixed" else 0
    needed = data.n_cells + data.n_outcomes + block
    if len(animals) < needed:
        raise DesignError(
            f"{len(animals)} animals are fewer than the {data.n_outcomes} outcomes + {data.n_cells} cells"
            + (f" + {block} cohort block levels" if block else "") + f" = {needed} the joint model and the MANOVA "
            "need (the residual covariance of the outcomes must be estimable). Fix: add animals, analyse fewer "
            "outcomes (--outcome), or leave out --cohort.")
    if data.cohort_kind == "fixed":
        why = _block_confounding(data)
        if why:
            raise DesignError(f"the cohort is confounded with the factors: {why}. Fix: leave out --cohort, or "
                              "analyse the cohort as a factor.")
    return data


def _animal_frame(data: BatteryData, rows: np.ndarray | None = None) -> pd.DataFrame:
    """One row per animal: animal, factors (Categoricals), cohort (when in the model)."""
    rows = np.arange(len(data.animals)) if rows is None else rows
    out = pd.DataFrame({ANIMAL: np.asarray(data.animals, dtype=object)[rows]})
    for i, (f, lv) in enumerate(zip(data.factors, data.levels, strict=True)):
        out[f] = pd.Categorical(np.asarray(lv, dtype=object)[data.animal_cells[rows, i]], categories=list(lv))
    if data.cohorts:
        out[COHORT] = np.asarray(data.cohorts, dtype=object)[data.animal_cohort[rows]]
    return out


def _block_confounding(data: BatteryData) -> str:
    from bayes_igf1.frequentist import between

    return between.block_confounding(_animal_frame(data), factors=data.factors, block=COHORT)


# ------------------------------------------------------------------------------ priors


def default_priors(data: BatteryData, options: BatteryOptions) -> dict[str, dict]:
    """Weakly informative priors, scaled per outcome as the factorial scales them.

    For outcome k with mean m_k and SD s_k on the model scale (`bayes_igf1.designs.factorial.location_scale`:
    a censored-normal fit when it has censored values): ``cell_mean[k] ~ Normal(m_k, 2.5 s_k)``,
    ``sigma[k] ~ HalfNormal(s_k)``, ``cohort_effect[k]`` or ``sigma_cohort[k]`` on ``s_k``; the
    correlation matrix ``LKJCorr(eta = 2)``; ``nu ~ Gamma(2, 0.1)`` with a Student-t outcome.
    ``prior_scale`` multiplies every scale.
    """
    k = float(options.prior_scale)
    priors: dict[str, dict] = {}
    for i, name in enumerate(data.outcomes):
        keep = data.status[:, i] != MISSING
        m, s = fx.location_scale(data.y[keep, i], data.status[keep, i] == CENSORED_CODE)
        priors[f"cell_mean[{name}]"] = {"dist": "Normal", "mu": round(m, 6), "sigma": round(2.5 * s * k, 6)}
        priors[f"sigma[{name}]"] = {"dist": "HalfNormal", "sigma": round(s * k, 6)}
        if data.cohort_kind == "fixed":
            priors[f"cohort_effect[{name}]"] = {"dist": "ZeroSumNormal", "sigma": round(s * k, 6)}
        elif data.cohort_kind == "random":
            priors[f"sigma_cohort[{name}]"] = {"dist": "HalfNormal", "sigma": round(s * k, 6)}
    priors["correlation"] = {"dist": "LKJCorr", "eta": LKJ_ETA}
    if data.student:
        priors["nu"] = {"dist": "Gamma", "alpha": 2.0, "beta": round(0.1 / k, 6)}
    return priors


def resolve_priors(data: BatteryData, options: BatteryOptions, user: Mapping[str, Mapping] | None = None) -> dict:
    """Priors merged user > data-scaled > default (a user entry updates the default's parameters).

    Only the parameters can change (the distributions are fixed by the model's form), except
    for ``nu``, whose distribution may be replaced.
    """
    priors = {k: dict(v) for k, v in default_priors(data, options).items()}
    for name, spec in (user or {}).items():
        if name not in priors:
            raise DesignError(f"there is no prior called {name!r} in this model. Fix: use one of {', '.join(priors)}.")
        if not isinstance(spec, Mapping):
            raise DesignError(f"prior {name!r} must be a dict of parameters like {{'sigma': 10}}.")
        spec = dict(spec)
        if "dist" in spec and spec["dist"] != priors[name]["dist"] and name != "nu":
            raise DesignError(f"the prior of {name!r} must stay {priors[name]['dist']} (the model's form). Fix: give "
                              f"its parameters only, e.g. {{{', '.join(repr(p) for p in priors[name] if p != 'dist')}: ...}}.")
        if name == "nu" and "dist" in spec:
            priors[name] = spec
        else:
            unknown = set(spec) - set(priors[name])
            if unknown:
                raise DesignError(f"prior {name!r} has no parameter {sorted(unknown)[0]!r}. Fix: use "
                                  f"{', '.join(p for p in priors[name] if p != 'dist')}.")
            priors[name].update(spec)
    return priors


# ------------------------------------------------------------------------------ model


def _chol(cov, idx: Sequence[int]) -> list[list]:
    """Lower Cholesky factor of ``cov[idx][:, idx]`` (a few outcomes), unrolled into scalar tensors."""
    m = len(idx)
    L = [[None] * m for _ in range(m)]
    for j in range(m):
        s = cov[idx[j], idx[j]]
        for q in range(j):
            s = s - L[j][q] ** 2
        L[j][j] = pt.sqrt(s)
        for i in range(j + 1, m):
            s = cov[idx[i], idx[j]]
            for q in range(j):
                s = s - L[i][q] * L[j][q]
            L[i][j] = s / L[j][j]
    return L


def animal_log_likelihood(y, mu, chol, patterns, *, n_animals: int, nu=None):
    """Each animal's exact log-likelihood on the model scale (a PyTensor vector, one per animal).

    Parameters
    ----------
    y, mu : tensor (animals, outcomes)
        Values on the model scale (a censored value at its censoring time; missing ones are
        never read) and their means.
    chol : tensor (outcomes, outcomes)
        Lower Cholesky factor of the residual covariance.
    patterns : list of (animal indices, observed outcomes, censored outcome or None)
        As `BatteryData.patterns`.
    n_animals : int
    nu : tensor, optional
        Degrees of freedom of a multivariate Student-t residual (None: multivariate normal).

    Notes
    -----
    For the outcomes S = O + (c) of a pattern, the Cholesky factor L_S of Sigma[S, S] (the
    leading block of ``chol`` when S is 0, 1, ..., else computed) gives the observed part's
    density through the whitened residuals z = L_O^-1 (y_O - mu_O) and the censored outcome's
    conditional distribution given y_O: mean mu_c + L_S[c, O] z, SD L_S[c, c].
    """
    cov = pt.dot(chol, chol.T)
    ll = pt.zeros(n_animals)
    for idx, obs, cens in patterns:
        S = list(obs) + ([cens] if cens is not None else [])
        m, p = len(S), len(obs)
        if S == list(range(m)):
            L = [[chol[i, q] if q <= i else None for q in range(m)] for i in range(m)]
        else:
            L = _chol(cov, S)
        r = [y[idx, s] - mu[idx, s] for s in S]
        z = []
        for i in range(p):
            acc = r[i]
            for q in range(i):
                acc = acc - L[i][q] * z[q]
            z.append(acc / L[i][i])
        d2 = sum((zi**2 for zi in z), pt.zeros(len(idx)))
        logdet = sum((pt.log(L[i][i]) for i in range(p)), pt.as_tensor(0.0))
        if nu is None:
            lp = -0.5 * d2 - logdet - 0.5 * p * math.log(2 * math.pi)
        else:
            lp = (pt.gammaln((nu + p) / 2.0) - pt.gammaln(nu / 2.0) - 0.5 * p * pt.log(nu * math.pi) - logdet
                  - (nu + p) / 2.0 * pt.log1p(d2 / nu))
        if cens is not None:
            mc = mu[idx, cens]
            for q in range(p):
                mc = mc + L[p][q] * z[q]
            x = (mc - y[idx, cens]) / L[p][p]  # P(Y_c > cut | y_O) = F((mc - cut) / sd)
            if nu is None:
                lp = lp + pm.logcdf(pm.Normal.dist(0.0, 1.0), x)
            else:
                x = x / pt.sqrt((nu + d2) / (nu + p))
                lp = lp + pm.logcdf(pm.StudentT.dist(nu=nu + p, mu=0.0, sigma=1.0), x)
        ll = pt.set_subtensor(ll[idx], lp)
    return ll


def build_model(data: BatteryData, priors: dict[str, dict]) -> pm.Model:
    """The PyMC model: dims ``outcome`` (+ ``outcome_b``), one per factor, ``animal`` (+ ``cohort``).

    The values as read are ``pm.Data("y_data")`` (animals x outcomes; missing cells hold 1.0
    and are never read), so a compiled model takes new data of the same pattern.
    """
    K = data.n_outcomes
    coords: dict[str, list] = {OUTCOME: list(data.outcomes), f"{OUTCOME}_b": list(data.outcomes)}
    coords.update({f: list(lv) for f, lv in zip(data.factors, data.levels, strict=True)})
    coords[ANIMAL] = list(data.animals)
    if data.cohort_kind != "none":
        coords[COHORT] = list(data.cohorts)
    expand = (slice(None),) + (None,) * len(data.factors)
    mu0 = np.array([priors[f"cell_mean[{o}]"]["mu"] for o in data.outcomes], dtype=float)[expand]
    s0 = np.array([priors[f"cell_mean[{o}]"]["sigma"] for o in data.outcomes], dtype=float)[expand]
    sd_scale = np.array([priors[f"sigma[{o}]"]["sigma"] for o in data.outcomes], dtype=float)
    log = data.log
    filled = np.where(data.status == MISSING, 1.0, data.value)
    with pm.Model(coords=coords) as model:
        y_data = pm.Data("y_data", filled, dims=(ANIMAL, OUTCOME))
        cell_mean = pm.Normal("cell_mean", mu=mu0, sigma=s0, dims=(OUTCOME, *data.factors))
        mu = cell_mean[(slice(None), *data.animal_cells.T)].T  # (animal, outcome)
        if data.cohort_kind == "fixed":
            scale = np.array([priors[f"cohort_effect[{o}]"]["sigma"] for o in data.outcomes], dtype=float)
            z = pm.ZeroSumNormal("cohort_z", sigma=1.0, dims=(OUTCOME, COHORT))
            cohort = pm.Deterministic("cohort_effect", scale[:, None] * z, dims=(OUTCOME, COHORT))
            mu = mu + cohort[:, data.animal_cohort].T
        elif data.cohort_kind == "random":
            sc = np.array([priors[f"sigma_cohort[{o}]"]["sigma"] for o in data.outcomes], dtype=float)
            sigma_cohort = pm.HalfNormal("sigma_cohort", sigma=sc, dims=OUTCOME)
            z = pm.Normal("cohort_z", 0.0, 1.0, dims=(OUTCOME, COHORT))
            cohort = pm.Deterministic("cohort_effect", sigma_cohort[:, None] * z, dims=(OUTCOME, COHORT))
            mu = mu + cohort[:, data.animal_cohort].T
        chol, _, _ = pm.LKJCholeskyCov("chol_cov", n=K, eta=float(priors["correlation"]["eta"]),
                                       sd_dist=pm.HalfNormal.dist(sigma=sd_scale, shape=K), compute_corr=True,
                                       store_in_trace=False)
        cov = pt.dot(chol, chol.T)
        sd = pt.sqrt(pt.diag(cov))
        pm.Deterministic("sigma", sd, dims=OUTCOME)
        pm.Deterministic("correlation", cov / pt.outer(sd, sd), dims=(OUTCOME, f"{OUTCOME}_b"))
        nu = None
        if data.student:
            spec = priors["nu"]
            nu = getattr(pm, spec["dist"])("nu", **{k: v for k, v in spec.items() if k != "dist"})
        y = pt.where(log[None, :], pt.log(y_data), y_data)
        ll = animal_log_likelihood(y, mu, chol, data.patterns(), n_animals=len(data.animals), nu=nu)
        jac = (data.status == OBSERVED) & log[None, :]
        if jac.any():  # the density of the values as measured: the Jacobian of the log
            ll = ll - pt.sum(pt.where(jac, pt.log(y_data), 0.0), axis=1)
        pm.Deterministic("log_lik_animal", ll, dims=ANIMAL)
        pm.Potential("y_joint", pt.sum(ll))
    return model


def free_parameters(data: BatteryData) -> list[str]:
    """The free parameters the diagnostics gate checks."""
    names = ["cell_mean", "chol_cov"]
    if data.cohort_kind == "fixed":
        names.append("cohort_z")
    elif data.cohort_kind == "random":
        names += ["sigma_cohort", "cohort_z"]
    if data.student:
        names.append("nu")
    return names


# ------------------------------------------------------------------------------ estimands


def _slug(text: str) -> str:
    return re.sub(r"\W+", "_", str(text)).strip("_") or "outcome"


def outcome_posterior(posterior: xr.Dataset, data: BatteryData, k: int) -> xr.Dataset:
    """Outcome k's posterior as the factorial reads it (``cell_mean``, ``sigma`` (+ ``sigma_cohort``))."""
    name = data.outcomes[k]
    out = {"cell_mean": posterior["cell_mean"].sel({OUTCOME: name}, drop=True),
           "sigma": posterior["sigma"].sel({OUTCOME: name}, drop=True)}
    if "sigma_cohort" in posterior:
        out["sigma_cohort"] = posterior["sigma_cohort"].sel({OUTCOME: name}, drop=True)
    return xr.Dataset(out)


def correlation_pairs(posterior: xr.Dataset, data: BatteryData) -> xr.DataArray:
    """The residual correlations of every pair of outcomes, dim ``pair`` ("a|b")."""
    corr = posterior["correlation"]
    pairs = list(itertools.combinations(range(data.n_outcomes), 2))
    vals = np.stack([corr.isel({OUTCOME: a, f"{OUTCOME}_b": b}).values for a, b in pairs], axis=-1)
    return xr.DataArray(vals, dims=("chain", "draw", "pair"),
                        coords={"chain": corr["chain"].values, "draw": corr["draw"].values,
                                "pair": [f"{data.outcomes[a]}|{data.outcomes[b]}" for a, b in pairs]})


def mahalanobis_interaction(posterior: xr.Dataset, data: BatteryData) -> xr.DataArray:
    """sqrt(d' Sigma^-1 d) of the vector d of the outcomes' interaction contrasts (model scale), per cell.

    d holds, for one interaction cell, each outcome's highest-order interaction contrast;
    Sigma is the residual covariance. Uncorrelated outcomes: the root of the sum of the squared
    standardised interactions (Cohen's d of each); correlation discounts the shared part.
    """
    inter = [fx.contrast_draws(outcome_posterior(posterior, data, k)["cell_mean"],
                               dataclasses.replace(data.per_outcome[k], blocker=None))["interaction"]
             for k in range(data.n_outcomes)]
    stacked = xr.concat(inter, dim=OUTCOME).transpose("chain", "draw", *data.factors, OUTCOME)
    sd = posterior["sigma"].transpose("chain", "draw", OUTCOME).values
    corr = posterior["correlation"].transpose("chain", "draw", OUTCOME, f"{OUTCOME}_b").values
    cov = corr * sd[..., :, None] * sd[..., None, :]
    d = stacked.values  # chain, draw, cells..., outcome
    shape = d.shape
    flat = d.reshape(shape[0], shape[1], -1, shape[-1])
    sol = np.linalg.solve(cov[:, :, None, :, :], flat[..., None])[..., 0]
    dist = np.sqrt(np.einsum("cdik,cdik->cdi", flat, sol)).reshape(shape[:-1])
    return xr.DataArray(dist, dims=stacked.dims[:-1], coords={k: stacked[k] for k in stacked.dims[:-1]})


def blockade_draws(posterior: xr.Dataset, data: BatteryData) -> dict[str, xr.DataArray]:
    """Each outcome's % blockade draws (`bayes_igf1.designs.factorial.contrast_draws`), flattened
    to one ``cell`` dim over every blockade key and cell; empty without a blocker."""
    out = {}
    if data.blocker is None:
        return out
    for k, name in enumerate(data.outcomes):
        con = fx.contrast_draws(outcome_posterior(posterior, data, k)["cell_mean"], data.per_outcome[k])
        parts = []
        for key in con:
            if key.startswith("blockade_pct"):
                flat = fx._flat(con[key], "b", data.per_outcome[k])
                parts.append(flat.rename(b_cell="cell").assign_coords(cell=[f"{key}:{c}" for c in flat["b_cell"].values]))
        out[name] = xr.concat(parts, dim="cell")
    return out


def min_blockade(posterior: xr.Dataset, data: BatteryData) -> xr.DataArray | None:
    """The smallest % blockade over every outcome (and blockade cell), per draw; None without a blocker.

    P(min > 0) is the probability that the interaction is in the blocking direction on every
    outcome (a % blockade above 0 means the blocker shrinks the effect: the interaction
    opposes the effect under the blocker's reference level); P(min > 50) that more than
    half of the effect is blocked on every outcome.
    """
    draws = blockade_draws(posterior, data)
    if not draws:
        return None
    return xr.concat(list(draws.values()), dim="cell").min("cell")


def gated_estimands(posterior: xr.Dataset, data: BatteryData) -> dict[str, xr.DataArray]:
    """Every reported quantity for the gate: each outcome's factorial contrasts, the residual SDs and
    correlations, the multivariate interaction length and the smallest % blockade."""
    out = {}
    for k in range(data.n_outcomes):
        for key, da in fx.gated_estimands(outcome_posterior(posterior, data, k), data.per_outcome[k]).items():
            dim = [d for d in da.dims if d not in ("chain", "draw")][0]
            out[f"o{k}_{key}"] = da.rename({dim: f"o{k}_{dim}"})
    out["sigma"] = posterior["sigma"]
    if data.n_outcomes > 1:
        out["correlation"] = correlation_pairs(posterior, data)
    maha = mahalanobis_interaction(posterior, data)
    out["mahalanobis_interaction"] = fx._flat(maha, "m", data.per_outcome[0]) if maha.ndim > 2 else maha
    low = min_blockade(posterior, data)
    if low is not None:
        out["min_blockade_pct"] = low
    return out


def _prefixed(table: pd.DataFrame, data: BatteryData, k: int) -> pd.DataFrame:
    """An outcome's factorial estimates with its label first and ``<outcome>/`` before its group."""
    name, label = data.outcomes[k], data.labels[k]
    t = table.copy()
    t["label"] = [f"{label}: {x}" for x in t["label"]]
    t["group"] = [f"{name}/{g}" if isinstance(g, str) and g else name for g in t["group"]]
    return t


def _probability_row(name: str, label: str, group: str, cell: str, p: float, options: BatteryOptions) -> dict:
    row = {c: np.nan for c in ESTIMATE_COLUMNS}
    row.update(name=name, label=label, group=group, reference=None, cell=cell, scale="posterior probability",
               mean=p, prob_above=p, prob_direction=p, ci_prob=options.ci_prob, ci_kind=options.ci_kind,
               headline=True, freq_method=None, freq_survival=None)
    return row


def joint_table(posterior: xr.Dataset, data: BatteryData, options: BatteryOptions) -> pd.DataFrame:
    """The joint estimands (`ESTIMATE_COLUMNS` rows): residual SDs and correlations, the multivariate
    interaction, the smallest % blockade and the joint probabilities."""
    kw = {"ci_prob": options.ci_prob, "ci_kind": options.ci_kind}
    frames = []

    def add(da, name, scale, null, metas, headline=False):
        tab = describe(da, null=null, **kw)
        tab = tab.assign(name=name, scale=scale, headline=headline, label=[m["label"] for m in metas],
                         group=[m["group"] for m in metas], cell=[m["cell"] for m in metas], reference=None)
        frames.append(tab)

    sig = posterior["sigma"]
    add(sig, "residual_sd", "outcome units (log scale for lognormal)", 0.0,
        [{"label": f"{data.labels[data.outcomes.index(str(o))]}: residual SD between animals"
                   + (" (log scale)" if data.log[data.outcomes.index(str(o))] else ""),
          "group": str(o), "cell": str(o)} for o in sig[OUTCOME].values])
    pairs = correlation_pairs(posterior, data)
    lab = dict(zip(data.outcomes, data.labels, strict=True))
    add(pairs, "residual_correlation", "correlation (model scale)", 0.0,
        [{"label": f"correlation of {lab[p.split('|')[0]]} and {lab[p.split('|')[1]]} (animal level, model scale)",
          "group": "residual correlation", "cell": p} for p in pairs["pair"].values], headline=True)
    maha = mahalanobis_interaction(posterior, data)
    cells = list(itertools.product(*(lv[1:] for lv in data.levels)))
    flat = fx._flat(maha, "m", data.per_outcome[0]) if maha.ndim > 2 else maha.expand_dims(m_cell=[fx.cell_key(*cells[0])], axis=-1)
    refs = fx.cell_key(*(lv[0] for lv in data.levels))
    add(flat, "mahalanobis_interaction", "residual-SD units (Mahalanobis)", 0.0,
        [{"label": "standardised multivariate interaction: length of the outcomes' interaction vector "
                   f"({' × '.join(data.factors)} at {c.replace('|', ', ')}) in residual-SD units (its Mahalanobis "
                   "length, √(d′Σ⁻¹d))",
          "group": ":".join(data.factors), "cell": c} for c in flat["m_cell"].values], headline=True)
    table = pd.concat(frames, ignore_index=True)
    table.loc[table["name"] == "mahalanobis_interaction", "reference"] = refs
    low = min_blockade(posterior, data)
    rows = []
    if low is not None:
        treated = [f for f in data.factors if f != data.blocker]
        group = f"{':'.join(treated)}:{data.blocker}"
        tab = describe(low, null=50.0, **kw).assign(
            name="min_blockade_pct", scale="percent (P relative to 50 %)", headline=False, group=group, cell="all",
            reference=None, label=f"smallest % blockade by {data.blocker} over the {data.n_outcomes} outcomes")
        table = pd.concat([table, tab], ignore_index=True)
        every = f"every one of the {data.n_outcomes} outcomes ({', '.join(data.labels)})"
        p_dir = float((low > 0).mean())
        p_50 = float((low > 50).mean())
        rows.append(_probability_row("joint_probability", f"P(the {' × '.join(data.factors)} interaction is in the "
                                     f"blocking direction on {every})", group, "blocking_direction", p_dir, options))
        rows.append(_probability_row("joint_probability", f"P(% blockade by {data.blocker} > 50% on {every})", group,
                                     "blockade_above_50", p_50, options))
    for col in ESTIMATE_COLUMNS:
        if col not in table.columns:
            table[col] = None if col in ("freq_method", "freq_survival") else np.nan
    table = table[ESTIMATE_COLUMNS]
    if rows:
        table = pd.concat([table, pd.DataFrame(rows, columns=ESTIMATE_COLUMNS)], ignore_index=True)
    for col in ("freq_method", "freq_survival", "reference", "label", "group", "cell", "scale", "name", "ci_kind"):
        table[col] = table[col].astype(object)
    table["headline"] = table["headline"].astype(bool)
    return table


def stored_estimands(posterior: xr.Dataset, data: BatteryData) -> xr.Dataset:
    """Draws for ``posterior.nc``'s ``estimands`` group: each outcome's factorial estimands
    (variables ``<slug>__<key>``, attributes ``name``, ``group`` = ``"<outcome>/<factors>"``,
    ``outcome``), the residual correlations and the smallest % blockade."""
    out = {}
    for k, name in enumerate(data.outcomes):
        ds = fx.stored_estimands(outcome_posterior(posterior, data, k), data.per_outcome[k])
        for key in ds.data_vars:
            var = f"{_slug(name)}__{key}"
            da = ds[key].rename({f"{key}_cell": f"{var}_cell"})
            out[var] = da.assign_attrs(name=da.attrs["name"], group=f"{name}/{da.attrs['group']}", outcome=name)
    pairs = correlation_pairs(posterior, data)
    out["residual_correlation"] = pairs.rename(pair="residual_correlation_cell").assign_attrs(
        name="residual_correlation", group="residual correlation")
    low = min_blockade(posterior, data)
    if low is not None:
        out["min_blockade_pct"] = low.assign_attrs(name="min_blockade_pct", group="all outcomes")
    return xr.Dataset(out)


def bayes_factors(posterior: xr.Dataset, data: BatteryData, priors: dict) -> pd.DataFrame:
    """Savage-Dickey BF10 of each outcome's highest-order interaction contrast(s) against 0.

    Each outcome's cell means have the factorial's iid Normal prior, so its interaction's prior
    is Normal(0, sqrt(2^k) s_k) (`bayes_igf1.designs.factorial.interaction_bayes_factors`);
    ``cell`` is ``"<outcome>: <cell>"``, ``contrast`` starts with the outcome's label.
    """
    tables = []
    for k, name in enumerate(data.outcomes):
        tab = fx.interaction_bayes_factors(outcome_posterior(posterior, data, k)["cell_mean"], data.per_outcome[k],
                                           float(priors[f"cell_mean[{name}]"]["sigma"]))
        tab.insert(0, "outcome", name)
        tab["cell"] = [f"{name}: {c}" for c in tab["cell"]]
        tab["contrast"] = [f"{data.labels[k]}: {c}" for c in tab["contrast"]]
        tables.append(tab)
    return pd.concat(tables, ignore_index=True)


# ------------------------------------------------------------------------------ MANOVA


@dataclass(frozen=True)
class Manova:
    """A MANOVA table: one row per term and test (``effect, test, statistic, F, df_num, df_den, p``)."""

    table: pd.DataFrame
    n_analysed: int
    error_df: float
    ss_type: int
    note: str


def _manova_stats(eig: np.ndarray, q: float, df_res: float) -> dict[str, tuple[float, float, float, float]]:
    """(statistic, approximate F, df1, df2) of each test from the eigenvalues of E^-1 H (car / R's summary.manova)."""
    eig = np.asarray(eig, dtype=float)
    p = len(eig)
    s = min(p, q)
    n = 0.5 * (df_res - p - 1)
    m = 0.5 * (abs(p - q) - 1)
    out = {}
    test = float(np.sum(eig / (1 + eig)))
    t1, t2 = 2 * m + s + 1, 2 * n + s + 1
    out["Pillai"] = (test, (t2 / t1 * test) / (s - test), s * t1, s * t2)
    test = float(np.prod(1 / (1 + eig)))
    a = df_res - 0.5 * (p - q + 1)
    b = (p * q - 2) / 4
    c = p**2 + q**2 - 5
    c = math.sqrt(((p * q) ** 2 - 4) / c) if c > 0 else 1.0
    out["Wilks"] = (test, ((test ** (-1 / c) - 1) * (a * c - 2 * b)) / p / q, p * q, a * c - 2 * b)
    test = float(np.sum(eig))
    t1, t2 = 2 * m + s + 1, 2 * (s * n + 1)
    out["Hotelling-Lawley"] = (test, (t2 * test) / s / s / t1, s * t1, t2)
    test = float(np.max(eig))
    t1 = max(p, q)
    t2 = df_res - t1 + q
    out["Roy"] = (test, (t2 * test) / t1, t1, t2)
    return out


def manova(data: pd.DataFrame, *, outcomes: Sequence[str], factors: Sequence[str], block: str | None = None,
           ss_type: int = 3) -> Manova:
    """MANOVA of ``outcomes`` on the full factorial of ``factors`` (+ an additive block), as ``car::Manova``.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per animal, no missing value in ``outcomes``.
    outcomes : sequence of str
        The response columns (model scale: log values for lognormal outcomes).
    factors : sequence of str
        Factor columns (Categoricals keep their level order).
    block : str, optional
        Additive block (cohort): ``cbind(...) ~ block + A * B``.
    ss_type : {3, 2}
        Type III (sum-to-zero contrasts, each term's coefficients tested in the full model:
        ``car::Manova(lm(..., contrasts = contr.sum), type = "III")``) or type II (each term
        adjusted for the terms that do not contain it).

    Returns
    -------
    Manova
        Rows in R's term order (block first, as in the model formula), each with the four
        statistics (Pillai, Wilks, Hotelling-Lawley, Roy), the approximate F, its df and p;
        ``partial_eta_sq`` is the multivariate eta squared of the test (V / s for Pillai,
        1 - Lambda^(1/s) for Wilks, HL / (HL + s) for Hotelling-Lawley, theta / (1 + theta) for
        Roy; heplots::etasq).
    """
    import patsy

    if ss_type not in (2, 3):
        raise DesignError(f"ss_type must be 2 or 3, not {ss_type!r}. Fix: ss_type=3.")
    frame = data.copy()
    keys = {}
    for i, f in enumerate([*([block] if block else []), *factors]):
        key = f"F{i}"
        col = frame[f]
        cats = list(col.cat.categories) if isinstance(col.dtype, pd.CategoricalDtype) else sorted(pd.unique(col.astype(str)))
        frame[key] = pd.Categorical(col.astype(str), categories=[str(c) for c in cats])
        keys[f] = key
    crossed = " * ".join(f"C({keys[f]}, Sum)" for f in factors)
    rhs = (f"C({keys[block]}, Sum) + " if block else "") + crossed
    X = patsy.dmatrix(rhs, frame, return_type="dataframe")
    Y = frame[list(outcomes)].to_numpy(dtype=float)
    if not np.all(np.isfinite(Y)):
        raise DesignError("the MANOVA needs every outcome of every animal analysed (complete cases). Fix: pass the "
                          "animals with every test.")
    info = X.design_info
    Xv = X.to_numpy()
    n, rank = Xv.shape[0], np.linalg.matrix_rank(Xv)
    if rank < Xv.shape[1]:
        raise DesignError("the MANOVA design is not of full rank (an empty cell, or the block confounded with a "
                          "factor). Fix: check the cells, or leave out the block.")
    df_res = n - rank
    p = Y.shape[1]
    if df_res < p:
        raise DesignError(f"{n} animals leave {df_res} error df for {p} outcomes; the MANOVA needs at least as many. "
                          "Fix: add animals or analyse fewer outcomes.")
    names = {}
    for term in info.terms:
        if not term.factors:
            continue
        parts = []
        for fac in term.factors:
            code = fac.code  # "C(F1, Sum)"
            key = code[2:code.index(",")]
            parts.append(next(f for f, k in keys.items() if k == key))
        names[term] = ":".join(parts)

    def resid_sscp(cols: list[int]) -> np.ndarray:
        x = Xv[:, cols]
        beta, *_ = np.linalg.lstsq(x, Y, rcond=None)
        e = Y - x @ beta
        return e.T @ e

    all_cols = list(range(Xv.shape[1]))
    E = resid_sscp(all_cols)
    xtx_inv = np.linalg.inv(Xv.T @ Xv)
    B = xtx_inv @ Xv.T @ Y
    rows = []
    for term, name in names.items():
        sl = info.term_slices[term]
        cols = list(range(sl.start, sl.stop))
        q = len(cols)
        if ss_type == 3:
            Lb = B[cols]
            H = Lb.T @ np.linalg.solve(xtx_inv[np.ix_(cols, cols)], Lb)
        else:
            mine = set(term.factors)
            higher = [t for t in names if t is not term and mine < set(t.factors)]
            drop = set(cols) | {c for t in higher for c in range(info.term_slices[t].start, info.term_slices[t].stop)}
            keep_without = [c for c in all_cols if c not in drop]
            keep_with = sorted(set(keep_without) | set(cols))
            H = resid_sscp(keep_without) - resid_sscp(keep_with)
        eig = np.sort(np.real(linalg.eigvals(H, E)))[::-1]
        eig = np.clip(eig, 0.0, None)
        s = min(p, q)
        for test, (stat, F, df1, df2) in _manova_stats(eig, q, df_res).items():
            eta = {"Pillai": stat / s, "Wilks": 1 - stat ** (1 / s), "Hotelling-Lawley": stat / (stat + s),
                   "Roy": stat / (1 + stat)}[test]
            rows.append({"effect": name, "test": test, "statistic": stat, "F": F, "df_num": df1, "df_den": df2,
                         "p": float(stats.f.sf(F, df1, df2)), "partial_eta_sq": eta, "df_term": q})
    order = {n: i for i, n in enumerate(names.values())}
    table = pd.DataFrame(rows).sort_values(["effect"], key=lambda s: s.map(order), kind="stable").reset_index(drop=True)
    note = (("Type III MANOVA with sum-to-zero contrasts" if ss_type == 3 else "Type II MANOVA")
            + f" of {', '.join(outcomes)} (car::Manova)" + (f"; {block} as an additive fixed block" if block else "")
            + f"; {n} animals, {df_res} error df.")
    return Manova(table=table, n_analysed=n, error_df=float(df_res), ss_type=ss_type, note=note)


def holm(p: Sequence[float]) -> np.ndarray:
    """Holm-adjusted p-values (R ``p.adjust(method = "holm")``)."""
    p = np.asarray(p, dtype=float)
    order = np.argsort(p, kind="stable")
    m = len(p)
    adj = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out = np.empty(m)
    out[order] = np.minimum(adj, 1.0)
    return out


# ------------------------------------------------------------------------------ twin


def _manova_frame(data: BatteryData) -> tuple[pd.DataFrame, list[str], list[str]]:
    """The complete-case frame of the MANOVA (model scale, censored values at the cut-off), its
    response column names ("fst", "log(nsft)") and the animals it leaves out."""
    complete = (data.status != MISSING).all(axis=1)
    rows = np.flatnonzero(complete)
    frame = _animal_frame(data, rows)
    names = []
    for k, (name, log) in enumerate(zip(data.outcomes, data.log, strict=True)):
        col = f"log({name})" if log else name
        frame[col] = data.y[rows, k]
        names.append(col)
    dropped = [data.animals[j] for j in np.flatnonzero(~complete)]
    return frame, names, dropped


def frequentist_twin(data: BatteryData, options: BatteryOptions) -> dict:
    """The lab's analyses: MANOVA (cohort-adjusted like the model when it has a fixed cohort, and plain),
    each outcome's factorial twin, the univariate ANOVAs Holm-adjusted across outcomes per effect."""
    twins = [fx.frequentist_twin(d, options.outcome_options(fam, name))
             for d, fam, name in zip(data.per_outcome, data.families, data.outcomes, strict=True)]
    frame, responses, dropped = _manova_frame(data)
    block = None
    if data.cohort_kind != "none" and frame[COHORT].nunique() > 1:
        from bayes_igf1.frequentist import between

        if not between.block_confounding(frame, factors=data.factors, block=COHORT):
            block = COHORT
    out: dict = {"notes": [], "twins": twins}
    main = manova(frame, outcomes=responses, factors=data.factors, block=block, ss_type=options.ss_type)
    out["manova"] = main
    if block is not None:
        out["manova_plain"] = manova(frame, outcomes=responses, factors=data.factors, block=None,
                                     ss_type=options.ss_type)
    uni = []
    for k, (name, twin) in enumerate(zip(data.outcomes, twins, strict=True)):
        for r in twin["anova"].to_dict("records"):
            uni.append({"outcome": name, "dv": f"log({name})" if data.log[k] else name, "effect": r["effect"],
                        "df_num": r["df_num"], "df_den": r["df_den"], "F": r["F"], "p": r["p"],
                        "partial_eta_sq": r["partial_eta_sq"]})
    uni = pd.DataFrame(uni)
    uni["p_holm"] = np.nan
    for _, idx in uni.groupby("effect", sort=False).groups.items():
        uni.loc[idx, "p_holm"] = holm(uni.loc[idx, "p"].to_numpy())
    out["univariate"] = uni
    out["dropped"] = dropped
    out["block"] = block
    return out


# ------------------------------------------------------------------------------ checks


def _replicates(posterior: xr.Dataset, data: BatteryData, rng: np.random.Generator,
                max_draws: int = 1000) -> np.ndarray:
    """Posterior predictive replicates on the model scale, shape (draws, animals, outcomes)."""
    cm = posterior["cell_mean"].stack(sample=("chain", "draw")).transpose("sample", OUTCOME, *data.factors).values
    S = cm.shape[0]
    pick = np.sort(rng.choice(S, size=min(S, max_draws), replace=False))
    mu = cm[pick][(slice(None), slice(None), *data.animal_cells.T)]  # (s, outcome, animal)
    if "cohort_effect" in posterior:
        ce = posterior["cohort_effect"].stack(sample=("chain", "draw")).transpose("sample", OUTCOME, COHORT).values
        mu = mu + ce[pick][:, :, data.animal_cohort]
    mu = np.transpose(mu, (0, 2, 1))
    sd = posterior["sigma"].stack(sample=("chain", "draw")).transpose("sample", OUTCOME).values[pick]
    corr = posterior["correlation"].stack(sample=("chain", "draw")).transpose("sample", OUTCOME, f"{OUTCOME}_b").values[pick]
    L = np.linalg.cholesky(corr * sd[:, :, None] * sd[:, None, :])
    z = rng.standard_normal(mu.shape)
    e = np.einsum("skl,sjl->sjk", L, z)
    if "nu" in posterior:
        nu = posterior["nu"].stack(sample=("chain", "draw")).values[pick]
        w = rng.gamma(nu[:, None] / 2, 2 / nu[:, None], size=(len(pick), mu.shape[1]))
        e = e / np.sqrt(w)[..., None]
    return mu + e


def _pooled_within_correlation(y: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """Correlation of two columns after centring each within its cell (last axis: the 2 columns)."""
    yc = y.copy()
    for c in np.unique(cells):
        m = cells == c
        yc[..., m, :] = yc[..., m, :] - yc[..., m, :].mean(axis=-2, keepdims=True)
    num = (yc[..., 0] * yc[..., 1]).sum(-1)
    den = np.sqrt((yc[..., 0] ** 2).sum(-1) * (yc[..., 1] ** 2).sum(-1))
    return num / den


def run_checks(tree: xr.DataTree, data: BatteryData, *, seed: int, sensitivity: bool = True) -> dict:
    """Posterior predictive p-values per outcome and cell, of every pairwise within-cell correlation,
    PSIS-LOO by animal (the joint likelihood of each animal's tests) and power-scaling sensitivity.

    A censored outcome's replicates are censored at each animal's own censoring time, as the
    data were (share censored, Kaplan-Meier median, restricted mean); the correlation statistic
    takes every value at most at its censoring time, in the data and the replicates alike.
    """
    from bayes_igf1 import checks

    posterior = tree["posterior"].to_dataset()
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(3)[2])
    rep = _replicates(posterior, data, rng)
    cell_of = np.ravel_multi_index(tuple(data.animal_cells.T), data.shape)
    labels = np.array(["|".join(c) for c in data.cells()], dtype=object)[cell_of]
    y = data.y
    rows = []
    cut_model = np.full(y.shape, np.inf)
    for k, label in enumerate(data.labels):
        keep = data.status[:, k] != MISSING
        cens = data.status[keep, k] == CENSORED_CODE
        groups = np.array([f"{label}: {g}" for g in labels[keep]], dtype=object)
        if cens.any():
            value = data.value[keep, k]
            cut = checks.censoring_times(value, cens)
            raw = np.exp(rep[:, keep, k]) if data.log[k] else rep[:, keep, k]
            tab = checks.censored_ppc(raw, value, cens, cut, groups)
            cut_model[keep, k] = np.log(cut) if data.log[k] else cut
        else:
            tab = checks.predictive_stats(rep[:, keep, k], y[keep, k], groups)
        rows.append(tab)
    for a, b in itertools.combinations(range(data.n_outcomes), 2):
        both = (data.status[:, a] != MISSING) & (data.status[:, b] != MISSING)
        if both.sum() < data.n_cells + 3:
            continue
        obs = np.minimum(y[both][:, [a, b]], cut_model[both][:, [a, b]])
        sim = np.minimum(rep[:, both][:, :, [a, b]], cut_model[both][:, [a, b]][None])
        t_obs = float(_pooled_within_correlation(obs, cell_of[both]))
        t_rep = _pooled_within_correlation(sim, cell_of[both])
        rows.append(pd.DataFrame([{"group": f"{data.labels[a]} × {data.labels[b]}",
                                   "statistic": "within-cell correlation", "observed": t_obs,
                                   "predicted_median": float(np.median(t_rep)),
                                   "p": float(np.mean(t_rep > t_obs) + 0.5 * np.mean(t_rep == t_obs))}]))
    ppc = pd.concat(rows, ignore_index=True)
    out: dict = {"ppc": {"statistics": ppc.to_dict("records"),
                         "scale": "model (log for lognormal); a censored outcome censored as observed",
                         "n_extreme": int(((ppc["p"] < 0.025) | (ppc["p"] > 0.975)).sum())}}
    if "log_likelihood" in tree.children and "y_joint" in tree["log_likelihood"].data_vars:
        # the coordinate of y_joint is each animal's first row in the tidy frame (see _finish_tree)
        out["loo"] = checks.loo_check(tree, data.frame, var_names=("y_joint",))
        out["loo"]["unit"] = "animal (all its tests jointly)"
    if sensitivity and "log_prior" in tree.children:
        est = {k: v for k, v in gated_estimands(posterior, data).items()
               if re.match(r"o\d+_interaction$|o\d+_blockade_pct$|correlation$|min_blockade_pct$", k)}
        sens = checks.prior_sensitivity(tree, est)
        out["sensitivity"] = {"table": sens.to_dict("records"),
                              "flagged": sens[sens["diagnosis"] != "ok"].to_dict("records"),
                              "method": "power-scaling (Kallioinen et al. 2024), arviz-stats psense, threshold 0.05"}
    return out


# ------------------------------------------------------------------------------ text


def _prob_value(p: float) -> str:
    """The value part of a posterior probability after its "P(...)": "= .956", "> .999" (APA style)."""
    from bayes_igf1.report.format import fmt_p_value

    value = fmt_p_value(p)
    return value if value[:1] in "<>" else f"= {value}"


def _bounded_interval(low: float, high: float) -> str:
    """An interval of a correlation without leading zeros: "−.55 to .03", ".12–.40"."""
    from bayes_igf1.report.format import EN_DASH, MINUS, fmt_bounded

    lo, hi = fmt_bounded(low), fmt_bounded(high)
    return f"{lo} to {hi}" if lo.startswith(MINUS) or hi.startswith(MINUS) else f"{lo}{EN_DASH}{hi}"


def model_text(data: BatteryData, priors: dict) -> str:
    """The model in words and formulas, each prior stated (methods section)."""
    K = data.n_outcomes
    words_of = {"normal": "normal", "lognormal": "log-normal; log scale", "student": "Student-t"}
    fam = ", ".join(f"{lab} ({words_of.get(f, f)})" for lab, f in zip(data.labels, data.families, strict=True))
    words = (f"Bayesian joint model of {K} outcomes of the same {len(data.animals)} animals ({fam}) with one mean per "
             f"{' × '.join(data.factors)} cell and outcome, and a multivariate "
             + ("Student-t" if data.student else "normal") + " animal-level residual across the outcomes "
             "(model scale) whose correlation matrix has an LKJ prior.")
    res = "MvStudentT(nu, mu[j, :], Sigma)" if data.student else "MvNormal(mu[j, :], Sigma)"
    terms = [f"cell_mean[k, {', '.join(f + '[j]' for f in data.factors)}]"]
    if data.cohort_kind != "none":
        terms.append("cohort_effect[k, cohort[j]]")
    lines = [f"y[j, :] ~ {res}   (y on the model scale; the log of a lognormal outcome)",
             "mu[j, k] = " + " + ".join(terms),
             "Sigma = diag(sigma) R diag(sigma),   Cholesky factor L with an LKJ prior on R",
             f"R ~ LKJCorr(eta = {float(priors['correlation']['eta']):g})"]
    for name in data.outcomes:
        lines.append(f"{name}: cell_mean ~ {fx._prior_text(priors[f'cell_mean[{name}]'])} iid over the {data.n_cells} "
                     f"cells; sigma ~ {fx._prior_text(priors[f'sigma[{name}]'])}"
                     + (f"; cohort_effect = {priors[f'cohort_effect[{name}]']['sigma']:.4g} z, z ~ ZeroSumNormal(1)"
                        if data.cohort_kind == "fixed" else "")
                     + (f"; cohort_effect = sigma_cohort z, sigma_cohort ~ "
                        f"{fx._prior_text(priors[f'sigma_cohort[{name}]'])}, z ~ Normal(0, 1)"
                        if data.cohort_kind == "random" else ""))
    if data.student:
        lines.append(f"nu ~ {fx._prior_text(priors['nu'])}")
    if (data.status == CENSORED_CODE).any():
        lines.append("censored y[j, c]: P(y[j, c] > cut | y[j, O]) with the exact conditional distribution given the "
                     "animal's observed outcomes O: mean mu[j, c] + L_S[c, O] z, SD L_S[c, c], z = L_O^-1 (y[j, O] - "
                     "mu[j, O])")
    if (data.status == MISSING).any():
        lines.append("missing y[j, m]: marginalised (the density of the animal's observed sub-vector)")
    tail = ("Weakly informative priors scaled to each outcome's data as in the factorial model (mean and SD on the "
            "model scale, from a censored-normal fit for a censored outcome). Contrasts per outcome are those of the "
            "factorial model; the joint estimands are the residual correlations, the length of the vector of the "
            "outcomes' interaction contrasts in residual-SD units (its Mahalanobis length, √(d′Σ⁻¹d)) and the posterior "
            "probabilities that the interaction is in the blocking direction (% blockade > 0) and that the % blockade "
            "exceeds 50% on every outcome at once.")
    return words + " " + tail + "\n\n" + "\n".join(lines)


def design_notes(data: BatteryData, twin: dict) -> list[str]:
    """Sentences on the modelling choices (missing tests, censoring, cohort, MANOVA's cases)."""
    notes = []
    missing = {data.outcomes[k]: [data.animals[j] for j in np.flatnonzero(data.status[:, k] == MISSING)]
               for k in range(data.n_outcomes)}
    missing = {k: v for k, v in missing.items() if v}
    if missing:
        notes.append("Animals missing a test are kept (their other tests count; the missing test is marginalised "
                     "out of the joint model, assumed missing at random): "
                     + "; ".join(f"{k}: {', '.join(v)}" for k, v in missing.items()) + ".")
    for k, label in enumerate(data.labels):
        n = int((data.status[:, k] == CENSORED_CODE).sum())
        if n:
            notes.append(f"{label}: {n} {'value was' if n == 1 else 'values were'} right-censored; each enters "
                         "through the probability of exceeding its "
                         "censoring time given the same animal's other tests (the exact conditional distribution), "
                         "not dropped, replaced or imputed. The MANOVA and ANOVAs take them at the cut-off (ignoring "
                         "the censoring); Kaplan-Meier, log-rank and Cox treat them as censored.")
    if data.cohort_kind == "fixed":
        notes.append(f"Cohort ({len(data.cohorts)} levels) entered as a fixed block per outcome (sum-to-zero); cell "
                     "means are at the average cohort.")
    elif data.cohort_kind == "random":
        notes.append(f"Cohort ({len(data.cohorts)} levels) entered as a random effect per outcome (non-centred).")
    if data.student:
        notes.append("A Student-t outcome makes the joint residual multivariate Student-t with one nu (every outcome's "
                     "tails are heavy alike; brms does the same for residual correlations).")
    if twin["dropped"]:
        notes.append(f"The MANOVA needs every test of an animal: it leaves out {', '.join(twin['dropped'])}; the "
                     "univariate ANOVAs use every animal with that test.")
    return notes


# ------------------------------------------------------------------------------ simulation


def simulate_battery(*, cell_means: Mapping[str, Mapping[tuple[str, ...] | str, float]], residual_sd: Mapping[str, float],
                     correlation: np.ndarray, n_per_cell: int, factor_names: Sequence[str] = ("treatment", "antibody"),
                     families: Mapping[str, str] | None = None, censor_at: Mapping[str, float] | None = None,
                     cohorts: int | None = None, seed: int) -> tuple[pd.DataFrame, dict]:
    """Simulate a battery: one row per animal, one column per outcome, correlated residuals.

    ``y[j, :] = cell_mean[:, cell j] + L e``, ``e ~ Normal(0, I)``, L the Cholesky factor of
    diag(sd) R diag(sd); on the log scale for a lognormal outcome (its cell means are then
    medians). Values at or above ``censor_at[outcome]`` are recorded at it with
    ``<outcome>_censored`` = 1.

    Parameters
    ----------
    cell_means : mapping outcome -> (mapping cell -> mean)
        Each outcome's cell means, keyed by a tuple of levels (or "a|b"), references first.
    residual_sd : mapping outcome -> float
    correlation : array (outcomes, outcomes)
    n_per_cell : int
    factor_names : sequence of str
    families : mapping outcome -> family, optional
    censor_at : mapping outcome -> float, optional
    cohorts : int, optional
        Animals spread over this many cohorts in turn (no cohort effect).
    seed : int

    Returns
    -------
    frame : pandas.DataFrame
        ``mouse, <factors>, (cohort), <outcomes...>, <outcome>_censored``.
    truth : dict
        ``cell_means``, ``interaction`` (model scale, per outcome), ``correlation``, ``residual_sd``.
    """
    rng = np.random.default_rng(seed)
    outcomes = list(cell_means)
    families = dict(families or {})
    censor_at = dict(censor_at or {})
    cells = [tuple(c.split("|")) if isinstance(c, str) else tuple(c) for c in cell_means[outcomes[0]]]
    sd = np.array([residual_sd[o] for o in outcomes], dtype=float)
    L = np.linalg.cholesky(np.asarray(correlation, dtype=float) * sd[:, None] * sd[None, :])
    recs = []
    k = 0
    for cell in cells:
        means = []
        for o in outcomes:
            cm = {tuple(c.split("|")) if isinstance(c, str) else tuple(c): v for c, v in cell_means[o].items()}
            m = cm[cell]
            means.append(math.log(m) if families.get(o) == "lognormal" else m)
        for _ in range(n_per_cell):
            k += 1
            y = np.asarray(means) + L @ rng.standard_normal(len(outcomes))
            rec = {"mouse": f"S{k:03d}", **dict(zip(factor_names, cell, strict=True))}
            if cohorts:
                rec["cohort"] = str(1 + (k - 1) % cohorts)
            for i, o in enumerate(outcomes):
                v = float(np.exp(y[i])) if families.get(o) == "lognormal" else float(y[i])
                if o in censor_at:
                    rec[f"{o}_censored"] = int(v >= censor_at[o])
                    v = min(v, float(censor_at[o]))
                rec[o] = round(v, 6)
            recs.append(rec)
    frame = pd.DataFrame(recs)
    a_levels = list(dict.fromkeys(c[0] for c in cells))
    b_levels = list(dict.fromkeys(c[1] for c in cells))
    truth = {"correlation": np.asarray(correlation).tolist(), "residual_sd": dict(residual_sd), "interaction": {}}
    for o in outcomes:
        cm = {tuple(c.split("|")) if isinstance(c, str) else tuple(c): v for c, v in cell_means[o].items()}
        tr = (lambda v: math.log(v)) if families.get(o) == "lognormal" else (lambda v: v)
        a0, a1, b0, b1 = a_levels[0], a_levels[1], b_levels[0], b_levels[1]
        truth["interaction"][o] = (tr(cm[(a1, b1)]) - tr(cm[(a0, b1)])) - (tr(cm[(a1, b0)]) - tr(cm[(a0, b0)]))
    return frame, truth


# ------------------------------------------------------------------------------ calibration


def calibrate_battery(data_dir, *, n_sims: int = 200, draws: int = 1000, tune: int = 1000, chains: int = 2,
                      seed: int = DEFAULT_SEED, n_ranks: int = 99,
                      progress: Callable[[int, int, float], None] | None = None):
    """Simulation-based calibration of the joint model at the shipped battery's design.

    The shipped battery's design (38 mice, 2 x 2 cells, 2 cohorts, 3 outcomes, NSFT lognormal)
    and its frozen data-scaled priors; the truth is drawn from those priors (``cell_mean``,
    ``cohort_effect``, ``sigma``, the LKJ correlation matrix), a complete, uncensored data set is
    simulated from each draw, and one compiled model is refitted to each (``y_data`` swapped in).
    (Censoring changes which likelihood term each animal has, i.e. the compiled graph; the
    censored term is pinned exactly against scipy in the unit tests instead.) Ranks and 50 / 80 /
    95% central-interval coverage of every cell mean, residual SD and correlation, each outcome's
    interaction contrast, the multivariate interaction length and the smallest % blockade; and
    the joint probability P(every % blockade > 0) against whether it held in the truth.

    Returns
    -------
    calibration : bayes_igf1.calibrate.Calibration
    joint : pandas.DataFrame
        One row per simulation: ``predicted`` P(blocking direction on every outcome), ``true``
        (0 / 1) and the same for P(every % blockade > 50%).
    """
    import time

    from bayes_igf1.calibrate import COVERAGE_LEVELS, Calibration, _flatten, uniformity
    from bayes_igf1.compile import compile_model
    from bayes_igf1.sampling import diagnose, sample_compiled

    start = time.perf_counter()
    outcomes = ["fst_immobility_s", "fust_sniffing_s", "nsft_latency_s"]
    sheet, per = read_battery(Path(data_dir) / "behaviour_battery.csv", outcomes=outcomes,
                              factors=["treatment", "antibody"], animal="mouse", cohort="cohort",
                              censored={"nsft_latency_s": "nsft_censored"}, positive=["nsft_latency_s"])
    options = BatteryOptions(blocker="antibody")
    shipped = prepare(sheet, per, families={"nsft_latency_s": "lognormal"}, options=options)
    priors = resolve_priors(shipped, options)  # frozen: the shipped data's
    data = dataclasses.replace(shipped, status=np.full(shipped.status.shape, OBSERVED))
    model = build_model(data, priors)
    seeds = np.random.SeedSequence(seed).spawn(n_sims + 2)
    names = ["cell_mean", "sigma", "correlation"] + (["cohort_effect"] if data.cohort_kind != "none" else [])
    prior = pm.sample_prior_predictive(draws=n_sims, model=model, var_names=names,
                                       random_seed=int(seeds[0].generate_state(1)[0]))["prior"].to_dataset()
    rng = np.random.default_rng(seeds[1])

    def quantities(ds: xr.Dataset) -> xr.Dataset:
        out = {"cell_mean": ds["cell_mean"], "sigma": ds["sigma"], "correlation": correlation_pairs(ds, data)}
        for k, name in enumerate(data.outcomes):
            inter = fx.contrast_draws(outcome_posterior(ds, data, k)["cell_mean"],
                                      dataclasses.replace(data.per_outcome[k], blocker=None))["interaction"]
            out[f"interaction[{name}]"] = inter.squeeze(list(data.factors), drop=True)
        out["mahalanobis_interaction"] = mahalanobis_interaction(ds, data).squeeze(list(data.factors), drop=True)
        out["min_blockade_pct"] = min_blockade(ds, data)
        return xr.Dataset(out)

    truth_ds = quantities(prior)
    params = list(truth_ds.data_vars)
    truth = _flatten(truth_ds, params, ("chain", "draw"))
    true_low = truth_ds["min_blockade_pct"].values.ravel()
    compiled = compile_model(model)
    compile_seconds = time.perf_counter() - start
    settings = SamplerSettings(draws=draws, tune=tune, chains=chains, seed=seed)
    L_all = np.linalg.cholesky(prior["correlation"].values[0] * prior["sigma"].values[0][:, :, None]
                               * prior["sigma"].values[0][:, None, :])
    cm = prior["cell_mean"].transpose("chain", "draw", OUTCOME, *data.factors).values[0]
    rank_rows, cover_rows, joint_rows = [], [], []
    failed = 0
    for i in range(n_sims):
        mu = cm[i][(slice(None), *data.animal_cells.T)].T
        if "cohort_effect" in prior:
            mu = mu + prior["cohort_effect"].transpose("chain", "draw", OUTCOME, COHORT).values[0, i][:, data.animal_cohort].T
        y = mu + rng.standard_normal(mu.shape) @ L_all[i].T
        raw = np.where(data.log[None, :], np.exp(np.clip(y, -700, 700)), y)
        fit_i = sample_compiled(compiled.with_data(y_data=raw),
                                settings=dataclasses.replace(settings, seed=int(seeds[i + 2].generate_state(1)[0])))
        if not diagnose(fit_i, var_names=free_parameters(data), settings=settings).passed:
            failed += 1
        post_ds = quantities(fit_i["posterior"].to_dataset())
        post = _flatten(post_ds, params, ("chain", "draw"))
        for key, d in post.items():
            thinned = d[np.linspace(0, len(d) - 1, n_ranks).round().astype(int)]
            t = truth[key][i]
            rank_rows.append((i, key, int(np.sum(thinned < t))))
            for level in COVERAGE_LEVELS:
                lo, hi = np.quantile(d, [(1 - level) / 2, (1 + level) / 2])
                cover_rows.append((i, key, level, bool(lo <= t <= hi)))
        low = post_ds["min_blockade_pct"].values.ravel()
        joint_rows.append({"sim": i, "predicted": float(np.mean(low > 0)), "true": int(true_low[i] > 0),
                           "predicted_above_50": float(np.mean(low > 50)), "true_above_50": int(true_low[i] > 50)})
        if progress is not None:
            progress(i + 1, n_sims, time.perf_counter() - start)
    ranks = pd.DataFrame(rank_rows, columns=["sim", "parameter", "rank"])
    covered = pd.DataFrame(cover_rows, columns=["sim", "parameter", "level", "covered"])
    coverage = covered.groupby(["parameter", "level"], sort=False)["covered"].mean().rename("coverage").reset_index()
    cal = Calibration(design=DESIGN, ranks=ranks, uniformity=uniformity(ranks, n_ranks=n_ranks), coverage=coverage,
                      n_sims=n_sims, n_ranks=n_ranks, failed_gate=failed, seconds=time.perf_counter() - start,
                      compile_seconds=compile_seconds, settings=settings)
    return cal, pd.DataFrame(joint_rows)


def joint_calibration(joint: pd.DataFrame, *, bins: int = 5) -> dict:
    """How well the predicted joint probabilities match how often the event held in the truth.

    Mean predicted vs observed frequency (equal in expectation for a calibrated model, drawing
    the truth from the prior), the Brier score, and a reliability table over ``bins`` bins of
    the predicted probability (with a binomial two-sided p per bin).
    """
    out = {}
    for pred, true in (("predicted", "true"), ("predicted_above_50", "true_above_50")):
        p, t = joint[pred].to_numpy(), joint[true].to_numpy()
        edges = np.linspace(0, 1, bins + 1)
        which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
        table = []
        for b in range(bins):
            m = which == b
            if not m.any():
                continue
            n, k = int(m.sum()), int(t[m].sum())
            table.append({"bin": f"{edges[b]:.1f}-{edges[b + 1]:.1f}", "n": n, "mean_predicted": float(p[m].mean()),
                          "observed": k / n,
                          "p": float(stats.binomtest(k, n, float(np.clip(p[m].mean(), 1e-9, 1 - 1e-9))).pvalue)})
        out[pred] = {"mean_predicted": float(p.mean()), "observed_frequency": float(t.mean()),
                     "brier": float(np.mean((p - t) ** 2)), "reliability": table}
    return out


# ------------------------------------------------------------------------------ public entry


def analyse_battery(
    source: str | Path | pd.DataFrame,
    *,
    outcomes: Sequence[str],
    factors: Sequence[str],
    animal: str | None = None,
    cohort: str | None = None,
    families: Mapping[str, str] | None = None,
    censored: Mapping[str, str] | None = None,
    event: Mapping[str, str] | None = None,
    censor_at: Mapping[str, float] | None = None,
    labels: Mapping[str, str] | None = None,
    units: Mapping[str, str] | None = None,
    where: Sequence[str] = (),
    sheet: str | int | None = None,
    decimal: str | None = None,
    thousands: str | None = None,
    reference: Mapping[str, str] | None = None,
    rope: float | Mapping[str, float] | None = None,
    ss_type: int = 3,
    ci_prob: float = CI_PROB,
    ci_kind: str = CI_KIND,
    prior_scale: float = 1.0,
    blocker: str | None = None,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    seed: int = DEFAULT_SEED,
    progress: bool = False,
    priors: Mapping[str, Mapping] | None = None,
    retry: bool = True,
    sensitivity: bool = True,
    test: str | None = None,
    value: str | None = None,
) -> AnalysisResult:
    """Fit the joint model of several tests of the same animals, its estimands and its frequentist twin.

    Parameters
    ----------
    source : str, Path or pandas.DataFrame
        The sheet: one row per animal, one column per outcome.
    outcomes : sequence of str
        The outcome columns (at least two), e.g. ``["fst_immobility_s", "fust_sniffing_s", "nsft_latency_s"]``.
    factors : sequence of str
        The k >= 2 between-animal factor columns.
    animal, cohort : str, optional
        Animal ID and cohort columns.
    families : mapping outcome -> {"normal", "student", "lognormal"}, optional
        Default normal.
    censored, event : mapping outcome -> column, optional
        Right-censoring flag (1 = censored) or event (1 = happened) column of an outcome.
    censor_at : mapping outcome -> float, optional
        An outcome's cut-off (values at it are censored).
    labels : mapping outcome -> str, optional
        How the report names each outcome (default: its column).
    units : mapping outcome -> str, optional
        Each outcome's unit, e.g. ``{"fst_immobility_s": "s"}``: the report writes it after that outcome's
        numbers in its own units (not after ratios) and on its axes (default: none).
    where, sheet, decimal, thousands, reference
        As `bayes_igf1.designs.factorial.analyse_factorial`.
    rope : float or mapping outcome -> float, optional
        Half-width of each outcome's ROPE (its units; % change for lognormal); one number for all.
    ss_type : {3, 2}
        Sums of squares of the MANOVA and the ANOVAs.
    ci_prob, ci_kind : float, str
    prior_scale : float
        Multiplies every prior scale.
    blocker : str, optional
        The antagonist / antibody factor: % blockade and the joint blockade probabilities.
    draws, tune, chains, seed : int
        NUTS settings (nutpie).
    progress : bool
    priors : mapping, optional
        User priors (name -> parameters), e.g. ``{"correlation": {"eta": 1}}``.
    retry : bool
        Refit once when the diagnostics gate fails.
    sensitivity : bool
        Power-scaling prior sensitivity of the headline estimands.
    test, value : str, optional
        The long format (one row per animal and test): the column naming each row's test and the
        column of its value. ``outcomes`` then names levels of the test column (None or empty: every
        level, in order of first appearance); ``families``, ``labels``, ``units``, ``rope``, ``censor_at`` are
        keyed by test level, and ``censored`` / ``event`` may be one column applying to each row's
        own test. See `read_battery_long`.

    Returns
    -------
    AnalysisResult
    """
    return fx.run_pipeline(DESIGN, **locals())


def _setup(source, *, outcomes, factors, animal, cohort, families, censored, event, censor_at, labels, units, where,
           sheet, decimal, thousands, reference, rope, ss_type, ci_prob, ci_kind, prior_scale, blocker, priors, sensitivity,
           test, value):
    """Read and validate the sheet, prepare it, resolve the priors, build the model (the pipeline's first step)."""
    import time

    from bayes_igf1.pipeline import Setup

    start = time.perf_counter()
    test_col, value_col = test, value  # (``value`` is reused as a loop variable below)
    if test is not None or value is not None:
        outcomes = long_outcomes(source, test=test, value=value, outcomes=outcomes, animal=animal, sheet=sheet,
                                 where=where, decimal=decimal, thousands=thousands)
    outcomes = _check_outcomes(outcomes)
    file = None if isinstance(source, pd.DataFrame) else Path(str(source)).name
    families = {k: str(v) for k, v in _keyed("--family", families, outcomes, file=file).items()}
    labels = {k: str(v) for k, v in _keyed("--label", labels, outcomes, file=file).items()}
    units = {k: str(v) for k, v in _keyed("--unit", units, outcomes, file=file).items() if str(v)}
    for name, fam in families.items():
        if fam not in FAMILIES:
            raise DesignError(f"the family of {name!r} must be one of {FAMILIES}, not {fam!r}. Fix: --family "
                              f"{name}=lognormal (latencies), =student (outliers) or leave it out (normal).")
    if isinstance(rope, Mapping):
        ropes = {k: float(v) for k, v in _keyed("--rope", rope, outcomes, file=file).items()}
    else:
        ropes = {o: rope for o in outcomes} if rope is not None else {}
    options = BatteryOptions(rope=ropes, ss_type=ss_type, ci_prob=ci_prob, ci_kind=ci_kind, prior_scale=prior_scale,
                             blocker=blocker)
    for name in outcomes:
        options.outcome_options(families.get(name, "normal"), name)  # validates the shared options
    factors = fx._check_factors([factors] if isinstance(factors, str) else list(factors))
    for name in outcomes:
        if name in (OUTCOME,):
            raise DesignError(f"an outcome cannot be called {name!r}. Fix: rename the column.")
    if OUTCOME in factors:
        raise DesignError(f"a factor cannot be called {OUTCOME!r} (the battery's tidy frame uses it). Fix: rename it.")
    where = [where] if isinstance(where, str) else list(where)
    sheet_obj, per_sheets = read_battery(
        source, outcomes=outcomes, factors=factors, animal=animal, cohort=cohort, censored=censored, event=event,
        censor_at=censor_at, positive=[o for o in outcomes if families.get(o) == "lognormal"], sheet=sheet,
        where=where, reference=reference, decimal=decimal, thousands=thousands, test=test_col, value=value_col)
    data = prepare(sheet_obj, per_sheets, families=families, options=options, labels=labels)
    resolved = resolve_priors(data, options, priors)
    model = build_model(data, resolved)
    settings_out = {
        "source": str(source) if not isinstance(source, pd.DataFrame) else "<DataFrame>",
        "outcomes": list(data.outcomes), "families": dict(zip(data.outcomes, data.families, strict=True)),
        "labels": dict(zip(data.outcomes, data.labels, strict=True)),
        "units": {o: units[o] for o in data.outcomes if o in units},
        "factors": list(data.factors), "animal": animal, "cohort": cohort,
        "censored": censored if isinstance(censored, str) else dict(censored or {}),
        "event": event if isinstance(event, str) else dict(event or {}), "censor_at": dict(censor_at or {}),
        "test": test_col, "value": value_col,
        "where": list(where), "sheet": sheet, "decimal": decimal, "thousands": thousands,
        "reference": dict(zip(data.factors, (lv[0] for lv in data.levels), strict=True)),
        "rope": rope if not isinstance(rope, Mapping) else dict(rope), "ss_type": ss_type, "ci_prob": ci_prob,
        "ci_kind": ci_kind, "prior_scale": prior_scale, "blocker": blocker,
    }
    return Setup(data=data, model=model, free=free_parameters(data), gated=lambda post: gated_estimands(post, data),
                 stored=lambda post: stored_estimands(post, data), fit_options={"predictive": False},
                 # PyTensor's C backend compiles the initial-point function (a 3 x 3 product of the Cholesky
                 # factor) and warns that it found no BLAS: irrelevant at this size, and nutpie samples with numba.
                 expected_warnings=((UserWarning, r"(?s).*could not link to a BLAS"),),
                 state={"sheet": sheet_obj, "options": options, "priors": resolved, "sensitivity": sensitivity,
                        "settings": settings_out, "user_priors": {k: dict(v) for k, v in (priors or {}).items()},
                        "start": start})


def _finish(setup, tree: xr.DataTree, diag, *, sampler, retry: bool, progress: bool) -> AnalysisResult:
    """The per-animal log-likelihood and log-prior groups, estimates, the twin, checks and notes (last step)."""
    import time

    data, st = setup.data, setup.state
    options, resolved, sensitivity = st["options"], st["priors"], st["sensitivity"]
    tree = _finish_tree(tree, setup.model, data, sensitivity=sensitivity)
    posterior = tree["posterior"].to_dataset()

    twin = frequentist_twin(data, options)
    tables = []
    extra: dict = {}
    survival_outcomes = [name for name, t in zip(data.outcomes, twin["twins"], strict=True) if "logrank" in t["extra"]]
    for k, name in enumerate(data.outcomes):
        opts = options.outcome_options(data.families[k], name)
        d = data.per_outcome[k]
        est = fx.estimates_table(fx.estimand_draws(outcome_posterior(posterior, data, k), d), d, opts)
        tw = twin["twins"][k]
        tw["anova_data"]["dv"] = f"log({data.labels[k]})" if data.log[k] else data.labels[k]
        est = fx.attach_frequentist(est, tw, d, opts)
        tables.append(_prefixed(est, data, k))
        slug = _slug(name)
        for key in ("simple_effects", "interaction_contrasts", "tukey", "assumptions"):
            if key in tw["extra"]:
                extra[f"{slug}_{key}"] = tw["extra"][key]
        for key in ("km_median", "logrank", "cox", "cox_interaction", "cox_main", "survival_note", "survival_ties"):
            if key in tw["extra"]:
                # one censored outcome: the report's survival table reads the plain keys
                extra[key if len(survival_outcomes) == 1 else f"{slug}_{key}"] = tw["extra"][key]
    estimates = pd.concat([*tables, joint_table(posterior, data, options)], ignore_index=True)
    for col in ("freq_method", "freq_survival"):
        estimates[col] = estimates[col].astype(object)
    main = twin["manova"]
    pillai = main.table[main.table["test"] == "Pillai"].copy()
    anova = pillai[["effect", "df_num", "df_den", "F", "p", "partial_eta_sq"]].copy()
    for col in ("epsilon_gg", "p_gg", "epsilon_hf", "p_hf", "generalized_eta_sq"):
        anova[col] = np.nan
    anova["test"] = "Pillai"
    anova["statistic"] = pillai["statistic"].to_numpy()
    anova = anova[["effect", "df_num", "df_den", "F", "p", "epsilon_gg", "p_gg", "epsilon_hf", "p_hf",
                   "partial_eta_sq", "generalized_eta_sq", "test", "statistic"]].reset_index(drop=True)
    extra["manova"] = main.table
    if "manova_plain" in twin:
        plain = twin["manova_plain"].table
        extra["manova_all_tests_plain"] = plain
        extra["anova_plain"] = plain[plain["test"] == "Pillai"].reset_index(drop=True)
    extra["univariate_anova"] = twin["univariate"]
    _, _, dropped = _manova_frame(data)
    anova_data = {
        "n_animals": len(data.animals), "animals_dropped": list(dropped),
        "reason": "missing a test (the MANOVA needs every outcome of an animal)" if dropped else "",
        "dv": fx._and([f"log({lab})" if log else lab for lab, log in zip(data.labels, data.log, strict=True)]),
        "aggregated": False, "n_analysed": main.n_analysed, "block": twin["block"],
        "note": main.note + (" Censored values enter at their cut-off: the MANOVA ignores the censoring."
                             if (data.status == CENSORED_CODE).any() else ""),
    }
    # The MANOVA's own note (results.json's anova_data) repeats the Methods; a failed gate is in the
    # banner and the Results.
    notes = design_notes(data, twin)
    notes.append("Univariate follow-up: each outcome's type III ANOVA (on every animal with that test), p-values "
                 "Holm-adjusted across the outcomes for each effect (tables/frequentist_univariate_anova.csv).")
    for label, tw in zip(data.labels, twin["twins"], strict=True):
        notes.extend(f"{label}: {n}" for n in tw["notes"])
    checks = run_checks(tree, data, seed=sampler.seed, sensitivity=sensitivity)
    checks["bayes_factor"] = bayes_factors(posterior, data, resolved)
    settings_out = {
        **st["settings"], "draws": sampler.draws, "tune": sampler.tune, "chains": sampler.chains,
        "seed": sampler.seed, "priors": st["user_priors"], "retry": retry, "sensitivity": bool(sensitivity),
        "model": {"cohort": data.cohort_kind, "residual": "multivariate Student-t" if data.student else "multivariate normal"},
        "seconds": round(time.perf_counter() - st["start"], 2),
    }
    return AnalysisResult(
        design=DESIGN,
        title=f"{fx._and(data.labels)} by {' × '.join(data.factors)} (jointly)",
        settings=settings_out, seed=sampler.seed, sheet=st["sheet"], priors=resolved, model_text=model_text(data, resolved),
        tree=tree, diagnostics=diag, estimates=estimates,
        bayes_anova=pd.DataFrame(columns=["source", "sd_median", "sd_ci_low", "sd_ci_high", "eta_median",
                                          "eta_ci_low", "eta_ci_high"]),
        anova=anova, anova_data=anova_data,
        mixed_model={"method": None, "note": "One observation per animal and test: no mixed model (the joint model's "
                                             "residual covariance is the animal level)."},
        frequentist_extra=extra, checks=checks, notes=tuple(notes),
    )


def _finish_tree(tree: xr.DataTree, model: pm.Model, data: BatteryData, *, sensitivity: bool) -> xr.DataTree:
    """Move the per-animal log-likelihood into ``log_likelihood`` (dim ``animal_obs``: each animal's
    first row in the tidy frame, as the checks map observations to animals); add ``log_prior`` (for the
    power-scaling sensitivity) and ``observed_data`` / ``constant_data``."""
    groups = {name: tree[name].to_dataset() for name in tree.children if name != "estimands"}
    post = groups["posterior"]
    ll = post["log_lik_animal"]
    groups["posterior"] = post.drop_vars("log_lik_animal")
    frame = data.frame
    first = {}
    for i, a in enumerate(frame[ANIMAL].astype(str)):
        first.setdefault(a, i)
    ll = ll.rename({ANIMAL: "animal_obs"}).assign_coords(animal_obs=[first[a] for a in data.animals])
    groups["log_likelihood"] = xr.Dataset({"y_joint": ll})
    obs = xr.DataArray(np.where(data.status == MISSING, np.nan, data.value), dims=(ANIMAL, OUTCOME),
                       coords={ANIMAL: list(data.animals), OUTCOME: list(data.outcomes)})
    groups["constant_data"] = xr.Dataset({"values": obs, "status": (obs.dims, data.status)})
    if sensitivity:
        with model:
            lp = pm.stats.compute_log_prior(xr.DataTree.from_dict({"posterior": groups["posterior"]}), model=model,
                                            extend_inferencedata=False, progressbar=False)
        groups["log_prior"] = lp if isinstance(lp, xr.Dataset) else lp["log_prior"].to_dataset()
    if "estimands" in tree.children:
        groups["estimands"] = tree["estimands"].to_dataset()  # last, as the pipeline stored it
    return xr.DataTree.from_dict(groups)


# ------------------------------------------------------------------------------ the design


def _outcome_unit(result, outcome: str) -> str:
    """An outcome's unit (``units``; "" when none was given)."""
    return str((result.settings.get("units") or {}).get(outcome) or "")


def _unit_after(result, outcome: str, scale) -> str:
    """" s" (no-break space) after a number on the outcome's own scale; "" after ratios and without a unit."""
    from bayes_igf1.report.text import OUTCOME_UNIT_SCALES

    unit = _outcome_unit(result, outcome)
    return f"\u00a0{unit}" if unit and scale in OUTCOME_UNIT_SCALES else ""


def _as_outcome(result, outcome: str):
    """The result seen as one outcome's: its label and unit in ``settings["label"]`` / ``["unit"]``, where
    the report's generic helpers (`bayes_igf1.report.format.outcome_unit`, ...) read them."""
    import dataclasses

    labels = result.settings.get("labels") or {}
    return dataclasses.replace(result, settings={**result.settings, "label": str(labels.get(outcome, outcome)),
                                                 "unit": _outcome_unit(result, outcome)})


def _per_outcome(items, option: str, outcomes, *, number: bool = False) -> dict:
    """OUTCOME=VALUE items of a battery option as a dict; the outcome part may itself hold '='."""
    from bayes_igf1.errors import BayesIGF1Error

    out: dict = {}
    for item in items:
        text = str(item)
        name = next((o for o in sorted(outcomes, key=len, reverse=True) if text.startswith(o + "=")), None)
        if name is None:
            name, sep, _ = text.partition("=")
            if not sep or not name.strip():
                raise BayesIGF1Error(f"{option} {text!r} must be OUTCOME=VALUE. Fix: e.g. {option} "
                                     f"{outcomes[-1] if outcomes else 'nsft_latency_s'}=...")
        value = text[len(name) + 1:].strip()
        if number:
            try:
                value = float(value)
            except ValueError:
                raise BayesIGF1Error(f"{option} {text!r}: {value!r} is not a number. Fix: e.g. {option} "
                                     f"{name}=600.") from None
        if name in out:
            raise BayesIGF1Error(f"{option} is given twice for {name!r}. Fix: give it once per outcome.")
        out[name] = value
    return out


class Battery(PipelineSteps):
    """Several outcomes of the same animals, jointly: the `bayes_igf1.designs.base.Design` protocol."""

    name = DESIGN
    unit_word = "cell"
    description = ("Fit the joint model of several outcomes measured in the same animals (one row per animal, one "
                   "column per test; cell means per outcome, a multivariate animal-level residual with an LKJ prior "
                   "on its correlation, censored values through their exact conditional distribution) and its "
                   "frequentist twin (type III MANOVA, each outcome's ANOVA with Holm across outcomes, survival "
                   "tests), and write a report folder with the joint blockade probabilities.")
    refit_options: dict = {}

    entry = "analyse_battery"

    def add_arguments(self, parser) -> None:
        g = parser.add_argument_group("battery columns")
        g.add_argument("--outcome", action="append", default=[], dest="outcomes", metavar="COLUMN",
                       help="an outcome (test) column; give it once per test, at least twice. With --test: a level "
                            "of the test column (e.g. --outcome FST); leave it out to use every test")
        g.add_argument("--test", default=None, metavar="COLUMN",
                       help="long format (one row per animal and test): the column naming each row's test (FST, "
                            "FUST, NSFT, ...); needs --value and --animal. --family, --label, --unit, --censor-at, "
                            "--rope are then keyed by test (e.g. --family NSFT=lognormal)")
        g.add_argument("--value", default=None, metavar="COLUMN",
                       help="long format: the column of each row's measurement (with --test)")
        g.add_argument("--factor", action="append", default=[], dest="factors", metavar="COLUMN",
                       help="a between-animal factor column; give it two or more times")
        g.add_argument("--animal", default=None, help="column with the animal ID (without it each row is one animal)")
        g.add_argument("--cohort", default=None, help="column with the cohort / batch")
        g.add_argument("--censored", action="append", default=[], metavar="OUTCOME=COLUMN",
                       help="the column flagging an outcome's right-censored values (1 = censored), e.g. "
                            "--censored nsft_latency_s=nsft_censored; repeatable. With --test: one flag column "
                            "(--censored censored) applying to each row's own test")
        g.add_argument("--event", action="append", default=[], metavar="OUTCOME=COLUMN",
                       help="an outcome's event column, the survival coding (1 = the event happened); repeatable "
                            "(with --test: one column, as --censored)")
        g.add_argument("--censor-at", action="append", default=[], metavar="OUTCOME=VALUE",
                       help="an outcome's cut-off: values at it are right-censored (e.g. nsft_latency_s=600); "
                            "repeatable")
        g = parser.add_argument_group("model")
        g.add_argument("--family", action="append", default=[], metavar="OUTCOME=FAMILY",
                       help="an outcome's distribution: normal (default), student or lognormal (latencies); "
                            "repeatable")
        g.add_argument("--label", action="append", default=[], metavar="OUTCOME=TEXT",
                       help="how the report names an outcome (default: its column); repeatable")
        g.add_argument("--unit", action="append", default=[], metavar="OUTCOME=TEXT",
                       help="an outcome's unit, written after its numbers and on its axes (e.g. "
                            "fst_immobility_s=s; with --test keyed by test, e.g. FST=s); repeatable")
        g.add_argument("--reference", action="append", default=[], metavar="FACTOR=LEVEL",
                       help="reference level of a factor (repeatable; default as for 'factorial')")
        g.add_argument("--ss-type", type=int, choices=[2, 3], default=3,
                       help="MANOVA / ANOVA sums of squares (default 3)")
        g.add_argument("--blocker", default=None, metavar="FACTOR",
                       help="the factor that is an antagonist or neutralizing antibody (e.g. antibody): report the "
                            "%% of the other factor's effect it abolishes on each test and the joint probabilities")

    def options_from_args(self, args) -> dict:
        from bayes_igf1.designs.base import references
        from bayes_igf1.errors import BayesIGF1Error

        if len(args.factors) < 2:
            raise BayesIGF1Error(f"Give at least two factors with --factor (got {len(args.factors)}), e.g. --factor "
                                 "treatment --factor antibody.")
        long = args.test is not None or args.value is not None
        outcomes = list(args.outcomes)
        if len(outcomes) < 2 and not (long and not outcomes):
            raise BayesIGF1Error(f"Give at least two outcomes with --outcome (got {len(outcomes)}), e.g. --outcome "
                                 "fst_immobility_s --outcome nsft_latency_s (one outcome: 'bayes-igf1 factorial').")

        def flags(items, option):  # long format: one flag column for every test, or TEST=COLUMN items
            if long and len(items) == 1 and "=" not in items[0]:
                return items[0]
            return _per_outcome(items, option, outcomes) or None

        return dict(outcomes=outcomes or None, factors=args.factors, animal=args.animal, cohort=args.cohort,
                    test=args.test, value=args.value,
                    censored=flags(args.censored, "--censored"), event=flags(args.event, "--event"),
                    censor_at=_per_outcome(args.censor_at, "--censor-at", outcomes, number=True) or None,
                    families=_per_outcome(args.family, "--family", outcomes) or None,
                    labels=_per_outcome(args.label, "--label", outcomes) or None,
                    units=_per_outcome(args.unit, "--unit", outcomes) or None,
                    reference=references(args.reference), blocker=args.blocker, ss_type=args.ss_type)

    def compare_alternatives(self, args) -> dict:
        from bayes_igf1.errors import BayesIGF1Error

        raise BayesIGF1Error("--compare is not available for the battery design yet. Fix: leave out --compare.")

    def groups(self, result) -> list[str]:
        """Each outcome's cells, "<outcome>: a|b" (the rows of the tidy frame are outcome x animal)."""
        from bayes_igf1.designs.factorial import Factorial

        cells = Factorial().groups(result)
        return [f"{self._label(result, str(o))}: {c}" for o in result.sheet.frame[OUTCOME].cat.categories for c in cells]

    def row_groups(self, result) -> pd.Series:
        f = result.sheet.frame
        parts = [f[name].astype(str).reset_index(drop=True) for name in result.sheet.factors]
        out = parts[0]
        for p in parts[1:]:
            out = out + "|" + p
        labels = f[OUTCOME].astype(str).reset_index(drop=True).map(lambda o: self._label(result, o))
        return labels + ": " + out

    def log_scale(self, result) -> bool:
        fams = list((result.settings.get("families") or {}).values())
        return bool(fams) and all(f == "lognormal" for f in fams)

    def predictive_transform(self, result):
        def same(v):
            return np.asarray(v, dtype=float)

        return same, same, False

    def _outcomes(self, result) -> list[str]:
        return list(result.settings.get("outcomes") or [])

    def _label(self, result, outcome: str) -> str:
        return str((result.settings.get("labels") or {}).get(outcome, outcome))

    def data_sentences(self, result) -> list[str]:
        f = result.sheet.frame
        bits = []
        for o in self._outcomes(result):
            sub = f[f[OUTCOME].astype(str) == o]
            fam = (result.settings.get("families") or {}).get(o, "normal")
            cens = int(sub[CENSORED].sum())
            model = {"normal": "normal", "lognormal": "log-normal", "student": "Student-t"}.get(str(fam), str(fam))
            bits.append(f"{self._label(result, o)} ({len(sub)} animals, {model} model"
                        + (f", {cens} censored" if cens else "") + ")")
        return [f"Outcomes, each measured once per animal: {'; '.join(bits)}."]

    def why_bayesian(self, result) -> str:
        return ("Why Bayesian: one joint model of the tests gives the posterior probability that the blockade holds "
                "on every test at once, uses that an animal's tests are correlated, keeps animals missing a test and "
                "takes censored latencies as censored given the same animal's other tests; three separate analyses "
                "can do none of this and leave the multiplicity of three tests uncorrected.")

    def frequentist_methods(self, result) -> str:
        ad = result.anova_data or {}
        ss = int(result.settings.get("ss_type", 3))
        text = (f"For comparison, the analysis a laboratory would run: a type {'III' if ss == 3 else 'II'} MANOVA "
                f"({' × '.join(result.sheet.factors)}{'; sum-to-zero contrasts' if ss == 3 else ''}; as R's car::Manova "
                "computes it) of "
                f"{ad.get('dv', 'the outcomes')} on the {ad.get('n_analysed', '?')} animals with every test"
                + (f", with {ad['block']} as a fixed block as in the Bayesian model (the plain MANOVA beside it)"
                   if ad.get("block") else "")
                + ", with Pillai's trace, Wilks' lambda, the Hotelling-Lawley trace and Roy's largest root; then each "
                "outcome's factorial analysis: type III ANOVA (p-values Holm-adjusted across the outcomes per effect), "
                "planned simple effects and the interaction contrast (Sidak within the outcome).")
        if "logrank" in (result.frequentist_extra or {}) or any(k.endswith("_logrank") for k in result.frequentist_extra or {}):
            text += (" For a censored outcome also Kaplan-Meier medians, log-rank tests of the simple effects and a Cox "
                     "model, which respect the censoring.")
        return text

    def anova_head(self, result) -> str:
        ad = result.anova_data or {}
        ss = int(result.settings.get("ss_type", 3))
        block = f"; {ad['block']} as a fixed block, as in the Bayesian model" if ad.get("block") else ""
        return (f"MANOVA of {ad.get('dv', 'the outcomes')} (Pillai's trace, approximate F; {ad.get('n_analysed', '?')} "
                f"animals with every test; type {'III' if ss == 3 else 'II'}{block})")

    def results_sentences(self, result) -> list[tuple[str, str]]:
        from bayes_igf1.report.format import fmt_bounded, fmt_interval, fmt_number, fmt_p
        from bayes_igf1.report.text import _bf_text, _factorial_sentence
        from bayes_igf1.results import blockade_base

        e = result.estimates
        bf = (result.checks or {}).get("bayes_factor")
        out = []
        ci = f"{100 * float(result.settings.get('ci_prob', 0.95)):g}%"
        kind = str(result.settings.get("ci_kind", "hdi")).upper()
        for o in self._outcomes(result):
            lab = self._label(result, o)
            one = _as_outcome(result, o)  # its unit after its numbers
            mine = e[e["group"].astype(str).str.startswith(o + "/")]
            inter = mine[mine["name"] == "interaction"]
            for r in inter.to_dict("records"):
                word = "ratio of ratios" if "ratio" in str(r["scale"]) else "difference of differences"
                sentence = _factorial_sentence(
                    one, r, f"Interaction on {lab}, {str(r['label']).split(': ', 1)[-1].replace('|', '/')} ({word})",
                    freq_label="t contrast")
                row = bf[bf["cell"] == f"{o}: {r['cell']}"] if isinstance(bf, pd.DataFrame) else None
                if row is not None and len(row):
                    sentence = sentence[:-1] + f"; Savage-Dickey {_bf_text(row['BF10'].iloc[0], method=row['method'].iloc[0])}."
                out.append(("interaction", sentence))
            for r in mine[mine["name"] == "blockade_pct"].to_dict("records"):
                base = blockade_base(e, r)
                if base is not None and not base["interpretable"]:
                    out.append(("blockade_pct", f"Blockade on {lab}: not stated (the effect it is a percentage of is "
                                                "not credibly different from no effect)."))
                    continue
                out.append(("blockade_pct", _factorial_sentence(one, r, f"Blockade on {lab}, "
                                                                f"{str(r['label']).split(': ', 1)[-1]}",
                                                                freq_label="frequentist")))
        joint = e[e["name"] == "joint_probability"]
        if len(joint):
            bits = [f"{r['label']} {_prob_value(r['mean'])}" for r in joint.to_dict("records")]
            low = e[e["name"] == "min_blockade_pct"]
            tail = ""
            if len(low):
                r = low.iloc[0]
                tail = (f" The smallest % blockade over the outcomes has posterior median {fmt_number(r['median'], 0)}% "
                        f"({ci} {kind} {fmt_interval(r['ci_low'], r['ci_high'], 0, unit='%')}).")
            out.append(("joint", "Joint claim, from the one model of all the tests: " + "; ".join(bits) + "." + tail))
        maha = e[e["name"] == "mahalanobis_interaction"]
        for r in maha.to_dict("records"):
            out.append(("joint", f"Standardised multivariate interaction (the length of the vector of the outcomes' "
                                 f"interaction contrasts in residual-SD units: its Mahalanobis length, √(d′Σ⁻¹d)): "
                                 f"{fmt_number(r['median'], 2)} ({ci} {kind} {fmt_interval(r['ci_low'], r['ci_high'], 2)})."))
        corr = e[e["name"] == "residual_correlation"]
        if len(corr):
            bits = [f"{r['label'].removeprefix('correlation of ').split(' (')[0]} "
                    f"{fmt_bounded(r['median'])} ({_bounded_interval(r['ci_low'], r['ci_high'])}; "
                    f"{fmt_p(r['prob_direction'], symbol='P(' + ('r > 0' if r['median'] >= 0 else 'r < 0') + ')')})"
                    for r in corr.to_dict("records")]
            out.append(("correlation", f"Animal-level residual correlations between the tests (model scale; posterior "
                                       f"median, {ci} {kind}): " + "; ".join(bits) + "."))
        uni = (result.frequentist_extra or {}).get("univariate_anova")
        if isinstance(uni, pd.DataFrame) and len(uni):
            top = ":".join(result.sheet.factors)
            rows = uni[uni["effect"] == top]
            if len(rows):
                bits = [f"{self._label(result, r['outcome'])} F({fmt_number(r['df_num'], 0)}, {fmt_number(r['df_den'], 0)}) "
                        f"= {fmt_number(r['F'], 2)}, Holm-adjusted {fmt_p(r['p_holm'])}" for r in rows.to_dict("records")]
                out.append(("anova", f"Univariate ANOVAs, the {top.replace(':', ' × ')} interaction: "
                                     + "; ".join(bits) + "."))
        return out

    def rope_unit(self, result) -> str:
        return ""

    def effect_name(self, source: str, result) -> str:
        return str(source)

    def frequentist_scale_note(self, result) -> str:
        return ""

    def figures(self, result) -> dict:
        ci = f"{round(100 * float(result.settings.get('ci_prob', 0.95)))}%"
        kind = str(result.settings.get("ci_kind", "hdi")).upper()
        fig = battery_figure(result)
        blockade = (result.estimates["name"] == "blockade_pct").any()
        return {"battery": (fig, (
            "Posterior densities of each outcome's interaction contrast (top row; model scale: a ratio of ratios for "
            "a lognormal outcome)" + (" and % blockade (middle row)" if blockade else "")
            + f", shaded: {ci} {kind}; the residual correlation matrix of the tests (posterior median, {ci} {kind}) "
            "at the bottom."))}

    def finding(self, result) -> str:
        from bayes_igf1.report.format import fmt_bounded, fmt_estimate, fmt_prob

        e = result.estimates
        out = []
        for r in e[e["name"] == "joint_probability"].to_dict("records"):
            out.append(f"{r['label']} {_prob_value(r['mean'])}")
        for o in self._outcomes(result):
            mine = e[e["group"].astype(str).str.startswith(o + "/")]
            for r in mine[mine["name"] == "blockade_pct"].to_dict("records"):
                out.append(f"{self._label(result, o)}: blockade "
                           f"{fmt_estimate(r['median'], r['ci_low'], r['ci_high'], unit='%', decimals=0)}, "
                           + fmt_prob(r["prob_above"], event="blockade > 50%"))
        corr = e[e["name"] == "residual_correlation"]
        if len(corr):
            out.append("residual correlations " + ", ".join(
                f"{' / '.join(self._label(result, o) for o in str(r['cell']).split('|'))} {fmt_bounded(r['median'])}"
                for r in corr.to_dict("records")))
        return "; ".join(out) + "." if out else "see the report."

    #: The kinds of claim `verdict` judges.
    claims = ("blocked",)

    def verdict(self, result, claim: str) -> tuple[str, str]:
        """The factorial's decision rule for a blockade claim, applied to every outcome at once.

        ``blocked``: supported when, on every outcome, the 95% interval of the treated factor's
        effect under the blocker's reference level excludes no effect, the interaction's excludes it
        in the opposite direction and the Savage-Dickey BF10 of the interaction > 3; not supported
        when on some outcome the interaction's interval includes no effect and BF10 < 1/3; else
        undecided. The joint posterior probability is stated beside it.
        """
        from bayes_igf1.report.format import fmt_bf, fmt_interval, fmt_number

        if claim not in self.claims:
            raise DesignError(f"no decision rule for a {claim!r} claim. Fix: use one of {self.claims}.")
        e = result.estimates
        blocker = result.settings.get("blocker")
        factors = list(result.sheet.factors)
        treated = next((f for f in factors if f != blocker), factors[0])
        bf = (result.checks or {}).get("bayes_factor")
        every_ok, some_null, words = True, False, []
        for o in self._outcomes(result):
            inter = e[(e["name"] == "interaction") & (e["group"].astype(str) == f"{o}/{':'.join(factors)}")]
            if not len(inter):
                return "undecided", f"no interaction estimate of {o}"
            i = inter.iloc[0]
            ref, cell = str(i["reference"]).split("|"), str(i["cell"]).split("|")
            under_ref = "|".join(c if f == treated else r for f, c, r in zip(factors, cell, ref, strict=True))
            eff = e[(e["name"] == "simple_effect") & (e["group"].astype(str) == f"{o}/{treated}")
                    & (e["cell"].astype(str) == under_ref)]
            null = 1.0 if str(i["scale"]).startswith("ratio") else 0.0
            row = bf[(bf["outcome"] == o) & (bf["cell"] == f"{o}: {i['cell']}")] if isinstance(bf, pd.DataFrame) else None
            bf10 = float(row["BF10"].iloc[0]) if row is not None and len(row) else float("nan")

            def side(r, null=null) -> int:
                return 1 if r["ci_low"] > null else -1 if r["ci_high"] < null else 0

            acts = bool(len(eff)) and side(eff.iloc[0]) != 0
            every_ok &= acts and side(i) == -side(eff.iloc[0]) and bf10 > 3
            some_null |= side(i) == 0 and bf10 < 1 / 3
            def interval(r, o=o) -> str:
                return fmt_interval(r["ci_low"], r["ci_high"], unit=_unit_after(result, o, r["scale"]))

            words.append(f"{self._label(result, o)}: effect {interval(eff.iloc[0])}, interaction {interval(i)}, "
                         f"BF10 {fmt_bf(bf10)}" if len(eff) else f"{self._label(result, o)}: no effect estimate")
        joint = e[(e["name"] == "joint_probability") & (e["cell"] == "blocking_direction")]
        text = "; ".join(words) + (f"; P(blocking direction on every test) = {fmt_number(joint['mean'].iloc[0], 3)}"
                                   if len(joint) else "")
        if every_ok:
            return "supported", text
        if some_null:
            return "not supported", text
        return "undecided", text

    # ---------------------------------------------------------------- plan and calibrate

    plan_options: tuple[tuple[str, str], ...] = ()

    def _no_plan(self, *args, **kwargs):
        raise DesignError("'bayes-igf1 plan' does not support the battery design yet. Fix: plan each outcome with "
                          "'bayes-igf1 plan factorial' (the joint design needs at least the largest of those n).")

    plan_from_args = plan_source = plan_simulate = plan_prepare = plan_model = _no_plan
    plan_observations = plan_frequentist = plan_targets = plan_rules = plan_rule_names = _no_plan

    def calibration_model(self, data_dir):
        """(model, parameters to rank, frozen priors) of the shipped battery, for ``calibrate``."""
        outcomes = ["fst_immobility_s", "fust_sniffing_s", "nsft_latency_s"]
        sheet, per = read_battery(Path(data_dir) / "behaviour_battery.csv", outcomes=outcomes,
                                  factors=["treatment", "antibody"], animal="mouse", cohort="cohort",
                                  censored={"nsft_latency_s": "nsft_censored"}, positive=["nsft_latency_s"])
        options = BatteryOptions(blocker="antibody")
        data = prepare(sheet, per, families={"nsft_latency_s": "lognormal"}, options=options)
        priors = resolve_priors(data, options)
        return build_model(data, priors), free_parameters(data), priors


# ------------------------------------------------------------------------------ figure


def battery_figure(result):
    """Per-outcome posteriors of the interaction (and % blockade) side by side, and the correlation matrix.

    Reads the draws stored in the tree's ``estimands`` group (so a reloaded result draws the
    same figure); an outcome without stored draws shows its median and interval only.
    """
    import matplotlib as mpl
    from matplotlib.figure import Figure

    from bayes_igf1.report import figures as F

    with mpl.rc_context(F.STYLE):
        return _battery_figure(result, F, Figure)


def _battery_figure(result, F, Figure):
    from bayes_igf1.report.format import fmt_bounded

    e = result.estimates
    outcomes = list(result.settings.get("outcomes") or [])
    labels = result.settings.get("labels") or {}
    store = result.tree["estimands"] if "estimands" in result.tree.children else None
    rows = ["interaction"] + (["blockade_pct"] if (e["name"] == "blockade_pct").any() else [])
    K = len(outcomes)
    fig = Figure(figsize=(F.TWO_COLUMNS, 2.0 * len(rows) + 3.0), layout="constrained")
    grid = fig.add_gridspec(len(rows) + 1, K, height_ratios=[1.0] * len(rows) + [1.6])
    colour = F.PALETTE[1]
    letter = iter("abcdefghijklmnopqrstuvwxyz")

    def draws_of(outcome: str, name: str, cell: str):
        if store is None:
            return None
        for var in store.data_vars:
            da = store[var]
            if da.attrs.get("outcome") == outcome and da.attrs.get("name") == name:
                dim = f"{var}_cell"
                if cell in set(np.asarray(da[dim].values, dtype=str)):
                    return np.asarray(da.sel({dim: cell}).values, dtype=float).ravel()
        return None

    for i, name in enumerate(rows):
        for k, o in enumerate(outcomes):
            ax = fig.add_subplot(grid[i, k])
            sub = e[(e["name"] == name) & e["group"].astype(str).str.startswith(o + "/")]
            if not len(sub):
                ax.set_visible(False)
                continue
            r = sub.iloc[0]
            d = draws_of(o, name, str(r["cell"]))
            scale = str(r.get("scale") or "")
            if name == "blockade_pct":
                for x, ls in ((0.0, "-"), (50.0, ":"), (100.0, "--")):
                    ax.axvline(x, color="0.4", lw=0.8, ls=ls)
            else:
                ax.axvline(1.0 if "ratio" in scale else 0.0, color="0.4", lw=0.8)
            if d is not None and np.isfinite(d).sum() > 10:
                d = d[np.isfinite(d)]
                lo, hi = np.quantile(d, [0.01, 0.99])
                lo, hi = min(lo, float(r["ci_low"])), max(hi, float(r["ci_high"]))
                grid_x = np.linspace(lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo), 300)
                inside_d = d[(d >= grid_x[0]) & (d <= grid_x[-1])]
                dens = stats.gaussian_kde(inside_d)(grid_x)
                ax.plot(grid_x, dens, color=colour, lw=1.2)
                inside = (grid_x >= r["ci_low"]) & (grid_x <= r["ci_high"])
                ax.fill_between(grid_x[inside], dens[inside], color=colour, alpha=0.25, lw=0)
                ax.set_ylim(0, float(dens.max()) * 1.25)
            ax.plot([r["median"]], [0.0], marker="^", color="black", ms=5, clip_on=False, ls="none")
            ax.set_yticks([])
            ax.spines["left"].set_visible(False)
            title = {"interaction": "interaction", "blockade_pct": "% blockade"}[name]
            extra = (f"P(> 50%) {_prob_value(r['prob_above'])}" if name == "blockade_pct"
                     else f"P(direction) {_prob_value(r['prob_direction'])}")
            ax.set_title(f"{labels.get(o, o)}: {title}", fontsize=8)
            unit = _outcome_unit(result, o) if name == "interaction" and _unit_after(result, o, scale) else ""
            axis = (f"{scale} ({unit})" if unit else scale) if name == "interaction" else "% of the effect blocked"
            ax.set_xlabel(f"{axis}\n{extra}", fontsize=7)
            F._panel_letter(ax, next(letter))
    bottom = grid[len(rows), :].subgridspec(1, 2, width_ratios=[1.0, 1.1])
    ax = fig.add_subplot(bottom[0, 0])
    _joint_panel(ax, result, outcomes, labels, draws_of, colour)
    F._panel_letter(ax, next(letter))
    ax = fig.add_subplot(bottom[0, 1])
    corr = e[e["name"] == "residual_correlation"]
    mat = np.eye(K)
    txt = [["1" if a == b else "" for b in range(K)] for a in range(K)]
    for r in corr.to_dict("records"):
        a, b = (outcomes.index(x) for x in str(r["cell"]).split("|"))
        mat[a, b] = mat[b, a] = float(r["median"])
        t = f"{fmt_bounded(r['median'])}\n[{fmt_bounded(r['ci_low'])},\n{fmt_bounded(r['ci_high'])}]"
        txt[a][b] = txt[b][a] = t
    im = ax.imshow(mat, cmap="RdBu_r", vmin=-1, vmax=1, aspect="equal")
    for a in range(K):
        for b in range(K):
            ax.text(b, a, txt[a][b], ha="center", va="center", fontsize=6,
                    color="white" if abs(mat[a, b]) > 0.6 else "black")
    names = [labels.get(o, o) for o in outcomes]
    ax.set_xticks(range(K), names, fontsize=7, rotation=25, ha="right")
    ax.set_yticks(range(K), names, fontsize=7)
    ax.spines[:].set_visible(False)
    ax.set_title("residual correlation of the tests (animal level)", fontsize=8)
    fig.colorbar(im, ax=ax, shrink=0.8, label="correlation")
    F._panel_letter(ax, next(letter))
    return fig


def _joint_panel(ax, result, outcomes, labels, draws_of, colour) -> None:
    """Posterior probabilities of the blockade on each outcome and on all of them at once."""
    e = result.estimates
    names, p0, p50 = [], [], []
    for o in outcomes:
        sub = e[(e["name"] == "blockade_pct") & e["group"].astype(str).str.startswith(o + "/")]
        if not len(sub):
            continue
        r = sub.iloc[0]
        d = draws_of(o, "blockade_pct", str(r["cell"]))
        names.append(labels.get(o, o))
        p0.append(float(np.mean(d > 0)) if d is not None else np.nan)
        p50.append(float(r["prob_above"]))
    joint = e[e["name"] == "joint_probability"].set_index("cell")["mean"] if len(e) else pd.Series(dtype=float)
    if not names or not len(joint):
        ax.text(0.5, 0.5, "no % blockade (no --blocker)", transform=ax.transAxes, ha="center", va="center", fontsize=7)
        ax.set_axis_off()
        return
    names.append("all tests (joint)")
    p0.append(float(joint.get("blocking_direction", np.nan)))
    p50.append(float(joint.get("blockade_above_50", np.nan)))
    y = np.arange(len(names))[::-1]
    ax.barh(y + 0.18, p0, height=0.34, color=colour, alpha=0.45, label="P(blocking direction)")
    ax.barh(y - 0.18, p50, height=0.34, color=colour, label="P(blockade > 50%)")
    for yi, a, b in zip(y, p0, p50, strict=True):
        ax.text(min(a, 1.0) + 0.01, yi + 0.18, f"{a:.2f}", va="center", fontsize=6.5)
        ax.text(min(b, 1.0) + 0.01, yi - 0.18, f"{b:.2f}", va="center", fontsize=6.5)
    ax.set_yticks(y, names, fontsize=7)
    ax.set_xlim(0, 1.12)
    ax.axvline(0.95, color="0.5", lw=0.7, ls=":")
    ax.set_xlabel("posterior probability", fontsize=7)
    ax.set_title("blockade on each test and on all at once", fontsize=8)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.08), ncol=2, fontsize=6.5)
