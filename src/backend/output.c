/*-------------------------------------------------------------------------
 *
 * output.c
 *	  Redact, then truncate (see output.h).  Redaction comes first because
 *	  the helper captures max_output + EXECUTE_OUTPUT_SLACK bytes: a secret
 *	  straddling the cap is matched whole and replaced before the cut.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "output.h"

bool
output_truncate_utf8(char *s, size_t max)
{
	size_t		len = strlen(s);
	size_t		cut = max;

	if (len <= max)
		return false;
	/* Back up over continuation bytes (10xxxxxx) to a character start. */
	while (cut > 0 && (((unsigned char) s[cut]) & 0xC0) == 0x80)
		cut--;
	s[cut] = '\0';
	return true;
}

/* Redact one text in place of the pointer (NULL stays NULL). */
static char *
output_redact(RedactSession *session, char *text)
{
	size_t		out_len;

	if (session == NULL || text == NULL)
		return text;
	return redact_text(session, text, strlen(text), &out_len);
}

void
output_apply(CallOutcome *out, RedactSession *session, int max_output)
{
	char	  **texts[3] = {&out->stdout_text, &out->stderr_text, &out->error_message};

	if (session != NULL && out->result != NULL)
		out->result = redact_jsonb(session, out->result);
	for (int i = 0; i < 3; i++)
	{
		*texts[i] = output_redact(session, *texts[i]);
		if (*texts[i] != NULL && output_truncate_utf8(*texts[i], max_output))
			out->output_truncated = true;
	}
}
