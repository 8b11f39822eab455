"""snippets.py - the Python snippets every mechanism of the benchmark runs.

Each snippet is deterministic (no random state, no clock) so that every
mechanism must print exactly the same text; the harness compares each
mechanism's output with the reference run of plain python3 and counts any
difference as an error.  The code stays inside codeexec's default rules
(allowlisted imports, no names starting with "_", no eval/exec/open).
"""

PRINT1 = "print(1)\n"

# json + statistics + collections over 10,000 numbers.
DATA = """\
import json
import statistics
import collections
xs = [((i * 7919) % 10007) / 10.0 for i in range(10000)]
data = json.loads(json.dumps({"xs": xs}))["xs"]
buckets = collections.Counter(int(x // 100) for x in data)
print(round(statistics.mean(data), 4), round(statistics.median(data), 4),
      round(statistics.pstdev(data), 4))
print(buckets.most_common(3))
"""

# numpy + pandas: a DataFrame of 1,000 rows and its describe().
PANDAS = """\
import numpy as np
import pandas as pd
idx = np.arange(1000)
df = pd.DataFrame({"a": idx, "b": (idx * 37) % 101 / 7.0, "c": np.sqrt(idx)})
print(df.describe())
"""

# name -> (code, needs third-party packages from Debian's dist-packages)
SNIPPETS = {
    "print1": (PRINT1, False),
    "data": (DATA, False),
    "pandas": (PANDAS, True),
}

# `python3 -I -S` skips the site module, so Debian's dist-packages is not on
# sys.path; the command-line peers get this one line prepended for snippets
# that need numpy/pandas (codeexec and plpython3u find them on their own).
DIST_PACKAGES_PRELUDE = "import sys; sys.path.append('/usr/lib/python3/dist-packages')\n"


def cli_code(name):
    """Return the snippet text as the command-line peers run it."""
    code, needs_dist = SNIPPETS[name]
    return (DIST_PACKAGES_PRELUDE + code) if needs_dist else code
