/*-------------------------------------------------------------------------
 *
 * redact_luhn.c
 *	  The Luhn (mod 10) check that the `luhn` validator applies to a match
 *	  before it is redacted, so that only plausible payment card numbers are
 *	  hidden and ordinary long numbers are left alone.
 *
 *-------------------------------------------------------------------------
 */
#include "redact_internal.h"

/*
 * True if the decimal digits in digits[0..len) pass the Luhn check.
 * Characters other than ASCII digits (the spaces and dashes that group card
 * numbers) are skipped.  Fewer than two digits never pass: a lone digit
 * cannot carry a check digit.
 */
bool
redact_luhn_valid(const char *digits, size_t len)
{
	int			sum = 0;
	int			ndigits = 0;

	/* walk right to left: the check digit is the last one */
	for (size_t i = len; i-- > 0;)
	{
		int			d;

		if (digits[i] < '0' || digits[i] > '9')
			continue;
		d = digits[i] - '0';
		if (ndigits % 2 == 1)
		{
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
		ndigits++;
	}
	return ndigits >= 2 && sum % 10 == 0;
}
