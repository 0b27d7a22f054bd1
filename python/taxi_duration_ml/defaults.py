"""Training defaults, in a module that imports nothing heavy.

:mod:`taxi_duration_ml.train` uses (and re-exports) these values; the command line shows them in
``taxi-duration train --help`` without importing numpy or XGBoost.
"""

from __future__ import annotations

DEFAULT_PARAMS = {
    "objective": "reg:squarederror",
    "tree_method": "hist",
    "max_depth": 8,
    "learning_rate": 0.15,
    "min_child_weight": 1.0,
    "seed": 42,
}
DEFAULT_MAX_ROUNDS = 600
DEFAULT_EARLY_STOPPING = 30
MAX_DEPTH_LIMIT = 8  # the C evaluator's cost is ~trees x depth
