"""The shared prompt (SPEC §11, beyond the vision cache): each group's prompt forwarded once gives TRL's
own log-probs, entropies and gradients, and generation samples the same completions from one prefill per
prompt."""

import json

import pytest
import torch

from chimera import shared_prompt
from chimera.config import load_params
from chimera.grpo import build_trainer
from tests.grpofiles import REWARDS, write_grpo_dir

PARAMS = load_params()
G = 4


def trainer(base_dir, rows, tmp_path, name, **changes):
    lora = PARAMS.grpo.lora.model_copy(update={"dropout": 0.0})  # no random masks: the passes compare exactly
    grpo = PARAMS.grpo.model_copy(
        update={
            "max_steps": 1,
            "batch_size": 2 * G,
            "num_generations": G,
            "max_completion_length": 16,
            "lora": lora,
            **changes,
        }
    )
    out = build_trainer(
        PARAMS.model_copy(update={"grpo": grpo}), base_dir, rows, tmp_path / name, reward_funcs=REWARDS
    )
    out.current_gradient_accumulation_steps = 1  # set by Trainer's loop, which these tests skip
    return out


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    grpo = write_grpo_dir(tmp_path_factory.mktemp("grpo"), n_train=2, size=(640, 360))
    return [json.loads(line) for line in (grpo / "train.jsonl").open()]


def test_groups_put_rows_together_exactly_when_prompt_and_image_are_equal():
    ids = torch.tensor([[0, 7, 8], [5, 7, 8], [0, 7, 8], [5, 7, 8], [0, 7, 8]])
    mask = torch.tensor([[0, 1, 1], [1, 1, 1], [0, 1, 1], [1, 1, 1], [0, 1, 1]])
    grid = torch.tensor([[1, 2, 2]])
    images = [torch.full((4, 3), float(v)) for v in (1, 1, 1, 1, 2)]  # the last row: same text, other frame
    firsts, inverse = shared_prompt.groups(ids, mask, images, [grid] * 5)
    assert firsts == [0, 1, 4]
    assert inverse.tolist() == [0, 1, 0, 1, 2]


def test_a_scored_batch_matches_trls_stock_path_and_prefills_each_prompt_once(base_dir, rows, tmp_path):
    """One generation batch of two frames x G, stock TRL against the vision cache with the shared prompt."""
    results = {}
    for name, changes in (("stock", {"vision_cache": False}), ("shared", {"share_prompt": True})):
        tr = trainer(base_dir, rows, tmp_path, name, **changes)
        torch.manual_seed(0)
        out = tr._generate_and_score_completions([tr.train_dataset[i] for i in [0] * G + [1] * G])
        results[name] = (out, tr.compute_loss(tr.model, out).detach(), tr)
    (stock, stock_loss, _), (shared, shared_loss, tr) = results["stock"], results["shared"]
    assert torch.equal(stock["completion_ids"], shared["completion_ids"])  # the same samples were drawn
    assert torch.allclose(stock["ref_per_token_logps"], shared["ref_per_token_logps"], atol=1e-5)
    assert abs(float(stock_loss) - float(shared_loss)) <= 1e-5
    assert (tr.shared_prefill.prompts, tr.shared_prefill.prefilled) == (2 * G, 2)


def test_policy_log_probs_entropies_and_gradients_equal_the_stock_pass(base_dir, rows, tmp_path):
    """A trained-looking adapter, rows shuffled and prompts of two lengths (left padding): the shared pass
    gives TRL's per-token log-probs and entropies and the same LoRA gradients, within 1e-5 in fp32."""
    tr = trainer(base_dir, rows, tmp_path, "grads", share_prompt=True)
    torch.manual_seed(0)
    out = tr._generate_and_score_completions([tr.train_dataset[i] for i in [0] * G + [1] * G])
    order = torch.tensor([3, 5, 0, 7, 1, 6, 2, 4])  # TRL may shuffle rows before the loss
    ids = torch.cat([out["prompt_ids"], out["completion_ids"]], 1)[order]
    mask = torch.cat([out["prompt_mask"], out["completion_mask"]], 1)[order]
    short = order % 2 == 1  # half of each frame's rows: 3 more pad tokens on the left, a shorter prompt
    mask[short, :3] = 0
    ids[short, :3] = tr.processing_class.tokenizer.pad_token_id
    grid = out["image_grid_thw"][order]
    pixels = torch.cat(
        [list(out["pixel_values"].split(out["image_grid_thw"].prod(-1).tolist()))[i] for i in order]
    )
    kept = out["completion_ids"].size(1)
    inputs = dict(
        pixel_values=pixels,
        image_grid_thw=grid,
        num_images=[1] * len(order),
        mm_token_type_ids=(ids == tr.model.config.image_token_id).int(),
    )
    model = tr.model
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.05, generator=torch.Generator().manual_seed(len(name)))
    model.train()
    found = {}
    for share in (False, True):
        tr.share_prompt = share
        model.zero_grad()
        logps, entropies, _ = tr._get_per_token_logps_and_entropies(
            model, ids, mask, kept, batch_size=3, compute_entropy=True, **inputs
        )
        (logps * mask[:, -kept:]).sum().backward()
        grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
        found[share] = (logps.detach(), entropies.detach(), grads)
    (logps, entropies, grads), (s_logps, s_entropies, s_grads) = found[False], found[True]
    scored = mask[:, -kept:].bool()
    assert torch.allclose(logps[scored], s_logps[scored], atol=1e-5)
    assert torch.allclose(entropies[scored], s_entropies[scored], atol=1e-5)
    assert grads.keys() == s_grads.keys() and grads  # the LoRA, and nothing of the frozen tower
    for name, grad in grads.items():
        assert torch.allclose(grad, s_grads[name], atol=1e-5, rtol=1e-5), name
