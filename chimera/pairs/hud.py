"""What the HUD says about the spectated player: name, health, armor and money, read by OCR.

The boxes are the video's layout in ``pairs.layouts`` (the one sync found the timer in): a tournament
overlay writes "HP 76", CS2 draws a cross icon and "76", so each box is read for its last number.
"""

from __future__ import annotations

import difflib
import re
import string
from collections.abc import Iterator, Mapping

import cv2
import numpy as np

from chimera.config import PairsLayout, SyncParams
from chimera.sync.ocr import Reader, crop_box

NAME_CUTOFF = 0.6  # difflib ratio a read name must reach to count as a roster name
NAME_CHARS = string.ascii_letters + string.digits + "_-"
VITAL = re.compile(r"(?<![0-9O])([0-9O]{1,3})\s*$")  # the last number in its box; a lone 0 reads as O
MONEY = re.compile(r"\$\s*([0-9O]{1,5})")
VITAL_CHARS = "HPAR0123456789O "


def _digits(text: str) -> int:
    return int(text.replace("O", "0"))


def parse_vital(text: str) -> int | None:
    """``"HP 76"`` or ``"76"`` -> 76 (at most 100); a lone zero read as the letter O counts as 0."""
    m = VITAL.search(text.strip())
    value = _digits(m.group(1)) if m else None
    return value if value is not None and value <= 100 else None


def parse_money(text: str) -> int | None:
    m = MONEY.search(text)
    return _digits(m.group(1)) if m else None


def match_name(text: str, roster: Mapping[str, int]) -> int | None:
    """Steamid of the roster name closest to the OCR'd ``text`` (case-insensitive); None if none or tied."""
    read = "".join(text.split()).lower()
    if not read:
        return None
    lower: dict[str, list[int]] = {}
    for name, sid in roster.items():
        lower.setdefault(name.lower(), []).append(sid)
    best = difflib.get_close_matches(read, list(lower), n=2, cutoff=NAME_CUTOFF)
    if not best or len(lower[best[0]]) > 1:
        return None
    if len(best) == 2:
        ratio = [difflib.SequenceMatcher(None, read, b).ratio() for b in best]
        if ratio[0] - ratio[1] < 1e-9:
            return None  # two names equally close: not decidable from the name
    return lower[best[0]][0]


def thinned(crop: np.ndarray, upscale: int) -> np.ndarray:
    """Upscaled, Otsu-binarised crop (dark text on white) with the text strokes eroded by a 3x3 step."""
    big = cv2.resize(crop, None, fx=upscale, fy=upscale, interpolation=cv2.INTER_CUBIC)
    _, binary = cv2.threshold(big, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    if binary.mean() < 127:
        binary = 255 - binary
    return cv2.dilate(binary, np.ones((3, 3), np.uint8))


class HudReader:
    """OCR of the spectated player's HUD panel: name, health, armor, money.

    The boxes come from one ``pairs.layouts`` entry, the OCR engine and its upscale from ``sync``.
    """

    def __init__(self, layout: PairsLayout, sync: SyncParams):
        self.layout = layout
        up = sync.upscale
        self.up = up
        self.name = Reader(sync.ocr_engine, sync.tessdata, up, whitelist=NAME_CHARS)
        self.thin_name = Reader(sync.ocr_engine, sync.tessdata, 1, whitelist=NAME_CHARS)
        # two scales for the short number reads: Tesseract drops a lone "0" at some scales
        self.vitals = [Reader(sync.ocr_engine, sync.tessdata, u, whitelist=VITAL_CHARS) for u in (up, up + 1)]
        self.money = [
            Reader(sync.ocr_engine, sync.tessdata, u, whitelist="$O0123456789") for u in (up, up + 1)
        ]

    @property
    def calls(self) -> int:
        return self.name.calls + self.thin_name.calls + sum(r.calls for r in (*self.vitals, *self.money))

    def read_names(self, gray: np.ndarray) -> Iterator[str]:
        """The name box read as is, then (lazily) with its strokes thinned.

        Bold HUD text at 720p merges narrow letters ("ii" in "mezii" becomes one block that Tesseract
        rejects); thinning the dark strokes of the upscaled binary image separates them again.
        """
        crop = crop_box(gray, self.layout.name_crop)
        yield self.name.text(crop).strip()
        yield self.thin_name.text(thinned(crop, self.up)).strip()

    def read_values(self, gray: np.ndarray) -> tuple[int, int, int] | None:
        """(health, armor, money) as the HUD shows them, or None when any is unreadable."""
        health = self._first(self.vitals, parse_vital, crop_box(gray, self.layout.health_crop))
        if health is None:
            return None
        armor = self._first(self.vitals, parse_vital, crop_box(gray, self.layout.armor_crop))
        if armor is None:
            return None
        money = self._first(self.money, parse_money, crop_box(gray, self.layout.money_crop))
        return None if money is None else (health, armor, money)

    @staticmethod
    def _first(readers: list[Reader], parse, crop: np.ndarray) -> int | None:
        """The first scale whose read parses (Tesseract drops a lone "0" at some scales)."""
        for reader in readers:
            value = parse(reader.text(crop))
            if value is not None:
                return value
        return None
