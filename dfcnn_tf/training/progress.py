"""Progress display per task and epoch, with a bar and time estimates.

On a terminal each task has a `tqdm` bar over its epochs, redrawn in place
every epoch with the run's time so far, the estimated time left for the task
and the whole run, the loss and the task's latest accuracies (in %), cut at
the terminal's width; a finished task leaves one line. Elsewhere (a log
file, a pipe) every epoch gets its own line with the same numbers and no
bar; accuracies appear on the epochs that were evaluated. `quiet=True`
silences it.

The estimates take the run's average time per epoch so far: `elapsed` is the
run's clock, which a resume carries over together with the epochs done, so
they hold across resumes and reloads.
"""

import importlib.util
import os
import sys

from tqdm import tqdm

BAR_FORMAT = "  |{bar:20}| {desc}"
# tqdm's columns and rows where the terminal reports no size (tqdm would read
# -1 and draw nothing): the line is not cut.
NO_LIMIT = 10_000


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
        self._bar = None  # the terminal's bar of the epochs being counted
        self._latest = {}  # task id -> its latest `{split: accuracy}`

    def start_task(self, task_id, classes):
        """Announces the task about to be trained."""
        self._end_bar()
        self._print(f"task {task_id + 1}/{self.num_tasks}: classes {list(classes)}")

    def epoch(self, task_id, task_epoch, loss, accuracy, elapsed):
        """Reports an epoch; `accuracy` is `{split: value}` or None if not evaluated.

        `elapsed` is the run's time so far in seconds.
        """
        if self.quiet:
            return
        if accuracy is not None:
            self._latest[task_id] = accuracy
        shown = self._latest.get(task_id) if self._inline else accuracy
        times = format_duration(elapsed) + self.estimates(task_id, task_epoch, elapsed)
        text = (  # the times first: a narrow terminal cuts the line's end
            f"task {task_id + 1}/{self.num_tasks} epoch {task_epoch}/{self.epochs}"
            f"  [{times}]  loss {loss:.4f}{_accuracy_text(shown)}"
        )
        if self._inline:
            self._draw(text, task_epoch)
        else:
            self._print(f"  {text}")

    def estimates(self, task_id, task_epoch, elapsed):
        """`, task left 3s, run left 1m10s`: the epochs left at the run's
        average time per epoch so far (`, left 1m10s` for a whole-run count)."""
        done = task_epoch + (task_id * self.epochs if self.per_task else 0)
        per_epoch = elapsed / max(done, 1)
        task_left = format_duration((self.epochs - task_epoch) * per_epoch)
        if not self.per_task:
            return f", left {task_left}"
        run_left = format_duration((self.num_tasks * self.epochs - done) * per_epoch)
        return f", task left {task_left}, run left {run_left}"

    def _draw(self, text, task_epoch):
        """Moves the bar to `task_epoch` with `text`; a full bar is ended."""
        if self._bar is None:  # from a task's first epoch reported (a resume's)
            self._bar = tqdm(
                total=self.epochs,
                initial=task_epoch,
                desc=text,
                file=self.stream,
                bar_format=BAR_FORMAT,
                mininterval=0,
                position=0,  # never below another run's unclosed bar
                ncols=terminal_width(self.stream) or NO_LIMIT,
                nrows=NO_LIMIT,
            )
        else:
            self._bar.set_description_str(text, refresh=False)
            self._bar.update(task_epoch - self._bar.n)
        if task_epoch >= self.epochs:
            self._end_bar()

    def _end_bar(self):
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def message(self, text):
        """Prints a free-form line (e.g. where results were written)."""
        self._print(text)

    def record(self, rows):
        """Takes the run's history rows; the display has no use for them."""
        return rows

    def close(self):
        """Ends a bar left unfinished (a stopped run); messages still print."""
        self._end_bar()

    def _print(self, text):
        if self.quiet:
            return
        if self._bar is not None:  # above the bar, which is redrawn
            tqdm.write(text, file=self.stream)
        else:
            print(text, file=self.stream, flush=True)


def terminal_width(stream):
    """The columns of the terminal `stream` writes to, or None if unknown."""
    try:
        return os.get_terminal_size(stream.fileno()).columns or None
    except (AttributeError, OSError, ValueError):
        return None


def _accuracy_text(accuracy):
    """`  valid 25.0%  test 30.0%`, or nothing if `accuracy` is None."""
    if accuracy is None:
        return ""
    return f"  valid {100 * accuracy['valid']:.1f}%  test {100 * accuracy['test']:.1f}%"


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
