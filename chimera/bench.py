"""``make bench``: speed and memory of the pipeline's parts, measured side by side in one run.

Numbers are ratios against game time or against each other, taken on this machine in this process, so
they compare across runs only as ratios. Tests never depend on them.
"""

from __future__ import annotations

import contextlib
import copy
import os
import resource
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from chimera.config import load_params
from chimera.ingest import write_match
from chimera.sim.match import MatchSimulator, rollout
from chimera.sim.recorder import NullRecorder
from chimera.sim.round import RoundEngine
from chimera.tables import TICK_RATE


def _timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def main() -> None:
    everything = load_params()
    params = everything.ingest
    spec, sim_params = params.sim.matches[0], params.sim
    console = Console()
    rows: list[tuple[str, str, str]] = []

    sim = MatchSimulator(spec, sim_params, seed="bench/0", snapshot_every=params.snapshot_every)
    match, wall = _timed(sim.run)
    game_s = match.header["playback_time"]
    rows.append(("simulate one match, recording tables", f"{wall:.2f} s", f"{game_s / wall:.0f}x real time"))

    def replay_silently() -> None:
        for start in sim.round_starts.values():
            RoundEngine(sim.graph, sim_params, copy.deepcopy(start), NullRecorder(), 10**9).run()

    _, silent = _timed(replay_silently)
    rows.append(
        (
            "replay the same rounds without recording",
            f"{silent:.2f} s",
            f"recording costs {wall / silent:.1f}x",
        )
    )

    with tempfile.TemporaryDirectory() as tmp:
        _, write = _timed(lambda: write_match(Path(tmp) / "m", match))
    rows.append(("write its Parquet tables", f"{write:.2f} s", f"{write / wall:.2f}x of simulating"))

    r = match.tables["rounds"].row(5, named=True)
    snap = sim.snapshot(r["round_num"], r["freeze_end_tick"] + 15 * TICK_RATE)
    n = 50
    _, roll = _timed(lambda: [rollout(sim.graph, sim_params, snap, seed=s) for s in range(n)])
    rows.append(
        ("counterfactual rollouts from mid-round", f"{roll / n * 1000:.1f} ms each", f"{n / roll:.0f} per s")
    )
    rows += _oracle_rows(everything, sim, snap, n / roll)

    rows += _video_rows(everything)
    rows += _model_rows(everything)

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows.append(("peak resident memory of this run", f"{peak_mb:.0f} MB", ""))

    table = Table(title="chimera bench")
    for col in ("what", "time", "ratio"):
        table.add_column(col)
    for row in rows:
        table.add_row(*row)
    console.print(table)


def _oracle_rows(params, sim, snap, one_core: float) -> list[tuple[str, str, str]]:
    """The oracle's rollouts on ``counterfactual.workers`` processes, and what one frame of it costs."""
    from chimera.counterfactual import play_frame
    from chimera.runtime import process_pool

    cf = params.counterfactual
    steamid = next(p.steamid for p in snap.players if p.alive)
    task = {
        "snapshot": snap,
        "sim": sim.params,
        "map": sim.graph.name,
        "steamid": steamid,
        "side": snap.player(steamid).side,
        "seed": "bench",
        "rollouts": 8,
        "force_s": cf.force_s,
    }
    with process_pool(cf.workers) as pool:
        list(pool.map(play_frame, [{**task, "rollouts": 1}] * cf.workers))  # start-up is not rollout time
        played, wall = _timed(lambda: list(pool.map(play_frame, [task] * (2 * cf.workers))))
    rate = sum(p["rollouts"] for p in played) / wall
    columns = len(played[0]["columns"])
    return [
        (
            f"oracle rollouts on {cf.workers} processes",
            f"{rate:.0f} per s",
            f"{rate / one_core:.2f}x one core",
        ),
        (
            "one oracle frame: actions x N",
            f"{columns} x {cf.rollouts} = {columns * cf.rollouts}",
            f"~{columns * cf.rollouts / rate:.1f} s",
        ),
    ]


