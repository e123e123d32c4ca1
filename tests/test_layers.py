"""Layers point down: the real-demo path (demos, tables, game state, sync, pairs) never loads the sim."""

import subprocess
import sys

import pytest

REAL_PATH = ["chimera.config", "chimera.ingest", "chimera.gamestate", "chimera.sync.run", "chimera.pairs"]


@pytest.mark.parametrize("module", REAL_PATH)
def test_the_real_demo_path_does_not_import_the_simulator(module):
    code = f"import sys, {module}; print(sorted(m for m in sys.modules if m.startswith('chimera.sim')))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
