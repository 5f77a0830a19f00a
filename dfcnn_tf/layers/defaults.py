"""The released code's initialisation of the baselines' weights and biases."""

DENSE_STDDEV = 0.05  # baseline weights: truncated normal, stddev 0.05
DEFAULT_BIAS = 0.2  # baseline and FC biases (not DF-CNN conv biases)
