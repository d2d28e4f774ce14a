"""Run the replicate blocks in-process, on local processes, or on a dask.distributed cluster.

The unit of work is a block of ``resample.BLOCK`` (250) replicates; a worker receives only the block
number and regenerates that block's row indices from the seed, so results are bit-identical for any
``jobs``, backend or completion order (blocks are re-sorted by replicate number).

* ``jobs = 1`` and no scheduler: in this process.
* ``jobs > 1``: ``concurrent.futures.ProcessPoolExecutor`` (``fork`` where available: workers start in
  milliseconds and inherit the imported modules); each worker is limited to one BLAS thread so that
  ``jobs`` processes do not oversubscribe the cores.
* ``scheduler``: ``"local"`` → a ``dask.distributed.LocalCluster`` with ``jobs`` single-threaded worker
  processes (local processes as above when the optional dask extra is not installed); ``"local-threads"``
  → an in-process LocalCluster (threads; handy for tests); any other string is a scheduler address
  (``"tcp://host:8786"``) whose workers can import ``cluster_sem``, probed (bounded) before use.
* Bit-identical results also need the same floating-point path everywhere: OpenBLAS may sum in a
  different order with 1 or 2 threads (differences ~1e-14 were observed), so every backend runs the
  numerics with one BLAS thread (a ``threadpoolctl`` context in this process, a permanent limit in worker
  processes, which exist only for this purpose).  Parallelism comes from the blocks, not from BLAS.
* Progress: a tqdm bar with ETA on stderr, shown only after ~1 s of work, and never when ``quiet`` or
  when stderr is not a terminal.
"""
from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import signal
import sys
import threading
from concurrent.futures import ProcessPoolExecutor, as_completed

from . import batched
from .batched import BlockResult, ModelCore, count_covariances, fit_covariance_block, fit_resamples, needs_counts
from .resample import block_index_chunks, block_indices, block_range, n_blocks

CONNECT_TIMEOUT = "10s"   # dask's default is 30 s of silent retries; also bounds the "is it dask?" probe
DASK_INSTALL = 'pip install "cluster-sem[dask]"'
_CORE: ModelCore | None = None
_LIMITED = False


