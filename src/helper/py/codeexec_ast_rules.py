"""codeexec_ast_rules: the static validator run inside the helper.

validate(source, allowed) parses the user's code and walks its AST once,
returning (status, violations, syntax) where status is "ok", "violation" or
"syntax_error" and every violation is a dict {rule, message, line, col,
severity}.  Rule names are stable: docs/helper.md lists them and the backend
and tests match on them.  These rules are defence in depth; the helper's
runtime guards (codeexec_guard) and the OS sandbox do not rely on them.
"""
import _string
import ast

USER_FILENAME = "<code>"

# Complexity ceilings.  Ordinary analysis snippets stay far below them; code
# that reaches them is either generated to attack the parser/compiler or so
# large that a reviewer could not read it anyway.
MAX_AST_NODES = 100000
MAX_AST_DEPTH = 200

# Constant-size ceilings for values the code would build from literals alone.
MAX_CONST_INT_BITS = 1000000		# about 300,000 decimal digits
MAX_CONST_SEQ_LEN = 10000000		# items of a list/tuple or chars of a string
MAX_LITERAL_LEN = 1000000			# a single str/bytes literal

# Builtins whose only uses in analysis code would be to reach the
# interpreter itself: dynamic code (eval, exec, compile), the import
# machinery (__import__), namespaces of live frames (globals, locals, vars,
# dir), reflective attribute access that would bypass the "_" attribute rule
# (getattr, setattr, delattr), I/O the sandbox has no use for (open, input,
# breakpoint, help), interpreter exit (exit, quit), raw memory views
# (memoryview), and the dunder hooks of the builtins module itself.
FORBIDDEN_NAMES = frozenset((
    "eval", "exec", "compile", "open", "__import__", "globals", "locals",
    "vars", "breakpoint", "input", "getattr", "setattr", "delattr", "help",
    "exit", "quit", "memoryview", "dir", "__builtins__", "__loader__",
    "__spec__", "__build_class__", "copyright", "credits", "license",
))

# Names starting with "__" other than these are refused (private_name).
ALLOWED_DUNDER_NAMES = frozenset(("__name__",))

# The documented public API of namedtuple uses a leading underscore to stay
# clear of field names; these attributes are allowed.
ALLOWED_PRIVATE_ATTRIBUTES = frozenset((
    "_asdict", "_replace", "_fields", "_make", "_field_defaults",
))

# Attributes without a leading underscore that still expose live frames,
# code objects or their globals and builtins (generator, coroutine,
# traceback and frame internals).
FORBIDDEN_ATTRIBUTES = frozenset((
    "gi_frame", "gi_code", "gi_yieldfrom", "cr_frame", "cr_code", "cr_await",
    "cr_origin", "ag_frame", "ag_code", "ag_await", "tb_frame", "tb_next",
    "f_globals", "f_locals", "f_builtins", "f_back", "f_code", "f_trace",
    "co_code", "func_globals", "mro",
))

# Methods that interpret a string as a format template whose fields may
# walk attributes ("{0.__class__}").
FORMAT_METHODS = frozenset(("format", "format_map", "vformat"))

# Modules a user may import whatever the allowlist says (compiler directives).
ALWAYS_ALLOWED = frozenset(("__future__",))


def _violation(rule, message, node=None, line=None, col=None):
    if node is not None:
        line = getattr(node, "lineno", None)
        col = getattr(node, "col_offset", None)
    return {"rule": rule, "message": message, "line": line,
            "col": None if col is None else col + 1, "severity": "error"}


def module_allowed(name, allowed):
    """True if module `name` (dotted) is an allowed module or a submodule of
    an allowed package."""
    if name in ALWAYS_ALLOWED:
        return True
    parts = name.split(".")
    for i in range(1, len(parts) + 1):
        if ".".join(parts[:i]) in allowed:
            return True
    return False


def syntax_violation(exc):
    """Build (message, line, col) and a violation from a SyntaxError."""
    line = exc.lineno
    col = exc.offset
    msg = exc.msg or "invalid syntax"
    text = "%s (line %s, column %s)" % (msg, line, col)
    return text, {"rule": "syntax_error", "message": msg, "line": line,
                  "col": col, "severity": "error"}


def validate(source, allowed):
    """Parse and check `source` (str) against the rules.

    Returns (status, violations, syntax_exc): status "syntax_error" with the
    SyntaxError in syntax_exc, else "violation" when any finding has severity
    "error", else "ok".
    """
    try:
        tree = compile(source, USER_FILENAME, "exec", _ONLY_AST)
    except SyntaxError as exc:
        return "syntax_error", [syntax_violation(exc)[1]], exc
    except (RecursionError, MemoryError):
        v = _violation("too_complex", "code is nested too deeply to parse",
                       line=1, col=0)
        return "violation", [v], None
    checker = _Checker(frozenset(allowed))
    checker.run(tree)
    status = "ok"
    for v in checker.violations:
        if v["severity"] == "error":
            status = "violation"
    return status, checker.violations, None


