"""``metrics/report.md`` from the metrics files alone: tables, verdicts, the oracle, links to the plots.

Every figure is printed as ``mean [ci_low, ci_high]`` beside the frames, rounds and matches it rests on
(SPEC §10), so a reader never sees a number without its evidence. The verdicts are decided by one rule,
:func:`verdict`, on the paired cluster intervals of ``metrics/compare.json``: a hypothesis "X > Y" is
supported only when the whole interval of X − Y lies above 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence

from chimera.intervals import excludes_zero
from chimera.report.plots import Plot

HYPOTHESES: tuple[tuple[str, str], ...] = (("C", "B"), ("C", "D"))
"""(better, worse): GRPO after SFT beats SFT alone, and beats GRPO without SFT (see, then think)."""

VERDICT_METRICS = ("oracle_win_prob", "reward_total", "reward_decision", "field_accuracy")
"""The measures each hypothesis is judged on, the primary one (wins beyond the expert) first."""

ORACLE_KEYS = ("oracle_win_prob", "oracle_uplift_vs_pro", "beyond_expert_rate")
ORACLE_BASELINES = ("pro", "ceiling", "floor", "policy", "constant")
ORACLE_BASELINE_LABELS = {
    "pro": "pro's action",
    "ceiling": "ceiling: the oracle's best action",
    "floor": "floor: a random legal action",
    "policy": "simulator policy, unforced",
    "constant": "the constant answer's advice",
}

# (column title, path into eval_<M>.json): the A–D table.
EVAL_COLUMNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("json valid", ("json_valid_rate",)),
    ("field accuracy", ("field_accuracy",)),
    ("reward total", ("reward_total",)),
    ("reward percept", ("reward_percept",)),
    ("reward decision", ("reward_decision",)),
    ("reward outcome", ("reward_outcome",)),
    ("advice valid", ("advice", "valid_rate")),
    ("oracle win prob", ("oracle_win_prob",)),
)
# (column title, per-frame score name in compare.json, chimera.compare.SCORES): the differences table.
COMPARE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("json valid", "json_valid"),
    ("field accuracy", "field_accuracy"),
    ("reward total", "reward_total"),
    ("reward percept", "reward_percept"),
    ("reward decision", "reward_decision"),
    ("reward outcome", "reward_outcome"),
    ("advice valid", "advice_valid"),
    ("oracle win prob", "oracle_win_prob"),
)
MISSING = "—"


def verdict(interval: Mapping) -> str:
    """``supported`` (interval wholly above 0), ``refuted`` (wholly below) or ``not resolved``."""
    if excludes_zero(interval):
        return "supported" if interval["ci_low"] > 0 else "refuted"
    return "not resolved"


def has_figure(interval: Mapping | None) -> bool:
    return isinstance(interval, Mapping) and interval.get("mean") is not None


def hypothesis_interval(compare: Mapping, better: str, worse: str, metric: str) -> Mapping | None:
    """The interval of ``better − worse`` on ``metric``, from either order of the pair in compare.json."""
    if f"{better}-{worse}" in compare:
        return compare[f"{better}-{worse}"].get(metric)
    reverse = compare.get(f"{worse}-{better}", {}).get(metric)
    if not has_figure(reverse):
        return reverse
    flip = {"mean": -reverse["mean"], "ci_low": None, "ci_high": None}
    if reverse["ci_low"] is not None:
        flip.update(ci_low=-reverse["ci_high"], ci_high=-reverse["ci_low"])
    return {**reverse, **flip}


def _number(x: float, signed: bool) -> str:
    form = "{:+.3f}" if signed else "{:.3f}"
    text = form.format(x)
    return form.format(0.0) if float(text) == 0 else text  # never "-0.000"


def interval_text(interval: Mapping, signed: bool = False) -> str:
    """``mean [ci_low, ci_high]`` with three decimals (signed for differences)."""
    if interval.get("ci_low") is None:
        return _number(interval["mean"], signed)
    mean, low, high = (_number(interval[k], signed) for k in ("mean", "ci_low", "ci_high"))
    return f"{mean} [{low}, {high}]"


def evidence(interval: Mapping) -> str:
    return f"{interval['n']} frames, {interval['rounds']} rounds of {interval['matches']} matches"


def verdict_line(better: str, worse: str, metric: str, interval: Mapping | None) -> str:
    """One hypothesis on one measure, e.g. ``C > B on reward_total: supported (+0.011 [...], ...)``."""
    claim = f"{better} > {worse} on {metric}"
    if not has_figure(interval):
        return f"{claim}: no paired difference in compare.json"
    return f"{claim}: {verdict(interval)} ({interval_text(interval, signed=True)}, {evidence(interval)})"


def verdicts(source: str, evals: Mapping[str, Mapping], compare: Mapping[str, Mapping]) -> list[str]:
    """Every hypothesis on every measure, the oracle's first; one line saying why when there is none."""
    lines = []
    for metric in VERDICT_METRICS:
        if metric == "oracle_win_prob" and not has_oracle(evals):
            lines.append(no_oracle_reason(source))
            continue
        for better, worse in HYPOTHESES:
            lines.append(
                verdict_line(better, worse, metric, hypothesis_interval(compare, better, worse, metric))
            )
    return lines


