"""The report stage on made-up metrics: per-frame scores drawn here, turned into the metrics files' shapes
with the real cluster intervals of :mod:`chimera.intervals`, so every expected number in the report is
recomputed from the fixture, never taken from the report's code."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from chimera.intervals import cluster_interval, paired_difference
from chimera.report import ReportError, run
from chimera.report.markdown import hypothesis_interval, verdict, verdict_line
from tests.test_review_page import write_review_inputs

CLUSTERS = [(f"match-{m}", r) for m in range(3) for r in range(1, 5) for _ in range(3)]
"""36 frames: three per round, four rounds in each of three matches."""
N = len(CLUSTERS)
SEED = 3
REWARDS = ("reward_total", "reward_percept", "reward_decision", "reward_outcome")
FIELDS = ("map_name", "player_side", "site", "team_money_total")
PAIRS = (("B", "A"), ("C", "B"), ("C", "D"), ("D", "A"))
PLOTS = ("fields.png", "sft_loss.png", "grpo.png", "sync_residuals.png", "oracle.png")
PARITY = np.array([1.0 if r % 2 else -1.0 for _, r in CLUSTERS])
"""+1 on odd rounds, −1 on even ones: a per-round swing whose mean over the split is exactly 0."""
OFF_ORACLE = set(range(0, N, 4))
"""Frames the oracle has no row for (where the simulator cannot restore the moment): 27 of 36 keep one,
neither all frames nor the 24 with a decision, so the report must say how many."""


def ci(values) -> dict:
    return cluster_interval(list(values), CLUSTERS, SEED)


def frame_scores(rng: np.random.Generator) -> dict[str, dict[str, list]]:
    """Per-frame scores of A–D, built so that C − B on the oracle is clearly above 0, C − D on the total
    reward clearly below 0, and C − B on field accuracy swings ±0.05 by round (an interval across 0)."""
    noise = lambda sd=0.02: rng.normal(0, sd, N)  # noqa: E731
    decides = np.arange(N) % 3 != 0  # a third of the frames have no decision left
    b_field, b_total, b_oracle = 0.5 + noise(), 0.4 + noise(), 0.45 + noise()
    levels = {
        "A": (0.1 + noise(), 0.2 + noise(), 0.40 + noise()),
        "B": (b_field, b_total, b_oracle),
        "C": (b_field + 0.05 * PARITY, b_total + 0.02 + noise(0.005), b_oracle + 0.08 + noise(0.01)),
    }
    levels["D"] = (0.15 + noise(), levels["C"][1] + 0.05 + noise(0.005), levels["C"][2] + 0.04 * PARITY)
    out = {}
    for model, (field, total, oracle) in levels.items():
        reward = lambda x: [float(v) if d else None for v, d in zip(x, decides, strict=True)]  # noqa: E731
        out[model] = {
            "json_valid": [1.0] * N,
            "field_accuracy": [float(v) for v in field],
            "reward_total": reward(total),
            "reward_percept": reward(field),
            "reward_decision": reward(total + 0.1),
            "reward_outcome": reward(total - 0.1),
            "advice_valid": [float(v) for v in rng.random(N) < 0.9],
            "oracle_win_prob": [None if i in OFF_ORACLE else float(v) for i, v in enumerate(oracle)],
            "fields": {f: [float(v) for v in rng.random(N) < float(np.mean(field))] for f in FIELDS[:-1]},
        }
    return out


def arm(s: dict) -> dict:
    return {
        "json_valid_rate": ci(s["json_valid"]),
        "field_accuracy": ci(s["field_accuracy"]),
        **{k: ci(s[k]) for k in REWARDS},
        "advice": {"balanced_accuracy": {"movement_direction": 0.4}, "valid_rate": ci(s["advice_valid"])},
    }


def eval_figures(model: str, s: dict, rng: np.random.Generator, oracle: bool) -> dict:
    """``eval_<M>.json`` in the evaluate stage's shape (the keys the report reads)."""
    swapped = {**s, "field_accuracy": [v - 0.01 for v in s["field_accuracy"]]}
    constant = {
        **s,
        "field_accuracy": [0.45] * N,
        "reward_total": [0.3 if v is not None else None for v in s["reward_total"]],
    }
    per_field = {}
    for f in FIELDS:
        m = s["fields"].get(f, [None] * N)
        w = [None if v is None else float(rng.random() < 0.5) for v in m]
        c = [None if v is None else 1.0 for v in m]
        scored = [v for v in m if v is not None]
        per_field[f] = {
            "n": len(scored),
            "model": float(np.mean(scored)) if scored else None,
            "swapped": float(np.mean([v for v in w if v is not None])) if scored else None,
            "constant": 1.0 if scored else None,
            "chance": 0.3 if scored else None,
            "vs_swapped": paired_difference(m, w, CLUSTERS, SEED),
            "vs_constant": paired_difference(m, c, CLUSTERS, SEED),
        }
    figures = {
        "model": model,
        "n": N,
        "rounds": 12,
        "matches": 3,
        "decision_frames": sum(v is not None for v in s["reward_total"]),
        **arm(s),
        "baselines": {
            "swapped": arm(swapped),
            "constant": arm(constant),
            "chance": {"field_accuracy": ci([0.3] * N)},
        },
        "reads_the_frame": ["site"] if model == "C" else [],
        "oracle_win_prob": None,
        "oracle_uplift_vs_pro": None,
        "beyond_expert_rate": None,
        "oracle_baselines": None,
    }
    figures["field_accuracy"]["per_field"] = per_field
    if oracle:
        win = s["oracle_win_prob"]
        on = lambda value: [None if w is None else value for w in win]  # noqa: E731
        pro = on(0.42)
        figures.update(
            oracle_win_prob=ci(win),
            oracle_uplift_vs_pro=paired_difference(win, pro, CLUSTERS, SEED),
            # on the frames where the advised action is not the pro's (here: every other one)
            beyond_expert_rate=ci(
                [float(w > 0.42) if w is not None and i % 2 else None for i, w in enumerate(win)]
            ),
            oracle_baselines={
                "pro": ci(pro),
                "ceiling": ci(on(0.7)),
                "floor": ci(on(0.3)),
                "policy": ci(on(0.44)),
                "swapped": ci([None if w is None else w - 0.05 for w in win]),
                "constant": ci(on(0.38)),
            },
        )
    return figures


