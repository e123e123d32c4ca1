"""Ground truth (SPEC §5): hand-built tables with known answers, and invariants on a simulated match."""

import polars as pl
import pytest
from pydantic import ValidationError

from chimera import tables
from chimera.gamestate import GAME_STATE_COLUMNS, at_tick, game_state, stable, state_table
from chimera.maps import get_map
from chimera.schema import GAME_STATE_FIELDS, GameState
from chimera.tables import SIDE_CT, SIDE_T, with_round

MIRAGE = get_map("de_mirage")
# -- a hand-built match ----------------------------------------------------------------------------
# Players: terrorists A, B, E; counter-terrorists C, D. Snapshots every 4 ticks from 0 to 1000.
# Round 1: start 100, freeze end 164, end 500 (bomb_defused). A carries the bomb from 100, drops it
#   at 203 (dies: health 0 from 204); B picks it up at 251, plants 300..340, C defuses at 420.
# Round 2: start 600, freeze end 664, end 900 (target_bombed). B holds the bomb from 600 without any
#   pickup event (as at a real round start) and plants at 700.
A, B, E, C, D = 1, 2, 3, 4, 5
SIDES = {A: SIDE_T, B: SIDE_T, E: SIDE_T, C: SIDE_CT, D: SIDE_CT}
MONEY = {A: 1000, B: 2000, E: 3000, C: 4000, D: 500}
PLACE = {A: "TSpawn", B: "BombsiteA", E: "Nowhere", C: "BombsiteA", D: None}
INVENTORY = {
    A: "p250,knife",
    B: "ak47,glock,knife,flashbang,flashbang,smokegrenade,c4",
    E: "knife",
    C: "m4a1_silencer,usp_silencer,knife,incgrenade,hegrenade",
    D: "usp_silencer,knife,flashbang",  # as a real demo lists two flashbangs: one entity ...
}
FLASHBANGS = {
    A: 0,
    B: 0,
    E: 0,
    C: 0,
    D: 2,
}  # ... and the count says 2 (B: 0, so its list is the inventory alone)
PRIMARY = {A: None, B: "ak47", E: None, C: "m4a1_silencer", D: None}
SECONDARY = {A: "p250", B: "glock", E: None, C: "usp_silencer", D: "usp_silencer"}
TICKS = range(0, 1001, 4)


def has_bomb(sid: int, tick: int) -> bool:
    return (sid == A and 100 <= tick < 203) or (sid == B and (251 <= tick < 340 or 600 <= tick < 700))


def dead(sid: int, tick: int) -> bool:
    return sid == A and 204 <= tick < 600


def tick_row(sid: int, tick: int) -> tuple:
    alive = not dead(sid, tick)
    values = dict.fromkeys(tables.SCHEMAS["ticks"])
    values.update(
        tick=tick,
        steamid=sid,
        name=f"p{sid}",
        side=SIDES[sid],
        x=0.0,
        y=0.0,
        z=0.0,
        health=100 if alive else 0,
        armor=100 if alive else 0,
        has_bomb=has_bomb(sid, tick),
        primary_weapon=PRIMARY[sid] if alive else None,
        secondary_weapon=SECONDARY[sid] if alive else None,
        flashbangs=FLASHBANGS[sid] if alive else 0,
        money=MONEY[sid],
        inventory=INVENTORY[sid] if alive else "",
        place=PLACE[sid],
    )
    return tuple(values.values())


def frame(name: str, rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=tables.SCHEMAS[name], orient="row")


def bomb_row(tick: int, event: str, sid: int) -> tuple:
    return (tick, event, 10, 1, sid, f"p{sid}", "A" if "plant" in event else None, 0.0, 0.0, 0.0)


def hand_tables(bomb: list[tuple] | None = None) -> dict[str, pl.DataFrame]:
    out = {name: tables.empty(name) for name in tables.TABLES}
    out["ticks"] = frame("ticks", [tick_row(sid, t) for t in TICKS for sid in SIDES])
    out["rounds"] = frame(
        "rounds",
        [
            (1, 100, 164, 500, 600, 3, SIDE_CT, 7, "bomb_defused", False),
            (2, 600, 664, 900, None, 2, SIDE_T, 1, "target_bombed", False),
        ],
    )
    default = [
        bomb_row(100, "pickup", A),
        bomb_row(203, "drop", A),
        bomb_row(251, "pickup", B),
        bomb_row(300, "start_plant", B),
        bomb_row(340, "finish_plant", B),
        bomb_row(420, "defuse", C),
        bomb_row(650, "start_plant", B),  # an interrupted plant changes nothing
        bomb_row(660, "interrupt_plant", B),
        bomb_row(700, "finish_plant", B),
    ]
    out["bomb"] = frame("bomb", default if bomb is None else bomb)
    return out


