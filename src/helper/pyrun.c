/*-------------------------------------------------------------------------
 *
 * pyrun.c
 *	  Embeds CPython for the helper.  The interpreter is configured so that
 *	  nothing outside the request can influence it: isolated mode, no site
 *	  module, no environment variables, no signal handlers, no bytecode
 *	  writes, no argv parsing, and an explicit module search path under the
 *	  build-time CODEEXEC_PYTHON_HOME.  The helper's own Python modules are
 *	  compiled from the copies embedded in the executable (embedded_py.c),
 *	  in name order, so a module may only import embedded modules whose
 *	  names sort before its own (codeexec_runner comes last).
 *
 *-------------------------------------------------------------------------
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "pyrun.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "embedded_py.h"
#include "wire.h"

#ifndef CODEEXEC_PYTHON_HOME
#define CODEEXEC_PYTHON_HOME "/usr"
#endif

#define PYRUN_STR2(x) #x
#define PYRUN_STR(x) PYRUN_STR2(x)
#define PYRUN_LIBDIR CODEEXEC_PYTHON_HOME "/lib/python" \
	PYRUN_STR(PY_MAJOR_VERSION) "." PYRUN_STR(PY_MINOR_VERSION)

static PyObject *pyrun_runner;	/* the codeexec_runner module */
static PyObject *pyrun_outcome; /* dict returned by run(); kept until exit */

/*
 * Describe the pending Python exception in errbuf and say whether it was a
 * MemoryError; clears the exception.
 */
static int
pyrun_error(const char *what, char *errbuf, size_t errlen)
{
	PyObject   *type,
			   *value,
			   *tb;
	int			rc = PYRUN_FAILED;
	const char *text = NULL;
	PyObject   *str = NULL;

	PyErr_Fetch(&type, &value, &tb);
	if (type != NULL && PyErr_GivenExceptionMatches(type, PyExc_MemoryError))
		rc = PYRUN_NO_MEMORY;
	if (value != NULL)
		str = PyObject_Str(value);
	if (str != NULL)
		text = PyUnicode_AsUTF8(str);
	if (text == NULL)
		PyErr_Clear();
	snprintf(errbuf, errlen, "%s: %s: %s", what,
			 type ? ((PyTypeObject *) type)->tp_name : "?", text ? text : "?");
	Py_XDECREF(str);
	Py_XDECREF(type);
	Py_XDECREF(value);
	Py_XDECREF(tb);
	return rc;
}

/* Append `path` to the config's search path if it is a directory. */
static int
pyrun_add_path(PyConfig *config, const char *path)
{
	struct stat st;
	wchar_t    *wpath;
	PyStatus	status;

	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		return 0;
	wpath = Py_DecodeLocale(path, NULL);
	if (wpath == NULL)
		return -1;
	status = PyWideStringList_Append(&config->module_search_paths, wpath);
	PyMem_RawFree(wpath);
	return PyStatus_Exception(status) ? -1 : 0;
}

/* Report a failed PyStatus; lack of memory is told apart. */
static int
pyrun_status_error(PyStatus status, char *errbuf, size_t errlen)
{
	snprintf(errbuf, errlen, "CPython initialisation failed: %s%s%s",
			 status.func ? status.func : "",
			 status.func ? ": " : "",
			 status.err_msg ? status.err_msg : "unknown error");
	if (status.err_msg && strstr(status.err_msg, "memory"))
		return PYRUN_NO_MEMORY;
	return PYRUN_FAILED;
}

/* Compile and execute every embedded module, registering it by name. */
static int
pyrun_load_embedded(char *errbuf, size_t errlen)
{
	for (const EmbeddedPy *m = codeexec_embedded_py; m->name != NULL; m++)
	{
		char		filename[128];
		PyObject   *code;
		PyObject   *mod;

		snprintf(filename, sizeof(filename), "<codeexec/%s.py>", m->name);
		code = Py_CompileString(m->source, filename, Py_file_input);
		if (code == NULL)
			return pyrun_error(filename, errbuf, errlen);
		mod = PyImport_ExecCodeModuleEx(m->name, code, filename);
		Py_DECREF(code);
		if (mod == NULL)
			return pyrun_error(filename, errbuf, errlen);
		if (strcmp(m->name, "codeexec_runner") == 0)
			pyrun_runner = mod;
		else
			Py_DECREF(mod);
	}
	if (pyrun_runner == NULL)
	{
		snprintf(errbuf, errlen, "embedded module codeexec_runner is missing");
		return PYRUN_FAILED;
	}
	return PYRUN_OK;
}

