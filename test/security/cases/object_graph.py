"""Recovering real builtins (and from them open/__import__) through the
object graph.  Every snippet prints ESCAPED the moment it holds something
the restricted namespace does not give, then uses it on the secret file.
These are Python-level cases: an 'error' passes only with a guard error
(GUARD_ERRORS), never with an OS error, so they fail if the Python guards
are removed even though the OS layers would still stop the file read."""
from ._casedef import case

C = 'object_graph'
PAYLOAD = '''
print("ESCAPED")
print(b["open"](context["secret_path"]).read())
'''


def _g(name, code, expect=('violation',)):
	return case(C, name, code + PAYLOAD, expect=expect)


DYN = ('violation', 'error')

CASES = [
	_g('subclasses_wrap_close', '''
for k in ().__class__.__base__.__subclasses__():
    if k.__name__ == "_wrap_close":
        b = k.__init__.__globals__["__builtins__"]
'''),
	_g('subclasses_catch_warnings', '''
for k in object.__subclasses__():
    if "catch_warnings" in k.__name__:
        b = k()._module.__builtins__
'''),
	_g('mro_object', '''
k = "".__class__.__mro__[1]
b = [c for c in k.__subclasses__() if c.__name__ == "BuiltinImporter"][0].load_module("builtins").__dict__
'''),
	_g('type_subclasses_call', '''
subs = type.__subclasses__(object)
b = [s for s in subs if s.__name__ == "Quitter"][0].__call__.__globals__["__builtins__"]
'''),
	_g('func_globals', '''
def f():
    pass
b = f.__globals__["__builtins__"]
b = b if isinstance(b, dict) else b.__dict__
'''),
	_g('lambda_builtins', '''
b = (lambda: 0).__builtins__
'''),
	_g('print_self', '''
b = print.__self__.__dict__
'''),
	_g('len_self_getattr', '''
b = getattr(len, "__self__").__dict__
''', expect=DYN),
	_g('getattr_concat', '''
m = getattr(print, "__se" + "lf__")
b = getattr(m, "__di" + "ct__")
''', expect=DYN),
	_g('generator_frame', '''
def g():
    yield 1
gen = g()
b = gen.gi_frame.f_builtins
'''),
	_g('generator_frame_getattr', '''
def g():
    yield 1
gen = g()
b = getattr(getattr(gen, "gi_frame"), "f_builtins")
''', expect=DYN),
	_g('coroutine_frame', '''
async def c():
    pass
co = c()
b = co.cr_frame.f_builtins
'''),
	_g('async_gen_frame', '''
async def ag():
    yield 1
a = ag()
b = a.ag_frame.f_globals["__builtins__"]
b = b if isinstance(b, dict) else b.__dict__
'''),
	_g('traceback_frame', '''
try:
    1 / 0
except Exception as e:
    b = e.__traceback__.tb_frame.f_builtins
'''),
	_g('traceback_tb_frame_getattr', '''
try:
    1 / 0
except Exception as e:
    tb = getattr(e, "__tr" + "aceback__")
    b = getattr(getattr(tb, "tb_fr" + "ame"), "f_bui" + "ltins")
''', expect=DYN),
	_g('f_back_walk', '''
def g():
    yield 1
fr = next(iter([g()])).gi_frame
while fr.f_back is not None:
    fr = fr.f_back
b = fr.f_builtins
'''),
	_g('gc_get_objects', '''
import gc
b = [o for o in gc.get_objects() if isinstance(o, dict) and "open" in o and "exec" in o][0]
'''),
	_g('gc_get_referrers', '''
import gc
b = [r for r in gc.get_referrers(len) if isinstance(r, dict) and "exec" in r][0]
'''),
	_g('gc_get_referents', '''
import gc
b = [r for r in gc.get_referents(print) if type(r).__name__ == "module"][0].__dict__
'''),
	_g('sys_modules_builtins', '''
import sys
b = sys.modules["builtins"].__dict__
'''),
	_g('exception_context_chain', '''
try:
    raise ValueError()
except ValueError as e:
    b = e.__context__ or e.__traceback__.tb_frame.f_globals["__builtins__"]
'''),
	_g('class_dict_mappingproxy', '''
class A:
    pass
b = A.__dict__["__module__"] and A.__init__.__globals__["__builtins__"]
'''),
	_g('code_object_replace', '''
def f():
    pass
code = f.__code__.replace(co_names=("open",))
b = {"open": type(f)(code, {})}
'''),
	_g('function_type_new', '''
F = type(lambda: 0)
C = type((lambda: 0).__code__)
b = F(C(0, 0, 0, 0, 0, 0, b"", (), (), (), "", "", "", 0, b"", b"", (), ()), {}).__builtins__
'''),
	_g('weakref_finalize_globals', '''
import weakref
b = weakref.finalize.__init__.__globals__["__builtins__"]
'''),
	_g('dataclass_globals', '''
import dataclasses
b = dataclasses.fields.__globals__["__builtins__"]
'''),
	_g('allowed_module_os_attr', '''
import random
os = random._os
b = {"open": lambda p: os.fdopen(os.open(p, os.O_RDONLY))}
'''),
	_g('json_module_codecs', '''
import json
b = json.codecs.__builtins__ if hasattr(json, "codecs") else json.decoder.re.enum.sys.modules["builtins"].__dict__
'''),
	_g('collections_sys', '''
import collections
b = collections._sys.modules["builtins"].__dict__
'''),
	_g('operator_attrgetter', '''
import operator
m = operator.attrgetter("__self__")(print)
b = operator.attrgetter("__dict__")(m)
''', expect=DYN),
	_g('functools_reduce_getattr', '''
import functools
b = functools.reduce(getattr, ["__self__", "__dict__"], print)
''', expect=DYN),
	_g('str_format_getattr_chain', '''
m = vars(print.__self__)
b = m
'''),
	_g('super_self_class', '''
class A:
    def f(self):
        return super().__thisclass__.__init__.__globals__["__builtins__"]
b = A().f()
'''),
	_g('descriptor_get', '''
d = type.__dict__["__subclasses__"]
subs = d.__get__(object)()
b = [s for s in subs if s.__name__ == "Quitter"][0].__init__.__globals__["__builtins__"]
'''),
]
