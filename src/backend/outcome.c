/*-------------------------------------------------------------------------
 *
 * outcome.c
 *	  Turning a finished helper run into a CallOutcome (see outcome.h).
 *	  Precedence: our deadline (timeout) > oversized response (killed) >
 *	  death by signal (SIGXCPU: timeout, others: killed) > a valid
 *	  sandbox_error/helper_error response (an ERROR, whatever the exit code)
 *	  > a valid response with exit code 0 > anything else (killed, with the
 *	  reason).  Texts
 *	  must be valid UTF-8 (a NUL byte becomes U+FFFD, since text cannot hold
 *	  NUL); JSON must pass a depth pre-scan and then jsonb_in, which runs in
 *	  a subtransaction so a hostile value becomes `killed`, not an ERROR.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "access/xact.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "outcome.h"
#include "response.h"
#include "wire.h"

/* Why a response was rejected, or NULL. */
typedef struct OutcomeState
{
	const char *reject;
} OutcomeState;

/* Set out to a backend-made failure status with a message. */
static void
outcome_fail(CallOutcome *out, const char *status, char *message)
{
	out->status = status;
	out->error_message = message;
	out->stdout_text = NULL;
	out->stderr_text = NULL;
	out->result = NULL;
	out->error_type = NULL;
	out->violations = NULL;
}

/* outcome_diag_text: see outcome.h. */
char *
outcome_diag_text(const SpawnResult *sr)
{
	char	   *s = pnstrdup(sr->diagnostics, sr->diagnostics_len);
	int			len = strlen(s);
	int			i = 0;

	while (i < len)
	{
		unsigned char c = (unsigned char) s[i];
		int			l = pg_utf_mblen((unsigned char *) s + i);

		if (c >= 0x80 && (i + l > len || !pg_utf8_islegal((unsigned char *) s + i, l)))
		{
			s[i++] = '?';
			continue;
		}
		if (c < 0x20 && c != '\n' && c != '\t')
			s[i] = '?';
		i += (c >= 0x80) ? l : 1;
	}
	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == ' ' || s[len - 1] == '\t'))
		s[--len] = '\0';
	return s;
}

/* "message" or "message: diagnostics" when the helper said anything. */
static char *
outcome_with_diag(const SpawnResult *sr, const char *message)
{
	char	   *diag = outcome_diag_text(sr);

	if (diag[0] == '\0')
		return pstrdup(message);
	return psprintf("%s: %s", message, diag);
}

/* A signal's name such as "SIGSYS", or "unknown signal". */
static const char *
outcome_signal_name(int sig)
{
	const char *abbrev = sigabbrev_np(sig);

	return abbrev ? psprintf("SIG%s", abbrev) : "unknown signal";
}

/*
 * Convert a helper text field to a palloc'd C string, or set st->reject.
 * NUL bytes become U+FFFD; anything else must be valid UTF-8.
 */
static char *
outcome_text(OutcomeState *st, const ResponseText *t, const char *what)
{
	StringInfoData buf;

	if (!t->present || st->reject)
		return NULL;
	initStringInfo(&buf);
	for (size_t i = 0; i < t->len;)
	{
		const char *nul = memchr(t->data + i, '\0', t->len - i);
		size_t		run = nul ? (size_t) (nul - (t->data + i)) : t->len - i;

		appendBinaryStringInfo(&buf, t->data + i, run);
		i += run;
		if (nul)
		{
			appendStringInfoString(&buf, "\xEF\xBF\xBD");
			i++;
		}
	}
	if (!pg_verify_mbstr(PG_UTF8, buf.data, buf.len, true))
	{
		st->reject = psprintf("%s is not valid UTF-8", what);
		return NULL;
	}
	return buf.data;
}

/*
 * Convert a helper JSON field to jsonb, or set st->reject.  Too deep is a
 * failure of the user's value (reported through *too_deep), anything else
 * the helper's fault.
 */
static Jsonb *
outcome_json(OutcomeState *st, const ResponseText *t, const char *what, bool *too_deep)
{
	char	   *text;
	Jsonb	   *volatile value = NULL;
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;

	if (!t->present || st->reject)
		return NULL;
	if (!response_json_depth_ok(t->data, t->len, RESPONSE_MAX_JSON_DEPTH))
	{
		*too_deep = true;
		return NULL;
	}
	if (memchr(t->data, '\0', t->len) != NULL ||
		!pg_verify_mbstr(PG_UTF8, t->data, t->len, true))
	{
		st->reject = psprintf("%s is not valid UTF-8 JSON", what);
		return NULL;
	}
	text = pnstrdup(t->data, t->len);

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		value = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(text)));
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED ||
			edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN)
			ReThrowError(edata);
		st->reject = psprintf("%s is not valid JSON (%s)", what, edata->message);
		value = NULL;
	}
	PG_END_TRY();
	pfree(text);
	return value;
}

/* True if the decoded status is the given name. */
static bool
outcome_status_is(const HelperResponse *r, const char *name)
{
	return r->status.len == strlen(name) && memcmp(r->status.data, name, r->status.len) == 0;
}

