"""Progress display per task and epoch; `quiet=True` silences it."""

import sys


class Progress:
    """Prints one line per evaluated epoch (rewritten in place on a terminal).

    Args:
        num_tasks: number of tasks in the run.
        epochs_per_task: epochs of each task.
        quiet: print nothing if true.
        stream: where to print (standard error by default).
    """

    def __init__(self, num_tasks, epochs_per_task, quiet=False, stream=None):
        self.num_tasks = num_tasks
        self.epochs = epochs_per_task
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self._inline = getattr(self.stream, "isatty", lambda: False)()

    def start_task(self, task_id, classes):
        """Announces the task about to be trained."""
        self._print(f"task {task_id + 1}/{self.num_tasks}: classes {list(classes)}")

    def epoch(self, task_id, task_epoch, loss, accuracy, elapsed):
        """Reports an epoch; `accuracy` is `{split: value}` or None if not evaluated."""
        text = (
            f"  task {task_id + 1}/{self.num_tasks} epoch {task_epoch}/{self.epochs}"
            f"  loss {loss:.4f}"
        )
        if accuracy is not None:
            text += f"  valid {accuracy['valid']:.3f}  test {accuracy['test']:.3f}"
        text += f"  [{elapsed:.1f}s]"
        last = task_epoch == self.epochs
        if self._inline:
            self._print("\r" + text, end="\n" if last else "")
        elif accuracy is not None:
            self._print(text)

    def message(self, text):
        """Prints a free-form line (e.g. where results were written)."""
        self._print(text)

    def _print(self, text, end="\n"):
        if not self.quiet:
            print(text, end=end, file=self.stream, flush=True)
