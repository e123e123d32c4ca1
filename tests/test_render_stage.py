"""The render stage writes only its declared output and never touches a folder of real broadcasts."""

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_real_broadcasts_survive_render_with_source_demos(tmp_path):
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["ingest"]["source"] = "demos"
    params["sync"]["vod_dir"] = "broadcasts"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    (tmp_path / "data" / "parsed" / "final-match").mkdir(parents=True)
    real = tmp_path / "broadcasts"
    real.mkdir()
    (real / "final-match.mp4").write_bytes(b"a user's only copy of a real broadcast")
    done = subprocess.run(
        [sys.executable, str(ROOT / "stages" / "render.py")], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert (real / "final-match.mp4").read_bytes() == b"a user's only copy of a real broadcast"
    assert list((tmp_path / "data" / "raw" / "vods").iterdir()) == []
    assert "nothing to render" in done.stderr
