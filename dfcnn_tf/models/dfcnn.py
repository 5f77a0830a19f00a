"""The Deconvolutional Factorized CNN (paper section 3).

See docs/method.md, sections 'The DF-CNN layer' and 'Architectures and sizes'.

Each conv layer has one shared `KnowledgeBase`; each task owns one `DFConv2D`
per layer (its transforms and conv bias) and its own FC head. The `direct`
and `tc2` ablations are the same model with another `ModelConfig.variant`.
"""

import keras

from dfcnn_tf.errors import ConfigError
from dfcnn_tf.layers import DFConv2D, KnowledgeBase
from dfcnn_tf.layers.defaults import DEFAULT_BIAS
from dfcnn_tf.method_options import KERNEL_FIELDS
from dfcnn_tf.models.generated import GeneratedKernelModel
from dfcnn_tf.models.heads import task_head
from dfcnn_tf.registry import register_model


@register_model("dfcnn")
class DFCNN(GeneratedKernelModel):
    """DF-CNN: shared knowledge bases, task-specific transforms and heads."""

    kernel_layer = DFConv2D
    kernel_fields = KERNEL_FIELDS

    def __init__(self, config, input_shape):
        super().__init__(config, input_shape)
        _check_layer_counts(config)
        self.knowledge_bases = []
        self.towers = []
        for i, spec in enumerate(config.knowledge_bases):
            try:  # size errors surface now, not when a task is added
                kb = KnowledgeBase(spec.size, spec.channels, spec.depth, name=f"kb_{i}")
                self.knowledge_bases.append(kb)
                self._dfconv(i, name=f"check_{i}")
            except ValueError as error:
                raise ConfigError(f"model conv layer {i + 1}: {error}") from None
            kb.build()

    def _dfconv(self, i, name):
        conv, ts = self.config.conv[i], self.config.transforms[i]
        return DFConv2D(
            conv.filters,
            conv.kernel,
            self.knowledge_bases[i],
            transform_size=ts.size,
            transform_channels=ts.channels,
            variant=self.config.variant,
            deconv_stride=self.config.deconv_stride,
            deconv_activation=self.config.deconv_activation,
            **_bias_initializers(self.config.bias_init),
            name=name,
        )

    def _build_task(self, task_id, num_classes):
        layers = []
        for i, conv in enumerate(self.config.conv):
            layers.append(self._dfconv(i, name=f"task{task_id}_dfconv_{i}"))
            if conv.pool > 1:
                layers.append(
                    keras.layers.MaxPooling2D(
                        conv.pool, padding="same", name=f"task{task_id}_pool_{i}"
                    )
                )
        layers += task_head(
            self.config.fc_hidden, num_classes, self.config.dropout, f"task{task_id}"
        )
        tower = keras.Sequential(layers, name=f"task{task_id}")
        tower.build((None, *self.input_shape))
        self.towers.append(tower)

    @property
    def shared_variables(self):
        return [kb.kernel for kb in self.knowledge_bases]

    def task_variables(self, task_id):
        self._check_task(task_id)
        shared = {id(v) for v in self.shared_variables}
        tower = self.towers[task_id]
        return [v for v in tower.trainable_variables if id(v) not in shared]


def _bias_initializers(bias_init):
    """DFConv2D bias initializers for `ModelConfig.bias_init`.

    "released" leaves the layer's defaults (Glorot-uniform as the released code
    draws its `(1, 1, 1, n)` biases); "constant" is the earlier behaviour: conv
    bias 0.2, deconvolution bias Glorot-uniform over `(c,)`.
    """
    if bias_init == "released":
        return {}
    if bias_init == "constant":
        return {
            "bias_initializer": keras.initializers.Constant(DEFAULT_BIAS),
            "deconv_bias_initializer": "glorot_uniform",
        }
    raise ConfigError(
        "model.bias_init must be one of ['released', 'constant']. "
        f"Received: {bias_init!r}"
    )


def _check_layer_counts(config):
    counts = {
        "conv": len(config.conv),
        "knowledge_bases": len(config.knowledge_bases),
        "transforms": len(config.transforms),
    }
    if len(set(counts.values())) != 1:
        raise ConfigError(
            "A DF-CNN needs one knowledge base and one transform per conv layer. "
            f"Received: {', '.join(f'model.{k} has {v}' for k, v in counts.items())}"
        )