@pytest.fixture(scope="module")
def hand() -> pl.DataFrame:
    return state_table(hand_tables(), "de_mirage")


def value(states: pl.DataFrame, sid: int, tick: int, column: str):
    row = states.filter((pl.col("steamid") == sid) & (pl.col("tick") == tick))
    assert row.height == 1
    return row[column][0]


def test_columns_are_the_keys_then_every_game_state_field(hand):
    assert GAME_STATE_COLUMNS == GAME_STATE_FIELDS
    assert hand.columns == ["tick", "steamid", "name", "round_num", *GAME_STATE_FIELDS]
    assert hand.height == len(TICKS) * len(SIDES)
    assert set(hand["map_name"]) == {"de_mirage"}


def test_rows_keep_the_order_of_the_ticks_table():
    t = hand_tables()
    shuffled = t["ticks"].sample(fraction=1.0, shuffle=True, seed=7)
    out = state_table({**t, "ticks": shuffled}, "de_mirage")
    assert out.select("tick", "steamid").equals(shuffled.select("tick", "steamid"))


@pytest.mark.parametrize(
    "tick, phase, round_num",
    [
        (0, "warmup", None),
        (96, "warmup", None),
        (100, "freezetime", 1),
        (160, "freezetime", 1),
        (164, "playing", 1),
        (336, "playing", 1),
        (340, "post-plant", 1),
        (496, "post-plant", 1),
        (500, "round-over", 1),
        (596, "round-over", 1),  # until the next round starts
        (600, "freezetime", 2),
        (664, "playing", 2),
        (696, "playing", 2),
        (700, "post-plant", 2),
        (900, "round-over", 2),
        (1000, "round-over", 2),  # the last round stays over to the end of the data
    ],
)
def test_round_phase_at_each_boundary(hand, tick, phase, round_num):
    for sid in SIDES:
        assert value(hand, sid, tick, "round_phase") == phase
        assert value(hand, sid, tick, "round_num") == round_num


@pytest.mark.parametrize(
    "tick, status",
    [
        (96, None),  # warmup, nobody holds the bomb
        (100, "carried"),
        (200, "carried"),
        (204, "dropped"),  # A dropped it at 203
        (248, "dropped"),
        (252, "carried"),  # B picked it up at 251
        (336, "carried"),  # planting: still in B's hands
        (340, "planted"),
        (416, "planted"),
        (420, "defused"),
        (596, "defused"),
        (600, "carried"),  # from has_bomb alone: no pickup event this round
        (696, "carried"),
        (700, "planted"),
        (896, "planted"),
        (900, "exploded"),  # only the round reason says so
        (1000, "exploded"),
    ],
)
def test_bomb_status_follows_the_events(hand, tick, status):
    for sid in SIDES:
        assert value(hand, sid, tick, "bomb_status") == status


@pytest.mark.parametrize(
    "events, status",
    [
        ([("pickup", A), ("drop", A)], "dropped"),
        ([("drop", A), ("pickup", B)], None),  # nobody has_bomb, so not carried; but not dropped either
    ],
)
def test_events_on_one_tick_resolve_in_table_order(events, status):
    rows = [bomb_row(100, "pickup", A)] + [bomb_row(230, event, sid) for event, sid in events]
    states = state_table(hand_tables(rows), "de_mirage")
    assert value(states, C, 232, "bomb_status") == status  # 232: A is dead, nobody holds the bomb


def test_a_detonate_event_means_exploded_never_carried():
    """Other parsers write the explosion as an event; awpy only as the round reason (target_bombed)."""
    rows = [
        bomb_row(100, "pickup", A),
        bomb_row(203, "drop", A),
        bomb_row(251, "pickup", B),
        bomb_row(340, "finish_plant", B),
        bomb_row(380, "detonate", B),
    ]
    states = state_table(hand_tables(rows), "de_mirage")
    assert value(states, C, 376, "bomb_status") == "planted"
    assert value(states, C, 380, "bomb_status") == "exploded"
    assert value(states, B, 396, "bomb_status") == "exploded"


