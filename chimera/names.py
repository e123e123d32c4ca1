"""The one canonical-name table for CS2 weapons, equipment and grenades.

Every part of chimera that touches a weapon or grenade name -- awpy tables (kills, damages,
shots, tick snapshots, inventories, grenades), the model's JSON, the renderer, reward and
evaluation code -- resolves it through this module, so that "AK-47", "weapon_ak47" and "ak47"
are the same thing everywhere and no second list of names can drift out of sync.

The table is a tuple of frozen `Weapon` rows.  Every lookup dict below is derived from those
rows plus one small `_ALIASES` dict for informal spellings; there are no parallel lists.

Prices and kill rewards are CS2 competitive values as published in public CS2 data (the
in-game buy menu and the community wiki), transcribed by hand; re-check them after a game
update that changes the economy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Slot = Literal["primary", "secondary", "melee", "grenade", "c4", "taser"]
Category = Literal["rifle", "sniper", "smg", "shotgun", "lmg", "pistol"]
BuySide = Literal["T", "CT", "both"]
Utility = Literal["smoke", "flash", "he", "molotov", "decoy"]
StateUtility = Literal["smoke", "flashbang", "he", "molotov", "incendiary", "decoy"]
AwpyGrenadeType = Literal["smoke", "he", "flashbang", "molotov", "decoy"]


@dataclass(frozen=True, slots=True)
class Weapon:
    """One CS2 item.

    `awpy` is the class name without `weapon_`, as awpy 3.1 writes it; `display` is the HUD /
    broadcast name.  `utility`, `state_utility` and `awpy_grenade_type` are set for grenades
    only: the short utility vocabulary, the vocabulary of the model's `game_state.utility`, and
    the value awpy's `grenades.type` column uses.
    """

    awpy: str
    display: str
    slot: Slot
    category: Category | None
    price: int
    kill_reward: int
    side: BuySide
    utility: Utility | None = None
    state_utility: StateUtility | None = None
    awpy_grenade_type: AwpyGrenadeType | None = None

    @property
    def buyable(self) -> bool:
        """Whether the item is in the buy menu (the knife and the bomb are not)."""
        return self.slot not in ("melee", "c4")

    @property
    def is_gun(self) -> bool:
        return self.category is not None

    @property
    def is_grenade(self) -> bool:
        return self.slot == "grenade"


def _gun(
    awpy: str, display: str, slot: Slot, category: Category, price: int, reward: int, side: BuySide
) -> Weapon:
    return Weapon(awpy, display, slot, category, price, reward, side)


def _nade(
    awpy: str,
    display: str,
    price: int,
    side: BuySide,
    utility: Utility,
    state: StateUtility,
    awpy_type: AwpyGrenadeType,
) -> Weapon:
    return Weapon(awpy, display, "grenade", None, price, 300, side, utility, state, awpy_type)


WEAPONS: tuple[Weapon, ...] = (
    # Rifles
    _gun("ak47", "AK-47", "primary", "rifle", 2700, 300, "T"),
    _gun("m4a1", "M4A4", "primary", "rifle", 2900, 300, "CT"),
    _gun("m4a1_silencer", "M4A1-S", "primary", "rifle", 2900, 300, "CT"),
    _gun("sg556", "SG 553", "primary", "rifle", 3000, 300, "T"),
    _gun("aug", "AUG", "primary", "rifle", 3300, 300, "CT"),
    _gun("famas", "FAMAS", "primary", "rifle", 2050, 300, "CT"),
    _gun("galilar", "Galil AR", "primary", "rifle", 1800, 300, "T"),
    # Snipers
    _gun("awp", "AWP", "primary", "sniper", 4750, 100, "both"),
    _gun("ssg08", "SSG 08", "primary", "sniper", 1700, 300, "both"),
    _gun("scar20", "SCAR-20", "primary", "sniper", 5000, 300, "CT"),
    _gun("g3sg1", "G3SG1", "primary", "sniper", 5000, 300, "T"),
    # SMGs
    _gun("mac10", "MAC-10", "primary", "smg", 1050, 600, "T"),
    _gun("mp9", "MP9", "primary", "smg", 1250, 600, "CT"),
    _gun("mp7", "MP7", "primary", "smg", 1500, 600, "both"),
    _gun("mp5sd", "MP5-SD", "primary", "smg", 1500, 600, "both"),
    _gun("ump45", "UMP-45", "primary", "smg", 1200, 600, "both"),
    _gun("p90", "P90", "primary", "smg", 2350, 300, "both"),
    _gun("bizon", "PP-Bizon", "primary", "smg", 1400, 600, "both"),
    # Shotguns
    _gun("nova", "Nova", "primary", "shotgun", 1050, 900, "both"),
    _gun("xm1014", "XM1014", "primary", "shotgun", 2000, 600, "both"),
    _gun("mag7", "MAG-7", "primary", "shotgun", 1300, 900, "CT"),
    _gun("sawedoff", "Sawed-Off", "primary", "shotgun", 1100, 900, "T"),
    # Machine guns
    _gun("m249", "M249", "primary", "lmg", 5200, 300, "both"),
    _gun("negev", "Negev", "primary", "lmg", 1700, 300, "both"),
    # Pistols
    _gun("glock", "Glock-18", "secondary", "pistol", 200, 300, "T"),
    _gun("hkp2000", "P2000", "secondary", "pistol", 200, 300, "CT"),
    _gun("usp_silencer", "USP-S", "secondary", "pistol", 200, 300, "CT"),
    _gun("p250", "P250", "secondary", "pistol", 300, 300, "both"),
    _gun("fiveseven", "Five-SeveN", "secondary", "pistol", 500, 300, "CT"),
    _gun("tec9", "Tec-9", "secondary", "pistol", 500, 300, "T"),
    _gun("cz75a", "CZ75-Auto", "secondary", "pistol", 500, 100, "both"),
    _gun("deagle", "Desert Eagle", "secondary", "pistol", 700, 300, "both"),
    _gun("revolver", "R8 Revolver", "secondary", "pistol", 600, 300, "both"),
    _gun("elite", "Dual Berettas", "secondary", "pistol", 300, 300, "both"),
    # Equipment.  The bomb is not bought, but only terrorists can carry it.
    Weapon("knife", "Knife", "melee", None, 0, 1500, "both"),
    Weapon("taser", "Zeus x27", "taser", None, 200, 0, "both"),
    Weapon("c4", "C4 Explosive", "c4", None, 0, 300, "T"),
    # Grenades
    _nade("hegrenade", "High Explosive Grenade", 300, "both", "he", "he", "he"),
    _nade("flashbang", "Flashbang", 200, "both", "flash", "flashbang", "flashbang"),
    _nade("smokegrenade", "Smoke Grenade", 300, "both", "smoke", "smoke", "smoke"),
    _nade("molotov", "Molotov", 400, "T", "molotov", "molotov", "molotov"),
    _nade("incgrenade", "Incendiary Grenade", 500, "CT", "molotov", "incendiary", "molotov"),
    _nade("decoy", "Decoy Grenade", 50, "both", "decoy", "decoy", "decoy"),
)

# Informal spellings -> awpy name.  Keys are normalised by `_key`, so "HE grenade", "he-grenade"
# and "HEGrenade" need one entry.  The grenade entries also cover the awpy `grenades.type`
# vocabulary, the model's `game_state.utility` vocabulary, and demoparser2 projectile classes.
_ALIASES: dict[str, str] = {
    "ak": "ak47",
    "m4a4": "m4a1",
    "m4a1s": "m4a1_silencer",
    "sg553": "sg556",
    "krieg": "sg556",
    "galil": "galilar",
    "scout": "ssg08",
    "mac": "mac10",
    "mp5": "mp5sd",
    "ump": "ump45",
    "ppbizon": "bizon",
    "glock18": "glock",
    "p2k": "hkp2000",
    "usp": "usp_silencer",
    "57": "fiveseven",
    "cz": "cz75a",
    "cz75": "cz75a",
    "deserteagle": "deagle",
    "r8": "revolver",
    "dualberettas": "elite",
    "dualies": "elite",
    "berettas": "elite",
    "zeus": "taser",
    "bomb": "c4",
    "he": "hegrenade",
    "frag": "hegrenade",
    "highexplosive": "hegrenade",
    "chegrenadeprojectile": "hegrenade",
    "flash": "flashbang",
    "cflashbangprojectile": "flashbang",
    "smoke": "smokegrenade",
    "csmokegrenadeprojectile": "smokegrenade",
    "molly": "molotov",
    "molotovcocktail": "molotov",
    "cmolotovprojectile": "molotov",
    # awpy's damages table names fire damage "inferno" without saying which grenade lit it.
    "inferno": "molotov",
    "inc": "incgrenade",
    "incendiary": "incgrenade",
    "cdecoyprojectile": "decoy",
}

_SEPARATORS = re.compile(r"[\s\-_.]+")


def _key(name: str) -> str:
    """Normalise a spelling: case-, whitespace-, hyphen-, underscore- and `weapon_`-insensitive."""
    return _SEPARATORS.sub("", name.lower()).removeprefix("weapon")


def _build_index() -> dict[str, Weapon]:
    """Map every normalised spelling to its row, refusing any spelling that names two rows."""
    index: dict[str, Weapon] = {}
    by_awpy = {w.awpy: w for w in WEAPONS}
    pairs = [(w.awpy, w) for w in WEAPONS] + [(w.display, w) for w in WEAPONS]
    pairs += [(alias, by_awpy[target]) for alias, target in _ALIASES.items()]
    for spelling, row in pairs:
        key = _key(spelling)
        if index.setdefault(key, row) is not row:
            raise ValueError(f"name table: {spelling!r} names both {index[key].awpy} and {row.awpy}")
    return index


BY_AWPY: dict[str, Weapon] = {w.awpy: w for w in WEAPONS}
GRENADES: tuple[Weapon, ...] = tuple(w for w in WEAPONS if w.is_grenade)
GUNS: tuple[Weapon, ...] = tuple(w for w in WEAPONS if w.is_gun)
UTILITY_NAMES: tuple[str, ...] = tuple(dict.fromkeys(w.utility for w in GRENADES if w.utility))
STATE_UTILITY_NAMES: tuple[str, ...] = tuple(
    dict.fromkeys(w.state_utility for w in GRENADES if w.state_utility)
)
# awpy `grenades.type` -> the rows it can stand for ("molotov" covers both fire grenades).
AWPY_GRENADE_TYPES: dict[str, tuple[Weapon, ...]] = {
    t: tuple(w for w in GRENADES if w.awpy_grenade_type == t)
    for t in dict.fromkeys(w.awpy_grenade_type for w in GRENADES if w.awpy_grenade_type)
}
_INDEX: dict[str, Weapon] = _build_index()


def weapon(name: object) -> Weapon | None:
    """Resolve any spelling a demo parser or a model may produce; None when unknown.

    Knife skins each have their own class name (knife_t, knife_karambit, bayonet, ...), so any
    name starting with "knife" or "bayonet" is the knife.
    """
    if not isinstance(name, str):
        return None
    key = _key(name)
    if key.startswith(("knife", "bayonet")):
        return BY_AWPY["knife"]
    return _INDEX.get(key)


def display_name(name: object) -> str | None:
    """The HUD name ("AK-47") for any spelling, or None."""
    row = weapon(name)
    return row.display if row else None


def utility_name(name: object) -> str | None:
    """The short utility name (smoke, flash, he, molotov, decoy) for any grenade spelling, or None."""
    row = weapon(name)
    return row.utility if row else None


def state_utility_name(name: object) -> str | None:
    """The model JSON's `game_state.utility` name (incgrenade -> "incendiary"), or None."""
    row = weapon(name)
    return row.state_utility if row else None
