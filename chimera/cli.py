"""The ``chimera`` command line: tools around the pipeline that a person runs by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from chimera.tables import TABLES
from chimera.validate import check_match_dir

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)


@app.callback()
def main() -> None:
    """Chimera: teach vision-language models to read and play Counter-Strike 2."""


@app.command()
def validate(
    path: Annotated[Path, typer.Argument(help="data/parsed, or one match directory")] = Path("data/parsed"),
) -> None:
    """Check parsed match tables against the game's invariants; exit 1 when any is broken."""
    if not path.is_dir():
        typer.echo(f"error: {path}: no such directory", err=True)
        raise typer.Exit(2)
    single = any((path / f"{t}.parquet").exists() for t in TABLES)
    matches = [path] if single else sorted(d for d in path.iterdir() if d.is_dir())
    if not matches:
        typer.echo(f"error: {path}: no match directories to validate", err=True)
        raise typer.Exit(2)
    broken = 0
    for match in matches:
        violations = check_match_dir(match)
        broken += bool(violations)
        typer.echo(f"{'FAIL' if violations else 'ok  '} {match}")
        for v in violations:
            typer.echo(f"     {v}")
    typer.echo(f"{len(matches) - broken} of {len(matches)} matches valid")
    raise typer.Exit(1 if broken else 0)


IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"}


def _frame_at(path: Path, at: float):
    """One BGR frame: the still itself, or the video's frame at ``at`` seconds; exits 2 when unreadable."""
    import av
    import cv2

    if path.suffix.lower() in IMAGE_SUFFIXES:
        image = cv2.imread(str(path))
        if image is None:
            typer.echo(f"error: {path}: not a readable image", err=True)
            raise typer.Exit(2)
        return image
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            container.seek(int(at / stream.time_base), stream=stream)
            frame = next(f for f in container.decode(stream) if f.time is None or f.time >= at)
            return frame.to_ndarray(format="bgr24")
    except (av.error.FFmpegError, StopIteration, IndexError, OSError) as err:
        typer.echo(f"error: {path}: cannot read a frame at {at} s ({err})", err=True)
        raise typer.Exit(2) from None


@app.command()
def crop(
    path: Annotated[Path, typer.Argument(help="a broadcast video, or a still screenshot (.png, .jpg)")],
    at: Annotated[float, typer.Option(help="seconds into the video (ignored for a still)")] = 60.0,
    find: Annotated[
        bool,
        typer.Option(help="find the timer: the top-band box that reads M:SS (and, in a video, counts down)"),
    ] = False,
    json_out: Annotated[
        bool, typer.Option("--json", help="print one JSON line: the box and its reads")
    ] = False,
    out: Annotated[Path | None, typer.Option(help="PNG to write (default: <path>.crop.png)")] = None,
) -> None:
    """Check sync's timer box on a real VOD or screenshot: outline it on one frame, print what OCR reads.

    With ``--find`` (or ``sync.timer_crop: auto``) the box is searched for instead of taken from params
    (see chimera.sync.locate; a video tries the known layouts' boxes first) and the layout it lies in is
    named; a new overlay's printed ``timer_crop`` goes into a new ``sync.layouts`` entry. A frame without
    a clock reads nothing.
    """
    import json

    import cv2

    from chimera.config import ParamsError, load_params
    from chimera.sync.locate import find_in_still, find_in_video
    from chimera.sync.ocr import Reader, crop_box
    from chimera.sync.scan import VideoError

    try:
        params = load_params()
    except ParamsError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    sync = params.sync
    timer = Reader(sync.ocr_engine, sync.tessdata, sync.upscale)
    image = _frame_at(path, at)
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if find or sync.timer_crop == "auto":
        if path.suffix.lower() in IMAGE_SUFFIXES:
            found = find_in_still(gray, timer)
        else:
            known = [layout.timer_crop for layout in sync.layouts.values()]
            try:
                found = find_in_video(
                    path, timer, sync.find_samples, round(params.ingest.sim.round_time_s), known
                )
            except VideoError as err:
                typer.echo(f"error: {err}", err=True)
                raise typer.Exit(2) from None
        box = found.box
    else:
        box = sync.timer_crop
        found = None
    layout = sync.layout_of(box) if box is not None else None
    h, w = gray.shape
    boxes = [(box, (0, 0, 255))] if box is not None else []
    if layout is not None:
        boxes += [(b, (0, 200, 0)) for b in sync.layouts[layout].score_crops]
    for (x0, y0, x1, y1), color in boxes:
        cv2.rectangle(image, (round(x0 * w), round(y0 * h)), (round(x1 * w), round(y1 * h)), color, 2)
    out = out or path.with_suffix(".crop.png")
    cv2.imwrite(str(out), image)
    reads = found.reads if found is not None else [timer.timer(crop_box(gray, box))]
    if json_out:
        record = found.as_json() if found is not None else {"timer_crop": list(box), "reads": reads}
        typer.echo(json.dumps({"path": str(path), **record, "layout": layout, "outlined": str(out)}))
    elif box is None:
        typer.echo(f"no round timer found in the top band of {path}  -> {out}")
    else:
        text = ", ".join(f"{s // 60}:{s % 60:02d}" if s is not None else "-" for s in reads)
        typer.echo(f"timer_crop: {[round(v, 4) for v in box]}  layout: {layout}  reads: {text}  -> {out}")
    raise typer.Exit(0 if box is not None else 1)


