"""Figures of an analysis, in a journal's style.

Every panel function takes ``ax=`` (a new figure is made when it is None) and returns
``(fig, ax)``; the multi-panel functions return ``(fig, axes)``. Figures are made with
the object-oriented API (`matplotlib.figure.Figure`, rendered by Agg), so nothing here
touches pyplot's global state or the user's backend. Style: no top / right spines,
8-9 pt sans-serif text at print size, the Okabe-Ito colour-blind-safe palette with a
distinct marker per group, panels labelled a, b, c.

Sizes: every figure is made at the width it prints at, one journal column (85 mm) or two
(183 mm), and saved at exactly that size (no "tight" bounding box: constrained layout keeps
every label inside the canvas), so its text prints at the point sizes set here, never below
6 pt.

`save_figure` writes a PNG (300 dpi) and an SVG (text kept as text) of a figure, laid out
once; `make_figures` builds every figure an analysis has (used by the report writer).
"""

from __future__ import annotations

import functools
import io
import itertools
import textwrap
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from scipy import stats

from bayes_igf1.designs.base import get_design
from bayes_igf1.report.format import outcome_axis, outcome_label

__all__ = [
    "PALETTE",
    "STYLE",
    "factorial_figure",
    "kde",
    "make_figures",
    "plot_bar_dots",
    "plot_contrast_density",
    "plot_effect_vs_reference",
    "plot_interaction",
    "plot_ppc",
    "plot_prior_predictive",
    "plot_spaghetti",
    "plot_timecourse_percent",
    "ppc_figure",
    "save_figure",
    "timecourse_figure",
]

#: Okabe & Ito (2008) colour-blind-safe palette; the reference group is black.
PALETTE = ("#000000", "#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#F0E442")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<")
#: Journal style (applied while a figure is drawn; the user's rcParams are left alone).
STYLE = {
    "font.family": "sans-serif",
    "font.sans-serif": ["Arial", "Helvetica", "Liberation Sans", "Nimbus Sans", "DejaVu Sans"],
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.labelsize": 8.5,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 7.5,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.linewidth": 0.8,
    "xtick.major.width": 0.8,
    "ytick.major.width": 0.8,
    "xtick.major.size": 3,
    "ytick.major.size": 3,
    "lines.linewidth": 1.3,
    "lines.markersize": 4.5,
    "errorbar.capsize": 2,
    "axes.titleweight": "normal",
    "axes.titlelocation": "left",
    "savefig.bbox": "standard",  # saved at the figure's own (journal) size
    "svg.fonttype": "none",
    "svg.hashsalt": "bayes-igf1",  # fixed element ids: the same figure gives the same SVG bytes
    "pdf.fonttype": 42,
    "axes.unicode_minus": True,
}
#: Width of one and of two journal columns, inches (85 mm: fits an 85-89 mm column; 183 mm).
ONE_COLUMN, TWO_COLUMNS = 85 / 25.4, 183 / 25.4
#: The smallest text size (points) of any figure at its saved (print) size.
MIN_TEXT_PT = 6.0
DPI = 300
_MODEL_GREY = "0.35"


def _styled(func):
    """Draw inside the journal style without changing the user's rcParams."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with mpl.rc_context(STYLE):
            return func(*args, **kwargs)

    return wrapper


def _new_axes(ax: Axes | None, size: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.add_subplot()


def save_figure(fig: Figure, stem: str | Path, *, dpi: int = DPI) -> list[Path]:
    """Write ``<stem>.png`` (``dpi``) and ``<stem>.svg`` at the figure's own size; returns the two paths.

    The layout (constrained layout: text extents, margins) is computed once, while the PNG is
    drawn, and kept for the SVG, so both files have the same layout and the second costs no
    layout pass; the figure's layout engine is restored afterwards. An opaque figure (every
    figure here: white background) is stored as an RGB PNG, the pixels Agg drew without their
    constant alpha channel, at zlib level 3: smaller than matplotlib's RGBA level-6 PNG, and a
    third faster to encode.
    """
    from PIL import Image

    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    png, svg = stem.with_suffix(".png"), stem.with_suffix(".svg")
    engine = fig.get_layout_engine()
    with mpl.rc_context(STYLE):
        raw = io.BytesIO()
        fig.savefig(raw, format="rgba", dpi=dpi, bbox_inches=None)  # the Agg pixels of the PNG matplotlib writes
        # the canvas size as Agg computes it (FigureCanvasBase.get_width_height)
        width, height = (int(fig.get_figwidth() * dpi + 1e-8), int(fig.get_figheight() * dpi + 1e-8))
        pixels = np.frombuffer(raw.getbuffer(), dtype=np.uint8)
        if pixels.size == width * height * 4:
            rgba = pixels.reshape(height, width, 4)
            opaque = bool((rgba[..., 3] == 255).all())
            image = Image.fromarray(np.ascontiguousarray(rgba[..., :3]) if opaque else rgba,
                                    "RGB" if opaque else "RGBA")
            image.save(png, format="png", dpi=(dpi, dpi), compress_level=3)
        else:  # pragma: no cover - a matplotlib that sizes its canvas otherwise: its own PNG
            fig.savefig(png, dpi=dpi, bbox_inches=None, metadata={"Software": None})
        if engine is not None:
            fig.set_layout_engine("none")  # keep the positions just computed
        try:
            fig.savefig(svg, bbox_inches=None, metadata={"Date": None})
        finally:
            if engine is not None:
                fig.set_layout_engine(engine)
    return [png, svg]


def kde(data, grid) -> np.ndarray:
    """Gaussian kernel density of the 1-D ``data`` at ``grid`` with Scott's bandwidth.

    The density `scipy.stats.gaussian_kde` gives (bandwidth factor n^(-1/5) times the SD with
    ddof 1), computed with NumPy alone: scipy's goes through a BLAS triangular solve per call,
    whose thread start-up made the 240 small densities of a predictive-check figure take seconds
    on a busy machine.
    """
    d = np.asarray(data, dtype=float).ravel()
    g = np.asarray(grid, dtype=float)
    n = d.size
    bw2 = float(np.var(d, ddof=1)) * n ** (-2.0 / 5.0)
    out = np.zeros(g.shape)
    for start in range(0, n, 2048):  # bounded memory for thousands of draws
        z = g[..., None] - d[start:start + 2048]
        out += np.exp(-0.5 * z * z / bw2).sum(axis=-1)
    return out / (n * np.sqrt(2.0 * np.pi * bw2))


def _panel_letter(ax: Axes, letter: str) -> None:
    ax.text(-0.02, 1.02, letter, transform=ax.transAxes, fontsize=10, fontweight="bold",
            ha="right", va="bottom")


# ----------------------------------------------------------------------------- helpers


def _groups(result) -> list[str]:
    """Group (time course) or cell ("A|B", factorial) labels, reference first."""
    return get_design(result.design).groups(result)


def _row_groups(result) -> pd.Series:
    """Group / cell label of every row of the validated frame."""
    return get_design(result.design).row_groups(result)


def _colours(result) -> dict[str, str]:
    return {g: PALETTE[i % len(PALETTE)] for i, g in enumerate(_groups(result))}


def _markers(result) -> dict[str, str]:
    return {g: MARKERS[i % len(MARKERS)] for i, g in enumerate(_groups(result))}


def _value_label(result) -> str:
    return outcome_axis(result)


def _time_label(result) -> str:
    unit = result.sheet.time_unit or str(result.sheet.columns.get("time", "time"))
    if result.settings.get("baseline", "auto") == "auto":
        return f"Time after injection ({unit})"
    return f"Time ({unit})"


def _dodge(n: int, width: float) -> np.ndarray:
    if n <= 1:
        return np.zeros(max(n, 1))
    return np.linspace(-width / 2, width / 2, n)


def _time_step(times) -> float:
    t = np.unique(np.asarray(times, dtype=float))
    return float(np.min(np.diff(t))) if len(t) > 1 else 1.0


def _est(result, name: str) -> pd.DataFrame:
    e = result.estimates
    return e[e["name"] == name]


def _sem(x: pd.Series) -> float:
    x = x.dropna()
    return float(x.std(ddof=1) / np.sqrt(len(x))) if len(x) > 1 else np.nan


def observed_percent(result) -> pd.DataFrame:
    """The lab's % of baseline of every fraction, baseline fractions included.

    Each fraction as % of its animal's mean baseline, below-limit values as limit/2, as
    `bayes_igf1.designs.timecourse.percent_of_baseline` computes it for the ANOVA (this
    adds the baseline fractions, which that function leaves out).
    """
    from bayes_igf1.designs.timecourse import percent_of_baseline

    f = result.sheet.frame
    post, _ = percent_of_baseline(f)
    sub = f.assign(value_sub=np.where(f["censored"], f["value"] / 2.0, f["value"]))
    base = sub[sub["time"] <= 0]
    means = base.groupby("animal", observed=True)["value_sub"].mean()
    base = base.assign(pct=100.0 * base["value_sub"] / base["animal"].map(means))
    cols = ["animal", "group", "time", "pct"]
    out = pd.concat([base[cols], post[cols]], ignore_index=True)
    out["group"] = out["group"].astype(str)
    return out


def _observed_summary(result) -> tuple[pd.DataFrame, str]:
    """Observed mean ± SEM per group and time, on the trajectory's reporting scale."""
    traj = _est(result, "trajectory")
    scale = str(traj["scale"].iloc[0]) if len(traj) else ""
    f = result.sheet.frame
    if scale == "% of baseline":
        obs = observed_percent(result).rename(columns={"pct": "y"})
        label = f"{outcome_label(result)} (% of baseline)"  # a percentage: no unit of the outcome
    elif scale == "change from baseline":
        sub = f.assign(y=np.where(f["censored"], f["value"] / 2.0, f["value"]))
        base = sub[sub["time"] <= 0].groupby("animal", observed=True)["y"].mean()
        obs = sub.assign(y=sub["y"] - sub["animal"].map(base))[["animal", "group", "time", "y"]]
        label = f"{_value_label(result)} (change from baseline)"
    else:
        obs = f.assign(y=np.where(f["censored"], f["value"] / 2.0, f["value"]))[["animal", "group", "time", "y"]]
        label = _value_label(result)
    obs = obs.assign(group=obs["group"].astype(str))
    summ = obs.groupby(["group", "time"], observed=True)["y"].agg(["mean", _sem, "count"]).reset_index()
    summ = summ.rename(columns={"_sem": "sem"})
    return summ, label


