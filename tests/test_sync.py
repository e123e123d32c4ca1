"""sync: timer OCR, the robust fit, whole videos (rendered, HUD-less, truncated), and the stage's inputs."""

import json
import logging
import random

import cv2
import numpy as np
import pytest

from chimera.broadcast.hud import Hud, HudView, box_fraction
from chimera.clock import LIVE, Display
from chimera.config import load_params
from chimera.errors import ChimeraError
from chimera.sync import fit as fitting
from chimera.sync.ocr import Reader, crop_box
from chimera.sync.run import evaluate, run, sync_video
from chimera.sync.scan import Transition, VideoError
from chimera.tables import TICK_RATE
from tests.videofiles import cut_short, render_short_match, write_noise_video

PARAMS = load_params()
SYNC = PARAMS.sync
BROADCAST = SYNC.layouts["broadcast"]


def hud_frame(seconds: int, noise: int, degrade: str, rng: np.random.Generator) -> np.ndarray:
    img = rng.integers(0, max(noise, 1), (720, 1280, 3), dtype=np.uint8)
    Hud(1280, 720).draw(img, HudView("de_mirage", ("A", "B"), (3, 9), Display(LIVE, seconds), ([], [])))
    if degrade == "jpeg":
        img = cv2.imdecode(cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 22])[1], cv2.IMREAD_COLOR)
    elif degrade == "blur":
        img = cv2.GaussianBlur(img, (5, 5), 1.1)
    return cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)


@pytest.mark.parametrize("degrade, floor", [("clean", 0.97), ("jpeg", 0.97), ("blur", 0.75)])
def test_tesserocr_reads_rendered_timers_across_values_and_noise(degrade, floor):
    """Strong blur costs reads (sync needs only some per second of clock); clean and JPEG frames read."""
    reader = Reader("tesserocr", SYNC.tessdata, SYNC.upscale)
    rng = np.random.default_rng(1)
    values = [*range(0, 116, 7), 59, 60, 61, 100, 115]
    right = sum(
        reader.timer(crop_box(hud_frame(s, noise, degrade, rng), BROADCAST.timer_crop)) == s
        for s in values
        for noise in (1, 60, 140)
    )
    assert right / (3 * len(values)) >= floor


def test_pytesseract_reads_the_same_crops():
    reader = Reader("pytesseract", SYNC.tessdata, SYNC.upscale)
    rng = np.random.default_rng(2)
    for s in (115, 83, 9):
        assert reader.timer(crop_box(hud_frame(s, 80, "clean", rng), BROADCAST.timer_crop)) == s


def test_scores_are_read():
    reader = Reader("tesserocr", SYNC.tessdata, SYNC.upscale, whitelist="0123456789")
    frame = hud_frame(70, 60, "clean", np.random.default_rng(3))
    assert [reader.number(crop_box(frame, box)) for box in BROADCAST.score_crops] == [3, 9]


def _inside(inner, outer, slack=2e-3):
    return all(a >= b - slack for a, b in zip(inner[:2], outer[:2], strict=True)) and all(
        a <= b + slack for a, b in zip(inner[2:], outer[2:], strict=True)
    )


@pytest.mark.parametrize("style", ["broadcast", "cs2"])
def test_layout_params_point_at_the_rendered_hud(style):
    """sync.layouts and pairs.layouts hold each style's boxes as the renderer draws them."""
    layout, panel = SYNC.layouts[style], PARAMS.pairs.layouts[style]
    assert np.allclose(layout.timer_crop, box_fraction("timer", style), atol=1e-3)
    scores = (box_fraction("score_left", style), box_fraction("score_right", style))
    assert np.allclose(layout.score_crops, scores, atol=1e-3)
    vitals = ("vitals", "vitals") if style == "broadcast" else ("health", "armor")
    for crop, element in zip(
        (panel.name_crop, panel.health_crop, panel.armor_crop, panel.money_crop),
        ("name", *vitals, "money"),
        strict=True,
    ):
        assert _inside(crop, box_fraction(element, style)), (crop, element)
    assert panel.health_crop[2] <= panel.armor_crop[0]  # two boxes side by side, one number each