def test_bomb_events_of_one_round_do_not_leak_into_the_next():
    # round 1's bomb is dropped and never picked up; round 2 starts with nobody holding it
    rows = [bomb_row(100, "pickup", A), bomb_row(203, "drop", A)]
    t = hand_tables(rows)
    t["ticks"] = t["ticks"].with_columns(has_bomb=pl.lit(False))
    t["rounds"] = t["rounds"].with_columns(reason_name=pl.lit("ct_win"), reason=pl.lit(8, pl.Int32))
    states = state_table(t, "de_mirage")
    assert value(states, C, 596, "bomb_status") == "dropped"
    assert value(states, C, 604, "bomb_status") is None
    assert value(states, C, 1000, "bomb_status") is None  # no plant: not exploded despite the end


def test_alive_counts_and_team_money(hand):
    # tick 300: A (T) is dead; B, E (T) and C, D (CT) are alive
    assert value(hand, B, 300, "alive_teammates") == 1
    assert value(hand, B, 300, "alive_enemies") == 2
    assert value(hand, A, 300, "alive_teammates") == 2  # a dead player is not subtracted from his side
    assert value(hand, A, 300, "alive_enemies") == 2
    assert value(hand, C, 300, "alive_teammates") == 1
    assert value(hand, C, 300, "alive_enemies") == 2
    assert value(hand, C, 100, "alive_enemies") == 3
    assert value(hand, A, 100, "alive_teammates") == 2
    for sid in (A, B, E):
        assert value(hand, sid, 300, "team_money_total") == 6000  # dead A's money counts
    for sid in (C, D):
        assert value(hand, sid, 300, "team_money_total") == 4500


def test_player_fields(hand):
    assert value(hand, B, 300, "player_side") == "T"
    assert value(hand, C, 300, "player_side") == "CT"
    assert value(hand, A, 300, "player_health") == 0
    assert value(hand, B, 300, "player_health") == 100
    assert value(hand, A, 300, "player_armor") == 0
    assert value(hand, E, 300, "player_money") == 3000


def test_weapons_are_display_names(hand):
    assert value(hand, B, 300, "weapon_primary") == "AK-47"
    assert value(hand, B, 300, "weapon_secondary") == "Glock-18"
    assert value(hand, C, 300, "weapon_primary") == "M4A1-S"
    assert value(hand, C, 300, "weapon_secondary") == "USP-S"
    assert value(hand, A, 100, "weapon_primary") is None
    assert value(hand, A, 100, "weapon_secondary") == "P250"
    assert value(hand, E, 300, "weapon_secondary") is None


def test_utility_one_sorted_entry_per_grenade(hand):
    assert value(hand, B, 300, "utility").to_list() == ["flashbang", "flashbang", "smoke"]
    assert value(hand, C, 300, "utility").to_list() == ["he", "incendiary"]
    assert value(hand, D, 300, "utility").to_list() == ["flashbang", "flashbang"]  # topped up to the count
    assert value(hand, E, 300, "utility").to_list() == []
    assert value(hand, A, 300, "utility").to_list() == []  # dead


def test_site_and_visible_enemies_without_a_graph(hand):
    assert value(hand, B, 300, "site") == "BombsiteA"  # the raw place name
    assert value(hand, E, 300, "site") == "Nowhere"
    assert value(hand, D, 300, "site") is None
    assert hand["visible_enemies"].null_count() == hand.height


def test_site_and_visible_enemies_with_a_graph():
    assert "Nowhere" not in MIRAGE.places and not MIRAGE.can_see("TSpawn", "BombsiteA")
    states = state_table(hand_tables(), "de_mirage", MIRAGE)
    assert value(states, B, 300, "site") == "A Site"
    assert value(states, A, 100, "site") == "T Spawn"
    assert value(states, E, 300, "site") == "Nowhere"  # unknown to the graph: kept as is
    assert value(states, D, 300, "site") is None
    assert value(states, B, 300, "visible_enemies") == 1  # C on the same place; D's place is unknown
    assert value(states, C, 300, "visible_enemies") == 1  # B; not A (dead), not E (unknown place)
    assert value(states, C, 100, "visible_enemies") == 1  # A at T Spawn cannot see A Site
    assert value(states, A, 100, "visible_enemies") == 0
    assert value(states, A, 300, "visible_enemies") is None  # dead
    assert value(states, E, 300, "visible_enemies") is None  # unknown place


