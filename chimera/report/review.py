"""``metrics/review/index.html``: every evaluated test frame beside its truth and each model's answer.

A static page that works from the file system: CSS and JS are inline, the frames are small JPEG copies
under ``frames/`` beside it (so the folder can be copied or archived alone). One ``<article
class="frame" data-key=...>`` per frame holds the truth (``<section class="truth">``) and one
``<section class="answer" data-model=...>`` per model; each field is an ``<li class="field ...">`` marked
``right``, ``partial`` or ``wrong`` from the per-field scores :mod:`chimera.evaluate` stored (1.0, in
between, 0.0) or ``unscored`` where the truth does not know it. Two select boxes show only the frames
where the chosen model (or any) got the chosen field (or any) wrong, partly wrong included; the choice
lives in the URL's ``#model=..&field=..`` so a view can be linked. When every image has loaded or
failed, the page sets ``data-images-loaded="<loaded>/<total>"`` on ``<body>``, which the headless-Chromium
test reads. All text from the data is escaped.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path

from PIL import Image

from chimera.errors import ChimeraError
from chimera.rounds import sample_key
from chimera.schema import GAME_STATE_FIELDS, parse_output

log = logging.getLogger(__name__)
WIDTH = 640
"""Thumbnail width in pixels (frames narrower are copied at their size)."""
QUALITY = 80
RAW_CHARS = 600
"""How much of an invalid answer's raw text the page shows."""
ADVICE_KEYS = ("primary_action", "reasoning", "fallback", "callout")


class ReviewError(ChimeraError):
    """The review page cannot be built; the message names the file."""


def _jsonl(path: Path) -> list[dict]:
    try:
        return [json.loads(line) for line in path.open() if line.strip()]
    except (OSError, ValueError) as err:
        raise ReviewError(f"{path}: not a readable JSON-lines file ({err})") from None


def thumbnail(source: Path, frames_root: Path, dest: Path) -> bool:
    """A small JPEG copy of a frame at ``dest``; ``False`` (logged) when the frame cannot be read.

    A frame outside ``frames_root`` is refused: the stage's declared dependency would not cover it.
    """
    if not source.resolve().is_relative_to(frames_root.resolve()):
        raise ReviewError(f"{source}: the frame is not under {frames_root}, the folder the report reads")
    try:
        with Image.open(source) as img:
            frame = img.convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError) as err:
        log.warning("%s: no thumbnail (%s)", source, err)
        return False
    if frame.width > WIDTH:
        frame = frame.resize((WIDTH, round(frame.height * WIDTH / frame.width)), Image.Resampling.LANCZOS)
    frame.save(dest, "JPEG", quality=QUALITY)
    return True


def mark(score: float | None) -> str:
    """The class of one field's score: right (1.0), partial, wrong (0.0) or unscored (``None``)."""
    if score is None:
        return "unscored"
    return "right" if score >= 1.0 else "wrong" if score <= 0.0 else "partial"


def _value(state: Mapping, field: str) -> str:
    return json.dumps(state[field]) if field in state else "(left out)"


def _answer_state(answer: Mapping) -> dict:
    """The game_state the model gave: the parsed object, or what can be read from an invalid answer."""
    parsed = answer.get("parsed") or parse_output(answer.get("raw")).data or {}
    state = parsed.get("game_state") if isinstance(parsed, Mapping) else None
    return state if isinstance(state, dict) else {}


def _pct(p: float | None) -> str:
    return "—" if p is None else f"{p:.2f}"


def _section(kind: str, title: str, body: str, **data: str) -> str:
    attrs = "".join(f' data-{k.replace("_", "-")}="{escape(v)}"' for k, v in data.items())
    return f'<section class="{kind}"{attrs}><h3>{escape(title)}</h3>{body}</section>'


def _item(field: str, value: str, cls: str = "", score: object = "") -> str:
    return (
        f'<li class="{f"field {cls}".strip()}" data-field="{field}" data-score="{escape(str(score))}">'
        f'<span class="name">{field}</span> <span class="value">{escape(value)}</span></li>'
    )


def truth_section(truth: Mapping | None) -> str:
    """The true game_state, field by field in the same order as the answers beside it."""
    if truth is None:
        return _section("truth", "truth", '<p class="missing">not in the test split</p>')
    gt = truth["ground_truth"]
    unknown = set(gt.get("unknown") or [])
    items = "".join(
        _item(f, "(unknown)" if f in unknown else _value(gt["game_state"], f)) for f in GAME_STATE_FIELDS
    )
    return _section("truth", "truth", f'<ul class="fields">{items}</ul>')


