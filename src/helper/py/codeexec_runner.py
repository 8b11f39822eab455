"""codeexec_runner: the helper's Python entry points, called from pyrun.c.

prepare(allowed, guards)  before the sandbox is locked: pre-imports what
                          the code may need and installs the import guard.
run(code, context_json, cap, validate, validate_only, guards)
                          after the lock: validates, runs the code, and
                          returns a dict of response fields (all text as
                          UTF-8 bytes) that pyrun.c turns into the frame.
"""
import builtins
import json
import linecache
import sys
import types

import codeexec_ast_rules as rules
import codeexec_capture as capture
import codeexec_guard as guard
import codeexec_preload as preload

USER_FILENAME = rules.USER_FILENAME

_state = {"allowed": frozenset(), "guard": None}


def prepare(allowed, guards):
    """Pre-import the allowlist (and lazy dependencies), then, unless the
    Python guards are off, install the import guard, which also stops every
    further module load."""
    allowed = frozenset(a for a in allowed if a)
    preload.preload(allowed)
    preload.warm_up(allowed)
    _state["allowed"] = allowed
    if guards:
        g = guard.ImportGuard(allowed, rules.module_allowed)
        g.install()
        _state["guard"] = g


def server_ready():
    """Fork server, once its warm-up runs are done and before any child
    exists: leave behind what every child would otherwise write.

    - The module views user code receives on import
      (codeexec_guard.ImportGuard.view), built now for every allowlisted
      module.  A view of pandas copies the public names of hundreds of
      submodules: built in a child, that wrote ~1,500 inherited pages per
      call importing it.  A call with a narrower allowlist clears them
      (narrow()) and builds its own.
    - The last warm-up run's __main__ module and linecache entry, dropped
      here: a child's call replaces both, and freeing them there wrote to
      the pages of every object they held."""
    g = _state["guard"]
    if g is not None:
        for name in sorted(_state["allowed"]):
            module = sys.modules.get(name)
            if module is not None:
                g.view(sys.modules[name.partition(".")[0]])
                g.view(module)
        for name in guard.C_LEVEL_IMPORTS:
            if name in sys.modules:
                g.view(sys.modules[name], keep_private=True)
    sys.modules["__main__"] = types.ModuleType("__main__")
    linecache.cache.pop(USER_FILENAME, None)


def rewarm():
    """Run the allowlisted libraries' first-use paths again (prepare() ran
    them once): the fork server's prewarm "full" probe, which records the
    pages this writes."""
    preload.warm_up(_state["allowed"])


def narrow(allowed, guards):
    """Fork-server child: restrict the allowlist prepare() was given (the
    server's superset) to this call's.  The modules stay loaded; the
    validator and the guard no longer let user code reach the others.
    Without `guards` (the test switch) the import guard the server
    installed is taken out again, as prepare() would not have installed
    it."""
    allowed = frozenset(a for a in allowed if a)
    _state["allowed"] = allowed
    g = _state["guard"]
    if g is not None and not guards:
        g.uninstall()
        _state["guard"] = None
    elif g is not None and g.allowed != allowed:
        # the views were built for the old list (server_ready)
        g.allowed = allowed
        g.views.clear()


def _text(value, limit=None):
    """str -> valid UTF-8 bytes, optionally cut to `limit` bytes."""
    data = value.encode("utf-8", "backslashreplace")
    if limit is not None and len(data) > limit:
        data = data[:limit].decode("utf-8", "ignore").encode("utf-8")
    return data


def _type_name(exc_type):
    module = getattr(exc_type, "__module__", None)
    qualname = getattr(exc_type, "__qualname__", exc_type.__name__)
    if module in (None, "builtins", "__main__"):
        return qualname
    return "%s.%s" % (module, qualname)


def _safe_str(exc):
    try:
        return str(exc)
    except BaseException:
        return "<exception str() failed>"


def _format_exception_only(exc):
    name = _type_name(type(exc))
    if isinstance(exc, SyntaxError):
        return "%s: %s\n" % (name, _safe_str(exc))
    msg = _safe_str(exc)
    return "%s: %s\n" % (name, msg) if msg else "%s\n" % name


def _format_frames(tb, lines):
    out = []
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename == USER_FILENAME:
            lineno = tb.tb_lineno
            out.append('  File "%s", line %s, in %s\n'
                       % (USER_FILENAME, lineno, code.co_name))
            if lineno is not None and 1 <= lineno <= len(lines):
                text = lines[lineno - 1].strip()
                if text:
                    out.append("    %s\n" % text)
        tb = tb.tb_next
    return out


