"""Typed view of ``params.yaml``.

Every stage reads its knobs through :func:`load_params`, never from the raw YAML, so that a typo
(``ingest.sourc``) or an out-of-range value (``snapshot_every: 0``) fails loudly with the key's dotted
path instead of silently falling back to a default. Models mirror the file: one group per stage.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from chimera.sim.maps import MAPS

DEFAULT_PARAMS = Path("params.yaml")


class Strict(BaseModel):
    """Base for every params group: unknown keys are errors, values are validated on assignment."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class DemosParams(Strict):
    dir: Path = Path("data/raw/demos")
    place_property: str = Field("m_szLastPlaceName", min_length=1)


class MatchSpec(Strict):
    map: str
    teams: tuple[str, str]

    @field_validator("map")
    @classmethod
    def _known_map(cls, name: str) -> str:
        if name not in MAPS:
            raise ValueError(f"unknown map {name!r}; the simulator has {sorted(MAPS)}")
        return name

    @model_validator(mode="after")
    def _distinct_teams(self) -> MatchSpec:
        if self.teams[0] == self.teams[1]:
            raise ValueError(f"a match needs two different teams, got {self.teams[0]!r} twice")
        return self


class EconomyParams(Strict):
    start_money: int = Field(800, ge=0)
    max_money: int = Field(16000, gt=0)
    overtime_money: int = Field(10000, ge=0)
    win_reward: int = Field(3250, ge=0)
    objective_win_reward: int = Field(3500, ge=0)
    loss_bonus: tuple[int, ...] = Field((1400, 1900, 2400, 2900, 3400), min_length=1)
    plant_reward: int = Field(300, ge=0)
    defuse_reward: int = Field(300, ge=0)
    t_planted_loss_bonus: int = Field(800, ge=0)


class Reference(Strict):
    value: float
    tolerance: float = Field(gt=0)


class SimParams(Strict):
    seed: int = Field(ge=0)
    matches: tuple[MatchSpec, ...] = Field(min_length=1)
    max_rounds: int = Field(24, ge=2, le=60, multiple_of=2)
    overtime_rounds: int = Field(6, ge=2, multiple_of=2)
    max_overtimes: int = Field(2, ge=0)
    freeze_time_s: float = Field(15, ge=0, le=60)
    round_time_s: float = Field(115, gt=10, le=600)
    bomb_timer_s: float = Field(40, gt=0, le=120)
    round_restart_delay_s: float = Field(7, ge=0, le=30)
    plant_time_s: float = Field(3.2, gt=0, le=10)
    defuse_time_s: float = Field(10, gt=0, le=20)
    defuse_kit_time_s: float = Field(5, gt=0, le=20)
    step_ticks: int = Field(4, ge=1, le=32)
    decision_noise: float = Field(0.35, gt=0, le=5)
    economy: EconomyParams = EconomyParams()
    reference: dict[str, Reference] = Field(default_factory=dict)


class IngestParams(Strict):
    source: Literal["sim", "demos"] = "sim"
    snapshot_every: int = Field(8, ge=1, le=640)
    demos: DemosParams = DemosParams()
    sim: SimParams

    @model_validator(mode="after")
    def _snapshots_on_the_step_grid(self) -> IngestParams:
        if self.snapshot_every % self.sim.step_ticks:
            raise ValueError(
                f"snapshot_every ({self.snapshot_every}) must be a multiple of sim.step_ticks "
                f"({self.sim.step_ticks}): the simulator's snapshots are taken between steps"
            )
        return self


class PauseParams(Strict):
    round_index: int | None = Field(1, ge=0)  # which rendered round (0 = first) has a tactical timeout
    after_s: float = Field(4, ge=0)  # seconds into that round's freeze time
    duration_s: float = Field(20, gt=0)


class ReplayParams(Strict):
    after_round_indices: tuple[int, ...] = (0, 2)  # rendered rounds followed by an instant replay
    duration_s: float = Field(4, gt=0, le=4.5)  # fits in the 7 s between rounds, after 2 s of live play