# ------------------------------------------------------------------------- time course


@_styled
def plot_timecourse_percent(result, *, ax: Axes | None = None, legend: bool = True) -> tuple[Figure, Axes]:
    """Observed mean ± SEM per group and time (the lab's % of baseline) over the model.

    The model is the posterior median of ``trajectory`` (100 exp(beta): the group's level
    relative to its animals' baselines) with its 95% band; time points are dodged.
    """
    fig, ax = _new_axes(ax, (ONE_COLUMN, 2.6))
    groups, colours, markers = _groups(result), _colours(result), _markers(result)
    summ, label = _observed_summary(result)
    traj = _est(result, "trajectory")
    step = _time_step(summ["time"])
    offs = dict(zip(groups, _dodge(len(groups), 0.25 * step), strict=True))
    if "change from baseline" in label:
        ax.axhline(0.0, color="0.6", lw=0.7, ls=":", zorder=0)
    elif "% of baseline" in label:
        ax.axhline(100.0, color="0.6", lw=0.7, ls=":", zorder=0)
    if result.settings.get("baseline", "auto") == "auto":
        ax.axvline(0.0, color="0.6", lw=0.7, ls="--", zorder=0)
    for g in groups:
        c = colours[g]
        t = traj[traj["group"].astype(str) == g].sort_values("time")
        if len(t):
            ax.fill_between(t["time"], t["ci_low"], t["ci_high"], color=c, alpha=0.15, lw=0, zorder=1)
            ax.plot(t["time"], t["median"], color=c, lw=1.1, alpha=0.9, zorder=2)
        s = summ[summ["group"] == g].sort_values("time")
        ax.errorbar(s["time"] + offs[g], s["mean"], yerr=s["sem"], fmt=markers[g], color=c, mfc="white",
                    mew=1.0, ms=4.0, lw=0.9, capsize=1.5, zorder=3, ls="none")
    ax.set_xlabel(_time_label(result))
    ax.set_ylabel(label)
    ax.set_xticks(sorted(summ["time"].unique()))
    ax.margins(x=0.03)
    if legend:
        handles, labels = timecourse_legend(result)
        lo, hi = ax.get_ylim()
        ax.set_ylim(lo, hi + 0.45 * (hi - lo))
        ax.legend(handles, labels, loc="upper left", handlelength=1.6, borderaxespad=0.2, ncol=2)
    return fig, ax


def _tc_label(result, g) -> str:
    """A time-course group as a legend shows it: a combination of several group factors "a|b" -> "a, b"."""
    return str(g).replace("|", ", ") if not isinstance(result.settings.get("group", ""), str) else str(g)


def timecourse_legend(result) -> tuple[list, list[str]]:
    """Legend entries of the time-course panels: one per group (combination "a, b"), observed and model keys."""
    groups, colours, markers = _groups(result), _colours(result), _markers(result)
    handles = [Line2D([], [], color=colours[g], marker=markers[g], mfc="white", lw=1.1) for g in groups]
    handles += [
        Line2D([], [], color="0.3", marker="o", mfc="white", ls="none"),
        (Patch(color="0.3", alpha=0.2, lw=0), Line2D([], [], color="0.3")),
    ]
    return handles, [_tc_label(result, g) for g in groups] + ["observed mean ± SEM", "posterior median, 95% HDI"]


