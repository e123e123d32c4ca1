"""The report's PNG plots, drawn with matplotlib's Agg renderer from the metrics files.

Figures are built as :class:`matplotlib.figure.Figure` objects, never through ``pyplot``, so no global
state or interactive backend is involved and a plot cannot leak into the next. Sizes and dpi are fixed
and the PNG metadata carries no software version, so the same metrics give the same bytes. A plot whose
inputs are missing is not drawn and says why (a source without an oracle, a run without GRPO logs).
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from matplotlib import colormaps
from matplotlib.figure import Figure

log = logging.getLogger(__name__)
DPI = 100
HIST_MS = 50
"""The residual histogram's half-width: the sync tolerance is 500 ms, a good fit sits within a few ms."""
COLORS = colormaps["tab10"]


@dataclass(frozen=True)
class Plot:
    """One plot of the report: the PNG's name under the plots folder, or why it was not drawn."""

    title: str
    file: str | None
    note: str = ""


def _save(fig: Figure, path: Path) -> None:
    fig.savefig(path, dpi=DPI, metadata={"Software": None})


def read_series(path: Path) -> tuple[list[float], list[float]]:
    """A dvclive ``.tsv`` (columns ``step`` and the value's name): steps and values."""
    with path.open(newline="") as f:
        rows = list(csv.reader(f, delimiter="\t"))
    return [float(r[0]) for r in rows[1:]], [float(r[1]) for r in rows[1:]]


def _interval_errors(intervals: list[Mapping]) -> list[list[float]]:
    """Error-bar lengths below and above each mean (clipped at 0: a bootstrap percentile can sit a
    rounding error past the mean, and matplotlib refuses negative lengths)."""
    return [
        [max(0.0, iv["mean"] - iv["ci_low"]) for iv in intervals],
        [max(0.0, iv["ci_high"] - iv["mean"]) for iv in intervals],
    ]


def _nan(x: float | None) -> float:
    """``None`` as NaN, which matplotlib leaves out of a plot."""
    return float("nan") if x is None else x


def _has_mean(interval: Mapping | None) -> bool:
    return isinstance(interval, Mapping) and interval.get("mean") is not None


def fields(evals: Mapping[str, Mapping], path: Path) -> str | None:
    """Per-field accuracy of each model (bars; the constant answer and chance marked), and the model's
    paired difference to its swapped-image control with its cluster interval (the per-field interval the
    metrics carry: the accuracy itself has none per field)."""
    per_model = {m: e["field_accuracy"]["per_field"] for m, e in evals.items()}
    first = next(iter(per_model.values()))
    names = [f for f in first if any(pf[f]["model"] is not None for pf in per_model.values())]
    if not names:
        return "no field was scored"
    fig = Figure(figsize=(13, 7), layout="constrained")
    acc, diff = fig.subplots(1, 2, sharey=True)
    height = 0.8 / len(per_model)
    for i, (model, pf) in enumerate(per_model.items()):
        ys = [k + (i - (len(per_model) - 1) / 2) * height for k in range(len(names))]
        acc.barh(ys, [_nan(pf[f]["model"]) for f in names], height, color=COLORS(i), label=model)
        kept = [(y, pf[f]["vs_swapped"]) for y, f in zip(ys, names, strict=True)]
        kept = [(y, iv) for y, iv in kept if iv["mean"] is not None and iv["ci_low"] is not None]
        if kept:
            ivs = [iv for _, iv in kept]
            diff.errorbar(
                [iv["mean"] for iv in ivs],
                [y for y, _ in kept],
                xerr=_interval_errors(ivs),
                fmt="o",
                color=COLORS(i),
                label=model,
            )
    ks = range(len(names))
    constant, chance = ([_nan(first[f][k]) for f in names] for k in ("constant", "chance"))
    acc.scatter(constant, ks, marker="x", color="black", label="constant", zorder=3)
    acc.scatter(chance, ks, marker="|", s=200, color="grey", label="chance", zorder=3)
    acc.set(yticks=list(ks), yticklabels=names, xlim=(0, 1), xlabel="accuracy on the test frames")
    acc.invert_yaxis()
    acc.legend(loc="lower right", fontsize="small")
    diff.axvline(0, color="black", linewidth=0.8)
    diff.set(xlabel="model − swapped image (95 % cluster interval)")
    diff.legend(loc="lower right", fontsize="small")
    fig.suptitle("Per-field accuracy")
    _save(fig, path)
    return None


def sft_loss(metrics_dir: Path, path: Path) -> str | None:
    """SFT training loss per step and the validation loss at each evaluation."""
    logs = metrics_dir / "sft" / "plots" / "metrics"
    train, val = logs / "loss.tsv", logs / "eval" / "loss.tsv"
    if not train.exists():
        return f"no {train}"
    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.subplots()
    ax.plot(*read_series(train), linewidth=1, label="train")
    if val.exists():
        ax.plot(*read_series(val), "o-", label="validation")
    ax.set(xlabel="step", ylabel="loss", title="SFT loss")
    ax.legend()
    _save(fig, path)
    return None


