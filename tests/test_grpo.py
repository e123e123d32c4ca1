"""GRPO (Models C, D): the vision tower is frozen and stays bit-identical, a LoRA that reaches it is
refused, the reference is the start model (KL 0 before the first update, > 0 after), and every reward
component is logged per step."""

import json
import logging

import pytest
import torch
from safetensors.torch import load_file

from chimera.config import load_params
from chimera.grpo import GrpoError, build_trainer, examples, run
from chimera.training import ADAPTER
from tests.grpofiles import REWARDS, write_grpo_dir
from tests.killing import KillAt, Killed

PARAMS = load_params()


def with_grpo(**changes):
    small = {
        "max_steps": 2,
        "batch_size": 4,
        "num_generations": 2,
        "max_completion_length": 12,
        "save_steps": 2,
    }
    return PARAMS.model_copy(update={"grpo": PARAMS.grpo.model_copy(update={**small, **changes})})


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    grpo = write_grpo_dir(tmp_path_factory.mktemp("grpo"), n_train=8)
    return [json.loads(line) for line in (grpo / "train.jsonl").open()]


def test_only_frames_with_a_decision_left_are_trained_on(rows):
    no_decision = [{**r, "ground_truth": {**r["ground_truth"], "pro_action": None}} for r in rows[:3]]
    assert examples(no_decision + rows[3:]).num_rows == len(rows) - 3
    with pytest.raises(GrpoError, match="no training frame has a decision left"):
        examples(no_decision)


def test_a_lora_that_reaches_the_vision_tower_is_refused(base_dir, rows, tmp_path):
    both = PARAMS.grpo.lora.model_copy(update={"targets": PARAMS.sft.lora.targets})
    with pytest.raises(GrpoError, match="vision"):
        build_trainer(with_grpo(lora=both), base_dir, rows, tmp_path / "ck", reward_funcs=REWARDS)


def test_vision_frozen_reference_is_the_start_model_and_kl_grows_after_an_update(base_dir, rows, tmp_path):
    trainer = build_trainer(
        with_grpo(max_steps=3, learning_rate=0.05), base_dir, rows, tmp_path / "ck", reward_funcs=REWARDS
    )
    model = trainer.model
    vision = {n: p.detach().clone() for n, p in model.named_parameters() if ".visual." in f".{n}"}
    assert vision and not any(p.requires_grad for n, p in model.named_parameters() if n in vision)
    batch = {"input_ids": torch.tensor([[1, 2, 3, 4]]), "attention_mask": torch.ones(1, 4, dtype=torch.long)}
    with torch.no_grad():
        policy = model(**batch).logits
        with model.disable_adapter():
            reference = model(**batch).logits
    assert torch.equal(policy, reference)  # LoRA's B starts at zero: the reference is the start model
    trainer.train()
    after = dict(model.named_parameters())
    assert all(torch.equal(after[n], v) for n, v in vision.items())  # not one vision weight moved
    logs = [e for e in trainer.state.log_history if "kl" in e]
    assert logs[0]["kl"] == 0.0 and logs[-1]["kl"] > 0  # before the first update, and after it
    for component in ("spread", "zero"):
        assert all(f"rewards/{component}/mean" in e for e in logs)
    assert all("frac_reward_zero_std" in e and "completions/mean_length" in e for e in logs)


def test_a_batch_of_partial_groups_is_refused_by_config():
    with pytest.raises(ValueError, match="multiple of num_generations"):
        PARAMS.grpo.model_validate({**PARAMS.grpo.model_dump(), "batch_size": 6, "num_generations": 4})


def test_the_vision_cache_gives_trls_log_probs_and_loss_and_encodes_each_frame_once(base_dir, tmp_path):
    """SPEC §11: one generation batch of two frames x G = 4, stock TRL against the cache, same seed."""
    grpo = write_grpo_dir(tmp_path / "grpo", n_train=2, size=(640, 360))
    rows = [json.loads(line) for line in (grpo / "train.jsonl").open()]
    results = {}
    for cache in (False, True):
        params = with_grpo(batch_size=8, num_generations=4, max_completion_length=16, vision_cache=cache)
        trainer = build_trainer(params, base_dir, rows, tmp_path / f"ck{cache}", reward_funcs=REWARDS)
        trainer.current_gradient_accumulation_steps = 1  # set by Trainer's loop, which this test skips
        batch = [trainer.train_dataset[i] for i in (0, 0, 0, 0, 1, 1, 1, 1)]
        torch.manual_seed(0)
        out = trainer._generate_and_score_completions(batch)
        results[cache] = (out, trainer.compute_loss(trainer.model, out).detach(), trainer)
    (stock, stock_loss, _), (cached, cached_loss, trainer) = results[False], results[True]
    assert torch.equal(stock["completion_ids"], cached["completion_ids"])  # the same samples were drawn
    for key in ("ref_per_token_logps", "advantages"):
        assert torch.allclose(stock[key], cached[key], atol=1e-5), key
    assert abs(float(stock_loss) - float(cached_loss)) <= 1e-5
    assert trainer.vision_features.encoded == 2 < trainer.vision_features.calls  # 2 frames, many copies
    assert trainer.processed_images.processed == 2 < trainer.processed_images.calls
    assert type(trainer.processing_class.image_processor).__name__ == "ProcessedImages"