def format_traceback(exc, lines):
    """A traceback like the interpreter's, but showing only frames of the
    user's code (library internals would leak paths and mean nothing to
    the caller); chained exceptions are shown as Python shows them."""
    chain = []
    seen = set()
    cur = exc
    while cur is not None and id(cur) not in seen and len(chain) < 20:
        seen.add(id(cur))
        if cur.__cause__ is not None:
            link = ("\nThe above exception was the direct cause of the "
                    "following exception:\n\n")
            nxt = cur.__cause__
        elif cur.__context__ is not None and not cur.__suppress_context__:
            link = ("\nDuring handling of the above exception, another "
                    "exception occurred:\n\n")
            nxt = cur.__context__
        else:
            link, nxt = None, None
        chain.append((cur, link))
        cur = nxt
    out = []
    for i in range(len(chain) - 1, -1, -1):
        e, _ = chain[i]
        frames = _format_frames(e.__traceback__, lines)
        if frames:
            out.append("Traceback (most recent call last):\n")
            out.extend(frames)
        out.append(_format_exception_only(e))
        if i > 0:
            out.append(chain[i - 1][1])
    return "".join(out)


def _violations_json(violations):
    # The usual case without json: in a fresh fork-server child, dumping
    # even an empty list writes ~30 inherited pages (the json encoder's
    # module state and the objects it touches).
    if not violations:
        return b"[]"
    return _text(json.dumps(violations, ensure_ascii=False))


