"""The simulator's complete state, as plain dataclasses.

Everything a round needs to continue lives in :class:`RoundState` — players, bomb, live grenades, the
clock and every random stream — so a deep copy *is* a snapshot: restoring it and stepping on reproduces
the original round exactly, and reseeding its streams gives independent rollouts (counterfactual advice
scoring needs both).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from chimera.tables import SIDE_CT, SIDE_T

T, CT = "T", "CT"
AWPY_SIDE = {T: SIDE_T, CT: SIDE_CT}
OTHER = {T: CT, CT: T}

ACTIONS = ("hold", "advance", "fall_back", "rotate", "utility", "plant", "defuse", "save")
"""What a player can decide to do at a decision point."""


@dataclass
class Player:
    steamid: int
    name: str
    team: int  # index of the team (0 or 1); the side it plays changes at half time
    entity_id: int
    aim: float  # skill multiplier on hit chance and reaction (1.0 = an average pro)
    aggression: float  # style: 0 passive .. 1 aggressive
    side: str = T
    money: int = 0
    alive: bool = True
    health: int = 100
    armor: int = 0
    helmet: bool = False
    defuser: bool = False
    primary: str | None = None
    secondary: str | None = None
    grenades: list[str] = field(default_factory=list)  # awpy names, in inventory order
    has_bomb: bool = False
    clip: int = 0
    reload_until: int = 0
    # where: on place `place`, `progress` units along the edge towards path[0] (if any)
    place: str = ""
    path: list[str] = field(default_factory=list)
    progress: float = 0.0
    x: float = 0.0
    y: float = 0.0
    z: float = 0.0
    vx: float = 0.0
    vy: float = 0.0
    yaw: float = 0.0
    # decisions
    action: str = "hold"
    goal: str = ""
    goal_site: str = ""  # bombsite this player guards (CT) or attacks (T)
    hold_spot: str = ""  # CT: the place this player defends
    next_decision: int = 0
    forced: str | None = None
    forced_until: int = -1
    moved: bool = False
    # combat and status
    ready: dict[int, int] = field(default_factory=dict)  # enemy steamid -> tick this player can first shoot
    shot_debt: float = 0.0
    blind_until: int = 0
    blind_s: float = 0.0
    flashed_by: int = -1
    planting_until: int = -1
    defusing_until: int = -1
    round_start_value: int = 0
    died_tick: int = -1

    @property
    def weapon(self) -> str:
        """The gun in hand: primary, else pistol, else knife."""
        return self.primary or self.secondary or "knife"


@dataclass
class Team:
    name: str
    side: str
    score: int = 0
    loss_count: int = 1  # CS2 loss-bonus counter; starts at 1 in each half
    buy_type: str = "pistol"


@dataclass
class Grenade:
    entity_id: int
    kind: str  # awpy item name: smokegrenade, flashbang, hegrenade, molotov, incgrenade, decoy
    thrower: int  # steamid
    side: str
    target: str  # place name it lands on
    throw_tick: int
    land_tick: int
    x0: float
    y0: float
    z0: float
    x1: float
    y1: float
    z1: float


@dataclass
class Area:
    """A deployed smoke cloud or a burning fire: a disc on the map for a tick window."""

    entity_id: int
    kind: str
    thrower: int
    side: str
    place: str
    x: float
    y: float
    z: float
    start_tick: int
    end_tick: int


@dataclass
class RoundState:
    """Everything needed to continue a round from its current tick."""

    round_num: int
    start_tick: int
    freeze_end_tick: int
    tick: int
    players: list[Player]
    teams: list[Team]
    streams: dict[str, random.Random]
    t_target: str = "A"  # bombsite the Ts are going for
    t_execute_tick: int = 0  # when the Ts stop taking map control and hit the site
    bomb_place: str | None = None  # where the bomb lies when dropped or planted
    bomb_dropped: bool = False
    planted_tick: int = -1
    planted_site: str | None = None
    defused: bool = False
    grenades: list[Grenade] = field(default_factory=list)
    areas: list[Area] = field(default_factory=list)
    known: dict[str, dict[int, tuple[str, int]]] = field(default_factory=lambda: {T: {}, CT: {}})
    """Per side: enemy steamid -> (place, tick) where that side last saw them (the radar)."""
    damage_log: dict[int, dict[int, int]] = field(default_factory=dict)  # victim -> attacker -> health taken
    next_entity: int = 200
    last_kill_tick: int = -1
    defused_tick: int = -1
    end_tick: int = -1
    winner: str | None = None  # T or CT
    reason: str | None = None

    def known_by(self, side: str) -> dict[int, tuple[str, int]]:
        return self.known[side]

    def alive(self, side: str) -> list[Player]:
        return [p for p in self.players if p.alive and p.side == side]

    def team_of(self, side: str) -> Team:
        return self.teams[0] if self.teams[0].side == side else self.teams[1]

    def player(self, steamid: int) -> Player:
        return next(p for p in self.players if p.steamid == steamid)
