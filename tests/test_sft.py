"""SFT (Model B): the vision LoRA exists and learns, only the answer is in the loss, a saved adapter is
the trained model, and a killed run resumes to the same adapter as an uninterrupted one."""

import json
import logging

import pytest
import torch
from peft import PeftModel
from safetensors.torch import load_file

from chimera.config import load_params
from chimera.models.directory import load
from chimera.models.lora import coverage
from chimera.sft import SftError, answer, build_trainer, checkpoint_key, run, vision_grad_norms
from chimera.training import ADAPTER, resume_point, save
from tests.grpofiles import write_grpo_dir
from tests.killing import KillAt, Killed

PARAMS = load_params()


def with_train(params=PARAMS, lora=None, **train):
    changes = {"warmup_steps": 0, "batch_size": 2, **train}
    if lora:
        changes["lora"] = params.sft.lora.model_copy(update=lora)
    return params.model_copy(update={"sft": params.sft.model_copy(update=changes)})


@pytest.fixture(scope="module")
def grpo_dir(tmp_path_factory):
    return write_grpo_dir(tmp_path_factory.mktemp("grpo"))


@pytest.fixture(scope="module")
def rows(grpo_dir):
    return [json.loads(line) for line in (grpo_dir / "train.jsonl").open()]


def test_vision_lora_modules_exist_and_receive_gradients(base_dir, rows, tmp_path):
    trainer = build_trainer(with_train(max_steps=1), base_dir, rows, tmp_path / "ck")
    vision, language = coverage(trainer.model)
    layers = PARAMS.model.tiny.text_layers
    # per vision block qkv, proj, fc1, fc2; the merger's two; the deepstack merger's two
    assert vision == 4 * PARAMS.model.tiny.vision_depth + 2 + 2
    assert language == 7 * layers
    with pytest.raises(SftError, match="no gradient"):
        vision_grad_norms(trainer.model, require=True)  # before any backward pass: the check can fail
    batch = trainer.data_collator([trainer.train_dataset[i] for i in range(2)])
    trainer.model(**batch).loss.backward()
    norms = vision_grad_norms(trainer.model, require=True)
    assert len(norms) == vision and min(norms.values()) > 0


def test_a_lora_that_misses_the_vision_tower_is_refused(base_dir, rows, tmp_path):
    language_only = with_train(lora={"targets": PARAMS.grpo.lora.targets})
    with pytest.raises(SftError, match="0 vision"):
        build_trainer(language_only, base_dir, rows, tmp_path / "ck")


def test_loss_is_on_the_answer_only(base_dir, rows, tmp_path):
    trainer = build_trainer(with_train(max_steps=1), base_dir, rows, tmp_path / "ck")
    tok = trainer.processing_class.tokenizer
    image_pad = tok.convert_tokens_to_ids("<|image_pad|>")
    header = tok("<|im_start|>assistant\n", add_special_tokens=False)["input_ids"]
    batch = trainer.data_collator([trainer.train_dataset[i] for i in range(2)])
    for b, row in enumerate(rows[:2]):
        ids, labels = batch["input_ids"][b].tolist(), batch["labels"][b]
        # TRL's training template puts the end of turn and its newline in the loss: the model learns to stop
        text = answer(row, PARAMS.ingest.sim.max_rounds, PARAMS.sft.advice).model_dump_json()
        target = tok(text + "<|im_end|>\n", add_special_tokens=False)
        target = target["input_ids"]
        starts = [i for i in range(len(ids)) if ids[i : i + len(header)] == header]
        start = starts[-1] + len(header)
        assert ids[start : start + len(target)] == target
        expected = torch.full_like(labels, -100)
        expected[start : start + len(target)] = torch.tensor(target)
        assert torch.equal(labels, expected)
        assert ids.count(image_pad) > 0 and (labels[batch["input_ids"][b] == image_pad] == -100).all()


def test_saved_adapter_and_merged_model_give_the_trained_logits(base_dir, rows, tmp_path):
    trainer = build_trainer(with_train(max_steps=3, learning_rate=0.05), base_dir, rows, tmp_path / "ck")
    trainer.train()
    model = trainer.model.eval()
    batch = trainer.data_collator([trainer.train_dataset[i] for i in range(2)])
    batch.pop("labels")
    with torch.no_grad():
        trained = model(**batch).logits
        base_logits = load(base_dir)[0].eval()(**batch).logits
    assert not torch.allclose(trained, base_logits, atol=1e-3)  # training changed the model
    save(model, trainer.processing_class, tmp_path / "sft")
    reloaded = PeftModel.from_pretrained(load(base_dir)[0], tmp_path / "sft" / ADAPTER).eval()
    merged = load(tmp_path / "sft")[0].eval()
    with torch.no_grad():
        assert torch.equal(reloaded(**batch).logits, trained)
        # merging rounds W + BA in fp32: the logits agree to ~1e-5 of their scale, not bit for bit
        error = (merged(**batch).logits - trained).abs().max()
        assert error <= 1e-4 * trained.abs().max(), (error, trained.abs().max())


RESUMABLE = with_train(max_steps=4, save_steps=2)


@pytest.fixture(scope="module")
def straight(base_dir, grpo_dir, tmp_path_factory):
    """One uninterrupted run the resumed ones must match: (its summary, its directory)."""
    root = tmp_path_factory.mktemp("straight")
    summary = run(RESUMABLE, base_dir, grpo_dir, root / "sft", root / "work", root / "live", None)
    return summary, root


def assert_same_adapter(a_dir, b_dir):
    a = load_file(a_dir / ADAPTER / "adapter_model.safetensors")
    b = load_file(b_dir / ADAPTER / "adapter_model.safetensors")
    assert a.keys() == b.keys() and any(".visual." in k for k in a)
    for key in a:
        assert torch.allclose(a[key], b[key], atol=1e-6), key