def context_section(truth: Mapping | None, oracle: Mapping | None) -> str:
    """What the pro did, how the round ended, and the oracle's win probabilities at this frame."""
    gt = (truth or {}).get("ground_truth") or {}
    pro = gt.get("pro_action")
    body = [
        f'<p class="pro">pro: {escape(pro["description"])}</p>'
        if pro
        else '<p class="pro">no decision left</p>'
    ]
    if gt.get("round_won") is not None:
        body.append(f'<p class="outcome">round {"won" if gt["round_won"] else "lost"}</p>')
    if oracle:
        odds = [
            f"pro {escape(str(oracle.get('pro_action')))} {_pct(oracle.get('pro_win_prob'))}",
            f"best {escape(str(oracle.get('best_action')))} {_pct(oracle.get('best_win_prob'))}",
            f"random legal {_pct(oracle.get('floor_win_prob'))}",
            f"simulator policy {_pct(oracle.get('policy_win_prob'))}",
        ]
        body.append(f'<p class="oracle">win probability: {", ".join(odds)}</p>')
    return _section("context", "the moment", "".join(body))


def answer_section(model: str, record: Mapping | None) -> str:
    """One model's answer: every field marked by its score, the advice, its oracle win probability."""
    if record is None:
        return _section("answer missing", model, "<p>not evaluated</p>", model=model, wrong="")
    answer = record["model"]
    state, scores = _answer_state(answer), answer.get("fields") or {}
    marks = {f: mark(scores.get(f)) for f in GAME_STATE_FIELDS}
    items = "".join(_item(f, _value(state, f), marks[f], scores.get(f, "")) for f in GAME_STATE_FIELDS)
    body = [f'<ul class="fields">{items}</ul>']
    if answer.get("error"):
        body.append(f'<p class="error">not a valid answer: {escape(str(answer["error"]))}</p>')
        body.append(f'<pre class="raw">{escape(str(answer.get("raw"))[:RAW_CHARS])}</pre>')
    advice = (answer.get("parsed") or {}).get("advice")
    if advice:
        said = (f"<b>{k}</b>: {escape(str(advice.get(k) or ''))}" for k in ADVICE_KEYS)
        body.append(f'<p class="advice">{"<br>".join(said)}</p>')
    if answer.get("oracle_win_prob") is not None:
        action = (record.get("oracle") or {}).get("advised_action")
        said = f"advised {escape(action)}" if action else "advice names no action (a random legal one)"
        body.append(f'<p class="oracle">{said}: win {_pct(answer["oracle_win_prob"])}</p>')
    wrong = " ".join(f for f, m in marks.items() if m in ("wrong", "partial"))
    return _section(
        "answer", model, "".join(body), model=model, wrong=wrong, json_valid=str(answer.get("json_valid"))
    )


def card(
    index: int, key: str, answers: Mapping[str, Mapping | None], truth: Mapping | None, image: str | None
) -> str:
    """One frame's ``<article>``: the image and its context, then the truth and every answer side by side."""
    first = next(r for r in answers.values() if r is not None)
    oracle = next((r["oracle"] for r in answers.values() if r is not None and r.get("oracle")), None)
    figure = (
        f'<img class="frame-image" src="{escape(image)}" alt="frame {escape(key)}">'
        if image
        else f'<p class="missing">frame missing: {escape(first["image"])}</p>'
    )
    sections = "".join(answer_section(m, r) for m, r in answers.items())
    return (
        f'<article class="frame" id="frame-{index:04d}" data-key="{escape(key)}">'
        f"<h2>{escape(key)} <small>round {escape(str(first['round']))}</small></h2>"
        f'<div class="grid"><figure>{figure}</figure>{context_section(truth, oracle)}{truth_section(truth)}'
        f"{sections}</div></article>"
    )


STYLE = """
body { font: 14px/1.35 system-ui, sans-serif; margin: 1em; background: #fafafa; color: #222; }
header.page { position: sticky; top: 0; background: #fafafa; padding: .5em 0; border-bottom: 1px solid #ccc; }
article.frame { background: #fff; border: 1px solid #ddd; margin: 1em 0; padding: .5em 1em; }
article.frame h2 { font-size: 1.05em; margin: .2em 0 .5em; }
.grid { display: grid; gap: .8em; grid-template-columns: repeat(5, minmax(0, 1fr)); }
figure { margin: 0; grid-column: span 3; } section.context { grid-column: span 2; }
img.frame-image { width: 100%; max-width: 640px; height: auto; }
section h3 { margin: 0 0 .3em; font-size: 1em; } section { overflow-wrap: anywhere; }
ul.fields { list-style: none; margin: 0; padding: 0; font-size: 12px; }
li.field .name { color: #666; } li.field .value { font-family: monospace; }
li.wrong { background: #fdd; } li.wrong::before { content: "✗ "; color: #b00; }
li.partial { background: #ffd; } li.partial::before { content: "~ "; color: #960; }
li.right::before { content: "✓ "; color: #080; } li.unscored { color: #999; }
pre.raw { font-size: 11px; white-space: pre-wrap; }
p.error { color: #b00; font-size: 12px; } p.advice, p.oracle, p.pro, p.outcome { font-size: 12px; }
"""

