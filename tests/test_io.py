"""Atomic writes: the old output or the new one, never half of one, and no leftovers of killed runs."""

import os
import subprocess
import sys

import pytest

from chimera.io import atomic_path, write_json


def test_a_failed_write_leaves_the_old_output(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "a").write_text("old")
    with pytest.raises(RuntimeError), atomic_path(out) as tmp:
        tmp.mkdir()
        (tmp / "a").write_text("half")
        raise RuntimeError("killed")
    assert (out / "a").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_leftovers_of_dead_processes_are_removed_and_live_ones_kept(tmp_path):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead_pid = int(dead.stdout)
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (tmp_path / f".m.json.tmp-{dead_pid}").write_text("{")
        (tmp_path / f".m.json.old-{dead_pid}").mkdir()
        (tmp_path / f".m.json.tmp-{live.pid}").write_text("{")
        (tmp_path / f".other.json.tmp-{dead_pid}").write_text("{")
        write_json(tmp_path / "m.json", {"a": 1})
        left = sorted(p.name for p in tmp_path.iterdir())
    finally:
        live.kill()
        live.wait()
    assert left == sorted(["m.json", f".m.json.tmp-{live.pid}", f".other.json.tmp-{dead_pid}"])
    assert os.getpid() != dead_pid
