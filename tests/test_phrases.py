"""The phrase table reads back what it writes, for every feature value."""

from chimera.phrases import PHRASES, all_feature_values, extract, phrase, utility_set


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