@_styled
def plot_effect_vs_reference(
    result, *, ax: Axes | None = None, frequentist: bool = True, group_legend: bool = True
) -> tuple[Figure, Axes]:
    """Posterior % change (difference) of each group vs the reference per time, with HDIs.

    Filled markers: posterior median and 95% HDI; open markers: the mixed-model estimate
    and 95% CI (``frequentist=False`` leaves them out). The ROPE is shaded when set.
    """
    fig, ax = _new_axes(ax, (ONE_COLUMN, 2.6))
    eff = _est(result, "effect_vs_reference")
    colours, markers = _colours(result), _markers(result)
    groups = [g for g in _groups(result) if g in set(eff["group"].astype(str))]
    step = _time_step(eff["time"]) if len(eff) else 1.0
    from bayes_igf1.report.tables import frequentist_scale_note

    # The mixed model is drawn only on the same scale as the posterior (not % of baseline beside pg/mL).
    has_freq = frequentist and eff["freq_estimate"].notna().any() and not frequentist_scale_note(result)
    n_series = len(groups) * (2 if has_freq else 1)
    offs = iter(_dodge(n_series, 0.45 * step))
    ax.axhline(0.0, color="0.4", lw=0.8, zorder=0)
    rope = eff[["rope_low", "rope_high"]].dropna()
    if len(rope):
        lo, hi = float(rope["rope_low"].iloc[0]), float(rope["rope_high"].iloc[0])
        ax.axhspan(lo, hi, color="0.85", lw=0, zorder=0)
    for g in groups:
        e = eff[eff["group"].astype(str) == g].sort_values("time")
        c, m = colours[g], markers[g]
        d = next(offs)
        ax.errorbar(e["time"] + d, e["median"], yerr=[e["median"] - e["ci_low"], e["ci_high"] - e["median"]],
                    fmt=m, color=c, ms=4.2, lw=1.1, capsize=0, ls="none", zorder=3)
        if has_freq:
            d = next(offs)
            ok = e["freq_estimate"].notna()
            f = e[ok]
            ax.errorbar(f["time"] + d, f["freq_estimate"],
                        yerr=[f["freq_estimate"] - f["freq_ci_low"], f["freq_ci_high"] - f["freq_estimate"]],
                        fmt=m, color=c, mfc="white", ms=4.0, lw=0.8, capsize=0, ls="none", zorder=3)
    scale = str(eff["scale"].iloc[0]) if len(eff) else ""
    ref = _tc_label(result, eff["reference"].dropna().iloc[0]) if eff["reference"].notna().any() else "reference"
    ylabel = f"% change vs {ref}" if scale.startswith("%") else f"Difference vs {ref} ({_value_label(result)})"
    ax.set_ylabel(ylabel)
    ax.set_xlabel(_time_label(result))
    if len(eff):
        ax.set_xticks(sorted(eff["time"].unique()))
    handles = [Line2D([], [], color=colours[g], marker=markers[g], ls="none", label=_tc_label(result, g))
               for g in groups] if group_legend else []
    handles.append(Line2D([], [], color="0.3", marker="o", ls="-", lw=1.0, label="posterior median, 95% HDI"))
    if has_freq:
        handles.append(Line2D([], [], color="0.3", marker="o", mfc="white", ls="-", lw=0.8,
                              label="mixed model, 95% CI"))
    if len(rope):
        handles.append(Patch(color="0.85", lw=0, label=f"ROPE ±{_short(hi)}{'%' if scale.startswith('%') else ''}"))
    # Headroom above the highest interval so that the legend never covers a point.
    highs = [eff["ci_high"].to_numpy(float)] + ([eff["freq_ci_high"].to_numpy(float)] if has_freq else [])
    lows = [eff["ci_low"].to_numpy(float)] + ([eff["freq_ci_low"].to_numpy(float)] if has_freq else [])
    top = np.nanmax(np.concatenate(highs + [[0.0]]))
    bottom = np.nanmin(np.concatenate(lows + [[0.0]]))
    if np.isfinite(top) and np.isfinite(bottom) and top > bottom:
        ax.set_ylim(bottom - 0.05 * (top - bottom), top + (0.12 + 0.075 * len(handles)) * (top - bottom))
    ax.legend(handles=handles, loc="upper right", handlelength=1.4, borderaxespad=0.2)
    ax.margins(x=0.04)
    return fig, ax


def _log_ticks(axis) -> None:
    """Plain numbers (0.1, 1, 2, 5, 10, ...) on a log axis instead of powers of ten."""
    lo, hi = axis.get_view_interval()
    decades = np.log10(max(hi, 1e-300)) - np.log10(max(lo, 1e-300))
    subs = (1.0, 2.0, 5.0) if decades < 2.5 else (1.0,)
    axis.set_major_locator(mpl.ticker.LogLocator(base=10, subs=subs))
    axis.set_major_formatter(mpl.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(mpl.ticker.NullFormatter())


def _short(x: float) -> str:
    return f"{x:g}"


@_styled
def plot_spaghetti(result, *, ax: Axes | None = None, legend: bool = True) -> tuple[Figure, Axes]:
    """Every animal's observed values over time, one line per animal coloured by group.

    Log axis when the model is on the log scale; below-limit values are drawn as open
    markers at the limit.
    """
    fig, ax = _new_axes(ax, (ONE_COLUMN, 2.6))
    f = result.sheet.frame.assign(group=lambda d: d["group"].astype(str))
    colours = _colours(result)
    for (g, _a), d in f.sort_values("time").groupby(["group", "animal"], sort=False, observed=True):
        c = colours[g]
        ax.plot(d["time"], d["value"], color=c, lw=0.6, alpha=0.55, zorder=2)
        cens = d[d["censored"]]
        if len(cens):
            ax.plot(cens["time"], cens["value"], ls="none", marker="v", mfc="white", color=c, ms=4.5, mew=0.9,
                    zorder=3)
    if result.settings.get("baseline", "auto") == "auto":
        ax.axvline(0.0, color="0.6", lw=0.7, ls="--", zorder=0)
    if result.settings.get("scale", "log") == "log":
        ax.set_yscale("log")
        _log_ticks(ax.yaxis)
    ax.set_xticks(sorted(f["time"].unique()))
    ax.set_xlabel(_time_label(result))
    ax.set_ylabel(_value_label(result) + (" (log axis)" if result.settings.get("scale", "log") == "log" else ""))
    if legend:
        handles = [Line2D([], [], color=colours[g], lw=1.0, label=_tc_label(result, g)) for g in _groups(result)]
        if f["censored"].any():
            handles.append(Line2D([], [], color="0.3", marker="v", mfc="white", ls="none",
                                  label="below limit (at limit)"))
        ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, handlelength=1.4,
                  borderaxespad=0.2)
    return fig, ax


@_styled
def timecourse_figure(result) -> tuple[Figure, np.ndarray]:
    """The three time-course panels: a % of baseline, b effect vs reference, c each animal."""
    fig = Figure(figsize=(TWO_COLUMNS, 2.9), layout="constrained")
    axes = fig.subplots(1, 3)
    plot_timecourse_percent(result, ax=axes[0], legend=False)
    plot_effect_vs_reference(result, ax=axes[1], group_legend=False)
    plot_spaghetti(result, ax=axes[2], legend=False)
    handles, labels = timecourse_legend(result)
    ncol = len(labels) if len(labels) <= 6 else (len(labels) + 1) // 2  # many combinations: two rows
    fig.legend(handles, labels, loc="outside upper center", ncol=ncol, handlelength=1.6)
    for ax, letter in zip(axes, "abc", strict=True):
        _panel_letter(ax, letter)
    return fig, axes


# --------------------------------------------------------------------------- factorial


def _factor_levels(result) -> list[list[str]]:
    f = result.sheet.frame
    return [[str(x) for x in f[name].cat.categories] for name in result.sheet.factors]


def _first_and_rest(result) -> tuple[str, list[str], list[str], list[tuple[str, ...]]]:
    """The first factor and its levels; the other factors and every combination of their levels."""
    names = list(result.sheet.factors)
    levels = _factor_levels(result)
    return names[0], names[1:], levels[0], list(itertools.product(*levels[1:]))


def _in_cell(frame: pd.DataFrame, factors, cell) -> np.ndarray:
    return np.logical_and.reduce([frame[f].astype(str).to_numpy() == lv for f, lv in zip(factors, cell, strict=True)])


def _cell_estimates(result) -> pd.DataFrame:
    """Posterior cell means (cell medians for the lognormal family), with a str ``cell`` column."""
    e = _est(result, "cell_mean")
    if not len(e):
        e = _est(result, "cell_median")
    return e.assign(cell=e["cell"].astype(str)) if len(e) else e


