"""Batch screening in blocks of records, in this process or across worker processes.

With workers, the parent reads the input in blocks and hands them to a pool of forked worker
processes (concurrent.futures), writing each block's results as they come back, in input
order. Only two blocks per worker are in flight at a time, so memory stays flat.
"""

import itertools
import os
import signal
import stat

from rlscheck.batch import screening as batch
from rlscheck.errors import Interrupted
from rlscheck.inputs import batchfiles as readers

BLOCK = 500  # records: a block's results are a few MB
BLOCK_BYTES = 4 << 20
SKIP_AT_ONCE = 1 << 16  # bytes read at a time while skipping the rest of an over-long line


DEFAULT_MOST_JOBS = 4  # more workers would mostly add memory: each keeps its own caches


def default_jobs():
    """One worker per CPU this process may use, up to DEFAULT_MOST_JOBS."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return min(cpus, DEFAULT_MOST_JOBS)


def can_fork():
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


def lines(stream, most=None):
    """Raw lines of a binary stream, each read with a bounded buffer: a line longer than
    `most` bytes is given as its first `most + 1` bytes (too long to be read as a record) and
    the rest of it, up to the next newline, is skipped unread. Memory stays bounded whatever
    the input (`/dev/zero`)."""
    most = readers.MAX_LINE if most is None else most
    while True:
        raw = stream.readline(most + 1)
        if not raw:
            return
        if len(raw) <= most or raw.endswith(b"\n"):
            yield raw
            continue
        yield raw  # over-long: the reader turns it into an error line before the rest is skipped
        while True:
            check_stopped()
            rest = stream.readline(SKIP_AT_ONCE)
            if not rest or rest.endswith(b"\n"):
                break


def jsonl_blocks(stream, size=BLOCK, most_bytes=BLOCK_BYTES):
    """(first line number, raw lines) in blocks of `size` lines or `most_bytes` bytes, whichever
    comes first (long lines must not make a block large); the workers read the lines. A block
    ending in an over-long line is handed on at once, so its error line is written while the
    rest of that line is skipped."""
    number, block, held = 1, [], 0
    for raw in lines(stream):
        block.append(raw)
        held += len(raw)
        if len(block) == size or held >= most_bytes or len(raw) > readers.MAX_LINE:
            yield number, block
            number, block, held = number + len(block), [], 0
    if block:
        yield number, block


def record_blocks(records, size=BLOCK):
    """Records already read (CSV, whose cells may span lines), in blocks."""
    block = []
    for record in records:
        block.append(record)
        if len(block) == size:
            yield None, block
            block = []
    if block:
        yield None, block


def run(kb, blocks, out, jobs=1, progress=None, output_format="jsonl", screener=None):
    """Screen blocks and write the results to `out` (a binary file) in input order; returns
    (records, with findings, errors). `screener` (default: batch.Screener) turns each record
    into its output bytes. Raises BrokenPipeError if the reader went away.

    The first block is screened here, before any worker starts, so that they inherit what it
    taught the screener (names resolved, vocabularies opened) instead of each learning it."""
    screener = screener or batch.Screener(kb, output_format)
    counts = [0, 0, 0]  # records, with findings, errors
    blocks = iter(blocks)
    first = next(blocks, None)
    if first is None:
        return tuple(counts)
    if jobs > 1 and can_fork():
        _reuse_freed_memory()
        rest = _in_workers(screener, blocks, jobs)
    else:
        rest = (_screen(screener, block) for block in blocks)
    try:
        for text, *block_counts in itertools.chain([_screen(screener, first)], rest):
            check_stopped()
            out.write(text)
            out.flush()  # each block as soon as it is screened: a reader sees results as they come
            counts = [total + more for total, more in zip(counts, block_counts)]
            if progress:
                progress(counts[0])
    finally:
        rest.close()  # workers stop now, not when the error is handled
    out.flush()
    return tuple(counts)


def _reuse_freed_memory():
    """Keep freed memory for reuse in this process and the workers it forks (glibc only).

    Each block's results (a few MB) are copied several times between a worker and the output;
    glibc hands buffers that large back to the system when freed, so every copy was paged in
    afresh, and those page faults took about a fifth of a run's time with workers."""
    try:
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError, TypeError):  # another C library: nothing to tune
        return
    mallopt(-3, 8 << 20)  # M_MMAP_THRESHOLD: blocks up to 8 MB come from the reusable heap
    mallopt(-1, 16 << 20)  # M_TRIM_THRESHOLD: up to 16 MB freed stays in the process


