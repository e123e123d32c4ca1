"""The output contract: strict models and a parser that finds the object and never raises."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chimera.schema import (
    BOMB_STATUSES,
    ECONOMY_ASSESSMENTS,
    GAME_STATE_FIELDS,
    ROUND_IMPORTANCES,
    ROUND_PHASES,
    SIDES,
    UTILITY_ITEMS,
    Advice,
    Analysis,
    GameState,
    ModelOutput,
    json_schema,
    parse_output,
)

EXAMPLE = ModelOutput.example()


def example_dict() -> dict:
    return EXAMPLE.model_dump()


def dumps(data: dict) -> str:
    return json.dumps(data, indent=2)


def with_game_state(**changes) -> str:
    data = example_dict()
    data["game_state"].update(changes)
    return dumps(data)


# --- models ---------------------------------------------------------------------------------


def test_vocabularies_are_exported():
    assert ROUND_PHASES == ("freezetime", "playing", "post-plant", "round-over", "warmup")
    assert SIDES == ("T", "CT")
    assert UTILITY_ITEMS == ("smoke", "flashbang", "he", "molotov", "incendiary", "decoy")
    assert BOMB_STATUSES == ("carried", "dropped", "planted", "defused", "exploded")
    assert ECONOMY_ASSESSMENTS == ("full-buy", "half-buy", "force-buy", "eco", "save")
    assert ROUND_IMPORTANCES == ("low", "medium", "high", "critical")


def test_game_state_fields_in_contract_order():
    assert GAME_STATE_FIELDS == (
        "map_name",
        "round_phase",
        "player_side",
        "player_health",
        "player_armor",
        "player_money",
        "team_money_total",
        "weapon_primary",
        "weapon_secondary",
        "utility",
        "alive_teammates",
        "alive_enemies",
        "bomb_status",
        "site",
        "visible_enemies",
    )


def test_json_schema_describes_the_contract():
    schema = json_schema()
    assert set(schema["properties"]) == {"game_state", "analysis", "advice"}
    game_state = schema["$defs"]["GameState"]
    assert tuple(game_state["properties"]) == GAME_STATE_FIELDS
    assert game_state["additionalProperties"] is False
    assert set(game_state["required"]) == set(GAME_STATE_FIELDS)
    assert game_state["properties"]["player_health"]["maximum"] == 100


def test_example_is_valid_and_round_trips():
    assert isinstance(EXAMPLE.game_state, GameState)
    assert ModelOutput.model_validate_json(EXAMPLE.model_dump_json()) == EXAMPLE
    result = parse_output(EXAMPLE.model_dump_json())
    assert result.ok and result.output == EXAMPLE and result.error is None
    assert result.data == example_dict()


# --- extraction -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "wrap",
    [
        "{}",
        "```json\n{}\n```",
        "```\n{}\n```",
        "Here is my analysis of the frame:\n{}\nGood luck!",
        "Thinking {step by step} and {  not json} first.\n```json\n{}\n```\nDone {}",
    ],
    ids=["bare", "json-fence", "plain-fence", "prose", "brace-prose"],
)
def test_recovers_wrapped_object(wrap):
    result = parse_output(wrap.replace("{}", dumps(example_dict()), 1))
    assert result.ok, result.error
    assert result.output == EXAMPLE


def test_many_non_json_braces_before_the_object():
    # Only '{' followed by '"' or '}' is tried, so prose braces do not use up the attempt cap.
    prose = "template {player} at {site}, " * 500
    result = parse_output(prose + dumps(example_dict()))
    assert result.output == EXAMPLE


def test_braces_inside_strings_do_not_confuse_the_scanner():
    data = example_dict()
    data["analysis"]["situation_summary"] = 'T side said "{ }" then } and {"fake": 1}'
    data["advice"]["callout"] = "}}}{{{"
    result = parse_output("prefix } " + json.dumps(data) + " suffix {")
    assert result.ok, result.error
    assert result.output.advice.callout == "}}}{{{"
    assert result.data == data


def test_two_objects_take_the_first():
    first, second = example_dict(), example_dict()
    second["game_state"]["player_health"] = 1
    result = parse_output(json.dumps(first) + "\n\nor maybe\n\n" + json.dumps(second))
    assert result.output == EXAMPLE

    broken = example_dict()
    broken["game_state"]["player_health"] = 500
    result = parse_output(json.dumps(broken) + json.dumps(first))
    assert not result.ok and result.data == broken


def test_truncated_json_is_invalid_not_a_sub_object():
    text = EXAMPLE.model_dump_json()
    for cut in (len(text) - 1, len(text) // 2, text.index('"analysis"')):
        result = parse_output("Sure:\n```json\n" + text[:cut])
        assert not result.ok and result.data is None
        assert result.error.startswith("invalid JSON"), result.error


@pytest.mark.parametrize("text", ["", "no json here", "[1, 2, 3]", '"{"', "{{{", "{ not json }"])
def test_no_object(text):
    result = parse_output(text)
    assert not result.ok and result.output is None and result.data is None
    assert result.error == "no JSON object found" or result.error.startswith("invalid JSON")


def test_no_brace_at_all_says_so():
    assert parse_output("the model refused").error == "no JSON object found"


@pytest.mark.parametrize("value", [None, b"{}", 42, ["{}"], EXAMPLE])
def test_non_string_input_is_an_error_result(value):
    result = parse_output(value)
    assert not result.ok and result.data is None
    assert result.error.startswith("expected str")


@pytest.mark.parametrize(
    "text",
    ["{" * 200_000, '{"' * 100_000, '{"a": ' + "[" * 100_000, "{ " * 100_000, '{"a": 1' * 30_000],
    ids=["braces", "brace-quotes", "deep-nesting", "spaced-braces", "unclosed-objects"],
)
def test_pathological_inputs_are_fast(text):
    start = time.perf_counter()
    result = parse_output(text)
    assert time.perf_counter() - start < 1.0
    assert not result.ok and result.error


# --- schema errors --------------------------------------------------------------------------


def test_out_of_range_health_names_the_field():
    result = parse_output(with_game_state(player_health=101))
    assert not result.ok
    assert result.data["game_state"]["player_health"] == 101
    assert result.error == "schema: game_state.player_health: Input should be less than or equal to 100"


def test_extra_key_is_forbidden_and_named():
    data = example_dict()
    data["advice"]["confidence"] = 0.9
    result = parse_output(json.dumps(data))
    assert not result.ok and result.data == data
    assert "advice.confidence" in result.error and "Extra inputs are not permitted" in result.error


def test_wrong_round_phase():
    result = parse_output(with_game_state(round_phase="buy"))
    assert not result.ok
    assert result.error.startswith("schema: game_state.round_phase:")


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"player_health": "85"}, "game_state.player_health"),
        ({"player_money": 3250.0}, "game_state.player_money"),
        ({"alive_enemies": 6}, "game_state.alive_enemies"),
        ({"alive_teammates": 5}, "game_state.alive_teammates"),
        ({"utility": ["smoke", "grenade"]}, "game_state.utility.1"),
        ({"player_side": "ct"}, "game_state.player_side"),
        ({"bomb_status": "exploding"}, "game_state.bomb_status"),
        ({"visible_enemies": -1}, "game_state.visible_enemies"),
    ],
)
def test_strict_types_and_ranges(change, path):
    result = parse_output(with_game_state(**change))
    assert not result.ok
    assert result.error.startswith(f"schema: {path}:"), result.error


def test_nullable_fields_accept_null_but_are_required():
    nulls = dict.fromkeys(
        ["team_money_total", "weapon_primary", "weapon_secondary", "bomb_status", "site", "visible_enemies"]
    )
    assert parse_output(with_game_state(**nulls)).ok
    data = example_dict()
    del data["game_state"]["site"]
    result = parse_output(json.dumps(data))
    assert result.error == "schema: game_state.site: Field required"


def test_many_errors_are_summarised():
    result = parse_output(json.dumps({"game_state": {}, "analysis": {}, "advice": {}}))
    assert result.error.startswith("schema: game_state.map_name: Field required;")
    assert result.error.endswith("more)")


# --- properties -----------------------------------------------------------------------------


def _texts(**kwargs) -> st.SearchStrategy[str]:
    return st.text(max_size=40, **kwargs)


def _optional(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.none() | strategy


game_states = st.builds(
    GameState,
    map_name=_texts(),
    round_phase=st.sampled_from(ROUND_PHASES),
    player_side=st.sampled_from(SIDES),
    player_health=st.integers(0, 100),
    player_armor=st.integers(0, 100),
    player_money=st.integers(0, 10**6),
    team_money_total=_optional(st.integers(0, 10**6)),
    weapon_primary=_optional(_texts()),
    weapon_secondary=_optional(_texts()),
    utility=st.lists(st.sampled_from(UTILITY_ITEMS), max_size=4),
    alive_teammates=st.integers(0, 4),
    alive_enemies=st.integers(0, 5),
    bomb_status=_optional(st.sampled_from(BOMB_STATUSES)),
    site=_optional(_texts()),
    visible_enemies=_optional(st.integers(0, 5)),
)
analyses = st.builds(
    Analysis,
    situation_summary=_texts(),
    economy_assessment=st.sampled_from(ECONOMY_ASSESSMENTS),
    round_importance=st.sampled_from(ROUND_IMPORTANCES),
    immediate_threats=st.lists(_texts(), max_size=3),
    opportunities=st.lists(_texts(), max_size=3),
)
advices = st.builds(Advice, primary_action=_texts(), reasoning=_texts(), fallback=_texts(), callout=_texts())
outputs = st.builds(ModelOutput, game_state=game_states, analysis=analyses, advice=advices)
brace_free_prose = st.text(alphabet=st.characters(blacklist_characters="{"), max_size=200)


def _consistent(result) -> None:
    assert result.ok == (result.output is not None) == (result.error is None)
    if result.ok:
        assert isinstance(result.output, ModelOutput) and isinstance(result.data, dict)


@given(st.text())
def test_arbitrary_text_never_raises(text):
    _consistent(parse_output(text))


@given(st.text(alphabet='{}[]":, 0123456789abtrue\\n'))
def test_json_like_noise_never_raises(text):
    _consistent(parse_output(text))


@settings(max_examples=50)
@given(outputs, brace_free_prose, brace_free_prose)
def test_object_embedded_in_prose_is_recovered_exactly(output, before, after):
    result = parse_output(before + json.dumps(output.model_dump()) + after)
    assert result.ok, result.error
    assert result.output == output


@settings(max_examples=50)
@given(outputs, st.text(max_size=200), st.text(max_size=200))
def test_object_in_arbitrary_prose_never_raises(output, before, after):
    _consistent(parse_output(before + json.dumps(output.model_dump()) + after))


@settings(max_examples=50)
@given(game_states, st.sampled_from([None, 2]))
def test_game_state_round_trips_through_text(game_state, indent):
    data = example_dict()
    data["game_state"] = game_state.model_dump()
    result = parse_output(f"```json\n{json.dumps(data, indent=indent)}\n```")
    assert result.ok, result.error
    assert result.output.game_state == game_state
