"""Shared fixtures: small batch scenarios and a real two-node Ray cluster on loopback."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, Phase, settings

from re100sim.scenarios import bundled_scenarios

# Hypothesis profiles. ``ci`` (the default): derandomised, so every run draws the same examples, 100 per
# property; ``slow``: 1,000 examples, still derandomised; ``mutation`` (experiments/mutation_score.py): as ``ci``
# but without shrinking, since any counterexample already kills the mutant. Choose with
# ``HYPOTHESIS_PROFILE=slow pytest ...``.
_COMMON = {"derandomize": True, "deadline": None, "suppress_health_check": [HealthCheck.too_slow], "print_blob": True}
settings.register_profile("ci", max_examples=100, **_COMMON)
settings.register_profile("slow", max_examples=1_000, **_COMMON)
settings.register_profile("mutation", max_examples=100, phases=[Phase.explicit, Phase.generate], **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# SMP, REC and the eos PPA price uncertain; SMP and REC correlated (Gaussian copula).
NAMDONG_UNCERTAINTY = {
    "inputs": [
        {"path": "markets.smp.base_level_krw_per_kwh", "distribution": "lognormal", "mean": 116.8, "cv": 0.2, "high": 1000.0},
        {"path": "markets.rec.level_krw_per_rec", "distribution": "triangular", "low": 40000, "mode": 72800,
         "high": 90000},
        {"path": "contracts[ppa-eos].price.price_krw_per_kwh", "distribution": "uniform", "low": 90, "high": 130},
    ],
    "correlation": [[1, 0.6, 0], [0.6, 1, 0], [0, 0, 1]],
}


def bundled_with(name: str, tmp: Path, **changes) -> Path:
    """A bundled scenario with top-level fields replaced, written to ``tmp``."""
    data = yaml.safe_load(bundled_scenarios()[name].read_text(encoding="utf-8"))
    data |= changes
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def namdong_mc(tmp_path) -> Path:
    """Namdong, one year, with NAMDONG_UNCERTAINTY."""
    return bundled_with("namdong", tmp_path, years=1, uncertainty=NAMDONG_UNCERTAINTY)


def cli(*args, env=None, **kw) -> subprocess.CompletedProcess:
    """``re100sim ARGS`` in a child process (a real driver: it can be killed)."""
    return subprocess.run([sys.executable, "-m", "re100sim.simulator.cli", *map(str, args)], env=env,
                          capture_output=True, text=True, **kw)


def cli_popen(*args, env=None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "re100sim.simulator.cli", *map(str, args)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def marked_pids(marker: str, title: str = "") -> list[int]:
    """Our processes: those whose environment carries ``marker`` (and whose title starts with ``title``)."""
    pids = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit() or int(d.name) == os.getpid():
            continue
        try:
            if marker.encode() not in (d / "environ").read_bytes():
                continue
            if title and not (d / "cmdline").read_bytes().startswith(title.encode()):
                continue
        except OSError:
            continue
        pids.append(int(d.name))
    return pids


def with_descendants(pids: list[int]) -> set[int]:
    """``pids`` and every process below them (Ray's agents do not all carry the marker)."""
    children: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(d.name))
    out, todo = set(), list(pids)
    while todo:
        p = todo.pop()
        if p not in out:
            out.add(p)
            todo += children.get(p, [])
    return out


def _identity(pid: int) -> tuple[str, str] | None:
    """(state, start time) of a process, or None when it is gone: a pid is only signalled again
    while its start time is the one recorded (never a new process that reused the number)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return fields[0], fields[19]
    except (OSError, IndexError):
        return None


def _alive(pid: int) -> bool:
    ident = _identity(pid)
    return ident is not None and ident[0] != "Z"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


RAY = [sys.executable, "-c", "import sys; from ray.scripts.scripts import main; sys.exit(main())"]


@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory):
    """A head node and a second node (``ray start --address``) on 127.0.0.1, one CPU each.

    Every process carries a marker in its environment; teardown ends exactly those (never ``ray stop``,
    which would end every Ray process on the machine). Token authentication with a private token file."""
    tmp = tmp_path_factory.mktemp("ray")
    marker = f"RE100SIM_TEST_CLUSTER={uuid.uuid4().hex}"
    token = tmp / "auth_token"
    token.write_text(uuid.uuid4().hex)
    env = os.environ | {marker.split("=")[0]: marker.split("=")[1], "RAY_AUTH_MODE": "token",
                        "RAY_AUTH_TOKEN_PATH": str(token), "RAY_USAGE_STATS_ENABLED": "0"}
    port = _free_port()
    address = f"127.0.0.1:{port}"
    temp_dir = Path("/tmp") / f"rt-{uuid.uuid4().hex[:8]}"  # short: Ray's unix sockets live here
    try:
        for args in (["--head", "--port", str(port), "--include-dashboard", "false", "--temp-dir", str(temp_dir)],
                     ["--address", address]):
            r = subprocess.run([*RAY, "start", *args, "--node-ip-address", "127.0.0.1", "--num-cpus", "1",
                                "--disable-usage-stats"], env=env, capture_output=True, text=True, timeout=180)
            assert r.returncode == 0, r.stdout + r.stderr
        yield address, env, marker
    finally:
        ours = {p: _identity(p) for p in with_descendants(marked_pids(marker))}
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid, ident in ours.items():
                now = _identity(pid)
                if now is not None and ident is not None and now[1] == ident[1]:
                    try:
                        os.kill(pid, sig)
                    except ProcessLookupError:  # ended in between
                        pass
            time.sleep(2)
        assert not [p for p, ident in ours.items() if _alive(p) and _identity(p)[1] == ident[1]]
        assert not marked_pids(marker)
        subprocess.run(["rm", "-rf", str(temp_dir)])