int
pyrun_start(char *errbuf, size_t errlen)
{
	PyConfig	config;
	PyStatus	status;

	PyConfig_InitIsolatedConfig(&config);
	config.site_import = 0;
	config.user_site_directory = 0;
	config.use_environment = 0;
	config.install_signal_handlers = 0;
	config.write_bytecode = 0;
	config.parse_argv = 0;
	config.buffered_stdio = 0;
	config.pathconfig_warnings = 0;

	status = PyConfig_SetBytesString(&config, &config.home, CODEEXEC_PYTHON_HOME);
	if (!PyStatus_Exception(status))
		status = PyConfig_SetBytesString(&config, &config.stdio_encoding, "utf-8");
	if (!PyStatus_Exception(status))
		status = PyConfig_SetBytesString(&config, &config.stdio_errors, "backslashreplace");
	if (PyStatus_Exception(status))
	{
		PyConfig_Clear(&config);
		return pyrun_status_error(status, errbuf, errlen);
	}

	/*
	 * An explicit search path: the standard library, its extension modules,
	 * and Debian's dist-packages (numpy, pandas) — which site.py would add
	 * but we do not run.
	 */
	config.module_search_paths_set = 1;
	if (pyrun_add_path(&config, PYRUN_LIBDIR) < 0 ||
		pyrun_add_path(&config, PYRUN_LIBDIR "/lib-dynload") < 0 ||
		pyrun_add_path(&config, CODEEXEC_PYTHON_HOME "/lib/python3/dist-packages") < 0)
	{
		PyConfig_Clear(&config);
		snprintf(errbuf, errlen, "building the module search path failed");
		return PYRUN_NO_MEMORY;
	}

	status = Py_InitializeFromConfig(&config);
	PyConfig_Clear(&config);
	if (PyStatus_Exception(status))
		return pyrun_status_error(status, errbuf, errlen);
	return pyrun_load_embedded(errbuf, errlen);
}

/* Split the '\n'-separated allowlist into a Python list of str. */
static PyObject *
pyrun_allowlist(const HelperRequest *req)
{
	PyObject   *list = PyList_New(0);
	const char *p = req->imports;
	const char *end = req->imports ? req->imports + req->imports_len : NULL;

	if (list == NULL)
		return NULL;
	while (p != NULL && p < end)
	{
		const char *nl = memchr(p, '\n', end - p);
		const char *stop = nl ? nl : end;
		PyObject   *name;

		if (stop > p)
		{
			name = PyUnicode_DecodeUTF8(p, stop - p, "replace");
			if (name == NULL || PyList_Append(list, name) < 0)
			{
				Py_XDECREF(name);
				Py_DECREF(list);
				return NULL;
			}
			Py_DECREF(name);
		}
		p = stop + 1;
	}
	return list;
}

int
pyrun_prepare(const HelperRequest *req, int guards, char *errbuf, size_t errlen)
{
	PyObject   *allowed = pyrun_allowlist(req);
	PyObject   *ret;

	if (allowed == NULL)
		return pyrun_error("reading the import allowlist", errbuf, errlen);
	ret = PyObject_CallMethod(pyrun_runner, "prepare", "Oi", allowed, guards);
	Py_DECREF(allowed);
	if (ret == NULL)
		return pyrun_error("preparing the interpreter", errbuf, errlen);
	Py_DECREF(ret);
	return PYRUN_OK;
}

int
pyrun_server_ready(char *errbuf, size_t errlen)
{
	PyObject   *ret = PyObject_CallMethod(pyrun_runner, "server_ready", NULL);

	if (ret == NULL)
		return pyrun_error("getting the fork server ready", errbuf, errlen);
	Py_DECREF(ret);
	return PYRUN_OK;
}

