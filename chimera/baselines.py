"""What a model must beat to be said to read the frame (SPEC §10): three baselines on the same frames.

- **Constant answer**: one §4 object for every frame, from the train split alone: each game_state field's
  most common value (an empty weapon slot is a value like any other), and as advice the pro's most
  common behaviour on the train decision frames, written with the phrase table. It scores what priors
  give with no image at all.
- **Chance** per field: the expected match of a value drawn at random from the train split's values of
  that field, under the same match rules (so ±10 % on money counts every train value within 10 %).
- **Image-swapped control**: the model itself, each frame's image replaced by another test frame's, scored
  against the original frame's truth (:func:`swap_partners` picks the other frame). A model that does
  not beat its own swapped answers is answering from its priors, not from the pixels.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np

from chimera.rewards import field_match
from chimera.schema import GAME_STATE_FIELDS
from chimera.targets import sft_target


def _hashable(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value


def _mode(values: Sequence[object]) -> object:
    """Most common value; ties go to the one seen first (train order is deterministic)."""
    # Counter.most_common keeps insertion order among equal counts
    return json.loads(Counter(json.dumps(v, sort_keys=True) for v in values).most_common(1)[0][0])


def constant_answer(train_rows: Sequence[Mapping], max_rounds: int) -> str:
    """The constant §4 answer of the train split (see the module docstring), as JSON text."""
    if not train_rows:
        raise ValueError("the constant baseline needs a non-empty train split")
    truths = [r["ground_truth"] for r in train_rows]
    state = {f: _mode([t["game_state"][f] for t in truths]) for f in GAME_STATE_FIELDS}
    behaviours = [t["pro_action"]["behavior"] for t in truths if t["pro_action"] is not None]
    advice = _mode(behaviours) if behaviours else {}
    return sft_target(state, advice, (0, 0), 1, max_rounds).model_dump_json()


class Chance:
    """Per field, the train split's value distribution; :meth:`expected` scores a truth against it."""

    def __init__(self, train_rows: Sequence[Mapping]):
        self.values: dict[str, list[tuple[object, float]]] = {}
        for f in GAME_STATE_FIELDS:
            counts = Counter(_hashable(r["ground_truth"]["game_state"][f]) for r in train_rows)
            total = sum(counts.values())
            self.values[f] = [(list(v) if isinstance(v, tuple) else v, n / total) for v, n in counts.items()]

    def expected(self, field: str, truth: object) -> float:
        """Expected :func:`chimera.rewards.field_match` of a random train value against ``truth``."""
        return sum(p * field_match(field, v, truth) for v, p in self.values[field])


def swap_partners(clusters: Sequence[tuple[str, int]], seed: int) -> list[int]:
    """For each frame, the index of the frame whose image it is shown instead.

    The rounds are put in a seeded random order, frames kept together within their round; frame ``i`` is
    shown the frame half the split further along that order. Unless one round holds more than half of
    the frames, the partner is always from another round (and usually another match).
    """
    n = len(clusters)
    if n < 2:
        return list(range(n))
    rounds = sorted(set(clusters))
    rank = {rounds[j]: p for p, j in enumerate(np.random.default_rng(seed).permutation(len(rounds)))}
    order = sorted(range(n), key=lambda i: (rank[clusters[i]], i))
    position = {frame: p for p, frame in enumerate(order)}
    return [order[(position[i] + n // 2) % n] for i in range(n)]
