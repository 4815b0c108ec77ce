"""Atomic writes under concurrency and interruption."""

import os
import threading

import pytest

from sr_lib.files import replacing, write_json


def test_concurrent_writers_leave_one_whole_file(tmp_path):
    target = tmp_path / "race.bin"
    payloads = [bytes([i]) * 2_000_000 for i in (1, 2)]
    start = threading.Barrier(2)

    def write(payload):
        start.wait()
        with replacing(target) as tmp, open(tmp, "wb") as f:
            for k in range(0, len(payload), 100_000):  # slowly, so the two overlap
                f.write(payload[k:k + 100_000])
                f.flush()

    for _ in range(5):
        threads = [threading.Thread(target=write, args=(p,)) for p in payloads]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert target.read_bytes() in payloads  # exactly one of the two, never a mix
        assert os.listdir(tmp_path) == ["race.bin"]  # no temporary file left behind


def test_an_interrupted_write_keeps_the_old_file_and_no_temporary(tmp_path):
    target = write_json(tmp_path / "r.json", {"a": 1})
    with pytest.raises(KeyboardInterrupt):
        with replacing(target) as tmp:
            tmp.write_text("{half")
            raise KeyboardInterrupt
    assert target.read_text() == '{\n "a": 1\n}\n'
    assert os.listdir(tmp_path) == ["r.json"]


def test_temporary_names_are_unique_and_keep_the_suffix(tmp_path):
    with replacing(tmp_path / "a.png") as one, replacing(tmp_path / "a.png") as two:
        assert one != two and one.suffix == two.suffix == ".png"
        assert one.parent == two.parent == tmp_path
        one.write_bytes(b"1")
        two.write_bytes(b"2")
    assert (tmp_path / "a.png").read_bytes() in (b"1", b"2")
    assert oct((tmp_path / "a.png").stat().st_mode & 0o777) != oct(0o600)


def test_a_killed_writers_temporary_is_swept_by_the_next_write(tmp_path):
    """``kill -9`` during a save leaves the temporary file; the next write of the same target
    removes it when its process is gone (or it is old), and never a live writer's file."""
    import subprocess
    import sys
    import time

    from sr_lib import files

    target = tmp_path / "big.png"
    code = ("import sys, time; from sr_lib.files import replacing\n"
            "with replacing(sys.argv[1]) as tmp:\n"
            "    tmp.write_bytes(b'x' * 1000); print(tmp.name, flush=True); time.sleep(60)\n")
    writer = subprocess.Popen([sys.executable, "-c", code, str(target)], stdout=subprocess.PIPE,
                              text=True)
    dead = tmp_path / writer.stdout.readline().strip()
    writer.kill()
    writer.wait()
    assert dead.exists()  # what kill -9 leaves
    other = tmp_path / f".big.{files.HOST}x-1-0123456789ab.tmp.png"  # another machine's, fresh
    old = tmp_path / ".big.elsewhere-1-0123456789ab.tmp.png"
    unrelated = tmp_path / ".bigger.elsewhere-1-0123456789ab.tmp.png"
    for f in (other, old, unrelated):
        f.write_bytes(b"")
    os.utime(old, (time.time() - files.STALE_S - 60,) * 2)
    with replacing(target) as live:
        assert live.exists() and not dead.exists() and not old.exists()
        files.sweep(target)  # a concurrent writer's sweep keeps this live process's file
        assert live.exists()
        live.write_bytes(b"new")
    assert sorted(os.listdir(tmp_path)) == sorted(["big.png", other.name, unrelated.name])