_worker_screener = None  # set in the parent just before the workers are forked


def _in_workers(screener, blocks, jobs):
    """Each block's results in input order, screened by `jobs` forked worker processes that
    inherit `screener`; at most two blocks per worker are in flight, so memory stays flat."""
    import multiprocessing
    from collections import deque
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    global _worker_screener
    _worker_screener = screener
    pool = ProcessPoolExecutor(jobs, multiprocessing.get_context("fork"), initializer=_start_worker,
                               initargs=(os.getpid(),))
    in_flight, workers = deque(), []
    try:
        for block in blocks:
            if len(in_flight) == 2 * jobs:
                yield in_flight.popleft().result()
            if workers:
                in_flight.append(pool.submit(_screen_in_worker, block))
                continue
            # The first submit forks every worker: SIGINT and SIGTERM are held back meanwhile, so
            # none reaches a worker before it has its own handlers (no half-started traceback).
            held_back = _block_stop_signals()
            try:
                in_flight.append(pool.submit(_screen_in_worker, block))
                workers = list(pool._processes.values())  # noqa: SLF001 - to stop them and read exit codes
            finally:
                _unblock(held_back)
        while in_flight:
            yield in_flight.popleft().result()
    except BrokenProcessPool:
        raise _stopped(workers) from None
    except Exception as error:
        if os.environ.get("RLSCHECK_DEBUG") or type(error.__cause__).__name__ != "_RemoteTraceback":
            raise  # not raised in a worker
        raise RuntimeError("a batch worker process failed; the output is incomplete") from None
    finally:
        _worker_screener = None
        # Blocks not started are dropped; those being screened finish (a worker killed while
        # sending its results would leave the pool waiting for the rest of them for ever).
        pool.shutdown(wait=True, cancel_futures=True)


def _stopped(workers):
    """The error for a worker that died: the pool stops the others with SIGTERM, so another
    signal is the one that ended it (SIGKILL from the out-of-memory killer or a user)."""
    for worker in workers:
        worker.join(timeout=5)
    codes = {-worker.exitcode for worker in workers if worker.exitcode is not None and worker.exitcode < 0}
    if not codes:
        return RuntimeError("a batch worker process failed; the output is incomplete")
    return Interrupted(min(codes - {signal.SIGTERM} or codes), "a batch worker process was stopped")


def _start_worker(parent):
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the parent's handler raises; here, just stop
    _unblock(STOP_SIGNALS)  # held back by the parent while forking
    _end_with(parent)


def _screen_in_worker(block):
    return _screen(_worker_screener, block)


STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def _block_stop_signals():
    """Hold back SIGINT and SIGTERM (they stay pending); returns what to unblock afterwards."""
    try:
        before = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    except (AttributeError, OSError, ValueError):  # no signal masks here
        return set()
    return STOP_SIGNALS - set(before)


def _unblock(signals):
    if signals:
        try:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, signals)
        except (AttributeError, OSError, ValueError):
            pass