def fit_block(core: ModelCore, B: int, seed: int, k: int) -> BlockResult:
    """Fit block k of a B-replicate bootstrap with the given seed.

    Small data: the block's (b, n) indices and one BLAS product for all covariances.  When that would
    exceed ``batched.MEMORY_BUDGET`` (n ≈ 10⁵ and more), covariances come from resampling counts, the
    indices are drawn a few replicates at a time (the same values) and are not kept.  A cluster core
    (``clusters.ClusterCore``, ``n_units`` = G) draws cluster numbers instead (b × G, always small).
    """
    n, p = core.data.shape
    first, stop = block_range(B, k)
    units = getattr(core, "n_units", None)
    if units is not None:   # cluster bootstrap: block k draws cluster numbers from the same stream
        return core.fit_resamples(block_indices(units, B, seed, k), first)
    if not needs_counts(n, p, stop - first):
        return fit_resamples(core, block_indices(n, B, seed, k), start=first)
    per_chunk = max(1, batched.MEMORY_BUDGET // (4 * 4 * n))
    S = count_covariances(core.data, block_index_chunks(n, B, seed, k, per_chunk))

    def rows_of(r: int):  # regenerated on demand (semopy fallback only)
        for lo, chunk in block_index_chunks(n, B, seed, k, per_chunk):
            if lo <= r < lo + len(chunk):
                return chunk[r - lo]
        raise IndexError(r)

    return fit_covariance_block(core, S, first, rows_of)


def _one_blas_thread(permanent: bool):
    """One BLAS thread: permanently in a worker process, as a context (restored on exit) otherwise."""
    global _LIMITED
    from ..blas import started_single
    if started_single():     # the command line started BLAS with one thread: nothing to limit, in workers too
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # threadpoolctl is optional; without it results may differ in the last bits
        return contextlib.nullcontext()
    if permanent:
        if not _LIMITED:
            threadpool_limits(1)
            _LIMITED = True
        return contextlib.nullcontext()
    return threadpool_limits(1)


def _init_worker(core) -> None:
    global _CORE
    _CORE = core
    # Workers die on SIGTERM and ignore Ctrl-C (sent to the whole process group): the parent decides, and
    # terminates them itself (``_stop_pool``), instead of each worker printing a traceback.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _one_blas_thread(permanent=True)


def _worker_task(func, args: tuple):
    return func(_CORE, *args)


def _dask_task(func, core, args: tuple, limit: bool):
    if limit:
        _one_blas_thread(permanent=True)
    return func(core, *args)


class _NoBar:
    """Stand-in for a hidden bar: importing tqdm alone costs ~0.1 s of every bootstrap process."""

    def __enter__(self) -> "_NoBar":
        return self

    def __exit__(self, *exc) -> None:
        return None

    def update(self, n: int = 1) -> None:
        pass


def progress(total: int, quiet: bool, *, unit: str = "resample", desc: str = "bootstrap", initial: int = 0):
    """tqdm bar with ETA on stderr: only on a terminal, only after ~1 s, never when ``quiet``."""
    show = not quiet and hasattr(sys.stderr, "isatty") and sys.stderr.isatty()
    if not show:
        return _NoBar()
    from tqdm import tqdm
    return tqdm(total=total, unit=unit, desc=desc, file=sys.stderr, disable=not show, delay=1.0,
                dynamic_ncols=True, leave=False, initial=initial)


def _has_dask() -> bool:
    try:
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True


def resolve_scheduler(scheduler):
    """The scheduler to use: 'local' without the optional dask extra is local processes (None, with
    ``jobs``), as without --scheduler; any other scheduler without dask is one line naming the install."""
    if not isinstance(scheduler, str) or _has_dask():
        return scheduler
    if scheduler == "local":
        return None
    from ..errors import ClusterSemError
    raise ClusterSemError(f"--scheduler {scheduler}: needs the optional dask extra, which is not installed. "
                          f"Fix: {DASK_INSTALL}, or use --jobs N (local processes) without --scheduler")


def backend_name(jobs: int, scheduler) -> str:
    """Where the blocks ran, in results.json's words: 'local' without dask ran on local processes."""
    return "dask" if resolve_scheduler(scheduler) is not None else "processes" if jobs > 1 else "in-process"


def run_tasks(func, core, tasks: list[tuple], *, jobs: int = 1, scheduler=None, done=lambda result: None,
              meanwhile=None) -> None:
    """Run ``func(core, *task)`` for every task in this process, on ``jobs`` local processes or on dask.

    The engines' unit of parallel work (bootstrap blocks, power chunks): ``core`` (picklable, read-only) is
    sent once per worker, a task is a few small numbers, and ``done`` receives each result as it completes
    (in any order — callers sort).  ``func`` must be a module-level function so that it pickles.  Ctrl-C,
    SIGTERM (the CLI raises on it) or a failed task stop the local workers at once.

    ``meanwhile`` (no arguments) runs once in this process: while the local workers work (this process
    would otherwise only wait for them: the caller's independent steps then cost no wall time of their own
    on a machine with a core to spare), before the tasks when they run in-process or on dask.  An exception
    it raises stops the workers like a failed task.
    """
    scheduler = resolve_scheduler(scheduler)
    local_pool = scheduler is None and jobs > 1 and len(tasks) > 1
    if meanwhile is not None and not local_pool:
        meanwhile()
    if scheduler is not None:
        _run_dask(func, core, tasks, jobs, scheduler, done)
    elif not local_pool:
        with _one_blas_thread(permanent=False):
            for task in tasks:
                done(func(core, *task))
    else:
        methods = mp.get_all_start_methods()
        ctx = mp.get_context("fork" if "fork" in methods and sys.platform != "darwin" else None)
        pool = ProcessPoolExecutor(max_workers=min(jobs, len(tasks)), mp_context=ctx, initializer=_init_worker,
                                   initargs=(core,))
        try:
            futures = [pool.submit(_worker_task, func, task) for task in tasks]
            if meanwhile is not None:
                meanwhile()
            for fut in as_completed(futures):
                done(fut.result())
        except BaseException:
            _stop_pool(pool)
            raise
        pool.shutdown(wait=True)


def run_blocks(core: ModelCore, B: int, seed: int, *, jobs: int = 1, scheduler=None,
               quiet: bool = True, meanwhile=None) -> list[BlockResult]:
    """All blocks of a B-replicate bootstrap, sorted by replicate number (``meanwhile``: see ``run_tasks``)."""
    return run_replicate_blocks(fit_block, core, B, seed, jobs=jobs, scheduler=scheduler, quiet=quiet,
                                meanwhile=meanwhile)


def run_replicate_blocks(func, core, B: int, *args, desc: str = "bootstrap", jobs: int = 1, scheduler=None,
                         quiet: bool = True, meanwhile=None) -> list:
    """``func(core, B, *args, k)`` for every block k of a B-replicate run, in block order.

    The one loop of every blocked resampling engine (ML, PLS and LMS bootstraps, PLS-MGA permutations):
    blocks complete in any order on workers, so results are keyed by their block number here and sorted,
    and the progress bar (``desc``) advances by each block's replicate count.  ``func`` must be a
    module-level function (it is pickled to workers); ``meanwhile``: see ``run_tasks``."""
    results: dict[int, object] = {}
    with progress(B, quiet, desc=desc) as bar:
        def done(res: tuple[int, object]) -> None:
            k, value = res
            results[k] = value
            start, stop = block_range(B, k)
            bar.update(stop - start)

        run_tasks(_numbered_block, core, [(func, B, *args, k) for k in range(n_blocks(B))], jobs=jobs,
                  scheduler=scheduler, done=done, meanwhile=meanwhile)
    return [results[k] for k in sorted(results)]


def _numbered_block(core, func, *task) -> tuple[int, object]:
    """(block number, ``func(core, *task)``): the block number is the task's last argument."""
    return task[-1], func(core, *task)


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """Stop now: drop the queued blocks and terminate the workers (``shutdown`` alone would wait for every
    queued block, and SIGTERM to the parent alone would leave the workers running)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in processes:
        if proc.is_alive():
            proc.terminate()
    for proc in processes:
        proc.join(timeout=2)
        if proc.is_alive():   # e.g. forked before its initializer reset SIGTERM: a SIGKILL, then reap it
            proc.kill()
            proc.join(timeout=2)


@contextlib.contextmanager
def _ctrl_c_ignored_by_children():
    """Start dask's worker processes with SIGINT ignored (inherited through spawn, and then asyncio installs
    no handler of its own): Ctrl-C goes to the whole process group, and each worker would print a
    KeyboardInterrupt traceback; the parent alone reports it and closes the cluster."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _run_dask(func, core, tasks, jobs, scheduler, done) -> None:
    from dask.distributed import Client, LocalCluster
    from dask.distributed import as_completed as dask_completed

    cluster = None
    threads = scheduler == "local-threads"
    if isinstance(scheduler, str) and scheduler in ("local", "local-threads"):
        with _ctrl_c_ignored_by_children():
            cluster = LocalCluster(n_workers=1 if threads else max(jobs, 1),
                                   threads_per_worker=max(jobs, 1) if threads else 1,
                                   processes=not threads, dashboard_address=None,
                                   # no dashboard; the scheduler's own HTTP server (health, metrics) on a
                                   # free loopback port, not 8787: a second run at the same time warned
                                   # "Port 8787 is already in use" into the user's output
                                   scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
                                   # CRITICAL: a cluster closed by Ctrl-C makes each worker warn about every
                                   # cancelled task, and a worker whose heartbeat meets the closing
                                   # scheduler logs an ERROR traceback; a worker that dies or runs out of
                                   # memory still reaches the user as the failed task's one line
                                   silence_logs=logging.CRITICAL)
        client = Client(cluster)
    elif isinstance(scheduler, str):
        client = _connect(Client, scheduler)
    else:                                   # an existing Client: used, not closed
        client = scheduler
    try:
        with _one_blas_thread(permanent=False) if threads else contextlib.nullcontext():
            core_f = client.scatter(core, broadcast=True)
            futures = [client.submit(_dask_task, func, core_f, task, not threads, pure=False) for task in tasks]
            for fut in dask_completed(futures):
                done(fut.result())
    except BaseException:
        stopped = True
        raise
    else:
        stopped = False
    finally:
        # stopped (Ctrl-C, SIGTERM, a failed task): our cluster's scheduler, closed with tasks still queued,
        # logs each undeliverable cancellation as a CRITICAL traceback; the caller's one line says it all
        logger = logging.getLogger("distributed")
        level = logger.level
        if stopped:
            logger.setLevel(logging.CRITICAL + 1)
        try:
            if client is not scheduler:
                client.close()
            if cluster is not None:
                cluster.close()
        finally:
            logger.setLevel(level)


