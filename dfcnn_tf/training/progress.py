"""Progress display per task and epoch, with a bar and time estimates.

On a terminal one line per task is rewritten in place: a bar, the epoch, the
loss, the latest accuracies and the estimated time left for the task and the
whole run. Elsewhere (a log file, a pipe) every epoch gets its own line with
the same numbers and no bar. `quiet=True` silences it.
"""

import importlib.util
import sys

BAR_WIDTH = 20


def format_duration(seconds):
    """`seconds` as `42s`, `3m05s` or `1h02m`."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class Progress:
    """Reports the tasks and epochs of a run on a stream.

    Args:
        num_tasks: number of tasks in the run.
        epochs_per_task: epochs of each task (`per_task=True`), or of the
            whole run (`per_task=False`, the multi-task protocol, where
            `task_epoch` counts over the whole run).
        quiet: print nothing if true.
        stream: where to print (standard error by default).
        per_task: whether each task has its own `epochs_per_task` epochs.
    """

    def __init__(
        self, num_tasks, epochs_per_task, quiet=False, stream=None, per_task=True
    ):
        self.num_tasks = num_tasks
        self.epochs = epochs_per_task
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self.per_task = per_task
        self._inline = getattr(self.stream, "isatty", lambda: False)()
        self._task_start = None  # (elapsed, task_epoch) of a task's first report

    def start_task(self, task_id, classes):
        """Announces the task about to be trained."""
        self._task_start = None
        self._print(f"task {task_id + 1}/{self.num_tasks}: classes {list(classes)}")

    def epoch(self, task_id, task_epoch, loss, accuracy, elapsed):
        """Reports an epoch; `accuracy` is `{split: value}` or None if not evaluated.

        `elapsed` is the run's time so far in seconds.
        """
        text = f"task {task_id + 1}/{self.num_tasks} epoch {task_epoch}/{self.epochs}"
        if self._inline:
            done = int(BAR_WIDTH * task_epoch / self.epochs)
            text = f"[{'#' * done}{'.' * (BAR_WIDTH - done)}] {text}"
        text = f"  {text}  loss {loss:.4f}"
        if accuracy is not None:
            text += f"  valid {accuracy['valid']:.3f}  test {accuracy['test']:.3f}"
        text += f"  [{elapsed:.1f}s{self._estimates(task_id, task_epoch, elapsed)}]"
        last = task_epoch == self.epochs
        if self._inline:
            self._print("\r" + text, end="\n" if last else "")
        else:
            self._print(text)

    def _estimates(self, task_id, task_epoch, elapsed):
        """`, task left 3s, run left 1m10s` from the epochs timed so far."""
        if self._task_start is None:
            self._task_start = (elapsed, task_epoch - 1)
            return ""
        start_time, start_epoch = self._task_start
        rate = (elapsed - start_time) / (task_epoch - start_epoch - 1 or 1)
        task_left = (self.epochs - task_epoch) * rate
        if not self.per_task:
            return f", left {format_duration(task_left)}"
        later_tasks = (self.num_tasks - task_id - 1) * self.epochs * rate
        return (
            f", task left {format_duration(task_left)}"
            f", run left {format_duration(task_left + later_tasks)}"
        )

    def message(self, text):
        """Prints a free-form line (e.g. where results were written)."""
        self._print(text)

    def record(self, rows):
        """Takes the run's history rows; the display has no use for them."""
        return rows

    def close(self):
        """Ends the display (nothing to release)."""

    def _print(self, text, end="\n"):
        if not self.quiet:
            print(text, end=end, file=self.stream, flush=True)


class Observers:
    """Hands every progress event to several observers (display, TensorBoard).

    Args:
        observers: objects with the methods of `Progress`.
    """

    def __init__(self, *observers):
        self.observers = observers

    def start_task(self, task_id, classes):
        for observer in self.observers:
            observer.start_task(task_id, classes)

    def epoch(self, task_id, task_epoch, loss, accuracy, elapsed):
        for observer in self.observers:
            observer.epoch(task_id, task_epoch, loss, accuracy, elapsed)

    def message(self, text):
        for observer in self.observers:
            observer.message(text)

    def record(self, rows):
        """Passes the run's history rows on (e.g. to be logged); returns them."""
        for observer in self.observers:
            observer.record(rows)
        return rows

    def close(self):
        for observer in self.observers:
            observer.close()


def run_observers(experiment, run_dir, num_tasks, epochs, quiet=False, stream=None):
    """The progress display of a run, plus its TensorBoard log if enabled.

    Args:
        experiment: the resolved `Experiment` (`train.tensorboard` switches
            the log into `<run_dir>/tensorboard` on).
        run_dir: the run's folder.
        num_tasks: number of tasks.
        epochs: the epoch count the display counts to (`Protocol.epochs`).
        quiet: no display if true (the log is still written).
        stream: where the display prints.

    Returns:
        An `Observers` with the methods of `Progress`.
    """
    per_task = experiment.train.protocol == "lifelong"
    display = Progress(num_tasks, epochs, quiet, stream, per_task=per_task)
    if not experiment.train.tensorboard:
        return Observers(display)
    if importlib.util.find_spec("tensorboard") is None:
        display.message(
            "no TensorBoard log: the tensorboard package is not installed "
            "(pip install -r requirements.txt)"
        )
        return Observers(display)
    from dfcnn_tf.training.tensorboard import LOG_DIR, TensorBoardLog

    log = TensorBoardLog(run_dir / LOG_DIR, experiment, trial_id=run_dir.name)
    return Observers(display, log)
