"""codeexec_guard: the runtime Python guards around user code.

- restricted_builtins(): the builtins dict user code runs with (an
  allowlist; no open/eval/exec/compile/getattr-style reflection).
- ImportGuard: replaces builtins.__import__ for the whole interpreter, so a
  builtins module recovered through the object graph is guarded too.  Code
  compiled from "<code>" may import allowlisted modules only, and receives
  a read-only *view* of each module that leaves out private names, file
  I/O entry points and modules outside the allowlist (datetime.sys,
  enum.bltns, ...).  Library code may import only what is already in
  sys.modules.  After pre-import, sys.meta_path is emptied so nothing new
  can be loaded from anywhere.

These are defence in depth: the OS sandbox is the security boundary.
"""
import builtins
import sys
import types

USER_FILENAME = "<code>"

# Safe builtins: pure functions and types over values the code already has.
SAFE_BUILTIN_NAMES = (
    "abs", "aiter", "all", "anext", "any", "ascii", "bin", "bool", "bytearray",
    "bytes", "callable", "chr", "classmethod", "complex", "dict", "divmod",
    "enumerate", "filter", "float", "format", "frozenset", "hash", "hex", "id",
    "int", "isinstance", "issubclass", "iter", "len", "list", "map", "max",
    "min", "next", "object", "oct", "ord", "pow", "print", "property", "range",
    "repr", "reversed", "round", "set", "slice", "sorted", "staticmethod",
    "str", "sum", "super", "tuple", "type", "zip", "Ellipsis",
    "NotImplemented", "False", "True", "None",
)

# Module attributes left out of the views given to user code: they open
# files or descriptors, or unpickle (which can call anything importable).
HIDDEN_MODULE_ATTRS = {
    "io": ("open", "open_code", "FileIO"),
    "numpy": ("load", "save", "savez", "savez_compressed", "fromfile",
              "memmap", "loadtxt", "savetxt", "genfromtxt", "fromregex",
              "DataSource"),
    "pandas": ("read_pickle", "to_pickle", "eval"),
}


# Modules that C code of allowlisted modules imports by name while running
# in the user's frame (datetime.strftime imports time, datetime.strptime
# imports _strptime).  They are given as views that keep private names
# (the C code needs them) but still drop modules outside the allowlist.
C_LEVEL_IMPORTS = frozenset(("time", "_strptime"))


def _exception_names():
    return [name for name, obj in vars(builtins).items()
            if isinstance(obj, type) and issubclass(obj, BaseException)]


def _safe_getattr_factory():
    real_getattr = builtins.getattr

    def getattr(obj, name, *default):
        """getattr() that refuses names starting with '_'."""
        if isinstance(name, str) and name.startswith("_"):
            raise AttributeError("access to attribute %r is not allowed" % name)
        return real_getattr(obj, name, *default)

    def hasattr(obj, name):
        """hasattr() that refuses names starting with '_'."""
        if isinstance(name, str) and name.startswith("_"):
            raise AttributeError("access to attribute %r is not allowed" % name)
        try:
            real_getattr(obj, name)
        except AttributeError:
            return False
        return True
    return getattr, hasattr


def restricted_builtins(guard):
    """Build the builtins dict for user code."""
    ns = {}
    for name in SAFE_BUILTIN_NAMES + tuple(_exception_names()):
        if hasattr(builtins, name):
            ns[name] = builtins.__dict__[name]
    ns["getattr"], ns["hasattr"] = _safe_getattr_factory()
    ns["__import__"] = guard.guarded_import
    ns["__build_class__"] = builtins.__build_class__
    ns["__name__"] = "builtins"
    return ns


class ImportGuard:
    """Enforces the import allowlist (see module docstring)."""

    def __init__(self, allowed, module_allowed):
        self.allowed = frozenset(allowed)
        self.module_allowed = module_allowed
        self.real_import = builtins.__import__
        self.views = {}

    def install(self):
        """Route every import in the interpreter through the guard and stop
        all loading of new modules."""
        self.saved_finders = (list(sys.meta_path), list(sys.path_hooks))
        builtins.__import__ = self.guarded_import
        sys.meta_path[:] = []
        sys.path_hooks[:] = []
        sys.path_importer_cache.clear()

    def uninstall(self):
        """Undo install(): only for the test switch that turns the Python
        guards off, so a fork-server child is left exactly as an exec-mode
        helper that never installed the guard (the OS layers alone hold)."""
        builtins.__import__ = self.real_import
        sys.meta_path[:], sys.path_hooks[:] = self.saved_finders

    def guarded_import(self, name, globals=None, locals=None, fromlist=(),
                       level=0):
        caller = sys._getframe(1)
        if caller.f_code.co_filename == USER_FILENAME:
            if name in C_LEVEL_IMPORTS and level == 0:
                # a C function the user called imports its helper module;
                # the interpreter cannot tell this from a direct call
                return self.view(sys.modules[name], keep_private=True)
            return self._user_import(name, fromlist, level)
        if level == 0 and name not in sys.modules:
            raise ImportError("module %r is not available in the sandbox" % name,
                              name=name)
        return self.real_import(name, globals, locals, fromlist, level)

    def _user_import(self, name, fromlist, level):
        if level:
            raise ImportError("relative imports are not allowed")
        if not isinstance(name, str) or not self.module_allowed(name, self.allowed):
            raise ImportError("import of module %r is not allowed" % (name,),
                              name=name)
        module = sys.modules.get(name)
        if module is None:
            raise ModuleNotFoundError("module %r is not available" % name,
                                      name=name)
        if fromlist:
            # "from a.b import c": the bytecode reads c from what we return
            return self.view(module)
        return self.view(sys.modules[name.partition(".")[0]])

    def view(self, module, keep_private=False):
        """The read-only view of `module` handed to user code (cached)."""
        name = module.__name__
        cached = self.views.get((name, keep_private))
        if cached is not None:
            return cached
        view = types.ModuleType(name, getattr(module, "__doc__", None))
        self.views[(name, keep_private)] = view
        hidden = HIDDEN_MODULE_ATTRS.get(name.partition(".")[0], ())
        for key, value in list(vars(module).items()):
            if (key.startswith("_") and not keep_private) or key in hidden or \
                    key in ("__builtins__", "__loader__", "__spec__"):
                continue
            if isinstance(value, types.ModuleType):
                if not self.module_allowed(value.__name__, self.allowed):
                    continue
                value = self.view(value)
            view.__dict__[key] = value
        public = getattr(module, "__all__", None)
        if isinstance(public, (list, tuple)):
            view.__all__ = [k for k in public
                            if isinstance(k, str) and k in view.__dict__]
        return view
