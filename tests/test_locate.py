"""Finding the round timer of an unknown overlay: stills and frame sequences of both HUD styles.

The frames are drawn by the renderer's own HUD classes over a noisy picture, at several sizes, with
letterbox bars and a horizontal offset the finder is not told about; the truth is the clock drawn.
"""

import cv2
import numpy as np
import pytest

from chimera.broadcast.hud import HUDS, Card, HudView
from chimera.clock import LIVE, PLANTED, Display
from chimera.config import load_params
from chimera.sync.locate import find_in_frames, find_in_still, strokes, words
from chimera.sync.ocr import Reader, crop_box
from chimera.sync.scan import shows_bomb

SYNC = load_params().sync
CARDS = ([Card("x", "T", 50, False)] * 5, [Card("y", "CT", 70, False)] * 5)


@pytest.fixture(scope="module")
def reader():
    return Reader(SYNC.ocr_engine, SYNC.tessdata, SYNC.upscale)


def frame(style, size, timer, rng, banner=None, bars=0, offset=0, noise=80, level=20, show_timer=True):
    """A gray frame of ``size`` (w, h): the HUD drawn at (w, h - 2*bars) shifted ``offset`` px sideways,
    over a picture of luma ``level`` to ``level + noise``."""
    w, h = size
    inner = h - 2 * bars
    img = rng.integers(0, noise, (inner, w, 3), dtype=np.uint8) + level
    view = HudView(
        "de_mirage",
        ("A", "B"),
        (3, 9),
        timer,
        CARDS,
        "s1mple",
        "T",
        76,
        100,
        2700,
        banner=banner,
        show_timer=show_timer,
    )
    HUDS[style](w, inner).draw(img, view)
    out = np.zeros((h, w, 3), np.uint8)
    shifted = np.roll(img, offset, axis=1)
    shifted[:, :offset] = 0
    out[bars : bars + inner] = shifted
    return cv2.cvtColor(out, cv2.COLOR_BGR2GRAY)


SIZES = [(640, 360), (1280, 720), (1920, 1080)]
STILLS = [(style, size) for style in ("broadcast", "cs2") for size in SIZES]
TINY = ("cs2", (640, 360))  # CS2's own timer at 360p: digits 5-6 px tall, read on ~97 % of frames, not all


@pytest.mark.parametrize("style, size", [s for s in STILLS if s != TINY])
def test_a_still_reads_the_drawn_clock_exactly(style, size, reader):
    rng = np.random.default_rng(hash((style, size)) % 2**32)
    values = [0, 9, 10, 45, 59, 60, 83, 100, 115]
    reads = [find_in_still(frame(style, size, Display(LIVE, s), rng), reader).reads for s in values]
    assert reads == [[s] for s in values]


def test_cs2_stills_at_360p_read_most_clocks(reader):
    """The smallest case, short of the issue's 99 %: every clock of a round at 640x360, 91 % read exactly
    when measured, against 94 % for the params box on the same frames (82 % before the stroke filter's
    hysteresis: a 5-px "7" fell out of the found box). What is left is OCR's: a 5-px "9" reads "8"."""
    rng = np.random.default_rng(360)
    values = range(0, 116)
    reads = [find_in_still(frame(*TINY, Display(LIVE, s), rng), reader).reads for s in values]
    assert sum(r == [s] for r, s in zip(reads, values, strict=True)) >= 0.86 * len(values)


