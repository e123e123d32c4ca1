"""Two HUD styles drawn with OpenCV from one :class:`HudView` (``render.hud_style``).

- ``broadcast`` (:class:`Hud`): a tournament overlay — the round timer top centre between the scores and
  team names, the five player cards of each team along the top, the spectated player's name, health,
  armour and money bottom left, weapons and grenades bottom right, a minimap box with the place name
  under it, a kill feed.
- ``cs2`` (:class:`Cs2Hud`): a replica of CS2's own in-game HUD — the timer in a small dark translucent
  box at top centre (~2.6 % of the frame height), the two round scores in small digits directly beneath
  it and the alive players' portraits to either side, the radar top left with the money under it, health
  and armour bottom left, weapons bottom right; a bomb icon replaces the timer after the plant.

Positions live in one table per style, :data:`LAYOUTS`, in pixels of a 1280×720 frame and scaled to the
output size; the crops in ``sync.layouts`` and ``pairs.layouts`` are fractions of the frame pointing at
the same boxes (a test holds them together).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from chimera.clock import Display

REF_W, REF_H = 1280, 720
FONT = cv2.FONT_HERSHEY_SIMPLEX
WHITE, GREY, DARK, BLACK = (240, 240, 240), (150, 150, 150), (28, 28, 30), (0, 0, 0)
T_COLOR, CT_COLOR, RED, GREEN = (60, 160, 235), (235, 160, 70), (40, 40, 220), (80, 200, 80)

LAYOUTS = {
    "broadcast": {
        "timer": (600, 0, 680, 46),
        "score_left": (548, 0, 600, 46),
        "score_right": (680, 0, 732, 46),
        "team_left": (380, 0, 548, 30),
        "team_right": (732, 0, 900, 30),
        "cards_left": (10, 0, 370, 58),
        "cards_right": (910, 0, 1270, 58),
        "banner": (490, 52, 790, 84),
        "map_name": (12, 70, 230, 90),
        "minimap": (12, 94, 212, 294),
        "place": (12, 298, 300, 326),
        "killfeed": (880, 66, 1270, 200),
        "money": (12, 600, 260, 630),
        "name": (12, 634, 420, 664),
        "vitals": (12, 668, 420, 708),
        "weapons": (880, 620, 1270, 708),
    },
    "cs2": {
        "timer": (612, 3, 668, 22),
        "score_left": (612, 23, 639, 37),
        "score_right": (641, 23, 668, 37),
        "cards_left": (426, 2, 606, 38),
        "cards_right": (674, 2, 854, 38),
        "banner": (490, 44, 790, 72),
        "minimap": (8, 8, 208, 208),
        "money": (8, 212, 132, 234),
        "place": (8, 238, 208, 256),
        "killfeed": (900, 12, 1272, 140),
        "name": (8, 652, 300, 676),
        "health": (8, 682, 104, 712),
        "armor": (112, 682, 208, 712),
        "weapons": (1030, 604, 1272, 712),
    },
}
"""Element boxes (x0, y0, x1, y1) in pixels of the 1280×720 reference frame, per HUD style."""


BOLD_MIN_SIZE = 16  # px: bold from this size up


@functools.cache
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=max(size, 6))


@functools.lru_cache(maxsize=8192)
def _sprite(text: str, size: int, bold: bool) -> tuple[np.ndarray, tuple[int, int]]:
    """The text's ink as an alpha mask, and the mask's offset from the baseline origin.

    Each distinct string is rasterised once (Pillow's bundled TrueType font, whose digits OCR reads
    cleanly, unlike Hershey's slashed zero) and then only blended into frames. Bold is a one-pixel
    stroke, only from :data:`BOLD_MIN_SIZE` up.
    """
    font, stroke = _font(size), 1 if bold and size >= BOLD_MIN_SIZE else 0
    left, top, right, bottom = font.getbbox(text, anchor="ls", stroke_width=stroke)
    image = Image.new("L", (max(right - left, 1), max(bottom - top, 1)), 0)
    ImageDraw.Draw(image).text((-left, -top), text, font=font, fill=255, anchor="ls", stroke_width=stroke)
    return np.asarray(image), (left, top)


def _blit(img: np.ndarray, mask: np.ndarray, x: int, y: int, color: tuple[int, int, int]) -> None:
    h, w = mask.shape
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, img.shape[1]), min(y + h, img.shape[0])
    if x0 >= x1 or y0 >= y1:
        return
    alpha = mask[y0 - y : y1 - y, x0 - x : x1 - x, None].astype(np.float32) / 255
    region = img[y0:y1, x0:x1]
    region[:] = (region * (1 - alpha) + np.array(color, np.float32) * alpha).astype(np.uint8)


def _blit1(plane: np.ndarray, mask: np.ndarray, x: int, y: int, value: int) -> None:
    """:func:`_blit` onto one plane (of an I420 frame) with one value."""
    h, w = mask.shape
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, plane.shape[1]), min(y + h, plane.shape[0])
    if x0 >= x1 or y0 >= y1:
        return
    alpha = mask[y0 - y : y1 - y, x0 - x : x1 - x].astype(np.float32) / 255
    region = plane[y0:y1, x0:x1]
    region[:] = (region * (1 - alpha) + value * alpha).astype(np.uint8)


Planes = tuple[np.ndarray, np.ndarray, np.ndarray]
"""An I420 picture as its Y (full size), U and V (half width, half height) planes."""


def _text_i420(planes: Planes, text: str, org: tuple[int, int], size: int, color, bold: bool = False) -> None:
    """Blend ``text`` (baseline starting at ``org``) onto I420 planes: luma at full, chroma at half size."""
    mask, (left, top) = _sprite(text, size, bold)
    ox, oy = org[0] + left, org[1] + top
    half = cv2.resize(
        mask, ((mask.shape[1] + 1) // 2, (mask.shape[0] + 1) // 2), interpolation=cv2.INTER_AREA
    )
    for k, (plane, value) in enumerate(zip(planes, yuv(color), strict=True)):
        _blit1(plane, mask if k == 0 else half, ox if k == 0 else ox // 2, oy if k == 0 else oy // 2, value)


def to_i420(bgr: np.ndarray) -> Planes:
    """A BGR image of even width and height as I420 planes (BT.601, video range, as x264 is fed)."""
    h, w = bgr.shape[:2]
    flat = cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV_I420).reshape(-1)
    n, q = h * w, (h // 2) * (w // 2)
    half = (h // 2, w // 2)
    return flat[:n].reshape(h, w), flat[n : n + q].reshape(half), flat[n + q :].reshape(half)


@functools.cache
def yuv(color: tuple[int, int, int]) -> tuple[int, int, int]:
    """A BGR colour's (Y, U, V) values."""
    y, u, v = to_i420(np.full((2, 2, 3), color, np.uint8))
    return int(y[0, 0]), int(u[0, 0]), int(v[0, 0])


def box_fraction(name: str, style: str = "broadcast") -> tuple[float, float, float, float]:
    """An element's box in a HUD style as fractions of the frame (what crop params are written in)."""
    x0, y0, x1, y1 = LAYOUTS[style][name]
    return (x0 / REF_W, y0 / REF_H, x1 / REF_W, y1 / REF_H)


@dataclass
class Card:
    name: str
    side: str  # T | CT
    health: int
    has_bomb: bool


@dataclass
class HudView:
    """Everything the HUD shows at one moment."""

    map_name: str
    teams: tuple[str, str]
    scores: tuple[int, int]
    timer: Display
    cards: tuple[list[Card], list[Card]]  # left team, right team
    name: str | None = None  # spectated player; None hides the player panel
    side: str = "T"
    health: int = 0
    armor: int = 0
    money: int = 0
    primary: str | None = None
    secondary: str | None = None
    utility: list[str] = field(default_factory=list)
    place: str | None = None
    killfeed: list[str] = field(default_factory=list)
    banner: str | None = None
    show_timer: bool = True


DEGRADE_JPEG_QUALITY = 22
PATCH_CACHE = 8192  # rendered HUD elements kept per Hud (each a few kB): the cache is emptied when full


def degrade(img: np.ndarray, quality: str) -> np.ndarray:
    """An observer shot's image quality: ``clean`` (unchanged), ``jpeg`` artefacts or ``blur``."""
    if quality == "jpeg":
        _, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, DEGRADE_JPEG_QUALITY])
        return cv2.imdecode(buf, cv2.IMREAD_COLOR)
    if quality == "blur":
        return cv2.GaussianBlur(img, (5, 5), 1.1)
    return img