@app.command("check-model")
def check_model(
    config: Annotated[Path, typer.Argument(help="architecture config, e.g. configs/qwen3-vl-8b.json")],
) -> None:
    """Build the model on the meta device, apply the SFT and GRPO LoRA params, report coverage and memory."""
    from chimera.config import load_params
    from chimera.models.check import (
        COMPLETION_TOKENS,
        PROMPT_TOKENS,
        SEED_GENERATIONS,
        LoraCoverageError,
        check,
        grpo_memory,
    )

    try:
        total, reports = check(config, load_params())
    except (OSError, ValueError) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1 if isinstance(err, LoraCoverageError) else 2) from None
    typer.echo(f"{config}: {total / 1e9:.2f} B parameters (built on the meta device, no weights)")
    params = load_params()
    for r, lora in zip(reports, (params.sft.lora, params.grpo.lora), strict=True):
        typer.echo(
            f"  {r.name:5s} LoRA: {r.vision_modules} vision + {r.language_modules} language modules, "
            f"{r.trainable / 1e6:.1f} M trainable; ~{r.memory_gb:.1f} GB for weights (bf16) + LoRA "
            "optimizer state, before activations"
        )
        if lora.modules_to_save:
            typer.echo(f"        also trained in full (modules_to_save): {', '.join(lora.modules_to_save)}")
    memory = grpo_memory(config, reports[1], SEED_GENERATIONS, PROMPT_TOKENS, COMPLETION_TOKENS)
    typer.echo(
        f"  GRPO step at G = {memory.generations} (prompt {PROMPT_TOKENS} + completion "
        f"{COMPLETION_TOKENS} tokens): ~{memory.total:.1f} GB = {memory.weights_and_lora:.1f} weights + "
        f"max(KV cache {memory.kv_cache:.1f}, checkpointed activations {memory.activations:.1f} + logits "
        f"{memory.logits:.1f}); the seed budgets ~20 GB"
    )


@app.command()
def advise(
    image: Annotated[Path, typer.Argument(help="a broadcast screenshot (PNG or JPEG)")],
    model: Annotated[Path, typer.Option(help="a model directory (default: Model B)")] = Path("models/sft"),
    raw: Annotated[bool, typer.Option("--raw", help="print the model's text as generated")] = False,
    max_new_tokens: Annotated[int, typer.Option(help="generation budget")] = 512,
) -> None:
    """Print the model's §4 JSON for one screenshot. Exit 0: valid; 1: not valid JSON; 2: bad input."""
    import json

    from transformers.utils.logging import disable_progress_bar

    from chimera.evaluate import Generator, ImageError, open_image
    from chimera.models.directory import ModelDirError
    from chimera.schema import parse_output

    disable_progress_bar()
    try:
        frame = open_image(image)
        generator = Generator(model, max_new_tokens)
    except (ImageError, ModelDirError) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    text = generator([frame])[0]
    parsed = parse_output(text)
    if raw:
        typer.echo(text)
    elif parsed.ok:
        typer.echo(json.dumps(parsed.output.model_dump(), indent=2))
    if not parsed.ok:
        if not raw:
            typer.echo(text)
        typer.echo(f"error: the model's answer is not a valid §4 object: {parsed.error}", err=True)
        raise typer.Exit(1)
