/*
 * fwd_lsn.c — LSNs as pg_lsn prints them ("16/B374D848") and back: the
 * commit markers carry them as text, the status table and dead letters take
 * them as text, the replication protocol as 64-bit integers.
 */
#include <stdio.h>

#include "fwd.h"

/* One hex half of an LSN: 1 to 8 digits up to `end` ('/' or NUL). */
static bool
lsn_half(const char *p, char end, const char **next, uint32_t *half)
{
	uint64_t v = 0;
	int		 n;

	for (n = 0; n < 9 && p[n] != end; n++)
	{
		int d;

		if (p[n] >= '0' && p[n] <= '9')
			d = p[n] - '0';
		else if (p[n] >= 'A' && p[n] <= 'F')
			d = p[n] - 'A' + 10;
		else if (p[n] >= 'a' && p[n] <= 'f')
			d = p[n] - 'a' + 10;
		else
			return false;
		v = v * 16 + (uint64_t) d;
	}
	if (n == 0 || n > 8 || p[n] != end)
		return false;
	*half = (uint32_t) v;
	*next = p + n + 1;
	return true;
}

/* Text "X/Y" (pg_lsn's output) <-> an LSN. */
bool
fwd_lsn_parse(const char *text, FwdLsn *lsn)
{
	uint32_t hi,
		lo;
	const char *p = text;

	if (text == NULL || !lsn_half(p, '/', &p, &hi) || !lsn_half(p, '\0', &p, &lo))
		return false;
	*lsn = ((FwdLsn) hi << 32) | lo;
	return true;
}

void
fwd_lsn_format(FwdLsn lsn, char *buf, size_t size)
{
	snprintf(buf, size, "%X/%X", (unsigned int) (lsn >> 32), (unsigned int) lsn);
}
