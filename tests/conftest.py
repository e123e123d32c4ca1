"""Fixtures several test modules share: the repository's params and a short simulated match."""

import pytest

from chimera.config import Params, load_params
from chimera.models.base import prepare
from chimera.sim.match import MatchSimulator
from chimera.tables import MatchTables


@pytest.fixture(scope="session")
def params() -> Params:
    return load_params()


@pytest.fixture(scope="session")
def short_match(params) -> MatchTables:
    """Four rounds of the first default match; this seed has plants, a defuse and an explosion."""
    sim = params.ingest.sim
    return MatchSimulator(sim.matches[0], sim.model_copy(update={"max_rounds": 4}), seed="gs/4").run()


@pytest.fixture(scope="session")
def base_dir(params, tmp_path_factory):
    """``models/base`` as the base stage writes it from the repository's params."""
    out = tmp_path_factory.mktemp("models") / "base"
    prepare(params.model, out)
    return out
