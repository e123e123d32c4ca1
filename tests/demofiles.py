"""Build CS2 demo files byte by byte, for tests: no real demo can be downloaded here.

A CS2 demo is the magic ``PBDEMS2\\0``, two little-endian int32 offsets, then frames of
(varint command, varint tick, varint size, protobuf body). The smallest file awpy accepts as a valid,
empty match is a ``DEM_FileHeader`` (``CDemoFileHeader``), a ``DEM_SendTables`` carrying an empty
flattened serializer, an empty ``DEM_ClassInfo`` and ``DEM_Stop``: every dataset then comes back
with its full schema and zero rows.
"""

from __future__ import annotations

import struct
from pathlib import Path

DEM_STOP, DEM_FILE_HEADER, DEM_SEND_TABLES, DEM_CLASS_INFO = 0, 1, 4, 5


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        out.append(low | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field_str(number: int, value: str) -> bytes:
    raw = value.encode()
    return _varint(number << 3 | 2) + _varint(len(raw)) + raw


def _field_int(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value)


def _frame(command: int, tick: int, body: bytes) -> bytes:
    return _varint(command) + _varint(tick) + _varint(len(body)) + body


def empty_demo_bytes(map_name: str = "de_mirage") -> bytes:
    header = (
        _field_str(1, "PBDEMS2")  # demo_file_stamp
        + _field_int(2, 14000)  # network_protocol
        + _field_str(3, "chimera test server")  # server_name
        + _field_str(4, "SourceTV Demo")  # client_name
        + _field_str(5, map_name)  # map_name
        + _field_str(6, "csgo")  # game_directory
        + _field_int(13, 10000)  # build_num
    )
    empty_serializer = _varint(1 << 3 | 2) + _varint(1) + _varint(0)  # CDemoSendTables{data: <len 0>}
    body = (
        _frame(DEM_FILE_HEADER, 0, header)
        + _frame(DEM_SEND_TABLES, 0, empty_serializer)
        + _frame(DEM_CLASS_INFO, 0, b"")
        + _frame(DEM_STOP, 0, b"")
    )
    return b"PBDEMS2\0" + struct.pack("<ii", 0, 0) + body


def write_empty(path: Path, map_name: str = "de_mirage") -> Path:
    path.write_bytes(empty_demo_bytes(map_name))
    return path


def write_truncated(path: Path) -> Path:
    """A valid header followed by a frame cut off in the middle (an interrupted download)."""
    path.write_bytes(empty_demo_bytes()[:-5])
    return path


def write_garbage_after_header(path: Path) -> Path:
    """The right magic, then noise: awpy accepts it in ``Demo()`` and fails on first table access."""
    path.write_bytes(empty_demo_bytes()[:16] + bytes(range(256)) * 2)
    return path


def write_wrong_magic(path: Path) -> Path:
    """A CS:GO-era demo header (HL2DEMO), which awpy 3.1 rejects in ``Demo()``."""
    path.write_bytes(b"HL2DEMO\0" + b"\0" * 1024)
    return path
