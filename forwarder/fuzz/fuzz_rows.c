/*
 * fuzz_rows.c — libFuzzer: any bytes as rows from the server (split at
 * newlines) into the forwarder's queue, settling and dropping as it goes,
 * and as LSN text.  Must never crash, leak or read out of bounds.
 *
 *   make -C forwarder fuzz-run
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fwd.h"

volatile sig_atomic_t fwd_stop = 0;

void
fwd_log(const char *fmt, ...)
{
	(void) fmt;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FwdBatch	b;
	FwdLsn		lsn;
	const char *p = (const char *) data;
	const char *end = p + size;
	char	   *text = malloc(size + 1);

	memcpy(text, data, size);
	text[size] = '\0';
	(void) fwd_lsn_parse(text, &lsn);
	free(text);

	memset(&b, 0, sizeof(b));
	while (p < end)
	{
		const char *nl = memchr(p, '\n', (size_t) (end - p));
		size_t		len = nl ? (size_t) (nl - p) : (size_t) (end - p);
		int			i;

		(void) fwd_batch_add_row(&b, p, len);
		for (i = 0; i < b.nevents; i++)
			if (b.events[i].state == FWD_PENDING && b.events[i].key != NULL)
				fwd_batch_settle(&b, i, (i % 3) ? FWD_SENT : FWD_DEAD, "fuzz");
			else if (b.events[i].state == FWD_DEAD && !b.events[i].dead_written)
				fwd_batch_dead_written(&b, i);
		b.done_txns = fwd_batch_done_prefix(&b);
		fwd_batch_drop_done(&b);
		p += len + 1;
	}
	fwd_batch_free(&b);
	return 0;
}
