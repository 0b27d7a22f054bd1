/*
 * test_queue.c — unit tests of the forwarder's pure parts: the queue of
 * received rows (transactions, settling, the done prefix, dropping the
 * front), the key set of the ordering rule, LSN text.
 *
 *   make -C forwarder unit      (plain and under ASan+UBSan)
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fwd.h"

volatile sig_atomic_t fwd_stop = 0;

static int failures = 0;
static int checks = 0;

#define CHECK(cond) \
	do \
	{ \
		checks++; \
		if (!(cond)) \
		{ \
			failures++; \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
		} \
	} while (0)

/* The queue logs only "out of memory" and exits: nothing to capture here. */
void
fwd_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
add_event(FwdBatch *b, long ride)
{
	char row[256];

	snprintf(row, sizeof(row),
			 "{\"ride\": {\"PULocationID\": 1}, \"ride_id\": %ld, \"partition_key\": \"%ld\"}",
			 ride, ride);
	CHECK(fwd_batch_add_row(b, row, strlen(row)));
}

static void
add_commit(FwdBatch *b, const char *lsn)
{
	char row[128];

	snprintf(row, sizeof(row), "{\"commit_lsn\": \"%s\", \"xid\": 7, \"events\": 2}", lsn);
	CHECK(fwd_batch_add_row(b, row, strlen(row)));
}

static void
test_lsn(void)
{
	FwdLsn lsn = 0;
	char   buf[32];

	CHECK(fwd_lsn_parse("16/B374D848", &lsn) && lsn == ((FwdLsn) 0x16 << 32 | 0xB374D848));
	fwd_lsn_format(lsn, buf, sizeof(buf));
	CHECK(strcmp(buf, "16/B374D848") == 0);
	CHECK(fwd_lsn_parse("0/0", &lsn) && lsn == 0);
	CHECK(fwd_lsn_parse("FFFFFFFF/ffffffff", &lsn) && lsn == UINT64_MAX);
	CHECK(!fwd_lsn_parse("", &lsn));
	CHECK(!fwd_lsn_parse("1/", &lsn));
	CHECK(!fwd_lsn_parse("/1", &lsn));
	CHECK(!fwd_lsn_parse("1/2/3", &lsn));
	CHECK(!fwd_lsn_parse("123456789/1", &lsn));
	CHECK(!fwd_lsn_parse("-1/1", &lsn));
	CHECK(!fwd_lsn_parse("1 /1", &lsn));
	CHECK(!fwd_lsn_parse(NULL, &lsn));
}

static void
test_keyset(void)
{
	FwdKeyset k;
	char	  keys[5000][12];
	int		  i;
	bool	  all = true;

	memset(&k, 0, sizeof(k));
	CHECK(!fwd_keyset_has(&k, "1"));
	for (i = 0; i < 5000; i++)
	{
		snprintf(keys[i], sizeof(keys[i]), "%d", i);
		all = all && fwd_keyset_add(&k, keys[i]);
	}
	CHECK(all);
	CHECK(!fwd_keyset_add(&k, "4999")); /* already there */
	CHECK(fwd_keyset_has(&k, "0") && fwd_keyset_has(&k, "2500") && !fwd_keyset_has(&k, "5000"));
	CHECK(k.n == 5000);
	fwd_keyset_clear(&k);
	CHECK(k.n == 0 && !fwd_keyset_has(&k, "0"));
	CHECK(fwd_keyset_add(&k, "0"));
	fwd_keyset_free(&k);
}

static void
test_queue(void)
{
	FwdBatch b;
	int		 i;

	memset(&b, 0, sizeof(b));
	/* two closed transactions and an open one */
	add_event(&b, 1);
	add_event(&b, 2);
	add_commit(&b, "0/100");
	add_event(&b, 3);
	add_commit(&b, "0/200");
	add_event(&b, 4);
	CHECK(b.nevents == 4 && b.ntxns == 3 && b.unsettled == 4);
	CHECK(fwd_batch_txn_open(&b));
	CHECK(fwd_batch_done_prefix(&b) == 0);

	/* the second transaction settles first: no prefix yet */
	fwd_batch_settle(&b, 2, FWD_SENT, NULL);
	CHECK(fwd_batch_done_prefix(&b) == 0);
	CHECK(b.events[2].data == NULL && b.unsettled == 3);
	fwd_batch_settle(&b, 0, FWD_SENT, NULL);
	/* a dead event counts once its letter is written */
	fwd_batch_settle(&b, 1, FWD_DEAD, "too large");
	CHECK(fwd_batch_done_prefix(&b) == 0);
	CHECK(strcmp(b.events[1].reason, "too large") == 0);
	fwd_batch_dead_written(&b, 1);
	CHECK(fwd_batch_done_prefix(&b) == 2);
	/* the open transaction is never done, even with every event sent */
	fwd_batch_settle(&b, 3, FWD_SENT, NULL);
	CHECK(fwd_batch_done_prefix(&b) == 2);
	CHECK(b.unsettled == 0 && b.held_bytes == 0);

	/* dropping the front keeps sequence numbers and the open transaction */
	b.done_txns = 2;
	fwd_batch_drop_done(&b);
	CHECK(b.base == 3 && b.nevents == 1 && b.ntxns == 1 && b.done_txns == 0);
	CHECK(b.txns[0].first == 0 && b.events[0].txn == 0 && strcmp(b.events[0].key, "4") == 0);
	add_commit(&b, "0/300");
	CHECK(!fwd_batch_txn_open(&b) && b.txns[0].commit_lsn == 0x300);
	CHECK(fwd_batch_done_prefix(&b) == 1);

	/* a marker without an open transaction is ignored; junk is refused */
	add_commit(&b, "0/400");
	CHECK(b.ntxns == 1);
	CHECK(!fwd_batch_add_row(&b, "{", 1));
	CHECK(!fwd_batch_add_row(&b, "{\"x\": 1}", 8));
	add_event(&b, 5);
	CHECK(!fwd_batch_add_row(&b, "{\"commit_lsn\": \"zz\"}", 20));

	/* a null partition key is dead on arrival; no field: an older decoder */
	CHECK(fwd_batch_add_row(&b, "{\"ride\": {}, \"ride_id\": null, \"partition_key\": null}", 52));
	CHECK(b.events[b.nevents - 1].state == FWD_DEAD && !b.old_decoder);
	CHECK(fwd_batch_add_row(&b, "{\"ride\": {}, \"ride_id\": 9}", 26));
	CHECK(b.old_decoder);

	/* many small transactions: the front is dropped in bulk */
	fwd_batch_reset(&b);
	CHECK(b.nevents == 0 && b.unsettled == 0 && !b.old_decoder);
	for (i = 0; i < 10000; i++)
	{
		char lsn[32];

		add_event(&b, 100 + i);
		fwd_lsn_format((FwdLsn) 0x1000 + (FwdLsn) i, lsn, sizeof(lsn));
		add_commit(&b, lsn);
		fwd_batch_settle(&b, b.nevents - 1, FWD_SENT, NULL);
		b.done_txns = fwd_batch_done_prefix(&b);
		fwd_batch_drop_done(&b);
	}
	CHECK(b.nevents < 4096 + 1 && b.unsettled == 0);
	CHECK(b.base + b.nevents == 10000 + 7); /* 7 events before the reset */
	fwd_batch_free(&b);
}

int
main(void)
{
	test_lsn();
	test_keyset();
	test_queue();
	printf("%d passed, %d failed\n", checks - failures, failures);
	return failures ? 1 : 0;
}
