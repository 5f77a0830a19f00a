"""Task-specific fully-connected heads: every model's FC layers are per task.

See docs/method.md, section 'Architectures and sizes'.

Dropout (keep probability 0.5 in the paper) is applied once, to the flattened
conv features, before the first FC layer, as in the released code.
"""

import keras

from dfcnn_tf.layers.defaults import DEFAULT_BIAS, DENSE_STDDEV


def dense(units, activation=None, name=None):
    """A Dense layer initialised as the released code initialises FC layers."""
    return keras.layers.Dense(
        units,
        activation=activation,
        name=name,
        kernel_initializer=keras.initializers.TruncatedNormal(stddev=DENSE_STDDEV),
        bias_initializer=keras.initializers.Constant(DEFAULT_BIAS),
    )


def task_head(hidden_units, num_classes, dropout, prefix="head"):
    """Layers flatten -> dropout -> hidden FC (ReLU) ... -> output logits.

    Args:
        hidden_units: sizes of the hidden FC layers, e.g. `(64,)`.
        num_classes: number of output logits.
        dropout: dropout rate applied to the flattened features.
        prefix: start of every layer's name (`task3` gives `task3_flatten`,
            `task3_dropout`, `task3_fc_0`, ..., `task3_logits`).

    Returns:
        A list of Keras layers.
    """
    layers = [
        keras.layers.Flatten(name=f"{prefix}_flatten"),
        keras.layers.Dropout(dropout, name=f"{prefix}_dropout"),
    ]
    layers += [
        dense(units, "relu", name=f"{prefix}_fc_{i}")
        for i, units in enumerate(hidden_units)
    ]
    return layers + [dense(num_classes, name=f"{prefix}_logits")]
