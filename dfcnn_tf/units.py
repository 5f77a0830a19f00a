"""The units of printed and written metric tables.

Accuracies and error rates are shown in % and differences of accuracies
(backward and forward transfer, paired differences) in percentage points
(pp); every such column header names its unit, e.g. `mean_peak_accuracy (%)`,
`backward_transfer (pp)`. Ratios (forgetting ratio), epochs, seconds and
counts are shown as they are. The data files (`history.csv`, `summary.csv`,
`per_task.csv`, `accuracy_matrix.csv`, `run.json`, a tuning's `trials.csv`)
keep fractions in [0, 1], as the library's functions return them.
"""

import pandas as pd

PERCENT = "%"
POINTS = "pp"
_POINT_NAMES = ("backward_transfer", "forward_transfer", "difference")
_PERCENT_NAMES = ("accuracy", "test_at_best_valid", "error")
POINT_DIGITS = 2  # a printed table's % and pp values: 37.88, -1.59


def unit(name):
    """`POINTS`, `PERCENT` or None (shown as is) for the metric called `name`."""
    name = str(name)
    if any(part in name for part in _POINT_NAMES):
        return POINTS
    if any(part in name for part in _PERCENT_NAMES):
        return PERCENT
    return None


def header(name):
    """`name` with its unit: `mean_peak_accuracy (%)`; other names unchanged."""
    shown = unit(name)
    return name if shown is None else f"{name} ({shown})"


def scale(name):
    """100 for a metric shown in % or pp, else 1."""
    return 1.0 if unit(name) is None else 100.0


def in_units(values):
    """A metric table (columns named by metric) or a Series indexed by metric,
    with accuracies and their differences x100 and every label from `header`."""
    if isinstance(values, pd.Series):
        scaled = values * [scale(name) for name in values.index]
        return scaled.rename(index=header)
    scaled = values.copy()
    for column in values.columns:
        if unit(column) is not None:
            scaled[column] = values[column] * scale(column)
    return scaled.rename(columns=header)


def table_text(values, float_format="{:.4f}", index=True):
    """`values` (see `in_units`) as printed text: % and pp with `POINT_DIGITS`
    decimals, other floats with `float_format` (pandas' default if None);
    `index=False` leaves a table's index out."""
    point_format = f"{{:.{POINT_DIGITS}f}}".format
    other_format = None if float_format is None else float_format.format
    if isinstance(values, pd.Series):
        shown = in_units(values)
        cells = [
            _cell(value, point_format if unit(name) else other_format)
            for name, value in zip(values.index, shown, strict=True)
        ]
        return pd.Series(cells, index=shown.index, name=values.name).to_string()
    formatters = {header(c): point_format for c in values.columns if unit(c)}
    return in_units(values).to_string(
        formatters=formatters, float_format=other_format, index=index
    )


def _cell(value, number_format):
    """One cell's text: a float through `number_format`, anything else as is."""
    if isinstance(value, float) and number_format is not None:
        return number_format(value)
    return str(value)