def test_a_killed_run_resumes_to_the_same_adapter(base_dir, grpo_dir, straight, tmp_path, caplog):
    params = RESUMABLE
    straight, root = straight

    dirs = (tmp_path / "resumed", tmp_path / "work-b", tmp_path / "live-b")
    with pytest.raises(Killed):
        run(params, base_dir, grpo_dir, *dirs, None, [KillAt(3)])
    assert not (tmp_path / "resumed").exists()  # nothing half-written
    with caplog.at_level(logging.INFO, logger="chimera.sft"):
        summary = run(params, base_dir, grpo_dir, *dirs, tmp_path / "summary.json")
    assert "resuming from" in caplog.text and "checkpoint-2" in caplog.text
    assert summary["steps"] == 4
    assert json.loads((tmp_path / "summary.json").read_text()) == summary
    # the loss over all four steps, not only the two run after the resume
    assert summary["train_loss"] == pytest.approx(straight["train_loss"], rel=1e-5)
    assert_same_adapter(root / "sft", tmp_path / "resumed")
    assert not any((tmp_path / "work-b").iterdir())  # checkpoints are removed after success
    # the loss curve of the resumed run is the uninterrupted one, step for step
    curve_a = (root / "live/plots/metrics/loss.tsv").read_text().split("\n")
    curve_b = (tmp_path / "live-b/plots/metrics/loss.tsv").read_text().split("\n")
    assert [line.split("\t")[0] for line in curve_a if line] == ["step", "1", "2", "3", "4"]
    assert curve_b == curve_a


def test_a_checkpoint_is_only_resumed_by_the_same_configuration(base_dir, grpo_dir):
    train = grpo_dir / "train.jsonl"
    same = checkpoint_key(with_train(max_steps=4), train, base_dir)
    assert same == checkpoint_key(with_train(max_steps=4), train, base_dir)
    assert same != checkpoint_key(with_train(max_steps=5), train, base_dir)
    assert same != checkpoint_key(with_train(max_steps=4, learning_rate=0.5), train, base_dir)


def _checkpoint(directory, step, complete=True):
    path = directory / f"checkpoint-{step}"
    path.mkdir(parents=True)
    (path / "model.safetensors").write_bytes(b"weights")
    if complete:  # transformers writes the trainer state last
        (path / "trainer_state.json").write_text(json.dumps({"global_step": step}))
    return path


def test_an_incomplete_checkpoint_is_moved_aside_and_the_previous_one_resumed(tmp_path, caplog):
    good = _checkpoint(tmp_path, 2)
    _checkpoint(tmp_path, 4, complete=False)  # killed while saving
    cut = _checkpoint(tmp_path, 6)
    (cut / "trainer_state.json").write_text('{"global_st')  # killed while writing the state itself
    with caplog.at_level(logging.WARNING, logger="chimera.training"):
        assert resume_point(tmp_path) == good
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "checkpoint-2", "incomplete-checkpoint-4", "incomplete-checkpoint-6"
    ]  # fmt: skip
    assert "checkpoint-4: incomplete checkpoint" in caplog.text and "checkpoint-6" in caplog.text
    _checkpoint(tmp_path, 4, complete=False)  # the same step cut short again: nothing is overwritten
    assert resume_point(tmp_path) == good and (tmp_path / "incomplete-checkpoint-4-1").is_dir()


def test_a_kill_while_saving_does_not_block_the_next_run(base_dir, grpo_dir, tmp_path, caplog):
    """Only an incomplete checkpoint: start from scratch (not 'Can't find a valid checkpoint')."""
    params = with_train(max_steps=2, save_steps=2)
    work = tmp_path / "work"
    _checkpoint(work / checkpoint_key(params, grpo_dir / "train.jsonl", base_dir), 2, complete=False)
    with caplog.at_level(logging.INFO):
        summary = run(params, base_dir, grpo_dir, tmp_path / "sft", work, None, None)
    assert summary["steps"] == 2 and "resuming from" not in caplog.text
    assert "incomplete checkpoint" in caplog.text and (tmp_path / "sft" / ADAPTER).is_dir()


def test_a_run_killed_while_saving_resumes_from_the_previous_checkpoint(
    base_dir, grpo_dir, straight, tmp_path, caplog
):
    """The last checkpoint lost its trainer state (the kill came mid-save): it is moved aside, the one
    before is resumed, and adapter and loss still equal the uninterrupted run's."""
    straight, root = straight
    params = with_train(max_steps=4, save_steps=1)  # checkpoints 1 and 2 before the kill at 3
    work = tmp_path / "work"
    with pytest.raises(Killed):
        run(params, base_dir, grpo_dir, tmp_path / "sft", work, None, None, [KillAt(3)])
    checkpoints = work / checkpoint_key(params, grpo_dir / "train.jsonl", base_dir)
    assert sorted(p.name for p in checkpoints.glob("checkpoint-*")) == ["checkpoint-1", "checkpoint-2"]
    (checkpoints / "checkpoint-2" / "trainer_state.json").unlink()
    with caplog.at_level(logging.INFO):
        summary = run(params, base_dir, grpo_dir, tmp_path / "sft", work, None, None)
    assert "checkpoint-2: incomplete checkpoint" in caplog.text
    assert "resuming from" in caplog.text and "checkpoint-1" in caplog.text
    assert summary["steps"] == 4
    assert summary["train_loss"] == pytest.approx(straight["train_loss"], rel=1e-5)
    assert_same_adapter(root / "sft", tmp_path / "sft")
