"""Writes that lose nothing: a temporary file beside the target, renamed into place on success."""

import contextlib
import json
import os
import secrets
from pathlib import Path


@contextlib.contextmanager
def replacing(path):
    """Yield a fresh temporary path beside ``path``, renamed onto it on success, else removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:  # a fresh name, created here (O_EXCL); the mode follows the umask as usual
        tmp = path.with_name(f".{path.stem}.{secrets.token_hex(6)}.tmp{path.suffix}")
        with contextlib.suppress(FileExistsError):
            os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
            break
    try:
        yield tmp
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def check_output(path):
    """``path`` as a ``Path``, or a ``ValueError`` if it is a folder, under a file or unwritable."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path}: is a folder; give a file name for the output")
    parent = next(p for p in path.parents if p.exists())  # the nearest existing ("." or "/")
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"{path}: {parent} is a file, not a folder" if not parent.is_dir()
                         else f"{path}: cannot write into {parent} (permission denied)")
    return path


def write_json(path, data):
    """Write ``data`` as indented, strict JSON (``as_dict`` objects as dicts), atomically."""
    def plain(obj):
        if hasattr(obj, "as_dict"):
            return obj.as_dict()
        raise TypeError(f"{type(obj).__name__} is not JSON serializable")

    with replacing(path) as tmp:
        tmp.write_text(json.dumps(data, indent=1, allow_nan=False, default=plain) + "\n")
    return Path(path)