@_styled
def plot_bar_dots(result, *, ax: Axes | None = None, seed: int = 0) -> tuple[Figure, Axes]:
    """Bars of the cell means ± SEM with every animal as a dot, and the posterior cell means.

    Cells are grouped by the second factor and coloured by the first. The diamond beside
    each bar is the posterior median of the cell mean with its 95% HDI. For a lognormal
    outcome the bars are geometric means (times / divided by exp of the SEM of the logs), the
    summary the posterior cell medians estimate.
    """
    fig, ax = _new_axes(ax, (ONE_COLUMN, 2.8))
    a_name, rest, la, lb = _first_and_rest(result)
    f = result.sheet.frame
    cells = _cell_estimates(result)
    rng = np.random.default_rng(seed)
    # a lognormal outcome's bars are geometric means, beside the posterior cell medians
    geometric = result.settings.get("family") == "lognormal" and bool((f["value"] > 0).all())
    colours = {a: PALETTE[i % len(PALETTE)] for i, a in enumerate(la)}
    width = 0.8 / len(la)
    xt, xl = [], []
    for j, b in enumerate(lb):
        for i, a in enumerate(la):
            x = j + (i - (len(la) - 1) / 2) * width
            d = f[_in_cell(f, result.sheet.factors, (a, *b))]
            y = d["value"].to_numpy(dtype=float)
            c = colours[a]
            if geometric:  # a lognormal outcome: geometric mean, times / divided by exp(SEM of the logs)
                m, se = float(np.mean(np.log(y))), _sem(pd.Series(np.log(y)))
                mean, err = float(np.exp(m)), [[np.exp(m) - np.exp(m - se)], [np.exp(m + se) - np.exp(m)]]
            else:
                mean, err = float(np.mean(y)), _sem(pd.Series(y))
            ax.bar(x, mean, width=width * 0.78, color=c, alpha=0.25, edgecolor=c, lw=0.9, zorder=1)
            ax.errorbar(x - width * 0.12, mean, yerr=err, color=c, lw=0.9, capsize=2, zorder=2)
            jit = rng.uniform(-width * 0.22, width * 0.05, len(y))
            cens = d["censored"].to_numpy(dtype=bool) if "censored" in d else np.zeros(len(y), bool)
            ax.scatter(x + jit[~cens], y[~cens], s=9, color=c, edgecolor="white", lw=0.3, zorder=3)
            if cens.any():
                ax.scatter(x + jit[cens], y[cens], s=12, marker="^", facecolor="white", edgecolor=c, lw=0.8, zorder=3)
            row = cells[cells["cell"] == "|".join((a, *b))]
            if len(row):
                r = row.iloc[0]
                ax.errorbar(x + width * 0.25, r["median"], yerr=[[r["median"] - r["ci_low"]], [r["ci_high"] - r["median"]]],
                            fmt="D", color="black", mfc=c, ms=4, lw=1.0, capsize=0, zorder=4)
        xt.append(j)
        xl.append(", ".join(b))
    ax.set_xticks(xt, xl)
    ax.set_xlabel(", ".join(rest))
    ax.set_ylabel(_value_label(result))
    ax.set_ylim(bottom=0 if np.nanmin(f["value"]) >= 0 else None)
    handles = [Patch(facecolor=colours[a], alpha=0.35, edgecolor=colours[a], label=a) for a in la]
    handles.append(Line2D([], [], color="0.3", marker="o", ls="none", ms=3, label="animal"))
    if "censored" in f and f["censored"].any():
        handles.append(Line2D([], [], color="0.3", marker="^", mfc="white", ls="none", ms=4,
                              label="censored (at cut-off)"))
    handles.append(Line2D([], [], color="0.3", ls="-", lw=0.9,
                          label="geometric mean ×/÷ SEM" if geometric else "mean ± SEM"))
    if len(cells):
        handles.append(Line2D([], [], color="black", marker="D", mfc="0.7", ms=4, lw=1.0,
                              label="posterior median, 95% HDI"))
    ax.legend(handles=handles, title=a_name, loc="upper left", bbox_to_anchor=(1.0, 1.0), borderaxespad=0.2,
              title_fontsize=7.5, handlelength=1.3)
    return fig, ax


@_styled
def plot_interaction(result, *, ax: Axes | None = None) -> tuple[Figure, Axes]:
    """Interaction plot: posterior cell means (median, 95% HDI) over the first factor, one line per level of the second."""
    fig, ax = _new_axes(ax, (ONE_COLUMN, 2.6))
    a_name, rest, la, lb = _first_and_rest(result)
    cells = _cell_estimates(result)
    f = result.sheet.frame
    geometric = result.settings.get("family") == "lognormal" and bool((f["value"] > 0).all())
    xs = np.arange(len(la), dtype=float)
    offs = _dodge(len(lb), 0.12)
    for j, b in enumerate(lb):
        c, m = PALETTE[(j + 1) % len(PALETTE)] if j else PALETTE[0], MARKERS[j % len(MARKERS)]
        med, lo, hi, obs = [], [], [], []
        for a in la:
            row = cells[cells["cell"] == "|".join((a, *b))]
            r = row.iloc[0] if len(row) else None
            med.append(np.nan if r is None else r["median"])
            lo.append(np.nan if r is None else r["ci_low"])
            hi.append(np.nan if r is None else r["ci_high"])
            v = f.loc[_in_cell(f, result.sheet.factors, (a, *b)), "value"].to_numpy(dtype=float)
            obs.append(float(np.exp(np.mean(np.log(v)))) if geometric else float(np.mean(v)))
        med, lo, hi = map(np.asarray, (med, lo, hi))
        x = xs + offs[j]
        ax.errorbar(x, med, yerr=[med - lo, hi - med], fmt=m + "-", color=c, ms=4.5, lw=1.2, capsize=0,
                    label=", ".join(b))
        ax.plot(x, obs, ls="none", marker="_", color=c, ms=8, mew=1.2)
    ax.set_xticks(xs, la)
    ax.set_xlabel(a_name)
    ax.set_ylabel(_value_label(result))
    handles, labels = ax.get_legend_handles_labels()
    handles.append(Line2D([], [], color="0.3", marker="_", ls="none", ms=8, mew=1.2))
    labels.append("observed geometric mean" if geometric else "observed mean")
    # to the right of the axes, as in the bar panel: never over the panel letter or the data
    ax.legend(handles, labels, title=f"{', '.join(rest)}\n(posterior median, 95% HDI)", loc="upper left",
              bbox_to_anchor=(1.0, 1.0), borderaxespad=0.2, title_fontsize=7.5, handlelength=1.5)
    ax.margins(x=0.15)
    return fig, ax


def estimand_draws(result, name: str, cell: str | None = None, group: str | None = None, *,
                   store: str = "estimands") -> np.ndarray | None:
    """Posterior draws of a reported contrast ("interaction", "blockade_pct"), flattened.

    Read from the tree's ``estimands`` group, where the design stores the draws of every
    reported contrast as it computed them, for the cell ``"a|b"`` (the first such estimate
    when None). The draws are checked against the estimates table (same median): None when
    they do not match or are not stored. ``store="prior_estimands"``: the same contrast's
    draws under the prior (not checked against the table).
    """
    rows = _est(result, name)
    if group is not None:
        rows = rows[rows["group"] == group]
    if not len(rows) or store not in result.tree.children:
        return None
    row = rows.iloc[0] if cell is None else rows[rows["cell"].astype(str) == cell].iloc[0]
    prior = store != "estimands"
    store = result.tree[store]
    for var in store.data_vars:
        da = store[var]
        if da.attrs.get("name") != name or da.attrs.get("group") != row["group"]:
            continue
        dim = f"{var}_cell"
        if str(row["cell"]) not in set(np.asarray(da[dim].values, dtype=str)):
            continue
        draws = np.asarray(da.sel({dim: str(row["cell"])}).values, dtype=float).ravel()
        if prior or np.isclose(float(np.median(draws)), float(row["median"]), rtol=1e-6, atol=1e-9):
            return draws
    return None