def _video_rows(params) -> list[tuple[str, str, str]]:
    """Renderer fps, and sync vs plain decoding vs scenedetect on one 720p H.264 video (one round)."""
    import av
    from scenedetect import ContentDetector, detect

    from chimera.broadcast.render import render_match
    from chimera.sync.run import sync_video

    rows = []
    parsed = (
        sorted(p for p in Path("data/parsed").iterdir() if p.is_dir()) if Path("data/parsed").is_dir() else []
    )
    if not parsed:
        return [("video benchmarks", "skipped", "run `make repro` first (needs data/parsed)")]
    render = params.render.model_copy(
        update={"rounds": [(1, 1)], "width": 1280, "height": 720, "fps": 30, "encoder_threads": 1}
    )
    with tempfile.TemporaryDirectory() as tmp:
        with _one_core():
            video, wall = _timed(
                lambda: render_match(
                    parsed[0], Path(tmp), render, params.ingest.sim.round_time_s, "bench", render.style_of(0)
                )
            )
        with av.open(str(video)) as c:
            frames, fps = c.streams.video[0].frames, float(c.streams.video[0].average_rate)
        seconds = frames / fps
        rows.append(
            (
                f"render 720p30 H.264 on one core (HUD, scene, x264 {render.preset})",
                f"{frames / wall:.0f} frames/s",
                f"{seconds / wall:.1f}x real time (goal 300 frames/s)",
            )
        )
        for preset in dict.fromkeys((render.preset, "veryfast")):
            with _one_core():
                rate = _encode_only(video, Path(tmp) / f"{preset}.mp4", preset, render.crf)
            rows.append((f"  x264 {preset} alone on those frames, one core", f"{rate:.0f} frames/s", ""))

        def decode() -> None:
            with av.open(str(video)) as c:
                c.streams.video[0].thread_type = "AUTO"
                for _ in c.decode(video=0):
                    pass

        _, wall = _timed(decode)
        rows.append(
            ("  plain PyAV decode of that video", f"{wall:.1f} s", f"{seconds / wall:.0f}x real time")
        )
        _, wall = _timed(lambda: detect(str(video), ContentDetector()))
        rows.append(
            ("  scenedetect.detect(ContentDetector)", f"{wall:.1f} s", f"{seconds / wall:.0f}x real time")
        )
        round_s = params.ingest.sim.round_time_s
        for decode in ("all", "keyframes"):
            sync = params.sync.model_copy(update={"decode": decode})
            result, wall = _timed(lambda s=sync: sync_video(video, parsed[0], s, round_s))
            share = result.scan.decoded / result.scan.frames
            rows.append(
                (
                    f"  sync, decode: {decode} (scan + OCR + fit; {share:.0%} of frames decoded)",
                    f"{wall:.1f} s",
                    f"{seconds / wall:.0f}x real time" + (" (goal 50x)" if decode == "keyframes" else ""),
                )
            )
    return rows


@contextlib.contextmanager
def _one_core():
    """Run the block on one CPU (the first this process may use), as SPEC §11's render target says."""
    allowed = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(allowed)})
    try:
        yield
    finally:
        os.sched_setaffinity(0, allowed)


def _encode_only(video: Path, out: Path, preset: str, crf: int) -> float:
    """Frames/s of x264 alone (one thread) re-encoding ``video``'s decoded I420 frames; decoding untimed."""
    import av

    spent, n = 0.0, 0
    with av.open(str(video)) as src, av.open(str(out), mode="w", format="mp4") as dst:
        fps = src.streams.video[0].average_rate
        stream = dst.add_stream("libx264", rate=fps)
        stream.width, stream.height = src.streams.video[0].width, src.streams.video[0].height
        stream.pix_fmt, stream.thread_count = "yuv420p", 1
        stream.options = {"preset": preset, "crf": str(crf), "g": str(2 * round(fps))}
        for frame in src.decode(video=0):
            frame.pts, frame.time_base = n, 1 / fps
            start = time.perf_counter()
            packets = stream.encode(frame)
            spent += time.perf_counter() - start
            for packet in packets:
                dst.mux(packet)
            n += 1
        start = time.perf_counter()
        packets = stream.encode()
        spent += time.perf_counter() - start
        for packet in packets:
            dst.mux(packet)
    return n / spent


