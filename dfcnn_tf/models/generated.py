"""Models whose conv kernels are generated from shared parameters.

The DF-CNN (paper Eq. 1-2) and the Tucker-factorised CNN build each task's
conv kernels from shared parameters and the task's own. A forward pass is
two steps, *generate* the task's kernels, then *run* its tower with them, so
that evaluation can generate once and run every batch of a task's images
with the same kernels (`inference`).
"""

from dfcnn_tf.models.base import LifelongModel


class GeneratedKernelModel(LifelongModel):
    """A lifelong model with one tower (a `keras.Sequential`) per task.

    Subclasses set `kernel_layer`, the class of their generating conv layers,
    which provide `generate_kernel()` and `convolve(inputs, kernel)`, and
    append each task's tower to `self.towers`.
    """

    kernel_layer = None

    def call(self, inputs, task_id, training=False):
        return self._run_tower(task_id, self.task_kernels(task_id), inputs, training)

    def inference(self, task_id):
        kernels = self.task_kernels(task_id)  # once, for every batch
        return lambda inputs: self._run_tower(task_id, kernels, inputs, False)

    def conv_layers(self, task_id):
        """Task `task_id`'s kernel-generating conv layers, in order."""
        self._check_task(task_id)
        layers = self.towers[task_id].layers
        return [layer for layer in layers if isinstance(layer, self.kernel_layer)]

    def task_kernels(self, task_id):
        """The conv kernels task `task_id` generates, `(k, k, c_in, c_out)` each."""
        return [layer.generate_kernel() for layer in self.conv_layers(task_id)]

    def _run_tower(self, task_id, kernels, inputs, training):
        """Task `task_id`'s tower on `inputs`, its conv layers using `kernels`."""
        kernels = iter(kernels)
        for layer in self.towers[task_id].layers:
            if isinstance(layer, self.kernel_layer):
                inputs = layer.convolve(inputs, next(kernels))
            else:
                inputs = layer(inputs, training=training)
        return inputs
