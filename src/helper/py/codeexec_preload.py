"""codeexec_preload: import, before the sandbox is locked, everything user
code may need afterwards.

Once the sandbox is locked no file can be opened, so a module that is not
in sys.modules by then can never be loaded.  We import each allowlisted
module that exists, and the modules that standard-library code imports
lazily, on first use, inside functions (found by running the helper's test
corpus with loading disabled).  Missing modules are skipped silently: an
allowlist may name numpy on a server without it.
"""
import sys

# Lazy dependencies of allowlisted modules, keyed by the allowlisted module
# whose functions import them on first use.
LAZY_DEPENDENCIES = {
    "collections": ("collections.abc", "heapq", "_heapq", "copy", "reprlib"),
    "datetime": ("_strptime", "_datetime", "time", "locale", "calendar"),
    "decimal": ("_decimal", "numbers", "contextvars"),
    "fractions": ("decimal", "_decimal", "numbers"),
    "json": ("json.decoder", "json.encoder", "json.scanner", "_json"),
    "re": ("re._parser", "re._compiler", "re._constants", "re._casefix",
           "copyreg"),
    "statistics": ("random", "fractions", "decimal", "_decimal", "bisect",
                   "numbers", "itertools", "operator", "_statistics"),
    "random": ("_random", "_sha512", "hashlib", "bisect"),
    "string": ("re",),
    "textwrap": ("re",),
    "difflib": ("heapq", "re"),
    "pprint": ("re", "dataclasses"),
    "dataclasses": ("inspect", "copy", "keyword", "reprlib", "abc"),
    "enum": ("types", "functools", "operator"),
    "typing": ("collections.abc", "contextlib", "re"),
    "base64": ("binascii", "struct"),
    "hashlib": ("_hashlib", "_md5", "_sha1", "_sha256", "_sha512", "_sha3",
                "_blake2"),
    "csv": ("_csv", "io"),
    "io": ("_io",),
    "calendar": ("locale", "datetime", "itertools"),
    "copy": ("copyreg", "weakref"),
    "unicodedata": (),
    "numpy": ("numpy.linalg", "numpy.random", "numpy.fft", "numpy.ma",
              "numpy.polynomial", "numpy.lib.recfunctions"),
    # found by diffing sys.modules around a typical pandas workload
    "pandas": ("pandas.api", "pandas.api.types", "pandas.tseries.offsets",
               "pandas.core.resample", "pandas.io.formats.csvs",
               "pandas.io.formats.html", "pandas.io.formats.string",
               "pandas.io.formats.info", "pandas.io.json"),
}

# Needed whatever the allowlist: codecs looked up by name when code calls
# str.encode/bytes.decode, and the warnings machinery that prints warnings
# raised by user code.
ALWAYS = (
    "encodings.ascii", "encodings.latin_1", "encodings.utf_8",
    "encodings.utf_8_sig", "encodings.utf_16", "encodings.utf_16_le",
    "encodings.utf_16_be", "encodings.utf_32", "encodings.utf_32_le",
    "encodings.utf_32_be", "encodings.cp1252", "encodings.cp437",
    "encodings.iso8859_15", "encodings.unicode_escape",
    "encodings.raw_unicode_escape", "encodings.idna", "encodings.punycode",
    "encodings.hex_codec", "encodings.base64_codec", "encodings.charmap",
    "encodings.utf_7", "encodings.mac_roman", "encodings.cp850",
    "encodings.cp1250", "encodings.cp1251", "encodings.cp1253",
    "encodings.cp1254", "encodings.cp1255", "encodings.cp1256",
    "encodings.cp1257", "encodings.cp1258", "encodings.iso8859_2",
    "encodings.iso8859_5", "encodings.iso8859_7", "encodings.iso8859_9",
    "encodings.koi8_r", "encodings.unicode_escape", "encodings.quopri_codec",
    "encodings.zlib_codec", "encodings.rot_13", "encodings.uu_codec",
    "warnings", "linecache", "weakref", "_weakrefset", "_string",
)


