"""Results folders: claimed exclusively, written into a temporary sibling, published atomically;
provenance (hashes, package versions, git revision) and strict JSON.

Kept free of pandas so that ``re100sim validate`` can check ``output.dir`` without heavy imports.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from re100sim.simulator.errors import InputError


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def package_versions() -> dict[str, str]:
    names = ["re100sim", "numpy", "pandas", "pyarrow", "mesa", "simpy", "pvlib", "holidays", "pydantic", "Cython"]
    out = {}
    for n in names:
        try:
            out[n] = metadata.version(n)
        except metadata.PackageNotFoundError:
            out[n] = "not installed"
    return out


def git_revision() -> str | None:
    here = Path(__file__).resolve().parent.parent
    try:
        rev = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return rev.stdout.strip() or None if rev.returncode == 0 else None


class OutputDirTaken(InputError):
    """The results folder exists already or another run is writing it."""


@dataclass
class _Reservation:
    out_dir: Path
    lock_path: Path
    lock_fd: int
    created: list[Path]  # parent folders this run made, deepest last


_RESERVED: dict[Path, _Reservation] = {}


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def remove_stale_partials(parent: Path, name: str) -> None:
    """Remove ``.NAME.partial-PID`` folders left by runs that were killed (their process is gone)."""
    for p in parent.glob(f".{name}.partial-*"):
        pid = p.name.rsplit("-", 1)[-1]
        if pid.isdigit() and int(pid) != os.getpid() and not _process_alive(int(pid)):
            shutil.rmtree(p, ignore_errors=True)


def _missing_parents(folder: Path, fail) -> list[Path]:
    """The missing ancestors of a results folder, innermost first; the nearest existing one must be a folder."""
    missing = []
    p = folder
    while not p.exists() and not p.is_symlink() and p != p.parent:
        missing.append(p)
        p = p.parent
    if not p.is_dir():
        fail(f"{p} is not a folder (a path whose parents are folders)")
    return missing


def _make_parents(folder: Path, fail) -> list[Path]:
    """Create ``folder`` and its missing ancestors; return those created, outermost first."""
    missing = _missing_parents(folder, fail)
    created = []
    try:
        for m in reversed(missing):
            try:
                m.mkdir()
                created.append(m)
            except FileExistsError:  # made by a run started at the same time: theirs, not ours
                if not m.is_dir():
                    raise
    except OSError as e:
        _remove_empty(created)
        fail(f"cannot create folder {e.filename or folder}: {e.strerror or e} (a writable location)")
    return created


def _remove_empty(folders: list[Path]) -> None:
    for f in reversed(folders):
        try:
            f.rmdir()
        except OSError:
            break


def check_output_dir(out_dir: Path, source: str | None = None, field: str = "--out"):
    """Raise :class:`InputError` unless ``out_dir`` could be created as a new results folder (a
    folder name, not existing, under folders); returns the error-raising helper for more checks."""
    src = source or str(out_dir)
    shown = "" if source is None else f"{out_dir}: "

    def fail(message: str, kind=InputError):
        raise kind(src, field, shown + message)

    if not out_dir.name or out_dir.name in (".", ".."):
        fail("not a folder name (a new folder, e.g. results/run-1)")
    if out_dir.exists() or out_dir.is_symlink():
        fail("already exists (a new folder: runs are never overwritten)", OutputDirTaken)
    _missing_parents(out_dir.parent, fail)
    return fail


def reserve_output_dir(out_dir: Path, source: str | None = None, field: str = "--out") -> Path:
    """Claim ``out_dir`` for this process; return the temporary sibling to write into.

    The claim is an exclusive ``flock`` on ``.NAME.lock`` beside the folder, which the system
    releases however the process ends, so two runs never write one folder and a killed run never
    blocks the next. Stale ``.NAME.partial-PID`` folders of dead processes are removed. Problems
    raise :class:`InputError` naming ``source``/``field`` (the ``--out`` option by default, or the
    scenario file and ``output.dir``); :class:`OutputDirTaken` when the folder exists or is being written.
    """
    out_dir = Path(out_dir)
    fail = check_output_dir(out_dir, source, field)
    created = _make_parents(out_dir.parent, fail)
    lock_path = out_dir.with_name(f".{out_dir.name}.lock")
    try:
        fd = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o644)
    except OSError as e:
        _remove_empty(created)
        fail(f"cannot write in {out_dir.parent}: {e.strerror or e} (a writable location)")
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        fail("another run is writing this folder now (a different folder)", OutputDirTaken)
    res = _Reservation(out_dir, lock_path, fd, created)
    if out_dir.exists():  # published by a run that held the lock just before us
        _release(res)
        fail("already exists (a new folder: runs are never overwritten)", OutputDirTaken)
    remove_stale_partials(out_dir.parent, out_dir.name)
    tmp = out_dir.with_name(f".{out_dir.name}.partial-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tmp.mkdir()
    except OSError as e:
        _release(res)
        _remove_empty(created)
        fail(f"cannot create folder {tmp}: {e.strerror or e} (a writable location)")
    _RESERVED[tmp] = res
    return tmp


def _release(res: _Reservation) -> None:
    try:
        res.lock_path.unlink(missing_ok=True)
    finally:
        os.close(res.lock_fd)


def publish_output_dir(tmp: Path, out_dir: Path) -> None:
    """Move the complete temporary folder into place and release the claim (on failure the caller
    removes the temporary folder with :func:`discard_output_dir`)."""
    try:
        os.rename(tmp, out_dir)
    except OSError as e:
        raise OutputDirTaken(str(out_dir), "--out", f"cannot publish the results: {e.strerror or e} (a new folder)")
    res = _RESERVED.pop(tmp, None)
    if res is not None:
        _release(res)


def discard_output_dir(tmp: Path) -> None:
    """Remove a temporary folder, the parent folders its reservation created, and the claim."""
    shutil.rmtree(tmp, ignore_errors=True)
    res = _RESERVED.pop(tmp, None)
    if res is not None:
        _release(res)
        _remove_empty(res.created)


def write_json(path: Path, data: dict) -> None:
    """Strict JSON (RFC 8259): a NaN or infinity raises instead of writing ``NaN``/``Infinity``."""
    text = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False, allow_nan=False)
    path.write_text(text + "\n", encoding="utf-8")
