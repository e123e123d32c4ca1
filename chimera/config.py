"""Typed view of ``params.yaml``: the types, bounds and one-line meaning of every knob.

``params.yaml`` is the one home of the values: no field here has a default, so a value can never
silently differ between the file and the code. Every stage reads its knobs through :func:`load_params`,
never from the raw YAML, so that a typo (``ingest.sourc``), a duplicated key, a value of the wrong type
(``batch_size: true``, ``max_steps: 10.0``) or an out-of-range one (``snapshot_every: 0``) fails loudly
with the key's dotted path instead of being coerced or ignored. Models mirror the file: one group per stage.
"""

from __future__ import annotations

import json
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

from chimera.errors import ChimeraError
from chimera.maps import MAPS
from chimera.schema import GAME_STATE_FIELDS

DEFAULT_PARAMS = Path("params.yaml")
RENDERED_VODS = Path("data/raw/vods")  # the render stage's output (dvc.yaml)


class Strict(BaseModel):
    """Base for every params group: unknown keys are errors, types are exact, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def _describe(text: str, **bounds) -> object:
    return Field(description=text, **bounds)


class DemosParams(Strict):
    dir: Path = _describe("the folder whose *.dem files ingest parses (source: demos)")
    place_property: str = _describe("engine property read for ticks.place (awpy Demo.ticks)", min_length=1)


class MatchSpec(Strict):
    map: str = _describe("a map the simulator has")
    teams: tuple[str, str] = _describe("the two teams; the first starts CT")

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
    start_money: int = _describe("money at the start of each half", ge=0)
    max_money: int = _describe("money cap", gt=0)
    overtime_money: int = _describe("money at the start of each overtime half", ge=0)
    win_reward: int = _describe("round win by eliminations or time", ge=0)
    objective_win_reward: int = _describe("round win by bomb explosion or defuse", ge=0)
    loss_bonus: tuple[int, ...] = _describe("loss bonus ladder, one entry per consecutive loss", min_length=1)
    plant_reward: int = _describe("team bonus for a plant", ge=0)
    defuse_reward: int = _describe("team bonus for a defuse", ge=0)
    t_planted_loss_bonus: int = _describe("extra for a losing T side that planted", ge=0)


class Reference(Strict):
    value: float = _describe("public pro aggregate")
    tolerance: float = _describe("how far the simulator may be from it", gt=0)


class SimParams(Strict):
    seed: int = _describe("seed of the simulated matches", ge=0)
    matches: tuple[MatchSpec, ...] = _describe("one simulated match per entry", min_length=1)
    max_rounds: int = _describe("regulation rounds (MR12: 24)", ge=2, le=60, multiple_of=2)
    overtime_rounds: int = _describe("rounds per overtime", ge=2, multiple_of=2)
    max_overtimes: int = _describe("overtimes before a draw is recorded", ge=0)
    freeze_time_s: float = _describe("freeze time", ge=0, le=60)
    round_time_s: float = _describe("round time (CS2: 1:55)", gt=10, le=600)
    bomb_timer_s: float = _describe("planted bomb timer", gt=0, le=120)
    round_restart_delay_s: float = _describe("time between a round's end and the next freeze", ge=0, le=30)
    plant_time_s: float = _describe("time to plant", gt=0, le=10)
    defuse_time_s: float = _describe("time to defuse without a kit", gt=0, le=20)
    defuse_kit_time_s: float = _describe("time to defuse with a kit", gt=0, le=20)
    step_ticks: int = _describe("simulation step in ticks (events keep exact ticks)", ge=1, le=32)
    decision_noise: float = _describe("softmax temperature of the players' action policy", gt=0, le=5)
    economy: EconomyParams
    reference: dict[str, Reference] = _describe("pro reference values metrics/sim.json is compared with")


class IngestParams(Strict):
    source: Literal["sim", "demos"] = _describe("sim: the embedded simulator | demos: demos.dir through awpy")
    snapshot_every: int = _describe("ticks between per-player rows in ticks.parquet", ge=1, le=640)
    demos: DemosParams
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
    round_index: int | None = _describe(
        "rendered round (0 = the first rendered round of the first block, counting on through all "
        "blocks in order) with a tactical timeout; null: none",
        ge=0,
    )
    after_s: float = _describe("seconds into that round's freeze time", ge=0)
    duration_s: float = _describe("length of the timeout", gt=0)


class ReplayParams(Strict):
    after_round_indices: tuple[int, ...] = _describe(
        "rendered rounds (indices as pause.round_index: 0 = first rendered, through all blocks) followed "
        "by an instant replay"
    )
    duration_s: float = _describe("replay length (fits in the 7 s between rounds)", gt=0, le=4.5)


def _check_block(block: tuple[int, int]) -> tuple[int, int]:
    first, last = block
    if first == 0 or last == 0:
        raise ValueError(f"round block {list(block)}: round numbers start at 1 (negative: from the last)")
    if (first > 0) == (last > 0) and first > last:
        raise ValueError(f"round block {list(block)} is not [first, last] with first <= last")
    return block


RoundBlock = Annotated[tuple[int, int], AfterValidator(_check_block)]
"""Inclusive [first, last] round numbers; negative ones count from the match's last round (-1 = last)."""