@_styled
def plot_contrast_density(result, *, name: str = "interaction", cell: str | None = None,
                          ax: Axes | None = None) -> tuple[Figure, Axes]:
    """Posterior density of a factorial contrast (the interaction, the % blockade) with its HDI and ROPE.

    Reference lines: no effect (0, or 1 for a ratio); for the % blockade also 50% and
    100% (full blockade). Without draws (see `estimand_draws`) only the median and HDI are drawn.
    """
    fig, ax = _new_axes(ax, (ONE_COLUMN, 2.3))
    rows = _est(result, name)
    if cell is not None:
        rows = rows[rows["cell"].astype(str) == cell]
    if not len(rows):
        ax.text(0.5, 0.5, f"no estimate '{name}'", transform=ax.transAxes, ha="center", va="center")
        return fig, ax
    r = rows.iloc[0]
    draws = estimand_draws(result, name, str(r["cell"]), group=r["group"])
    colour = PALETTE[1]
    ci_label = f"{100 * float(r['ci_prob']):g}% {str(r.get('ci_kind', 'hdi')).upper()}"
    if pd.notna(r.get("rope_low")) and pd.notna(r.get("rope_high")):
        ax.axvspan(r["rope_low"], r["rope_high"], color="0.85", lw=0, zorder=0,
                   label=f"ROPE [{r['rope_low']:.3g}, {r['rope_high']:.3g}]")
    scale = str(r.get("scale") or "")
    ratio = "ratio" in scale
    if ratio:  # a ratio (of ratios) on a log axis, symmetric about 1
        ax.set_xscale("log")
    if name == "blockade_pct":  # three reference lines, keyed in the legend: labels at the lines collide
        for x, ls, text in ((0.0, "-", "none (0%)"), (50.0, ":", "half (50%)"), (100.0, "--", "full (100%)")):
            ax.axvline(x, color="0.4", lw=0.8, ls=ls, zorder=1, label=text)
    else:  # one reference line, labelled at its top
        x = 1.0 if ratio else 0.0
        ax.axvline(x, color="0.4", lw=0.8, ls="-", zorder=1)
        ax.text(x, 1.0, " no effect", transform=ax.get_xaxis_transform(), fontsize=6.5, color="0.3",
                ha="left", va="top", rotation=90)
    if draws is not None and np.isfinite(draws).sum() > 10 and (not ratio or np.all(draws[np.isfinite(draws)] > 0)):
        # a ratio's density is drawn on its log axis: the KDE of the log draws
        fwd, back = (np.log, np.exp) if ratio else ((lambda v: v), (lambda v: v))
        d = fwd(draws[np.isfinite(draws)])
        lo_q, hi_q = np.quantile(d, [0.005, 0.995])
        lo_q, hi_q = min(lo_q, float(fwd(r["ci_low"]))), max(hi_q, float(fwd(r["ci_high"])))
        g = np.linspace(lo_q - 0.1 * (hi_q - lo_q), hi_q + 0.1 * (hi_q - lo_q), 400)
        dens = kde(d[(d >= g[0]) & (d <= g[-1])], g)
        grid = back(g)
        ax.plot(grid, dens, color=colour, lw=1.3, zorder=2)
        inside = (grid >= r["ci_low"]) & (grid <= r["ci_high"])
        ax.fill_between(grid[inside], dens[inside], color=colour, alpha=0.25, lw=0, zorder=1, label=ci_label)
        ax.set_ylim(0, float(dens.max()) * 1.3)
        ax.set_ylabel("Posterior density")
    else:
        ax.errorbar([r["median"]], [0.5], xerr=[[r["median"] - r["ci_low"]], [r["ci_high"] - r["median"]]],
                    fmt="o", color=colour, lw=1.3, label=f"median, {ci_label}")
        ax.set_ylim(0, 1)
    ax.plot([r["median"]], [0.0], marker="^", color="black", ms=5, zorder=3, clip_on=False, ls="none",
            label="median")
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
    titles = {"interaction": "Interaction contrast", "blockade_pct": "% blockade"}
    ax.set_title(titles.get(name, name.replace("_", " ")), fontsize=8.5)
    from bayes_igf1.report.format import outcome_unit

    unit = outcome_unit(result) if name == "interaction" and not ratio else ""
    label = str(r.get("label") or name) + (f" ({scale}{', ' + unit if unit else ''})"
                                           if scale and name == "interaction" else "")
    if ratio:  # plain ratios at round values, no crowded minor labels
        from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator, StrMethodFormatter

        lo, hi = ax.get_xlim()
        ticks = [t for t in (0.1, 0.2, 0.25, 0.5, 1, 2, 4, 5, 10) if lo <= t <= hi]
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_major_formatter(StrMethodFormatter("{x:g}"))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_minor_formatter(NullFormatter())
    else:  # at least 4-6 labelled ticks on a narrow panel (e.g. 0, 50, 100, 150 for a % blockade)
        ax.xaxis.set_major_locator(mpl.ticker.MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
    ax.set_xlabel(textwrap.fill(label, 34))
    # right of the axes: never over the panel letter, the reference lines' labels or the density
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), borderaxespad=0.2, handlelength=1.2, fontsize=6.5)
    return fig, ax


