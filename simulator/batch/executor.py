"""Where a batch's runs execute: in this process, or as Ray tasks.

``--workers 1`` without ``--address`` runs in process (no Ray). Otherwise Ray: a new local
instance with ``--workers`` CPUs (``address="local"``: never another user's cluster by
accident), or the existing cluster at ``--address`` (started with ``ray start --head`` and
joined by ``ray start --address``; docs: README "Monte Carlo on Ray"). Each task runs a few
runs of one :class:`~re100sim.simulator.batch.worker.Job`, sent once through the object store;
a worker process that dies is retried by Ray (``max_retries``), and a task that still fails
becomes error rows. At most a few tasks per CPU are in flight, so the driver's memory does not
grow with the number of runs.
"""
from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator

from re100sim.simulator.batch.worker import Job, run_many

# Ray retries a task whose worker process died this many times (Ray "Task fault tolerance").
MAX_RETRIES = 4  # [E] a worker lost more often than this is not a transient failure
TASKS_IN_FLIGHT_PER_CPU = 2  # [E] one running, one queued: no idle gap, bounded memory


def _chunks(ids: Iterable[int], size: int) -> Iterator[list[int]]:
    chunk: list[int] = []
    for i in ids:
        chunk.append(i)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class InProcess:
    """Runs one after another in this process."""

    def __init__(self):
        self.init_s = 0.0
        self.info = {"ray_version": None, "cluster": {"mode": "in-process", "nodes": 1, "cpus": 1}}

    def map(self, job: Job, run_ids: Iterable[int]):
        for chunk in _chunks(run_ids, 1):
            yield from run_many(job, chunk)

    def close(self) -> None:
        pass


class RayCluster:
    """Ray tasks on a new local instance (``workers`` CPUs) or on the cluster at ``address``."""

    def __init__(self, workers: int | None, address: str | None, runs_per_task: int = 1):
        import ray

        t0 = time.perf_counter()
        common = {"log_to_driver": False, "configure_logging": False}
        if address:
            # a cluster on this machine's loopback: the driver is a loopback node too
            local = address.split(":")[0] in ("127.0.0.1", "localhost")
            ray.init(address=address, **common, **({"_node_ip_address": "127.0.0.1"} if local else {}))
        else:
            ray.init(address="local", num_cpus=workers or os.cpu_count(), include_dashboard=False,
                     _node_ip_address="127.0.0.1", **common)
        self.init_s = time.perf_counter() - t0
        self.ray = ray
        self.runs_per_task = runs_per_task
        self.remote = ray.remote(max_retries=MAX_RETRIES, num_cpus=1)(run_many)
        res = ray.cluster_resources()
        self.cpus = int(res.get("CPU", 1))
        nodes = [n for n in ray.nodes() if n.get("Alive")]
        self.info = {"ray_version": ray.__version__,
                     "cluster": {"mode": "address" if address else "local", "nodes": len(nodes), "cpus": self.cpus}}

    def map(self, job: Job, run_ids: Iterable[int]):
        ray = self.ray
        job_ref = ray.put(job)
        pending: dict = {}
        chunks = _chunks(run_ids, self.runs_per_task)
        cap = TASKS_IN_FLIGHT_PER_CPU * self.cpus

        def submit() -> None:
            for chunk in chunks:
                pending[self.remote.remote(job_ref, chunk)] = chunk
                if len(pending) >= cap:
                    return

        submit()
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            chunk = pending.pop(done[0])
            try:
                results = ray.get(done[0])
            except Exception as e:  # retries exhausted: the runs are error rows, the batch goes on
                results = [_failed(job, i, e) for i in chunk]
            submit()
            yield from results

    def close(self) -> None:
        self.ray.shutdown()


def _failed(job: Job, run_id: int, e: Exception) -> tuple[dict, None]:
    from re100sim.simulator.batch.samplers import run_seed

    point_id, rep = divmod(run_id, job.runs_per_point)
    message = f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}"
    return {"run_id": run_id, "point_id": point_id, "seed_entropy": job.root_seed, "spawn_key": rep,
            "run_seed": run_seed(job.root_seed, rep), "status": "error", "error": message}, None


def executor(workers: int | None, address: str | None):
    """In process for one local worker, else Ray."""
    if address is None and workers == 1:
        return InProcess()
    return RayCluster(workers, address)
