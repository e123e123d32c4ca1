"""sync's two-pass scan: the plan it makes from keyframe reads, and the steps it pins on real video."""

import av
import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chimera.broadcast import timeline
from chimera.clock import display_at, round_clocks
from chimera.config import load_params
from chimera.sync.scan import COARSE_MAX_S, FIRST, FULL, SKIP, Key, frames_at, plan, scan, steps
from tests.videofiles import reencode, render_short_match

PARAMS = load_params()
SYNC = PARAMS.sync
ROUND_S = round(PARAMS.ingest.sim.round_time_s)
FPS, GOP = 30.0, 60  # a keyframe every 2 s


@given(freeze=st.integers(2, 20), start=st.integers(0, 40), n=st.integers(0, 5))
def test_steps_counts_the_clock_down_through_freeze_end(freeze, start, n):
    """Along the displayed clock (freeze time down to 0:01, then 1:55 down), steps counts the values."""
    clock = [*range(freeze, 0, -1), *range(ROUND_S, -1, -1)]
    a, b = clock[min(start, len(clock) - 1)], clock[min(start + n, len(clock) - 1)]
    assert steps(a, b, ROUND_S) == min(start + n, len(clock) - 1) - min(start, len(clock) - 1)


def test_a_clock_that_counts_up_takes_a_freeze_end_or_never_gets_there():
    assert steps(40, 52, ROUND_S) > 52 and steps(40, ROUND_S + 1, ROUND_S) == -1 and steps(2, 2, ROUND_S) == 0


RUN, FROZEN, BLANK, BOMB = "run", "frozen", "blank", "bomb"


@st.composite
def footage(draw):
    """Keyframe reads over stretches of one kind each: a clock running (two steps a keyframe), a clock
    standing still, no digits, the bomb icon. A new stretch never continues the one before it."""
    keys, kinds, value, frame = [], [], 40, 0
    for kind in draw(st.lists(st.sampled_from([RUN, FROZEN, BLANK, BOMB]), min_size=1, max_size=8)):
        if kinds and kind == kinds[-1]:
            continue
        value += draw(st.integers(5, 40))  # up by 5 s or more in one GOP: no clock does that by itself
        for _ in range(draw(st.integers(1, 12))):
            shown = None if kind in (BLANK, BOMB) else value
            keys.append(Key(frame, shown, kind == BOMB))
            kinds.append(kind)
            value -= 2 if kind == RUN else 0
            frame += GOP
    return keys, kinds


@given(footage(), st.sampled_from([2.0, 4.0, 6.0, 10.0]))
def test_the_plan_decodes_every_change_and_one_running_step_every_pin_every_s(data, pin_every_s):
    keys, kinds = data
    modes = plan(keys, FPS, ROUND_S, pin_every_s)
    assert len(modes) == len(keys) and modes[-1] == FULL
    for i in range(len(keys) - 1):
        same = kinds[i] == kinds[i + 1]
        if not same or kinds[i] == FROZEN:
            assert modes[i] == FULL, (i, kinds[i], kinds[i + 1])
        elif kinds[i] in (BLANK, BOMB):
            assert modes[i] == SKIP
        else:
            assert modes[i] in (FIRST, SKIP)
    for i in range(len(keys) - 1):  # each running stretch: its first and last GOP pinned, none far apart
        if kinds[i] == RUN == kinds[i + 1]:
            first = i == 0 or kinds[i - 1] != RUN
            last = i + 2 >= len(keys) or kinds[i + 2] != RUN
            if first or last:
                assert modes[i] == FIRST
            if modes[i] == FIRST and not last:
                following = next(j for j in range(i + 1, len(keys)) if modes[j] != SKIP)
                assert keys[following].frame - keys[i].frame <= (pin_every_s + GOP / FPS) * FPS


def test_keyframes_too_far_apart_vouch_for_nothing():
    far = round((COARSE_MAX_S + 1) * FPS)
    keys = [Key(0, 80), Key(far, 80 - round(far / FPS)), Key(2 * far, None), Key(3 * far, None)]
    assert plan(keys, FPS, ROUND_S, 4.0) == [FULL] * 4


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    return render_short_match(tmp_path_factory.mktemp("scan"), 0, "scan-test", 640, 360, 15)


@pytest.mark.slow
@pytest.mark.parametrize("preset", ["ultrafast", "veryfast"])
def test_the_keyframe_scan_pins_each_step_to_its_true_frame_decoding_a_fraction(rendered, tmp_path, preset):
    """On the rendered video (ultrafast: P-frames only; veryfast: B-frames, handed out late by the
    decoder), every step the two-pass scan pins is the frame where the renderer changed the display."""
    video, match_dir = rendered
    truth = timeline.load_truth(video.with_suffix(".truth.json"))
    if preset != "ultrafast":
        video = reencode(video, tmp_path / "b.mp4", preset, gop=30)
    clocks = round_clocks(
        pl.read_parquet(match_dir / "rounds.parquet"), pl.read_parquet(match_dir / "bomb.parquet"), ROUND_S
    )
    layout = SYNC.layouts["broadcast"]
    coarse = scan(video, SYNC, ROUND_S, layout.timer_crop, layout.score_crops)
    every = scan(video, SYNC.model_copy(update={"decode": "all"}), ROUND_S, layout.timer_crop)

    def shown(f: int) -> int | None:
        seg = timeline.locate(truth.segments, f / coarse.fps)
        live = seg.kind in (timeline.LIVE, timeline.PAUSE)
        return display_at(clocks, seg.tick_at(f / coarse.fps)).seconds if live else None

    assert coarse.frames == every.frames == round(truth.segments[-1].video_end * coarse.fps)
    assert every.decoded >= coarse.frames and coarse.decoded <= 0.35 * coarse.frames
    assert coarse.plan[SKIP] and coarse.plan[FIRST] and coarse.plan[FULL]
    assert len(coarse.transitions) >= 15
    for t in coarse.transitions:
        assert (shown(t.frame - 1), shown(t.frame)) == (t.previous, t.seconds), t
    exact = sum((shown(t.frame - 1), shown(t.frame)) == (t.previous, t.seconds) for t in every.transitions)
    assert exact >= 0.97 * len(every.transitions)
    assert {f for f, _, _ in coarse.scores}  # the round's scores are read on keyframes


@pytest.mark.slow
@pytest.mark.parametrize("preset", ["ultrafast", "veryfast"])
def test_frames_at_gives_the_frames_a_full_decode_gives(rendered, tmp_path, preset):
    """Pairs' sampled frames: the same pixels as decoding every frame, in order, none missing, on P-frame
    and B-frame encodes; whole GOPs without a wanted frame and GOP tails are left undecoded."""
    video, _ = rendered
    if preset != "ultrafast":
        video = reencode(video, tmp_path / "b.mp4", preset, gop=30)
    rng = np.random.default_rng(0)
    with av.open(str(video)) as container:
        full = [f.to_ndarray(format="gray") for f in container.decode(video=0)]
    wanted = {0, 1, len(full) - 1, *rng.choice(len(full), 40, replace=False).tolist()}
    got = list(frames_at(video, wanted))
    assert [f for f, _ in got] == sorted(wanted)
    for f, frame in got:
        assert np.array_equal(frame.to_ndarray(format="gray"), full[f]), f
