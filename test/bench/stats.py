"""stats.py - percentiles and summaries of latency samples (nanoseconds in,
milliseconds out)."""

import math


def percentile(sorted_ns, p):
    """Nearest-rank percentile (p in 0..100) of an ascending list, in ms."""
    if not sorted_ns:
        return None
    rank = max(1, math.ceil(p / 100.0 * len(sorted_ns)))
    return sorted_ns[rank - 1] / 1e6


def summarize(samples_ns):
    """Return {n, p50, p90, p99, mean} in milliseconds for a list of samples."""
    s = sorted(samples_ns)
    if not s:
        return {"n": 0, "p50": None, "p90": None, "p99": None, "mean": None}
    return {
        "n": len(s),
        "p50": percentile(s, 50),
        "p90": percentile(s, 90),
        "p99": percentile(s, 99),
        "mean": sum(s) / len(s) / 1e6,
    }
