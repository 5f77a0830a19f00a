"""Which method reads which options record of a `ModelConfig`.

`ModelConfig` holds one record per method with options (`prognn`, `den`,
`tucker`, `ewc`, `si`, `lwf`, `agem`, `replay`); a method reads its own
(its class's `option_record`) and ignores the others. So that a setting is
never silently ignored, another method's record must stay at its default,
and so must the DF-CNN's kernel fields (`knowledge_bases`, `transforms`,
...) for every other method; the numbers of the method's own record must
make sense: finite, no negative strength, a positive temperature, reduction
or threshold (a text field, such as `tucker.init_from`, must be text).
"""

import dataclasses
import math
import numbers

from dfcnn_tf.errors import ConfigError

OPTION_RECORDS = ("prognn", "den", "tucker", "ewc", "si", "lwf", "agem", "replay")
# The DF-CNN's generated-kernel fields: other methods leave them at defaults.
KERNEL_FIELDS = (
    "knowledge_bases",
    "transforms",
    "variant",
    "deconv_stride",
    "deconv_activation",
    "bias_init",
)
POSITIVE_FIELDS = ("temperature", "lateral_reduction", "error_threshold")


def check_option_records(model):
    """Refuses option records `model` (a `ModelConfig`) does not read when
    set, and impossible values in the one it reads.

    Raises:
        ConfigError: naming the field, the method and what it reads.
    """
    from dfcnn_tf.registry import get_model_class  # imports every model

    method = model.registry_name
    own = get_model_class(method).option_record
    defaults = {f.name: f.default for f in dataclasses.fields(model)}
    for name in OPTION_RECORDS:
        record = getattr(model, name)
        if name != own and record != defaults[name]:
            reads = f"it reads model.{own}" if own else "it has no options record"
            raise ConfigError(
                f"model.{name} is set but method {method} does not read it; {reads}"
            )
    reads = get_model_class(method).kernel_fields
    for name in (n for n in KERNEL_FIELDS if n not in reads):
        if getattr(model, name) != defaults[name]:
            raise ConfigError(
                f"model.{name} is set but method {method} does not read it; "
                "only the DF-CNN's generated kernels do (method dfcnn)"
            )
    if own:
        _check_numbers(own, getattr(model, own))


def _check_numbers(name, record):
    for item in dataclasses.fields(record):
        value = getattr(record, item.name)
        field = f"model.{name}.{item.name}"
        if item.type in (str, "str"):
            if not isinstance(value, str):
                raise ConfigError(f"{field} must be text. Received: {value!r}")
            continue
        if not isinstance(value, numbers.Real) or isinstance(value, bool):
            raise ConfigError(f"{field} must be a number. Received: {value!r}")
        if not math.isfinite(value) or value < 0:
            raise ConfigError(f"{field} must be finite and >= 0. Received: {value}")
        if item.name in POSITIVE_FIELDS and value == 0:
            raise ConfigError(f"{field} must be positive. Received: {value}")