def grpo(metrics_dir: Path, path: Path) -> str | None:
    """Per GRPO run, the mean of every reward component per step; and the KL to the reference."""
    runs = sorted(d for d in metrics_dir.glob("grpo_*/plots/metrics") if d.is_dir())
    if not runs:
        return f"no {metrics_dir}/grpo_*/plots/metrics"
    fig = Figure(figsize=(6 * (len(runs) + 1), 4.5), layout="constrained")
    axes = fig.subplots(1, len(runs) + 1)
    for ax, logs in zip(axes, runs, strict=False):
        name = logs.parts[-3].removeprefix("grpo_")
        for i, series in enumerate(sorted(logs.glob("rewards/*/mean.tsv"))):
            ax.plot(*read_series(series), color=COLORS(i), linewidth=1, label=series.parent.name)
        ax.set(xlabel="step", ylabel="group mean", title=f"GRPO {name}: reward components")
        ax.legend(fontsize="small")
        if (logs / "kl.tsv").exists():
            axes[-1].plot(*read_series(logs / "kl.tsv"), linewidth=1, label=name)
    axes[-1].set(xlabel="step", ylabel="KL", title="KL to the reference model")
    axes[-1].legend()
    _save(fig, path)
    return None


def sync_residuals(metrics_dir: Path, path: Path) -> str | None:
    """Sync residual (ms) of every timer read against the fitted clock, per match."""
    source = metrics_dir / "sync_residuals.csv"
    if not source.exists():
        return f"no {source}"
    by_match: dict[str, tuple[list[float], list[float]]] = {}
    with source.open(newline="") as f:
        for row in csv.DictReader(f):
            xs, ys = by_match.setdefault(row["match"], ([], []))
            xs.append(float(row["video_s"]))
            ys.append(float(row["residual_ms"]))
    fig = Figure(figsize=(13, 4.5), layout="constrained")
    ax, hist = fig.subplots(1, 2, width_ratios=(3, 1))
    for i, (match, (xs, ys)) in enumerate(sorted(by_match.items())):
        ax.scatter(xs, ys, s=4, color=COLORS(i % 10), label=match)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set(xlabel="video time (s)", ylabel="residual (ms)", title="Sync residuals")
    ax.legend(fontsize="x-small", markerscale=3)
    every = [y for _, ys in by_match.values() for y in ys]
    near = [y for y in every if abs(y) <= HIST_MS]
    hist.hist(near, bins=2 * HIST_MS, range=(-HIST_MS, HIST_MS), color=COLORS(0))
    hist.set(
        xlabel="residual (ms)", ylabel="timer reads", title=f"{len(every) - len(near)} beyond ±{HIST_MS} ms"
    )
    _save(fig, path)
    return None


def _point_interval(iv: Mapping) -> Mapping:
    """An interval with no bootstrap (one cluster) drawn as its point."""
    return iv if iv["ci_low"] is not None else {**iv, "ci_low": iv["mean"], "ci_high": iv["mean"]}


def oracle(evals: Mapping[str, Mapping], path: Path) -> str | None:
    """Left: win probability of each model's advice beside the pro's action, with the ceiling, floor and
    policy as lines. Right: each model's paired uplift over the pro, whose interval is far narrower
    (rounds that are won or lost whatever the player does cancel out of a paired difference)."""
    bars = [(m, e["oracle_win_prob"]) for m, e in evals.items() if _has_mean(e.get("oracle_win_prob"))]
    refs = next((e["oracle_baselines"] for e in evals.values() if e.get("oracle_baselines")), {})
    if not bars:
        return "no oracle figures in the metrics"
    if _has_mean(refs.get("pro")):
        bars.append(("pro", refs["pro"]))
    colors = [COLORS(i) if m != "pro" else "grey" for i, (m, _) in enumerate(bars)]
    fig = Figure(figsize=(12, 5), layout="constrained")
    ax, up = fig.subplots(1, 2)
    ivs = [_point_interval(iv) for _, iv in bars]
    ax.bar(
        [m for m, _ in bars], [iv["mean"] for iv in ivs], yerr=_interval_errors(ivs), color=colors, capsize=4
    )
    for key, style in (("ceiling", "--"), ("policy", ":"), ("floor", "-.")):
        iv = refs.get(key)
        if _has_mean(iv):
            ax.axhline(
                iv["mean"], color="black", linestyle=style, linewidth=1, label=f"{key} {iv['mean']:.3f}"
            )
    ax.set(ylim=(0, 1), ylabel="P(round win | action)", title="Win probability of the advised action")
    if ax.get_legend_handles_labels()[0]:
        ax.legend()
    uplifts = [(i, m, _point_interval(e["oracle_uplift_vs_pro"])) for i, (m, e) in enumerate(evals.items())]
    uplifts = [(i, m, iv) for i, m, iv in uplifts if _has_mean(iv)]
    for i, m, iv in uplifts:
        up.errorbar([m], [iv["mean"]], yerr=_interval_errors([iv]), fmt="o", color=COLORS(i), capsize=4)
    up.axhline(0, color="grey", linewidth=1)
    up.set(
        ylabel="advised − pro's action (95 % cluster interval)", title="Uplift over the pro, paired by frame"
    )
    _save(fig, path)
    return None


def draw_all(metrics_dir: Path, evals: Mapping[str, Mapping], out_dir: Path) -> list[Plot]:
    """Draw every plot into ``out_dir``; one :class:`Plot` per plot, drawn or not."""
    plots: list[tuple[str, str, Callable[[Path], str | None]]] = [
        ("Per-field accuracy", "fields.png", lambda p: fields(evals, p)),
        ("SFT loss", "sft_loss.png", lambda p: sft_loss(metrics_dir, p)),
        ("GRPO reward components and KL", "grpo.png", lambda p: grpo(metrics_dir, p)),
        ("Sync residuals", "sync_residuals.png", lambda p: sync_residuals(metrics_dir, p)),
        ("Counterfactual win probability", "oracle.png", lambda p: oracle(evals, p)),
    ]
    out = []
    for title, name, draw in plots:
        why = draw(out_dir / name)
        if why:
            log.info("%s not drawn (%s)", title, why)
        out.append(Plot(title, None if why else name, why or ""))
    return out