def _tsv(path: Path, name: str, values) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"step\t{name}\n" + "".join(f"{i + 1}\t{v}\n" for i, v in enumerate(values)))


def write_metrics(metrics: Path, oracle: bool = True, counterfactual: dict | None = None) -> dict:
    """Every metrics file the report reads; returns the compare.json written."""
    rng = np.random.default_rng(11)
    scores = frame_scores(rng)
    metrics.mkdir(parents=True)
    for model, s in scores.items():
        (metrics / f"eval_{model}.json").write_text(json.dumps(eval_figures(model, s, rng, oracle)))
    keys = ("field_accuracy", "json_valid", *REWARDS, "advice_valid", "oracle_win_prob")
    compare = {
        f"{a}-{b}": {
            k: paired_difference(scores[a][k], scores[b][k], CLUSTERS, SEED)
            if oracle or k != "oracle_win_prob"
            else None
            for k in keys
        }
        for a, b in PAIRS
    }
    (metrics / "compare.json").write_text(json.dumps(compare))
    if counterfactual is not None:
        (metrics / "counterfactual.json").write_text(json.dumps(counterfactual))
    logs = metrics / "sft" / "plots" / "metrics"
    _tsv(logs / "loss.tsv", "loss", np.linspace(3, 0.3, 40))
    _tsv(logs / "eval" / "loss.tsv", "loss", [0.5, 0.4, 0.35])
    for run_name in ("C", "D"):
        logs = metrics / f"grpo_{run_name}" / "plots" / "metrics"
        for component in ("reward_total", "reward_decision", "reward_percept"):
            _tsv(logs / "rewards" / component / "mean.tsv", "mean", rng.random(10))
        _tsv(logs / "kl.tsv", "kl", np.linspace(0, 0.01, 10))
    rows = [f"m{m},{t / 2},{rng.normal(0, 10)}" for m in range(2) for t in range(50)]
    (metrics / "sync_residuals.csv").write_text("match,video_s,residual_ms\n" + "\n".join(rows) + "\n")
    return compare


def report(tmp_path: Path, source: str = "sim", **kw) -> tuple[str, dict, Path]:
    metrics = tmp_path / "metrics"
    compare = write_metrics(metrics, **kw)
    predictions, test_file, frames_root, _ = write_review_inputs(tmp_path / "inputs")
    text = run(
        source,
        metrics,
        predictions,
        test_file,
        frames_root,
        metrics / "report.md",
        metrics / "report",
        metrics / "review",
    )
    assert (metrics / "report.md").read_text() == text
    return text, compare, metrics


def expected_verdict(iv: dict) -> str:
    """The rule, restated: an interval wholly above 0 supports, wholly below refutes."""
    return "supported" if iv["ci_low"] > 0 else "refuted" if iv["ci_high"] < 0 else "not resolved"