def _connect(client_class, address: str):
    """A Client of the dask scheduler at ``address``, or one line within ~CONNECT_TIMEOUT: first a bounded
    probe (dask's own Client waits forever on a listener that says nothing, and reads another protocol's
    bytes as a frame length — "cannot allocate 3 EiB"), then the Client itself."""
    from ..errors import ClusterSemError
    problem = _probe(address, float(CONNECT_TIMEOUT.rstrip("s")))
    if problem is None:
        try:
            return client_class(address, timeout=CONNECT_TIMEOUT)
        except Exception as exc:   # noqa: BLE001 - OSError, TimeoutError, and whatever a dying scheduler gives
            problem = type(exc).__name__
    raise ClusterSemError(f"--scheduler {address}: cannot connect to a dask scheduler there within "
                          f"{CONNECT_TIMEOUT} ({problem}). Fix: start the scheduler and its "
                          "workers, check the address, or use --jobs N without --scheduler")


def _probe(address: str, seconds: float) -> str | None:
    """None if a dask scheduler answers dask's ``identity`` request at ``address`` within ``seconds``, else
    why not.  Runs on its own event loop in a daemon thread, so neither a caller's running loop nor a
    listener that never answers can hold this process."""
    import asyncio

    async def ask():
        from distributed.comm import connect
        from distributed.security import Security
        # the client's TLS settings from the dask configuration, as Client itself uses them
        comm = await connect(address, timeout=seconds, **Security().get_connection_args("client"))
        try:
            await comm.write({"op": "identity", "reply": True})
            return await comm.read()
        finally:
            comm.abort()

    outcome: dict = {}

    def run() -> None:
        try:
            outcome["reply"] = asyncio.run(asyncio.wait_for(ask(), seconds))
        except BaseException as exc:   # noqa: BLE001 - reported below as the problem
            outcome["error"] = exc

    thread = threading.Thread(target=run, name="dask-probe", daemon=True)
    thread.start()
    thread.join(seconds + 2)
    if "error" in outcome:
        exc = outcome["error"]
        if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
            return "no answer"
        if isinstance(exc, OSError):
            return type(exc).__name__
        return f"what answers there is not a dask scheduler: {type(exc).__name__}"
    reply = outcome.get("reply")
    if reply is None:
        return "no answer"
    if not (isinstance(reply, dict) and reply.get("type") == "Scheduler"):
        return "something else answers there, not a dask scheduler"
    return None
