"""A clock for compute times that does not count the time the process was stopped.

Why: a run's epoch seconds are the study's compute (``table study --compute``), and a run
paused with SIGSTOP (the test suite beside the study on two cores) would count its whole pause
as compute; neither ``time`` nor ``torch`` measure that.  A daemon thread ticks every ``tick``
seconds; a gap of more than ``gap`` seconds between two ticks can only be a stop (or a
suspended machine), and the clock leaves it out.
"""
import threading
import time


class RunningClock:
    def __init__(self, tick: float = 1.0, gap: float = 10.0):
        self.tick, self.gap = float(tick), float(gap)
        self.stopped = 0.0  # seconds left out so far
        self._lock = threading.Lock()
        self._last = time.monotonic()
        threading.Thread(target=self._ticks, name="catpose-running-clock", daemon=True).start()

    def _stop_in(self, since_tick: float) -> float:
        """The stop inside ``since_tick`` seconds since the last tick (0 when it is no stop)."""
        return since_tick - self.tick if since_tick > self.gap else 0.0

    def _ticks(self):
        while True:
            time.sleep(self.tick)
            now = time.monotonic()
            with self._lock:
                self.stopped += self._stop_in(now - self._last)
                self._last = now

    def __call__(self) -> float:
        """Seconds on a monotonic clock, less the stops seen so far (differences are run time)."""
        now = time.monotonic()
        with self._lock:  # and a stop that has just ended, before the thread's next tick
            return now - self.stopped - self._stop_in(now - self._last)


_CLOCK = None


def running_seconds() -> float:
    """The process's clock without its stops (a :class:`RunningClock` started on first use)."""
    global _CLOCK
    if _CLOCK is None:
        _CLOCK = RunningClock()
    return _CLOCK()
