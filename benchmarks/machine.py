"""What a benchmark figure was measured on: processor or GPU, versions, memory."""

import os
import platform
import resource

import keras
import tensorflow as tf


def cpu_name():
    """The CPU model from /proc/cpuinfo (or the platform's processor string)."""
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def cores():
    """CPU cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"


def gpu_names():
    """Names of the visible GPUs (empty on a CPU-only machine)."""
    gpus = tf.config.list_physical_devices("GPU")
    details = (tf.config.experimental.get_device_details(g) for g in gpus)
    return [d.get("device_name", "GPU") for d in details]


def machine():
    """One line naming the machine and the library versions."""
    gpus = gpu_names()
    device = ", ".join(gpus) if gpus else f"{cpu_name()}, {cores()} cores"
    return f"{device}; TensorFlow {tf.__version__}, Keras {keras.__version__}"


def peak_memory():
    """Peak resident memory of this process so far (and GPU peak), as text."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB
    text = f"{rss:,.0f} MiB RSS"
    if gpu_names():
        peak = tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20
        text += f", {peak:,.0f} MiB GPU"
    return text