def _decode_source(code):
    """bytes -> str, or a syntax_error outcome for invalid UTF-8 / NUL."""
    try:
        source = code.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = code[:exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        return None, ("code is not valid UTF-8", line, col)
    nul = source.find("\0")
    if nul >= 0:
        line = source.count("\n", 0, nul) + 1
        col = nul - (source.rfind("\n", 0, nul) + 1) + 1
        return None, ("code contains a NUL character", line, col)
    return source, None


def _syntax_response(out, message, line, col, etype="SyntaxError"):
    out["status"] = "syntax_error"
    out["error_type"] = _text(etype)
    out["error_message"] = _text("%s (line %s, column %s)" % (message, line, col))
    out["violations"] = _violations_json([{
        "rule": "syntax_error", "message": message, "line": line, "col": col,
        "severity": "error"}])
    return out


def run(code, context_json, cap, validate, validate_only, guards):
    """Validate and (unless validate_only) run `code` (bytes).  Returns a
    dict: status, stdout, stderr, result, error_type, error_message,
    violations (bytes or None) and truncated (int bits 1=stdout 2=stderr)."""
    out = {"status": "ok", "stdout": None, "stderr": None, "result": None,
           "error_type": None, "error_message": None, "violations": None,
           "truncated": 0}
    source, bad = _decode_source(code)
    if bad is not None:
        return _syntax_response(out, *bad)

    allowed = _state["allowed"]
    if guards and (validate or validate_only):
        status, violations, syn = rules.validate(source, allowed)
        out["violations"] = _violations_json(violations)
        if status == "syntax_error":
            text, _ = rules.syntax_violation(syn)
            out["status"] = "syntax_error"
            out["error_type"] = _text(type(syn).__name__)
            out["error_message"] = _text(text)
            return out
        if status == "violation":
            first = next(v for v in violations if v["severity"] == "error")
            out["status"] = "violation"
            out["error_type"] = b"Violation"
            out["error_message"] = _text("%s: %s (line %s)" % (
                first["rule"], first["message"], first["line"]))
            return out
        if validate_only:
            return out
    elif validate_only:
        try:
            compile(source, USER_FILENAME, "exec", dont_inherit=True)
        except SyntaxError as exc:
            return _syntax_response(out, exc.msg, exc.lineno, exc.offset,
                                    type(exc).__name__)
        out["violations"] = b"[]"
        return out

    return _execute(out, source, context_json, cap, guards)


def _restricted_builtins():
    """The builtins dict of user code, built once per process: one
    execution per process (exec mode) or per child (fork server, where the
    server's warm-up builds it), so none can see another's changes.
    Building it per call took a reference to ~140 objects, most of them
    static in libpython: a copy-on-write fault each in a fork-server child."""
    b = _state.get("builtins")
    if b is None or b[0] is not _state["guard"]:
        b = (_state["guard"], guard.restricted_builtins(_state["guard"]))
        _state["builtins"] = b
    return b[1]


def _execute(out, source, context_json, cap, guards):
    try:
        code_obj = compile(source, USER_FILENAME, "exec", dont_inherit=True)
    except SyntaxError as exc:
        return _syntax_response(out, exc.msg, exc.lineno, exc.offset,
                                type(exc).__name__)
    except (RecursionError, MemoryError) as exc:
        out["status"] = "memory_limit" if isinstance(exc, MemoryError) else "error"
        out["error_type"] = _text(type(exc).__name__)
        out["error_message"] = _text("code is too complex to compile")
        return out

    try:
        # the usual empty context: parsing it wrote ~14 inherited pages
        context = (json.loads(context_json.decode("utf-8"))
                   if context_json and context_json != b"{}" else {})
    except (ValueError, RecursionError) as exc:
        out["status"] = "error"
        out["error_type"] = _text(type(exc).__name__)
        out["error_message"] = _text("context is not valid JSON: %s" % exc, cap)
        return out

    lines = source.splitlines()
    # Warnings raised by the code show its source line from this cache and
    # never try to read "<code>" from disk.
    linecache.cache[USER_FILENAME] = (len(source), None,
                                      [l + "\n" for l in lines], USER_FILENAME)

    main = types.ModuleType("__main__")
    g = main.__dict__
    if guards:
        g["__builtins__"] = _restricted_builtins()
    else:
        g["__builtins__"] = builtins
    g["context"] = context
    sys.modules["__main__"] = main

    stdout = capture.CappedStream(cap, "<stdout>")
    stderr = capture.CappedStream(cap, "<stderr>")
    saved = (sys.stdout, sys.stderr)
    sys.stdout, sys.stderr = stdout, stderr
    exc_out = None
    try:
        exec(code_obj, g)
    except SystemExit as exc:
        if exc.code not in (None, 0):
            exc_out = exc
    except BaseException as exc:
        exc_out = exc

    if exc_out is not None:
        _report_exception(out, exc_out, lines, stderr, cap)
    elif "result" in g:
        _report_result(out, g["result"], cap)

    sys.stdout, sys.stderr = saved
    del main, g, code_obj
    out["stdout"] = stdout.getvalue()
    out["stderr"] = stderr.getvalue()
    out["truncated"] = (1 if stdout.truncated else 0) | (2 if stderr.truncated else 0)
    return out


def _report_exception(out, exc, lines, stderr, cap):
    if isinstance(exc, MemoryError):
        out["status"] = "memory_limit"
    else:
        out["status"] = "error"
    out["error_type"] = _text(_type_name(type(exc)))
    out["error_message"] = _text(_safe_str(exc), cap)
    try:
        stderr.write(format_traceback(exc, lines))
    except MemoryError:
        out["status"] = "memory_limit"
    except Exception:
        stderr.write("%s\n" % _type_name(type(exc)))


def _report_result(out, value, cap):
    try:
        text = json.dumps(value, allow_nan=False, ensure_ascii=False)
        data = text.encode("utf-8")
    except MemoryError:
        out["status"] = "memory_limit"
        out["error_type"] = b"MemoryError"
        out["error_message"] = b"out of memory while serializing result"
        return
    except RecursionError:
        out["status"] = "error"
        out["error_type"] = b"RecursionError"
        out["error_message"] = b"result is nested too deeply to serialize as JSON"
        return
    except UnicodeEncodeError:
        out["status"] = "error"
        out["error_type"] = b"ValueError"
        out["error_message"] = b"result is not JSON serializable: it contains a string that is not valid Unicode"
        return
    except (TypeError, ValueError) as exc:
        out["status"] = "error"
        out["error_type"] = _text(type(exc).__name__)
        out["error_message"] = _text("result is not JSON serializable: %s" % exc, cap)
        return
    except BaseException as exc:
        out["status"] = "error"
        out["error_type"] = _text(_type_name(type(exc)))
        out["error_message"] = _text("serializing result failed: %s" % _safe_str(exc), cap)
        return
    if len(data) > cap:
        out["status"] = "error"
        out["error_type"] = b"ValueError"
        out["error_message"] = _text(
            "result is too large: %d bytes of JSON, the limit is %d" % (len(data), cap))
        return
    out["result"] = data
