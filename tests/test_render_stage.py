"""The render stage writes only its declared output and never touches a folder of real broadcasts."""

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_real_broadcasts_survive_render_with_source_demos(tmp_path):
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["ingest"]["source"] = "demos"
    params["sync"]["vod_dir"] = "broadcasts"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    (tmp_path / "data" / "parsed" / "final-match").mkdir(parents=True)
    real = tmp_path / "broadcasts"
    real.mkdir()
    (real / "final-match.mp4").write_bytes(b"a user's only copy of a real broadcast")
    done = subprocess.run(
        [sys.executable, str(ROOT / "stages" / "render.py")], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert (real / "final-match.mp4").read_bytes() == b"a user's only copy of a real broadcast"
    assert list((tmp_path / "data" / "raw" / "vods").iterdir()) == []
    assert "nothing to render" in done.stderr


def test_round_blocks_resolve_against_each_match():
    from chimera.broadcast.render import rendered_rounds

    blocks = [(1, 2), (13, 14), (-2, -1)]
    assert rendered_rounds(blocks, 24) == [1, 2, 13, 14, 23, 24]
    assert rendered_rounds(blocks, 16) == [1, 2, 13, 14, 15, 16]
    assert rendered_rounds(blocks, 13) == [1, 2, 12, 13]  # clipped, overlaps merged, no round twice
    assert rendered_rounds([(1, 5)], 3) == [1, 2, 3]


def test_config_refuses_round_blocks_that_name_no_round():
    import pytest
    from pydantic import ValidationError

    from chimera.config import load_params

    render = load_params().render
    for bad in ([(0, 2)], [(5, 3)], [(-1, -3)], []):
        with pytest.raises(ValidationError):
            type(render).model_validate(render.model_dump() | {"rounds": bad})


def test_a_break_between_blocks_jumps_game_time_and_indices_count_rendered_rounds():
    import itertools
    import random

    from chimera.broadcast import timeline
    from chimera.clock import RoundClock
    from chimera.tables import TICK_RATE

    def clock(n: int) -> RoundClock:  # rounds of 100 s, one after the other
        start = (n - 1) * 100 * TICK_RATE
        return RoundClock(n, start, start + 15 * TICK_RATE, start + 90 * TICK_RATE, None, 115 * TICK_RATE)

    clocks = [clock(1), clock(2), clock(13)]
    realities = timeline.Realities((10.0, 10.0), 0.0, 2, 4.0, 20.0, (1,), 4.0, 6.0)
    last_kill = {2: clocks[1].end_tick - TICK_RATE}
    segments = timeline.build(clocks, last_kill, realities, random.Random(0))
    kinds = [s.kind for s in segments]
    assert kinds.count(timeline.BREAK) == 1
    i = kinds.index(timeline.BREAK)
    cut, before, after = segments[i], segments[i - 1], segments[i + 1]
    assert before.kind == timeline.REPLAY  # the replay after round 2 (index 1), then the desk shot
    assert cut.video_end - cut.video_start == 6.0 and cut.video_start == before.video_end
    assert after.video_start == cut.video_end and after.tick_start == clocks[2].start_tick
    (pause,) = [s for s in segments if s.kind == timeline.PAUSE]  # index 2: the first round after the cut
    assert pause.tick_start == clocks[2].start_tick + 4 * TICK_RATE
    for a, b in itertools.pairwise(segments):
        assert a.video_end == b.video_start


def test_the_i420_hud_the_renderer_encodes_is_the_bgr_hud_in_place():
    """The renderer draws HUD patches straight into I420 planes: same boxes, same luma as the BGR HUD."""
    import numpy as np

    from chimera.broadcast.hud import Card, Hud, HudView, to_i420
    from chimera.clock import LIVE, Display

    cards = ([Card("a", "T", 80, True)] * 5, [Card("b", "CT", 0, False)] * 5)
    view = HudView(
        "de_mirage",
        ("A", "B"),
        (3, 9),
        Display(LIVE, 83),
        cards,
        "a",
        "T",
        80,
        100,
        2700,
        "AK-47",
        "Glock-18",
        ["smoke"],
        "B Site",
        ["a  AK-47  b"],
        "REPLAY",
    )
    for w, h in ((1280, 720), (640, 360)):
        background = np.random.default_rng(0).integers(0, 255, (h, w, 3), dtype=np.uint8)
        bgr = background.copy()
        Hud(w, h).draw(bgr, view)
        planes = tuple(p.copy() for p in to_i420(background))
        Hud(w, h).draw_i420(planes, view)
        luma = to_i420(bgr)[0].astype(int)
        assert np.abs(planes[0].astype(int) - luma).mean() < 1.0  # the map name's blend differs by rounding
        x0, y0, x1, y1 = Hud(w, h)._box("timer")
        assert np.array_equal(planes[0][y0 : y1 + 1, x0 : x1 + 1], luma[y0 : y1 + 1, x0 : x1 + 1])