def _end_with(parent):
    """Be stopped by the kernel if the parent is killed outright (Linux)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # it went before the request above took effect
        os._exit(0)


def _screen(screener, block):
    """(the block's output bytes, records, with findings, errors)."""
    start, payload = block
    records = payload if start is None else readers.read_jsonl(payload, start)
    lines, total, found, errors = [], 0, 0, 0
    for record in records:
        line, had_findings, was_error = screener.line(record)
        lines.append(line)
        total += 1
        found += had_findings
        errors += was_error
    return b"".join(lines), total, found, errors


def same_file(stream, path=None, fd=None):
    """Whether `stream` (the input) is the same file as `path` or descriptor `fd`: same device
    and inode, so symbolic and hard links count too."""
    try:
        here = os.fstat(stream.fileno())
        there = os.stat(path) if path is not None else os.fstat(fd)
    except (OSError, ValueError, AttributeError, TypeError):
        return False
    return stat.S_ISREG(here.st_mode) and (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


class Output:
    """Where batch results go. A regular file (or a new one) is written under a temporary name
    in its folder and moved into place only when the run has succeeded, so a run stopped by
    a signal, Ctrl-C or an error leaves the earlier file (or none), never a cut-off line.
    Anything else (stdout, a pipe, a device such as /dev/null) is written directly."""

    def __init__(self, path=None):
        self.name = "stdout" if path is None else path
        self._stdout = path is None
        self._final = self._temporary = None
        if path is None:
            self.file = _binary_stdout()
            return
        final = os.path.realpath(path)  # through a symbolic link: replace its target, keep the link
        try:
            status = os.stat(final)
        except FileNotFoundError:
            status = None
        if status is not None and not stat.S_ISREG(status.st_mode):
            self.file = open(path, "wb")
            return
        import tempfile

        try:
            handle, self._temporary = tempfile.mkstemp(dir=os.path.dirname(final),
                                                       prefix=f".{os.path.basename(final)}.", suffix=".part")
        except PermissionError:  # a writable file in a folder that is not: write it in place
            self.file = open(path, "wb")
            return
        try:
            self._final = final
            self.file = os.fdopen(handle, "wb")
            os.chmod(self._temporary, stat.S_IMODE(status.st_mode) if status else 0o666 & ~_umask())
        except BaseException:  # stopped while starting: leave no temporary file behind
            os.unlink(self._temporary)
            raise

    def commit(self):
        """Finish writing; a temporary file takes the place of the final one."""
        if self.file is _stdout_buffer():
            self.file.flush()
            return
        self.file.close()
        if self._temporary:
            os.replace(self._temporary, self._final)
            self._temporary = None

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        """On any failure the temporary file goes; a write error becomes OutputError (exit 5),
        naming the output. A broken pipe (the reader went away) passes on as it is."""
        if kind is None:
            return False
        self.discard()
        if issubclass(kind, OSError) and not issubclass(kind, BrokenPipeError):
            from rlscheck.errors import OutputError
            from rlscheck.textsafe import safe

            raise OutputError("stdout" if self._stdout else f"'{safe(self.name)}'", error) from None
        return False

    def discard(self):
        """After a failure: close, and remove the temporary file, if any."""
        try:
            if self.file is not _stdout_buffer():
                self.file.close()
        except OSError:
            pass
        if self._temporary:
            try:
                os.unlink(self._temporary)
            except OSError:
                pass
            self._temporary = None


def _umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _stdout_buffer():
    import sys

    return getattr(sys.stdout, "buffer", None)


def _binary_stdout():
    import sys

    try:
        return open(sys.stdout.fileno(), "wb", closefd=False)
    except (OSError, ValueError, AttributeError):  # not a real file, e.g. under a test runner
        return sys.stdout.buffer


def finished():
    """The results are complete and in place: a Ctrl-C or SIGTERM from now on has nothing left to
    stop, and would only turn a finished run into a failed one (or a traceback on the way out)."""
    for number in STOP_SIGNALS:
        try:
            signal.signal(number, signal.SIG_IGN)
        except ValueError:  # not the main thread
            pass


_stopped_by = 0  # the signal that asked this run to stop, once one has


def check_stopped():
    """Raise Interrupted if SIGTERM has asked the run to stop. The handler raises it at once,
    but an exception raised while Python runs a weak-reference callback (as imports do) is
    only printed: reading and writing check here too, so the request is never lost."""
    if _stopped_by:
        raise Interrupted(_stopped_by)


class stopped_by_sigterm:
    """Within it, SIGTERM raises Interrupted in this process (workers keep the default), so
    the clean-up on the way out runs: workers stopped, the temporary output file removed."""

    def __enter__(self):
        def stop(number, frame):
            global _stopped_by
            _stopped_by = number
            raise Interrupted(number)

        self._stop = stop
        try:
            self._previous = signal.signal(signal.SIGTERM, stop)
        except ValueError:  # not the main thread
            self._previous = None
        return self

    def __exit__(self, *exc):
        if self._previous is not None and signal.getsignal(signal.SIGTERM) is self._stop:  # not finished()
            signal.signal(signal.SIGTERM, self._previous)
        return False