def _numpy_reseeder():
    """The at-fork hook that gives numpy's global RandomState (np.random.rand,
    pandas' sample without random_state) fresh entropy in each child.  It
    was seeded once, when the fork server imported numpy, and numpy
    registers no at-fork hook, so every child would otherwise draw the same
    numbers.

    The hook sets the whole MT19937 key (624 words) from the kernel's
    random bytes, as set_state takes it, instead of calling seed(): that
    derives the key from fresh entropy through a SeedSequence, whose numpy
    work wrote ~100 more of the server's pages in every fresh child (165
    page faults against 62, a forked python3 with numpy and pandas loaded).
    What it needs is looked up now, in the server, not in each child."""
    import os
    import numpy
    from numpy.random import mtrand

    state, urandom, frombuffer, word = mtrand._rand, os.urandom, numpy.frombuffer, numpy.uint32

    def reseed():
        # a 3-tuple also clears any cached Gaussian (has_gauss = 0)
        state.set_state(("MT19937", frombuffer(urandom(624 * 4), dtype=word), 624))
    return reseed


def _try_import(name):
    try:
        __import__(name)
        return True
    except Exception:
        return False


def preload(allowed, numeric_threads_env=True):
    """Import every allowlisted module that exists and its lazy
    dependencies; returns the sorted list of names that were loaded."""
    loaded = []
    for name in ALWAYS:
        _try_import(name)
    for name in sorted(allowed):
        if not name or not _try_import(name):
            continue
        loaded.append(name)
        top = name.partition(".")[0]
        for dep in LAZY_DEPENDENCIES.get(top, ()) + LAZY_DEPENDENCIES.get(name, ()):
            _try_import(dep)
    if "numpy.random" in sys.modules:
        import os
        os.register_at_fork(after_in_child=_numpy_reseeder())
    # warm caches that would otherwise load on first use
    import codecs
    for enc in ("utf-8", "latin-1", "ascii", "utf-16", "utf-32", "cp1252"):
        codecs.lookup(enc)
    return loaded


def warm_up(allowed):
    """Run the first-use paths of allowlisted modules that import or build
    tables lazily, so they are ready after the sandbox is locked."""
    if "datetime" in allowed and "datetime" in sys.modules:
        import datetime
        datetime.datetime.strptime("2024-01-02 03:04:05", "%Y-%m-%d %H:%M:%S")
        datetime.datetime(2024, 1, 2).strftime("%A %B %c")
    if "decimal" in allowed and "decimal" in sys.modules:
        import decimal
        decimal.Decimal("1.1") + decimal.Decimal(2)
    if "random" in allowed and "random" in sys.modules:
        import random
        random.Random(1).random()
    if "re" in allowed and "re" in sys.modules:
        import re
        re.compile(r"(?i)\w+\s*\d").findall("Ab 1")
    if "unicodedata" in allowed and "unicodedata" in sys.modules:
        import unicodedata
        unicodedata.normalize("NFKC", "\uff45")
    # numpy and pandas fill dtype, ufunc-dispatch and formatting caches on
    # first use: done here, once in the fork server, instead of in every
    # child.  A version whose API differs only loses the head start.
    for name, warm in (("numpy", _warm_numpy), ("pandas", _warm_pandas)):
        if name in allowed and name in sys.modules:
            try:
                warm()
            except Exception:
                pass


def _warm_numpy():
    """Common first-use paths of numpy; draws nothing from its global
    random state (children must not share one: see _numpy_reseeder)."""
    import numpy as np
    i = np.arange(100)
    a = np.arange(100, dtype=float)
    str(np.sqrt(a).reshape(10, 10))
    str((i * 37) % 101 / 7.0)
    str([a.mean(), a.std(), a.sum(), a.min(), a.max(), np.median(a),
         np.percentile(a, [25, 50, 75]), np.linalg.norm(a), np.cumsum(i)[-1]])
    str(np.where(a > 50, a, 0).astype(int))


def _warm_pandas():
    """Common first-use paths of pandas: construction from lists and from
    numpy arrays, describe, printing, arithmetic, grouping, sorting,
    counting, dates."""
    import numpy as np
    import pandas as pd
    df = pd.DataFrame({"k": list("abcab") * 4, "x": range(20),
                       "y": [i / 3 for i in range(20)]})
    str(df.describe())
    str(df.describe(include="all"))
    str(df)
    str(df.groupby("k").agg(["mean", "sum"]))
    df.sort_values("y").head().to_string()
    str(df["k"].value_counts())
    str(pd.to_datetime(["2024-01-02", "2024-03-04"]))
    idx = np.arange(200)
    num = pd.DataFrame({"a": idx, "b": (idx * 37) % 101 / 7.0, "c": np.sqrt(idx)})
    str(num.describe())
    str((num["a"] * 2 + num["b"]).mean())
    str(num[num["b"] > 3].head())
    str(num.corr())
