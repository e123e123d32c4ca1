"""How each gun fights in the simulator: damage, fire rate, accuracy, armor penetration, movement speed.

Names, prices, slots and kill rewards come from :mod:`chimera.names` (the one name table); this module
adds only what a fight needs. Damage, armor ratio, fire rate and speed are CS2's published weapon values
(rounded); ``accuracy`` is the simulator's own per-shot hit chance at a typical engagement distance for
an average pro, chosen so that duels last a few hundred milliseconds like real ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from chimera import names


@dataclass(frozen=True, slots=True)
class GunStats:
    damage: float  # base damage of one bullet (body, unarmored)
    armor_ratio: float  # share of damage that goes to health against armor (CS2 "armor penetration" / 100)
    rate: float  # shots per second
    accuracy: float  # per-shot hit chance at ~1000 units, standing, average aim
    range_falloff: float  # relative accuracy lost per 1000 units beyond 1000
    speed: float  # running speed in units/s while holding it
    clip: int
    reload_s: float
    pellets: int = 1  # shotguns fire several pellets per shot


_STATS: dict[str, GunStats] = {
    "ak47": GunStats(36, 0.775, 10.0, 0.34, 0.10, 215, 30, 2.5),
    "m4a1": GunStats(33, 0.70, 11.1, 0.34, 0.10, 225, 30, 3.1),
    "m4a1_silencer": GunStats(38, 0.675, 10.0, 0.36, 0.08, 225, 20, 3.1),
    "sg556": GunStats(30, 1.0, 9.5, 0.36, 0.06, 210, 30, 2.8),
    "aug": GunStats(28, 0.90, 10.0, 0.36, 0.06, 220, 30, 3.8),
    "famas": GunStats(30, 0.70, 11.1, 0.28, 0.16, 220, 25, 3.3),
    "galilar": GunStats(30, 0.775, 11.1, 0.27, 0.16, 215, 35, 3.0),
    "awp": GunStats(115, 0.975, 0.7, 0.80, 0.00, 200, 5, 3.7),
    "ssg08": GunStats(88, 0.85, 0.8, 0.70, 0.00, 230, 10, 3.7),
    "scar20": GunStats(80, 0.825, 4.0, 0.55, 0.02, 215, 20, 3.1),
    "g3sg1": GunStats(80, 0.825, 4.0, 0.55, 0.02, 215, 20, 4.7),
    "mac10": GunStats(29, 0.575, 12.5, 0.26, 0.35, 240, 30, 3.2),
    "mp9": GunStats(26, 0.60, 14.3, 0.27, 0.35, 240, 30, 2.1),
    "mp7": GunStats(29, 0.625, 12.5, 0.28, 0.30, 220, 30, 3.1),
    "mp5sd": GunStats(27, 0.625, 12.5, 0.28, 0.30, 235, 30, 3.0),
    "ump45": GunStats(35, 0.65, 11.1, 0.26, 0.30, 230, 25, 3.5),
    "p90": GunStats(26, 0.69, 14.3, 0.27, 0.28, 230, 50, 3.3),
    "bizon": GunStats(27, 0.575, 12.5, 0.25, 0.35, 240, 64, 2.4),
    "nova": GunStats(26, 0.50, 1.1, 0.55, 0.70, 220, 8, 4.0, pellets=9),
    "xm1014": GunStats(20, 0.80, 2.9, 0.45, 0.70, 215, 7, 4.0, pellets=6),
    "mag7": GunStats(30, 0.75, 1.2, 0.55, 0.70, 225, 5, 2.5, pellets=8),
    "sawedoff": GunStats(32, 0.75, 1.1, 0.50, 0.80, 210, 7, 4.0, pellets=8),
    "m249": GunStats(32, 0.80, 12.5, 0.22, 0.15, 195, 100, 5.7),
    "negev": GunStats(35, 0.71, 13.3, 0.22, 0.15, 150, 150, 5.7),
    "glock": GunStats(30, 0.47, 6.7, 0.24, 0.40, 240, 20, 2.2),
    "hkp2000": GunStats(35, 0.505, 5.9, 0.28, 0.35, 240, 13, 2.2),
    "usp_silencer": GunStats(35, 0.505, 5.9, 0.29, 0.33, 240, 12, 2.2),
    "p250": GunStats(38, 0.64, 6.7, 0.27, 0.35, 240, 13, 2.2),
    "fiveseven": GunStats(32, 0.911, 6.7, 0.27, 0.33, 240, 20, 2.2),
    "tec9": GunStats(33, 0.903, 8.3, 0.24, 0.40, 240, 18, 2.5),
    "cz75a": GunStats(31, 0.776, 10.0, 0.22, 0.45, 240, 12, 2.7),
    "deagle": GunStats(53, 0.932, 3.7, 0.36, 0.20, 230, 7, 2.2),
    "revolver": GunStats(86, 0.932, 2.0, 0.36, 0.20, 220, 8, 2.3),
    "elite": GunStats(38, 0.575, 8.3, 0.22, 0.45, 240, 30, 3.8),
    "knife": GunStats(40, 0.85, 2.0, 0.50, 10.0, 250, 1_000_000, 0.0),
}
STATS = MappingProxyType(_STATS)

HITGROUPS: tuple[tuple[int, str, float, float], ...] = (
    # (awpy hitgroup code, hitgroup_name, probability of a hit landing there, damage multiplier)
    (1, "head", 0.17, 4.0),
    (2, "chest", 0.38, 1.0),
    (3, "stomach", 0.20, 1.25),
    (4, "left_arm", 0.07, 1.0),
    (5, "right_arm", 0.07, 1.0),
    (6, "left_leg", 0.055, 0.75),
    (7, "right_leg", 0.055, 0.75),
)
"""Where a landed bullet hits: CS2's hitgroup codes and damage multipliers, with pro-like hit shares."""


def stats(weapon: str) -> GunStats:
    """Combat stats of a gun by awpy name (the knife when the player holds nothing)."""
    return STATS[weapon]


def price(weapon: str) -> int:
    """Buy-menu price from the name table."""
    item = names.weapon(weapon)
    if item is None:
        raise KeyError(f"unknown weapon {weapon!r}")
    return item.price


def kill_reward(weapon: str) -> int:
    """Money the killer earns in competitive CS2 (grenades and fire earn the default 300)."""
    item = names.weapon(weapon)
    return 300 if item is None else item.kill_reward
