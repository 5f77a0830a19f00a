"""RMSProp and the learning-rate schedule of the paper.

See docs/method.md, section 'Optimizer'.

`lr(epoch) = lr0 / (1 + decay * epoch)` with `epoch` counted over the whole
run. Each task gets a fresh optimizer, so the shared knowledge base's
accumulator starts anew with every task.
"""

import keras
import tensorflow as tf

from dfcnn_tf.errors import ConfigError


@keras.saving.register_keras_serializable(package="dfcnn_tf")
class TF1RMSprop(keras.optimizers.RMSprop):
    """RMSProp as `tf.compat.v1.train.RMSPropOptimizer` runs it.

    Same update as Keras 3 RMSprop (`ms = rho ms + (1 - rho) g^2`,
    `var -= lr g / sqrt(ms + eps)`), but the mean-square accumulator starts
    at `initial_accumulator_value` (1.0 in TF1) instead of 0 and epsilon is
    1e-10. Starting at 0 makes the first updates several times larger.

    Each variable is updated by TF1's own fused kernel, `ApplyRMSProp` (one
    op per variable instead of eight; momentum 0, so its `mom` slot holds
    the last increment).

    Args:
        learning_rate: initial learning rate.
        rho: decay of the mean-square accumulator.
        epsilon: added to the accumulator under the square root.
        initial_accumulator_value: starting value of the accumulator.
    """

    def __init__(
        self,
        learning_rate=1e-3,
        rho=0.9,
        epsilon=1e-10,
        initial_accumulator_value=1.0,
        **kwargs,
    ):
        super().__init__(
            learning_rate=learning_rate, rho=rho, epsilon=epsilon, **kwargs
        )
        self.initial_accumulator_value = initial_accumulator_value

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        for velocity in self._velocities:
            velocity.assign(
                keras.ops.full(velocity.shape, self.initial_accumulator_value)
            )
        self._increments = [
            self.add_variable_from_reference(variable, name="increment")
            for variable in var_list
        ]

    def update_step(self, gradient, variable, learning_rate):
        index = self._get_variable_index(variable)
        dtype = variable.dtype
        tf.raw_ops.ResourceApplyRMSProp(
            var=_handle(variable),
            ms=_handle(self._velocities[index]),
            mom=_handle(self._increments[index]),
            lr=tf.cast(learning_rate, dtype),
            rho=tf.constant(self.rho, dtype),
            momentum=tf.constant(0.0, dtype),
            epsilon=tf.constant(self.epsilon, dtype),
            grad=tf.cast(gradient, dtype),
        )

    def get_config(self):
        config = super().get_config()
        config["initial_accumulator_value"] = self.initial_accumulator_value
        return config


def _handle(variable):
    """The resource handle of a Keras or TensorFlow variable."""
    if isinstance(variable, keras.Variable):
        return variable.value.handle
    return variable.handle


def _keras_rmsprop(train):
    return keras.optimizers.RMSprop(learning_rate=train.learning_rate, rho=train.rho)


def _tf1_rmsprop(train):
    return TF1RMSprop(learning_rate=train.learning_rate, rho=train.rho)


OPTIMIZERS = {"tf1": _tf1_rmsprop, "keras": _keras_rmsprop}


def make_optimizer(train):
    """A fresh optimizer for one task, as `train.optimizer` names it.

    Raises:
        ConfigError: listing the valid names if the optimizer is unknown.
    """
    if train.optimizer not in OPTIMIZERS:
        raise ConfigError(
            f"Unknown optimizer {train.optimizer!r}. "
            f"Valid optimizers: {', '.join(sorted(OPTIMIZERS))}"
        )
    return OPTIMIZERS[train.optimizer](train)


def learning_rate(train, epoch):
    """`lr0 / (1 + decay * epoch)` for the 0-based global epoch `epoch`."""
    return train.learning_rate / (1.0 + train.lr_decay * epoch)
