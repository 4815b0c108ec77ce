"""Writes that lose nothing: a temporary file beside the target, renamed into place on success."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path


@contextlib.contextmanager
def replacing(path):
    """Yield a fresh temporary path beside ``path`` (a unique name with the same suffix, so
    concurrent writers never share one); rename it onto ``path`` on success, remove it on any
    error or interruption. The file at ``path`` is always a whole one: the old or a new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}",
                                dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o666 & ~umask)  # mkstemp's 0600 would make every output private
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def write_json(path, data):
    """Write ``data`` as indented JSON, atomically."""
    with replacing(path) as tmp:
        tmp.write_text(json.dumps(data, indent=1, allow_nan=False) + "\n")  # strict JSON
    return Path(path)
