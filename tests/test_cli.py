"""The `cxkit` command on bad arguments: one clear line and exit code 2, never a traceback."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import cxkit
from cxkit.cli import main


def run(capsys, *argv):
    """(exit code, stderr) of ``cxkit argv`` run in this process."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse refuses an argument
        code = exc.code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def test_report_out_is_a_file(tmp_path, capsys):
    out = tmp_path / "reports.html"
    out.write_text("an old report")
    code, err = run(capsys, "report", "--out", out)
    assert code == 2 and "reports.html" in err and "this is a file" in err
    assert out.read_text() == "an old report"


def test_report_out_cannot_be_written(tmp_path, capsys, monkeypatch):
    out = tmp_path / "locked"
    out.mkdir()
    if os.geteuid() != 0:  # root writes anywhere: then the refusal is simulated
        out.chmod(0o500)
    else:
        import tempfile

        def refuse(*args, dir=None, **kwargs):
            raise PermissionError(13, "Permission denied", str(dir))

        monkeypatch.setattr(tempfile, "TemporaryFile", refuse)
    try:
        code, err = run(capsys, "report", "--out", out)
    finally:
        out.chmod(0o700)
    assert code == 2 and "locked" in err and "written to" in err


def test_workshop_on_a_file(tmp_path, capsys):
    path = tmp_path / "notes.txt"
    path.write_text("x")
    code, err = run(capsys, "workshop", path)
    assert code == 2 and "notes.txt" in err and "this is a file" in err


@pytest.mark.parametrize("customers", ["0", "-5", "1", "ten"])
def test_simulate_refuses_too_few_customers(tmp_path, capsys, customers):
    code, err = run(capsys, "simulate", "--out", tmp_path / "d", "--customers", customers)
    assert code == 2 and "--customers" in err
    assert not (tmp_path / "d").exists()


def test_simulate_refuses_a_negative_seed(tmp_path, capsys):
    code, err = run(capsys, "simulate", "--out", tmp_path / "d", "--seed", "-1")
    assert code == 2 and "--seed: at least 0, got -1" in err


def test_simulate_out_is_a_file_or_holds_another_table_file(tmp_path, capsys):
    path = tmp_path / "data.csv"
    path.write_text("x")
    code, err = run(capsys, "simulate", "--out", path, "--customers", "50")
    assert code == 2 and "this is a file" in err and path.read_text() == "x"
    folder = tmp_path / "old"
    folder.mkdir()
    (folder / "events.parquet").write_bytes(b"old export")
    code, err = run(capsys, "simulate", "--out", folder, "--customers", "50")
    assert code == 2 and "'events.parquet'" in err
    assert sorted(p.name for p in folder.iterdir()) == ["events.parquet"]


def test_simulate_function_refuses_bad_sizes():
    with pytest.raises(cxkit.DataError, match=r"(?s)customers.*at least 10.*seed.*0 or more"):
        cxkit.simulate(customers=1, seed=-1)


def test_exit_code_two_from_the_shell(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "cxkit", "simulate", "--out", str(tmp_path), "--seed", "-1"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "--seed" in done.stderr
