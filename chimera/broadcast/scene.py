"""The moving picture behind the HUD: a textured top-down view of the map that follows the observed player.

The map graph is drawn once onto a large canvas (places, routes, callouts, grain), and once more in
each degraded image quality (JPEG artefacts, blur); every frame is a window of one of those canvases
centred on the spectated player, copied into one reused frame buffer, with the players, smokes and
fires of that moment on top. The picture moves whenever the player moves and jumps at every observer
switch, so shot detection and OCR work on frames that are never trivially clean.
"""

from __future__ import annotations

import cv2
import numpy as np

from chimera.broadcast.hud import Planes, degrade, to_i420, yuv
from chimera.maps import MapGraph

T_DOT, CT_DOT = (40, 140, 230), (230, 150, 60)


class Scene:
    def __init__(self, graph: MapGraph, width: int, height: int, seed: int):
        self.w, self.h = width, height
        xs = [p.x for p in graph.places.values()]
        ys = [p.y for p in graph.places.values()]
        self.x0, self.y1 = min(xs) - 600, max(ys) + 600
        span = max(max(xs) - min(xs), max(ys) - min(ys)) + 1200
        self.scale = 2.2 * max(width, height) / span  # pixels per map unit
        cw, ch = self._px(max(xs) + 600, min(ys) - 600)
        rng = np.random.default_rng(seed)
        grain = rng.integers(0, 36, (ch // 4 + 1, cw // 4 + 1), dtype=np.uint8)
        grain = cv2.resize(grain, (cw, ch), interpolation=cv2.INTER_LINEAR)
        # areas of the map differ in light and colour, as real maps do (so a cut is a real change)
        light = cv2.resize(
            rng.integers(0, 90, (6, 6)).astype(np.uint8), (cw, ch), interpolation=cv2.INTER_CUBIC
        )
        tint = cv2.resize(
            rng.integers(0, 40, (5, 5, 3)).astype(np.uint8), (cw, ch), interpolation=cv2.INTER_CUBIC
        )
        canvas = (
            (grain[..., None].astype(np.int16) + light[..., None] + tint + 15).clip(0, 255).astype(np.uint8)
        )
        thick = max(2, round(90 * self.scale))
        for a, b in graph.edges:
            pa, pb = graph.places[a], graph.places[b]
            cv2.line(canvas, self._px(pa.x, pa.y), self._px(pb.x, pb.y), (78, 82, 76), thick, cv2.LINE_AA)
        for place in graph.places.values():
            center = self._px(place.x, place.y)
            cv2.circle(canvas, center, round(thick * 1.1), (92, 98, 90), -1, cv2.LINE_AA)
            cv2.putText(
                canvas,
                place.callout,
                (center[0] - 30, center[1] - thick),
                cv2.FONT_HERSHEY_SIMPLEX,
                0.5 * self.scale * 5,
                (150, 150, 140),
                1,
                cv2.LINE_AA,
            )
        pad_y, pad_x = height, width  # so a window centred anywhere on the map stays inside the canvas
        canvas = cv2.copyMakeBorder(canvas, pad_y, pad_y, pad_x, pad_x, cv2.BORDER_REFLECT)
        # even sides, so that the canvas converts to I420 and every even window is one in chroma
        self.canvas = cv2.copyMakeBorder(
            canvas, 0, canvas.shape[0] % 2, 0, canvas.shape[1] % 2, cv2.BORDER_REFLECT
        )
        self.pad = (pad_x, pad_y)
        self._canvases = {"clean": self.canvas}  # the degraded ones are made on first use
        self._i420: dict[str, Planes] = {}
        self._frame = np.empty((height, width, 3), np.uint8)

    def _px(self, x: float, y: float) -> tuple[int, int]:
        return round((x - self.x0) * self.scale), round((self.y1 - y) * self.scale)

    def frame(
        self,
        center: tuple[float, float],
        dots: list[tuple[float, float, str, bool]],
        clouds: list[tuple[float, float, bool]],
        quality: str = "clean",
    ) -> np.ndarray:
        """The window around ``center``; ``dots`` are (x, y, side, observed), ``clouds`` (x, y, is_smoke).

        The window of the canvas in ``quality`` (``clean``, ``jpeg``, ``blur``). The returned array is
        this scene's one frame buffer, overwritten by the next call.
        """
        canvas = self._canvases.get(quality)
        if canvas is None:
            canvas = self._canvases[quality] = degrade(self.canvas, quality)
        cx, cy = self._px(*center)
        left = cx + self.pad[0] - self.w // 2
        top = cy + self.pad[1] - self.h // 2
        left = min(max(left, 0), self.canvas.shape[1] - self.w)
        top = min(max(top, 0), self.canvas.shape[0] - self.h)
        img = self._frame
        np.copyto(img, canvas[top : top + self.h, left : left + self.w])
        ox, oy = self.pad[0] - left, self.pad[1] - top
        r = max(3, round(55 * self.scale))
        for x, y, is_smoke in clouds:
            px, py = self._px(x, y)
            color = (170, 170, 170) if is_smoke else (30, 110, 230)
            cv2.circle(img, (px + ox, py + oy), round(180 * self.scale), color, -1, cv2.LINE_AA)
        for x, y, side, observed in dots:
            px, py = self._px(x, y)
            cv2.circle(img, (px + ox, py + oy), r, T_DOT if side == "T" else CT_DOT, -1, cv2.LINE_AA)
            if observed:
                cv2.circle(img, (px + ox, py + oy), r + 3, (250, 250, 250), 2, cv2.LINE_AA)
        return img

    def frame_i420(
        self,
        center: tuple[float, float],
        dots: list[tuple[float, float, str, bool]],
        clouds: list[tuple[float, float, bool]],
        quality: str,
        planes: Planes,
    ) -> None:
        """:meth:`frame` written into the Y, U, V ``planes`` of an I420 frame (the window on even pixels).

        The canvas is converted to I420 once per quality; a frame is then three plane copies and the
        moment's circles drawn on each plane (chroma at half size, with one bit of sub-pixel precision).
        """
        canvas = self._i420.get(quality)
        if canvas is None:
            bgr = self._canvases.get(quality)
            canvas = self._i420[quality] = to_i420(bgr if bgr is not None else degrade(self.canvas, quality))
        cy_, cu, cv_ = canvas
        y, u, v = planes
        cx, cy = self._px(*center)
        left = cx + self.pad[0] - self.w // 2
        top = cy + self.pad[1] - self.h // 2
        left = min(max(left, 0), self.canvas.shape[1] - self.w) & ~1
        top = min(max(top, 0), self.canvas.shape[0] - self.h) & ~1
        np.copyto(y, cy_[top : top + self.h, left : left + self.w])
        hl, ht = left // 2, top // 2
        np.copyto(u, cu[ht : ht + self.h // 2, hl : hl + self.w // 2])
        np.copyto(v, cv_[ht : ht + self.h // 2, hl : hl + self.w // 2])
        ox, oy = self.pad[0] - left, self.pad[1] - top
        r = max(3, round(55 * self.scale))
        for x, yy, is_smoke in clouds:
            px, py = self._px(x, yy)
            color = yuv((170, 170, 170) if is_smoke else (30, 110, 230))
            self._disc(planes, px + ox, py + oy, round(180 * self.scale), color, -1)
        for x, yy, side, observed in dots:
            px, py = self._px(x, yy)
            self._disc(planes, px + ox, py + oy, r, yuv(T_DOT if side == "T" else CT_DOT), -1)
            if observed:
                self._disc(planes, px + ox, py + oy, r + 3, yuv((250, 250, 250)), 2)

    @staticmethod
    def _disc(planes: Planes, x: int, y: int, r: int, color: tuple[int, int, int], thick: int) -> None:
        """A circle on the three planes: luma at full size, chroma at half (shift=1: half-pixel units)."""
        cv2.circle(planes[0], (x, y), r, color[0], thick, cv2.LINE_AA)
        half = thick if thick < 0 else max(1, thick // 2)
        cv2.circle(planes[1], (x, y), r, color[1], half, cv2.LINE_AA, 1)
        cv2.circle(planes[2], (x, y), r, color[2], half, cv2.LINE_AA, 1)
