"""The weapon/grenade name table resolves every spelling to exactly one row."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chimera import names
from chimera.names import (
    AWPY_GRENADE_TYPES,
    BY_AWPY,
    GRENADES,
    STATE_UTILITY_NAMES,
    UTILITY_NAMES,
    WEAPONS,
    display_name,
    state_utility_name,
    utility_name,
    weapon,
)
from chimera.schema import UTILITY_ITEMS

# The awpy 3.1 short names a match can contain: the table must hold exactly these.
AWPY_NAMES = {
    "ak47",
    "m4a1",
    "m4a1_silencer",
    "awp",
    "ssg08",
    "sg556",
    "aug",
    "famas",
    "galilar",
    "scar20",
    "g3sg1",
    "mac10",
    "mp9",
    "mp7",
    "mp5sd",
    "ump45",
    "p90",
    "bizon",
    "nova",
    "xm1014",
    "mag7",
    "sawedoff",
    "m249",
    "negev",
    "glock",
    "hkp2000",
    "usp_silencer",
    "p250",
    "fiveseven",
    "tec9",
    "cz75a",
    "deagle",
    "revolver",
    "elite",
    "knife",
    "taser",
    "c4",
    "hegrenade",
    "flashbang",
    "smokegrenade",
    "molotov",
    "incgrenade",
    "decoy",
}


def test_table_holds_every_awpy_name_once():
    assert {w.awpy for w in WEAPONS} == AWPY_NAMES
    assert len(WEAPONS) == len(AWPY_NAMES)
    assert len({w.display for w in WEAPONS}) == len(WEAPONS)


@pytest.mark.parametrize("row", WEAPONS, ids=lambda w: w.awpy)
def test_awpy_and_display_names_round_trip(row):
    assert weapon(row.awpy) is row
    assert weapon("weapon_" + row.awpy) is row
    assert weapon(row.display) is row
    assert weapon(row.display.upper()) is row
    assert weapon(f"  {row.display.lower()}  ") is row
    assert display_name(row.awpy) == row.display


@pytest.mark.parametrize(
    ("spelling", "awpy"),
    [
        ("AK47", "ak47"),
        ("ak-47", "ak47"),
        ("AK 47", "ak47"),
        ("WEAPON_AK47", "ak47"),
        ("M4A1-S", "m4a1_silencer"),
        ("m4a1-s", "m4a1_silencer"),
        ("m4a1 s", "m4a1_silencer"),
        ("M4A1", "m4a1"),
        ("M4A4", "m4a1"),
        ("usp", "usp_silencer"),
        ("USP-S", "usp_silencer"),
        ("Deagle", "deagle"),
        ("Desert Eagle", "deagle"),
        ("desert-eagle", "deagle"),
        ("Zeus", "taser"),
        ("zeus x27", "taser"),
        ("Five-Seven", "fiveseven"),
        ("SG553", "sg556"),
        ("Galil", "galilar"),
        ("CZ75", "cz75a"),
        ("P2000", "hkp2000"),
        ("Dual Berettas", "elite"),
        ("HE grenade", "hegrenade"),
        ("HE", "hegrenade"),
        ("High Explosive Grenade", "hegrenade"),
        ("smoke", "smokegrenade"),
        ("Smoke Grenade", "smokegrenade"),
        ("flash", "flashbang"),
        ("flashbang", "flashbang"),
        ("Flashbang", "flashbang"),
        ("molly", "molotov"),
        ("molotov", "molotov"),
        ("Molotov", "molotov"),
        ("incendiary", "incgrenade"),
        ("Incendiary Grenade", "incgrenade"),
        ("incgrenade", "incgrenade"),
        ("decoy", "decoy"),
        ("Decoy Grenade", "decoy"),
        ("bomb", "c4"),
        ("C4", "c4"),
        ("weapon_knife_t", "knife"),
        ("knife_karambit", "knife"),
        ("bayonet", "knife"),
        ("CSmokeGrenadeProjectile", "smokegrenade"),
    ],
)
def test_aliases_and_variants(spelling, awpy):
    assert weapon(spelling) is BY_AWPY[awpy]


@pytest.mark.parametrize("junk", ["", "   ", "ak48", "grenade", "weapon_", "m4", None, 47, b"ak47", ["ak47"]])
def test_unknown_is_none(junk):
    assert weapon(junk) is None
    assert display_name(junk) is None
    assert utility_name(junk) is None
    assert state_utility_name(junk) is None


@given(st.one_of(st.text(), st.none(), st.integers(), st.binary()))
def test_lookups_never_raise(value):
    row = weapon(value)
    assert row is None or row in WEAPONS
    assert utility_name(value) in (None, *UTILITY_NAMES)


@pytest.mark.parametrize(
    ("awpy", "utility", "state"),
    [
        ("smokegrenade", "smoke", "smoke"),
        ("flashbang", "flash", "flashbang"),
        ("hegrenade", "he", "he"),
        ("molotov", "molotov", "molotov"),
        ("incgrenade", "molotov", "incendiary"),
        ("decoy", "decoy", "decoy"),
    ],
)
def test_grenade_utility_names(awpy, utility, state):
    row = BY_AWPY[awpy]
    assert row in GRENADES
    assert utility_name(awpy) == utility_name(row.display) == utility
    assert state_utility_name(awpy) == state_utility_name(row.display) == state
    # The model's vocabulary maps back to the same grenade.
    assert weapon(state) is row
    assert len(GRENADES) == 6


def test_non_grenades_have_no_utility():
    for row in WEAPONS:
        if not row.is_grenade:
            assert (row.utility, row.state_utility, row.awpy_grenade_type) == (None, None, None)
            assert utility_name(row.awpy) is None


def test_awpy_grenade_types_map_to_utility():
    assert set(AWPY_GRENADE_TYPES) == {"smoke", "he", "flashbang", "molotov", "decoy"}
    expected = {"smoke": "smoke", "he": "he", "flashbang": "flash", "molotov": "molotov", "decoy": "decoy"}
    for grenade_type, utility in expected.items():
        assert utility_name(grenade_type) == utility
        assert {w.utility for w in AWPY_GRENADE_TYPES[grenade_type]} == {utility}
    assert {w.awpy for w in AWPY_GRENADE_TYPES["molotov"]} == {"molotov", "incgrenade"}
    assert {w for rows in AWPY_GRENADE_TYPES.values() for w in rows} == set(GRENADES)


def test_state_vocabulary_matches_schema():
    assert set(STATE_UTILITY_NAMES) == set(UTILITY_ITEMS)
    for item in UTILITY_ITEMS:
        assert state_utility_name(item) == item
    assert set(UTILITY_NAMES) == {"smoke", "flash", "he", "molotov", "decoy"}


def test_prices_and_rewards():
    for row in WEAPONS:
        if row.buyable:
            assert row.price > 0, row.awpy
        else:
            assert row.price == 0, row.awpy
        assert row.kill_reward >= 0
    assert not BY_AWPY["knife"].buyable and not BY_AWPY["c4"].buyable
    prices = {"ak47": 2700, "m4a1": 2900, "awp": 4750, "glock": 200, "decoy": 50, "incgrenade": 500}
    assert {k: BY_AWPY[k].price for k in prices} == prices
    rewards = {
        "awp": 100,
        "knife": 1500,
        "mac10": 600,
        "p90": 300,
        "nova": 900,
        "xm1014": 600,
        "taser": 0,
        "cz75a": 100,
        "ak47": 300,
        "hegrenade": 300,
    }
    assert {k: BY_AWPY[k].kill_reward for k in rewards} == rewards


def test_buy_sides():
    t_only = {"ak47", "galilar", "sg556", "g3sg1", "mac10", "tec9", "glock", "sawedoff", "molotov", "c4"}
    ct_only = {
        "m4a1",
        "m4a1_silencer",
        "famas",
        "aug",
        "scar20",
        "mp9",
        "fiveseven",
        "hkp2000",
        "usp_silencer",
        "mag7",
        "incgrenade",
    }
    assert {w.awpy for w in WEAPONS if w.side == "T"} == t_only
    assert {w.awpy for w in WEAPONS if w.side == "CT"} == ct_only
    assert all(w.side == "both" for w in WEAPONS if w.awpy not in t_only | ct_only)


def test_slots_and_categories():
    for row in WEAPONS:
        assert row.is_gun == (row.slot in ("primary", "secondary"))
        assert (row.category == "pistol") == (row.slot == "secondary")
    assert BY_AWPY["awp"].category == "sniper" and BY_AWPY["negev"].category == "lmg"
    assert BY_AWPY["taser"].slot == "taser" and BY_AWPY["c4"].slot == "c4"


def test_index_refuses_ambiguous_spellings(monkeypatch):
    monkeypatch.setitem(names._ALIASES, "ak47", "m4a1")
    with pytest.raises(ValueError, match="names both"):
        names._build_index()
