"""pairs: frames of a rendered broadcast with the spectated player's ground-truth game_state."""

import json
import logging
from pathlib import Path

import cv2
import numpy as np
import polars as pl
import pytest

from chimera.broadcast import timeline
from chimera.config import SplitParams, load_params
from chimera.errors import ChimeraError
from chimera.pairs import PairsError, run
from chimera.pairs.hud import match_name, parse_money, parse_vital
from chimera.pairs.sampling import sample_times, segment_tick
from chimera.pairs.split import SPLITS, SplitError, assign_splits, check_held_out
from chimera.pairs.states import States, resolve_player
from chimera.pairs.video import SKIP_REASONS
from chimera.schema import GameState
from chimera.sim.match import MatchSimulator
from chimera.sync.run import sync_video
from tests.videofiles import render_short_match, write_noise_video

PARAMS = load_params()
# The fixture has one match, so nothing can be held out of it: all of its rounds go to train and val.
ONE_MATCH = PARAMS.pairs.model_copy(
    update={"split": PARAMS.pairs.split.model_copy(update={"test_matches": [], "val": 0.5})}
)
# 960x540: the player panel's name is ~16 px high. At 640x360 (~8 px, bold) the HUD name is not legible
# to Tesseract, nor reliably to a person; the rendered default is 1280x720.
WIDTH, HEIGHT, FPS = 960, 540, 15


@pytest.fixture(scope="module")
def paired(tmp_path_factory):
    """A two-round match (NAVI vs FaZe: short names like iM, jL, b1t) rendered, synced and paired."""
    root = tmp_path_factory.mktemp("pairs")
    video, match_dir = render_short_match(root, 2, "pairs-test", WIDTH, HEIGHT, FPS, vod_dir=root / "vods")
    round_time_s = PARAMS.ingest.sim.round_time_s
    synced = sync_video(video, match_dir, PARAMS.sync, round_time_s)
    (root / "sync").mkdir()
    (root / "sync" / f"{match_dir.name}.json").write_text(json.dumps(synced.as_json()))
    metrics = run(
        ONE_MATCH,
        PARAMS.sync,
        root / "parsed",
        root / "vods",
        root / "sync",
        root / "pairs",
        root / "metrics.json",
    )
    rows = {
        s: [json.loads(line) for line in (root / "pairs" / f"{s}.jsonl").read_text().splitlines()]
        for s in SPLITS
    }
    truth = json.loads(video.with_suffix(".truth.json").read_text())
    return root, match_dir, metrics, rows, truth


def all_rows(rows: dict[str, list[dict]]) -> list[dict]:
    return [r for s in SPLITS for r in rows[s]]


def test_pairs_exist_and_the_spectated_player_is_the_one_on_screen(paired):
    root, _, metrics, rows, truth = paired
    got = all_rows(rows)
    assert len(got) >= 60  # ~150 s of synced play sampled at 1 fps
    right = 0
    for r in got:
        shot = next(s for s in truth["shots"] if s["video_start"] <= r["video_time"] < s["video_end"])
        right += shot["steamid"] == r["player"]["steamid"] and shot["name"] == r["player"]["name"]
    assert right / len(got) >= 0.99
    assert metrics["player_correct_rate"] >= 0.99
    assert json.loads((root / "metrics.json").read_text()) == json.loads(json.dumps(metrics))
    assert sum(metrics[s] for s in SPLITS) == len(got) == sum(metrics["per_map"].values())


def test_no_pair_from_replay_pause_or_preshow_and_ticks_match_the_truth(paired):
    _, _, metrics, rows, truth = paired
    segments = [timeline.Segment(**s) for s in truth["segments"]]
    assert {s.kind for s in segments} >= {timeline.PAUSE, timeline.REPLAY}  # the fixture has both
    errors = []
    for r in all_rows(rows):
        seg = timeline.locate(segments, r["video_time"])
        assert seg.kind == timeline.LIVE, r
        errors.append(abs(r["tick"] - seg.tick_at(r["video_time"])))
    assert metrics["pairs_from_replay_or_pause"] == 0
    assert np.percentile(errors, 99) <= 32  # within 0.5 s of the true tick