SCRIPT = """
(() => {
  const cards = [...document.querySelectorAll("article.frame")];
  const model = document.getElementById("filter-model"), field = document.getElementById("filter-field");
  const apply = () => {
    let shown = 0;
    for (const card of cards) {
      const answers = [...card.querySelectorAll("section.answer")]
        .filter((s) => model.value === "" || s.dataset.model === model.value);
      const wrong = (s) => s.dataset.wrong.split(" ").filter(Boolean);
      const show = (model.value === "" && field.value === "") ||
        answers.some((s) => field.value === "" ? wrong(s).length > 0 : wrong(s).includes(field.value));
      card.hidden = !show;
      shown += show ? 1 : 0;
    }
    document.getElementById("shown").textContent = `${shown} of ${cards.length} frames shown`;
  };
  const fromHash = () => {
    const params = new URLSearchParams(location.hash.slice(1));
    model.value = params.get("model") || "";
    field.value = params.get("field") || "";
    apply();
  };
  for (const select of [model, field]) {
    select.addEventListener("change", () => {
      history.replaceState(null, "", `#model=${model.value}&field=${field.value}`);
      apply();
    });
  }
  window.addEventListener("hashchange", fromHash);
  fromHash();
  const images = [...document.querySelectorAll("img.frame-image")];
  let settled = 0, loaded = 0;
  const settle = (ok) => {
    settled += 1;
    loaded += ok ? 1 : 0;
    if (settled === images.length) document.body.dataset.imagesLoaded = `${loaded}/${images.length}`;
  };
  if (images.length === 0) document.body.dataset.imagesLoaded = "0/0";
  for (const img of images) {
    if (img.complete) settle(img.naturalWidth > 0);
    else {
      img.addEventListener("load", () => settle(true));
      img.addEventListener("error", () => settle(false));
    }
  }
})();
"""


def _options(values: Sequence[str], everything: str) -> str:
    return f'<option value="">{everything}</option>' + "".join(
        f'<option value="{escape(v)}">{escape(v)}</option>' for v in values
    )


def page(models: Sequence[str], cards: Sequence[str]) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>Chimera: review of the test frames</title>"
        f"<style>{STYLE}</style></head><body>"
        '<header class="page"><h1>Chimera: test frames, truth and answers</h1>'
        f'<label>wrong for model <select id="filter-model">{_options(models, "any model")}</select></label> '
        f'<label>on field <select id="filter-field">{_options(GAME_STATE_FIELDS, "any field")}</select>'
        "</label> "
        '<span id="shown"></span></header>'
        f"<main>{''.join(cards)}</main><script>{SCRIPT}</script></body></html>\n"
    )


def write(predictions_dir: Path, test_file: Path, frames_root: Path, out_dir: Path) -> int:
    """Build the page and its thumbnails in ``out_dir`` (a new folder); the number of frames."""
    files = sorted(predictions_dir.glob("*.jsonl"))
    if not files:
        raise ReviewError(f"{predictions_dir}: no predictions (run evaluate first)")
    models = {f.stem: {r["key"]: r for r in _jsonl(f)} for f in files}
    truth = {sample_key(r): r for r in _jsonl(test_file)}
    keys = list(dict.fromkeys(k for records in models.values() for k in records))
    (out_dir / "frames").mkdir(parents=True)
    cards = []
    for i, key in enumerate(keys):
        answers = {m: records.get(key) for m, records in models.items()}
        source = Path(next(r for r in answers.values() if r is not None)["image"])
        name = f"frames/{i:04d}-{re.sub(r'[^A-Za-z0-9_.-]', '_', key)}.jpg"
        shown = name if thumbnail(source, frames_root, out_dir / name) else None
        cards.append(card(i, key, answers, truth.get(key), shown))
    (out_dir / "index.html").write_text(page(list(models), cards))
    return len(keys)