@_styled
def survival_figure(result, *, ax: Axes | None = None, max_draws: int = 400) -> tuple[Figure, Axes]:
    """Kaplan-Meier curve of each cell (steps, censored times as ticks) with the posterior survival curve
    of its cell mean over it (median and 95% band of S(t) = P(Y > t) over the posterior draws of the cell
    mean and sigma; normal or lognormal family), and the cut-off / follow-up end marked."""
    from statsmodels.duration.survfunc import SurvfuncRight

    standalone = ax is None
    fig, ax = _new_axes(ax, (ONE_COLUMN, 3.5))
    f = result.sheet.frame.reset_index(drop=True)
    factors = list(result.sheet.factors)
    labels = get_design(result.design).row_groups(result).reset_index(drop=True)
    cells = get_design(result.design).groups(result)
    post = result.tree["posterior"] if "posterior" in result.tree.children else None
    log = result.settings.get("family") == "lognormal"
    t_max = float(f["value"].max())
    grid = np.linspace(1e-9 if log else float(f["value"].min()), t_max, 200)
    for i, cell in enumerate(cells):
        colour = PALETTE[i % len(PALETTE)]
        d = f[labels == cell]
        if not len(d):
            continue
        km = SurvfuncRight(d["value"].to_numpy(dtype=float), (~d["censored"].to_numpy(dtype=bool)).astype(int))
        x = np.concatenate([[0.0], km.surv_times, [t_max]])
        y = np.concatenate([[1.0], km.surv_prob, [km.surv_prob[-1] if len(km.surv_prob) else 1.0]])
        ax.step(x, y, where="post", color=colour, lw=1.2, label=cell.replace("|", ", "))
        cens = d[d["censored"].to_numpy(dtype=bool)]["value"].to_numpy(dtype=float)
        if len(cens):
            s_at = np.array([y[np.searchsorted(x, c, side="right") - 1] for c in cens])
            ax.plot(cens, s_at, ls="none", marker="|", ms=6, color=colour)
        if post is not None and "cell_mean" in post.data_vars:
            levels = dict(zip(factors, cell.split("|"), strict=True))
            mu = np.asarray(post["cell_mean"].sel(levels).values, dtype=float).ravel()
            sd = np.asarray(post["sigma"].values, dtype=float).ravel()
            keep = np.linspace(0, len(mu) - 1, min(max_draws, len(mu))).astype(int)
            z = ((np.log(grid) if log else grid)[None, :] - mu[keep, None]) / sd[keep, None]
            surv = (stats.t.sf(z, np.asarray(post["nu"].values, dtype=float).ravel()[keep, None])
                    if "nu" in post.data_vars else stats.norm.sf(z))
            lo, med, hi = np.quantile(surv, [0.025, 0.5, 0.975], axis=0)
            ax.fill_between(grid, lo, hi, color=colour, alpha=0.12, lw=0)
            ax.plot(grid, med, color=colour, lw=0.9, ls="--")
    cut = float(f.loc[f["censored"].astype(bool), "value"].max()) if f["censored"].any() else None
    if cut is not None:
        ax.axvline(cut, color="0.4", lw=0.8, ls=":")
        ax.text(cut, 1.02, "cut-off", transform=ax.get_xaxis_transform(), ha="center", va="bottom", fontsize=7,
                color="0.3")
    ax.set_ylim(0, 1.02)
    ax.set_xlim(0, t_max * 1.02)
    ax.set_xlabel(_value_label(result))
    ax.set_ylabel("Proportion without the event")
    handles, names = ax.get_legend_handles_labels()
    handles += [Line2D([], [], color="0.3", lw=1.2), Line2D([], [], color="0.3", lw=0.9, ls="--"),
                Patch(color="0.3", alpha=0.15)]
    names += ["Kaplan-Meier (| censored)", "posterior median S(t)", "95% band"]
    if standalone:  # a one-column figure: the key below the axes, two columns, the plot full width
        fig.legend(handles, names, loc="outside lower center", ncol=2, fontsize=7, handlelength=1.8,
                   columnspacing=1.0)
    else:
        ax.legend(handles, names, loc="upper left", bbox_to_anchor=(1.0, 1.0), borderaxespad=0.2, fontsize=7)
    return fig, ax


@_styled
def factorial_figure(result) -> tuple[Figure, np.ndarray]:
    """Factorial panels: a bar-and-dots, b interaction plot, c-d posterior of the interaction and the % blockade."""
    names = [n for n in ("interaction", "blockade_pct") if len(_est(result, n))]
    fig = Figure(figsize=(TWO_COLUMNS, 5.2), layout="constrained")
    axes = fig.subplots(2, 2)
    plot_bar_dots(result, ax=axes[0, 0])
    plot_interaction(result, ax=axes[0, 1])
    for k, ax in enumerate(axes[1]):
        if k < len(names):
            plot_contrast_density(result, name=names[k], ax=ax)
        else:
            ax.set_visible(False)
    for ax, letter in zip(axes.ravel(), "abcd", strict=True):
        if ax.get_visible():
            _panel_letter(ax, letter)
    return fig, axes


# ------------------------------------------------------------------------------ checks


def _observed_vars(result, group: str) -> list[str]:
    if group not in result.tree.children or "observed_data" not in result.tree.children:
        return []
    obs = result.tree["observed_data"]
    return [v for v in ("y", "y_below_limit", "y_censored") if v in obs.data_vars and v in result.tree[group].data_vars]


def _predictive(result, group: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Observed values, predictive draws (draw x obs) and the row group label of each observation."""
    labels = _row_groups(result)
    ys, preds, groups = [], [], []
    for v in _observed_vars(result, group):
        o = result.tree["observed_data"][v]
        p = result.tree[group][v]
        dim = o.dims[0] if o.dims else None
        if dim is None:
            continue
        rows = np.asarray(o[dim].values)
        if np.issubdtype(rows.dtype, np.integer) and len(rows) and rows.min() >= 0 and rows.max() < len(labels):
            g = labels.iloc[rows].to_numpy()
        else:
            g = np.array(["all"] * len(rows))
        # draws in (chain, draw) order, as stack(("chain", "draw")) gives them, without building its index
        pred = np.asarray(p.transpose("chain", "draw", dim).values, dtype=float).reshape(-1, p.sizes[dim])
        cut = _right_censoring_times(result)
        if cut is not None and np.issubdtype(rows.dtype, np.integer):
            pred = np.minimum(pred, cut[rows])  # replicates censored as the data were
        ys.append(np.asarray(o.values, dtype=float))
        preds.append(pred)
        groups.append(g)
    if not ys:
        return np.empty(0), np.empty((0, 0)), np.empty(0)
    return np.concatenate(ys), np.concatenate(preds, axis=1), np.concatenate(groups)


def _right_censoring_times(result) -> np.ndarray | None:
    """Each row's censoring time for right-censored data (its own when censored, else the follow-up end)."""
    f = result.sheet.frame
    if result.sheet.summary().get("censoring") != "right":
        return None
    from bayes_igf1.checks import censoring_times

    return censoring_times(f["value"].to_numpy(), f["censored"].to_numpy())


def _scale_transform(result):
    """(to model scale, from model scale, log axis?) for the values held in the tree's observed data."""
    return get_design(result.design).predictive_transform(result)


@_styled
def plot_ppc(result, *, group: str | None = None, kind: str = "posterior", n_draws: int = 60,
             ax: Axes | None = None, seed: int = 0, _data=None) -> tuple[Figure, Axes]:
    """Densities of ``n_draws`` predictive data sets over the observed density, for one group.

    Parameters
    ----------
    group : str, optional
        Group (time course) or cell ("A|B"); all observations when None.
    kind : {"posterior", "prior"}
        Posterior or prior predictive.
    """
    fig, ax = _new_axes(ax, (ONE_COLUMN, 2.2))
    # (observed, predictive draws, row groups, censoring times): computed once by a multi-panel caller
    y, pred, g, cut = _data if _data is not None else (*_predictive(result, f"{kind}_predictive"),
                                                        _right_censoring_times(result))
    if y.size == 0:
        ax.text(0.5, 0.5, f"no {kind} predictive draws", transform=ax.transAxes, ha="center", va="center")
        return fig, ax
    if group is not None:
        keep = g == group
        y, pred = y[keep], pred[:, keep]
    forward, inverse, logaxis = _scale_transform(result)
    y, pred = forward(y), forward(pred)
    rng = np.random.default_rng(seed)
    pick = rng.choice(pred.shape[0], size=min(n_draws, pred.shape[0]), replace=False)
    span = np.quantile(y, [0.0, 1.0])
    width = span[1] - span[0] if span[1] > span[0] else 1.0
    grid = np.linspace(span[0] - 0.6 * width, span[1] + 0.6 * width, 256)
    colour = PALETTE[1] if kind == "posterior" else PALETTE[4]
    for i in pick:
        d = pred[i]
        d = d[np.isfinite(d)]
        if len(d) > 2 and np.ptp(d) > 0:
            ax.plot(inverse(grid), kde(d, grid), color=colour, lw=0.4, alpha=0.25)
    if len(y) > 2 and np.ptp(y) > 0:
        ax.plot(inverse(grid), kde(y, grid), color="black", lw=1.4)
    ax.plot(inverse(y), np.zeros_like(y), ls="none", marker="|", color="black", ms=5, mew=0.6, clip_on=False)
    if cut is not None:  # replicates are censored there, as the data are
        ax.axvline(float(np.max(cut)), color="grey", lw=0.8, ls="--")
        ax.text(float(np.max(cut)), 1.0, " censored here", transform=ax.get_xaxis_transform(), fontsize=6,
                color="grey", va="top", ha="left")
    if logaxis:
        ax.set_xscale("log")
        _log_ticks(ax.xaxis)
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
    ax.set_ylim(bottom=0)
    ax.set_title(group.replace("|", " / ") if group is not None else "all observations", fontsize=8)
    ax.set_xlabel(_value_label(result) + (" (log axis)" if logaxis else ""))
    return fig, ax


@_styled
def plot_prior_predictive(result, *, ax: Axes | None = None) -> tuple[Figure, Axes]:
    """Range of the prior predictive (50%, 90% and 99% intervals of every draw) beside the observed range.

    One row per group (cell); on the modelled scale (log when the model is), axis in the
    measured units. Priors that allow physically absurd values show up here.
    """
    fig, ax = _new_axes(ax, (ONE_COLUMN, 0.5 + 0.35 * len(_groups(result))))
    y, pred, g = _predictive(result, "prior_predictive")
    if y.size == 0:
        ax.text(0.5, 0.5, "no prior predictive draws", transform=ax.transAxes, ha="center", va="center")
        return fig, ax
    forward, inverse, logaxis = _scale_transform(result)
    y, pred = forward(y), forward(pred)
    labels = [x for x in _groups(result) if x in set(g)] or ["all"]
    colour = PALETTE[4]
    for k, lab in enumerate(labels):
        keep = g == lab if lab != "all" else np.ones_like(g, dtype=bool)
        d = pred[:, keep].ravel()
        d = d[np.isfinite(d)]
        q = np.quantile(d, [0.005, 0.05, 0.25, 0.5, 0.75, 0.95, 0.995])
        yk = len(labels) - 1 - k
        ax.plot(inverse(q[[0, 6]]), [yk, yk], color=colour, lw=1.0, alpha=0.6, solid_capstyle="butt")
        ax.plot(inverse(q[[1, 5]]), [yk, yk], color=colour, lw=3.0, alpha=0.8, solid_capstyle="butt")
        ax.plot(inverse(q[[2, 4]]), [yk, yk], color=colour, lw=6.0, solid_capstyle="butt")
        obs = y[keep]
        ax.plot(inverse(obs), np.full(len(obs), yk + 0.22), ls="none", marker="|", color="black", ms=5, mew=0.6)
    ax.set_yticks(range(len(labels)), [lab.replace("|", " / ") for lab in labels[::-1]])
    ax.set_ylim(-0.6, len(labels) - 0.3)
    if logaxis:
        ax.set_xscale("log")
        _log_ticks(ax.xaxis)
    ax.set_xlabel(_value_label(result) + (" (log axis)" if logaxis else ""))
    handles = [Line2D([], [], color=colour, lw=6, label="prior predictive 50%"),
               Line2D([], [], color=colour, lw=1, alpha=0.6, label="99%"),
               Line2D([], [], color=colour, lw=3, alpha=0.8, label="90%"),
               Line2D([], [], color="black", marker="|", ls="none", label="observed")]
    # two rows (read across: 50%, 90% / 99%, observed), narrower than the axes of a one-column figure
    ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, handlelength=1.5,
              columnspacing=1.0, borderaxespad=0.2)
    return fig, ax


