"""Batch screening in blocks of records, in this process or across worker processes.

With workers, the parent reads the input into numbered blocks on one queue; a worker takes
the next block whenever it is free (a worker slowed down by a busy machine simply takes
fewer), and writes its results straight to the output once every earlier block is written,
holding a few screened blocks meanwhile. Either way results keep input order, never pass
back through the parent, and only a few blocks are in flight at a time, so memory stays flat.
"""

import os
import queue
import signal
import stat

from rlscheck.batch import screening as batch
from rlscheck.inputs import records as readers

BLOCK = 500  # records: a block's results are a few MB
HELD = 2  # screened blocks a worker may hold while an earlier block is still being screened
BLOCK_BYTES = 4 << 20
BROKEN_PIPE, WORKER_ERROR, WRITE_ERROR = 1, 2, 3
SKIP_AT_ONCE = 1 << 16  # bytes read at a time while skipping the rest of an over-long line
WRITE_AT_ONCE = 1024  # pieces per writev (the usual IOV_MAX)


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
    (records, with findings, errors). Workers (jobs > 1) need `out` to have a descriptor.
    `screener` (default: batch.Screener) turns each record into its output bytes.
    Raises BrokenPipeError if the reader went away.

    The first block is screened here, before any worker starts, so that they inherit what it
    taught the screener (names resolved, vocabularies opened) instead of each learning it."""
    try:
        out.flush()
        fd = out.fileno()
    except (OSError, ValueError, AttributeError):  # not a real file, e.g. under a test runner
        fd = None
    screener = screener or batch.Screener(kb, output_format)
    counts = [0, 0, 0]  # records, with findings, errors
    blocks = iter(blocks)
    for block in blocks:
        pieces, *block_counts = _screen(screener, block)
        if fd is None:
            out.write(b"".join(pieces))
        else:
            _write_all(fd, pieces)
        counts = [total + more for total, more in zip(counts, block_counts)]
        if progress:
            progress(counts[0])
        if jobs > 1 and fd is not None:
            return _run_workers(screener, blocks, fd, jobs, counts, progress)
    out.flush()
    return tuple(counts)


def _run_workers(screener, blocks, out_fd, jobs, first_counts, progress):
    import multiprocessing

    context = multiprocessing.get_context("fork")
    inbox = context.Queue(maxsize=2 * jobs)
    written = context.Condition()  # notified whenever a block has been written
    order = context.Value("q", 0, lock=False)  # number of the next block to write (under `written`)
    counts = context.Array("q", first_counts)  # records, with findings, errors
    failure = context.Value("i", 0)
    failure_errno = context.Value("i", 0)  # of a failed write
    shared = (screener, inbox, written, order, out_fd, counts, (failure, failure_errno), os.getpid())
    workers = [context.Process(target=_work, daemon=True, args=shared) for _ in range(jobs)]
    # A worker inherits this process's signal handlers until it sets its own: SIGINT and SIGTERM
    # are held back while forking, so one arriving then reaches the parent after the fork and a
    # new worker only after it has its own handlers (no traceback from a half-started worker).
    held_back = _block_stop_signals()
    try:
        for worker in workers:
            worker.start()
    finally:
        _unblock(held_back)
    try:
        for number, block in enumerate(blocks):
            _hand_over(inbox, (number, block), workers, (failure, failure_errno))
            if progress:
                progress(counts[0])
        for _ in workers:
            _hand_over(inbox, None, workers, (failure, failure_errno))
        _wait(workers, (failure, failure_errno))
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
        inbox.cancel_join_thread()  # blocks no worker will read must not hold up the exit
        inbox.close()
    if progress:
        progress(counts[0])
    return counts[0], counts[1], counts[2]


def _hand_over(inbox, block, workers, failure):
    while True:
        _check(workers, failure)
        try:
            inbox.put(block, timeout=0.2)
            return
        except queue.Full:
            continue


def _wait(workers, failure):
    for worker in workers:
        while worker.is_alive():
            worker.join(timeout=0.2)
            _check(workers, failure)
    _check(workers, failure)


def _check(workers, failure):
    """Stop at the first failure: the other workers would wait for its block for ever."""
    failure, failure_errno = failure
    if failure.value == BROKEN_PIPE:
        raise BrokenPipeError
    if failure.value == WRITE_ERROR:
        raise OSError(failure_errno.value, os.strerror(failure_errno.value))
    stopped = [-worker.exitcode for worker in workers if worker.exitcode is not None and worker.exitcode < 0]
    if stopped and not failure.value:
        from rlscheck.errors import Interrupted

        raise Interrupted(stopped[0], "a batch worker process was stopped")
    if failure.value or any(worker.exitcode not in (None, 0) for worker in workers):
        raise RuntimeError("a batch worker process failed; the output is incomplete")


def _work(screener, inbox, written, order, out_fd, counts, failure, parent):
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the parent's handler raises; here, just stop
    _unblock(STOP_SIGNALS)  # held back by the parent while forking
    failure, failure_errno = failure
    _end_with(parent)
    held = {}  # block number -> screened results waiting for every earlier block to be written
    more = True
    try:
        while more or held:
            first = min(held) if held else None
            if first is not None and (first == order.value or len(held) >= HELD or not more):
                if not _await_turn(written, order, first, failure, parent):
                    return
                _write_block(held.pop(first), written, order, out_fd, counts, failure, failure_errno)
                continue
            item = _next_block(inbox, parent)
            if item is None:
                more = False
            else:
                held[item[0]] = _screen(screener, item[1])
    except (ParentGone, BrokenPipeError):
        return
    except Exception:
        failure.value = failure.value or WORKER_ERROR  # the parent reports it, without a traceback
        with written:
            written.notify_all()
        if os.environ.get("RLSCHECK_DEBUG"):
            raise


def _await_turn(written, order, number, failure, parent):
    """Wait until block `number` is the next to write; False if the run failed meanwhile."""
    with written:
        while order.value != number and not failure.value:
            if not written.wait(timeout=1):
                _check_parent(parent)
    return not failure.value


def _write_block(results, written, order, out_fd, counts, failure, failure_errno):
    pieces, total, found, errors = results
    try:
        _write_all(out_fd, pieces)
    except BrokenPipeError:
        failure.value = BROKEN_PIPE  # before the next block's turn, so nothing more is written
        raise
    except OSError as error:  # a full disk, an I/O error: the parent reports it
        failure_errno.value = error.errno or 0
        failure.value = WRITE_ERROR
        raise BrokenPipeError from None  # stop this worker quietly
    finally:
        with written:
            if not failure.value:
                counts[0] += total  # only the worker whose turn it is writes these
                counts[1] += found
                counts[2] += errors
            order.value += 1
            written.notify_all()


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


class ParentGone(Exception):
    pass


def _end_with(parent):
    """Be stopped by the kernel if the parent is killed outright (Linux); elsewhere the
    waits below notice the parent has gone."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # it went before the request above took effect
        os._exit(0)