class RenderParams(Strict):
    seed: int = Field(ge=0)
    width: int = Field(1280, ge=320, le=3840, multiple_of=2)
    height: int = Field(720, ge=180, le=2160, multiple_of=2)
    fps: int = Field(30, ge=5, le=60)
    first_round: int = Field(1, ge=1)
    round_count: int = Field(4, ge=1)
    preset: Literal["ultrafast", "superfast", "veryfast", "faster", "fast", "medium"] = "veryfast"
    crf: int = Field(23, ge=0, le=51)
    encoder_threads: int = Field(1, ge=0, le=16)  # 0 = let x264 choose; 1 keeps parallel matches fair
    workers: int = Field(2, ge=1, le=16)  # matches rendered in parallel
    start_delay_s: tuple[float, float] = (8.0, 20.0)  # the hidden offset is drawn from this range
    drift_ppm: float = Field(150.0, ge=-5000, le=5000)  # broadcast clock vs server clock
    observer_shot_s: tuple[float, float] = (4.0, 9.0)
    degraded_share: float = Field(0.25, ge=0, le=1)  # shots with JPEG artefacts or blur
    pause: PauseParams = PauseParams()
    replay: ReplayParams = ReplayParams()


def _check_box(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = box
    if not (0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1):
        raise ValueError(f"crop {list(box)} is not x0 < x1, y0 < y1 within 0..1")
    return box


Box = Annotated[tuple[float, float, float, float], AfterValidator(_check_box)]
"""A crop (x0, y0, x1, y1) in fractions of the frame."""


class SyncParams(Strict):
    vod_dir: Path = Path("data/raw/vods")
    ocr_engine: Literal["tesserocr", "pytesseract"] = "tesserocr"
    tessdata: Path = Path("/usr/share/tesseract-ocr/5/tessdata")
    timer_crop: Box  # (x0, y0, x1, y1) as fractions of the frame
    score_crops: tuple[Box, Box]
    upscale: int = Field(3, ge=1, le=8)
    ocr_fps: float = Field(5.0, gt=0, le=60)
    score_every_s: float = Field(5.0, gt=0)
    scene_every: int = Field(2, ge=1, le=30)
    scene_threshold: float = Field(27.0, gt=0)
    max_gap_s: float = Field(1.6, gt=1.0)  # a longer wait for the next tick of the clock ends a segment
    min_transitions: int = Field(3, ge=2)
    residual_threshold_ms: float = Field(60.0, gt=0)
    min_drift_span_s: float = Field(30.0, gt=0)
    max_extrapolate_s: float = Field(45.0, ge=0)  # after a plant or the round end (demo-explained stops)


class SplitParams(Strict):
    train: float = Field(0.8, gt=0, lt=1)
    val: float = Field(0.1, ge=0, lt=1)
    test: float = Field(0.1, gt=0, lt=1)

    @model_validator(mode="after")
    def _sums_to_one(self) -> SplitParams:
        if abs(self.train + self.val + self.test - 1) > 1e-9:
            raise ValueError(f"split fractions must sum to 1, got {self.train + self.val + self.test:g}")
        return self


class PairsParams(Strict):
    seed: int = Field(ge=0)
    fps: float = Field(1.0, gt=0, le=30)  # frames sampled per second of synced video
    stable_window_s: float = Field(0.25, ge=0)  # keep a frame only if its state is unchanged for +- this
    image_format: Literal["jpg", "png"] = "jpg"
    jpeg_quality: int = Field(92, ge=50, le=100)
    name_crop: Box  # the spectated player's name on the HUD (fractions of the frame)
    vitals_crop: Box  # health and armor
    money_crop: Box
    split: SplitParams = SplitParams()


class GrpoDataParams(Strict):
    window_s: float = Field(12.0, gt=0, le=60)  # lookahead window of the pro's behaviour (SPEC §7)
    move_threshold: float = Field(200.0, ge=0)  # units a distance must change to count as moving


class RewardWeights(Strict):
    percept: float = Field(0.20, ge=0)
    decision: float = Field(0.30, ge=0)
    outcome: float = Field(0.50, ge=0)


def _compiles(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as err:
        raise ValueError(f"not a regular expression: {err}") from None
    return pattern


class LoraParams(Strict):
    r: int = Field(16, ge=1, le=512)
    alpha: int = Field(32, ge=1)
    dropout: float = Field(0.05, ge=0, lt=1)
    targets: Annotated[str, AfterValidator(_compiles)]  # PEFT target_modules as a full-match regex
    modules_to_save: list[str] = []  # PEFT modules_to_save: trained in full next to the adapters


class TrainParams(Strict):
    """What TRL's trainers take from us (``SFTConfig`` / ``GRPOConfig``); the rest stays at TRL's defaults."""

    seed: int = Field(0, ge=0)
    max_steps: int = Field(300, ge=1)
    batch_size: int = Field(4, ge=1)  # per device
    grad_accum: int = Field(1, ge=1)
    learning_rate: float = Field(1e-3, gt=0, lt=1)
    warmup_steps: int = Field(0, ge=0)
    lr_scheduler: Literal["linear", "cosine", "constant", "constant_with_warmup"] = "cosine"
    save_steps: int = Field(50, ge=1)  # checkpoint every this many steps (a rerun resumes from the last)
    gradient_checkpointing: bool = False  # on for the 8B model on a GPU
    bf16: Literal["auto", True, False] = "auto"  # auto: bf16 where a GPU supports it, fp32 on CPU


class SftParams(TrainParams):
    lora: LoraParams  # vision and language linear layers (SPEC §9)


class GrpoParams(Strict):
    reward_weights: RewardWeights = RewardWeights()
    lora: LoraParams  # language layers only: the vision tower stays frozen in Phase 2


class EvaluateParams(Strict):
    seed: int = Field(0, ge=0)  # bootstrap resampling
    batch_size: int = Field(8, ge=1)
    max_new_tokens: int = Field(320, ge=16, le=8192)  # the §4 answer: ~210 tiny-tokenizer tokens
    compare: list[tuple[str, str]] = []  # paired differences first - second, by model name


class TinyModelParams(Strict):
    vocab_size: int = Field(4096, ge=512, le=65536)
    vision_depth: int = Field(1, ge=1, le=4)
    vision_hidden_size: int = Field(32, ge=16, multiple_of=2)
    vision_heads: int = Field(2, ge=1)
    text_hidden_size: int = Field(64, ge=32, multiple_of=16)
    text_layers: int = Field(2, ge=1, le=8)
    text_heads: int = Field(2, ge=1)
    text_kv_heads: int = Field(1, ge=1)


class ModelParams(Strict):
    base: str = (
        "tiny"  # "tiny", or a local directory holding a Qwen3-VL checkpoint (e.g. Qwen3-VL-8B-Instruct)
    )
    seed: int = Field(0, ge=0)
    max_image_tokens: int = Field(256, ge=16, le=16384)  # pixel budget: a 1280x720 frame -> <= this many
    tiny: TinyModelParams = TinyModelParams()


class Params(Strict):
    ingest: IngestParams
    render: RenderParams
    sync: SyncParams
    pairs: PairsParams
    grpo_data: GrpoDataParams
    model: ModelParams
    sft: SftParams
    grpo: GrpoParams
    evaluate: EvaluateParams


class ParamsError(ValueError):
    """A params file that cannot be used, with every offending key spelled out."""


def _describe(err: ValidationError, path: Path) -> str:
    lines = []
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"])
        what = "unknown key (typo?)" if e["type"] == "extra_forbidden" else e["msg"]
        lines.append(f"  {key}: {what}")
    return f"{path}: invalid params\n" + "\n".join(lines)


def parse_params(data: object, path: Path = DEFAULT_PARAMS) -> Params:
    """Validate an already-loaded mapping; errors name the file and every bad key."""
    try:
        return Params.model_validate(data)
    except ValidationError as err:
        raise ParamsError(_describe(err, path)) from None


def load_params(path: str | Path = DEFAULT_PARAMS) -> Params:
    """Load and validate ``params.yaml`` (or another file with the same layout)."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ParamsError(f"{path}: params file not found") from None
    except yaml.YAMLError as err:
        raise ParamsError(f"{path}: not valid YAML: {err}") from None
    return parse_params(data, path)
