"""The phrase table reads back what it writes, for every feature value."""

import pytest

from chimera.phrases import PHRASES, SIM_ACTIONS, all_feature_values, extract, phrase, sim_action, utility_set
from chimera.sim.state import ACTIONS


def test_every_feature_combination_round_trips():
    combos = all_feature_values()
    assert len(combos) == 3 * 3 * 16 * 2 * 5
    for features in combos:
        assert extract(phrase(features)) == features, phrase(features)


def test_each_phrase_has_one_meaning():
    everything = [p for values in PHRASES.values() for ps in values.values() for p in ps]
    assert len(everything) == len(set(everything))


def test_negation_and_unaddressed_features():
    read = extract("Don't peek. Hold the angle and save your utility.")
    assert read == {
        "movement_direction": 0,
        "objective_direction": None,
        "utility_used": [],
        "initiated_engagement": 0,
        "engagement_delay": None,
    }
    assert set(extract("play smart").values()) == {None}
    assert set(extract("").values()) == {None}


def test_first_phrase_wins_a_conflict():
    assert extract("Fall back, then push up later")["movement_direction"] == -1


def test_awpy_and_hud_grenade_names_map_to_the_short_vocabulary():
    assert utility_set(
        [
            "Smoke Grenade",
            "Flashbang",
            "High Explosive Grenade",
            "Incendiary Grenade",
            "Molotov",
            "Decoy Grenade",
        ]
    ) == {"smoke", "flash", "he", "molotov"}
    assert utility_set(["smokegrenade", "hegrenade", "incgrenade", "flash"]) == {
        "smoke",
        "he",
        "molotov",
        "flash",
    }
    assert utility_set("molly") == {"molotov"} and utility_set(None) == set()


T_BEFORE_PLANT = ("hold", "advance", "fall_back", "rotate", "utility", "save")
CT_AFTER_PLANT = ("hold", "advance", "defuse", "save")


@pytest.mark.parametrize(
    ("advice", "legal", "action"),
    [
        ("Hold the angle, don't peek.", T_BEFORE_PLANT, "hold"),
        ("Push up and take the first duel.", T_BEFORE_PLANT, "advance"),
        ("Take the site.", T_BEFORE_PLANT, "advance"),
        ("Take the site.", (*T_BEFORE_PLANT, "plant"), "plant"),
        ("Go to the bomb, fight late.", CT_AFTER_PLANT, "defuse"),
        ("Pop flash and push towards the enemy.", T_BEFORE_PLANT, "utility"),
        ("Use a smoke, hold your position.", ("hold", "advance", "save"), "hold"),  # no grenade in hand
        ("Fall back and avoid any fight.", T_BEFORE_PLANT, "save"),
        ("Fall back and fight late.", T_BEFORE_PLANT, "fall_back"),
        ("Retreat.", CT_AFTER_PLANT, "save"),  # after the plant a defender can only save
        ("Leave the site.", T_BEFORE_PLANT, "fall_back"),
        ("Play smart and win the round.", T_BEFORE_PLANT, None),
        ("", T_BEFORE_PLANT, None),
    ],
)
def test_advice_text_maps_to_one_simulator_action(advice, legal, action):
    assert sim_action(extract(advice), legal) == action


@pytest.mark.parametrize(
    ("behavior", "legal", "action"),
    [
        # what the pro was measured doing over the window (SPEC §7 features)
        (
            {
                "movement_direction": 0,
                "objective_direction": 0,
                "utility_used": [],
                "initiated_engagement": 0,
                "engagement_delay": 1.0,
            },
            T_BEFORE_PLANT,
            "hold",
        ),
        (
            {
                "movement_direction": 1,
                "objective_direction": 1,
                "utility_used": [],
                "initiated_engagement": 1,
                "engagement_delay": 0.2,
            },
            T_BEFORE_PLANT,
            "advance",
        ),
        (
            {
                "movement_direction": 0,
                "objective_direction": 1,
                "utility_used": [],
                "initiated_engagement": 0,
                "engagement_delay": 1.0,
            },
            (*T_BEFORE_PLANT, "plant"),
            "plant",
        ),
        (
            {
                "movement_direction": 0,
                "objective_direction": 0,
                "utility_used": ["molotov"],
                "initiated_engagement": 0,
                "engagement_delay": 1.0,
            },
            T_BEFORE_PLANT,
            "utility",
        ),
        (
            {
                "movement_direction": -1,
                "objective_direction": -1,
                "utility_used": [],
                "initiated_engagement": 0,
                "engagement_delay": 1.0,
            },
            T_BEFORE_PLANT,
            "save",
        ),
        (
            {
                "movement_direction": -1,
                "objective_direction": 0,
                "utility_used": [],
                "initiated_engagement": 1,
                "engagement_delay": 0.5,
            },
            T_BEFORE_PLANT,
            "fall_back",
        ),
        (
            {
                "movement_direction": 0,
                "objective_direction": 1,
                "utility_used": [],
                "initiated_engagement": 0,
                "engagement_delay": 1.0,
            },
            CT_AFTER_PLANT,
            "defuse",
        ),
    ],
)
def test_observed_behaviour_maps_to_one_simulator_action(behavior, legal, action):
    assert sim_action(behavior, legal) == action


def test_every_mapped_action_is_legal_and_a_simulator_action():
    assert SIM_ACTIONS == ACTIONS
    for legal in (T_BEFORE_PLANT, CT_AFTER_PLANT, ("hold",)):
        for features in all_feature_values():
            assert sim_action(features, legal) in (*legal, None)
