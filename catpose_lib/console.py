"""What a person reads on the terminal, and the log that takes what the libraries print.

catpose's own lines (progress, tables, verdicts, where the figures are) go through :func:`say`.
Inside :func:`library_log` everything else written to stdout / stderr goes to one log file:
pycocotools' "Average Precision / Recall" summaries (it prints them, with no switch to turn
them off: 12 lines per validation), mmengine's and MMPose's log lines, Python's warnings, and
what C/C++ code and child processes write to the file descriptors.  Each entry point (a CLI
command, a notebook's report function, the demo) opens one; the outermost names it at the end.
Child processes (a notebook's kernel, `python -m catpose_lib ...`) inherit it through
``CATPOSE_LOG`` and write to the same file.
"""
import contextlib
import functools
import io
import os
import sys
import time
from pathlib import Path

LOG_ENV = "CATPOSE_LOG"  # the log a parent process opened; its children write there too
_ACTIVE = dict(path=None, file=None, terminal=None, terminal_err=None, said=0)


def log_dir() -> Path:
    return Path(os.environ.get("CATPOSE_CACHE", Path.home() / ".cache" / "catpose")) / "logs"


def say(*parts, sep=" ", end="\n", err=False) -> None:
    """A line for the person reading (the terminal, or the notebook's output), also inside
    :func:`library_log`, where it is copied into the log to give the library lines context;
    ``err``: on the terminal's stderr (an error line about one input, the rest going on)."""
    text = sep.join(str(p) for p in parts) + end
    terminal = (_ACTIVE["terminal_err"] or sys.stderr) if err else (_ACTIVE["terminal"] or sys.stdout)
    terminal.write(text)
    terminal.flush()
    if _ACTIVE["file"] is not None:
        _ACTIVE["file"].write(text)
        _ACTIVE["said"] += len(text.encode("utf-8"))


def terminal():
    """The stream :func:`say` writes to (e.g. for a notebook runner's stdout)."""
    return _ACTIVE["terminal"] or sys.stdout


class _ToLog(io.TextIOBase):
    """sys.stdout / sys.stderr inside :func:`library_log`.  A library that kept this stream
    (a logging handler) writes to the original stream again once the log is closed."""

    def __init__(self, original):
        self.original = original

    def writable(self):
        return True

    def write(self, text):
        target = _ACTIVE["file"] if _ACTIVE["file"] is not None else self.original
        return target.write(text)

    def flush(self):
        (_ACTIVE["file"] if _ACTIVE["file"] is not None else self.original).flush()

    def isatty(self):
        return False

    @property
    def encoding(self):
        return "utf-8"


def _terminal_copy(stream, fd):
    """The stream :func:`say` writes to while ``fd`` points at the log: ``stream`` itself, or,
    when ``stream`` writes to ``fd`` (a plain terminal), a new stream on a copy of ``fd``."""
    try:
        same = stream.fileno() == fd
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError
        same = False
    if not same:
        return stream
    stream.flush()
    return os.fdopen(os.dup(fd), "w", buffering=1, encoding=getattr(stream, "encoding", None) or "utf-8",
                     errors="replace")


@contextlib.contextmanager
def library_log(name: str):
    """Send what libraries print to ``<cache>/logs/<name>-<time>.log`` (or the parent's
    ``CATPOSE_LOG``) while the block runs; yields the log's path.  Nested blocks share the
    outer log.  On leaving, the outermost block of the process that opened the log says where
    it is (a log left empty is removed)."""
    if _ACTIVE["path"] is not None:
        yield _ACTIVE["path"]
        return
    inherited = os.environ.get(LOG_ENV)
    path = Path(inherited) if inherited else log_dir() / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    log = open(path, "a", buffering=1, encoding="utf-8", errors="replace")
    streams = sys.stdout, sys.stderr
    terminal = _terminal_copy(sys.stdout, 1)
    terminal_err = _terminal_copy(sys.stderr, 2)
    saved_fds = {fd: os.dup(fd) for fd in (1, 2)}
    for fd in (1, 2):  # C/C++ output and child processes: the descriptors point at the log too
        os.dup2(log.fileno(), fd)
    _ACTIVE.update(path=path, file=log, terminal=terminal, terminal_err=terminal_err, said=0)
    sys.stdout, sys.stderr = _ToLog(streams[0]), _ToLog(streams[1])
    os.environ[LOG_ENV] = str(path)
    try:
        yield path
    finally:
        log.flush()
        sys.stdout, sys.stderr = streams
        for fd, copy in saved_fds.items():
            os.dup2(copy, fd)
            os.close(copy)
        said = _ACTIVE["said"]
        _ACTIVE.update(path=None, file=None, terminal=None, terminal_err=None, said=0)
        if terminal is not streams[0]:
            terminal.close()
        if terminal_err is not streams[1]:
            terminal_err.close()
        log.close()
        if not inherited:  # the parent that opened the log names it
            os.environ.pop(LOG_ENV, None)
            if path.stat().st_size <= said:  # nothing but our own lines
                path.unlink()
            else:
                say(f"library output (metric printouts, warnings): {path}")


def logged(name):
    """Decorator: the function runs inside :func:`library_log`; ``name`` is the log's name, or a
    function of the call's arguments that returns it (e.g. the notebook of a block)."""
    def decorate(fn):
        @functools.wraps(fn)
        def inner(*args, **kwargs):
            with library_log(name(*args, **kwargs) if callable(name) else name):
                return fn(*args, **kwargs)
        return inner
    return decorate
