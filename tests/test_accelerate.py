"""The ``sft`` stage runs under ``accelerate launch`` as dvc.yaml launches it (the CPU config: 2 processes
over gloo), the ``grpo`` stage under the DDP config told to use the CPU (GPUs on a real machine), and the
multi-GPU configs are valid accelerate configs."""

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
    cpu = load_config_from_file(str(REPO / "configs/accelerate/cpu.yaml"))
    ddp = load_config_from_file(str(REPO / "configs/accelerate/ddp.yaml"))
    fsdp = load_config_from_file(str(REPO / "configs/accelerate/fsdp.yaml"))
    assert cpu.distributed_type == "MULTI_CPU" and cpu.use_cpu and cpu.num_processes == 2
    assert ddp.distributed_type == "MULTI_GPU" and fsdp.distributed_type == "FSDP"
    stages = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]  # the default launches the CPU one
    assert "--config_file configs/accelerate/cpu.yaml stages/sft.py" in stages["sft"]["cmd"]
    assert "--config_file configs/accelerate/cpu.yaml stages/grpo.py" in stages["grpo"]["do"]["cmd"]
    assert fsdp.fsdp_config["fsdp_version"] == 2
    # the classes named for wrapping exist in this transformers
    from transformers.models.qwen3_vl import modeling_qwen3_vl

    for name in fsdp.fsdp_config["fsdp_transformer_layer_cls_to_wrap"].split(","):
        assert hasattr(modeling_qwen3_vl, name), name


def launch_stage(
    tmp_path, group: str, changes: dict, *script, config: str = "ddp.yaml"
) -> subprocess.CompletedProcess:
    """Run ``script`` (a stage and its arguments) under ``accelerate launch`` with ``config`` on 2 CPU
    processes (the GPU DDP config told to run on CPU), in a copy of the project whose
    ``params.yaml[group]`` has ``changes``."""
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params[group].update(changes)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    shipped = Path(params["model"]["base"])  # the project's own base, recorded by its relative path
    (tmp_path / shipped).parent.mkdir(parents=True)
    (tmp_path / shipped).symlink_to(REPO / shipped)
    prepare(load_params().model, tmp_path / "models" / "base")
    write_grpo_dir(tmp_path / "data" / "grpo", n_train=4, n_test=0)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1"}
    return subprocess.run(
        [
            sys.executable, "-m", "accelerate.commands.launch",
            "--config_file", str(REPO / "configs/accelerate" / config),
            *(["--cpu", "--num_processes", "2", "--mixed_precision", "no"] if config == "ddp.yaml" else []),
            str(REPO / script[0]), *script[1:],
        ],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def test_sft_stage_as_dvc_runs_it_on_two_cpu_processes(tmp_path):
    changes = {"max_steps": 2, "save_steps": 2, "batch_size": 1, "warmup_steps": 0}
    result = launch_stage(tmp_path, "sft", changes, "stages/sft.py", config="cpu.yaml")
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
