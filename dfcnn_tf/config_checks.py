"""The checks `validate` runs on a resolved `Experiment`: sizes and choices
that no single layer can see (fields in `dfcnn_tf/config.py`)."""

import dataclasses
import numbers

from dfcnn_tf.config import EVAL_SCHEDULE, PRECISIONS, DataConfig
from dfcnn_tf.errors import ConfigError

NON_NEGATIVE_TRAIN = {  # field: what 0 means, if it means something
    "lr_decay": "",
    "checkpoint_every": " (0: only at task ends)",
    "intra_op_threads": " (0: TensorFlow's default)",
    "inter_op_threads": " (0: TensorFlow's default)",
}

TRAIN_CHOICES = {
    "protocol": ("lifelong", "mtl"),
    "optimizer": ("tf1", "keras"),
    "loss_reduction": ("sum", "mean"),
    "precision": PRECISIONS,
}


BIAS_INITS = ("released", "constant")


def validate(experiment):
    """Checks sizes and choices that no single layer can see.

    Args:
        experiment: the resolved `Experiment`.

    Raises:
        ConfigError: naming the field and the offending value.
    """
    train = experiment.train
    for name in ("batch_size", "epochs_per_task", "eval_batch_size", "learning_rate"):
        _require_positive(f"train.{name}", getattr(train, name))
    _validate_eval_schedule(train)
    for name, zero in NON_NEGATIVE_TRAIN.items():
        if getattr(train, name) < 0:
            raise ConfigError(
                f"train.{name} must be >= 0{zero}. "
                f"Received: train.{name}={getattr(train, name)}"
            )
    for name, choices in TRAIN_CHOICES.items():
        if getattr(train, name) not in choices:
            raise ConfigError(
                f"train.{name} must be one of {list(choices)}. "
                f"Received: {getattr(train, name)!r}"
            )
    data = experiment.data
    for name in ("num_tasks", "classes_per_task", "train_per_class"):
        _require_positive(f"data.{name}", getattr(data, name))
    if not isinstance(data.resample_per_seed, bool):
        raise ConfigError(
            "data.resample_per_seed must be true or false. "
            f"Received: {data.resample_per_seed!r}"
        )
    from dfcnn_tf.data.datasets import check_fields_read  # the data-set registry

    reads = check_fields_read(data, DataConfig())
    if "percent" in reads:  # checked before any image is loaded
        from dfcnn_tf.data.binary_tasks import binary_task_sizes

        binary_task_sizes(data.dataset, data.percent, name="data.percent")
    train_size = data.classes_per_task * data.train_per_class
    counted = isinstance(data.train_per_class, int)
    if "train_per_class" in reads and counted and train.batch_size > train_size:
        raise ConfigError(
            f"train.batch_size={train.batch_size} is larger than a task's training "
            f"set (data.classes_per_task * data.train_per_class = {train_size})"
        )
    _validate_model(experiment.model)


def _validate_eval_schedule(train):
    """Both evaluation intervals must be positive integers (epochs)."""
    values = {name: getattr(train, name) for name in EVAL_SCHEDULE}
    if not all(
        isinstance(v, numbers.Integral) and not isinstance(v, bool) and v > 0
        for v in values.values()
    ):
        received = ", ".join(f"train.{k}={v!r}" for k, v in values.items())
        raise ConfigError(
            "train.eval_current_every and train.eval_all_every must be positive "
            f"integers (epochs between evaluations). Received: {received}"
        )


def _validate_model(model):
    from dfcnn_tf.method_options import check_option_records  # the registry

    check_option_records(model)
    records = {
        "conv": model.conv,
        "knowledge_bases": model.knowledge_bases,
        "transforms": model.transforms,
    }
    for name, specs in records.items():
        for i, spec in enumerate(specs):
            for item in dataclasses.fields(spec):
                value = getattr(spec, item.name)
                if value is not None:
                    _require_positive(f"model.{name}[{i}].{item.name}", value)
    for i, units in enumerate(model.fc_hidden):
        _require_positive(f"model.fc_hidden[{i}]", units)
    _require_positive("model.deconv_stride", model.deconv_stride)
    if not 0 <= model.dropout < 1:
        raise ConfigError(f"model.dropout must be in [0, 1). Received: {model.dropout}")
    if model.bias_init not in BIAS_INITS:
        raise ConfigError(
            f"model.bias_init must be one of {list(BIAS_INITS)}. "
            f"Received: {model.bias_init!r}"
        )


def _require_positive(name, value):
    if value <= 0:
        raise ConfigError(f"{name} must be positive. Received: {name}={value}")