HudStyle = Literal["broadcast", "cs2"]
"""The HUD overlays the renderer draws (chimera.broadcast.hud.HUDS): a tournament broadcast's, CS2's own."""


class RenderParams(Strict):
    seed: int = _describe("seed of the broadcast realities (offset, director, degradations)", ge=0)
    hud_style: HudStyle | list[HudStyle] = _describe(
        "the HUD drawn: one style for every match, or a list cycled over the matches in name order"
    )
    width: int = _describe("video width", ge=320, le=3840, multiple_of=2)
    height: int = _describe("video height", ge=180, le=2160, multiple_of=2)
    fps: int = _describe("video frame rate", ge=5, le=60)
    rounds: list[RoundBlock] = _describe(
        "blocks of rendered rounds per match: inclusive [first, last] round numbers, a negative number "
        "counting from the match's last round (-1 = last); blocks are clipped to the match, overlaps "
        "merge, and the broadcast cuts away (a break) between two blocks",
        min_length=1,
    )
    break_s: float = _describe("length of the desk shot shown between two blocks (no HUD timer)", gt=0, le=60)
    preset: Literal["ultrafast", "superfast", "veryfast", "faster", "fast", "medium"] = _describe(
        "x264 preset"
    )
    crf: int = _describe("x264 constant rate factor", ge=0, le=51)
    encoder_threads: int = _describe("x264 threads (0: x264 chooses)", ge=0, le=16)
    workers: int = _describe("matches rendered in parallel processes", ge=1, le=16)
    start_delay_s: tuple[float, float] = _describe("range of the pre-show length (the offset sync recovers)")
    drift_ppm: float = _describe("broadcast clock against the server clock", ge=-5000, le=5000)
    observer_shot_s: tuple[float, float] = _describe("range of an observer shot's length")
    degraded_share: float = _describe("share of shots with JPEG artefacts or blur", ge=0, le=1)
    pause: PauseParams
    replay: ReplayParams

    @field_validator("hud_style")
    @classmethod
    def _some_style(cls, style: HudStyle | list[HudStyle]) -> HudStyle | list[HudStyle]:
        if isinstance(style, list) and not style:
            raise ValueError("an empty list of HUD styles: name at least one (broadcast, cs2)")
        return style

    def style_of(self, index: int) -> HudStyle:
        """The HUD style of the ``index``-th match in name order."""
        styles = self.hud_style if isinstance(self.hud_style, list) else [self.hud_style]
        return styles[index % len(styles)]