def _next_block(inbox, parent):
    while True:
        try:
            return inbox.get(timeout=1)
        except queue.Empty:
            _check_parent(parent)


def _check_parent(parent):
    """A parent killed outright cannot stop its workers: they notice and stop themselves."""
    if os.getppid() != parent:
        raise ParentGone


def _screen(screener, block):
    start, payload = block
    records = payload if start is None else readers.read_jsonl(payload, start)
    pieces, total, found, errors = [], 0, 0, 0
    for record in records:
        (head, members), had_findings, was_error = screener.line(record)
        pieces += (head, members)
        total += 1
        found += had_findings
        errors += was_error
    return pieces, total, found, errors


def _write_all(fd, pieces):
    """Write byte strings in order with as few system calls and copies as possible."""
    while pieces:
        written = os.writev(fd, pieces[:WRITE_AT_ONCE])
        if written == sum(map(len, pieces[:WRITE_AT_ONCE])):  # the usual case: all of them
            pieces = pieces[WRITE_AT_ONCE:]
            continue
        done = 0
        while written >= len(pieces[done]):
            written -= len(pieces[done])
            done += 1
        pieces = pieces[done:]
        if written:  # a piece written in part
            pieces[0] = memoryview(pieces[0])[written:]


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


class stopped_by_sigterm:
    """Within it, SIGTERM raises Interrupted in this process (workers keep the default), so
    the clean-up on the way out runs: workers stopped, the temporary output file removed."""

    def __enter__(self):
        def stop(number, frame):
            from rlscheck.errors import Interrupted

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