def format_fields(template):
    """Yield the field names of a str.format template, recursing into
    nested format specs; raises ValueError for a malformed template."""
    for literal, field, spec, conv in _string.formatter_parser(template):
        if field is not None:
            yield field
        if spec:
            yield from format_fields(spec)


def _field_walks_private(field):
    """True if a str.format field name reaches an attribute or item whose
    name starts with "_" (e.g. "0.__class__", "x[_secret]")."""
    try:
        first, rest = _string.formatter_field_name_split(field)
        for is_attr, key in rest:
            if isinstance(key, str) and key.startswith("_"):
                return True
    except ValueError:
        return True
    return False


class _Checker:
    """One pass over the tree collecting violations; iterative so that a
    deep tree cannot exhaust the C stack."""

    def __init__(self, allowed):
        self.allowed = allowed
        self.violations = []

    def add(self, rule, message, node):
        self.violations.append(_violation(rule, message, node))

    def run(self, tree):
        count = 0
        too_deep = False
        stack = [(tree, 1, None)]
        visitors = _VISITORS
        node_type = _AST
        while stack:
            node, depth, parent = stack.pop()
            count += 1
            if depth > MAX_AST_DEPTH and not too_deep:
                too_deep = True
                self.add("max_depth",
                         "code is nested more than %d levels deep" % MAX_AST_DEPTH,
                         node)
            self.parent = parent
            method = visitors.get(type(node))
            if method is not None:
                method(self, node)
            # ast.iter_child_nodes, inline: in a fresh fork-server child
            # every Python function a call goes through is a page or more
            # to copy (~20 of a print(1)'s validation)
            for name in node._fields:
                try:
                    value = getattr(node, name)
                except AttributeError:
                    continue
                if isinstance(value, node_type):
                    stack.append((value, depth + 1, node))
                elif isinstance(value, list):
                    for item in value:
                        if isinstance(item, node_type):
                            stack.append((item, depth + 1, node))
        if count > MAX_AST_NODES:
            self.violations.append(_violation(
                "max_nodes", "code has %d syntax nodes, more than the limit of %d"
                % (count, MAX_AST_NODES), line=1, col=0))
        if len(self.violations) > 1:
            self.violations.sort(key=_position)

    # -- imports --------------------------------------------------------
    def visit_Import(self, node):
        for alias in node.names:
            if not module_allowed(alias.name, self.allowed):
                self.add("import_not_allowed",
                         "import of module '%s' is not allowed" % alias.name, node)

    def visit_ImportFrom(self, node):
        if node.level:
            self.add("import_not_allowed",
                     "relative imports are not allowed", node)
            return
        if not module_allowed(node.module, self.allowed):
            self.add("import_not_allowed",
                     "import from module '%s' is not allowed" % node.module, node)

    # -- names ----------------------------------------------------------
    def visit_Name(self, node):
        self._check_name(node.id, node)

    def _check_name(self, name, node):
        if name in FORBIDDEN_NAMES:
            self.add("forbidden_name", "use of '%s' is not allowed" % name, node)
        elif name.startswith("__") and name not in ALLOWED_DUNDER_NAMES:
            self.add("private_name",
                     "names starting with '__' ('%s') are not allowed" % name, node)

    def visit_alias(self, node):
        # "from m import eval as e" / "import x as __builtins__"
        if node.name != "*":
            self._check_bound(node.asname or node.name.split(".")[0], node)

    def _check_bound(self, name, node):
        if name in FORBIDDEN_NAMES or (name.startswith("__") and
                                       name not in ALLOWED_DUNDER_NAMES):
            self.add("forbidden_name", "binding the name '%s' is not allowed" % name,
                     node if hasattr(node, "lineno") else None)

    def visit_Global(self, node):
        for name in node.names:
            self._check_name(name, node)

    visit_Nonlocal = visit_Global

    def visit_arg(self, node):
        if node.arg in FORBIDDEN_NAMES:
            self.add("forbidden_name", "binding the name '%s' is not allowed" % node.arg,
                     node)

    # -- attributes -----------------------------------------------------
    def visit_Attribute(self, node):
        attr = node.attr
        if attr.startswith("_") and attr not in ALLOWED_PRIVATE_ATTRIBUTES:
            self.add("private_attribute",
                     "access to attribute '%s' (name starts with '_') is not allowed"
                     % attr, node)
        elif attr in FORBIDDEN_ATTRIBUTES:
            self.add("forbidden_attribute",
                     "access to attribute '%s' is not allowed" % attr, node)
        elif attr in FORMAT_METHODS:
            self._check_format(node)

    def _check_format(self, node):
        target = node.value
        if isinstance(target, ast.Constant) and isinstance(target.value, str):
            try:
                fields = list(format_fields(target.value))
            except ValueError:
                return			# str.format will raise at run time
            for field in fields:
                if _field_walks_private(field):
                    self.add("format_string_attribute",
                             "format field '{%s}' reaches a name starting with '_'"
                             % field, node)
                    return
            return
        self.add("format_string_dynamic",
                 "'.%s' is only allowed on a string literal, because a template "
                 "built at run time could read private attributes; use an f-string"
                 % node.attr, node)

    # -- string methods whose template comes from a str literal are fine;
    #    f-strings compile to ordinary expressions and are checked as such.

    # -- constants --------------------------------------------------------
    def visit_Constant(self, node):
        value = node.value
        if isinstance(value, (str, bytes)) and len(value) > MAX_LITERAL_LEN:
            self.add("constant_too_large",
                     "literal of %d characters is longer than %d"
                     % (len(value), MAX_LITERAL_LEN), node)
        elif isinstance(value, int) and value.bit_length() > MAX_CONST_INT_BITS:
            self.add("constant_too_large", "integer literal is too large", node)

    def visit_BinOp(self, node):
        # Judge each constant expression once, from its outermost operator.
        if not isinstance(self.parent, (ast.BinOp, ast.UnaryOp)):
            _ConstSize(self).estimate(node)

    def visit_AugAssign(self, node):
        # x **= 10**10 and x <<= 10**10: the target's size is unknown, so
        # judge the constant operand alone.
        if isinstance(node.op, (ast.Pow, ast.LShift)):
            size = _ConstSize(self)
            right = size.estimate(node.value)
            if isinstance(right, _Int):
                size.check_unknown_base(node, node.op, right)