def _model_rows(params) -> list[tuple[str, str, str]]:
    """SFT steps on the default model and data, and greedy evaluation of Models A and B."""
    import json

    from chimera.evaluate import Generator, open_image
    from chimera.models.directory import resolve
    from chimera.sft import build_trainer

    base, grpo = resolve(Path("models/base")), Path("data/grpo")  # a pointer to the shipped checkpoint
    if not (base / "config.json").exists() or not (grpo / "train.jsonl").exists():
        return [("model benchmarks", "skipped", "run `make repro` first (needs models/base, data/grpo)")]
    rows = []
    train = [json.loads(line) for line in (grpo / "train.jsonl").open()][:200]
    steps = 30
    sft = params.sft.model_copy(update={"max_steps": steps, "save_steps": 10**6, "warmup_steps": 0})
    with tempfile.TemporaryDirectory() as tmp:
        trainer = build_trainer(params.model_copy(update={"sft": sft}), base, train, Path(tmp))
        trainer.args.disable_tqdm = True
        metrics = trainer.train().metrics
    per_step = metrics["train_runtime"] / steps
    rows.append(
        (
            f"SFT step (batch {sft.batch_size}, LoRA both towers)",
            f"{per_step:.2f} s/step",
            f"{metrics['train_samples_per_second']:.1f} samples/s",
        )
    )
    rows.append(_grpo_row(params, base, train))
    test = [json.loads(line) for line in (grpo / "test.jsonl").open()][:16]
    images = [open_image(Path(r["image"])) for r in test]
    batch = params.evaluate.batch_size
    for name, directory in (("A", base), ("B", Path("models/sft"))):
        if not (directory / "config.json").exists():
            continue
        generator = Generator(directory, params.evaluate.max_new_tokens)
        _, wall = _timed(lambda g=generator: [g(images[i : i + batch]) for i in range(0, len(images), batch)])
        rows.append(
            (
                f"evaluate Model {name} (greedy, batch {batch})",
                f"{wall / len(images):.3f} s/sample",
                f"{len(images) / wall:.1f} samples/s",
            )
        )
    return rows


def _grpo_row(params, start: Path, train: list[dict]) -> tuple[str, str, str]:
    """One GRPO step (generation, reference and policy passes, backward) at G = 8 on two frames: TRL's
    stock trainer, :class:`chimera.vision_cache.CachedGRPOTrainer` with the vision cache alone, and with
    the shared prompt as well (:mod:`chimera.shared_prompt`); interleaved, the fastest of four tries each
    (this machine's step times vary by a third from try to try)."""
    import torch

    from chimera.grpo import build_trainer as grpo_trainer

    frames = [r for r in train if r["ground_truth"]["pro_action"] is not None][:2]
    g = 8
    paths = {"stock": (False, False), "vision cache": (True, False), "+ shared prompt": (True, True)}
    best: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in list(paths) * 4:
            cache, share = paths[name]
            grpo = params.grpo.model_copy(
                update={
                    "max_steps": 1,
                    "batch_size": 2 * g,
                    "num_generations": g,
                    "vision_cache": cache,
                    "share_prompt": share,
                }
            )
            trainer = grpo_trainer(params.model_copy(update={"grpo": grpo}), start, frames, Path(tmp) / name)
            trainer.current_gradient_accumulation_steps = 1  # set by Trainer's loop, not run here
            batch = [trainer.train_dataset[i] for i in [0] * g + [1] * g]
            torch.manual_seed(0)
            began = time.perf_counter()
            out = trainer._generate_and_score_completions(batch)
            trainer.compute_loss(trainer.model, out).backward()
            best[name] = min(best.get(name, float("inf")), time.perf_counter() - began)
    stock = best["stock"]
    return (
        f"GRPO step, G = {g}, 2 frames, {params.grpo.max_completion_length} tokens "
        "(stock / vision cache / + shared prompt)",
        " / ".join(f"{t:.2f}" for t in best.values()) + " s",
        " / ".join(f"{stock / best[n]:.2f}x" for n in list(paths)[1:]) + " faster",
    )


if __name__ == "__main__":
    main()