def test_a_killed_run_resumes_to_the_same_adapter(base_dir, tmp_path, caplog):
    grpo = write_grpo_dir(tmp_path / "grpo", n_train=8)
    params = with_grpo(max_steps=4, save_steps=2, learning_rate=0.05)

    def go(name, callbacks=()):
        out = tmp_path / name
        args = (params, base_dir, grpo, out / "model", out / "work", None, out / "summary.json")
        return run(*args, callbacks, REWARDS)

    straight = go("straight")
    with pytest.raises(Killed):
        go("resumed", [KillAt(3)])
    assert not (tmp_path / "resumed" / "model").exists()  # nothing half-written
    with caplog.at_level(logging.INFO, logger="chimera.grpo"):
        resumed = go("resumed")
    assert "resuming from" in caplog.text and "checkpoint-2" in caplog.text
    assert resumed["steps"] == straight["steps"] == 4
    a = load_file(tmp_path / "straight" / "model" / ADAPTER / "adapter_model.safetensors")
    b = load_file(tmp_path / "resumed" / "model" / ADAPTER / "adapter_model.safetensors")
    assert a.keys() == b.keys() and not any(".visual." in k for k in a)
    moved = [k for k in a if "lora_B" in k and a[k].abs().max() > 0]
    assert moved  # the run learned something, so equality below is not that of two untouched inits
    for key in a:
        assert torch.allclose(a[key], b[key], atol=1e-6), key


@pytest.mark.parametrize("scale", ["none", "group"])
def test_with_scale_rewards_none_a_larger_contribution_gives_a_larger_advantage_spread(
    base_dir, tmp_path, scale
):
    """SPEC §8: group scaling divides phi out of the step; ``none`` lets it scale the step. The
    completions are scored as if alternately agreeing with the pro and deviating (the sampled text is
    ignored), so the rewards are the SPEC total of two fixed answers on a won round, whose gap is
    (0.3 + 0.25 phi) times the decision gap. (On a lost round it is (0.3 - 0.15 phi): there a larger
    phi shrinks the seed total's spread, the fact SPEC §8 records.)"""
    from chimera.phrases import phrase
    from chimera.rewards import total
    from chimera.schema import ModelOutput

    example = ModelOutput.example().model_dump()
    weights = PARAMS.grpo.reward_weights.model_dump()

    def answer(features):
        return json.dumps({**example, "advice": {**example["advice"], "primary_action": phrase(features)}})

    def canned(completions, ground_truth, **_):
        out = []
        for i, gt in enumerate(ground_truth):
            truth = json.loads(gt)
            pro = truth["pro_action"]["behavior"]
            other = {**pro, "movement_direction": -pro["movement_direction"] or 1, "initiated_engagement": 1}
            out.append(total(answer(pro if i % 2 else other), truth, weights)["total"])
        return out

    spread = {}
    for phi_share in (0.1, 1.0):
        grpo = write_grpo_dir(tmp_path / f"g{phi_share}", n_train=2)
        rows = [json.loads(line) for line in (grpo / "train.jsonl").open()]
        contribution = {
            "damage_dealt": round(100 * phi_share),
            "max_round_damage": 100,
            "survival_time": 60 * phi_share,
            "round_duration": 60,
            "objective_action": int(phi_share == 1.0),
        }
        for r in rows:
            r["ground_truth"].update(round_won=True, player_contribution=contribution)
        params = with_grpo(batch_size=8, num_generations=4, scale_rewards=scale)
        trainer = build_trainer(
            params, base_dir, rows, tmp_path / f"ck{phi_share}", reward_funcs=[canned, *REWARDS[1:]]
        )
        out = trainer._generate_and_score_completions([trainer.train_dataset[i] for i in (0,) * 4 + (1,) * 4])
        spread[phi_share] = float(out["advantages"].abs().mean())
    if scale == "none":
        assert spread[1.0] > 1.5 * spread[0.1] > 0
    else:
        assert spread[1.0] == pytest.approx(spread[0.1], rel=0.05)  # the std divides phi out
