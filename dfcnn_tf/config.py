"""Typed experiment configuration.

See docs/method.md, sections 'Architectures and sizes', 'Optimizer', 'Data protocols'.

Frozen dataclasses, one meaning per field; per-layer sizes are small records.
`Experiment.to_dict()` is what every run writes beside its results.
"""

import dataclasses
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ConvSpec:
    """One conv layer: output channels, kernel size, max-pool size (1 = none)."""

    filters: int
    kernel: int = 3
    pool: int = 1


@dataclass(frozen=True)
class KnowledgeBaseSpec:
    """A DF-CNN layer's shared knowledge base `(kb, kb, c_kb)` with `depth` slices."""

    size: int
    channels: int
    depth: int = 1


@dataclass(frozen=True)
class TransformSpec:
    """A DF-CNN layer's task transform: deconv filter size `p`, channels `c`."""

    size: int = 3
    channels: int | None = None


@dataclass(frozen=True)
class ProgNNOptions:
    """Progressive networks: lateral adapters divide the input channels of a
    layer by `lateral_reduction * (number of earlier columns + 1)` (released code).
    """

    lateral_reduction: float = 2.0


@dataclass(frozen=True)
class DENOptions:
    """Dynamically expandable networks (Yoon et al. 2018; docs/method.md, section
    'Baselines')."""

    l1_lambda: float = 1e-6
    l2_lambda: float = 0.01
    group_lasso_lambda: float = 0.8
    drift_lambda: float = 0.5
    loss_threshold: float = 0.01
    sparsity_threshold: float = 0.98
    zero_threshold: float = 0.01
    expansion_units: int = 16


@dataclass(frozen=True)
class TuckerOptions:
    """Tensor factorisation (Yang & Hospedales 2017): Tucker ranks are the
    smallest that keep the relative reconstruction error of the initial
    stacked weights below `error_threshold` (released code: 1e-3).

    `init_from` empty: the initial stacked weights are random. Otherwise it
    names a saved STL learner (`--model stl --save-model FILE`, trained on
    the same data and seed): its trained kernels are factorised and task t
    starts from its task t's biases and head ("TF (distillation)").
    """

    error_threshold: float = 1e-3
    init_from: str = ""


@dataclass(frozen=True)
class EWCOptions:
    """Elastic weight consolidation: penalty `strength / 2 * sum F (w - w*)^2`
    per finished task (docs/method.md, section 'Continual-learning baselines')."""

    strength: float = 10.0


@dataclass(frozen=True)
class SIOptions:
    """Synaptic intelligence: penalty `strength * sum Omega (w - w~)^2`;
    `damping` is the xi of the importance's denominator."""

    strength: float = 0.1
    damping: float = 1e-3


@dataclass(frozen=True)
class LwFOptions:
    """Learning without forgetting: distillation weight and temperature."""

    strength: float = 1.0
    temperature: float = 2.0


