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

/*
 * Redact one text (NULL stays NULL) keeping only what can be shown within
 * max_output bytes; sets *cut when part of the input was dropped.  Cutting
 * the input at max_output, rather than cutting the redacted text only, is
 * what keeps the end of the helper's capture out of the result: when an
 * earlier secret shrinks to a short marker, the redacted text of the whole
 * capture would otherwise bring its last bytes, possibly the first half of a
 * secret the capture cut off, under the cap.
 */
static char *
output_redact(RedactSession *session, char *text, int max_output, bool *cut)
{
	size_t		out_len;

	*cut = false;
	if (session == NULL || text == NULL)
		return text;
	return redact_text_prefix(session, text, strlen(text), max_output,
							  &out_len, cut);
}

void
output_apply(CallOutcome *out, RedactSession *session, int max_output)
{
	char	  **texts[3] = {&out->stdout_text, &out->stderr_text, &out->error_message};

	if (session != NULL && out->result != NULL)
		out->result = redact_jsonb(session, out->result);
	for (int i = 0; i < 3; i++)
	{
		bool		cut;

		*texts[i] = output_redact(session, *texts[i], max_output, &cut);
		if (cut)
			out->output_truncated = true;
		if (*texts[i] != NULL && output_truncate_utf8(*texts[i], max_output))
			out->output_truncated = true;
	}
}
