"""The ``grpo_data`` stage: every pair with what the pro did next, the round's outcome and their share in it.

One row per pair: the image, the fixed prompt (:mod:`chimera.prompt`), where it comes from (match, round,
tick and the spectated ``player``, which the counterfactual oracle restores), and ``ground_truth`` — the
interface of every reward in :mod:`chimera.rewards`::

    {"game_state": {...§4...},
     "unknown": [fields scoring skips (SPEC §5)],
     "pro_action": {"behavior": {...5 features...}, "description": "<the features in words>"} | null,
     "round_won": bool,
     "player_contribution": {"damage_dealt", "max_round_damage", "survival_time", "round_duration",
                             "objective_action"}}

The description is written with the same phrase table the decision reward reads. A frame with no decision
left (the round is over, the spectated player is dead, warm-up) has ``pro_action: null`` (SPEC §7): its
"behaviour" would be the all-zero label every such frame shares. It stays in the split for perception;
Phase 2 trains on decision frames only and evaluation scores decisions on them only. Each row also carries
``score``, the spectated player's team's and the enemy's rounds won before this round (as the HUD shows
it), which the SFT targets' round importance reads; no reward does.
"""

from __future__ import annotations

import json
import logging
import statistics
from collections import Counter
from pathlib import Path

import polars as pl
from tqdm import tqdm

from chimera.behavior import MatchTimeline, behavior, contribution, removed_damage
from chimera.config import GrpoDataParams
from chimera.io import atomic_path, write_json
from chimera.phrases import UTILITY, phrase
from chimera.prompt import INSTRUCTION
from chimera.rewards import phi
from chimera.tables import SIDE_T, TABLES

log = logging.getLogger(__name__)
SPLITS = ("train", "val", "test")


NO_DECISION_PHASES = ("round-over", "warmup")


def has_decision(state: dict) -> bool:
    """Whether the player at this frame still has a decision to make: alive, in a round that goes on."""
    return state["round_phase"] not in NO_DECISION_PHASES and state["player_health"] > 0


def ground_truth(tl: MatchTimeline, removed: pl.DataFrame, pair: dict, params: GrpoDataParams) -> dict:
    steamid, tick, round_num = pair["player"]["steamid"], pair["tick"], pair["round"]
    pro = None
    if has_decision(pair["game_state"]):
        features = behavior(tl, steamid, tick, params.window_s, params.move_threshold)
        pro = {"behavior": features, "description": phrase(features)}
    rnd = tl.rounds.filter(pl.col("round_num") == round_num).row(0, named=True)
    side = pair["game_state"]["player_side"]
    won = (rnd["winner_side"] == SIDE_T) == (side == "T")
    return {
        "game_state": pair["game_state"],
        "unknown": pair["unknown"],
        "pro_action": pro,
        "round_won": won,
        "player_contribution": contribution(tl, removed, steamid, round_num),
    }


def sides_by_round(tl: MatchTimeline) -> dict[int, dict[int, str]]:
    """Every player's side in every round, read at its freeze end."""
    return {
        r["round_num"]: dict(tl.snapshot(r["freeze_end_tick"]).select("steamid", "side").iter_rows())
        for r in tl.rounds.iter_rows(named=True)
    }


def score_before(
    tl: MatchTimeline, sides: dict[int, dict[int, str]], steamid: int, round_num: int
) -> list[int]:
    """[own, enemy] rounds won before ``round_num`` by the player's team and by the other one."""
    own = enemy = 0
    for r in tl.rounds.filter(pl.col("round_num") < round_num).iter_rows(named=True):
        side = sides[r["round_num"]].get(steamid)
        if side is None:
            continue
        won = r["winner_side"] == side
        own, enemy = own + won, enemy + (not won)
    return [own, enemy]


def run(params: GrpoDataParams, parsed_dir: Path, pairs_dir: Path, out_dir: Path, metrics_path: Path) -> dict:
    pairs = {s: [json.loads(line) for line in (pairs_dir / f"{s}.jsonl").open()] for s in SPLITS}
    matches = sorted({p["match"] for rows in pairs.values() for p in rows})
    timelines, removed, sides = {}, {}, {}
    for match in matches:
        tables = {t: pl.read_parquet(parsed_dir / match / f"{t}.parquet") for t in TABLES}
        timelines[match] = MatchTimeline.of(tables)
        removed[match] = removed_damage(tables["damages"], tables["rounds"])
        sides[match] = sides_by_round(timelines[match])
    out: dict[str, list[dict]] = {s: [] for s in SPLITS}
    with atomic_path(out_dir) as tmp:
        tmp.mkdir()
        for split in SPLITS:
            for pair in tqdm(pairs[split], desc=f"grpo_data {split}", unit="pair", mininterval=5):
                tl = timelines[pair["match"]]
                gt = ground_truth(tl, removed[pair["match"]], pair, params)
                out[split].append(
                    {
                        "image": pair["image"],
                        "prompt": INSTRUCTION,
                        "match": pair["match"],
                        "map": pair["map"],
                        "round": pair["round"],
                        "tick": pair["tick"],
                        "player": pair["player"],
                        "score": score_before(
                            tl, sides[pair["match"]], pair["player"]["steamid"], pair["round"]
                        ),
                        "ground_truth": gt,
                    }
                )
            with (tmp / f"{split}.jsonl").open("w") as f:
                f.writelines(json.dumps(row, sort_keys=True) + "\n" for row in out[split])
    figures = metrics(out)
    write_json(metrics_path, figures)
    log.info("grpo_data: train %d, val %d, test %d", figures["train"], figures["val"], figures["test"])
    return figures


def metrics(rows_by_split: dict[str, list[dict]]) -> dict:
    rows = [r["ground_truth"] for rows in rows_by_split.values() for r in rows]
    b = [r["pro_action"]["behavior"] for r in rows if r["pro_action"] is not None]
    phis = [phi(r["player_contribution"]) for r in rows]
    by_side: dict[str, list[bool]] = {"T": [], "CT": []}
    for r in rows:
        by_side.setdefault(r["game_state"]["player_side"], []).append(r["round_won"])
    grenades = Counter(g for x in b for g in x["utility_used"])
    return {
        **{s: len(v) for s, v in rows_by_split.items()},
        **{
            f"{s}_decision_frames": sum(r["ground_truth"]["pro_action"] is not None for r in v)
            for s, v in rows_by_split.items()
        },
        "features": {
            "movement_direction": {
                str(k): v for k, v in sorted(Counter(x["movement_direction"] for x in b).items())
            },
            "objective_direction": {
                str(k): v for k, v in sorted(Counter(x["objective_direction"] for x in b).items())
            },
            "utility_used": {
                **{g: grenades.get(g, 0) for g in UTILITY},
                "none": sum(not x["utility_used"] for x in b),
            },
            "initiated_engagement_rate": _mean([x["initiated_engagement"] for x in b]),
            "engagement_delay_mean": _mean([x["engagement_delay"] for x in b]),
            "no_engagement_rate": _mean([x["engagement_delay"] >= 1.0 for x in b]),
        },
        "win_rate_by_side": {side: _mean(v) for side, v in by_side.items() if v},
        "phi": {
            "mean": _mean(phis),
            "median": statistics.median(phis) if phis else None,
            "p10": _quantile(phis, 0.1),
            "p90": _quantile(phis, 0.9),
        },
    }


def _mean(values: list) -> float | None:
    return sum(values) / len(values) if values else None


def _quantile(values: list[float], q: float) -> float | None:
    return sorted(values)[min(int(q * len(values)), len(values) - 1)] if values else None
