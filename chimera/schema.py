"""The model-output contract: one pydantic schema and one robust parser.

The same models serve every stage that touches the model's JSON -- the prompt (via
`json_schema()`), the parser of generations, the reward functions, the renderer's ground truth
and evaluation -- so a field or vocabulary changes in exactly one place.  Other code iterates
the vocabularies through the tuple constants below instead of repeating the literals.

All models are strict (no "85" -> 85 or 85.0 -> 85 coercion) and forbid extra keys, because
the object is what a model must produce exactly; every field is required, nullable ones as null.
Weapon fields hold display names (see `chimera.names`) but are only validated as strings.

`parse_output` never raises: it finds the first complete JSON object in arbitrary generated
text and reports a short, field-named reason when there is none or it breaks the schema.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError

RoundPhase = Literal["freezetime", "playing", "post-plant", "round-over", "warmup"]
Side = Literal["T", "CT"]
UtilityItem = Literal["smoke", "flashbang", "he", "molotov", "incendiary", "decoy"]
BombStatus = Literal["carried", "dropped", "planted", "defused", "exploded"]
EconomyAssessment = Literal["full-buy", "half-buy", "force-buy", "eco", "save"]
RoundImportance = Literal["low", "medium", "high", "critical"]

ROUND_PHASES: tuple[str, ...] = get_args(RoundPhase)
SIDES: tuple[str, ...] = get_args(Side)
UTILITY_ITEMS: tuple[str, ...] = get_args(UtilityItem)
BOMB_STATUSES: tuple[str, ...] = get_args(BombStatus)
ECONOMY_ASSESSMENTS: tuple[str, ...] = get_args(EconomyAssessment)
ROUND_IMPORTANCES: tuple[str, ...] = get_args(RoundImportance)

_CONFIG = ConfigDict(extra="forbid", strict=True)


class GameState(BaseModel):
    """What is on screen: the facts a renderer knows and a reward can check."""

    model_config = _CONFIG

    map_name: str = Field(description="Map, e.g. de_mirage")
    round_phase: RoundPhase
    player_side: Side
    player_health: int = Field(ge=0, le=100)
    player_armor: int = Field(ge=0, le=100)
    player_money: int = Field(ge=0)
    team_money_total: int | None = Field(ge=0, description="Null when not visible")
    weapon_primary: str | None = Field(description="Display name, e.g. AK-47")
    weapon_secondary: str | None = Field(description="Display name, e.g. Glock-18")
    utility: list[UtilityItem] = Field(description="One entry per grenade carried")
    alive_teammates: int = Field(ge=0, le=4)
    alive_enemies: int = Field(ge=0, le=5)
    bomb_status: BombStatus | None
    site: str | None = Field(description="Place / callout name")
    visible_enemies: int | None = Field(ge=0)


class Analysis(BaseModel):
    """The model's reading of the situation."""

    model_config = _CONFIG

    situation_summary: str
    economy_assessment: EconomyAssessment
    round_importance: RoundImportance
    immediate_threats: list[str]
    opportunities: list[str]


class Advice(BaseModel):
    """What the player should do now."""

    model_config = _CONFIG

    primary_action: str
    reasoning: str
    fallback: str
    callout: str


class ModelOutput(BaseModel):
    """The whole object the model emits."""

    model_config = _CONFIG

    game_state: GameState
    analysis: Analysis
    advice: Advice

    @classmethod
    def example(cls) -> ModelOutput:
        """A valid, realistic instance: documentation for prompts and a fixture for tests."""
        return cls(
            game_state=GameState(
                map_name="de_mirage",
                round_phase="playing",
                player_side="CT",
                player_health=87,
                player_armor=100,
                player_money=3250,
                team_money_total=14800,
                weapon_primary="M4A1-S",
                weapon_secondary="USP-S",
                utility=["smoke", "flashbang", "incendiary"],
                alive_teammates=4,
                alive_enemies=5,
                bomb_status="carried",
                site="Connector",
                visible_enemies=0,
            ),
            analysis=Analysis(
                situation_summary="Full buy 5v5 early in the round; T side has shown nothing yet.",
                economy_assessment="full-buy",
                round_importance="medium",
                immediate_threats=["Mid push through window", "Short A lurker"],
                opportunities=["Smoke window to cut mid control"],
            ),
            advice=Advice(
                primary_action="Smoke top mid and hold connector from jungle",
                reasoning="Denying mid control stops the split onto A before it starts.",
                fallback="If mid is taken, fall back to A site and play for the retake.",
                callout="Smoking window, holding connector",
            ),
        )


