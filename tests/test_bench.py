"""The benchmark scripts' arithmetic: FLOP counts from the model configs and the matmul ratio."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

import bench_common  # noqa: E402
import bench_cppn  # noqa: E402
import bench_local_cppn  # noqa: E402

from sr_lib.models import build_local_cppn  # noqa: E402


def test_flop_counts_follow_the_architecture():
    m = build_local_cppn()  # the bundled configuration
    # 4 neighbours x (5 -> 48 projection + two 48 x 48 layers + 48 -> 1), 2 FLOP per multiply-add
    assert bench_local_cppn.decoder_flop(m) == 4 * (480 + 2 * 4608 + 96) == 39168
    assert bench_local_cppn.encoder_flop(m) == 2 * 9 * 48 + 3 * 2 * 2 * 9 * 48 * 48 + 2 * 9 * 48 * 48
    wider = build_local_cppn(hidden=64, depth=4)
    assert bench_local_cppn.decoder_flop(wider) == 4 * (640 + 3 * 2 * 64 * 64 + 128)
    assert bench_cppn.cppn_flop(32, 4, 1) == 192 + 3 * 2048 + 64


def test_rate_is_work_over_median_time_against_the_matmul():
    row = bench_common.rate({"median_s": 2.0}, gflop=100.0, reference=200.0)
    assert row["gflops"] == 50.0 and row["fraction_of_matmul"] == 0.25
    assert bench_common.matmul_gflops(n=128, repeats=1) > 0


def test_timed_reports_the_median_of_warm_runs():
    calls = []
    row = bench_common.timed(lambda: calls.append(1), repeats=3)
    assert len(calls) == 4 and row["runs"] == 3 and row["median_s"] >= 0
    assert row["best_s"] <= row["median_s"] + 1e-9


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__]))