void
pyrun_rewarm(void)
{
	PyObject   *ret = PyObject_CallMethod(pyrun_runner, "rewarm", NULL);

	Py_XDECREF(ret);
	PyErr_Clear();
}

int
pyrun_narrow(const HelperRequest *req, char *errbuf, size_t errlen)
{
	PyObject   *allowed = pyrun_allowlist(req);
	PyObject   *ret;

	if (allowed == NULL)
		return pyrun_error("reading the import allowlist", errbuf, errlen);
	ret = PyObject_CallMethod(pyrun_runner, "narrow", "Oi", allowed,
							  (req->flags & WIRE_FLAG_NO_PY_GUARDS) == 0);
	Py_DECREF(allowed);
	if (ret == NULL)
		return pyrun_error("narrowing the import allowlist", errbuf, errlen);
	Py_DECREF(ret);
	return PYRUN_OK;
}

/*
 * Point `*t` at the bytes value `key` of the outcome dict (absent or None
 * leaves the field absent).  Returns -1 if the value has the wrong type.
 */
static int
pyrun_take(PyObject *outcome, const char *key, HelperText *t)
{
	PyObject   *v = PyDict_GetItemString(outcome, key);
	char	   *data;
	Py_ssize_t	len;

	t->data = NULL;
	t->len = 0;
	if (v == NULL || v == Py_None)
		return 0;
	if (!PyBytes_Check(v) || PyBytes_AsStringAndSize(v, &data, &len) < 0)
		return -1;
	t->data = data;
	t->len = (size_t) len;
	return 0;
}

/* Map the outcome's status text to the static WIRE_STATUS_* string. */
static const char *
pyrun_status_name(PyObject *outcome)
{
	static const char *const names[] = {
		WIRE_STATUS_OK, WIRE_STATUS_ERROR, WIRE_STATUS_SYNTAX_ERROR,
		WIRE_STATUS_VIOLATION, WIRE_STATUS_MEMORY_LIMIT,
	};
	PyObject   *v = PyDict_GetItemString(outcome, "status");
	const char *s = v && PyUnicode_Check(v) ? PyUnicode_AsUTF8(v) : NULL;

	if (s == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0)
			return names[i];
	return NULL;
}

int
pyrun_execute(const HelperRequest *req, HelperResponse *res,
			  char *errbuf, size_t errlen)
{
	int64_t		flags = req->flags;
	int			guards = !(flags & WIRE_FLAG_NO_PY_GUARDS);
	int64_t		cap = req->max_output + req->output_slack;
	PyObject   *outcome;
	PyObject   *truncated;

	outcome = PyObject_CallMethod(pyrun_runner, "run", "y#y#Liii",
								  req->code, (Py_ssize_t) req->code_len,
								  req->context ? req->context : "",
								  (Py_ssize_t) (req->context ? req->context_len : 0),
								  (long long) cap,
								  (flags & WIRE_FLAG_VALIDATE) != 0,
								  (flags & WIRE_FLAG_VALIDATE_ONLY) != 0,
								  guards);
	if (outcome == NULL)
		return pyrun_error("running the code", errbuf, errlen);
	if (!PyDict_Check(outcome) || (res->status = pyrun_status_name(outcome)) == NULL ||
		pyrun_take(outcome, "stdout", &res->stdout_text) < 0 ||
		pyrun_take(outcome, "stderr", &res->stderr_text) < 0 ||
		pyrun_take(outcome, "result", &res->result_json) < 0 ||
		pyrun_take(outcome, "error_type", &res->error_type) < 0 ||
		pyrun_take(outcome, "error_message", &res->error_message) < 0 ||
		pyrun_take(outcome, "violations", &res->violations_json) < 0)
	{
		Py_DECREF(outcome);
		PyErr_Clear();
		snprintf(errbuf, errlen, "codeexec_runner.run returned a malformed outcome");
		return PYRUN_FAILED;
	}
	truncated = PyDict_GetItemString(outcome, "truncated");
	res->truncated = truncated && PyLong_Check(truncated) ? PyLong_AsLong(truncated) : 0;
	pyrun_outcome = outcome;	/* keeps res's text alive */
	return PYRUN_OK;
}
