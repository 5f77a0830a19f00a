"""Plain conv building blocks shared by the baselines.

See docs/method.md, sections 'Initialisation' and 'Baselines'.

Baseline conv weights are truncated normal (stddev 0.05) and biases 0.2, as
in the released code; convolutions use SAME padding and ReLU, max-pooling
(SAME) follows a layer whose spec has `pool > 1`.
"""

import keras

from dfcnn_tf.models.heads import DEFAULT_BIAS, DENSE_STDDEV


def conv2d(filters, kernel, name=None):
    """A SAME-padded ReLU Conv2D initialised like the released baselines."""
    return keras.layers.Conv2D(
        filters,
        kernel,
        padding="same",
        activation="relu",
        kernel_initializer=keras.initializers.TruncatedNormal(stddev=DENSE_STDDEV),
        bias_initializer=keras.initializers.Constant(DEFAULT_BIAS),
        name=name,
    )


def conv_stack(conv_specs, prefix="conv"):
    """Conv (+ max-pool) layers for a tuple of `ConvSpec`s, in order."""
    layers = []
    for i, spec in enumerate(conv_specs):
        layers.append(conv2d(spec.filters, spec.kernel, name=f"{prefix}_{i}"))
        if spec.pool > 1:
            pool = keras.layers.MaxPooling2D(
                spec.pool, padding="same", name=f"{prefix}_{i}_pool"
            )
            layers.append(pool)
    return layers


def build_sequential(layers, input_shape, name):
    """A built `keras.Sequential` over `layers` for inputs of `input_shape`."""
    model = keras.Sequential(layers, name=name)
    model.build((None, *input_shape))
    return model