def test_game_state_validates_a_row(hand):
    row = hand.filter((pl.col("steamid") == B) & (pl.col("tick") == 300)).row(0, named=True)
    state = game_state(row)
    assert isinstance(state, GameState)
    assert state.utility == ["flashbang", "flashbang", "smoke"]
    assert state.bomb_status == "carried" and state.round_phase == "playing"
    with pytest.raises(ValidationError):
        game_state({**row, "player_health": 150})
    with pytest.raises(ValidationError):
        game_state({**row, "round_phase": "halftime"})


# -- stable ----------------------------------------------------------------------------------------
def states_frame(health_change_tick: int | None = None) -> pl.DataFrame:
    """Two players with snapshots every 8 ticks over 0..400; player 1's health drops at the given tick."""
    base = game_state(
        {
            "map_name": "de_mirage",
            "round_phase": "playing",
            "player_side": "T",
            "player_health": 100,
            "player_armor": 100,
            "player_money": 800,
            "team_money_total": 4000,
            "weapon_primary": "AK-47",
            "weapon_secondary": None,
            "utility": ["smoke"],
            "alive_teammates": 4,
            "alive_enemies": 5,
            "bomb_status": None,
            "site": None,
            "visible_enemies": None,
        }
    ).model_dump()
    rows = []
    for sid in (1, 2):
        for tick in range(0, 401, 8):
            hurt = sid == 1 and health_change_tick is not None and tick >= health_change_tick
            rows.append({"tick": tick, "steamid": sid, **base, "player_health": 80 if hurt else 100})
    return pl.DataFrame(rows)


def stable_at(states: pl.DataFrame, flags: pl.Series, sid: int, tick: int) -> bool:
    mask = (states["steamid"] == sid) & (states["tick"] == tick)
    assert mask.sum() == 1
    return bool(flags.filter(mask)[0])


def test_rows_near_a_change_are_unstable_and_far_rows_stable():
    states = states_frame(health_change_tick=200)
    flags = stable(states, 16)
    assert flags.len() == states.height and flags.dtype == pl.Boolean
    for tick in (184, 192, 200, 208):
        assert not stable_at(states, flags, 1, tick), tick
    for tick in (176, 216, 104, 296):
        assert stable_at(states, flags, 1, tick), tick
    assert stable_at(states, flags, 2, 200)  # the other player's change does not matter


def test_a_change_in_a_list_field_is_seen():
    states = states_frame()
    states = states.with_columns(
        pl.when((pl.col("steamid") == 1) & (pl.col("tick") >= 200))
        .then(pl.lit(["flashbang", "smoke"]))
        .otherwise(pl.col("utility"))
        .alias("utility")
    )
    flags = stable(states, 16)
    assert not stable_at(states, flags, 1, 192)
    assert not stable_at(states, flags, 1, 200)
    assert stable_at(states, flags, 1, 176)
    assert stable_at(states, flags, 1, 216)


def test_edges_of_the_data_are_unstable():
    states = states_frame()
    flags = stable(states, 16)
    for sid in (1, 2):
        for tick in (0, 8, 392, 400):
            assert not stable_at(states, flags, sid, tick), (sid, tick)
        for tick in (16, 384):
            assert stable_at(states, flags, sid, tick), (sid, tick)


def test_stable_follows_the_input_row_order():
    states = states_frame(health_change_tick=200)
    shuffled = states.sample(fraction=1.0, shuffle=True, seed=3)
    assert stable(shuffled, 16).to_list() == [
        stable_at(states, stable(states, 16), sid, tick)
        for sid, tick in zip(shuffled["steamid"], shuffled["tick"], strict=True)
    ]


def test_window_zero_only_needs_the_row_itself():
    states = states_frame(health_change_tick=200)
    assert stable(states, 0).all()


# -- at_tick ---------------------------------------------------------------------------------------
def test_at_tick_takes_the_nearest_earlier_snapshot(hand):
    row = at_tick(hand, B, 302)
    assert row is not None and row["tick"] == 300 and row["steamid"] == B
    assert at_tick(hand, B, 300)["tick"] == 300
    assert at_tick(hand, B, 5000)["tick"] == 1000
    assert at_tick(hand, B, -1) is None
    assert at_tick(hand, 999, 300) is None


