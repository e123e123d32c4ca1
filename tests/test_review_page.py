"""The review page: built from hand-made predictions of four models on three drawn frames, then opened in
headless Chromium (the DOM after the page's script ran, and a screenshot), as a reader would open it from
the file system. The answers are scored by the real :func:`chimera.evaluate.score`, so the page reads the
records exactly as the evaluate stage writes them."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from chimera.config import load_params
from chimera.evaluate import score
from chimera.report.review import WIDTH, ReviewError, write
from chimera.rounds import sample_key
from chimera.schema import GAME_STATE_FIELDS, ModelOutput
from tests.grpofiles import row

MODELS = ("A", "B", "C", "D")
WEIGHTS = load_params().grpo.reward_weights.model_dump()
EXAMPLE = ModelOutput.example().model_dump()
RED = (230, 20, 20)
HOSTILE = "<script>document.title='pwned'</script> & hold"
"""Advice text a model could produce: it must show as text, never run."""


def _answer(truth_state: dict, model: str, frame: int) -> str:
    """Right on every field except: C names the wrong site on frame 1; A answers prose on frame 2."""
    if model == "A" and frame == 2:
        return "I would rotate <b>now</b>."
    state = dict(truth_state)
    if model == "C" and frame == 1:
        state["site"] = "Jungle" if truth_state["site"] != "Jungle" else "Palace"
    advice = {**EXAMPLE["advice"], "reasoning": HOSTILE} if model == "B" else EXAMPLE["advice"]
    return json.dumps({**EXAMPLE, "game_state": state, "advice": advice})


WRONG = {(1, "C", "site"), *((2, "A", f) for f in GAME_STATE_FIELDS)}
"""(frame, model, field) the answers above get wrong; every other scored field is right."""


def write_review_inputs(root: Path, frames: int = 3) -> tuple[Path, Path, Path, list[str]]:
    """Frames, a test split and predictions of A–D: (predictions dir, test file, frames root, keys)."""
    rng = random.Random(7)
    frames_root, predictions = root / "frames", root / "predictions"
    (frames_root / "test-match").mkdir(parents=True)
    predictions.mkdir()
    rows = []
    for i in range(frames):
        image = frames_root / "test-match" / f"{i:06d}.png"
        picture = Image.new("RGB", (800, 450), (30, 40 + 60 * i, 90))
        ImageDraw.Draw(picture).rectangle((100, 100, 400, 300), fill=RED)
        picture.save(image)
        r = row(i, image, rng)
        r["round"] = 1 + i // 2
        rows.append(r)
    (root / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    for model in MODELS:
        records = []
        for i, r in enumerate(rows):
            truth = r["ground_truth"]
            text = _answer(truth["game_state"], model, i)
            oracle = {
                "advised_action": "hold",
                "advised_win_prob": 0.4 + 0.05 * i,
                "pro_action": "advance",
                "pro_win_prob": 0.35,
                "best_action": "rotate",
                "best_win_prob": 0.6,
                "floor_win_prob": 0.3,
                "policy_win_prob": 0.45,
            }
            records.append(
                {
                    "key": sample_key(r),
                    "match": r["match"],
                    "round": r["round"],
                    "image": r["image"],
                    "swapped_image": rows[(i + 1) % len(rows)]["image"],
                    "pro": None,
                    "model": {"raw": text, **score(text, truth, WEIGHTS), "oracle_win_prob": 0.4 + 0.05 * i},
                    "swapped": {"raw": text, **score(text, truth, WEIGHTS), "oracle_win_prob": None},
                    "oracle": oracle,
                }
            )
        (predictions / f"{model}.jsonl").write_text("".join(json.dumps(x) + "\n" for x in records))
    return predictions, root / "test.jsonl", frames_root, [sample_key(r) for r in rows]


class Dom(HTMLParser):
    """Every element of a serialised DOM with its attributes, classes, ancestors and text."""

    VOID = frozenset({"img", "br", "meta", "input", "link", "hr", "source", "wbr"})

    def __init__(self, text: str):
        super().__init__()
        self.stack: list[dict] = []
        self.elements: list[dict] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        el = {"tag": tag, "attrs": attrs, "classes": set((attrs.get("class") or "").split()), "text": []}
        el["parents"] = list(self.stack)
        self.elements.append(el)
        if tag not in self.VOID:
            self.stack.append(el)

    def handle_endtag(self, tag):
        while self.stack and self.stack.pop()["tag"] != tag:
            pass

    def handle_data(self, data):
        for el in self.stack:
            el["text"].append(data)

    def by_id(self, id_: str) -> dict:
        return next(e for e in self.elements if e["attrs"].get("id") == id_)

    def find(self, tag: str, cls: str | None = None, inside: dict | None = None) -> list[dict]:
        return [
            e
            for e in self.elements
            if e["tag"] == tag
            and (cls is None or cls in e["classes"])
            and (inside is None or any(p is inside for p in e["parents"]))
        ]


CHROMIUM = shutil.which("chromium")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="no `chromium` binary on PATH (make setup installs Debian's chromium)"
)


def chromium(profile: Path, *args: str) -> str:
    done = subprocess.run(
        [
            CHROMIUM,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=5000",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return done.stdout


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> tuple[Path, list[str]]:
    root = tmp_path_factory.mktemp("review")
    predictions, test_file, frames_root, keys = write_review_inputs(root)
    out = root / "review"
    assert write(predictions, test_file, frames_root, out) == len(keys)
    return out / "index.html", keys


def _wrong_marks(dom: Dom, keys: list[str]) -> set[tuple[int, str, str]]:
    marks = set()
    for article in dom.find("article", "frame"):
        frame = keys.index(article["attrs"]["data-key"])
        for section in dom.find("section", "answer", inside=article):
            for li in dom.find("li", "wrong", inside=section):
                marks.add((frame, section["attrs"]["data-model"], li["attrs"]["data-field"]))
    return marks


@needs_chromium
def test_chromium_shows_every_frame_model_and_wrong_field(page, tmp_path):
    index, keys = page
    dom = Dom(chromium(tmp_path / "profile", "--dump-dom", index.as_uri()))
    body = dom.find("body")[0]
    assert body["attrs"].get("data-images-loaded") == f"{len(keys)}/{len(keys)}"
    articles = dom.find("article", "frame")
    assert [a["attrs"]["data-key"] for a in articles] == keys
    for article in articles:
        models = [s["attrs"]["data-model"] for s in dom.find("section", "answer", inside=article)]
        assert models == list(MODELS)
        assert len(dom.find("section", "truth", inside=article)) == 1
        assert not any("hidden" in a["attrs"] for a in articles)  # no filter chosen: all shown
    assert _wrong_marks(dom, keys) == WRONG
    # The hostile advice is text in B's answers, and the page's own script is the only one.
    assert len(dom.find("script")) == 1
    advice = [" ".join(p["text"]) for p in dom.find("p", "advice")]
    assert sum(HOSTILE in text for text in advice) == len(keys)


@needs_chromium
@pytest.mark.parametrize(
    ("view", "shown"),
    [("#model=C&field=site", [1]), ("#model=A&field=", [2]), ("#model=&field=site", [1, 2]), ("", [0, 1, 2])],
)
def test_chromium_filters_by_model_and_field(page, tmp_path, view, shown):
    index, keys = page
    dom = Dom(chromium(tmp_path / "profile", "--dump-dom", index.as_uri() + view))
    visible = [
        keys.index(a["attrs"]["data-key"]) for a in dom.find("article", "frame") if "hidden" not in a["attrs"]
    ]
    assert visible == shown
    assert " ".join(dom.by_id("shown")["text"]) == f"{len(shown)} of {len(keys)} frames shown"


@needs_chromium
def test_chromium_screenshot_shows_the_frames(page, tmp_path):
    index, _ = page
    shot = tmp_path / "shot.png"
    chromium(tmp_path / "profile", f"--screenshot={shot}", "--window-size=1280,2000", index.as_uri())
    with Image.open(shot) as img:
        pixels = img.convert("RGB")
    assert pixels.size == (1280, 2000)
    rgb = np.asarray(pixels).astype(int)
    assert len(np.unique(rgb.reshape(-1, 3), axis=0)) > 1
    reds = int(((rgb[..., 0] > 200) & (rgb[..., 1] < 60) & (rgb[..., 2] < 60)).sum())
    assert reds > 1000  # the drawn frames' red rectangle is on screen, not only the page's text


def test_thumbnails_are_small_jpegs_and_text_is_escaped(page):
    index, keys = page
    thumbs = sorted((index.parent / "frames").iterdir())
    assert len(thumbs) == len(keys)
    for thumb in thumbs:
        with Image.open(thumb) as img:
            assert img.format == "JPEG" and img.width == WIDTH and img.height == 360
    html = index.read_text()
    assert "&lt;script&gt;document.title=&#x27;pwned&#x27;&lt;/script&gt; &amp; hold" in html
    assert "&lt;b&gt;now&lt;/b&gt;" in html and "<b>now</b>" not in html  # A's prose, as text


def test_a_missing_frame_is_named_and_a_frame_elsewhere_refused(tmp_path):
    predictions, test_file, frames_root, _ = write_review_inputs(tmp_path, frames=2)
    next(frames_root.glob("test-match/000001.png")).unlink()
    out = tmp_path / "out"
    write(predictions, test_file, frames_root, out)
    html = out.joinpath("index.html").read_text()
    assert html.count('class="frame-image"') == 1 and "frame missing: " in html
    with pytest.raises(ReviewError, match="not under"):
        write(predictions, test_file, tmp_path / "elsewhere", tmp_path / "out2")


@needs_chromium
def test_chromium_counts_an_image_that_fails(tmp_path):
    predictions, test_file, frames_root, keys = write_review_inputs(tmp_path)
    out = tmp_path / "review"
    write(predictions, test_file, frames_root, out)
    next((out / "frames").iterdir()).unlink()  # the page still settles: loaded or failed, all counted
    dom = Dom(chromium(tmp_path / "profile", "--dump-dom", (out / "index.html").as_uri()))
    assert dom.find("body")[0]["attrs"].get("data-images-loaded") == f"{len(keys) - 1}/{len(keys)}"