def no_oracle_reason(source: str) -> str:
    if source == "demos":
        return "no oracle: ingest.source is demos (the counterfactual oracle replays simulated matches only)"
    return (
        f"no oracle: ingest.source is {source}, but the metrics carry no oracle figures "
        "(did the counterfactual stage run before evaluate?)"
    )


def _get(figures: Mapping, path: Sequence[str]) -> Mapping | None:
    for key in path:
        if not isinstance(figures, Mapping):
            return None
        figures = figures.get(key)
    return figures if has_figure(figures) else None


def _cell(interval: Mapping | None, signed: bool = False, usual: Sequence[int] = ()) -> str:
    """An interval's text; with its frame count when that is not one of the row's ``usual`` counts."""
    if not has_figure(interval):
        return MISSING
    text = interval_text(interval, signed)
    return f"{text} on {interval['n']} frames" if usual and interval["n"] not in usual else text


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def has_oracle(evals: Mapping[str, Mapping]) -> bool:
    return any(has_figure(e.get("oracle_win_prob")) for e in evals.values())


def _oracle_baseline(figures: Mapping, arm: str) -> Mapping | None:
    return (figures.get("oracle_baselines") or {}).get(arm)


def model_table(evals: Mapping[str, Mapping], oracle: bool) -> list[str]:
    """Models A–D with their swapped-image control, then the constant answer and chance (same frames).

    A baseline's oracle win probability lives in the model's ``oracle_baselines``, not beside its other
    figures, so it is looked up there; chance's is the floor (a legal action drawn at random). A figure
    on other frames than the row's (the oracle's frames) says how many.
    """
    columns = [c for c in EVAL_COLUMNS if oracle or c[1][0] != "oracle_win_prob"]

    def row(label: str, figures: Mapping, counts: Mapping, win: Mapping | None) -> list[str]:
        tally = [counts.get(k, MISSING) for k in ("n", "decision_frames", "rounds", "matches")]
        usual = tally[:2]
        cells = [
            _cell(win if path == ("oracle_win_prob",) else _get(figures, path), usual=usual)
            for _, path in columns
        ]
        return [label, *map(str, tally), *cells]

    rows = []
    for name, e in evals.items():
        rows.append(row(name, e, e, e.get("oracle_win_prob")))
        swapped = e["baselines"]["swapped"]
        rows.append(row(f"{name}, swapped image", swapped, e, _oracle_baseline(e, "swapped")))
    first = next(iter(evals.values()))
    rows += [
        row("constant answer", first["baselines"]["constant"], first, _oracle_baseline(first, "constant")),
        row("chance", first["baselines"]["chance"], first, _oracle_baseline(first, "floor")),
    ]
    header = ["arm", "frames", "decision frames", "rounds", "matches", *(title for title, _ in columns)]
    return _table(header, rows)


def compare_table(compare: Mapping[str, Mapping], oracle: bool) -> list[str]:
    columns = [c for c in COMPARE_COLUMNS if oracle or c[1] != "oracle_win_prob"]
    rows = []
    for pair, d in compare.items():
        counts = [d["field_accuracy"]["n"], (d.get("reward_total") or {}).get("n", MISSING)]
        counts += [d["field_accuracy"][k] for k in ("rounds", "matches")]
        cells = [_cell(d.get(key), True, usual=counts[:2]) for _, key in columns]
        rows.append([pair.replace("-", " − "), *map(str, counts), *cells])
    header = ["pair", "frames", "decision frames", "rounds", "matches", *(t for t, _ in columns)]
    return _table(header, rows)