# -- a simulated match -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sim_match(short_match) -> tables.MatchTables:
    return short_match


@pytest.fixture(scope="module")
def sim_states(sim_match) -> pl.DataFrame:
    return state_table(sim_match.tables, sim_match.header["map_name"], get_map(sim_match.header["map_name"]))


def check_invariants(t: dict[str, pl.DataFrame], states: pl.DataFrame) -> None:
    """Facts any correct ground truth of a consistent match satisfies."""
    assert states.height == t["ticks"].height
    for row in states.iter_rows(named=True):
        game_state(row)
    assert states["alive_teammates"].max() <= 4

    rank = {"warmup": 0, "freezetime": 1, "playing": 2, "post-plant": 3, "round-over": 4}
    order = (
        states.sort("tick")
        .with_columns(pl.col("round_phase").replace_strict(rank).alias("rank"))
        .group_by("steamid", "round_num")
        .agg(pl.col("rank").diff().min().alias("step"))
    )
    assert (order["step"].fill_null(0) >= 0).all(), "phases go backwards within a round"
    assert (states.filter(pl.col("round_phase") == "warmup")["round_num"].is_null()).all()

    rounds = t["rounds"]
    events = with_round(t["bomb"], rounds)
    planted = set(events.filter(pl.col("event") == "finish_plant")["round_num"])
    post_plant = set(states.filter(pl.col("round_phase") == "post-plant")["round_num"])
    assert post_plant == planted
    reasons = dict(zip(rounds["round_num"], rounds["reason_name"], strict=True))
    for status, reason in (("defused", "bomb_defused"), ("exploded", "target_bombed")):
        having = set(states.filter(pl.col("bomb_status") == status)["round_num"])
        assert all(reasons[r] == reason for r in having), status
        assert having == {r for r, why in reasons.items() if why == reason}, status

    # per tick and side, everyone shows the side's total money and agrees on who is alive
    by_side = states.group_by("tick", "player_side").agg(
        pl.col("player_money").sum().alias("money"),
        pl.col("team_money_total").n_unique().alias("totals"),
        pl.col("team_money_total").first().alias("total"),
        (pl.col("player_health") > 0).sum().alias("alive"),
        (pl.col("alive_teammates") + (pl.col("player_health") > 0).cast(pl.Int32)).max().alias("seen_hi"),
        (pl.col("alive_teammates") + (pl.col("player_health") > 0).cast(pl.Int32)).min().alias("seen_lo"),
    )
    assert (by_side["totals"] == 1).all()
    assert (by_side["total"] == by_side["money"]).all()
    assert (by_side["seen_hi"] == by_side["alive"]).all() and (by_side["seen_lo"] == by_side["alive"]).all()


def test_simulated_match_invariants(sim_match, sim_states):
    t = sim_match.tables
    check_invariants(t, sim_states)
    # the fixture exercises what it claims to: plants, a defuse, an explosion
    reasons = set(t["rounds"]["reason_name"])
    assert {"bomb_defused", "target_bombed"} <= reasons
    assert set(sim_states["bomb_status"].drop_nulls()) == {
        "carried",
        "dropped",
        "planted",
        "defused",
        "exploded",
    }


def test_simulated_match_site_and_sight(sim_match, sim_states):
    graph = get_map(sim_match.header["map_name"])
    callouts = {p.callout for p in graph.places.values()}
    assert set(sim_states["site"].drop_nulls()) <= callouts
    alive = sim_states["player_health"] > 0
    assert sim_states.filter(alive)["visible_enemies"].null_count() == 0
    assert sim_states.filter(~alive)["visible_enemies"].null_count() == (~alive).sum()
    living = sim_states.filter(alive)
    assert (living["visible_enemies"] <= living["alive_enemies"]).all()


def test_carried_means_a_terrorist_has_the_bomb(sim_match, sim_states):
    ticks = sim_match.tables["ticks"]
    holders = set(ticks.filter(pl.col("has_bomb") & (pl.col("side") == SIDE_T))["tick"])
    carried = set(sim_states.filter(pl.col("bomb_status") == "carried")["tick"])
    assert carried <= holders
    before_plant = sim_states.filter(pl.col("round_phase").is_in(["freezetime", "playing"]))
    assert set(before_plant["tick"]) & holders <= carried
