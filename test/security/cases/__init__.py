"""
The adversarial corpus of test/security: one module per category, each
defining CASES, a list built with casedef.case().  load_all() returns every
case in a stable order and refuses duplicate ids, so a typo cannot hide a
case.
"""
import importlib
import pkgutil


def load_all():
	cases = []
	seen = set()
	for mod in sorted(m.name for m in pkgutil.iter_modules(__path__)):
		if mod.startswith('_'):
			continue
		for c in importlib.import_module(__name__ + '.' + mod).CASES:
			if c['id'] in seen:
				raise ValueError('duplicate case id %s' % c['id'])
			seen.add(c['id'])
			cases.append(c)
	return cases