def _position(v):
    return (v["line"] or 0, v["col"] or 0)


# visit_<ClassName> methods by node class: run() looks a node's class up
# here instead of building "visit_" + name for every node
_VISITORS = {getattr(ast, name[len("visit_"):]): method
             for name, method in vars(_Checker).items()
             if name.startswith("visit_")}
_AST = ast.AST
_ONLY_AST = ast.PyCF_ONLY_AST


class _Int:
    """A constant integer known exactly (value) or only by size (bits)."""
    __slots__ = ("value", "bits")

    def __init__(self, value=None, bits=None):
        self.value = value
        self.bits = bits if value is None else value.bit_length()


class _Seq:
    """A constant sequence (str, bytes, list, tuple) of known length."""
    __slots__ = ("length",)

    def __init__(self, length):
        self.length = length


class _ConstSize:
    """Estimates the size of a constant expression without building it, and
    reports expressions whose value would exceed the constant ceilings.
    Returns _Int, _Seq or None (not a constant / unknown)."""

    def __init__(self, checker):
        self.checker = checker
        self.reported = False

    def report(self, node, what):
        if not self.reported:
            self.reported = True
            self.checker.add("constant_too_large",
                             "constant expression would build %s" % what, node)

    def estimate(self, node):
        # Only BinOp trees are recursed; depth is already bounded by the
        # parser for parenthesised forms, and chains are iterated by walking
        # the left spine when possible.
        try:
            return self._estimate(node, 0)
        except RecursionError:
            return None

    def _estimate(self, node, depth):
        if depth > 100:
            return None
        if isinstance(node, ast.Constant):
            v = node.value
            if isinstance(v, bool) or not isinstance(v, (int, str, bytes)):
                return None
            if isinstance(v, int):
                return _Int(v)
            return _Seq(len(v))
        if isinstance(node, (ast.List, ast.Tuple)):
            return _Seq(len(node.elts))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd, ast.Invert)):
            inner = self._estimate(node.operand, depth + 1)
            if isinstance(inner, _Int) and inner.value is not None:
                try:
                    return _Int(-inner.value if isinstance(node.op, ast.USub)
                                else (~inner.value if isinstance(node.op, ast.Invert)
                                      else inner.value))
                except Exception:
                    return None
            return inner if isinstance(inner, _Int) else None
        if not isinstance(node, ast.BinOp):
            return None
        left = self._estimate(node.left, depth + 1)
        right = self._estimate(node.right, depth + 1)
        op = node.op
        if left is None and isinstance(right, _Int):
            self.check_unknown_base(node, op, right)
        if left is None or right is None:
            return None
        if isinstance(op, ast.Pow) and isinstance(left, _Int) and isinstance(right, _Int):
            return self._pow(node, left, right)
        if isinstance(op, ast.LShift) and isinstance(left, _Int) and isinstance(right, _Int):
            if right.value is None or right.value > MAX_CONST_INT_BITS:
                if left.value == 0:
                    return _Int(0)
                self.report(node, "an integer of more than %d bits" % MAX_CONST_INT_BITS)
                return _Int(bits=MAX_CONST_INT_BITS + 1)
            if right.value < 0:
                return None
            return self._int_of_bits(node, left.bits + right.value,
                                     lambda: left.value << right.value
                                     if left.value is not None else None)
        if isinstance(op, ast.Mult):
            if isinstance(left, _Seq) and isinstance(right, _Int):
                return self._repeat(node, left, right)
            if isinstance(left, _Int) and isinstance(right, _Seq):
                return self._repeat(node, right, left)
            if isinstance(left, _Int) and isinstance(right, _Int):
                return self._int_of_bits(node, left.bits + right.bits,
                                         lambda: left.value * right.value
                                         if None not in (left.value, right.value) else None)
            return None
        if isinstance(op, ast.Add):
            if isinstance(left, _Seq) and isinstance(right, _Seq):
                n = left.length + right.length
                if n > MAX_CONST_SEQ_LEN:
                    self.report(node, "a sequence of %d items" % n)
                return _Seq(n)
            if isinstance(left, _Int) and isinstance(right, _Int):
                if None in (left.value, right.value):
                    return _Int(bits=max(left.bits, right.bits) + 1)
                return _Int(left.value + right.value)
            return None
        if isinstance(left, _Int) and isinstance(right, _Int) and \
                None not in (left.value, right.value) and \
                isinstance(op, (ast.Sub, ast.FloorDiv, ast.Mod, ast.BitAnd,
                                ast.BitOr, ast.BitXor, ast.RShift)):
            try:
                return _Int(_SMALL_OPS[type(op)](left.value, right.value))
            except Exception:
                return None
        return None

    def check_unknown_base(self, node, op, right):
        """x ** N and x << N with a value x of unknown size: any x but 0 and
        +-1 makes an integer of about N bits or more."""
        if isinstance(op, (ast.Pow, ast.LShift)) and \
                (right.value is None or right.value > MAX_CONST_INT_BITS):
            self.report(node, "an integer of more than %d bits" % MAX_CONST_INT_BITS)

    def _int_of_bits(self, node, bits, compute):
        if bits > MAX_CONST_INT_BITS:
            self.report(node, "an integer of more than %d bits" % MAX_CONST_INT_BITS)
            return _Int(bits=bits)
        value = compute()
        return _Int(value) if value is not None else _Int(bits=bits)

    def _pow(self, node, base, exp):
        if exp.value is None:
            # exponent itself is astronomically large
            if base.value in (0, 1, -1):
                return None
            self.report(node, "an integer of more than %d bits" % MAX_CONST_INT_BITS)
            return _Int(bits=MAX_CONST_INT_BITS + 1)
        if exp.value < 0:
            return None
        if base.value is not None and base.value in (0, 1, -1):
            return _Int(base.value ** exp.value)
        base_bits = base.bits
        # |b|**e has about e*log2|b| bits; bits-1 <= log2|b| < bits
        if (base_bits - 1) * exp.value > MAX_CONST_INT_BITS or \
                exp.value > MAX_CONST_INT_BITS:
            self.report(node, "an integer of more than %d bits" % MAX_CONST_INT_BITS)
            return _Int(bits=MAX_CONST_INT_BITS + 1)
        bits = base_bits * exp.value
        return self._int_of_bits(node, bits, lambda: base.value ** exp.value
                                 if base.value is not None else None)

    def _repeat(self, node, seq, count):
        if count.value is None:
            if seq.length:
                self.report(node, "a sequence of more than %d items" % MAX_CONST_SEQ_LEN)
            return _Seq(0)
        n = seq.length * max(count.value, 0)
        if n > MAX_CONST_SEQ_LEN:
            self.report(node, "a sequence of %d items" % n)
        return _Seq(n)


_SMALL_OPS = {
    ast.Sub: lambda a, b: a - b,
    ast.FloorDiv: lambda a, b: a // b,
    ast.Mod: lambda a, b: a % b,
    ast.BitAnd: lambda a, b: a & b,
    ast.BitOr: lambda a, b: a | b,
    ast.BitXor: lambda a, b: a ^ b,
    ast.RShift: lambda a, b: a >> b,
}
