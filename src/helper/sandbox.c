/*-------------------------------------------------------------------------
 *
 * sandbox.c
 *	  Orchestrates the helper's OS isolation layers (the API of sandbox.h)
 *	  and keeps the per-layer record that sandbox_report_json() prints.
 *
 *	  sandbox_prepare(): namespaces (namespaces.c), the minimal root
 *	  (namespaces_mount.c), the PID-namespace fork and capability drop.
 *	  sandbox_lock(): no_new_privs, a record of the rlimits main.c set,
 *	  Landlock (landlock.c), then seccomp (sandbox_seccomp.c) last, because
 *	  once it is loaded the set-up calls themselves are forbidden.
 *
 *	  Fail-closed rule: with `require` set, the first layer that cannot be
 *	  set up makes the call return -1 with the layer and step in errbuf, and
 *	  the caller must not run user code.  Without it, the layer is recorded
 *	  as inactive (with the reason) and set-up goes on.
 *
 *	  In spawn mode gvisor (sandbox_set_gvisor) the user, mount and
 *	  Landlock layers account for what runsc's container already did and
 *	  what gVisor lacks (sandbox.h; docs/security.md).
 *
 *	  Test builds (-DCODEEXEC_TESTING only) honour CODEEXEC_TEST_DISABLE, a
 *	  comma-separated list of layer names to skip, so the isolation tests
 *	  can show an attack succeeding without a layer and failing with it.
 *	  The production helper has no such knob (and an empty environment).
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "sandbox.h"
#include "sandbox_int.h"

typedef struct SandboxLayer
{
	const char *name;			/* name in the report and for the test knob */
	int			active;
	int			recorded;		/* set up (or tried) in this process */
	int			disabled;		/* switched off by the test knob */
	char		detail[200];
} SandboxLayer;

static SandboxLayer sbx_layers[SBX_LAYER_COUNT] = {
	[SBX_USER_NS] = {"user_namespace"},
	[SBX_PID_NS] = {"pid_namespace"},
	[SBX_NET_NS] = {"network_namespace"},
	[SBX_MOUNT_NS] = {"mount_namespace"},
	[SBX_IPC_NS] = {"ipc_namespace"},
	[SBX_UTS_NS] = {"uts_namespace"},
	[SBX_CAPABILITIES] = {"capabilities"},
	[SBX_NO_NEW_PRIVS] = {"no_new_privs"},
	[SBX_LANDLOCK] = {"landlock"},
	[SBX_SECCOMP] = {"seccomp"},
	[SBX_RLIMITS] = {"rlimits"},
};

static char sbx_report[4096];
static int	sbx_in_gvisor = 0;

/*
 * sandbox_layer_set: record the outcome of one layer (last call wins).
 */
void
sandbox_layer_set(SandboxLayerId id, int active, const char *fmt,...)
{
	va_list		ap;

	sbx_layers[id].active = active;
	sbx_layers[id].recorded = 1;
	va_start(ap, fmt);
	vsnprintf(sbx_layers[id].detail, sizeof(sbx_layers[id].detail), fmt, ap);
	va_end(ap);
}

/*
 * sandbox_errorf: format a set-up failure into the caller's errbuf.  The
 * message is expected to end with the errno text where one applies.
 */
