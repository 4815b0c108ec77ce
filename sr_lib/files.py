"""Writes that lose nothing: a temporary file beside the target, renamed into place on success."""

import contextlib
import glob
import json
import os
import secrets
import socket
import time
from pathlib import Path


STALE_S = 24 * 3600  # a temporary file from another machine is left alone for this long
HOST = socket.gethostname().replace(".", "_").replace("-", "_") or "host"


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # someone else's process (or not a pid): leave its file alone
    return True


def sweep(path):
    """Remove temporary files that writers of ``path`` left when killed (``kill -9``, power loss):
    this machine's whose process is gone, and any older than ``STALE_S``."""
    path = Path(path)
    head, tail = f".{path.stem}.", f".tmp{path.suffix}"
    for tmp in path.parent.glob(glob.escape(head) + "*" + glob.escape(tail)):
        host, pid, _ = (tmp.name[len(head):-len(tail)].rsplit("-", 2) + ["", ""])[:3]
        with contextlib.suppress(OSError, ValueError):
            if (host == HOST and not _alive(int(pid))
                    or time.time() - tmp.stat().st_mtime > STALE_S):
                tmp.unlink()


@contextlib.contextmanager
def replacing(path):
    """Yield a fresh temporary path beside ``path``, renamed onto it on success, else removed.
    Its name holds this machine and process, so a later write can :func:`sweep` it if killed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sweep(path)
    while True:  # a fresh name, created here (O_EXCL); the mode follows the umask as usual
        name = f".{path.stem}.{HOST}-{os.getpid()}-{secrets.token_hex(6)}.tmp{path.suffix}"
        tmp = path.with_name(name)
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