def _check_box(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = box
    if not (0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1):
        raise ValueError(f"crop {list(box)} is not x0 < x1, y0 < y1 within 0..1")
    return box


Box = Annotated[tuple[float, float, float, float], AfterValidator(_check_box)]


class SyncLayout(Strict):
    timer_crop: Box = _describe("the round timer")
    score_crops: tuple[Box, Box] = _describe("the two teams' round scores")


class PairsLayout(Strict):
    name_crop: Box = _describe("the spectated player's name")
    health_crop: Box = _describe("the spectated player's health (its last number is read)")
    armor_crop: Box = _describe("the spectated player's armour (its last number is read)")
    money_crop: Box = _describe("the spectated player's money ($ and digits)")


def _game_state_field(name: str) -> str:
    if name not in GAME_STATE_FIELDS:
        raise ValueError(f"{name!r} is not a game_state field (one of {', '.join(GAME_STATE_FIELDS)})")
    return name


GameStateField = Annotated[str, AfterValidator(_game_state_field)]
"""A crop (x0, y0, x1, y1) in fractions of the frame."""


class SyncParams(Strict):
    vod_dir: Path = _describe("broadcast VODs named <match>.mp4 (the rendered ones, or real ones)")
    ocr_engine: Literal["tesserocr", "pytesseract"] = _describe("Tesseract binding")
    tessdata: Path = _describe("Tesseract's tessdata folder")
    timer_crop: Literal["auto"] | Box = _describe(
        "the HUD round timer, fractions of the frame; auto: found per video (a known layout's box when "
        "one counts down, else the box chimera.sync.locate finds)"
    )
    layouts: dict[str, SyncLayout] = _describe("known HUD layouts: timer and score boxes", min_length=1)
    find_samples: int = _describe("moments of a video read to find its timer (auto)", ge=2, le=100)
    upscale: int = _describe("crop upscale before OCR", ge=1, le=8)
    decode: Literal["keyframes", "all"] = _describe(
        "keyframes: a coarse pass over the keyframes, then only the stretches the fit needs "
        "(chimera.sync.scan); all: every frame"
    )
    pin_every_s: float = _describe(
        "decode keyframes: seconds of running clock between two clock steps pinned to the frame", gt=0, le=30
    )
    ocr_fps: float = _describe("timer reads per second of video", gt=0, le=60)
    score_every_s: float = _describe("seconds of readable timer between score reads", gt=0)
    scene_every: int = _describe("frames between scenedetect ContentDetector inputs", ge=1, le=30)
    scene_threshold: float = _describe("scenedetect ContentDetector threshold", gt=0)
    max_gap_s: float = _describe("a longer wait for the next clock tick ends a segment", gt=1.0)
    min_transitions: int = _describe("clock steps a segment needs", ge=2)
    residual_threshold_ms: float = _describe("RANSAC inlier threshold", gt=0)
    min_drift_span_s: float = _describe("shorter continuous play stays out of the drift fit", gt=0)
    max_extrapolate_s: float = _describe("how far a segment continues past a demo-explained clock stop", ge=0)
    cut_blank_s: float = _describe(
        "game time may jump ahead of the video (an edited-out stretch, a break between blocks) only across "
        "at least this long with no timer digits and no bomb icon",
        gt=0,
    )
    workers: int = _describe("videos synced in parallel processes", ge=1, le=16)

    @model_validator(mode="after")
    def _fixed_box_in_a_layout(self) -> SyncParams:
        if self.timer_crop != "auto" and self.layout_of(self.timer_crop) is None:
            raise ValueError(
                f"timer_crop {list(self.timer_crop)} lies in none of the layouts' timer boxes "
                f"({', '.join(self.layouts)}): add its layout (score boxes) to sync.layouts, or use auto"
            )
        return self

    def layout_of(self, box: tuple[float, float, float, float]) -> str | None:
        """The layout whose timer box holds most of ``box`` (at least half); None when none does."""
        x0, y0, x1, y1 = box
        area = max((x1 - x0) * (y1 - y0), 1e-12)
        best, share = None, 0.5
        for name, layout in self.layouts.items():
            lx0, ly0, lx1, ly1 = layout.timer_crop
            inside = max(0.0, min(x1, lx1) - max(x0, lx0)) * max(0.0, min(y1, ly1) - max(y0, ly0)) / area
            if inside >= share:
                best, share = name, inside
        return best


class SplitParams(Strict):
    test_matches: list[str] = _describe(
        "held-out matches (data/parsed/<match> names): the whole test split, nothing of them is trained on",
        min_length=1,
    )
    val: float = _describe("share of the other matches' (match, round) groups for validation", ge=0, lt=1)


class PairsParams(Strict):
    seed: int = _describe("seed of the split", ge=0)
    fps: float = _describe("frames sampled per second of synced video", gt=0, le=30)
    stable_window_s: float = _describe("a frame is kept only if its state holds for +- this long", ge=0)
    image_format: Literal["jpg", "png"] = _describe("frame file format")
    jpeg_quality: int = _describe("JPEG quality of the frames", ge=50, le=100)
    layouts: dict[str, PairsLayout] = _describe(
        "the player panel's boxes per HUD layout, named as in sync.layouts (the one sync found is used)",
        min_length=1,
    )
    workers: int = _describe("videos paired in parallel processes", ge=1, le=16)
    not_shown: list[GameStateField] = _describe(
        "game_state fields the footage does not display: unknown in the truth, skipped by scoring (SPEC §5)"
    )
    split: SplitParams


class GrpoDataParams(Strict):
    window_s: float = _describe("lookahead window of the pro's behaviour (SPEC §7)", gt=0, le=60)
    move_threshold: float = _describe("units a distance must change to count as moving", ge=0)


class RewardWeights(Strict):
    percept: float = _describe("weight of R_percept", ge=0)
    decision: float = _describe("weight of R_decision", ge=0)
    outcome: float = _describe("weight of R_outcome", ge=0)


def _compiles(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as err:
        raise ValueError(f"not a regular expression: {err}") from None
    return pattern


class LoraParams(Strict):
    r: int = _describe("LoRA rank", ge=1, le=512)
    alpha: int = _describe("LoRA alpha", ge=1)
    dropout: float = _describe("LoRA dropout", ge=0, lt=1)
    targets: Annotated[str, AfterValidator(_compiles)] = _describe("PEFT target_modules, a full-match regex")
    modules_to_save: list[str] = _describe("PEFT modules_to_save: trained in full next to the adapters")


class TrainParams(Strict):
    """What TRL's trainers take from us (``SFTConfig`` / ``GRPOConfig``); the rest stays at TRL's defaults."""

    seed: int = _describe("seed of LoRA init, data order and dropout", ge=0)
    max_steps: int = _describe("optimizer steps", ge=1)
    batch_size: int = _describe("per-device batch size", ge=1)
    grad_accum: int = _describe("gradient accumulation steps", ge=1)
    learning_rate: float = _describe("peak learning rate", gt=0, lt=1)
    warmup_steps: int = _describe("linear warm-up steps", ge=0)
    lr_scheduler: Literal["linear", "cosine", "constant", "constant_with_warmup"] = _describe("LR schedule")
    save_steps: int = _describe("checkpoint every this many steps (a rerun resumes from the last)", ge=1)
    gradient_checkpointing: bool = _describe("activation checkpointing (on for the 8B model)")
    bf16: Literal["auto", True, False] = _describe("auto: bf16 where a GPU supports it, fp32 on CPU")

    @model_validator(mode="after")
    def _a_checkpoint_is_written(self) -> TrainParams:
        if self.save_steps > self.max_steps:
            raise ValueError(
                f"save_steps ({self.save_steps}) > max_steps ({self.max_steps}): no checkpoint would ever "
                "be written, so a killed run could not resume"
            )
        if self.warmup_steps > self.max_steps:
            raise ValueError(f"warmup_steps ({self.warmup_steps}) > max_steps ({self.max_steps})")
        return self


class SftParams(TrainParams):
    advice: Literal["situational", "pro"] = _describe(
        "advice in the targets: situational (the rule on the visible state, SPEC §9) | pro (what the pro "
        "did next: the behaviour-cloning arm)"
    )
    val_frames_per_round: int = _describe(
        "evenly spaced val frames per (match, round) whose loss is logged at every checkpoint", ge=1
    )
    lora: LoraParams = _describe("vision and language linear layers (SPEC §9)")


class GrpoParams(TrainParams):
    """TRL ``GRPOConfig`` knobs under TRL's own names where TRL has one (SPEC §8–§9)."""

    num_generations: int = _describe("G: completions per prompt (the seed's 16 on a GPU)", ge=2)
    temperature: float = _describe("sampling temperature of the completions", gt=0, le=4)
    max_completion_length: int = _describe("tokens per completion (the whole §4 answer must fit)", ge=16)
    loss_type: Literal["grpo", "dapo", "dr_grpo", "bnpo", "cispo", "sapo"] = _describe("TRL loss_type")
    scale_rewards: Literal["group", "batch", "none"] = _describe(
        "advantage scaling: group = the seed's (r - mean) / std per group; none lets phi scale the step"
    )
    num_iterations: int = _describe("optimisation passes per generation batch (TRL's mu)", ge=1)
    epsilon: float = _describe("PPO-style clipping range of the ratio", gt=0, lt=1)
    kl_coef: float = _describe("beta: KL to the reference (SFT for C, base for D), SPEC §8", ge=0)
    reward_variant: Literal["seed", "outcome_gated"] = _describe(
        "seed: the seed's total | outcome_gated: alignment pays only on rounds the pro won (SPEC §8)"
    )
    vision_cache: bool = _describe(
        "run the image processor and the frozen vision tower once per distinct frame (SPEC §11)"
    )
    disable_dropout: bool = _describe(
        "TRL's disable_dropout: sampling, reference and policy passes score one policy, not sub-networks"
    )
    share_prompt: bool = _describe(
        "forward each group's prompt once in generation and the log-prob passes (needs vision_cache)"
    )
    use_vllm: bool = _describe("generate with vLLM (GPU only; see README for the Qwen-VL caveats)")
    vllm_mode: Literal["colocate", "server"] = _describe("TRL vllm_mode when use_vllm is on")
    reward_weights: RewardWeights = _describe("SPEC §8 weights; the format gate multiplies their sum")
    lora: LoraParams = _describe("language layers only: the vision tower stays frozen in Phase 2")

    @model_validator(mode="after")
    def _whole_groups(self) -> GrpoParams:
        if (self.batch_size * self.grad_accum) % self.num_generations:
            raise ValueError(
                f"batch_size x grad_accum ({self.batch_size} x {self.grad_accum}) must be a multiple of "
                f"num_generations ({self.num_generations}): TRL's batch counts completions, whole groups"
            )
        if self.share_prompt and not self.vision_cache:
            raise ValueError("share_prompt extends the vision cache's trainer: it needs vision_cache: true")
        return self


class EvaluateParams(Strict):
    seed: int = _describe("seed of the cluster bootstrap and of the image-swapped control", ge=0)
    frames_per_round: int = _describe("evenly spaced test frames scored per (match, round)", ge=1)
    batch_size: int = _describe("generation batch size", ge=1)
    max_new_tokens: int = _describe("generation budget (the §4 answer must fit)", ge=16, le=8192)
    workers: int = _describe(
        "processes generating batches side by side, each with the model (1 on a GPU)", ge=1, le=16
    )
    compare: list[tuple[str, str]] = _describe("paired differences first - second, by model name")


class CounterfactualParams(Strict):
    """The simulator oracle (:mod:`chimera.counterfactual`, SPEC §13)."""

    seed: int = _describe("seed of the rollouts (the same seeds for every action of a frame)", ge=0)
    frames_per_round: int = _describe("decision frames per test round, among those evaluate scores", ge=1)
    rollouts: int = _describe("rollouts per legal action and frame (common random numbers)", ge=2)
    force_s: float = _describe("seconds the forced action is kept before the policy decides again", gt=0)
    workers: int = _describe("frames played out in parallel processes", ge=1, le=16)


class TinyModelParams(Strict):
    vocab_size: int = _describe("size of the locally trained BPE vocabulary", ge=512, le=65536)
    vision_depth: int = _describe("vision transformer blocks", ge=1, le=4)
    vision_hidden_size: int = _describe("vision width", ge=16, multiple_of=2)
    vision_heads: int = _describe("vision attention heads", ge=1)
    text_hidden_size: int = _describe("language model width", ge=32, multiple_of=16)
    text_layers: int = _describe("language model layers", ge=1, le=8)
    text_heads: int = _describe("language model attention heads", ge=1)
    text_kv_heads: int = _describe("language model key/value heads", ge=1)


class PretrainParams(Strict):
    """The tiny default's synthetic pretraining (:mod:`chimera.models.pretrain`, SPEC §9)."""

    seed: int = _describe("seed of the synthetic task stream and of the trainer", ge=0)
    steps: int = _describe("optimiser steps", ge=1)
    batch_size: int = _describe("samples per step", ge=1)
    learning_rate: float = _describe("peak AdamW learning rate (cosine schedule)", gt=0, le=1)
    warmup_steps: int = _describe("linear warm-up steps", ge=0)
    frame_share: float = _describe("share of 1280x720 frame tasks with the §4 JSON answer", ge=0, le=1)
    eval_every: int = _describe("held-out evaluation every this many steps", ge=1)
    eval_samples: int = _describe("held-out samples per task at each evaluation", ge=1)
    eval_frames: int = _describe("held-out frames generated at the end to score JSON validity", ge=0)


class ModelParams(Strict):
    base: str = _describe(
        "'tiny' (built here), or a local directory holding a Qwen3-VL checkpoint", min_length=1
    )
    seed: int = _describe("seed of the tiny model's init and tokenizer corpus", ge=0)
    max_image_tokens: int = _describe(
        "vision tokens per frame at most (the processor's pixel budget)", ge=16, le=16384
    )
    tiny: TinyModelParams
    pretrain: PretrainParams = _describe("synthetic pretraining of the tiny default")


class Params(Strict):
    ingest: IngestParams
    render: RenderParams
    sync: SyncParams
    pairs: PairsParams
    grpo_data: GrpoDataParams
    model: ModelParams
    sft: SftParams
    grpo: GrpoParams
    counterfactual: CounterfactualParams
    evaluate: EvaluateParams

    @model_validator(mode="after")
    def _real_broadcasts_outside_renders_output(self) -> Params:
        if self.ingest.source != "sim" and self.sync.vod_dir == RENDERED_VODS:
            raise ValueError(
                f"sync.vod_dir is {RENDERED_VODS}, the render stage's output, which DVC replaces on every "
                "run: with real demos put the real broadcasts in another folder (e.g. data/raw/broadcasts) "
                "and point sync.vod_dir there"
            )
        return self

    @model_validator(mode="after")
    def _a_panel_for_every_layout(self) -> Params:
        missing = sorted(set(self.sync.layouts) - set(self.pairs.layouts))
        if missing:
            raise ValueError(
                f"pairs.layouts has no player-panel boxes for the sync layouts {missing}: pairs could not "
                "read the HUD of a video sync finds in them"
            )
        return self


class ParamsError(ChimeraError, ValueError):
    """A params file that cannot be used, with every offending key spelled out on one line."""


def _explain(err: ValidationError, path: Path) -> str:
    problems = []
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"]) or "(top level)"
        what = {"extra_forbidden": "unknown key (typo?)", "missing": "missing"}.get(e["type"], e["msg"])
        problems.append(f"{key}: {what}")
    return f"{path}: invalid params: " + "; ".join(problems)


def parse_params(data: object, path: Path = DEFAULT_PARAMS) -> Params:
    """Validate an already-loaded mapping strictly (JSON types: no bool for int, no 10.0 for an int)."""
    try:
        return Params.model_validate_json(json.dumps(data, default=str))
    except ValidationError as err:
        raise ParamsError(_explain(err, path)) from None


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, except that a key given twice in one mapping is an error (YAML keeps the last)."""

    def construct_mapping(self, node, deep=False):
        seen: set = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"duplicate key {key!r} (line {key_node.start_mark.line + 1})",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: Path) -> object:
    """``path`` parsed with duplicate keys refused; errors name the file."""
    try:
        return yaml.load(path.read_text(), Loader=_UniqueKeyLoader)
    except FileNotFoundError:
        raise ParamsError(f"{path}: params file not found") from None
    except yaml.YAMLError as err:
        raise ParamsError(f"{path}: not valid YAML: {' '.join(str(err).split())}") from None


def load_params(path: str | Path = DEFAULT_PARAMS) -> Params:
    """Load and validate ``params.yaml`` (or another file with the same layout)."""
    path = Path(path)
    return parse_params(read_yaml(path), path)
