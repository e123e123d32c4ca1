"""A whole simulated match: rosters, halves, overtime, buys, and the tables awpy would write for it.

:class:`MatchSimulator` plays rounds with :class:`~chimera.sim.round.RoundEngine`, keeps a copy of the
state at the start of every round (so any moment can be restored by replaying one round), and turns
what the recorder saw into awpy-schema tables. :func:`rollout` continues a restored moment to the end
of its round, optionally forcing one player's action and reseeding every random stream — the tool for
scoring advice counterfactually.
"""

from __future__ import annotations

import copy
import random
import zlib
from collections.abc import Iterator

import polars as pl

from chimera.config import MatchSpec, SimParams
from chimera.maps import MapGraph, get_map
from chimera.sim import economy, weapons
from chimera.sim.recorder import NullRecorder, Recorder
from chimera.sim.round import RoundEngine, spot
from chimera.sim.state import AWPY_SIDE, CT, OTHER, Player, RoundState, T, Team
from chimera.tables import ROUND_END_REASONS, TEAM_NUM, TICK_RATE, MatchTables

ROSTERS = {
    "Vitality": ("apEX", "ZywOo", "flameZ", "mezii", "ropz"),
    "FURIA": ("FalleN", "yuurih", "KSCERATO", "molodoy", "YEKINDAR"),
    "Spirit": ("chopper", "sh1ro", "donk", "zont1x", "zweih"),
    "MOUZ": ("Brollan", "torzsi", "Jimpphat", "xertioN", "Spinx"),
    "NAVI": ("Aleksib", "w0nderful", "iM", "b1t", "jL"),
    "FaZe": ("karrigan", "broky", "frozen", "rain", "EliGE"),
}
"""Named five-player rosters; a team not listed gets ``<team>-1`` .. ``<team>-5``."""

STEAMID_BASE = 76561197960265728
TRADE_TICKS = round(5.25 * TICK_RATE)  # awpy's trade window
FIRST_TICK = 5 * TICK_RATE  # demos start with a few seconds before the first round


def roster(team: str) -> tuple[str, ...]:
    return ROSTERS.get(team, tuple(f"{team}-{i}" for i in range(1, 6)))


def streams(*key: object) -> dict[str, random.Random]:
    """Independent named random streams, each seeded from ``key`` and its own name."""
    return _Streams(key)


class _Streams(dict):
    """A dict of :class:`random.Random` that creates each named stream on first use, deterministically."""

    def __init__(self, key: tuple) -> None:
        super().__init__()
        self.key = "/".join(map(str, key))

    def __missing__(self, name: str) -> random.Random:
        self[name] = random.Random(f"{self.key}/{name}")
        return self[name]

    def __deepcopy__(self, memo: dict) -> _Streams:
        new = _Streams(())
        new.key = self.key
        for name, rng in self.items():
            new[name] = copy.deepcopy(rng, memo)
        return new


