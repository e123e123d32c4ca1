"""Atomic writes: a stage killed halfway leaves either the previous output or none, never half of one.

Everything goes to a hidden temporary sibling first and is renamed into place (a rename within one
filesystem is atomic on POSIX). A killed process leaves its ``.<name>.tmp-<pid>`` behind; the next write
of the same path removes the leftovers of processes that are gone (never those of a live one).
"""

from __future__ import annotations

import glob
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _tmp_sibling(path: Path, kind: str = "tmp", pid: int | None = None) -> Path:
    return path.with_name(f".{path.name}.{kind}-{os.getpid() if pid is None else pid}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def remove_leftovers(path: Path) -> list[Path]:
    """Delete the temporaries of earlier writes of ``path`` whose process no longer exists."""
    removed = []
    for kind in ("tmp", "old"):
        for sibling in path.parent.glob(f".{glob.escape(path.name)}.{kind}-*"):
            pid = sibling.name.rsplit("-", 1)[-1]
            if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
                _remove(sibling)
                removed.append(sibling)
    return removed


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path to write ``path``'s new content to (a file or a directory).

    On success it replaces ``path``; on any exception the temporary is removed and ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(path)
    tmp = _tmp_sibling(path)
    _remove(tmp)
    try:
        yield tmp
        if path.is_dir() and tmp.is_dir():
            old = _tmp_sibling(path, "old")
            path.rename(old)
            tmp.rename(path)
            _remove(old)
        else:
            tmp.replace(path)
    finally:
        _remove(tmp)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def write_json(path: str | Path, obj: object) -> None:
    """Write pretty, key-sorted JSON atomically (sorted keys keep DVC hashes stable)."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")
