"""Match statistics computed from the awpy tables alone: the plausibility report of ``ingest``.

Because they read only the tables, the same figures describe simulated and real matches, and
``metrics/sim.json`` can put the simulator next to public pro reference values. Buy types follow awpy's
own ``round_economy`` definition (team equipment value at freeze end: eco < $5k, force < $20k, else
full; the first round of each half is a pistol round).
"""

from __future__ import annotations

import polars as pl

from chimera.config import Reference
from chimera.tables import SIDE_T, TICK_RATE, with_round

ECO_BELOW, FULL_FROM = 5_000, 20_000


def buy_types(ticks: pl.DataFrame, rounds: pl.DataFrame) -> pl.DataFrame:
    """``round_num, side, equipment_value, buy_type`` per team and round, like awpy's round_economy.

    Values are read at the first snapshot at or after freeze end. Pistol rounds are round 1 and the first
    round after the half-time switch (a majority of players changed side), as awpy defines them.
    """
    snap_ticks = ticks.select(pl.col("tick").unique().sort())
    marks = rounds.select("round_num", "freeze_end_tick").sort("freeze_end_tick")
    marks = marks.join_asof(snap_ticks, left_on="freeze_end_tick", right_on="tick", strategy="forward")
    at_buy = ticks.join(marks.select("round_num", "tick"), on="tick")
    sides = at_buy.select("round_num", "steamid", "side").sort("round_num")
    changed = (
        sides.with_columns(prev=pl.col("side").shift(1).over("steamid"))
        .group_by("round_num")
        .agg(frac=(pl.col("prev").is_not_null() & (pl.col("prev") != pl.col("side"))).mean())
        .filter(pl.col("frac") > 0.5)["round_num"]
    )
    pistols = [rounds["round_num"].min(), *sorted(changed)[:1]]
    value = at_buy.group_by("round_num", "side").agg(pl.col("equipment_value").sum())
    return value.with_columns(
        buy_type=pl.when(pl.col("round_num").is_in(pistols))
        .then(pl.lit("pistol"))
        .when(pl.col("equipment_value") < ECO_BELOW)
        .then(pl.lit("eco"))
        .when(pl.col("equipment_value") < FULL_FROM)
        .then(pl.lit("force"))
        .otherwise(pl.lit("full"))
    ).sort("round_num", "side")


def match_stats(tables: dict[str, pl.DataFrame]) -> dict[str, float | int]:
    """Per-match figures; averages weight every round equally when matches are pooled by :func:`pool`."""
    rounds, kills, bomb, ticks = (tables[n] for n in ("rounds", "kills", "bomb", "ticks"))
    n = rounds.height
    live_s = (rounds["end_tick"] - rounds["freeze_end_tick"]) / TICK_RATE
    k = with_round(kills, rounds)
    first = k.sort("tick").group_by("round_num").first().join(rounds, on="round_num")
    first_kill_s = (first["tick"] - first["freeze_end_tick"]) / TICK_RATE
    man_adv_won = (first["attacker_side"] == first["winner_side"]).sum()
    planted = with_round(bomb, rounds).filter(pl.col("event") == "finish_plant")["round_num"].n_unique()
    buys = buy_types(ticks, rounds)
    return {
        "rounds": n,
        "kills": kills.height,
        "planted_rounds": planted,
        "t_wins": int((rounds["winner_side"] == SIDE_T).sum()),
        "round_length_s_sum": float(live_s.sum()),
        "rounds_with_kill": first.height,
        "first_kill_s_sum": float(first_kill_s.sum()),
        "man_advantage_wins": int(man_adv_won),
        "team_rounds": buys.height,
        **{f"buy_{b}": int((buys["buy_type"] == b).sum()) for b in ("pistol", "eco", "force", "full")},
    }


def pool(stats: list[dict[str, float | int]]) -> dict[str, float | None]:
    """Combine per-match figures into the rates ``metrics/sim.json`` reports (None where nothing to count)."""
    tot = {key: sum(s[key] for s in stats) for key in stats[0]}

    def rate(count: str, of: str) -> float | None:
        return tot[count] / tot[of] if tot[of] else None

    return {
        "matches": len(stats),
        "rounds": int(tot["rounds"]),
        "kills_per_round": rate("kills", "rounds"),
        "plant_rate": rate("planted_rounds", "rounds"),
        "t_round_win_rate": rate("t_wins", "rounds"),
        "round_length_s": rate("round_length_s_sum", "rounds"),
        "first_kill_s": rate("first_kill_s_sum", "rounds_with_kill"),
        "man_advantage_win_rate": rate("man_advantage_wins", "rounds_with_kill"),
        **{f"{b}_buy_rate": rate(f"buy_{b}", "team_rounds") for b in ("pistol", "eco", "force", "full")},
    }


def compare(
    figures: dict[str, float | None], reference: dict[str, Reference]
) -> dict[str, dict[str, float | bool | None]]:
    """Each reference statistic next to ours, with whether ours lies within the stated tolerance."""
    return {
        name: {
            "sim": figures[name],
            "reference": ref.value,
            "tolerance": ref.tolerance,
            "within": None if figures[name] is None else abs(figures[name] - ref.value) <= ref.tolerance,
        }
        for name, ref in reference.items()
        if name in figures
    }
