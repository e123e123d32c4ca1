"""A CS2-style broadcast HUD drawn with OpenCV from one :class:`HudView`.

Positions live in one table, :data:`LAYOUT`, in pixels of a 1280×720 frame and scaled to the output
size; ``sync.timer_crop`` and the ``pairs`` name crop are fractions of the frame pointing at the same
boxes. The look follows CS2's: the round timer top centre between the scores and team names, the five
player cards of each team along the top, the spectated player's name, health, armour and money bottom
left, weapons and grenades bottom right, a minimap box with the place name under it, a kill feed.
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

LAYOUT = {
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
}
"""Element boxes (x0, y0, x1, y1) in pixels of the 1280×720 reference frame."""


@functools.cache
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=max(size, 6))


@functools.lru_cache(maxsize=8192)
def _sprite(text: str, size: int, bold: bool) -> tuple[np.ndarray, tuple[int, int]]:
    """The text's ink as an alpha mask, and the mask's offset from the baseline origin.

    Each distinct string is rasterised once (Pillow's bundled TrueType font, whose digits OCR reads
    cleanly, unlike Hershey's slashed zero) and then only blended into frames.
    """
    font, stroke = _font(size), 1 if bold else 0
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


def box_fraction(name: str) -> tuple[float, float, float, float]:
    """An element's box as fractions of the frame (what crop params are written in)."""
    x0, y0, x1, y1 = LAYOUT[name]
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


class Hud:
    """Draws :class:`HudView` onto frames of one size."""

    def __init__(self, width: int, height: int):
        self.w, self.h = width, height
        self.sx, self.sy = width / REF_W, height / REF_H
        self.s = min(self.sx, self.sy)

    def _box(self, name: str) -> tuple[int, int, int, int]:
        x0, y0, x1, y1 = LAYOUT[name]
        return round(x0 * self.sx), round(y0 * self.sy), round(x1 * self.sx), round(y1 * self.sy)

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

    def draw(self, img: np.ndarray, v: HudView) -> None:
        self._top(img, v)
        for side_cards, name in zip(v.cards, ("cards_left", "cards_right"), strict=True):
            self._cards(img, side_cards, name)
        if v.banner:
            self._centered(img, v.banner, self._panel(img, "banner", (20, 20, 120)), 0.62, WHITE, 2)
        x0, _, _, y1 = self._box("map_name")
        self._text(img, v.map_name, (x0, y1 - 4), 0.5, GREY)
        self._minimap_box(img)
        if v.place:
            x0, _, _, y1 = self._panel(img, "place")
            self._text(img, v.place, (x0 + 6, y1 - 8), 0.6, WHITE, 1)
        self._killfeed(img, v.killfeed)
        if v.name is not None:
            self._player(img, v)

    def _top(self, img: np.ndarray, v: HudView) -> None:
        for key, team in zip(("team_left", "team_right"), v.teams, strict=True):
            self._centered(img, team[:14], self._panel(img, key, (45, 45, 48)), 0.55, WHITE, 1)
        for key, score in zip(("score_left", "score_right"), v.scores, strict=True):
            self._centered(img, str(score), self._panel(img, key, (55, 55, 60)), 0.85, WHITE, 2)
        box = self._panel(img, "timer", BLACK)
        if not v.show_timer:
            return
        if v.timer.text is not None:
            self._centered(img, v.timer.text, box, 0.95, WHITE, 2)
        elif v.timer.phase in ("planted", "over"):
            x0, y0, x1, y1 = box
            center = ((x0 + x1) // 2, (y0 + y1) // 2)
            cv2.circle(img, center, round(15 * self.s), RED, -1)
            self._centered(img, "C4", box, 0.5, WHITE, 1)

    def _cards(self, img: np.ndarray, cards: list[Card], key: str) -> None:
        x0, y0, x1, y1 = self._box(key)
        width = (x1 - x0) // 5
        for i, c in enumerate(cards):
            cx = x0 + i * width
            color = (T_COLOR if c.side == "T" else CT_COLOR) if c.health > 0 else (70, 70, 70)
            cv2.rectangle(img, (cx + 2, y0 + 2), (cx + width - 2, y1 - 2), DARK, -1)
            cv2.rectangle(img, (cx + 2, y0 + 2), (cx + width - 2, y0 + 6), color, -1)
            self._text(
                img, c.name[:9], (cx + 6, y0 + round(26 * self.sy)), 0.4, WHITE if c.health > 0 else GREY
            )
            bar = round((width - 12) * max(c.health, 0) / 100)
            if bar > 0:
                top, bottom = y1 - round(16 * self.sy), y1 - round(8 * self.sy)
                cv2.rectangle(img, (cx + 6, top), (cx + 6 + bar, bottom), GREEN, -1)
            if c.has_bomb:
                cv2.rectangle(img, (cx + width - 14, y1 - 20), (cx + width - 4, y1 - 4), RED, -1)

    def _minimap_box(self, img: np.ndarray) -> None:
        x0, y0, x1, y1 = self._box("minimap")
        cv2.rectangle(img, (x0, y0), (x1, y1), (90, 90, 90), max(1, round(2 * self.s)))

    def _killfeed(self, img: np.ndarray, lines: list[str]) -> None:
        x0, y0, x1, _ = self._box("killfeed")
        step = round(26 * self.sy)
        for i, line in enumerate(lines[-5:]):
            y = y0 + i * step
            cv2.rectangle(img, (x0, y), (x1, y + step - 3), (35, 35, 40), -1)
            self._text(img, line[:40], (x0 + 6, y + step - 9), 0.45, WHITE)

    def _player(self, img: np.ndarray, v: HudView) -> None:
        x0, _, _, y1 = self._panel(img, "money")
        self._text(img, f"${v.money}", (x0 + 6, y1 - 7), 0.65, (120, 220, 120), 2)
        x0, _, _, y1 = self._panel(img, "name", T_COLOR if v.side == "T" else CT_COLOR)
        self._text(img, v.name or "", (x0 + 8, y1 - 8), 0.7, BLACK, 2)
        x0, _, _, y1 = self._panel(img, "vitals")
        self._text(img, f"HP {v.health}", (x0 + 8, y1 - 11), 0.8, WHITE, 2)
        self._text(img, f"AR {v.armor}", (x0 + round(200 * self.sx), y1 - 11), 0.8, WHITE, 2)
        x0, y0, _, y1 = self._panel(img, "weapons")
        lines = [w for w in (v.primary, v.secondary) if w] + [" ".join(v.utility)]
        for i, line in enumerate(lines[:3]):
            self._text(img, line, (x0 + 8, y0 + round((24 + 28 * i) * self.sy)), 0.6, WHITE, 1)