def test_labels_are_valid_game_states_and_images_are_video_frames(paired):
    _, match_dir, _, rows, _ = paired
    phases = set()
    for r in all_rows(rows):
        state = GameState.model_validate(r["game_state"])
        assert state.map_name == "de_nuke" == r["map"]
        phases.add(state.round_phase)
        assert r["match"] == match_dir.name and isinstance(r["tick"], int) and r["round"] in (1, 2)
        image = cv2.imread(r["image"])
        assert image is not None and image.shape == (HEIGHT, WIDTH, 3), r["image"]
    assert {"freezetime", "playing"} <= phases


def test_every_round_lies_in_exactly_one_split_and_the_counts_say_so(paired):
    _, _, metrics, rows, _ = paired
    where: dict[tuple[str, int], set[str]] = {}
    for s in SPLITS:
        for r in rows[s]:
            where.setdefault((r["match"], r["round"]), set()).add(s)
    assert len(where) == 2 and all(len(v) == 1 for v in where.values())
    for s in SPLITS:
        assert metrics[f"{s}_rounds"] == sum(s in v for v in where.values())
        assert metrics[f"{s}_matches"] == len({m for (m, _), v in where.items() if s in v})


def test_frames_skipped_are_counted_with_a_reason(paired):
    _, _, metrics, rows, _ = paired
    assert set(metrics["skipped"]) >= set(SKIP_REASONS)
    assert metrics["sampled"] == len(all_rows(rows)) + sum(metrics["skipped"].values())
    assert metrics["skipped"]["state not stable"] > 0  # transitions exist and are dropped


def test_held_out_matches_are_the_whole_test_split_and_val_is_cut_by_round():
    units = [(f"m{i}", r) for i in range(4) for r in range(1, 13)]
    split = SplitParams(test_matches=["m1", "m3"], val=0.1)
    a = assign_splits(units, split, seed=7)
    assert set(a) == set(units)
    assert {u for u, s in a.items() if s == "test"} == {u for u in units if u[0] in ("m1", "m3")}
    assert sum(s == "val" for s in a.values()) == 2  # 10 % of the 24 other rounds, rounded
    assert assign_splits(reversed(units), split, seed=7) == a  # order of discovery is irrelevant
    assert assign_splits(units, split, seed=8) != a
    assert set(assign_splits(units[:2], split, seed=0).values()) == {"train", "val"}  # never val-only
    assert set(assign_splits(units[:1], split, seed=0).values()) == {"train"}


def test_a_split_that_cannot_be_honest_is_refused_by_name():
    maps = {"a1": "de_nuke", "a2": "de_nuke", "b1": "de_mirage"}
    check_held_out(SplitParams(test_matches=["a2"], val=0.1), maps)
    with pytest.raises(SplitError, match=r"de_mirage.*no training match"):
        check_held_out(SplitParams(test_matches=["b1"], val=0.1), maps)
    with pytest.raises(SplitError, match=r"\['typo'\].*not among"):
        check_held_out(SplitParams(test_matches=["typo"], val=0.1), maps)


def test_the_default_split_holds_out_one_match_per_map_that_train_also_plays():
    sim = PARAMS.ingest.sim
    maps = {MatchSimulator(m, sim, seed="x").match_id: m.map for m in sim.matches}
    check_held_out(PARAMS.pairs.split, maps)
    held = PARAMS.pairs.split.test_matches
    assert sorted(maps[m] for m in held) == sorted(set(maps.values()))


def test_sample_times_are_a_regular_grid_strictly_inside_segments():
    segs = [
        {"video_start": 10.0, "video_end": 13.0, "offset": 5.0, "scale": 1.0},
        {"video_start": 20.5, "video_end": 22.7, "offset": 6.0, "scale": 1.0},
    ]
    times = [t for t, _ in sample_times(segs, 2.0)]
    assert times == [10.5, 11.0, 11.5, 12.0, 12.5, 21.0, 21.5, 22.0, 22.5]
    assert segment_tick(segs[0], 10.5) == pytest.approx(5.5 * 64)


