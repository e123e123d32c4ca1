"""The ``ingest`` stage: match tables from real demos (awpy) or from the simulator, validated and written.

Output, per match, ``data/parsed/<match>/{<table>.parquet, header.json}`` in awpy's schema. The whole
``data/parsed`` directory is built in a temporary sibling and swapped in at the end, so an interrupted
run never leaves a half-written match behind. A bad demo is logged with its file name and skipped;
the stage fails only when no match could be produced, or when a produced match breaks an invariant.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from tqdm import tqdm

from chimera import matchstats
from chimera.config import IngestParams
from chimera.demos import DemoError, parse_demo
from chimera.errors import ChimeraError
from chimera.io import atomic_path, write_json
from chimera.tables import MatchTables, conform
from chimera.validate import check_tables

log = logging.getLogger(__name__)


class IngestError(ChimeraError):
    """The stage produced nothing usable, or produced tables that break the game's invariants."""


def simulate(params: IngestParams) -> list[MatchTables]:
    """Every match listed in ``ingest.sim.matches``, each seeded from ``ingest.sim.seed`` and its index."""
    from chimera.sim.match import MatchSimulator  # the real-demo path never loads the simulator

    sim = params.sim
    matches = []
    for i, spec in enumerate(tqdm(sim.matches, desc="simulating matches", unit="match")):
        matches.append(
            MatchSimulator(spec, sim, seed=f"{sim.seed}/{i}", snapshot_every=params.snapshot_every).run()
        )
    return matches


def parse_demos(params: IngestParams) -> list[MatchTables]:
    """Every ``*.dem`` (or ``*.DEM``) in ``ingest.demos.dir`` through awpy; bad files are skipped."""
    folder = Path(params.demos.dir)
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".dem") if folder.is_dir() else []
    if not files:
        raise IngestError(f"{params.demos.dir}: no .dem files to ingest (ingest.source is 'demos')")
    matches, failures = [], []
    for path in tqdm(files, desc="parsing demos", unit="demo"):
        try:
            match = parse_demo(path, params.snapshot_every, params.demos.place_property)
            if match.tables["rounds"].height == 0:
                raise DemoError(f"{path}: the demo has no rounds (empty, or warm-up only)")
            matches.append(match)
        except DemoError as err:
            log.error("skipping %s", err)
            failures.append(str(err))
    if not matches:
        raise IngestError(
            f"none of the {len(files)} demos in {params.demos.dir} could be parsed:\n" + "\n".join(failures)
        )
    return matches


def write_match(directory: Path, match: MatchTables) -> None:
    """One match's tables (schema-checked) and header into ``directory``."""
    directory.mkdir(parents=True)
    for name, df in match.tables.items():
        conform(name, df, match.match_id).write_parquet(directory / f"{name}.parquet", compression="zstd")
    (directory / "header.json").write_text(
        json.dumps(match.header, indent=2, sort_keys=True, default=str) + "\n"
    )


def run(params: IngestParams, out_dir: Path, metrics_path: Path) -> list[MatchTables]:
    """Produce, validate and write every match; write the plausibility report to ``metrics_path``."""
    matches = simulate(params) if params.source == "sim" else parse_demos(params)
    ids = [m.match_id for m in matches]
    if len(set(ids)) != len(ids):
        raise IngestError(f"two matches would be written to the same directory: {sorted(ids)}")
    problems = [f"{m.match_id}: {v}" for m in matches for v in check_tables(m.tables)]
    if problems:
        raise IngestError("parsed tables break game invariants:\n  " + "\n  ".join(problems))
    with atomic_path(out_dir) as tmp:
        tmp.mkdir()
        for match in matches:
            write_match(tmp / match.match_id, match)
    write_json(metrics_path, report(matches, params))
    log.info("ingest: wrote %d matches to %s", len(matches), out_dir)
    return matches


def report(matches: list[MatchTables], params: IngestParams) -> dict:
    """Per-map and overall match statistics next to the pro reference values from params."""
    by_map: dict[str, list[dict]] = {}
    for m in matches:
        by_map.setdefault(m.header["map_name"], []).append(matchstats.match_stats(m.tables))
    every = [s for stats in by_map.values() for s in stats]
    overall = matchstats.pool(every)
    return {
        "source": params.source,
        "overall": overall,
        "per_map": {name: matchstats.pool(stats) for name, stats in sorted(by_map.items())},
        "reference": matchstats.compare(overall, params.sim.reference),
    }
