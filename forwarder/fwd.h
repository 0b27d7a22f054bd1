/*
 * fwd.h — td-forwarder: PostgreSQL logical decoding → Kinesis PutRecords.
 *
 * Components (one file each):
 *   fwd_main.c   configuration, signals, the peek → send → advance loop
 *   fwd_pg.c     libpq: the decoding connection (slot, peek, advance) and
 *                the state connection (forwarder_status, dead letters)
 *   fwd_batch.c  parsing peeked rows into transactions and trip events
 *   fwd_slot_health.c  an invalidated slot: the error it is reported with
 *   fwd_send.c   the events through the AWS library's Kinesis sender
 *                (tda_kinesis_send: limits, retries, rejections), then
 *                dead-lettering and the "which commit may be confirmed"
 *                bookkeeping after every call
 *
 * Glossary: an *event* is one decoded INSERT (one Kinesis record); a
 * *transaction* is the events up to and including a commit marker; a
 * transaction is *done* when each of its events was accepted by Kinesis or
 * written to the dead-letter table; the slot is advanced to the commit LSN
 * of the last transaction of a done prefix, never further — except when a
 * peek bounded at an LSN found no event at all: then nothing before that
 * LSN is for the stream, and the slot moves there (WAL of other tables and
 * of the forwarder's own status upserts is released on a quiet trips table).
 */
#ifndef FWD_H
#define FWD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>

#include <libpq-fe.h>

#include "tda_aws.h"

typedef enum FwdEventState
{
	FWD_PENDING,
	FWD_SENT,
	FWD_DEAD
} FwdEventState;

typedef struct FwdEvent
{
	char		 *data; /* the decoded JSON line, sent as is */
	size_t		  len;
	char		 *key; /* its "partition_key" (the ride id), NULL if none */
	int			  txn; /* index into FwdBatch.txns */
	FwdEventState state;
	char		  reason[1024]; /* why it is dead (empty until then) */
	bool		  dead_written; /* the dead letter is committed */
} FwdEvent;

typedef struct FwdTxn
{
	char commit_lsn[32];
	int	 first; /* first event index */
	int	 nevents;
} FwdTxn;

typedef struct FwdBatch
{
	FwdEvent *events;
	int		  nevents;
	int		  events_cap;
	FwdTxn	 *txns;
	int		  ntxns;
	int		  txns_cap;
	int		  done_txns;	/* transactions [0, done_txns) confirmed */
	bool	  old_decoder;	/* an event lacks "partition_key": do not send */
	char	  upto_lsn[32]; /* the peek decoded the WAL up to here */
	bool	  upto_ahead;	/* upto_lsn is past the slot's confirmed position */
} FwdBatch;

typedef struct FwdConfig
{
	const char *dsn;		/* decoding: the primary, unless it sets target_session_attrs */
	const char *status_dsn; /* forwarder_status and dead letters: always the primary */
	const char *slot;
	const char *tables;
	const char *columns; /* NULL: the plugin's default */
	const char *stream;
	int			batch_changes;
	int			poll_ms;
	int			backoff_base_ms;
	int			backoff_max_ms;
	bool		slot_resync;   /* TD_SLOT_RESYNC=1: create a missing slot despite a gap */
	bool		slot_failover; /* TD_SLOT_FAILOVER (1): create failover slots on 17+ */
	tda_config	aws;
} FwdConfig;

/* Counters since the last status upsert (added to the table's totals). */
typedef struct FwdCounters
{
	int64_t sent;
	int64_t retried;
	int64_t dead;
} FwdCounters;

typedef struct FwdState
{
	FwdConfig	cfg;
	PGconn	   *dec; /* peek and advance */
	PGconn	   *st;	 /* status and dead letters */
	FwdCounters delta;
	char		last_sent_lsn[32];
	char		last_error[512]; /* pending for the next status upsert */
	bool		error_dirty;
} FwdState;

extern volatile sig_atomic_t fwd_stop;

/* fwd_main.c */
void fwd_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fwd_sleep_ms(long ms);
long fwd_backoff_ms(const FwdConfig *cfg, unsigned attempt);
void fwd_note_error(FwdState *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* fwd_pg.c */
bool fwd_pg_connect(FwdState *s);
void fwd_pg_disconnect(FwdState *s);
bool fwd_pg_peek(FwdState *s, FwdBatch *b);
bool fwd_pg_advance(FwdState *s, const char *lsn);
bool fwd_pg_advance_quiet(FwdState *s, const char *lsn);
bool fwd_pg_write_dead(FwdState *s, FwdBatch *b);
bool fwd_pg_status(FwdState *s, int pending);

/* fwd_slot_health.c: an invalidated slot (wal_status lost) */
int	 fwd_slot_lost(PGconn *conn, const char *slot, const char *last_sent_lsn, char *msg,
				   size_t msglen);
bool fwd_slot_health_report(FwdState *s);

/* fwd_batch.c */
void fwd_batch_reset(FwdBatch *b);
void fwd_batch_free(FwdBatch *b);
bool fwd_batch_add_row(FwdBatch *b, const char *data, size_t len);
void fwd_batch_close(FwdBatch *b);
int	 fwd_batch_pending(const FwdBatch *b);
int	 fwd_batch_done_prefix(const FwdBatch *b);

/* fwd_send.c */
typedef enum FwdSendResult
{
	FWD_SEND_DONE,	   /* every event sent or dead-lettered */
	FWD_SEND_PG_ERROR, /* PostgreSQL (or memory) failed: reconnect, re-peek */
	FWD_SEND_STOPPED   /* a signal asked to stop */
} FwdSendResult;

FwdSendResult fwd_send_batch(FwdState *s, FwdBatch *b);

#endif /* FWD_H */