@_styled
def ppc_figure(result, *, n_draws: int = 60) -> tuple[Figure, np.ndarray]:
    """Posterior predictive check, one panel per group (cell)."""
    data = (*_predictive(result, "posterior_predictive"), _right_censoring_times(result))  # once, for every panel
    g = data[2]
    labels = [x for x in _groups(result) if x in set(g)] or [None]
    ncol = min(len(labels), 4)
    nrow = int(np.ceil(len(labels) / ncol))
    fig = Figure(figsize=(TWO_COLUMNS, 1.9 * nrow + 0.3), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrow, ncol, squeeze=False)).ravel()
    for ax, lab in zip(axes, labels, strict=False):
        plot_ppc(result, group=lab, n_draws=n_draws, ax=ax, _data=data)
    for ax in axes[len(labels):]:
        ax.set_visible(False)
    handles = [Line2D([], [], color="black", lw=1.4, label="observed"),
               Line2D([], [], color=PALETTE[1], lw=0.8, alpha=0.6, label=f"{n_draws} posterior predictive data sets")]
    fig.legend(handles=handles, loc="outside upper center", ncol=2)
    return fig, axes


# ------------------------------------------------------------------------------- all


@_styled
def ppc_over_time(result, *, max_draws: int = 1000) -> tuple[Figure, np.ndarray] | None:
    """Per-time posterior predictive check of a time course: for each group, the observed mean of
    the measured values at each time (on the modelled scale) over the 50% and 95% intervals of the
    same mean in data sets replicated from the posterior predictive (the same rows). Below-limit
    values are left out of both. None without a posterior predictive group."""
    if "posterior_predictive" not in result.tree.children or "y" not in result.tree["observed_data"].data_vars:
        return None
    obs = result.tree["observed_data"]["y"]
    rows = np.asarray(obs["obs"].values, dtype=int)
    f = result.sheet.frame.reset_index(drop=True)
    if "time" not in f.columns or rows.max() >= len(f):
        return None
    pp = result.tree["posterior_predictive"]["y"]
    pred = np.asarray(pp.transpose("chain", "draw", "obs").values).reshape(-1, pp.sizes["obs"])  # (chain, draw) order
    pred = pred[np.linspace(0, len(pred) - 1, min(max_draws, len(pred))).astype(int)]
    y = np.asarray(obs.values, dtype=float)
    groups = get_design(result.design).row_groups(result).to_numpy()[rows]
    times = f["time"].to_numpy(dtype=float)[rows]
    names = [g for g in get_design(result.design).groups(result) if (groups == g).any()]
    fig = Figure(figsize=(TWO_COLUMNS, 2.1), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(names), sharey=True))
    for ax, g in zip(axes, names, strict=True):
        ts = np.unique(times[groups == g])
        o, q = [], []
        for t in ts:
            m = (groups == g) & (times == t)
            o.append(y[m].mean())
            q.append(np.quantile(pred[:, m].mean(axis=1), [0.025, 0.25, 0.5, 0.75, 0.975]))
        q = np.array(q)
        ax.fill_between(ts, q[:, 0], q[:, 4], color=PALETTE[1], alpha=0.15, lw=0, label="95% predictive")
        ax.fill_between(ts, q[:, 1], q[:, 3], color=PALETTE[1], alpha=0.3, lw=0, label="50% predictive")
        ax.plot(ts, o, "o-", color="black", ms=3.5, lw=1.0, label="observed mean")
        ax.set_title(str(g).replace("|", ", "), fontsize=8)
        ax.set_xlabel(_time_label(result))
    scale = " (log scale)" if get_design(result.design).log_scale(result) else ""
    axes[0].set_ylabel(textwrap.fill(f"mean {outcome_label(result)}{scale}", 24))
    axes[-1].legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), borderaxespad=0.2, fontsize=7)
    return fig, axes


