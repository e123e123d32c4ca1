"""The ``pairs`` stage: broadcast frames with the ground-truth ``game_state`` of the spectated player.

For every video that ``sync`` mapped to its demo, frames are sampled at ``pairs.fps`` strictly inside
the synced segments (the only stretches of video whose tick is trusted: running clock, no replay, no
pause). For each frame:

1. *tick*: ``(t - offset) / scale * 64`` of its segment;
2. *spectated player*: the HUD name box is read by OCR and matched to the match's ten players
   (``difflib``); the health/armor and money boxes are read too. Without a name match the frame goes to
   the unique alive player whose values at the tick are exactly those; a name match is overruled only
   when the values fit other players but not the named one. Otherwise the frame is skipped
   (``player unresolved``);
3. *label*: that player's :func:`chimera.gamestate.state_table` row at the latest snapshot at or before
   the tick, kept only when the whole state holds for ``± pairs.stable_window_s`` (SPEC §5).

Each video is decoded only as far as its sample frames need (PyAV, GOP by GOP:
:func:`chimera.sync.scan.frames_at`); only the frames nearest the sample times are converted and saved.
Pairs are split into train/val/test by (match, round), never by frame, from ``pairs.seed``.

The renderer's truth sidecar (``<match>.truth.json`` next to the video) is read only by
:func:`chimera.pairs.run.evaluate`, after every pair is decided: nothing in it flows into a pair.

Modules, in the order a frame meets them:

- :mod:`~chimera.pairs.sampling`: sample times in the synced segments, their ticks, the frames to decode;
- :mod:`~chimera.pairs.hud`: OCR of the spectated player's HUD panel (name, health/armor, money);
- :mod:`~chimera.pairs.states`: the match's state table by (player, tick), and who is spectated;
- :mod:`~chimera.pairs.video`: one video decoded into its pairs (:class:`Pair`) and skip counts;
- :mod:`~chimera.pairs.split`: train/val/test by (match, round);
- :mod:`~chimera.pairs.run`: the stage (:func:`run`), the truth evaluation and the metrics.
"""

from chimera.pairs.run import PairsError, run
from chimera.pairs.video import Pair

__all__ = ["Pair", "PairsError", "run"]
