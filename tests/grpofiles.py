"""Small ``data/grpo``-shaped directories for model tests: frames with a coloured HUD strip whose colour
and bar length follow the player's side and health, and rows with hand-set ground truth; and reward
functions that give an untrained model's GRPO groups some spread."""

from __future__ import annotations

import json
import random
from pathlib import Path

from PIL import Image, ImageDraw

from chimera.phrases import all_feature_values, phrase
from chimera.rewards import COMPONENTS, completion_text
from chimera.schema import ModelOutput

CONTRIBUTION = {
    "damage_dealt": 50,
    "max_round_damage": 200,
    "survival_time": 30.0,
    "round_duration": 60.0,
    "objective_action": 0,
}
"""phi = 0.4 * 50/200 + 0.3 * 30/60 + 0.3 * 0 = 0.25"""


def row(i: int, image: Path, rng: random.Random) -> dict:
    state = ModelOutput.example().game_state.model_dump()
    state.update(player_side=rng.choice(["T", "CT"]), player_health=rng.randint(1, 100))
    behavior = rng.choice(all_feature_values())
    return {
        "image": str(image),
        "prompt": "unused by the trainers: they take chimera.prompt",
        "match": "test-match",
        "map": state["map_name"],
        "round": 1 + i // 10,
        "tick": 1000 + 64 * i,
        "score": [0, 0],
        "ground_truth": {
            "game_state": state,
            "unknown": [],
            "pro_action": {"behavior": behavior, "description": phrase(behavior)},
            "round_won": bool(i % 2),
            "player_contribution": CONTRIBUTION,
        },
    }


def write_grpo_dir(root: Path, n_train: int = 8, n_test: int = 4, seed: int = 0, size=(320, 180)) -> Path:
    rng = random.Random(seed)
    frames = root / "frames"
    frames.mkdir(parents=True)
    for split, n in (("train", n_train), ("test", n_test)):
        rows = []
        for i in range(n):
            path = frames / f"{split}-{i:03d}.jpg"
            r = row(i, path, rng)
            state = r["ground_truth"]["game_state"]
            img = Image.new("RGB", size, (40, 60, 40))
            draw = ImageDraw.Draw(img)
            color = (200, 150, 40) if state["player_side"] == "T" else (60, 120, 220)
            draw.rectangle(
                (0, size[1] - 20, int(size[0] * state["player_health"] / 100), size[1]), fill=color
            )
            img.save(path, quality=90)
            rows.append(r)
        (root / f"{split}.jsonl").write_text("".join(json.dumps(x) + "\n" for x in rows))
    (root / "val.jsonl").write_text("")
    return root


def spread(completions, **_):
    """A reward with spread for an untrained model: the share of distinct characters in the answer."""
    texts = [completion_text(c) for c in completions]
    return [len(set(t)) / max(len(t), 1) for t in texts]


def zero(completions, **_):
    return [0.0] * len(completions)


REWARDS = [spread, *([zero] * (len(COMPONENTS) - 1))]
"""In :data:`chimera.rewards.COMPONENTS` order: the first drives the policy, the rest are logged."""