@dataclass(frozen=True)
class MemoryOptions:
    """An episodic memory (A-GEM, experience replay): `per_class` training
    images kept per class of every finished task; `batch` of them drawn per
    step (A-GEM: for the reference gradient; replay: replayed)."""

    per_class: int = 1
    batch: int = 10


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of a lifelong model.

    `name` is what `--model` selects and what results are filed under;
    `method` is the registry key of the method that builds it, empty when it
    is `name` itself. Size variants are presets' configurations of a method
    (`stl_large`: `method="stl"` with larger layers), not registry entries.

    Method-specific options live in their own records (`prognn`, `den`,
    `tucker`, `ewc`, `si`, `lwf`, `agem`, `replay`); a model ignores the
    records of other methods. `bias_init` (DF-CNN models only) is "released"
    (the default: conv bias and deconvolution bias Glorot-uniform as the
    released code draws them) or
    "constant" (conv bias 0.2, deconvolution bias Glorot-uniform over its own
    `(c,)` shape: this project's behaviour before issue 15).
    """

    name: str
    conv: tuple[ConvSpec, ...]
    fc_hidden: tuple[int, ...]
    knowledge_bases: tuple[KnowledgeBaseSpec, ...] = ()
    transforms: tuple[TransformSpec, ...] = ()
    variant: str = "dfcnn"
    deconv_stride: int = 2
    deconv_activation: str | None = None
    dropout: float = 0.5
    bias_init: str = "released"
    prognn: ProgNNOptions = ProgNNOptions()
    den: DENOptions = DENOptions()
    tucker: TuckerOptions = TuckerOptions()
    ewc: EWCOptions = EWCOptions()
    si: SIOptions = SIOptions()
    lwf: LwFOptions = LwFOptions()
    agem: MemoryOptions = MemoryOptions(batch=256)
    replay: MemoryOptions = MemoryOptions()
    method: str = ""

    @property
    def registry_name(self):
        """The registry key of the method that builds this model."""
        return self.method or self.name


@dataclass(frozen=True)
class DataConfig:
    """Which data set and how it is cut into tasks (docs/method.md, section 'Data
    protocols').

    CIFAR-100 uses `classes_per_task`, `train_per_class`, `valid_per_class`
    and `partition`; MNIST and CIFAR-10 use `task_set` ("homogeneous" or
    "heterogeneous") and `percent` (train + validation images per task, in %
    of a class pair's training images); Office-Home uses `domains` and
    `classes_per_task`. `num_tasks` keeps the first tasks of the set. The
    registry `dfcnn_tf.data.datasets` lists the fields each data set reads;
    `validate` refuses any other field that differs from its default.

    `resample_per_seed` true (the default) draws a new task set (random
    partition, permuted order, images) for every seed, as the paper says; false
    draws it once, with the fixed data seed `experiment.SHARED_DATA_SEED` (0),
    for all seeds, as the released code's trials share one draw of images; the
    seed then sets only initialisation, dropout and batch order.

    Your own data: `source` is a data spec (`npz:FILE`, `tfds:NAME`,
    `folder:PATH`; see `dfcnn_tf.data.task_sources`) that replaces `dataset`;
    it uses `num_tasks`, `classes_per_task`, `train_per_class` and
    `valid_per_class` (counts, or fractions of a class's images as floats
    in (0, 1]), `task_order`, `partition` ("random", or "domain" for
    one task per sub-folder), `class_groups` (explicit classes of each task,
    replacing the random partition) and `test_fraction` (held out per class
    when the source has no test split).
    """

    dataset: str = "cifar100"
    num_tasks: int = 10
    classes_per_task: int = 10
    train_per_class: int | float = 17
    valid_per_class: int | float = 3
    partition: str = "paper"
    task_order: str = "fixed"
    task_set: str = "heterogeneous"
    percent: float = 3.0
    domains: tuple[str, ...] = ("Product", "Real World")
    resample_per_seed: bool = True
    data_dir: str | None = None
    source: str = ""
    test_fraction: float = 0.2
    class_groups: tuple[tuple[int, ...], ...] = ()


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation and evaluation schedule (docs/method.md, sections
    'Optimizer' and 'Training').

    `optimizer` is "tf1" (RMSProp as in the released TF1 code: accumulator
    starts at 1.0, epsilon 1e-10; the default) or "keras" (Keras 3 RMSprop:
    accumulator 0, epsilon 1e-7). `loss_reduction` "sum" sums the per-example
    losses of a batch as the released code did; "mean" averages them.
    `precision` is "float32" (the default), "mixed_bfloat16" (bfloat16
    compute, float32 variables, loss and optimizer state) or "bfloat16_eval"
    (float32 training, bfloat16 evaluation); see `dfcnn_tf.precision`.
    `protocol` "lifelong" learns tasks one after another for `epochs_per_task`
    each; "mtl" trains all tasks together for `epochs_per_task * num_tasks`
    epochs, each epoch on one task drawn uniformly at random.

    Two evaluation schedules (docs/method.md, section 'Training'): every
    `eval_current_every` epochs of a task the task being trained is
    evaluated (its peak, test accuracy at best validation and convergence
    read these rows), and every `eval_all_every` epochs, and at the end of
    every task, every task seen so far (forgetting curves and the accuracy
    matrix read only these). Equal values (the defaults, 1 and 1: the
    paper's evaluation of every seen task after every epoch) evaluate every
    seen task each time, as the former single field `eval_every` did; a
    configuration that still says `train.eval_every` sets both. The mtl
    protocol evaluates every task every `eval_all_every` epochs and ignores
    `eval_current_every`.

    Run control (left out of the configuration hash, see `RUN_CONTROL_KEYS`:
    it does not change the recorded numbers): a checkpoint is written at the
    end of every task (mtl: ten times per run) and, if `checkpoint_every` > 0,
    every `checkpoint_every` epochs; `deterministic` turns on TensorFlow op
    determinism for the process, so a resumed run repeats an uninterrupted
    one exactly; `tensorboard` writes TensorBoard event files into
    `<run dir>/tensorboard`; `intra_op_threads` and `inter_op_threads` set
    the threads TensorFlow gives one op and runs ops on (0: its default, one
    per core; `dfcnn_tf/threads.py`), for the whole process, which they
    must start with. They change float rounding at most, as running on
    another number of cores does.
    """

    protocol: str = "lifelong"
    batch_size: int = 10
    learning_rate: float = 1e-4
    lr_decay: float = 1 / 4000
    epochs_per_task: int = 2000
    eval_current_every: int = 1
    eval_all_every: int = 1
    eval_batch_size: int = 2000
    optimizer: str = "tf1"
    loss_reduction: str = "sum"
    rho: float = 0.9
    precision: str = "float32"
    checkpoint_every: int = 0
    deterministic: bool = True
    tensorboard: bool = True
    intra_op_threads: int = 0
    inter_op_threads: int = 0


@dataclass(frozen=True)
class Experiment:
    """Everything one run needs: preset name, model, data, training and seed."""

    preset: str
    model: ModelConfig
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    seed: int = 0

    def to_dict(self):
        """Plain nested dict (JSON-serialisable) of the resolved configuration."""
        return dataclasses.asdict(self)


# Fields that say how a run is carried out, not what it computes: runs that
# differ only in them are the same run (same hash, same folder, resumable).
RUN_CONTROL_KEYS = (
    "train.checkpoint_every",
    "train.deterministic",
    "train.tensorboard",
    "train.intra_op_threads",
    "train.inter_op_threads",
)

# The two evaluation intervals; the former single field `train.eval_every`
# (still read from configuration files, --set and saved learners) sets both.
EVAL_SCHEDULE = ("eval_current_every", "eval_all_every")
EVAL_EVERY_ALIAS = "train.eval_every"

# train.precision (dfcnn_tf/precision.py); here so that --help needs no TF
PRECISIONS = ("float32", "mixed_bfloat16", "bfloat16_eval")