/* ERROR for the helper's server-side statuses (sandbox_error, helper_error). */
static void
outcome_server_error(const HelperResponse *r, const SpawnResult *sr)
{
	bool		sandbox = outcome_status_is(r, WIRE_STATUS_SANDBOX_ERROR);
	char	   *step = r->error_type.present ?
		pnstrdup(r->error_type.data, r->error_type.len) : "unknown step";
	char	   *why = r->error_message.present ?
		pnstrdup(r->error_message.data, r->error_message.len) : outcome_diag_text(sr);

	if (!pg_verify_mbstr(PG_UTF8, step, strlen(step), true))
		step = "unknown step";
	if (!pg_verify_mbstr(PG_UTF8, why, strlen(why), true))
		why = "(not valid UTF-8)";
	if (sandbox)
		ereport(ERROR,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("codeexec sandbox could not be set up"),
				 errdetail("Step %s failed: %s.", step, why),
				 errhint("See codeexec_isolation() for the layers this server supports; a superuser can set codeexec.require_isolation = off.")));
	ereport(ERROR,
			(errcode(ERRCODE_EXTERNAL_ROUTINE_INVOCATION_EXCEPTION),
			 errmsg("codeexec helper could not start"),
			 errdetail("Step %s failed: %s.", step, why),
			 errhint("Check the server log and the installation of codeexec-helper.")));
}

/* Fill *out from a decoded response the helper sent and exited 0 after. */
static void
outcome_from_response(const HelperResponse *r, const SpawnResult *sr, CallOutcome *out)
{
	OutcomeState st = {NULL};
	bool		too_deep = false;
	char	   *status = pnstrdup(r->status.data, r->status.len);

	out->status = status;
	out->stdout_text = outcome_text(&st, &r->stdout_text, "stdout");
	out->stderr_text = outcome_text(&st, &r->stderr_text, "stderr");
	out->error_type = outcome_text(&st, &r->error_type, "error_type");
	out->error_message = outcome_text(&st, &r->error_message, "error_message");
	out->violations = outcome_json(&st, &r->violations_json, "violations", &too_deep);
	if (!st.reject && !too_deep && out->violations && !JB_ROOT_IS_ARRAY(out->violations))
		st.reject = "violations is not a JSON array";
	if (too_deep)
		st.reject = "violations nest too deeply";
	out->result = outcome_json(&st, &r->result_json, "result", &too_deep);
	out->isolation = outcome_json(&st, &r->isolation_json, "isolation report", &too_deep);
	if (!st.reject && out->isolation && !JB_ROOT_IS_ARRAY(out->isolation))
		st.reject = "the isolation report is not a JSON array";
	out->output_truncated = r->has_truncated &&
		(r->truncated & (WIRE_TRUNC_STDOUT | WIRE_TRUNC_STDERR)) != 0;

	if (st.reject)
	{
		outcome_fail(out, WIRE_STATUS_KILLED,
					 outcome_with_diag(sr, psprintf("helper sent a malformed response: %s",
													st.reject)));
		return;
	}
	if (too_deep)
	{
		out->status = WIRE_STATUS_ERROR;
		out->result = NULL;
		out->error_type = pstrdup("ValueError");
		out->error_message = psprintf("result nests deeper than %d levels",
									  RESPONSE_MAX_JSON_DEPTH);
	}
	/*
	 * CPU time and peak memory stay those of the kernel (wait4 rusage, set by
	 * outcome_from_spawn): the helper's own figures are never trusted, since
	 * quotas are charged from them.
	 */
}

void
outcome_from_spawn(const SpawnResult *sr, const ExecParams *params, CallOutcome *out)
{
	HelperResponse r;
	const char *decode_error;
	int			ws = sr->wait_status;

	memset(out, 0, sizeof(*out));
	out->execution_time_seconds = sr->wall_seconds;
	out->cpu_time_seconds = sr->cpu_seconds;
	out->peak_memory_kb = sr->peak_rss_kb;

	if (sr->timed_out)
	{
		outcome_fail(out, WIRE_STATUS_TIMEOUT,
					 psprintf("execution exceeded the time limit of %d ms", params->timeout_ms));
		return;
	}
	if (sr->response_overflow)
	{
		outcome_fail(out, WIRE_STATUS_KILLED,
					 outcome_with_diag(sr, psprintf("helper response exceeds the limit of %zu bytes",
													sr->response_len)));
		return;
	}
	decode_error = response_decode(sr->response, sr->response_len, &r);

	/*
	 * The sandbox's seccomp trap writes a complete "killed" response naming
	 * the refused system call before the process dies (by SIGSYS, or by exit
	 * code 128 + SIGSYS when it is the init of its PID namespace and the
	 * signal is dropped).  That report is the most useful message; trusting
	 * it costs nothing, since a lying helper can only make its own call fail.
	 */
	if (decode_error == NULL && outcome_status_is(&r, WIRE_STATUS_KILLED) &&
		(WIFSIGNALED(ws) || (WIFEXITED(ws) && WEXITSTATUS(ws) != 0)))
	{
		outcome_from_response(&r, sr, out);
		return;
	}
	if (WIFSIGNALED(ws))
	{
		int			sig = WTERMSIG(ws);

		if (sig == SIGXCPU)
			outcome_fail(out, WIRE_STATUS_TIMEOUT,
						 pstrdup("execution exceeded its CPU time limit (SIGXCPU)"));
		else
			outcome_fail(out, WIRE_STATUS_KILLED,
						 outcome_with_diag(sr, psprintf("helper terminated by signal %d (%s)",
														sig, outcome_signal_name(sig))));
		return;
	}

	if (decode_error == NULL &&
		(outcome_status_is(&r, WIRE_STATUS_SANDBOX_ERROR) ||
		 outcome_status_is(&r, WIRE_STATUS_HELPER_ERROR)))
		outcome_server_error(&r, sr);

	if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
	{
		outcome_fail(out, WIRE_STATUS_KILLED,
					 outcome_with_diag(sr, psprintf("helper exited with code %d",
													WIFEXITED(ws) ? WEXITSTATUS(ws) : -1)));
		return;
	}
	if (decode_error != NULL)
	{
		outcome_fail(out, WIRE_STATUS_KILLED,
					 outcome_with_diag(sr, psprintf("helper sent a malformed response: %s",
													decode_error)));
		return;
	}
	outcome_from_response(&r, sr, out);
}
