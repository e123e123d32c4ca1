"""Importing chimera puts the process offline and on one thread, without overriding explicit choices."""

import os
import subprocess
import sys

from chimera.runtime import POLICY


def _env_after_import(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in POLICY} | extra
    code = "import chimera, json, os; print(json.dumps(dict(os.environ)))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    import json

    return json.loads(out.stdout)


def test_policy_applies_on_import():
    env = _env_after_import({})
    for key, value in POLICY.items():
        assert env[key] == value, key


def test_explicit_setting_wins():
    assert _env_after_import({"OMP_NUM_THREADS": "8"})["OMP_NUM_THREADS"] == "8"
