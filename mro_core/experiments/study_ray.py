"""Studies fanned out on Ray: each (method, seed) search is one Ray task.

The driver (``mro study --executor ray``) submits the pending runs of a study as tasks
(``num_gpus=1`` each when the cluster has GPUs, else one CPU each), collects their rows as they
finish and writes them itself, into the same runs CSV and report as the local executor; a study
interrupted and restarted skips the runs already written. Ray is an optional extra
(``pip install .[ray]``); on a cluster start ``ray start --head`` on one node, ``ray start
--address HEAD:6379`` on the others, then ``mro study ... --executor ray --address auto``.
"""

from __future__ import annotations

from typing import Callable, Iterator

from mro_core.experiments.study import StudySpec, run_one


class RayUnavailable(ValueError):
    """Ray is not installed (or the cluster cannot be reached): one line naming the fix."""


def ray_submitter(spec: StudySpec, *, address: str | None = None, num_cpus: int | None = None
                  ) -> Callable[[list[tuple[str, int]]], Iterator[dict]]:
    """A ``submit`` callable for :func:`mro_core.experiments.study.run_study` that runs each pending
    (method, seed) as a Ray task and yields the rows in completion order.

    Args:
        address: an existing cluster (``"auto"`` or ``HOST:PORT``); None starts a local Ray.
        num_cpus: CPUs of a local Ray (ignored with ``address``).
    """
    try:
        import ray
    except ImportError:
        raise RayUnavailable("--executor ray needs Ray: pip install 'mro[ray]' (or pip install ray)") from None

    def submit(todo: list[tuple[str, int]]) -> Iterator[dict]:
        started_here = not ray.is_initialized()
        if started_here:
            try:
                ray.init(address=address, num_cpus=None if address else num_cpus, include_dashboard=False,
                         log_to_driver=False, ignore_reinit_error=True)
            except (ConnectionError, RuntimeError) as e:
                raise RayUnavailable(f"cannot reach the Ray cluster at {address!r}: {e}") from None
        try:
            gpus = ray.cluster_resources().get("GPU", 0) > 0
            task = ray.remote(num_gpus=1 if gpus else 0, num_cpus=0 if gpus else 1)(run_one)
            pending = {task.remote(spec, m, s): (m, s) for m, s in todo}
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    pending.pop(ref)
                    yield ray.get(ref)
        finally:
            if started_here:
                ray.shutdown()

    return submit