def test_fit_recovers_offset_and_drift_with_20_percent_outliers():
    rng = random.Random(0)
    fps, offset, drift_ppm = 30.0, 42.7, 400.0
    scale = 1 / (1 + drift_ppm * 1e-6)
    demo_s = np.arange(0, 110)  # one transition a second for 110 s of play
    runs, chosen = [], []
    for lo, hi in ((0, 55), (55, 110)):  # two runs (a cut between), one continuous clock
        frames = [round((scale * g + offset) * fps + 0.5 + rng.uniform(0, 1)) for g in demo_s[lo:hi]]
        for k in rng.sample(range(len(frames)), k=len(frames) // 5):  # 20 % outliers: misread frames
            frames[k] += rng.choice([-1, 1]) * rng.randint(4, 25)
        runs.append([Transition(f, 0, 1) for f in frames])
        ticks = tuple(int(g * TICK_RATE) for g in demo_s[lo:hi])
        chosen.append(
            fitting.Candidate(1, (LIVE,), ticks, float(np.median(np.array(frames) / fps - demo_s[lo:hi])))
        )
    fits = fitting.fit(runs, chosen, fps, SYNC)
    for f in fits:
        assert abs(f.offset - offset) < 1 / fps  # within one frame
        assert f.inliers >= 0.75 * f.n
    assert abs(fits[0].drift_ppm - drift_ppm) < 100


@pytest.fixture(scope="module")
def small_render(tmp_path_factory):
    """A two-round match rendered small and fast, with its parsed tables and truth."""
    return render_short_match(tmp_path_factory.mktemp("vod"), 0, "sync-test", 640, 360, 15)


@pytest.mark.slow
def test_rendered_video_syncs_within_a_frame_and_never_from_pause_or_replay(small_render):
    video, match_dir = small_render
    result = sync_video(video, match_dir, SYNC, PARAMS.ingest.sim.round_time_s)
    assert len(result.segments) >= 3 and {s.round_num for s in result.segments} == {1, 2}
    ev = evaluate(result, video.with_suffix(".truth.json"), match_dir, PARAMS.ingest.sim.round_time_s)
    errors = np.array(ev["errors_ms"])
    assert np.median(errors) <= 1000 / 15 and (errors <= 500).mean() >= 0.99
    assert ev["bad_kind"] == 0
    assert np.median(ev["offset_errors_ms"]) <= 1000 / 15
    assert any("frozen" in r["reason"] for r in result.refused) and any(
        "no timer" in r["reason"] for r in result.refused
    )


def test_video_without_hud_syncs_nothing_and_says_so(tmp_path, small_render, caplog):
    _, match_dir = small_render
    path = tmp_path / "desk.mp4"
    write_noise_video(path, frames=60)
    with caplog.at_level(logging.WARNING):
        result = sync_video(path, match_dir, SYNC, PARAMS.ingest.sim.round_time_s)
    assert result.segments == []
    assert "desk.mp4" in caplog.text and "no readable" in caplog.text


def test_truncated_video_is_one_clear_error(tmp_path, small_render):
    video, match_dir = small_render
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(video.read_bytes()[: video.stat().st_size // 2])
    with pytest.raises(VideoError, match=r"cut\.mp4"):
        sync_video(cut, match_dir, SYNC, PARAMS.ingest.sim.round_time_s)
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"\0" * 1000)
    with pytest.raises(VideoError, match=r"garbage\.mp4: not a readable video"):
        sync_video(garbage, match_dir, SYNC, PARAMS.ingest.sim.round_time_s)
    assert issubclass(VideoError, ChimeraError)


def _stage(tmp_path, match_dir, videos: dict[str, object]) -> tuple:
    """A vod dir with ``videos`` (name -> a path to link, None for a zero-byte file, or a callable that
    writes the file), and a parsed dir with ``match_dir`` under each name that is not ``unmatched*``."""
    vod, parsed = tmp_path / "vods", tmp_path / "parsed"
    vod.mkdir()
    parsed.mkdir()
    for name, source in videos.items():
        path = vod / f"{name}.mp4"
        if source is None:
            path.write_bytes(b"")
        elif callable(source):
            source(path)
        else:
            path.symlink_to(source)
            truth = source.with_suffix(".truth.json")
            if truth.exists():
                path.with_suffix(".truth.json").symlink_to(truth)
        if not name.startswith("unmatched"):
            (parsed / name).symlink_to(match_dir)
    return SYNC.model_copy(update={"vod_dir": vod}), parsed, tmp_path / "sync", tmp_path / "sync.json"


def _run(params, parsed, out, metrics_path):
    return run(
        params, parsed, out, metrics_path, metrics_path.with_suffix(".csv"), PARAMS.ingest.sim.round_time_s
    )


@pytest.mark.slow
def test_an_undecodable_video_is_skipped_and_the_others_still_synced(tmp_path, small_render, caplog):
    """A zero-byte VOD sorted last costs only itself: one error line naming it, listed in the metrics."""
    video, match_dir = small_render
    staged = _stage(
        tmp_path, match_dir, {"a": video, "b": lambda p: write_noise_video(p, frames=20), "z_empty": None}
    )
    params, _, out, metrics_path = staged
    with caplog.at_level(logging.WARNING):
        results = _run(*staged)
    assert [r.match for r in results] == ["a", "b"]
    assert sorted(p.name for p in out.iterdir()) == ["a.json", "b.json"]
    assert json.loads((out / "a.json").read_text())["segments"]
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "z_empty.mp4: skipped (" in errors[0].getMessage()
    metrics = json.loads(metrics_path.read_text())
    (skip,) = metrics["skipped"]
    assert skip["video"] == str(params.vod_dir / "z_empty.mp4") and "not a readable video" in skip["reason"]
    assert metrics["videos_synced"] == 2 and metrics["median_abs_error_ms"] is not None
    assert metrics["short_decodes"] == [] and metrics["unmatched"] == []
    for v in metrics["videos"]:  # good files: the header's count is what is in the file
        assert v["frames_declared"] == v["frames_in_file"] > 0
    assert metrics["videos"][1]["frames_in_file"] == 20


def test_a_truncated_faststart_video_warns_and_the_metrics_record_the_shortfall(
    tmp_path, small_render, caplog
):
    """Index at the front, end cut off: it opens and decodes cleanly, only fewer frames than declared."""
    _, match_dir = small_render
    kept = []

    def truncated(path):
        write_noise_video(path, frames=60, faststart=True)
        kept.append(cut_short(path, 0.4))

    staged = _stage(tmp_path, match_dir, {"cut": truncated})
    with caplog.at_level(logging.WARNING):
        _run(*staged)
    assert 0 < kept[0] < 50
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("cut.mp4" in w and f" {kept[0]} " in w and " 60 " in w for w in warnings)
    metrics = json.loads(staged[3].read_text())
    shortfall = {
        "video": str(staged[0].vod_dir / "cut.mp4"),
        "frames_declared": 60,
        "frames_in_file": kept[0],
    }
    assert metrics["short_decodes"] == [shortfall]
    (video,) = metrics["videos"]
    assert {k: video[k] for k in ("match", *shortfall)} == {"match": "cut", **shortfall}
    assert video["timer_chosen_by"] == "none"  # 0.8 s of noise: no moment to find a timer in


def test_nothing_synced_is_an_error_naming_what_was_looked_for_and_writes_nothing(
    tmp_path, small_render, caplog
):
    _, match_dir = small_render
    params, parsed, out, metrics_path = _stage(
        tmp_path, match_dir, {"unmatched_vod": lambda p: write_noise_video(p, frames=5)}
    )
    (parsed / "m1").symlink_to(match_dir)
    with caplog.at_level(logging.WARNING), pytest.raises(ChimeraError) as err:
        _run(params, parsed, out, metrics_path)
    assert type(err.value).__name__ == "SyncError"
    message = str(err.value)
    assert "unmatched_vod.mp4" in message and str(params.vod_dir) in message
    assert str(parsed) in message and "m1.mp4" in message
    assert "unmatched_vod.mp4" in caplog.text and "no parsed match" in caplog.text
    assert not out.exists() and not metrics_path.exists()
    (params.vod_dir / "unmatched_vod.mp4").unlink()  # no videos at all
    with pytest.raises(ChimeraError, match=r"no \.mp4 videos in .*vods.*m1\.mp4"):
        _run(params, parsed, out, metrics_path)
    (params.vod_dir / "m1.mp4").write_bytes(b"")  # the only matched video cannot be decoded
    with pytest.raises(ChimeraError, match=r"m1\.mp4 \(not a readable video"):
        _run(params, parsed, out, metrics_path)
    assert not out.exists() and not metrics_path.exists()


def test_crop_command_outlines_the_crops_and_reads_them(tmp_path, small_render):
    from typer.testing import CliRunner

    from chimera.cli import app

    video, _ = small_render
    out = tmp_path / "check.png"
    result = CliRunner().invoke(app, ["crop", str(video), "--at", "30", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.exists() and cv2.imread(str(out)).shape[:2] == (360, 640)
    assert "timer_crop: [" in result.output and "reads: " in result.output
    missing = CliRunner().invoke(app, ["crop", str(tmp_path / "nope.mp4")])
    assert missing.exit_code == 2 and "nope.mp4" in missing.output


def _segment(last_tick: int, round_num: int = 1) -> fitting.SegmentFit:
    """A fitted segment whose last clock step is at demo tick ``last_tick`` (video = demo time + 10 s)."""
    end = 10.0 + last_tick / TICK_RATE
    return fitting.SegmentFit(round_num, (LIVE,), end - 20, end, 1.0, 10.0, 20, 20, 5.0, (), ())


def test_extension_carries_a_segment_through_the_plant_only_while_the_bomb_shows():
    from chimera.clock import RoundClock

    fps, plant = 30.0, 64 * 50
    clock = RoundClock(1, 0, 64 * 15, 64 * 90, plant, 115 * 64)
    seg = _segment(plant - 20)  # the last step came a third of a second before the plant
    reads = [(round((seg.video_end + k / 5) * fps), None) for k in range(1, 200)]
    icons = {f for f, _ in reads}
    following = RoundClock(
        2, clock.end_tick + 7 * 64, clock.end_tick + 22 * 64, clock.end_tick + 99 * 64, None, 7360
    )
    clocks = {1: clock, 2: following}
    steps = {1: [plant - 20]}  # nothing after the plant: the digits are hidden
    (extended,) = fitting.extend_stopped_clock([seg], clocks, steps, [], reads, icons, fps, 45.0, 1e6)
    assert extended.extended_s > 30  # through the bomb timer and the round end ...
    assert extended.tick(extended.video_end) <= following.start_tick  # ... but never into the next round
    blank_from = reads[60][0]  # a replay: no digits and no bomb icon from here on
    (cut,) = fitting.extend_stopped_clock(
        [seg], clocks, steps, [], reads, {f for f in icons if f < blank_from}, fps, 45.0, 1e6
    )
    assert cut.video_end < blank_from / fps <= extended.video_end
    ends = seg.video_end + 10.0  # the video stops while the bomb still shows: so does the extension
    (short,) = fitting.extend_stopped_clock([seg], clocks, steps, [], reads, icons, fps, 45.0, ends)
    assert short.video_end <= ends


def test_no_extension_when_the_clock_should_have_ticked_first():
    """A paused clock looks stopped too: without a plant or an end before the next step, it is not trusted."""
    from chimera.clock import RoundClock

    fps, plant = 30.0, 64 * 50
    clock = RoundClock(1, 0, 64 * 15, 64 * 90, plant, 115 * 64)
    seg = _segment(64 * 40)  # ten seconds before the plant
    reads = [(round((seg.video_end + k / 5) * fps), 75) for k in range(1, 100)]
    (same,) = fitting.extend_stopped_clock(
        [seg], {1: clock}, {1: [64 * 40, 64 * 41]}, [], reads, set(), fps, 45.0, 1e6
    )
    assert same.extended_s == 0 and same.video_end == seg.video_end


@pytest.fixture(scope="module")
def blocks_render(tmp_path_factory):
    """Rounds 1 and 4 of a four-round match: a replay after round 1, a break, then round 4 with a pause."""
    return render_short_match(
        tmp_path_factory.mktemp("blocks"),
        0,
        "sync-test",
        640,
        360,
        15,
        max_rounds=4,
        rounds=[(1, 1), (-1, -1)],
    )


@pytest.mark.slow
def test_two_blocks_sync_to_their_rounds_and_nothing_covers_the_break(blocks_render):
    """Game time jumps ahead by two rounds across the desk shot; sync follows it by the scores."""
    from chimera.broadcast import timeline

    video, match_dir = blocks_render
    truth = timeline.load_truth(video.with_suffix(".truth.json"))
    (cut,) = [s for s in truth.segments if s.kind == timeline.BREAK]
    result = sync_video(video, match_dir, SYNC, PARAMS.ingest.sim.round_time_s)
    fps = result.scan.fps
    blank = fitting.blank_stretches(result.scan.readings, result.scan.bomb_icon, fps, SYNC.cut_blank_s)
    assert any(a / fps <= cut.video_start + 0.5 and cut.video_end - 0.5 <= b / fps for a, b in blank)
    assert {s.round_num for s in result.segments} == {1, 4}
    for s in result.segments:  # each block's segments on its own side of the break, none across it
        assert (s.video_end <= cut.video_start) if s.round_num == 1 else (s.video_start >= cut.video_end)
    ev = evaluate(result, video.with_suffix(".truth.json"), match_dir, PARAMS.ingest.sim.round_time_s)
    errors = np.array(ev["errors_ms"])
    assert np.median(errors) <= 1000 / 15 and (errors <= 500).mean() >= 0.99
    assert ev["bad_kind"] == 0 and ev["bad_kinds"][timeline.BREAK] == 0
    assert any(
        r["video_start"] <= cut.video_start and cut.video_end <= r["video_end"] and "no timer" in r["reason"]
        for r in result.refused
    )


def _candidate(round_num: int, offset: float) -> fitting.Candidate:
    return fitting.Candidate(round_num, (LIVE,), (0,), offset)


def test_game_time_may_run_ahead_only_across_a_stretch_without_the_timer():
    """After a cut the scores name the round; without one a lower offset is impossible (a pause wins)."""
    first = [_candidate(1, 13.0)]
    # the run after the break: its clock values fit round 1 (offset up: a pause) and round 4 (offset down)
    after = [_candidate(1, 147.0), _candidate(2, 110.0), _candidate(4, -130.0)]
    seen = [{1}, {4}]
    assert [c.round_num for c in fitting.assign([first, after], seen, [False, True])] == [1, 4]
    assert [c.round_num for c in fitting.assign([first, after], seen, [False, False])] == [1, 1]
    # no score read after the cut: the nearest later round that fits
    later = [_candidate(3, -60.0), _candidate(4, -130.0)]
    assert [c.round_num for c in fitting.assign([first, later], [{1}, set()], [False, True])] == [1, 3]


def test_blank_stretches_need_no_digits_and_no_bomb_icon_for_long_enough():
    fps = 30.0
    reads = [(f, 80 if f < 60 else None) for f in range(0, 300, 6)]  # digits for 2 s, then blank 8 s
    assert fitting.blank_stretches(reads, set(), fps, 2.0) == [(60, 294)]
    assert fitting.blank_stretches(reads, {f for f, _ in reads}, fps, 2.0) == []  # a planted bomb
    short = [(f, None if 60 <= f < 90 else 80) for f in range(0, 300, 6)]  # one second blank
    assert fitting.blank_stretches(short, set(), fps, 2.0) == []
    runs = [[Transition(30, 80, 81)], [Transition(320, 79, 80)]]
    assert fitting.cuts_between(runs, [(60, 294)]) == [False, True]


def test_a_gap_is_refused_stretch_by_stretch_with_what_the_timer_showed():
    """A replay (no digits), then a pause (one value for 20 s), then a running clock too short to fit: three
    refusals with their own reasons; a blip of under a second joins its neighbour."""
    import itertools

    from chimera.sync.run import FROZEN, NO_DIGITS, RUNNING, _stretches

    reads = [(10.0 + k / 5, 44) for k in range(2)]  # a blip of the old value
    reads += [(10.4 + k / 5, None) for k in range(50)]  # 10.4 .. 20.2: no digits
    reads += [(20.4 + k / 5, 11) for k in range(100)]  # 20.4 .. 40.2: 0:11 standing still
    reads += [(40.4 + k / 5, 11 - k // 5) for k in range(15)]  # 40.4 .. 43.2: counting down
    out = _stretches(reads, 10.0, 43.5)
    assert [reason for _, _, reason in out] == [NO_DIGITS, FROZEN, RUNNING]
    assert out[0][0] == 10.0 and out[-1][1] == 43.5
    assert all(abs(prev[1] - nxt[0]) < 1e-9 for prev, nxt in itertools.pairwise(out))


def test_a_run_through_freeze_end_holds_together_without_the_step_at_freeze_end():
    """The keyframe scan pins a step every few seconds: 0:03 (freeze), then 1:54 (live) 2 s later; the
    0:01 -> 1:55 step between them is not pinned, and the run is still one run of the right round."""
    from chimera.clock import FREEZE, RoundClock, transitions

    fps, offset = 30.0, 12.0
    clocks = [
        RoundClock(1, 0, 64 * 15, 64 * 90, None, 115 * 64),
        RoundClock(2, 64 * 100, 64 * 115, 64 * 190, None, 115 * 64),
    ]
    demo = {(r, phase, s): tick for r, phase, s, tick in transitions(clocks).rows()}
    shown = [(FREEZE, 7), (FREEZE, 5), (FREEZE, 3), (LIVE, 114), (LIVE, 112), (LIVE, 110)]  # 2 s apart
    steps = [
        Transition(round((demo[(2, phase, s)] / TICK_RATE + offset) * fps), s, s + 1 if s != 115 else 1)
        for phase, s in shown
    ]
    (run,) = fitting.split_runs(steps, [], fps, SYNC.max_gap_s, 115)
    found = {c.round_num: c for c in fitting.candidates(run, demo, [1, 2], fps)}
    assert set(found) == {1, 2} and found[2].phases == (FREEZE, LIVE)  # the clock alone fits both rounds
    assert abs(found[2].offset - offset) < 1 / fps