@pytest.mark.parametrize(
    ("low", "high", "word"),
    [
        (0.01, 0.09, "supported"),
        (-0.09, -0.01, "refuted"),
        (-0.02, 0.05, "not resolved"),
        (0.0, 0.05, "not resolved"),  # touching 0 is not above it
        (-0.05, 0.0, "not resolved"),
    ],
)
def test_verdict_rule(low, high, word):
    assert verdict({"mean": (low + high) / 2, "ci_low": low, "ci_high": high}) == word


LINE = re.compile(
    r"^- (\w) > (\w) on (\w+): (supported|refuted|not resolved) "
    r"\(([+-]\d\.\d{3}) \[([+-]\d\.\d{3}), ([+-]\d\.\d{3})\], (\d+) frames, (\d+) rounds of (\d+) matches\)$",
    re.MULTILINE,
)


def test_verdict_lines_match_compare_json(tmp_path):
    text, compare, _ = report(tmp_path)
    lines = LINE.findall(text)
    assert [(b, w, m) for b, w, m, *_ in lines] == [
        (b, w, m)
        for m in ("oracle_win_prob", "reward_total", "reward_decision", "field_accuracy")
        for b, w in (("C", "B"), ("C", "D"))
    ]
    for better, worse, metric, word, mean, low, high, n, rounds, matches in lines:
        iv = compare[f"{better}-{worse}"][metric]
        assert word == expected_verdict(iv)
        for shown, key in zip((mean, low, high), ("mean", "ci_low", "ci_high"), strict=True):
            assert abs(float(shown) - iv[key]) <= 0.0005, (better, worse, metric, key)
        assert (int(n), int(rounds), int(matches)) == (iv["n"], iv["rounds"], iv["matches"])
    assert "-0.000" not in text  # a difference that rounds to zero has no sign to show
    found = {(b, w, m): word for b, w, m, word, *_ in lines}
    # The fixture was built to give each verdict once at least.
    assert found["C", "B", "oracle_win_prob"] == "supported"
    assert found["C", "D", "reward_total"] == "refuted"
    assert found["C", "B", "field_accuracy"] == "not resolved"


def test_a_pair_stored_the_other_way_round_is_negated():
    compare = {
        "B-C": {
            "reward_total": {
                "mean": -0.02,
                "ci_low": -0.03,
                "ci_high": -0.01,
                "n": 9,
                "rounds": 3,
                "matches": 1,
            }
        }
    }
    line = verdict_line("C", "B", "reward_total", hypothesis_interval(compare, "C", "B", "reward_total"))
    assert (
        line == "C > B on reward_total: supported (+0.020 [+0.010, +0.030], 9 frames, 3 rounds of 1 matches)"
    )
    assert "no paired difference" in verdict_line(
        "C", "D", "reward_total", hypothesis_interval(compare, "C", "D", "x")
    )


def _row(text: str, label: str) -> list[str]:
    line = next(x for x in text.splitlines() if x.startswith(f"| {label} |"))
    return [c.strip() for c in line.strip("|").split("|")]


def test_tables_carry_the_fixture_intervals_and_baselines(tmp_path):
    text, compare, metrics = report(tmp_path)
    c = json.loads((metrics / "eval_C.json").read_text())
    fmt = lambda iv: f"{iv['mean']:.3f} [{iv['ci_low']:.3f}, {iv['ci_high']:.3f}]"  # noqa: E731
    row = _row(text, "C")
    assert row[1:5] == [str(c["n"]), str(c["decision_frames"]), str(c["rounds"]), str(c["matches"])]
    assert fmt(c["field_accuracy"]) in row and fmt(c["reward_total"]) in row  # on the row's frame counts
    oracle_frames = f" on {N - len(OFF_ORACLE)} frames"  # fewer: the cell says so
    assert row[-1] == fmt(c["oracle_win_prob"]) + oracle_frames
    assert fmt(c["baselines"]["swapped"]["field_accuracy"]) in _row(text, "C, swapped image")
    assert _row(text, "C, swapped image")[-1] == fmt(c["oracle_baselines"]["swapped"]) + oracle_frames
    assert _row(text, "constant answer")[-1] == fmt(c["oracle_baselines"]["constant"]) + oracle_frames
    assert fmt(c["baselines"]["constant"]["field_accuracy"]) in _row(text, "constant answer")
    assert fmt(c["baselines"]["chance"]["field_accuracy"]) in _row(text, "chance")
    d = compare["C-D"]["reward_total"]
    assert f"{d['mean']:+.3f} [{d['ci_low']:+.3f}, {d['ci_high']:+.3f}]" in _row(text, "C − D")
    up = c["oracle_uplift_vs_pro"]
    assert f"{up['mean']:+.3f} [{up['ci_low']:+.3f}, {up['ci_high']:+.3f}]" in _row(text, "C's advice")
    assert "- C: site" in text and "- A: none" in text
    beyond = c["beyond_expert_rate"]
    assert f"{fmt(beyond)} on {beyond['n']} frames" in _row(text, "C's advice")
    for key, label in (("pro", "pro's action"), ("ceiling", "ceiling: the oracle's best action")):
        assert _row(text, label)[1] == fmt(c["oracle_baselines"][key])