def test_name_matching_is_fuzzy_but_refuses_ties_and_noise():
    roster = {"iM": 1, "jL": 2, "w0nderful": 3, "b1t": 4, "KSCERATO": 5, "mezii": 6}
    assert match_name("IM", roster) == 1
    assert match_name("wOnderful", roster) == 3
    assert match_name("KSCERAT0", roster) == 5
    assert match_name("mezil", roster) == 6
    assert match_name("", roster) is None
    assert match_name("zzzzzz", roster) is None
    assert parse_vital("HP 76\n") == 76 and parse_vital("76") == 76 and parse_vital("AR 100") == 100
    assert parse_vital("ARO") == 0  # a lone 0 read as the letter O
    assert parse_vital("HP 1000") is None and parse_vital("HP 101") is None and parse_vital("HP") is None
    assert parse_money("$4750") == 4750 and parse_money("4750") is None


def test_video_without_hud_yields_no_pairs_and_says_so(tmp_path, paired, caplog):
    _, match_dir, _, _, _ = paired
    (tmp_path / "vods").mkdir()
    video = tmp_path / "vods" / f"{match_dir.name}.mp4"  # named after a parsed match, but a desk shot
    write_noise_video(video)
    (tmp_path / "sync").mkdir()
    (tmp_path / "sync" / f"{match_dir.name}.json").write_text(json.dumps({"segments": []}))
    with caplog.at_level(logging.WARNING):
        metrics = run(
            ONE_MATCH,
            PARAMS.sync,
            match_dir.parent,
            tmp_path / "vods",
            tmp_path / "sync",
            tmp_path / "pairs",
            tmp_path / "metrics.json",
        )
    assert [metrics[s] for s in SPLITS] == [0, 0, 0]
    assert all((tmp_path / "pairs" / f"{s}.jsonl").read_text() == "" for s in SPLITS)
    assert video.name in caplog.text and "no synced segments" in caplog.text
    assert metrics["player_correct_rate"] is None and metrics["videos_without_segments"] == 1


def test_missing_inputs_are_one_clear_error(tmp_path):
    with pytest.raises(PairsError, match=r"no \.mp4") as err:
        run(PARAMS.pairs, PARAMS.sync, tmp_path, tmp_path, tmp_path, tmp_path / "out", tmp_path / "m.json")
    assert isinstance(err.value, ChimeraError)  # a domain error: one line, exit 1
    assert not Path(tmp_path / "out").exists()


class StubHud:
    """What the OCR read, fixed: to test the decision alone."""

    def __init__(self, names: list[str], values: tuple[int, int, int] | None):
        self.names, self.values = names, values

    def read_names(self, gray):
        return iter(self.names)

    def read_values(self, gray):
        return self.values


def test_player_falls_back_to_vitals_and_vitals_overrule_a_wrong_name(paired):
    _, match_dir, _, _, _ = paired
    header = json.loads((match_dir / "header.json").read_text())
    roster = {p["name"]: p["steamid"] for p in header["players"]}
    states = States(match_dir, header, 16, (0, 10**9))
    table = states.table.filter(pl.col("round_phase") == "playing")
    tick = int(table["tick"].median())
    rows = {sid: states.row(sid, tick) for sid in roster.values()}
    shown = {sid: (r["player_health"], r["player_armor"], r["player_money"]) for sid, r in rows.items()}
    unique = next(sid for sid, v in shown.items() if v[0] > 0 and list(shown.values()).count(v) == 1)
    other = next(sid for sid in roster.values() if sid != unique)
    name_of = {v: k for k, v in roster.items()}
    gray = np.zeros((10, 10), np.uint8)
    resolve = resolve_player
    assert resolve(StubHud(["", "?"], shown[unique]), gray, roster, states, tick) == (unique, "vitals")
    assert resolve(StubHud([name_of[unique]], None), gray, roster, states, tick) == (unique, "name")
    assert resolve(StubHud([name_of[other]], shown[unique]), gray, roster, states, tick) == (
        unique,
        "vitals over name",
    )
    assert resolve(StubHud([""], (100, 100, 123456)), gray, roster, states, tick)[0] is None
    assert resolve(StubHud([""], None), gray, roster, states, tick)[0] is None
