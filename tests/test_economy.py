"""CS2's end-of-round money, against values worked out by hand from the rules."""

from chimera.config import load_params
from chimera.sim.economy import equipment_value, round_rewards
from chimera.sim.state import CT, Player, T, Team

ECON = load_params().ingest.sim.economy


def players() -> list[Player]:
    return [
        Player(
            steamid=i,
            name=f"p{i}",
            team=i // 5,
            entity_id=i,
            aim=1,
            aggression=0.5,
            side=T if i < 5 else CT,
            money=1000,
        )
        for i in range(10)
    ]


def test_elimination_win_and_first_loss_bonus():
    ps, t, ct = players(), Team("a", T, loss_count=1), Team("b", CT, loss_count=1)
    round_rewards(ECON, ct, t, ps, "ct_win", planted=False)
    assert [p.money for p in ps] == [1000 + 1900] * 5 + [1000 + 3250] * 5
    assert (t.loss_count, ct.loss_count) == (2, 0)


def test_bomb_win_pays_more_and_planted_loss_adds_800_to_terrorists():
    ps, t, ct = players(), Team("a", T, loss_count=0), Team("b", CT, loss_count=3)
    round_rewards(ECON, t, ct, ps, "target_bombed", planted=True)
    assert [p.money for p in ps] == [1000 + 3500] * 5 + [1000 + 2900] * 5
    ps, t, ct = players(), Team("a", T, loss_count=0), Team("b", CT, loss_count=0)
    round_rewards(ECON, ct, t, ps, "bomb_defused", planted=True)
    assert [p.money for p in ps] == [1000 + 1400 + 800] * 5 + [1000 + 3500] * 5


def test_surviving_terrorists_get_nothing_when_time_runs_out():
    ps, t, ct = players(), Team("a", T, loss_count=4), Team("b", CT, loss_count=0)
    ps[0].alive = ps[1].alive = False
    round_rewards(ECON, ct, t, ps, "target_saved", planted=False)
    assert [p.money for p in ps[:5]] == [1000 + 3400, 1000 + 3400, 1000, 1000, 1000]
    assert t.loss_count == 4  # the ladder tops out at $3400


def test_money_is_capped_at_16000():
    ps, t, ct = players(), Team("a", T), Team("b", CT)
    for p in ps:
        p.money = 15_000
    round_rewards(ECON, t, ct, ps, "terrorists_win", planted=False)
    assert {p.money for p in ps} == {16_000}


def test_equipment_value_counts_what_is_carried():
    p = players()[0]
    p.primary, p.secondary, p.grenades = "ak47", "glock", ["smokegrenade", "flashbang"]
    p.armor, p.helmet = 100, True
    assert equipment_value(p) == 2700 + 200 + 300 + 200 + 1000
    p.alive = False
    assert equipment_value(p) == 0
