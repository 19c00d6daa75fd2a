"""A study across a local two-node Ray cluster (``ray start --head`` and a second node with
``ray start --address``, on loopback), with early stopping consulted while the tasks run.

Every port is a free one and the cluster's files live in a temporary folder: other suites may
run on this machine at the same time. The cluster is stopped in a finalizer, whatever happens,
by killing exactly the processes it started (each carries a marker in its environment; never
``ray stop``, which would stop other suites' Ray too).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import symbo as sb

pytest.importorskip("ray")

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def _free_ports(n: int) -> list[int]:
    sockets = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _node_ports() -> list[str]:
    """The flags of one node's ports, each a free one (workers get a free range of ten)."""
    manager, objects, listen, grpc, metrics, env_agent, client = _free_ports(7)
    low = _free_range(10)
    return [f"--node-manager-port={manager}", f"--object-manager-port={objects}",
            f"--dashboard-agent-listen-port={listen}", f"--dashboard-agent-grpc-port={grpc}",
            f"--metrics-export-port={metrics}", f"--runtime-env-agent-port={env_agent}",
            f"--min-worker-port={low}", f"--max-worker-port={low + 9}"]


def _free_range(n: int) -> int:
    for _ in range(200):
        low = _free_ports(1)[0]
        if low + n >= 65535:
            continue
        try:
            sockets = []
            for port in range(low, low + n):
                s = socket.socket()
                sockets.append(s)
                s.bind(("127.0.0.1", port))
            return low
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError("no free range of ports")


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    ray_bin = str(Path(sys.executable).with_name("ray"))
    if not os.path.exists(ray_bin):
        pytest.skip("the ray command is not installed beside this Python")
    temp = Path(tempfile.mkdtemp(prefix="symbo-ray-"))  # short: Ray's socket paths are limited
    marker = f"symbo-test-{uuid.uuid4().hex}"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
               RAY_USAGE_STATS_ENABLED="0", RAY_AUTH_MODE="disabled", SYMBO_RAY_CLUSTER=marker)
    (gcs,) = _free_ports(1)
    address = f"127.0.0.1:{gcs}"
    try:
        head = [ray_bin, "start", "--head", f"--port={gcs}", "--node-ip-address=127.0.0.1",
                "--num-cpus=1", "--include-dashboard=false", f"--temp-dir={temp}",
                "--disable-usage-stats", *_node_ports()]
        _start(head, env)
        second = [ray_bin, "start", f"--address={address}", "--node-ip-address=127.0.0.1",
                  "--num-cpus=1", *_node_ports()]
        _start(second, env)
        yield address
    finally:
        _kill_marked(marker, temp)
        shutil.rmtree(temp, ignore_errors=True)


def _start(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:3])} failed:\n{done.stderr[-3000:]}")


def _marked(marker: str, temp: Path) -> list[int]:
    """The processes the cluster started: those whose environment carries ``marker``, or
    (Ray's agents rewrite theirs with their process titles) that hold files of ``temp``."""
    out = []
    needle = f"SYMBO_RAY_CLUSTER={marker}".encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                if needle in f.read():
                    out.append(int(entry))
                    continue
            for fd in os.listdir(f"/proc/{entry}/fd"):
                if os.readlink(f"/proc/{entry}/fd/{fd}").startswith(str(temp)):
                    out.append(int(entry))
                    break
        except OSError:
            continue
    return out


def _kill_marked(marker: str, temp: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        pids = [p for p in _marked(marker, temp) if _running(p)]
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.1)


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False


DRIVER = '''
"""The study's driver, in its own process (as a user runs it): driver.py ADDRESS URL NODES."""
import os
import sys

import ray

import symbo as sb

address, url, nodes = sys.argv[1:4]


def curve(p, feedback):
    import ray as ray_in_task

    with open(os.path.join(nodes, f"{feedback.trial_id}.node"), "w") as f:
        f.write(ray_in_task.get_runtime_context().get_node_id())
    quality = p.x / 100
    for step in range(1, 8):
        feedback.report(step, quality * step)
        if feedback.should_stop():  # answered by the coordinator's policy while the task runs
            return None
    return quality * 7


ray.init(address=address, log_to_driver=False, configure_logging=False)
assert len([n for n in ray.nodes() if n["Alive"]]) == 2, ray.nodes()
sb.tune(curve, sb.Dict(x=sb.int_range(0, 99, name="x")), sb.algorithms.Random(seed=0),
        num_trials=16, workers=2, backend="ray", storage=url, study_name="cluster",
        early_stopping=sb.algorithms.MedianStopping(min_trials=3))
ray.shutdown()
print("done")
'''


def test_a_study_across_two_nodes_with_early_stopping(cluster: str, tmp_path: Path) -> None:
    nodes_dir = tmp_path / "nodes"
    nodes_dir.mkdir()
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    url = f"sqlite:///{tmp_path / 'study.db'}"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
               RAY_AUTH_MODE="disabled", RAY_USAGE_STATS_ENABLED="0")
    done = subprocess.run([sys.executable, str(driver), cluster, url, str(nodes_dir)], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0 and "done" in done.stdout, done.stderr[-4000:]
    trials = sb.load_study(url, "cluster").trials
    assert [t.id for t in trials] == list(range(16))
    assert {t.status for t in trials} <= {"completed", "stopped"}, [t.error for t in trials]
    stopped = [t for t in trials if t.status == "stopped"]
    assert stopped, "the policy stopped no trial: reports did not reach it while tasks ran"
    for t in trials:
        q = t.params["x"] / 100
        assert t.reports == [(s, pytest.approx(q * s)) for s in range(1, len(t.reports) + 1)]
    assert all(t.reward == t.reports[-1][1] for t in stopped)
    assert any(len(t.reports) < 7 for t in stopped)
    ran_on = {(nodes_dir / f"{t.id}.node").read_text() for t in trials}
    assert len(ran_on) == 2, "the trials ran on one node only"
