"""Train/val/test: the test split is whole held-out matches; train and val are cut by (match, round).

SPEC §3. A test match contributes nothing to training: not its players' carried-over money, not the score
of its next round (which tells whether the test side won the round before), not a frame one second away
from a test frame. Between train and val the unit is the (match, round), never the frame, so neighbouring
frames never straddle two splits. Every map of the test split must also be trained on, or the test would
measure transfer to an unseen map rather than reading the HUD.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sklearn.utils import check_random_state

from chimera.config import SplitParams
from chimera.errors import ChimeraError

SPLITS: tuple[str, ...] = ("train", "val", "test")


class SplitError(ChimeraError, ValueError):
    """The configured held-out matches cannot give an honest test split; the message says why."""


def val_count(n: int, share: float) -> int:
    """Val rounds among ``n`` non-test rounds: the rounded share, at least one once there are two."""
    if share <= 0 or n < 2:
        return 0
    return min(max(round(n * share), 1), n - 1)


def assign_splits(
    units: Iterable[tuple[str, int]], split: SplitParams, seed: int
) -> dict[tuple[str, int], str]:
    """(match, round) -> split: the held-out matches are test; the rest a seeded permutation cut for val."""
    ordered = sorted(set(units))
    held_out = set(split.test_matches)
    rest = [u for u in ordered if u[0] not in held_out]
    order = check_random_state(seed).permutation(len(rest))
    n_val = val_count(len(rest), split.val)
    out = {u: "test" for u in ordered if u[0] in held_out}
    out.update({rest[i]: "val" if k < n_val else "train" for k, i in enumerate(order)})
    return out


def check_held_out(split: SplitParams, map_of: Mapping[str, str]) -> None:
    """Refuse a split that names an unknown match or tests on a map no training match plays.

    ``map_of``: every match the stage has (match -> map name).
    """
    unknown = sorted(set(split.test_matches) - set(map_of))
    if unknown:
        raise SplitError(
            f"pairs.split.test_matches names {unknown}, which are not among the matches {sorted(map_of)}"
        )
    trained = {m for name, m in map_of.items() if name not in split.test_matches}
    unseen = sorted({map_of[name] for name in split.test_matches} - trained)
    if unseen:
        raise SplitError(
            f"pairs.split.test_matches: the test maps {unseen} are played by no training match "
            "(SPEC §3: every test map also appears in train)"
        )
