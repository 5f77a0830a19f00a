"""What a run sets for its whole process: TensorFlow op determinism
(`train.deterministic`) and the threads its ops run with
(`train.intra_op_threads`, `train.inter_op_threads`).

TensorFlow's default gives every op all the cores, one op at a time. At the
paper's batch of 10 most ops of a training step are too small to split, so
in bfloat16 on two cores one thread per op with two ops at a time trains
about 1.4 times faster, and an evaluation split into batches of a few
hundred images runs its batches side by side instead (README, speed section;
`python -m benchmarks.threads`). TensorFlow fixes both counts when it
starts, for the whole process; `tf.config.threading` is the only way to set
them, so this module applies them there, before TensorFlow starts.
"""

import warnings

import tensorflow as tf

SETTINGS = {
    "intra_op_threads": (
        tf.config.threading.get_intra_op_parallelism_threads,
        tf.config.threading.set_intra_op_parallelism_threads,
    ),
    "inter_op_threads": (
        tf.config.threading.get_inter_op_parallelism_threads,
        tf.config.threading.set_inter_op_parallelism_threads,
    ),
}


def apply_process_settings(train):
    """Applies what `train` (a `TrainConfig`) asks of the process: op
    determinism, and its thread counts (0: leave TensorFlow's choice).

    Thread counts are speed settings: where TensorFlow already runs this
    process with others (a learner loaded into a session that has used
    TensorFlow), they stay as they are, with a warning naming the field.
    """
    for name, (get, set_) in SETTINGS.items():
        wanted, current = getattr(train, name), get()
        if wanted == 0 or wanted == current:
            continue
        try:
            set_(wanted)
        except RuntimeError:
            warnings.warn(
                f"train.{name}={wanted} not applied: TensorFlow already runs "
                f"this process with {current or 'its default'}; it is fixed "
                "when TensorFlow starts (give it to the process's first run)",
                stacklevel=2,
            )
    if train.deterministic:
        tf.config.experimental.enable_op_determinism()
