import json
import subprocess
import sys

from sr_lib.cli import main


def test_evaluate_prints_and_writes_table(tmp_path, capsys):
    assert main(["evaluate", "--methods", "bicubic", "nearest", "--lr-sizes", "14",
                 "--limit", "50", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "bicubic" in out and "nearest" in out and "PSNR" in out
    rows = json.loads((tmp_path / "evaluation.json").read_text())
    assert [r["method"] for r in rows] == ["bicubic", "nearest"] and rows[0]["n"] == 50
    assert (tmp_path / "evaluation.csv").exists()


def test_evaluate_unknown_method_is_a_clear_error(capsys):
    assert main(["evaluate", "--methods", "magic", "--limit", "5"]) == 2
    err = capsys.readouterr().err
    assert "sr-lib evaluate: error: unknown method 'magic'" in err and "Traceback" not in err


def test_evaluate_bad_data_path(tmp_path, capsys):
    assert main(["evaluate", "--data", str(tmp_path / "missing.npz")]) == 2
    assert "missing.npz: no such file" in capsys.readouterr().err


def test_console_script_rejects_bad_lr_size():
    proc = subprocess.run([sys.executable, "-m", "sr_lib.cli", "evaluate", "--lr-sizes", "0"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "must be a positive integer" in proc.stderr
