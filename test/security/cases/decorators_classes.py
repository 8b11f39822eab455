"""Decorators, class bodies and metaclasses: places where a name or an
attribute is used without looking like an ordinary call or attribute."""
from ._casedef import case

C = 'decorators_classes'
PAYLOAD = '\nprint("ESCAPED")\n'
DYN = ('violation', 'error')

CASES = [
	case(C, 'decorator_eval', '''
@eval
def f():
    pass
''' + PAYLOAD),
	case(C, 'decorator_exec_string', '''
@exec
@str
def f():
    pass
''' + PAYLOAD),
	case(C, 'decorator_lambda_globals', '''
@lambda f: f.__globals__
def g():
    pass
b = g["__builtins__"]
''' + PAYLOAD),
	case(C, 'decorator_getattr_chain', '''
@print.__self__.open
@lambda f: context["secret_path"]
def g():
    pass
print(g.read())
''' + PAYLOAD),
	case(C, 'class_body_builtins', '''
class A:
    b = __builtins__
print(A.b)
''' + PAYLOAD, expect=DYN),
	case(C, 'class_body_locals', '''
class A:
    x = locals()
''' + PAYLOAD),
	case(C, 'metaclass_type_call', '''
class M(type):
    def __new__(m, name, bases, ns):
        ns["b"] = m.__base__.__subclasses__(object)
        return type.__new__(m, name, bases, ns)
class A(metaclass=M):
    pass
''' + PAYLOAD),
	case(C, 'metaclass_call_globals', '''
class M(type):
    def __call__(cls, *a):
        return cls.__call__.__globals__
g = M("A", (), {})()
b = g["__builtins__"]
''' + PAYLOAD),
	case(C, 'init_subclass_hook', '''
class Base:
    def __init_subclass__(cls):
        cls.b = cls.__mro__[-1].__subclasses__()
class A(Base):
    pass
''' + PAYLOAD),
	case(C, 'class_getitem_hook', '''
class A:
    def __class_getitem__(cls, item):
        return item.__self__
b = A[print]
''' + PAYLOAD),
	case(C, 'set_name_hook', '''
class D:
    def __set_name__(self, owner, name):
        owner.g = owner.__init__.__globals__
class A:
    x = D()
''' + PAYLOAD),
	case(C, 'getattr_override', '''
class A:
    def __getattr__(self, name):
        return getattr(print, name)
b = A().__self__
''' + PAYLOAD),
	case(C, 'type_three_arg', '''
A = type("A", (object,), {"f": lambda self: self.__class__.__mro__})
b = A().f()
''' + PAYLOAD),
	case(C, 'dunder_in_type_dict', '''
A = type("A", (), {})
b = getattr(A, "mro")()[-1].__subclasses__()
''' + PAYLOAD),
	case(C, 'property_fget_globals', '''
class A:
    @property
    def p(self):
        return 1
b = A.p.fget.__globals__
''' + PAYLOAD),
	case(C, 'staticmethod_func', '''
class A:
    @staticmethod
    def s():
        pass
b = A.__dict__["s"].__func__.__globals__
''' + PAYLOAD),
	case(C, 'ordinary_class_allowed', '''
class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y
    def norm2(self):
        return self.x * self.x + self.y * self.y
print(Point(3, 4).norm2())
''', expect={'ok'}, require=[r'^25$']),
]
