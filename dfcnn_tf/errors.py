"""Error types raised for bad input: each message names the field or file at fault."""


class ConfigError(ValueError):
    """An experiment configuration is inconsistent or names something unknown."""


class DataError(ValueError):
    """A data file is missing, unreadable or holds arrays of the wrong form."""


class CheckpointError(ValueError):
    """A run's checkpoint is corrupt or was written by another configuration.

    Resuming from it would mix two runs, so the run stops instead; the
    message names the checkpoint folder and what does not match.
    """


class TrainingError(RuntimeError):
    """Training cannot go on (e.g. the loss became NaN); names task and epoch.

    Args:
        message: what went wrong, where.
        rows: the history rows recorded before the failure.
    """

    def __init__(self, message, rows=()):
        super().__init__(message)
        self.rows = list(rows)


class LearnerError(ValueError):
    """A saved learner cannot be read, written or used as asked.

    The message names the file (or the task) and what is wrong: not a
    learner file, another format version, damaged, an unknown task, a model
    that cannot continue.
    """
