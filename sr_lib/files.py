"""Writes that lose nothing: a temporary file beside the target, renamed into place on success."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from pathlib import Path


@contextlib.contextmanager
def replacing(path):
    """Yield a fresh temporary path beside ``path`` (a unique name with the same suffix, so
    concurrent writers never share one); rename it onto ``path`` on success, remove it on any
    error or interruption. The file at ``path`` is always a whole one: the old or a new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:  # a fresh name, created here (O_EXCL); the mode follows the umask as usual
        tmp = path.with_name(f".{path.stem}.{secrets.token_hex(6)}.tmp{path.suffix}")
        try:
            os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
            break
        except FileExistsError:
            continue
    try:
        yield tmp
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def write_json(path, data):
    """Write ``data`` as indented JSON, atomically."""
    with replacing(path) as tmp:
        tmp.write_text(json.dumps(data, indent=1, allow_nan=False) + "\n")  # strict JSON
    return Path(path)
