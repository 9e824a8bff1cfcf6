"""The one output writer: whole files only, never over a non-file, temp files always removed."""

from __future__ import annotations

import errno
import io
import os
import signal
import socket
import stat
import subprocess
import sys
import textwrap

import pytest

from aedetect import outputs
from aedetect.exceptions import AedetectError, OutputError


def _temps(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_writes_a_new_file_with_the_umask_mode(tmp_path, umask_022):
    target = tmp_path / "out.csv"
    outputs.write_bytes(target, b"a,b\n")
    assert target.read_bytes() == b"a,b\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    os.umask(0o077)
    outputs.write_bytes(tmp_path / "private.csv", b"x")
    assert stat.S_IMODE((tmp_path / "private.csv").stat().st_mode) == 0o600
    assert _temps(tmp_path) == []


def test_replacing_a_file_keeps_its_mode(tmp_path, umask_022):
    target = tmp_path / "out.csv"
    target.write_bytes(b"old")
    target.chmod(0o640)
    outputs.write_bytes(target, b"new")
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_a_fifo_is_refused_and_left_in_place(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(OutputError, match=rf"^{fifo}: is a FIFO \(named pipe\), not a regular"):
        outputs.write_bytes(fifo, b"x")
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


def test_a_folder_is_refused(tmp_path):
    (tmp_path / "d").mkdir()
    with pytest.raises(OutputError, match=r"d: is a folder, not a regular file; give a file name"):
        outputs.write_bytes(tmp_path / "d", b"x")
    assert list((tmp_path / "d").iterdir()) == []


def test_a_read_only_file_is_refused_and_kept(tmp_path):
    target = tmp_path / "keep.txt"
    target.write_bytes(b"KEEP")
    target.chmod(0o444)
    with pytest.raises(OutputError, match=r"keep.txt: is read-only; not replaced"):
        outputs.write_bytes(target, b"new")
    assert target.read_bytes() == b"KEEP"
    assert _temps(tmp_path) == []


def test_a_folder_of_earlier_parts_is_replaced(tmp_path):
    out = tmp_path / "scores"
    out.mkdir()
    (out / "part.0.parquet").write_bytes(b"old")
    with outputs.replacing_folder(out) as tmp:
        (tmp / "part.0.parquet").write_bytes(b"new")
    assert sorted(p.name for p in out.iterdir()) == ["part.0.parquet"]
    assert (out / "part.0.parquet").read_bytes() == b"new"


@pytest.mark.parametrize("kind", ["file", "folder", "link"])
def test_a_folder_holding_other_things_is_refused_and_kept(tmp_path, kind):
    out = tmp_path / "precious"
    out.mkdir()
    if kind == "file":
        (out / "notes.txt").write_bytes(b"mine")
    elif kind == "folder":
        (out / "sub").mkdir()
    else:
        (out / "part.0.parquet").symlink_to(tmp_path / "elsewhere")
    before = sorted(p.name for p in out.iterdir())
    with pytest.raises(OutputError, match=r"precious: the folder holds .*not replaced"):
        with outputs.replacing_folder(out):
            pytest.fail("the block must not run")
    assert sorted(p.name for p in out.iterdir()) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_socket_is_refused(tmp_path):
    path = tmp_path / "s"
    with socket.socket(socket.AF_UNIX) as sock:
        try:
            sock.bind(str(path))
        except OSError:  # path too long for AF_UNIX on some systems
            pytest.skip("cannot bind a unix socket here")
        with pytest.raises(OutputError, match="is a socket"):
            outputs.write_bytes(path, b"x")
    assert stat.S_ISSOCK(path.lstat().st_mode)


def test_a_link_to_a_non_file_is_refused_like_dev_null(tmp_path):
    # stands in for /dev/null: a link to a FIFO, never the real device
    os.mkfifo(tmp_path / "pipe")
    link = tmp_path / "null"
    link.symlink_to(tmp_path / "pipe")
    with pytest.raises(OutputError, match=rf"^{link}: is a FIFO"):
        outputs.write_bytes(link, b"x")
    assert link.is_symlink() and stat.S_ISFIFO(link.stat().st_mode)
    assert _temps(tmp_path) == []


def test_a_dangling_link_is_refused(tmp_path):
    link = tmp_path / "out.csv"
    link.symlink_to(tmp_path / "missing.csv")
    with pytest.raises(OutputError, match="symbolic link to a missing file"):
        outputs.write_bytes(link, b"x")
    assert not (tmp_path / "missing.csv").exists()


def test_a_link_to_a_file_is_written_through(tmp_path):
    (tmp_path / "real").mkdir()
    real = tmp_path / "real" / "model.bin"
    real.write_bytes(b"old")
    real.chmod(0o604)
    link = tmp_path / "model.bin"
    link.symlink_to(real)
    outputs.write_bytes(link, b"new")
    assert link.is_symlink() and real.read_bytes() == b"new"
    assert stat.S_IMODE(real.stat().st_mode) == 0o604
    assert _temps(tmp_path) == [] and _temps(tmp_path / "real") == []


def test_a_missing_folder_is_refused(tmp_path):
    with pytest.raises(OutputError, match="folder .*nope does not exist"):
        outputs.write_bytes(tmp_path / "nope" / "out.csv", b"x")


def test_an_exception_mid_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "out.csv"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="boom"):
        with outputs.replacing(target) as fh:
            fh.write(b"half")
            assert len(_temps(tmp_path)) == 1
            raise RuntimeError("boom")
    assert target.read_bytes() == b"old"
    assert _temps(tmp_path) == []
    assert not outputs._pending


def test_disk_full_names_the_path_and_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "model.aedetect"
    target.write_bytes(b"old")

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(outputs.os, "fsync", full)
    with pytest.raises(OutputError) as info:
        outputs.write_bytes(target, b"new" * 1000)
    assert str(info.value) == f"{target}: cannot write: No space left on device"
    assert isinstance(info.value, AedetectError) and isinstance(info.value, OSError)
    assert target.read_bytes() == b"old" and _temps(tmp_path) == []


def test_disk_full_during_the_write_itself(tmp_path, monkeypatch):
    target = tmp_path / "out.csv"

    class Full(io.BufferedWriter):
        def write(self, data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(outputs.os, "fdopen", lambda fd, mode: Full(io.FileIO(fd, "w")))
    with pytest.raises(OutputError, match=rf"^{target}: cannot write: No space left on device$"):
        outputs.write_bytes(target, b"a,b\n")
    assert list(tmp_path.iterdir()) == []


def test_remove_pending_removes_what_a_signal_left(tmp_path):
    tmp, fd = outputs._open_temp(tmp_path / "out.csv")
    os.close(fd)
    assert _temps(tmp_path) == [os.path.basename(tmp)]
    outputs.remove_pending()
    assert _temps(tmp_path) == [] and not outputs._pending


def test_copy_file(tmp_path):
    (tmp_path / "a").write_bytes(b"data" * 10000)
    outputs.copy_file(tmp_path / "a", tmp_path / "b")
    assert (tmp_path / "b").read_bytes() == b"data" * 10000


_WRITER = textwrap.dedent(
    """
    import sys, time
    from aedetect import cli, outputs

    target = sys.argv[1]

    def write():
        with outputs.replacing(target) as fh:
            fh.write(b"half")
            print("writing", flush=True)
            time.sleep(60)

    cli.app.command("write")(write)
    sys.argv = ["aedetect", "write"]
    cli.main()
    """
)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_during_the_write_removes_the_temp_file(tmp_path, sig):
    target = tmp_path / "model.aedetect"
    target.write_bytes(b"old")
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(target)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline() == "writing\n"
        assert len(_temps(tmp_path)) == 1
        proc.send_signal(sig)
        proc.wait(timeout=30)
    finally:
        proc.kill()
        proc.wait()
    if sig == signal.SIGTERM:
        assert proc.returncode == 143
    assert target.read_bytes() == b"old"
    assert _temps(tmp_path) == []


@pytest.mark.parametrize("name", ["s.xlsx", "s.JSON", "s.feather"])
def test_another_table_format_is_refused_not_written_as_csv(name):
    with pytest.raises(OutputError, match=r"aedetect writes \.csv or \.parquet tables here, not"):
        outputs.table_format(name)
    assert outputs.table_format("s.csv") == outputs.table_format("s.out") == "csv"
    assert outputs.table_format("s.PQ") == "parquet"
    with pytest.raises(OutputError, match=r"writes \.csv tables here, not \.parquet"):
        outputs.table_format("e.parquet", allowed=("csv",))


def test_a_temporary_folder_is_listed_for_removal_on_a_signal_while_in_use(tmp_path):
    from aedetect import outputs

    folder = tmp_path / "stdin-copy"
    folder.mkdir()
    with outputs.removed_on_signal(folder):
        assert str(folder) in outputs._pending
        outputs.remove_pending()  # what a signal's handler does
    assert not folder.exists() and str(folder) not in outputs._pending


def test_staged_folder_lands_every_file_or_none(tmp_path):
    from aedetect.staged import staged_folder

    new = tmp_path / "new"
    with staged_folder(new) as out:
        outputs.write_bytes(out / "a.csv", b"1")
        outputs.write_bytes(out / "b.csv", b"2")
    assert sorted(p.name for p in new.iterdir()) == ["a.csv", "b.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new"]  # no temporary folder left
    (new / "c.csv").mkdir()  # a folder where the next output's c.csv would go
    with pytest.raises(OutputError, match=r"c\.csv: is a folder"):
        with staged_folder(new) as out:
            outputs.write_bytes(out / "a.csv", b"new")
            outputs.write_bytes(out / "c.csv", b"new")
    assert (new / "a.csv").read_bytes() == b"1"  # checked before anything was replaced
    assert sorted(p.name for p in new.iterdir()) == ["a.csv", "b.csv", "c.csv"]
    with pytest.raises(OutputError, match="exists and is not a folder"):
        with staged_folder(new / "a.csv"):
            pass