def _nonblank_png(path: Path) -> None:
    with Image.open(path) as img:
        assert img.format == "PNG"
        rgb = np.asarray(img.convert("RGB"))
    assert len(np.unique(rgb.reshape(-1, 3), axis=0)) > 10
    # Data, not only axes: the first series' colour (matplotlib's default C0, #1f77b4) is drawn.
    series = np.abs(rgb.astype(int) - (0x1F, 0x77, 0xB4)).max(axis=-1) < 8
    assert series.sum() > 100, path


def test_every_plot_is_linked_drawn_and_the_same_on_a_rerun(tmp_path):
    text, _, metrics = report(tmp_path)
    links = re.findall(r"!\[[^]]*\]\(([^)]+)\)", text)
    assert sorted(Path(link).name for link in links) == sorted(PLOTS)
    for link in links:
        _nonblank_png(metrics / link)
    review = re.search(r"\[The review page\]\(([^)]+)\)", text).group(1)
    assert (metrics / review).is_file()
    first = {p.name: p.read_bytes() for p in (metrics / "report").iterdir()}
    (metrics / "report" / "stale.png").write_bytes(b"left over")
    predictions, test_file, frames_root, _ = write_review_inputs(tmp_path / "again")
    run(
        "sim",
        metrics,
        predictions,
        test_file,
        frames_root,
        metrics / "report.md",
        metrics / "report",
        metrics / "review",
    )
    assert {p.name: p.read_bytes() for p in (metrics / "report").iterdir()} == first  # stale file gone too


def test_without_an_oracle_the_report_says_why_and_draws_none(tmp_path):
    text, _, metrics = report(tmp_path, source="demos", oracle=False)
    assert "no oracle: ingest.source is demos" in text
    assert "on oracle_win_prob" not in text and "oracle win prob" not in text
    assert "oracle.png" not in text and not (metrics / "report" / "oracle.png").exists()
    assert len(LINE.findall(text)) == 6  # the other three measures, both hypotheses
    for name in set(PLOTS) - {"oracle.png"}:
        _nonblank_png(metrics / "report" / name)


def test_counterfactual_run_figures_are_listed(tmp_path):
    run_figures = {"frames": 168, "rollouts": 80640, "seconds": 212.5, "effect": {"median": 0.031}}
    text, _, _ = report(tmp_path, counterfactual=run_figures)
    section = text.split("## Counterfactual run")[1].split("##")[0]
    assert "- frames: 168" in section and "- effect.median: 0.031" in section
    assert "seconds" not in section  # a timing, not a result: the same metrics give the same report
    assert "Not in the metrics" in report(tmp_path / "none")[0].split("## Counterfactual run")[1]


def test_no_eval_metrics_is_one_error_naming_the_folder(tmp_path):
    with pytest.raises(ReportError, match=r"no eval_<M>\.json"):
        run(
            "sim",
            tmp_path,
            tmp_path,
            tmp_path / "t",
            tmp_path,
            tmp_path / "r.md",
            tmp_path / "p",
            tmp_path / "v",
        )


def test_the_report_stage_never_imports_torch():
    code = "import sys, chimera.report, chimera.stage; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_the_readme_quotes_the_committed_report_verdicts():
    """The README's verdict block on the default is the committed metrics/report.md, line for line: a rerun
    that moves a number and leaves the README behind fails here (it kept a C > D of +0.298 for +0.240)."""
    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text()
    quoted = readme[readme.index("`metrics/report.md` on the default") :]
    block = quoted[quoted.index("```") + 3 : quoted.index("```", quoted.index("```") + 3)]
    report = (root / "metrics" / "report.md").read_text()
    verdicts = [line[2:] for line in report.splitlines() if line.startswith("- C > ")]
    assert verdicts and block.strip().splitlines() == verdicts
