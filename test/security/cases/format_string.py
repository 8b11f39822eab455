"""Format-string attribute access: str.format / format_map / Formatter can
walk attributes named in a string, out of the AST validator's sight."""
from ._casedef import case

C = 'format_string'
# What a successful walk shows: the real builtins module or its functions.
LEAK = [r"<module 'builtins'", r'<built-in function (open|exec|eval|__import__)',
		r"<function .* at 0x", r"'__builtins__'"]
DYN = ('violation', 'error')

CASES = [
	case(C, 'format_self', 'print("{0.__self__}".format(print))', forbid=LEAK),
	case(C, 'format_globals', '''
def f():
    pass
print("{0.__globals__}".format(f))
''', forbid=LEAK),
	case(C, 'format_subclasses', 'print("{0.__class__.__base__.__subclasses__}".format(()))',
		 forbid=LEAK + [r'method of type']),
	case(C, 'format_map_dict', 'print("{f.__self__.open}".format_map({"f": print}))',
		 forbid=LEAK),
	case(C, 'format_index', 'print("{0.__self__.__dict__[open]}".format(print))', forbid=LEAK),
	case(C, 'format_dynamic_string', '''
fmt = "{0." + "_" * 2 + "self" + "_" * 2 + ".open}"
print(fmt.format(print))
''', expect=DYN, forbid=LEAK),
	case(C, 'format_method_getattr', '''
fmt = "{0." + chr(95) * 2 + "globals" + chr(95) * 2 + "}"
def f():
    pass
print(str.format(fmt, f))
''', expect=DYN, forbid=LEAK),
	case(C, 'string_formatter', '''
import string
fmt = "{0." + chr(95) * 2 + "self" + chr(95) * 2 + "}"
print(string.Formatter().format(fmt, print))
''', expect=DYN, forbid=LEAK),
	case(C, 'fstring_attr', 'print(f"{print.__self__}")', forbid=LEAK),
	case(C, 'percent_format_dict', '''
print("%(x)s" % {"x": print.__self__})
''', forbid=LEAK),
	case(C, 'format_builtin', '''
spec = "{0." + chr(95) * 2 + "class" + chr(95) * 2 + "}"
print(format(spec.format(print)))
''', expect=DYN, forbid=LEAK + [r"builtin_function_or_method"]),
]
