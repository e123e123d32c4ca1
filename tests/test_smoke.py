"""The GPU smoke script runs end to end (here on the CPU, with the tiny architecture as its config)."""

import json

from chimera.config import load_params
from chimera.models.tiny import build
from chimera.smoke import run


def test_the_smoke_script_trains_sft_and_grpo_on_a_config_it_builds(tmp_path):
    params = load_params()
    model, _ = build(params.model)
    config = tmp_path / "tiny.json"
    config.write_text(json.dumps(model.config.to_dict()))
    figures = run(config, params, steps=1, generations=2)
    assert figures["device"] == "cpu" and figures["sft"]["steps"] == figures["grpo"]["steps"] == 1
    assert figures["sft"]["seconds_per_step"] > 0 and figures["grpo"]["peak_gpu_gb"] is None