def oracle_table(evals: Mapping[str, Mapping]) -> list[str]:
    """Per model: win probability of its advice, uplift over the pro, beyond-expert rate (on the frames
    where its action is not the pro's, hence its own frame count); then the reference actions."""
    rows = []
    for name, e in evals.items():
        win, uplift, beyond = (e.get(k) for k in ORACLE_KEYS)
        counts = [(win or {}).get(k, MISSING) for k in ("n", "rounds", "matches")]
        cells = [_cell(win), _cell(uplift, True), _cell(beyond, usual=counts[:1])]
        rows.append([f"{name}'s advice", *cells, *map(str, counts)])
    refs = next((e["oracle_baselines"] for e in evals.values() if e.get("oracle_baselines")), {})
    for key in ORACLE_BASELINES:
        iv = refs.get(key)
        counts = [str(iv[k]) for k in ("n", "rounds", "matches")] if has_figure(iv) else [MISSING] * 3
        rows.append([ORACLE_BASELINE_LABELS[key], _cell(iv), MISSING, MISSING, *counts])
    header = ["action played", "win probability", "uplift vs pro", "beyond-expert rate", "frames", "rounds"]
    return _table([*header, "matches"], rows)


def _flatten(obj: Mapping, prefix: str = "") -> Iterator[tuple[str, object]]:
    for key, value in obj.items():
        if isinstance(value, Mapping):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def _scalar(value: object) -> str:
    if isinstance(value, list):
        return f"{len(value)} listed"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


TIMINGS = ("seconds", "rollouts_per_second")
"""Measured on the machine, not results: left out so the same metrics give the same report."""


def counterfactual_lines(run: Mapping | None) -> list[str]:
    if run is None:
        return ["Not in the metrics (no `counterfactual.json`)."]
    return [f"- {key}: {_scalar(value)}" for key, value in _flatten(run) if key not in TIMINGS]


def plot_lines(plots: Sequence[Plot], folder: str) -> list[str]:
    """An image per drawn plot (each its own paragraph), a line saying why for the others."""
    lines = []
    for p in plots:
        lines += [f"![{p.title}]({folder}/{p.file})" if p.file else f"{p.title}: not drawn ({p.note}).", ""]
    return lines[:-1]


def render(
    source: str,
    evals: Mapping[str, Mapping],
    compare: Mapping[str, Mapping],
    counterfactual: Mapping | None,
    plots: Sequence[Plot],
    plots_link: str,
    review_link: str,
) -> str:
    """The whole report as Markdown; ``plots_link`` / ``review_link`` are relative to the report file."""
    oracle = has_oracle(evals)
    reason = no_oracle_reason(source)
    lines = [
        "# Chimera: report",
        "",
        "Written by the `report` stage from the metrics files alone. Every interval is a 95 % bootstrap "
        "over (match, round) clusters, printed as `mean [low, high]` beside the frames, rounds and "
        "matches it rests on. A verdict is `supported` when the paired interval lies wholly above 0, "
        "`refuted` when wholly below, `not resolved` when it crosses 0.",
        "",
        "## Verdicts",
        "",
        "The first measure is primary: the counterfactual win probability of the advised action (§13) can "
        "credit advice that beats the pro's own; the rewards measure agreement with the pro and reading.",
        "",
    ]
    lines += [f"- {line}" for line in verdicts(source, evals, compare)]
    lines += ["", "## Models on the test split, with their baselines", ""]
    lines += model_table(evals, oracle)
    lines += ["", "The constant answer and chance are scored on the same frames as every model.", ""]
    lines += [
        "Fields each model reads (beats the swapped image and the constant answer, both intervals > 0):",
        "",
    ]
    lines += [f"- {name}: {', '.join(e.get('reads_the_frame') or []) or 'none'}" for name, e in evals.items()]
    lines += ["", "## Paired differences (first − second, on the frames both answered)", ""]
    lines += compare_table(compare, oracle)
    lines += ["", "## Counterfactual oracle", ""]
    lines += oracle_table(evals) if oracle else [reason]
    lines += ["", "## Counterfactual run", ""]
    lines += counterfactual_lines(counterfactual)
    lines += ["", "## Plots", ""]
    lines += plot_lines(plots, plots_link)
    lines += [
        "",
        "## Review",
        "",
        f"[The review page]({review_link}/index.html): every evaluated test frame beside its truth and "
        "each model's answer, wrong fields marked (static, works offline).",
    ]
    return "\n".join(lines) + "\n"
