"""How a simulated pro decides what to do next.

At each decision point a player scores every feasible action from what they can know — their own
health and weapon, the alive counts and bomb state on the HUD, the clock, and the enemy positions their
team has spotted (the radar) — plus their personal style (``aggression``). The choice is a softmax over
those scores with temperature ``decision_noise``: usually the sensible call, sometimes not, as with real
players. The scores are simple documented heuristics; what makes decisions *matter* is the engine: a
player who advances alone into several enemies fights them as the peeker, one at a time against many,
and usually dies, while one who holds gets the holder's reaction advantage.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from chimera.maps import MapGraph
from chimera.sim.state import OTHER, Player, RoundState, T

LATE_S = 35.0  # Terrorists without a plant this close to the end of the round must go
EARLY_S = 95.0  # Counter-Terrorists take their positions before anyone pushes for information


@dataclass(frozen=True)
class View:
    """What one player knows at a decision point (HUD + radar), as numbers the scores use."""

    us: int  # alive teammates including self
    them: int  # alive enemies
    hp: float  # health / 100
    time_left: float  # seconds on the round clock, or on the bomb after the plant
    planted: bool
    executing: bool  # Terrorists: the team is hitting the site now
    near: int  # spotted enemies on this place or a neighbouring one
    has_utility: bool
    at_bomb: bool  # on the place where the bomb is (planted for CT, dropped for T)
    at_target: bool  # T bomb carrier standing on the target bombsite
    others_at_far_site: int  # spotted enemies at the bombsite this player is not guarding/attacking


def view(
    state: RoundState, p: Player, graph: MapGraph, round_time_s: float, bomb_timer_s: float, tick_rate: int
) -> View:
    """Summarise ``state`` from ``p``'s point of view."""
    t = state.tick
    if state.planted_tick >= 0:
        time_left = bomb_timer_s - (t - state.planted_tick) / tick_rate
    else:
        time_left = round_time_s - (t - state.freeze_end_tick) / tick_rate
    close = {p.place, *graph.neighbors(p.place)}
    fresh = [place for place, seen in state.known_by(p.side).values() if t - seen < 5 * tick_rate]
    my_site = _site_of_interest(state, p)
    far_site = graph.bombsites["B" if my_site == "A" else "A"]
    far = {far_site, *graph.neighbors(far_site)}
    return View(
        us=len(state.alive(p.side)),
        them=len(state.alive(OTHER[p.side])),
        hp=p.health / 100,
        time_left=time_left,
        planted=state.planted_tick >= 0,
        executing=t >= state.t_execute_tick,
        near=sum(place in close for place in fresh),
        has_utility=bool([g for g in p.grenades if g != "decoy"]),
        at_bomb=state.bomb_place is not None and p.place == state.bomb_place,
        at_target=p.has_bomb and p.place == graph.bombsites[state.t_target],
        others_at_far_site=sum(place in far for place in fresh),
    )


def _site_of_interest(state: RoundState, p: Player) -> str:
    return p.goal_site or state.t_target


def scores(v: View, side: str, aggression: float, defuse_s: float) -> dict[str, float]:
    """Score every feasible action (higher is more attractive); infeasible actions are absent."""
    a, adv = aggression, v.us - v.them
    s: dict[str, float] = {}
    hopeless = v.them - v.us >= 2 and v.us <= 2
    if side == T and not v.planted:
        late = v.time_left < LATE_S
        s["advance"] = 0.4 + 0.8 * a + 0.25 * adv + 1.2 * v.executing + 1.5 * late - 0.5 * v.near * (1 - a)
        s["hold"] = 0.6 + 0.8 * (1 - a) - 1.0 * v.executing - 1.5 * late + 0.3 * v.near
        s["fall_back"] = -0.2 + 1.2 * (v.hp < 0.35) + 0.4 * (adv < 0) + 0.2 * v.near
        s["rotate"] = -0.8 + 0.5 * v.others_at_far_site
        s["save"] = 1.5 if hopeless and v.time_left < 40 else -1.0
        if v.at_target:
            s["plant"] = 3.0 - 0.6 * v.near
    elif side == T:
        s["hold"] = 1.3 + 0.5 * (1 - a)
        s["advance"] = 0.1 + 0.8 * a + 0.2 * adv
        s["fall_back"] = 0.2 + 1.0 * (v.hp < 0.35)
        s["save"] = -2.0
    elif not v.planted:
        s["hold"] = 1.2 + 0.6 * (1 - a) + 0.3 * v.near
        s["advance"] = 0.9 * a + 0.25 * adv - 0.4 * v.near - 0.8 * (v.time_left > EARLY_S)
        s["rotate"] = -0.5 + 1.2 * v.others_at_far_site
        s["fall_back"] = -0.3 + 1.2 * (v.hp < 0.35) + 0.5 * (v.near >= 2)
        s["save"] = 1.5 if v.us == 1 and v.them >= 3 else -1.5
    else:
        no_time = v.time_left < defuse_s + 2.0
        s["advance"] = 1.0 + 0.3 * adv + 0.5 * a
        s["hold"] = 0.3 + 0.5 * (1 - a) + 0.4 * (adv < 0)
        s["save"] = 2.5 if no_time or (hopeless and v.them >= 3) else -1.5
        if v.at_bomb:
            s["defuse"] = 3.0 - 1.0 * v.near + 1.0 * (v.time_left < defuse_s + 4)
    if v.has_utility:
        s["utility"] = 0.2 + 0.6 * v.executing * (side == T) + 0.5 * min(v.near, 2)
    return s


def choose(s: dict[str, float], noise: float, rng: random.Random) -> str:
    """Softmax choice over ``s`` at temperature ``noise`` (one draw from the player's own stream)."""
    names = sorted(s)
    top = max(s.values())
    weights = [math.exp((s[n] - top) / noise) for n in names]
    r = rng.random() * sum(weights)
    for name, w in zip(names, weights, strict=True):
        r -= w
        if r <= 0:
            return name
    return names[-1]
