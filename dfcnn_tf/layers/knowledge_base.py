"""The shared knowledge base of one DF-CNN conv layer (paper Eq. 1).

See docs/method.md, section 'Knowledge base'.

One `KnowledgeBase` layer owns the layer's variable `L`; every task's
`DFConv2D` receives this object by reference and never copies it.
"""

import keras


@keras.saving.register_keras_serializable(package="dfcnn_tf")
class KnowledgeBase(keras.layers.Layer):
    """Owner of one conv layer's shared knowledge base `L`.

    The variable has shape `(depth, size, size, channels)`: `depth` is 1 for
    the DF-CNN and its `direct` ablation (a batch axis for the transposed
    convolution) and `d` for the `tc2` ablation.

    Args:
        size: spatial size `kb` of the knowledge base.
        channels: number of knowledge-base channels `c_kb`.
        depth: number of knowledge-base slices `d` (1 unless `tc2`).
        initializer: initializer of `L` (Glorot-uniform in the released code).
    """

    def __init__(self, size, channels, depth=1, initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        for field, value in (("size", size), ("channels", channels), ("depth", depth)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(
                    f"KnowledgeBase {field} must be a positive integer. "
                    f"Received: {field}={value!r}"
                )
        self.size = size
        self.channels = channels
        self.depth = depth
        self.initializer = keras.initializers.get(initializer)

    @property
    def shape(self):
        """Shape `(depth, size, size, channels)` of the knowledge base."""
        return (self.depth, self.size, self.size, self.channels)

    def build(self, input_shape=None):
        self.kernel = self.add_weight(
            name="knowledge_base", shape=self.shape, initializer=self.initializer
        )

    def call(self, inputs=None):
        """Returns the knowledge-base tensor `L`; `inputs` is ignored."""
        return self.kernel

    def get_config(self):
        config = super().get_config()
        config.update(
            size=self.size,
            channels=self.channels,
            depth=self.depth,
            initializer=keras.initializers.serialize(self.initializer),
        )
        return config