def test_a_faint_stroke_counts_only_where_it_touches_a_clear_one():
    """Hysteresis: a small "7"'s faint diagonal joins its clear top bar; a faint blob alone is no stroke."""
    band = np.full((12, 20), 10, np.uint8)
    band[2, 2:7] = 200  # a 7's clear top bar ...
    for row, col in ((3, 6), (4, 5), (5, 5), (6, 4)):
        band[row, col] = 100  # ... and its faint, antialiased diagonal
    band[4:6, 13:15] = 100  # a faint blob on its own
    hat = cv2.morphologyEx(band, cv2.MORPH_TOPHAT, cv2.getStructuringElement(cv2.MORPH_RECT, (7, 7)))
    mask = strokes(band, hat)
    n, labels = cv2.connectedComponents(mask, connectivity=8)
    assert n == 2  # background and one stroke: the 7 whole
    assert mask[6, 4] and mask[2, 2] and labels[6, 4] == labels[2, 2]
    assert not mask[4:6, 13:15].any()


def test_small_digits_beside_big_icons_are_a_word_of_their_own():
    """A 5-px clock 9 px right of a row of 22-px portraits is small against them (a "dot" by ratio
    alone) but no punctuation: it is text in its own right; its colon still joins it."""
    gray = np.full((360, 640), 15, np.uint8)
    for x in (250, 270, 290):
        gray[4:26, x : x + 14] = 0
        gray[4:26, x : x + 2] = gray[4:26, x + 12 : x + 14] = gray[4:6, x : x + 14] = 220  # a portrait frame
    for x in (313, 321, 326):
        gray[4:9, x : x + 3] = 220  # three 5-px digits, as blocks
    gray[5, 318] = gray[8, 318] = 220  # the colon between the first two
    found = words(gray, 0, 360)
    assert (313, 4, 329, 9) in found


@pytest.mark.parametrize("style, size", STILLS)
def test_a_still_without_a_clock_reads_nothing(style, size, reader):
    """Bomb icon after the plant, a warm-up banner with the timer hidden: no made-up time."""
    rng = np.random.default_rng(7)
    planted = frame(style, size, Display(PLANTED, None), rng)
    warmup = frame(style, size, Display(LIVE, None), rng, banner="WARMUP")
    for gray in (planted, warmup):
        found = find_in_still(gray, reader)
        assert found.box is None and found.reads == []


@pytest.mark.parametrize(
    "style, size, bars, offset",
    [
        ("broadcast", (1280, 720), 0, 0),
        ("broadcast", (1920, 1080), 120, 70),
        ("broadcast", (1280, 720), 30, 24),
        ("broadcast", (640, 360), 20, 13),
        ("cs2", (1280, 720), 0, 0),
        ("cs2", (1920, 1080), 120, 70),
        ("cs2", (1280, 720), 60, 48),
        ("cs2", (640, 360), 0, 0),
        pytest.param(
            "cs2",
            (640, 360),
            30,
            21,
            marks=pytest.mark.xfail(
                strict=True,
                reason="360p CS2 HUD letterboxed to 640x300: the found box holds the clock, but OCR "
                "reads 27 % of its 5-px clocks (the minute and colon drop out), so no box counts down",
            ),
        ),
    ],
)
def test_frames_one_second_apart_find_a_box_that_reads_the_clock(style, size, bars, offset, reader):
    """Six moments of three frames 1 s apart; the found box reads every frame where the clock shows."""
    rng = np.random.default_rng(11)
    starts = [115, 97, 64, 40, 12, None]  # the last moment: bomb planted, no digits
    moments = [
        [
            frame(
                style,
                size,
                Display(LIVE, s - k) if s else Display(PLANTED, None),
                rng,
                bars=bars,
                offset=offset,
            )
            for k in range(3)
        ]
        for s in starts
    ]
    found = find_in_frames(moments, reader, 115)
    tiny = (style, size) == TINY
    assert found.box is not None and found.counting >= (4 if tiny else 5)
    shown = [(m[k], s - k) for m, s in zip(moments, starts, strict=True) if s for k in range(3)]
    read = sum(reader.timer(crop_box(g, found.box)) == s for g, s in shown)
    assert read >= (0.9 if tiny else 1.0) * len(shown)
    if bars == offset == 0:
        assert SYNC.layout_of(found.box) == style


