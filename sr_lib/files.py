"""Writes that lose nothing: a temporary file beside the target, renamed into place on success."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path


@contextlib.contextmanager
def replacing(path):
    """Yield a temporary path beside ``path`` (same suffix); rename it onto ``path`` on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
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