@_styled
def rank_figure(result, *, n: int = 4, bins: int = 20) -> tuple[Figure, np.ndarray] | None:
    """Rank plots of the ``n`` parameters with the worst (largest) R-hat: for each, the histogram of
    each chain's draws' ranks among all draws. Chains that mix well give flat histograms at the
    dotted line (Vehtari et al. 2021). None when the diagnostics table names no parameter."""
    from scipy.stats import rankdata

    table = result.diagnostics.table
    if table is None or not len(table) or "posterior" not in result.tree.children:
        return None
    post = result.tree["posterior"]
    free = table[~table["variable"].astype(str).str.startswith("estimand:")].sort_values("rhat", ascending=False)
    picks = []
    for r in free.to_dict("records"):
        if r["variable"] not in post.data_vars:
            continue
        da = post[r["variable"]]
        other = [d for d in da.dims if d not in ("chain", "draw")]
        if other:
            flat = da.stack(_e=other)
            labels = [", ".join(str(v) for v in (x if isinstance(x, tuple) else (x,))) for x in flat["_e"].values]
            if str(r["element"]) not in labels:
                continue
            da = flat.isel(_e=labels.index(str(r["element"])))
        picks.append((f"{r['variable']}[{r['element']}]" if other else str(r["variable"]), r["rhat"],
                      np.asarray(da.transpose("chain", "draw").values, dtype=float)))
        if len(picks) == n:
            break
    if not picks:
        return None
    fig = Figure(figsize=(TWO_COLUMNS, 1.9), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(picks)))
    for ax, (name, rhat, draws) in zip(axes, picks, strict=True):
        ranks = rankdata(draws.ravel()).reshape(draws.shape)
        edges = np.linspace(0, ranks.size, bins + 1)
        for c in range(draws.shape[0]):
            counts, _ = np.histogram(ranks[c], bins=edges)
            # every bin, the last one included (a step line stopped at the last bin's left edge)
            ax.stairs(counts, edges, baseline=None, lw=1.0, color=PALETTE[c % len(PALETTE)])
        ax.axhline(draws.shape[1] / bins, color="0.4", lw=0.8, ls=":")
        ax.set_title(textwrap.fill(name, 30) + f"\nR-hat {rhat:.3f}", fontsize=7.5)
        ax.set_xlabel("rank of the draw")
        ax.set_yticks([])
    axes[0].set_ylabel("draws per bin")
    return fig, axes


def make_figures(result) -> dict[str, tuple[Figure, str]]:
    """Every figure of an analysis: name -> (figure, caption)."""
    out: dict[str, tuple[Figure, str]] = dict(get_design(result.design).figures(result))
    if "posterior_predictive" in result.tree.children:
        fig, _ = ppc_figure(result)
        out["ppc"] = (fig, ("Posterior predictive check per group: density of the observed values (black) and of "
                            "simulated data sets from the posterior predictive (blue). Systematic misfit shows as "
                            "observed curves outside the simulated ones."))
    over_time = ppc_over_time(result) if "time" in result.sheet.frame.columns else None
    if over_time is not None:
        out["ppc_time"] = (over_time[0], ("Posterior predictive check at each time: the observed mean of each "
                                          "group's measured values (black) within the 50% and 95% intervals of the "
                                          "same mean in data replicated from the posterior (blue), on the modelled "
                                          "scale; below-limit values left out of both."))
    ranks = rank_figure(result)
    if ranks is not None:
        out["ranks"] = (ranks[0], ("Rank plots of the parameters with the largest R-hat: for each chain (one colour "
                                   "each), how its draws rank among all draws. Well-mixed chains give flat "
                                   "histograms around the dotted line."))
    prior_post = prior_posterior_figure(result)
    if prior_post is not None:
        out["prior_posterior"] = (prior_post[0], (
            "Prior (grey histogram, the prior draws) and posterior (line) of each headline estimand, the same function "
            "of the prior's and the posterior's draws: a posterior much narrower than its prior means the data, not "
            "the prior, set the estimate."))
    if "prior_predictive" in result.tree.children:
        fig, _ = plot_prior_predictive(result)
        out["prior_predictive"] = (fig, ("Prior predictive range per group (50%, 90%, 99% intervals of values "
                                         "simulated from the priors alone, before seeing the data) beside the "
                                         "observed values (black ticks)."))
    return out


def _headline_axis_label(result, label: str, scale: str) -> str:
    """An estimate's label with its unit: the outcome's for differences, % for a blockade, the scale of a ratio."""
    from bayes_igf1.report.format import outcome_unit
    from bayes_igf1.report.tables import _display_label

    rows = result.estimates[result.estimates["label"] == label]
    name = str(rows["name"].iloc[0]) if len(rows) else ""
    if name in ("auc", "auc_difference"):
        return _display_label(rows.iloc[0].to_dict(), result)
    if "blockade" in name:
        return f"{label} (%)"
    if "ratio" in scale:
        return f"{label} ({scale})"
    unit = outcome_unit(result)
    return f"{label} ({unit})" if unit else label


@_styled
def prior_posterior_figure(result) -> tuple[Figure, np.ndarray] | None:
    """Prior (grey histogram) and posterior (line) of each headline estimand, from posterior.nc's
    ``prior_estimands`` and ``estimands`` groups (the design's ``headline_draws``); None when the
    design or the folder has no prior draws of them."""
    headline = getattr(get_design(result.design), "headline_draws", None)
    if headline is None:
        return None
    post, prior = headline(result, "estimands"), headline(result, "prior_estimands")
    labels = [k for k in post if k in prior]
    if not labels:
        return None
    ncol = min(len(labels), 2)
    nrow = -(-len(labels) // ncol)
    fig = Figure(figsize=(ONE_COLUMN if ncol == 1 else TWO_COLUMNS, 1.9 * nrow), layout="constrained")
    axes = fig.subplots(nrow, ncol, squeeze=False)
    for ax, label in zip(axes.flat, labels, strict=False):
        d_post, scale = post[label]
        d_prior = prior[label][0]
        d_post, d_prior = d_post[np.isfinite(d_post)], d_prior[np.isfinite(d_prior)]
        ratio = "ratio" in scale and (d_post > 0).all() and (d_prior > 0).all()
        fwd, back = (np.log, np.exp) if ratio else ((lambda v: v), (lambda v: v))
        p, q = fwd(d_post), fwd(d_prior)
        lo, hi = np.quantile(p, [0.001, 0.999])
        qlo, qhi = np.quantile(q, [0.1, 0.9])  # the prior's central 80%, within six posterior widths
        mid, width = float(np.median(p)), float(hi - lo)
        lo, hi = max(min(lo, qlo), mid - 3 * width), min(max(hi, qhi), mid + 3 * width)
        g = np.linspace(lo, hi, 400)
        counts, edges = np.histogram(q, bins=40, range=(lo, hi))
        ax.stairs(counts / (q.size * np.diff(edges)), back(edges), fill=True, color="0.8", lw=0,
                  label=f"prior ({q.size} draws)")
        ax.plot(back(g), kde(p, g), color=PALETTE[1], lw=1.3, label="posterior")
        if ratio:  # plain numbers at the decades and their halves, not 10^k
            from matplotlib.ticker import NullFormatter, StrMethodFormatter

            ax.set_xscale("log")
            ax.xaxis.set_major_formatter(StrMethodFormatter("{x:g}"))
            ax.xaxis.set_minor_formatter(NullFormatter())
            ax.axvline(1.0, color="0.4", lw=0.8)
        else:
            ax.axvline(0.0, color="0.4", lw=0.8)
        ax.set_yticks([])
        ax.spines["left"].set_visible(False)
        ax.set_xlabel(textwrap.fill(_headline_axis_label(result, label, scale), 40), fontsize=7)
    for ax in list(axes.flat)[len(labels):]:
        ax.set_visible(False)
    axes.flat[0].legend(loc="upper left", fontsize=6.5, frameon=False)
    return fig, axes
