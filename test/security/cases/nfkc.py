"""NFKC identifier tricks: Python folds compatibility characters in
identifiers to their NFKC form when it parses, so a validator that looks
at source text instead of the AST is fooled."""
from ._casedef import case

C = 'nfkc'
PAYLOAD = '\nprint("ESCAPED")\n'

CASES = [
	case(C, 'fullwidth_open', '\uff4f\uff50\uff45\uff4e(context["secret_path"])' + PAYLOAD),
	case(C, 'fullwidth_eval', '\uff45\uff56\uff41\uff4c("1+1")' + PAYLOAD),
	case(C, 'math_bold_exec', '\U0001d41e\U0001d431\U0001d41e\U0001d41c("x=1")' + PAYLOAD),
	case(C, 'fullwidth_underscore_attr',
		 'x = ()._\uff3fclass\uff3f\uff3f._\uff3fbase\uff3f\uff3f' + PAYLOAD),
	case(C, 'fullwidth_dunder_import',
		 'os = _\uff3fimport\uff3f\uff3f("os")' + PAYLOAD),
	case(C, 'script_e_eval', '\u212fval("1")' + PAYLOAD),
	case(C, 'superscript_globals', 'g = glob\u1d43ls()' + PAYLOAD),
	case(C, 'script_small_globals', 'g = \U0001d4f0lobals()' + PAYLOAD),
	case(C, 'fullwidth_getattr_dunder', 'x = ｇｅｔａｔｔｒ(print, "__self__")' + PAYLOAD,
		 expect=('violation', 'error')),
	case(C, 'fullwidth_import_stmt', 'import \uff4f\uff53\nprint("ESCAPED", \uff4f\uff53.getpid())'),
	case(C, 'nfkc_string_is_not_name', '''
n = "\\uff4f\\uff50\\uff45\\uff4e"
print(n)
''', expect={'ok'}, require=['\uff4f\uff50\uff45\uff4e']),
]
