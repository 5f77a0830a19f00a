"""Stopping a run at a safe point when the user or the system asks.

While a `StopSignals` block is active, SIGINT (Ctrl-C) and SIGTERM only
record that a stop was asked for; the training loop looks at it after each
epoch (a compiled epoch is never cut in two), writes a checkpoint there and
raises `Interrupted`, so the same command resumes exactly where it stopped.
A second signal stops at once (`KeyboardInterrupt`): the last checkpoint
(at the latest, the end of the last finished task) is still whole.
"""

import signal
import threading

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(Exception):  # noqa: N818  (an event, not an error)
    """Training stopped at a safe point after a signal.

    Attributes:
        signum: the signal's number.
        rows: the history rows recorded so far.
        exit_code: 128 + the signal's number (130 for SIGINT, 143 for SIGTERM).
    """

    def __init__(self, signum, rows, where):
        name = signal.Signals(signum).name
        super().__init__(
            f"interrupted by {name} {where}; the checkpoint is written: run the "
            "same command again to resume"
        )
        self.signum, self.rows = signum, list(rows)
        self.exit_code = 128 + signum


class StopSignals:
    """Context manager turning SIGINT/SIGTERM into a stop request.

    Outside the main thread (where Python cannot install handlers) it does
    nothing and `requested` stays None.
    """

    def __init__(self):
        self.requested = None  # the first signal's number
        self._previous = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for signum in SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc):
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        return False

    def check(self, rows, where):
        """Raises `Interrupted` if a stop was asked for."""
        if self.requested is not None:
            raise Interrupted(self.requested, rows, where)

    def _handle(self, signum, frame):
        if self.requested is not None:
            raise KeyboardInterrupt  # the second signal: stop now
        self.requested = signum