GAME_STATE_FIELDS: tuple[str, ...] = tuple(GameState.model_fields)


def json_schema() -> dict[str, Any]:
    """The JSON schema of `ModelOutput`, for prompts and constrained decoding."""
    return ModelOutput.model_json_schema()


@dataclass(frozen=True, slots=True)
class ParseResult:
    """Outcome of `parse_output`: `data` is the first JSON object found even when invalid."""

    output: ModelOutput | None
    data: dict[str, Any] | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.output is not None


# Only a '{' followed by '"' or '}' is decoded, and a real generation has at most a handful of
# those before its object; capping failed decodes keeps adversarial text (e.g. 100k of '{"')
# linear, because each failed decode costs O(position) to build its error message.
_MAX_FAILED_ATTEMPTS = 64
_JSON_WHITESPACE = " \t\n\r"
_DECODER = json.JSONDecoder()


def _could_open_object(text: str, start: int) -> bool:
    """A '{' can only start an object if the next non-blank character is '"' or '}'."""
    end = len(text)
    pos = start + 1
    while pos < end and text[pos] in _JSON_WHITESPACE:
        pos += 1
    return pos < end and text[pos] in '"}'


def _find_object(text: str) -> tuple[dict[str, Any] | None, str | None]:
    """The first complete top-level JSON object in `text`, else the most informative error.

    Candidates inside the span a failed decode already read are nested in broken JSON, not
    top-level objects, so they are skipped: a truncated answer reports "invalid JSON" instead of
    returning one of its complete sub-objects.
    """
    best_error: tuple[int, str] | None = None
    failures = 0
    start = text.find("{")
    while start != -1 and failures < _MAX_FAILED_ATTEMPTS:
        if not _could_open_object(text, start):
            start = text.find("{", start + 1)
            continue
        try:
            obj, _ = _DECODER.raw_decode(text, start)
            return obj, None
        except json.JSONDecodeError as exc:
            reached, reason = exc.pos, f"{exc.msg} (char {exc.pos})"
        except (ValueError, RecursionError) as exc:
            reached, reason = start, str(exc) or type(exc).__name__
        failures += 1
        if best_error is None or reached > best_error[0]:
            best_error = (reached, reason)
        start = text.find("{", max(reached, start + 1))
    if best_error is None:
        return None, "no JSON object found"
    return None, f"invalid JSON: {best_error[1]}"


def _format_errors(exc: ValidationError) -> str:
    """'schema: game_state.player_health: Input should be ...', first three errors."""
    parts = []
    for err in exc.errors()[:3]:
        path = ".".join(str(p) for p in err["loc"]) or "(root)"
        parts.append(f"{path}: {err['msg']}")
    more = exc.error_count() - len(parts)
    suffix = f" (+{more} more)" if more > 0 else ""
    return "schema: " + "; ".join(parts) + suffix


def parse_output(text: object) -> ParseResult:
    """Parse a generation into a `ModelOutput`; never raises, whatever `text` is."""
    if not isinstance(text, str):
        return ParseResult(None, None, f"expected str, got {type(text).__name__}")
    data, error = _find_object(text)
    if data is None:
        return ParseResult(None, None, error)
    try:
        return ParseResult(ModelOutput.model_validate(data), data, None)
    except ValidationError as exc:
        return ParseResult(None, data, _format_errors(exc))