class MatchSimulator:
    """One match between two teams on one map, deterministic for a given seed."""

    def __init__(self, spec: MatchSpec, params: SimParams, seed: int, snapshot_every: int = 8):
        self.spec, self.params, self.seed, self.every = spec, params, seed, snapshot_every
        self.graph: MapGraph = get_map(spec.map)
        self.teams = [Team(spec.teams[0], CT), Team(spec.teams[1], T)]
        self.players = [
            self._player(team, i, name)
            for team, tname in enumerate(spec.teams)
            for i, name in enumerate(roster(tname))
        ]
        self.round_starts: dict[int, RoundState] = {}
        self.results: list[RoundState] = []
        self.rec = Recorder()

    def _player(self, team: int, index: int, name: str) -> Player:
        rng = random.Random(f"player/{self.spec.teams[team]}/{name}")
        return Player(
            steamid=STEAMID_BASE + zlib.crc32(f"{self.spec.teams[team]}/{name}".encode()),
            name=name,
            team=team,
            entity_id=1 + 5 * team + index,
            aim=min(1.2, max(0.8, rng.gauss(1.0, 0.07))),
            aggression=rng.uniform(0.15, 0.85),
            side=self.teams[team].side,
            money=self.params.economy.start_money,
        )

    # -- the match -----------------------------------------------------------------------------------
    def run(self) -> MatchTables:
        """Play the whole match and return its tables."""
        p, tick, num = self.params, FIRST_TICK, 1
        while not self._over(num):
            first_of_half = self._half_start(num)
            if first_of_half and num > 1:
                self._switch_sides(num)
            state = self._start_round(num, tick, pistol=first_of_half and num <= p.max_rounds)
            self.round_starts[num] = copy.deepcopy(state)
            RoundEngine(self.graph, p, state, self.rec, self.every).run()
            self._finish_round(state)
            tick = state.end_tick + round(p.round_restart_delay_s * TICK_RATE)
            num += 1
        return MatchTables(self.match_id, self._header(), self._tables())

    @property
    def match_id(self) -> str:
        a, b = (t.lower().replace(" ", "") for t in self.spec.teams)
        return f"{self.spec.map}-{a}-vs-{b}"

    def _half_start(self, num: int) -> bool:
        p = self.params
        if num <= p.max_rounds:
            return (num - 1) % (p.max_rounds // 2) == 0
        return (num - p.max_rounds - 1) % (p.overtime_rounds // 2) == 0

    def _over(self, num: int) -> bool:
        """MR12: first to 13; at 12-12 MR3 overtimes (first to 4 more), then a draw after max_overtimes."""
        p, (a, b) = self.params, (t.score for t in self.teams)
        played = num - 1
        if played <= p.max_rounds:
            need = p.max_rounds // 2 + 1
            return max(a, b) >= need or (played == p.max_rounds and a != b)
        ot_played = played - p.max_rounds
        block, done = p.overtime_rounds, ot_played % p.overtime_rounds
        base = p.max_rounds // 2 + (ot_played - 1) // block * (block // 2)
        if max(a, b) >= base + block // 2 + 1:
            return True
        return done == 0 and (a != b or ot_played // block >= p.max_overtimes)

    def _switch_sides(self, num: int) -> None:
        """Half time (and every overtime half, starting with the sides of round 1): reset money and kit."""
        money = (
            self.params.economy.start_money
            if num <= self.params.max_rounds
            else self.params.economy.overtime_money
        )
        for team in self.teams:
            team.side, team.loss_count = OTHER[team.side], 1
        for p in self.players:
            p.side = self.teams[p.team].side
            p.money = money
            p.primary = p.secondary = None
            p.grenades, p.armor, p.helmet, p.defuser = [], 0, False, False

    def _start_round(self, num: int, tick: int, pistol: bool) -> RoundState:
        p = self.params
        rngs = streams(self.seed, self.spec.map, num)
        state = RoundState(
            round_num=num,
            start_tick=tick,
            freeze_end_tick=tick + round(p.freeze_time_s * TICK_RATE),
            tick=tick + (-tick % p.step_ticks),  # steps run on a global grid that snapshot ticks lie on
            players=self.players,
            teams=self.teams,
            streams=rngs,
            t_target=rngs["team"].choice("AB"),
        )
        for player in self.players:
            self._respawn(player)
        for team in self.teams:
            members = [q for q in self.players if q.side == team.side]
            team.buy_type = economy.team_buy_type(team, members, pistol)
            awper = max(members, key=lambda q: q.aim)
            for q in sorted(members, key=lambda q: -q.money):
                economy.buy(q, team.buy_type, q is awper, rngs["buy"])
                q.clip = weapons.stats(q.weapon).clip
        carrier = rngs["team"].choice([q for q in self.players if q.side == T])
        carrier.has_bomb = True
        self.rec.bomb(tick, "pickup", carrier, None)
        return state

    def _respawn(self, p: Player) -> None:
        spawn = self.graph.places[self.graph.t_spawn if p.side == T else self.graph.ct_spawn]
        p.round_start_value = economy.equipment_value(p) if p.alive else 0
        p.alive, p.health, p.place, p.path, p.progress = True, 100, spawn.name, [], 0.0
        (p.x, p.y, p.z), p.vx, p.vy = spot(self.graph, p.steamid, spawn.name), 0.0, 0.0
        p.action, p.goal, p.goal_site, p.hold_spot, p.next_decision = "hold", spawn.name, "", "", 0
        p.forced, p.forced_until, p.moved, p.ready, p.shot_debt = None, -1, False, {}, 0.0
        p.blind_until, p.blind_s, p.flashed_by = 0, 0.0, -1
        p.planting_until = p.defusing_until = p.died_tick = -1
        p.has_bomb, p.reload_until = False, 0
        if p.secondary is None:
            p.secondary = economy.DEFAULT_PISTOL[p.side]
        p.round_start_value = economy.equipment_value(p)

    def _finish_round(self, s: RoundState) -> None:
        winners, losers = s.team_of(s.winner), s.team_of(OTHER[s.winner])
        winners.score += 1
        economy.round_rewards(
            self.params.economy, winners, losers, self.players, s.reason, s.planted_tick >= 0
        )
        self.results.append(copy.deepcopy(s))

    # -- output --------------------------------------------------------------------------------------
    def _tables(self):
        frames = self.rec.frames()
        rows = []
        restart = round(self.params.round_restart_delay_s * TICK_RATE)
        for i, s in enumerate(self.results):
            last = i == len(self.results) - 1
            rows.append(
                (
                    s.round_num,
                    s.start_tick,
                    s.freeze_end_tick,
                    s.end_tick,
                    None if last else s.end_tick + restart,
                    TEAM_NUM[AWPY_SIDE[s.winner]],
                    AWPY_SIDE[s.winner],
                    ROUND_END_REASONS[s.reason],
                    s.reason,
                    False,
                )
            )
        self.rec.rows["rounds"] = rows
        frames["rounds"] = self.rec.frames_for("rounds")
        frames["smokes"], frames["fires"] = self._areas()
        frames["kills"] = mark_trades(frames["kills"])
        return frames

    def _areas(self):
        rec = Recorder()
        for s in self.results:
            cut = s.end_tick + round(self.params.round_restart_delay_s * TICK_RATE)
            for a in s.areas:
                p = s.player(a.thrower)
                row = (a.start_tick, min(a.end_tick, cut), p.name, p.steamid, AWPY_SIDE[a.side])
                if a.kind == "smokegrenade":
                    rec.add("smokes", *row, a.entity_id, 1, a.x, a.y, a.z)
                else:
                    rec.add("fires", *row, a.kind, a.entity_id, 1, a.x, a.y, a.z)
        return rec.frames_for("smokes"), rec.frames_for("fires")

    def _header(self) -> dict:
        last = self.results[-1]
        ticks = last.end_tick + round(self.params.round_restart_delay_s * TICK_RATE)
        return {
            "map_name": self.spec.map,
            "server_name": "chimera-sim",
            "client_name": "SourceTV Demo",
            "build_num": 0,
            "demo_version_name": None,
            "game_directory": "csgo",
            "playback_ticks": ticks,
            "playback_frames": ticks,
            "playback_time": ticks / TICK_RATE,
            "source": "sim",
            "tick_rate": TICK_RATE,
            "seed": self.seed,
            "teams": list(self.spec.teams),
            "score": {t.name: t.score for t in self.teams},
            "players": sorted(
                (
                    {
                        "steamid": p.steamid,
                        "name": p.name,
                        "side": AWPY_SIDE[p.side],
                        "team_clan_name": self.spec.teams[p.team],
                    }
                    for p in self.players
                ),
                key=lambda r: r["steamid"],
            ),
        }

    # -- restoring moments ---------------------------------------------------------------------------
    def snapshot(self, round_num: int, tick: int) -> RoundState:
        """The full state at ``tick`` of ``round_num`` (after :meth:`run`), by replaying that round."""
        return next(self.moments(round_num, [tick]))

    def moments(self, round_num: int, ticks: list[int]) -> Iterator[RoundState]:
        """Snapshots of ``round_num`` at each of the increasing ``ticks``, replaying the round once."""
        if round_num not in self.round_starts:
            raise KeyError(f"round {round_num} was not played (have {sorted(self.round_starts)})")
        state = copy.deepcopy(self.round_starts[round_num])
        engine = RoundEngine(self.graph, self.params, state, NullRecorder(), self.every)
        for tick in ticks:
            engine.run(until_tick=tick, post_round=False)
            yield copy.deepcopy(state)


def rollout(
    graph: MapGraph,
    params: SimParams,
    snapshot: RoundState,
    *,
    force: dict[int, str] | None = None,
    force_s: float = 10.0,
    seed: int | str | None = None,
    rec: Recorder | None = None,
) -> RoundState:
    """Play ``snapshot`` (left untouched) to the end of its round and return the final state.

    ``force`` maps a steamid to the action that player takes now and keeps for ``force_s`` seconds. With
    ``seed=None`` the snapshot's own random streams continue, so an unforced rollout replays the original
    round exactly; with a seed every stream is reseeded independently (other players' decision streams
    are unaffected by what the forced player does, which keeps counterfactual comparisons low-variance).
    """
    if seed is None:
        state = copy.deepcopy(snapshot)
    else:  # fresh streams, created by name on first use: copying the snapshot's would be wasted work
        state = copy.deepcopy(snapshot, memo={id(snapshot.streams): None})
        state.streams = streams("rollout", seed, state.round_num, state.tick)
    engine = RoundEngine(graph, params, state, rec or NullRecorder(), every=10**9)
    for steamid, action in (force or {}).items():
        engine.force(steamid, action, force_s)
    return engine.run(post_round=False)


def mark_trades(kills: pl.DataFrame) -> pl.DataFrame:
    """Set awpy's ``is_trade`` / ``victim_traded``: a kill that avenges a teammate within 5.25 s."""
    rows = kills.rows(named=True)
    for i, k in enumerate(rows):
        for j in range(i - 1, -1, -1):
            e = rows[j]
            if k["tick"] - e["tick"] > TRADE_TICKS:
                break
            if (
                e["attacker_steamid"] == k["victim_steamid"]
                and e["victim_side"] == k["attacker_side"]
                and not e["victim_traded"]
            ):
                k["is_trade"], e["victim_traded"] = True, True
                break
    return pl.DataFrame(rows, schema=kills.schema) if rows else kills
