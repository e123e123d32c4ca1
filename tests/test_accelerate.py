"""The ``sft`` stage script runs unchanged under ``accelerate launch`` with the DDP config (2 CPU processes
over gloo here; GPUs on a real machine), and both multi-GPU configs are valid accelerate configs."""

import os
import subprocess
import sys
from pathlib import Path

import yaml
from accelerate.commands.config.config_args import load_config_from_file

from chimera.config import load_params
from chimera.models.base import prepare
from tests.grpofiles import write_grpo_dir

REPO = Path(__file__).resolve().parents[1]


def test_configs_load():
    ddp = load_config_from_file(str(REPO / "configs/accelerate/ddp.yaml"))
    fsdp = load_config_from_file(str(REPO / "configs/accelerate/fsdp.yaml"))
    assert ddp.distributed_type == "MULTI_GPU" and fsdp.distributed_type == "FSDP"
    assert fsdp.fsdp_config["fsdp_version"] == 2
    # the classes named for wrapping exist in this transformers
    from transformers.models.qwen3_vl import modeling_qwen3_vl

    for name in fsdp.fsdp_config["fsdp_transformer_layer_cls_to_wrap"].split(","):
        assert hasattr(modeling_qwen3_vl, name), name


def launch_stage(tmp_path, group: str, changes: dict, *script) -> subprocess.CompletedProcess:
    """Run ``script`` (a stage and its arguments) under ``accelerate launch`` with the DDP config on
    2 CPU processes, in a copy of the project whose ``params.yaml[group]`` has ``changes``."""
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params[group].update(changes)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    prepare(load_params().model, tmp_path / "models" / "base")
    write_grpo_dir(tmp_path / "data" / "grpo", n_train=4, n_test=0)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1"}
    return subprocess.run(
        [
            sys.executable, "-m", "accelerate.commands.launch",
            "--config_file", str(REPO / "configs/accelerate/ddp.yaml"),
            "--cpu", "--num_processes", "2", "--mixed_precision", "no",
            str(REPO / script[0]), *script[1:],
        ],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def test_sft_stage_under_accelerate_ddp_on_two_cpu_processes(tmp_path):
    changes = {"max_steps": 2, "save_steps": 2, "batch_size": 1, "warmup_steps": 0}
    result = launch_stage(tmp_path, "sft", changes, "stages/sft.py")
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "models/sft/adapter/adapter_model.safetensors").exists()
    assert (tmp_path / "models/sft/model.safetensors").exists()
    summary = yaml.safe_load((tmp_path / "metrics/sft/summary.json").read_text())
    assert summary["steps"] == 2


def test_grpo_stage_under_accelerate_ddp_on_two_cpu_processes(tmp_path):
    changes = {
        "max_steps": 1,
        "save_steps": 1,
        "batch_size": 2,
        "num_generations": 2,
        "max_completion_length": 16,
    }
    result = launch_stage(tmp_path, "grpo", changes, "stages/grpo.py", "D", "models/base")
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "models/grpo_D/adapter/adapter_model.safetensors").exists()
    summary = yaml.safe_load((tmp_path / "metrics/grpo_D/summary.json").read_text())
    assert summary["steps"] == 1