class Hud:
    """Draws :class:`HudView` onto frames of one size.

    Almost every element sits on its own opaque panel, so its pixels depend on what it shows and on
    nothing under it: each element is drawn once per distinct content (and image quality) onto a
    scratch frame, cut out as a patch, and afterwards only copied into frames. The few strokes drawn
    straight onto the picture (the map name, the minimap outline) are drawn every frame.

    :meth:`draw` draws onto a BGR frame; :meth:`draw_i420` onto the planes of an I420 frame (what the
    renderer hands to x264), with patches converted once: luma exactly in each box, chroma in the box
    widened to even pixels (the panel's colour repeated into the one-pixel margin).
    """

    style = "broadcast"
    kill_step = 26  # kill feed line pitch, reference pixels

    def __init__(self, width: int, height: int):
        self.w, self.h = width, height
        self.sx, self.sy = width / REF_W, height / REF_H
        self.s = min(self.sx, self.sy)
        self._scratch = np.zeros((height, width, 3), np.uint8)
        self._patches: dict[tuple, np.ndarray] = {}
        self._boxes = {name: self._scaled(name) for name in LAYOUTS[self.style]}

    def _scaled(self, name: str) -> tuple[int, int, int, int]:
        x0, y0, x1, y1 = LAYOUTS[self.style][name]
        return round(x0 * self.sx), round(y0 * self.sy), round(x1 * self.sx), round(y1 * self.sy)

    def _box(self, name: str) -> tuple[int, int, int, int]:
        return self._boxes[name]

    def _panel(self, img: np.ndarray, name: str, color=DARK) -> tuple[int, int, int, int]:
        x0, y0, x1, y1 = self._box(name)
        cv2.rectangle(img, (x0, y0), (x1, y1), color, -1)
        return x0, y0, x1, y1

    def _text(self, img, text: str, org: tuple[int, int], scale: float, color=WHITE, thick: int = 1) -> None:
        """Draw ``text`` with its baseline starting at ``org`` (like cv2.putText), in TrueType."""
        mask, (left, top) = _sprite(text, round(scale * 30 * self.s), thick > 1)
        _blit(img, mask, org[0] + left, org[1] + top, color)

    def _centered(self, img, text: str, box: tuple[int, int, int, int], scale: float, color=WHITE, thick=2):
        mask, _ = _sprite(text, round(scale * 30 * self.s), thick > 1)
        x0, y0, x1, y1 = box
        _blit(img, mask, x0 + (x1 - x0 - mask.shape[1]) // 2, y0 + (y1 - y0 - mask.shape[0]) // 2, color)

    def _paste(self, img: np.ndarray, box: tuple[int, int, int, int], key: tuple, quality: str) -> None:
        """Copy the patch of the opaque element ``key`` filling ``box`` (inclusive corners) into ``img``."""
        x0, y0, x1, y1 = box
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1 + 1, self.w), min(y1 + 1, self.h)
        if x0 >= x1 or y0 >= y1:
            return
        full = (key, quality)
        patch = self._patches.get(full)
        if patch is None:
            getattr(self, "_draw_" + key[0])(self._scratch, *key[1:])
            patch = degrade(np.ascontiguousarray(self._scratch[y0:y1, x0:x1]), quality)
            if len(self._patches) >= PATCH_CACHE:
                self._patches.clear()
            self._patches[full] = patch
        img[y0:y1, x0:x1] = patch

    def _elements(self, v: HudView):
        """(box with inclusive corners, key) of every opaque element ``v`` shows, in drawing order."""
        for key, team in zip(("team_left", "team_right"), v.teams, strict=True):
            yield self._box(key), ("team", key, team[:14])
        for key, score in zip(("score_left", "score_right"), v.scores, strict=True):
            yield self._box(key), ("score", key, str(score))
        stopped = v.timer.text is None and v.timer.phase in ("planted", "over")
        yield self._box("timer"), ("timer", v.show_timer, v.timer.text, stopped)
        for side_cards, name in zip(v.cards, ("cards_left", "cards_right"), strict=True):
            x0, y0, x1, y1 = self._box(name)
            width = (x1 - x0) // 5
            for i, c in enumerate(side_cards):
                cx = x0 + i * width
                card = ("card", name, i, c.name[:9], c.side, c.health > 0, self._bar(c, width), c.has_bomb)
                yield (cx + 2, y0 + 2, cx + width - 2, y1 - 2), card
        yield from self._lower_elements(v)

    def _lower_elements(self, v: HudView):
        """The elements both styles show below the top row: banner, place, kill feed, player panel."""
        if v.banner:
            yield self._box("banner"), ("banner", v.banner)
        if v.place:
            yield self._box("place"), ("place", v.place)
        x0, y0, x1, _ = self._box("killfeed")
        step = round(self.kill_step * self.sy)
        for i, line in enumerate(v.killfeed[-5:]):
            y = y0 + i * step
            yield (x0, y, x1, y + step - 3), ("kill", y, line[:40])
        if v.name is not None:
            yield self._box("money"), ("money", v.money)
            yield self._box("name"), ("name", v.side, v.name)
            yield from self._vitals_elements(v)
            lines = [w for w in (v.primary, v.secondary) if w] + [" ".join(v.utility)]
            yield self._box("weapons"), ("weapons", tuple(lines[:3]))

    def _vitals_elements(self, v: HudView):
        yield self._box("vitals"), ("vitals", v.health, v.armor)

    def draw(self, img: np.ndarray, v: HudView, quality: str = "clean") -> None:
        """Draw ``v`` onto ``img`` (a frame of this size, BGR); ``quality`` degrades the HUD like the shot."""
        for box, key in self._elements(v):
            self._paste(img, box, key, quality)
        x0, _, _, y1 = self._box("map_name")
        self._text(img, v.map_name, (x0, y1 - 4), 0.5, GREY)
        self._minimap_box(img)

    def draw_i420(self, planes: Planes, v: HudView, quality: str = "clean") -> None:
        """:meth:`draw` onto the Y, U, V planes of an I420 frame of this size (even width and height)."""
        self._paste_i420(planes, v, quality)
        x0, _, _, y1 = self._box("map_name")
        _text_i420(planes, v.map_name, (x0, y1 - 4), round(0.5 * 30 * self.s), GREY)
        self._minimap_box_i420(planes)

    def _paste_i420(self, planes: Planes, v: HudView, quality: str) -> None:
        """Copy the I420 patch of every opaque element ``v`` shows into ``planes``."""
        y, u, w = planes
        for box, key in self._elements(v):
            yp, up, vp, (x0, y0, x1, y1), (ex0, ey0, ex1, ey1) = self._patch_i420(box, key, quality)
            y[y0:y1, x0:x1] = yp
            u[ey0:ey1, ex0:ex1] = up
            w[ey0:ey1, ex0:ex1] = vp

    def _minimap_box_i420(self, planes: Planes) -> None:
        x0, y0, x1, y1 = self._box("minimap")
        thick = max(1, round(2 * self.s))
        for k, (plane, value) in enumerate(zip(planes, yuv((90, 90, 90)), strict=True)):
            d = 1 if k == 0 else 2
            cv2.rectangle(plane, (x0 // d, y0 // d), (x1 // d, y1 // d), value, max(1, thick // d))

    def _patch_i420(self, box: tuple[int, int, int, int], key: tuple, quality: str) -> tuple:
        """The I420 patch of an opaque element: (Y, U, V, luma box, chroma box), boxes exclusive."""
        full = (key, quality, "i420")
        patch = self._patches.get(full)
        if patch is not None:
            return patch
        x0, y0, x1, y1 = box
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1 + 1, self.w), min(y1 + 1, self.h)
        getattr(self, "_draw_" + key[0])(self._scratch, *key[1:])
        bgr = degrade(np.ascontiguousarray(self._scratch[y0:y1, x0:x1]), quality)
        ex0, ey0, ex1, ey1 = x0 - x0 % 2, y0 - y0 % 2, x1 + x1 % 2, y1 + y1 % 2
        padded = cv2.copyMakeBorder(bgr, y0 - ey0, ey1 - y1, x0 - ex0, ex1 - x1, cv2.BORDER_REPLICATE)
        y, u, v = to_i420(padded)
        yp = y[y0 - ey0 : y1 - ey0, x0 - ex0 : x1 - ex0].copy()
        patch = (yp, u.copy(), v.copy(), (x0, y0, x1, y1), (ex0 // 2, ey0 // 2, ex1 // 2, ey1 // 2))
        if len(self._patches) >= PATCH_CACHE:
            self._patches.clear()
        self._patches[full] = patch
        return patch

    # -- the elements, each drawn onto the scratch frame at its place ---------------------------------

    def _draw_team(self, img, key: str, team: str) -> None:
        self._centered(img, team, self._panel(img, key, (45, 45, 48)), 0.55, WHITE, 1)

    def _draw_score(self, img, key: str, score: str) -> None:
        self._centered(img, score, self._panel(img, key, (55, 55, 60)), 0.85, WHITE, 2)

    def _draw_timer(self, img, show: bool, text: str | None, stopped: bool) -> None:
        box = self._panel(img, "timer", BLACK)
        if not show:
            return
        if text is not None:
            self._centered(img, text, box, 0.95, WHITE, 2)
        elif stopped:
            x0, y0, x1, y1 = box
            center = ((x0 + x1) // 2, (y0 + y1) // 2)
            cv2.circle(img, center, round(15 * self.s), RED, -1)
            self._centered(img, "C4", box, 0.5, WHITE, 1)

    @staticmethod
    def _bar(c: Card, width: int) -> int:
        return round((width - 12) * max(c.health, 0) / 100)

    def _draw_card(self, img, key: str, i: int, name: str, side: str, alive: bool, bar: int, bomb: bool):
        x0, y0, x1, y1 = self._box(key)
        width = (x1 - x0) // 5
        cx = x0 + i * width
        color = (T_COLOR if side == "T" else CT_COLOR) if alive else (70, 70, 70)
        cv2.rectangle(img, (cx + 2, y0 + 2), (cx + width - 2, y1 - 2), DARK, -1)
        cv2.rectangle(img, (cx + 2, y0 + 2), (cx + width - 2, y0 + 6), color, -1)
        self._text(img, name, (cx + 6, y0 + round(26 * self.sy)), 0.4, WHITE if alive else GREY)
        if bar > 0:
            top, bottom = y1 - round(16 * self.sy), y1 - round(8 * self.sy)
            cv2.rectangle(img, (cx + 6, top), (cx + 6 + bar, bottom), GREEN, -1)
        if bomb:
            cv2.rectangle(img, (cx + width - 14, y1 - 20), (cx + width - 4, y1 - 4), RED, -1)

    def _draw_banner(self, img, text: str) -> None:
        self._centered(img, text, self._panel(img, "banner", (20, 20, 120)), 0.62, WHITE, 2)

    def _draw_place(self, img, place: str) -> None:
        x0, _, _, y1 = self._panel(img, "place")
        self._text(img, place, (x0 + 6, y1 - 8), 0.6, WHITE, 1)

    def _draw_kill(self, img, y: int, line: str) -> None:
        x0, _, x1, _ = self._box("killfeed")
        step = round(self.kill_step * self.sy)
        cv2.rectangle(img, (x0, y), (x1, y + step - 3), (35, 35, 40), -1)
        self._text(img, line, (x0 + 6, y + step - 9), 0.45, WHITE)

    def _minimap_box(self, img: np.ndarray) -> None:
        x0, y0, x1, y1 = self._box("minimap")
        cv2.rectangle(img, (x0, y0), (x1, y1), (90, 90, 90), max(1, round(2 * self.s)))

    def _draw_money(self, img, money: int) -> None:
        x0, _, _, y1 = self._panel(img, "money")
        self._text(img, f"${money}", (x0 + 6, y1 - 7), 0.65, (120, 220, 120), 2)

    def _draw_name(self, img, side: str, name: str) -> None:
        x0, _, _, y1 = self._panel(img, "name", T_COLOR if side == "T" else CT_COLOR)
        self._text(img, name or "", (x0 + 8, y1 - 8), 0.7, BLACK, 2)

    def _draw_vitals(self, img, health: int, armor: int) -> None:
        x0, _, _, y1 = self._panel(img, "vitals")
        self._text(img, f"HP {health}", (x0 + 8, y1 - 11), 0.8, WHITE, 2)
        self._text(img, f"AR {armor}", (x0 + round(200 * self.sx), y1 - 11), 0.8, WHITE, 2)

    def _draw_weapons(self, img, lines: tuple[str, ...]) -> None:
        x0, y0, _, _ = self._panel(img, "weapons")
        for i, line in enumerate(lines):
            self._text(img, line, (x0 + 8, y0 + round((24 + 28 * i) * self.sy)), 0.6, WHITE, 1)


TIMER_BOX_ALPHA = 0.62  # opacity of the cs2 timer's dark box: the picture shows through it


class Cs2Hud(Hud):
    """A replica of CS2's own in-game HUD (``render.hud_style: cs2``); see the module docstring.

    The opaque elements reuse :class:`Hud`'s patch cache; the timer's box is translucent, so its pixels
    depend on the picture under it and it is blended into every frame (a 56×19 box at 720p: cheap).
    :meth:`draw` goes through :meth:`draw_i420`, so the two paths cannot drift apart.
    """

    style = "cs2"
    kill_step = 22

    def _elements(self, v: HudView):
        for key, score in zip(("score_left", "score_right"), v.scores, strict=True):
            yield self._box(key), ("score", key, str(score))
        for side_cards, name in zip(v.cards, ("cards_left", "cards_right"), strict=True):
            x0, y0, x1, y1 = self._box(name)
            width = (x1 - x0) // 5
            for i, c in enumerate(side_cards):
                alive = c.health > 0
                yield (
                    (x0 + i * width + 1, y0, x0 + (i + 1) * width - 1, y1),
                    ("portrait", name, i, c.side, alive),
                )
        yield from self._lower_elements(v)

    def _vitals_elements(self, v: HudView):
        yield self._box("health"), ("health", v.health)
        yield self._box("armor"), ("armor", v.armor)

    def draw(self, img: np.ndarray, v: HudView, quality: str = "clean") -> None:
        h, w = img.shape[:2]
        planes = to_i420(img)
        self.draw_i420(planes, v, quality)
        flat = np.concatenate([p.reshape(-1) for p in planes]).reshape(h * 3 // 2, w)
        img[:] = cv2.cvtColor(flat, cv2.COLOR_YUV2BGR_I420)

    def draw_i420(self, planes: Planes, v: HudView, quality: str = "clean") -> None:
        self._paste_i420(planes, v, quality)
        self._minimap_box_i420(planes)
        if v.show_timer:
            self._timer_i420(planes, v, quality)

    def _timer_i420(self, planes: Planes, v: HudView, quality: str) -> None:
        """The translucent dark box, then the digits (or the bomb icon once planted) on it."""
        x0, y0, x1, y1 = self._box("timer")
        for k, (plane, value) in enumerate(zip(planes, yuv(BLACK), strict=True)):
            d = 1 if k == 0 else 2
            region = plane[y0 // d : (y1 + 1) // d, x0 // d : (x1 + 1) // d]
            region[:] = (region * (1 - TIMER_BOX_ALPHA) + value * TIMER_BOX_ALPHA).astype(np.uint8)
        if v.timer.text is not None:
            size = round(16 * self.s)
            mask, _ = _sprite(v.timer.text, size, False)
            org = ((x0 + x1 - mask.shape[1]) // 2, (y0 + y1) // 2 + round(6 * self.s))
            _text_i420(planes, v.timer.text, org, size, WHITE)
        elif v.timer.phase in ("planted", "over"):
            center, radius = ((x0 + x1) // 2, (y0 + y1) // 2), round(7 * self.s)
            for k, (plane, value) in enumerate(zip(planes, yuv(RED), strict=True)):
                d = 1 if k == 0 else 2
                cv2.circle(plane, (center[0] // d, center[1] // d), max(1, radius // d), value, -1)
        if quality != "clean":
            region = planes[0][y0 : y1 + 1, x0 : x1 + 1]
            region[:] = cv2.cvtColor(
                degrade(cv2.cvtColor(region, cv2.COLOR_GRAY2BGR), quality), cv2.COLOR_BGR2GRAY
            )

    # -- the elements that differ from the broadcast overlay ------------------------------------------

    def _draw_score(self, img, key: str, score: str) -> None:
        self._centered(img, score, self._panel(img, key, (34, 34, 36)), 0.42, WHITE, 1)

    def _draw_portrait(self, img, key: str, i: int, side: str, alive: bool) -> None:
        """A player's portrait: a head and shoulders on the side's colour, greyed out once dead."""
        x0, y0, x1, y1 = self._box(key)
        width = (x1 - x0) // 5
        px0, px1 = x0 + i * width + 1, x0 + (i + 1) * width - 1
        color = (T_COLOR if side == "T" else CT_COLOR) if alive else (55, 55, 58)
        cv2.rectangle(img, (px0, y0), (px1, y1), DARK, -1)
        cx, h = (px0 + px1) // 2, y1 - y0
        cv2.ellipse(img, (cx, y1), ((px1 - px0) // 2 - 1, h // 3), 0, 180, 360, color, -1)
        cv2.circle(img, (cx, y0 + round(h * 0.38)), max(2, round(h * 0.2)), color, -1)

    def _draw_money(self, img, money: int) -> None:
        x0, _, _, y1 = self._panel(img, "money", (30, 34, 30))
        self._text(img, f"${money}", (x0 + 5, y1 - 5), 0.55, (120, 220, 120), 2)

    def _draw_name(self, img, side: str, name: str) -> None:
        x0, _, _, y1 = self._panel(img, "name", (30, 30, 32))
        self._text(img, name or "", (x0 + 6, y1 - 5), 0.68, T_COLOR if side == "T" else CT_COLOR, 2)

    def _draw_health(self, img, health: int) -> None:
        """A cross icon, then the number (CS2 draws no "HP" letters)."""
        x0, y0, _, y1 = self._panel(img, "health", (30, 30, 32))
        cx, cy, r = x0 + round(12 * self.s), (y0 + y1) // 2, round(7 * self.s)
        cv2.rectangle(img, (cx - r, cy - r // 3), (cx + r, cy + r // 3), WHITE, -1)
        cv2.rectangle(img, (cx - r // 3, cy - r), (cx + r // 3, cy + r), WHITE, -1)
        self._text(img, str(health), (x0 + round(26 * self.s), y1 - round(7 * self.s)), 0.72, WHITE, 2)

    def _draw_armor(self, img, armor: int) -> None:
        """A shield icon, then the number."""
        x0, y0, _, y1 = self._panel(img, "armor", (30, 30, 32))
        cx, cy, r = x0 + round(12 * self.s), (y0 + y1) // 2, round(7 * self.s)
        shield = np.array([(cx - r, cy - r), (cx + r, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy)])
        cv2.fillPoly(img, [shield], WHITE)
        self._text(img, str(armor), (x0 + round(26 * self.s), y1 - round(7 * self.s)), 0.72, WHITE, 2)

    def _draw_weapons(self, img, lines: tuple[str, ...]) -> None:
        """Weapons stacked right-aligned, as CS2 lists them bottom right."""
        _, y0, x1, _ = self._panel(img, "weapons", (30, 30, 32))
        for i, line in enumerate(lines):
            mask, _ = _sprite(line, round(0.55 * 30 * self.s), False)
            self._text(
                img, line, (x1 - 8 - mask.shape[1], y0 + round((26 + 32 * i) * self.sy)), 0.55, WHITE, 1
            )


HUDS: dict[str, type[Hud]] = {"broadcast": Hud, "cs2": Cs2Hud}
"""The HUD class of each ``render.hud_style``."""
