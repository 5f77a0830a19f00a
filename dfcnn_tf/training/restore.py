"""Bringing a freshly built lifelong model to a recorded state.

A checkpoint and a saved learner both record every model variable under its
`model_state.model_variables` key, with the number of tasks added. Restoring
rebuilds the model from the same configuration and seed, adds the tasks in
the same order, assigning the values known so far after each (a model whose
structure depends on its state, like DEN's anchors, then grows the same
way), and finally assigns every variable.
"""

from dfcnn_tf.training.model_state import manifest, model_variables


class StateMismatchError(ValueError):
    """The rebuilt model's variables differ from the recorded ones.

    Attributes:
        key: the first variable key that differs.
        now: the rebuilt model's `{key: [shape, dtype]}`.
        saved: the recorded one.
    """

    def __init__(self, key, now, saved):
        super().__init__(
            f"the recorded variables do not match the rebuilt model's "
            f"({len(saved)} recorded, {len(now)} now; first difference: {key!r} "
            f"recorded {saved.get(key)}, now {now.get(key)})"
        )
        self.key, self.now, self.saved = key, now, saved


def restore_model(model, add_task, tasks_added, read, saved):
    """Grows `model` to `tasks_added` tasks and assigns the recorded values.

    Args:
        model: the rebuilt `LifelongModel`, no task added yet.
        add_task: `add_task(task_id)` adds task `task_id` (and whatever the
            caller keeps per task).
        tasks_added: how many tasks the recorded model had.
        read: `read(key)` returns the recorded value of variable `key`.
        saved: the recorded manifest `{key: [shape, dtype]}`.

    Raises:
        StateMismatchError: if the variables do not match the recorded ones.
        Whatever `read` raises for an unreadable value.
    """
    while model.num_tasks < tasks_added:
        add_task(model.num_tasks)
        assign_known(model_variables(model), read, saved)
    variables = model_variables(model)
    check_manifest(manifest(variables), saved)
    assign_known(variables, read, saved)


def check_manifest(now, saved):
    """Raises `StateMismatchError` unless the manifests `now` and `saved` agree."""
    if now != saved:
        different = sorted(set(now) ^ set(saved))
        different += [k for k in saved if k in now and now[k] != saved[k]]
        raise StateMismatchError(different[0], now, saved)


def assign_known(variables, read, saved):
    """Assigns the variables that `saved` records (shapes checked first).

    Raises:
        StateMismatchError: if a recorded variable has another shape or dtype.
    """
    now = manifest(variables)
    common = [key for key in variables if key in saved]
    for key in common:
        if now[key] != saved[key]:
            raise StateMismatchError(key, now, saved)
    for key in common:
        variables[key].assign(read(key))