void
sandbox_errorf(char *errbuf, size_t errlen, const char *fmt,...)
{
	va_list		ap;

	if (errbuf == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
}

/*
 * sandbox_layer_fail: see sandbox_int.h.
 */
int
sandbox_layer_fail(SandboxLayerId id, int require, char *errbuf, size_t errlen,
				   int err, const char *fmt,...)
{
	char		msg[160];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (err != 0)
		sandbox_layer_set(id, 0, "%s: %s", msg, strerror(err));
	else
		sandbox_layer_set(id, 0, "%s", msg);
	if (!require)
		return 0;
	sandbox_errorf(errbuf, errlen, "%s: %s", sbx_layers[id].name, sbx_layers[id].detail);
	return -1;
}

#ifdef CODEEXEC_TESTING
/*
 * sbx_parse_test_knob: mark the layers named in CODEEXEC_TEST_DISABLE as
 * disabled.  An unknown name aborts: a typo must not make a test pass.
 */
static void
sbx_parse_test_knob(void)
{
	const char *knob = getenv("CODEEXEC_TEST_DISABLE");
	char		copy[512];
	char	   *save = NULL;

	if (knob == NULL || knob[0] == '\0')
		return;
	snprintf(copy, sizeof(copy), "%s", knob);
	for (char *tok = strtok_r(copy, ",", &save); tok != NULL;
		 tok = strtok_r(NULL, ",", &save))
	{
		int			found = 0;

		for (int i = 0; i < SBX_LAYER_COUNT; i++)
			if (strcmp(tok, sbx_layers[i].name) == 0 &&
				i != SBX_NO_NEW_PRIVS && i != SBX_RLIMITS)	/* not switchable */
			{
				sbx_layers[i].disabled = 1;
				found = 1;
			}
		if (!found)
		{
			fprintf(stderr, "CODEEXEC_TEST_DISABLE: unknown layer \"%s\"\n", tok);
			abort();
		}
	}
}
#endif

/*
 * sandbox_layer_disabled: whether the test knob switched the layer off.
 * Always 0 in the production build.
 */
int
sandbox_layer_disabled(SandboxLayerId id)
{
	return sbx_layers[id].disabled;
}

/*
 * sandbox_prepare: enter the namespaces and the minimal root (see
 * sandbox.h).  With a PID namespace this forks; only the child returns.
 */
int
sandbox_prepare(int require, char *errbuf, size_t errlen)
{
#ifdef CODEEXEC_TESTING
	sbx_parse_test_knob();
#endif
	if (sbx_namespaces_enter(require, errbuf, errlen) != 0)
		return -1;
	return sbx_drop_capabilities(0, require, errbuf, errlen);
}

/*
 * sbx_record_rlimits: note the limits main.c set.  The layer counts as
 * active only if every limit the spec names is finite.
 */
static void
sbx_record_rlimits(void)
{
	static const struct
	{
		int			res;
		const char *name;
	}			lims[] = {
		{RLIMIT_AS, "as"}, {RLIMIT_CPU, "cpu"}, {RLIMIT_FSIZE, "fsize"},
		{RLIMIT_NOFILE, "nofile"}, {RLIMIT_NPROC, "nproc"},
		{RLIMIT_STACK, "stack"}, {RLIMIT_CORE, "core"},
	};
	char		buf[200];
	size_t		off = 0;
	int			all_finite = 1;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(lims) / sizeof(lims[0]); i++)
	{
		struct rlimit rl;

		if (getrlimit(lims[i].res, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		{
			all_finite = 0;
			off += snprintf(buf + off, sizeof(buf) - off, "%s%s=unlimited",
							off ? " " : "", lims[i].name);
		}
		else
			off += snprintf(buf + off, sizeof(buf) - off, "%s%s=%llu",
							off ? " " : "", lims[i].name,
							(unsigned long long) rl.rlim_cur);
		if (off >= sizeof(buf))
			break;
	}
	sandbox_layer_set(SBX_RLIMITS, all_finite, "%s", buf);
}

/*
 * sbx_set_no_new_privs: main.c sets it before CPython starts; setting it
 * again is harmless and makes the lock step self-contained (Landlock and
 * unprivileged seccomp both require it).
 */
static int
sbx_set_no_new_privs(int require, char *errbuf, size_t errlen)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
		prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return sandbox_layer_fail(SBX_NO_NEW_PRIVS, require, errbuf, errlen, errno,
								  "prctl(PR_SET_NO_NEW_PRIVS)");
	sandbox_layer_set(SBX_NO_NEW_PRIVS, 1, "set: execve cannot gain privileges");
	return 0;
}

/*
 * sbx_check_rlimits: record the rlimits in force; -1 (with require) unless
 * all are finite.
 */
static int
sbx_check_rlimits(int require, char *errbuf, size_t errlen)
{
	sbx_record_rlimits();
	if (!sbx_layers[SBX_RLIMITS].active &&
		sandbox_layer_fail(SBX_RLIMITS, require, errbuf, errlen, 0,
						   "not all limits are finite (%s)",
						   sbx_layers[SBX_RLIMITS].detail) != 0)
		return -1;
	return 0;
}

/*
 * sandbox_lock: no_new_privs, rlimit record, Landlock, seccomp (see
 * sandbox.h).  Seccomp goes last: its allowlist forbids the calls the
 * earlier steps make.
 */
int
sandbox_lock(int require, char *errbuf, size_t errlen)
{
	if (sbx_set_no_new_privs(require, errbuf, errlen) != 0 ||
		sbx_check_rlimits(require, errbuf, errlen) != 0)
		return -1;
	if (sbx_landlock_apply(require, errbuf, errlen) != 0)
		return -1;
	return sbx_seccomp_apply(require, errbuf, errlen);
}

/*
 * sandbox_lock_pooled: sandbox_lock() for a pooled fork-server child,
 * before its call exists (see sandbox.h).  Every step is tried; a failure
 * is only recorded, since whether it matters is the call's to say.
 */
void
sandbox_lock_pooled(void)
{
	char		errbuf[8];

	(void) sbx_set_no_new_privs(0, errbuf, sizeof(errbuf));
	(void) sbx_landlock_apply(0, errbuf, sizeof(errbuf));
	(void) sbx_seccomp_apply_pooled(errbuf, sizeof(errbuf));
}

/*
 * sandbox_seal: the rest of sandbox_lock() for a pooled child, once its
 * call's rlimits are set (see sandbox.h).
 */
int
sandbox_seal(int require, char *errbuf, size_t errlen)
{
	static const SandboxLayerId locked[] = {SBX_NO_NEW_PRIVS, SBX_LANDLOCK, SBX_SECCOMP};

	if (sbx_check_rlimits(require, errbuf, errlen) != 0)
		return -1;
	for (size_t i = 0; require && i < sizeof(locked) / sizeof(locked[0]); i++)
	{
		if (!sbx_layers[locked[i]].active)
		{
			sandbox_errorf(errbuf, errlen, "%s: %s", sbx_layers[locked[i]].name,
						   sbx_layers[locked[i]].recorded ? sbx_layers[locked[i]].detail : "not set up");
			return -1;
		}
	}
	if (!sbx_layers[SBX_SECCOMP].active)
		return 0;
	return sbx_seccomp_seal(require, errbuf, errlen);
}

void
sandbox_set_gvisor(int in_gvisor)
{
	sbx_in_gvisor = in_gvisor;
}

int
sandbox_in_gvisor(void)
{
	return sbx_in_gvisor;
}

/*
 * sandbox_set_response_fd: the descriptor the SIGSYS reporter writes its
 * 'killed' response to (default 1, the response pipe).
 */
void
sandbox_set_response_fd(int fd)
{
	sbx_seccomp_set_response_fd(fd);
}

/*
 * sbx_json_string: append s as a JSON string literal; the details are our
 * own ASCII text, but escape anyway so the report is always valid JSON.
 */
static size_t
sbx_json_string(char *out, size_t off, size_t cap, const char *s)
{
	if (off < cap)
		out[off++] = '"';
	for (; *s && off + 7 < cap; s++)
	{
		unsigned char c = (unsigned char) *s;

		if (c == '"' || c == '\\')
		{
			out[off++] = '\\';
			out[off++] = c;
		}
		else if (c < 0x20 || c >= 0x7f)
			off += snprintf(out + off, cap - off, "\\u%04x", c);
		else
			out[off++] = c;
	}
	if (off < cap)
		out[off++] = '"';
	return off;
}

/*
 * sandbox_report_json: the layer table as a JSON array (static buffer,
 * valid until the next call).  A layer never set up in this process (e.g.
 * main.c stopped early) is reported inactive with detail "not set up".
 */
const char *
sandbox_report_json(void)
{
	size_t		cap = sizeof(sbx_report) - 2;
	size_t		off = 0;

	sbx_report[off++] = '[';
	for (int i = 0; i < SBX_LAYER_COUNT; i++)
	{
		const SandboxLayer *l = &sbx_layers[i];

		off += snprintf(sbx_report + off, cap - off, "%s{\"layer\":\"%s\",\"active\":%s,\"detail\":",
						i ? "," : "", l->name, l->recorded && l->active ? "true" : "false");
		if (off >= cap)
			break;
		off = sbx_json_string(sbx_report, off, cap, l->recorded ? l->detail : "not set up");
		if (off < cap)
			sbx_report[off++] = '}';
	}
	if (off > cap)
		off = cap;
	sbx_report[off++] = ']';
	sbx_report[off] = '\0';
	return sbx_report;
}
