"""The statistics of A/B splits: is one branch really better than another?"""

import math

# below this many participants in a branch, a rate says too little to compare
MIN_SPLIT_PARTICIPANTS = 30


def two_proportion_p_value(successes_a, total_a, successes_b, total_b):
    """Two-sided p-value of the two-proportion z-test (pooled variance) of
    ``successes_a / total_a`` against ``successes_b / total_b``: the chance of
    a difference at least this large if both branches converted alike. 1.0
    when the rates cannot differ (both 0% or both 100%)."""
    if not total_a or not total_b:
        return None
    pooled = (successes_a + successes_b) / (total_a + total_b)
    variance = pooled * (1 - pooled) * (1 / total_a + 1 / total_b)
    if variance <= 0:
        return 1.0
    z_score = (successes_a / total_a - successes_b / total_b) / math.sqrt(variance)
    return math.erfc(abs(z_score) / math.sqrt(2))
