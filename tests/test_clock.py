"""The CS2 round clock model: what the HUD shows at each tick, and when each value appears."""

from chimera.clock import FREEZE, LIVE, OVER, PLANTED, RoundClock, transitions
from chimera.tables import TICK_RATE

R = 115 * TICK_RATE
plain = RoundClock(
    1,
    start_tick=1000,
    freeze_end_tick=1000 + 15 * 64,
    end_tick=1960 + 80 * 64,
    plant_tick=None,
    round_ticks=R,
)
planted = RoundClock(
    2,
    start_tick=20_000,
    freeze_end_tick=20_960,
    end_tick=20_960 + 90 * 64,
    plant_tick=20_960 + 50 * 64,
    round_ticks=R,
)


def test_freeze_counts_down_the_freeze_time():
    assert plain.display(1000).phase == FREEZE and plain.display(1000).text == "0:15"
    assert plain.display(1001).text == "0:15"  # rounded up: 14.98 s left shows 15
    assert plain.display(1000 + 64).text == "0:14"
    assert plain.display(1959).text == "0:01"


def test_live_clock_starts_at_1_55_and_rounds_up():
    assert plain.display(1960).phase == LIVE and plain.display(1960).text == "1:55"
    assert plain.display(1961).text == "1:55"
    assert plain.display(1960 + 64).text == "1:54"
    assert plain.display(1960 + 65 * 64).text == "0:50"


def test_plant_hides_the_digits_and_the_end_freezes_the_clock():
    assert planted.display(planted.plant_tick - 1).seconds is not None
    assert (
        planted.display(planted.plant_tick).phase == PLANTED
        and planted.display(planted.plant_tick).text is None
    )
    assert plain.display(plain.end_tick + 300).phase == OVER
    assert plain.display(plain.end_tick + 300).text == plain.display(plain.end_tick).text == "0:35"


def test_transitions_are_exactly_when_the_value_appears():
    table = transitions([plain, planted])
    for round_num, phase, seconds, tick in table.iter_rows():
        clock = plain if round_num == 1 else planted
        assert clock.display(tick).seconds == seconds
        assert clock.display(tick).phase in (phase, OVER)  # the last value can appear as the round is decided
        assert clock.display(tick - 1).seconds != seconds  # the tick before still showed the previous value
    r1 = table.filter(table["round_num"] == 1)
    assert r1.filter(r1["phase"] == FREEZE)["seconds"].to_list() == list(range(15, 0, -1))
    live = r1.filter(r1["phase"] == LIVE)["seconds"].to_list()
    assert live[0] == 115 and live[-1] == 35  # the round ended with 35 s left
    r2 = table.filter((table["round_num"] == 2) & (table["phase"] == LIVE))
    assert r2["tick"].max() < planted.plant_tick  # nothing after the plant: the HUD shows a bomb