@pytest.mark.parametrize("style", ["broadcast", "cs2"])
def test_a_known_layout_wins_as_it_is(style, reader):
    """Given the layouts' timer boxes, the one that counts down is returned exactly, without a search."""
    rng = np.random.default_rng(13)
    moments = [[frame(style, (1280, 720), Display(LIVE, s - k), rng) for k in range(3)] for s in (90, 50, 20)]
    known = [layout.timer_crop for layout in SYNC.layouts.values()]
    found = find_in_frames(moments, reader, 115, known)
    assert found.box == SYNC.layouts[style].timer_crop and found.counting == 3
    assert found.candidates == len(known)  # no candidate from the picture was needed


def test_no_clock_anywhere_finds_nothing(reader):
    rng = np.random.default_rng(3)
    moments = [[frame("cs2", (1280, 720), Display(PLANTED, None), rng) for _ in range(3)] for _ in range(4)]
    assert find_in_frames(moments, reader, 115).box is None


@pytest.mark.parametrize("size, clock", [((640, 360), 71), ((1280, 720), 112), ((1920, 1080), 9)])
def test_crop_find_json_on_stills(size, clock, tmp_path):
    """`chimera crop frame.png --find --json`: the clock of a cs2 still, and nothing (exit 1) without one."""
    import json

    from typer.testing import CliRunner

    from chimera.cli import app

    rng = np.random.default_rng(5)
    for name, timer in (("clock.png", Display(LIVE, clock)), ("planted.png", Display(PLANTED, None))):
        cv2.imwrite(str(tmp_path / name), frame("cs2", size, timer, rng))
    run = CliRunner().invoke(app, ["crop", str(tmp_path / "clock.png"), "--find", "--json"])
    assert run.exit_code == 0, run.output
    record = json.loads(run.output.strip().splitlines()[-1])
    assert record["reads"] == [clock] and len(record["timer_crop"]) == 4
    run = CliRunner().invoke(app, ["crop", str(tmp_path / "planted.png"), "--find", "--json"])
    assert run.exit_code == 1 and json.loads(run.output.strip().splitlines()[-1])["timer_crop"] is None


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)])
def test_the_documented_cs2_box_reads_the_replica_and_a_loose_box_does_not(size, reader):
    """The README box for CS2's own HUD reads every clock; the old preset (into the score row) none."""
    from chimera.broadcast.hud import box_fraction

    rng = np.random.default_rng(9)
    frames = [(frame("cs2", size, Display(LIVE, s), rng), s) for s in range(0, 116, 9)]
    tight, loose = box_fraction("timer", "cs2"), (0.476, 0.012, 0.524, 0.052)
    assert [round(v, 4) for v in tight] == [0.4781, 0.0042, 0.5219, 0.0306]  # the numbers in the README
    assert all(reader.timer(crop_box(g, tight)) == s for g, s in frames)
    assert not any(reader.timer(crop_box(g, loose)) == s for g, s in frames)


@pytest.mark.parametrize("style, size", STILLS)
def test_the_bomb_icon_is_told_from_a_replay_and_from_a_running_clock(style, size):
    """The planted icon over dark and bright pictures reads as the bomb; a replay (no timer drawn: CS2's
    own HUD then shows the picture itself in the box) and a clock showing digits do not."""
    rng = np.random.default_rng(7)
    box = SYNC.layouts[style].timer_crop
    for level in (10, 60, 110):
        assert shows_bomb(
            crop_box(frame(style, size, Display(PLANTED, None), rng, noise=30, level=level), box)
        )
        replay = frame(style, size, Display(PLANTED, None), rng, noise=30, level=level, show_timer=False)
        assert not shows_bomb(crop_box(replay, box))
        if (style, size) != TINY:  # 5-px digits are grey blobs too; the icon only matters where OCR fails
            clock = frame(style, size, Display(LIVE, 83), rng, noise=30, level=level)
            assert not shows_bomb(crop_box(clock, box))
