/*
 * fwd.h — td-forwarder: PostgreSQL logical decoding → Kinesis PutRecords.
 *
 * Components (one file each):
 *   fwd_main.c    configuration, signals, connect → stream → reconnect
 *   fwd_pg.c      the SQL connections: the slot's setup (lookup, creation,
 *                 the gap check) and the state connection
 *                 (forwarder_status, dead letters)
 *   fwd_notice.c  the server's notices: logged, a WARNING (the plugin's
 *                 "table renamed or dropped") kept as the last error
 *   fwd_repl.c    the replication connection: START_REPLICATION ...
 *                 LOGICAL, XLogData and keepalive messages, standby status
 *                 updates (the streaming replication protocol, as
 *                 pg_recvlogical and pgoutput subscribers speak it)
 *   fwd_stream.c  the loop: receive → dispatch → collect → confirm
 *   fwd_batch.c   received rows → a queue of transactions and trip events
 *   fwd_send.c    the pipeline: up to TD_INFLIGHT PutRecords calls at once,
 *                 each on its own thread through the AWS library's sender
 *                 (tda_kinesis_send: limits, retries, rejections), never
 *                 two unsettled records of one partition key
 *   fwd_keyset.c  a set of partition keys (the ordering rule's bookkeeping)
 *   fwd_lsn.c     LSN text <-> integer
 *   fwd_slot_health.c  an invalidated slot: the error it is reported with
 *
 * Glossary: an *event* is one decoded INSERT (one Kinesis record); a
 * *transaction* is the events up to and including a commit marker; an event
 * is *settled* when Kinesis accepted it or its dead letter is committed; a
 * transaction is *done* when all its events are settled.  The forwarder
 * reports as flushed (so the server confirms the slot) the commit LSN of the
 * last transaction of a done prefix, never further — except that when
 * nothing received is unsettled and no transaction is half received, the
 * position of the server's last keepalive is flushed too: nothing before it
 * is for the stream (WAL of other tables and of the forwarder's own status
 * upserts is released on a quiet trips table).
 */
#ifndef FWD_H
#define FWD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>

#include <libpq-fe.h>

#include "tda_aws.h"

typedef uint64_t FwdLsn;

typedef enum FwdEventState
{
	FWD_PENDING,  /* waiting for a call */
	FWD_INFLIGHT, /* in a call */
	FWD_SENT,	  /* accepted by Kinesis */
	FWD_DEAD	  /* refused for good; dead_written once its letter is committed */
} FwdEventState;

typedef struct FwdEvent
{
	char		 *data; /* the decoded JSON line, sent as is; freed once settled */
	size_t		  len;
	char		 *key;	  /* its "partition_key" (the ride id), NULL if none */
	char		 *reason; /* why it is dead (NULL until then) */
	int			  txn;	  /* index into FwdBatch.txns */
	FwdEventState state;
	bool		  dead_written; /* the dead letter is committed */
} FwdEvent;

typedef struct FwdTxn
{
	FwdLsn commit_lsn; /* 0 while the commit marker has not arrived */
	int	   first;	   /* first event index */
	int	   nevents;
} FwdTxn;

/*
 * The events received and not yet confirmed, in order.  Indexes are
 * relative to the queue's front; `base` counts the events dropped from the
 * front, so base + index identifies an event for good (calls in flight
 * hold such sequence numbers).
 */
typedef struct FwdBatch
{
	FwdEvent *events;
	int		  nevents;
	int		  events_cap;
	FwdTxn	 *txns;
	int		  ntxns;
	int		  txns_cap;
	int64_t	  base;		   /* sequence number of events[0] */
	int		  done_txns;   /* transactions [0, done_txns) are done and confirmed */
	int		  unsettled;   /* events neither accepted nor dead-lettered */
	size_t	  held_bytes;  /* data of the events not yet settled */
	bool	  old_decoder; /* an event lacks "partition_key": do not send */
} FwdBatch;

typedef struct FwdConfig
{
	const char *dsn;		/* decoding: the primary, unless it sets target_session_attrs */
	const char *status_dsn; /* forwarder_status and dead letters: always the primary */
	const char *slot;
	const char *tables;
	const char *columns; /* NULL: the plugin's default */
	const char *stream;
	int			max_events;	 /* stop reading while this many events are unsettled */
	size_t		max_bytes;	 /* ... or this many bytes */
	int			inflight;	 /* PutRecords calls at once */
	int			status_ms;	 /* forwarder_status upserts, at most this often */
	int			feedback_ms; /* standby status updates, at least this often */
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

typedef struct FwdPipeline FwdPipeline;

typedef struct FwdState
{
	FwdConfig	 cfg;
	PGconn		*dec;  /* the slot's setup (SQL), closed once streaming */
	PGconn		*repl; /* replication=database: START_REPLICATION */
	PGconn		*st;   /* status and dead letters */
	FwdPipeline *pipe;
	FwdCounters	 delta;
	FwdLsn		 received;	/* the furthest position received (write) */
	FwdLsn		 confirmed; /* reported as flushed */
	FwdLsn		 reported;	/* the flush position last sent to the server */
	FwdLsn		 keepalive; /* the last keepalive's position */
	char		*copybuf;	/* the last message read (PQfreemem) */
	char		 last_sent_lsn[32];
	char		 last_error[512]; /* pending for the next status upsert */
	bool		 error_dirty;
} FwdState;

extern volatile sig_atomic_t fwd_stop;

/* fwd_main.c */
void	fwd_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	fwd_sleep_ms(long ms);
long	fwd_backoff_ms(const FwdConfig *cfg, unsigned attempt);
void	fwd_note_error(FwdState *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int64_t fwd_now_ms(void);

/* fwd_pg.c */
bool fwd_pg_connect(FwdState *s);
void fwd_pg_disconnect(FwdState *s);
bool fwd_pg_write_dead(FwdState *s, FwdBatch *b);
bool fwd_pg_status(FwdState *s, int pending);

/* fwd_notice.c */
void fwd_notice_install(FwdState *s, PGconn *conn);

/* fwd_lsn.c */
void fwd_lsn_format(FwdLsn lsn, char *buf, size_t size);
bool fwd_lsn_parse(const char *text, FwdLsn *lsn);

/* fwd_repl.c */
typedef enum FwdReplRead
{
	FWD_REPL_ROW,		/* *data, *len: one row of the plugin's output */
	FWD_REPL_KEEPALIVE, /* s->keepalive updated (a reply is sent if asked) */
	FWD_REPL_NONE,		/* nothing buffered: wait for the socket */
	FWD_REPL_ERROR		/* the stream ended or failed (logged): reconnect */
} FwdReplRead;

bool		fwd_repl_start(FwdState *s, const char *host, const char *hostaddr, const char *port);
FwdReplRead fwd_repl_read(FwdState *s, const char **data, int *len);
bool		fwd_repl_feedback(FwdState *s, bool reply_requested);
int			fwd_repl_socket(FwdState *s);

/* fwd_slot_health.c: an invalidated slot (wal_status lost) */
int	 fwd_slot_lost(PGconn *conn, const char *slot, const char *last_sent_lsn, char *msg,
				   size_t msglen);
bool fwd_slot_health_report(FwdState *s);

/* fwd_batch.c */
void fwd_batch_reset(FwdBatch *b);
void fwd_batch_free(FwdBatch *b);
bool fwd_batch_add_row(FwdBatch *b, const char *data, size_t len);
bool fwd_batch_txn_open(const FwdBatch *b);
void fwd_batch_settle(FwdBatch *b, int i, FwdEventState state, const char *reason);
void fwd_batch_dead_written(FwdBatch *b, int i);
int	 fwd_batch_done_prefix(const FwdBatch *b);
void fwd_batch_drop_done(FwdBatch *b);

/* fwd_keyset.c */
typedef struct FwdKeyset
{
	const char **slots; /* borrowed keys; NULL: empty */
	size_t		 cap;	/* a power of two */
	size_t		 n;
} FwdKeyset;

void fwd_keyset_clear(FwdKeyset *k);
bool fwd_keyset_add(FwdKeyset *k, const char *key); /* false: it was there */
bool fwd_keyset_has(const FwdKeyset *k, const char *key);
void fwd_keyset_free(FwdKeyset *k);

/* fwd_send.c */
FwdPipeline *fwd_send_open(FwdState *s);
void		 fwd_send_close(FwdPipeline *p); /* cancels and joins the calls */
int			 fwd_send_dispatch(FwdPipeline *p, FwdBatch *b);
int			 fwd_send_collect(FwdPipeline *p, FwdBatch *b, bool *failed);
int			 fwd_send_inflight(const FwdPipeline *p);
int			 fwd_send_wake_fd(const FwdPipeline *p);
void		 fwd_send_take_counters(FwdPipeline *p, FwdState *s);

/* fwd_stream.c */
typedef enum FwdStreamResult
{
	FWD_STREAM_RECONNECT, /* PostgreSQL failed: reconnect with backoff */
	FWD_STREAM_STOPPED	  /* a signal asked to stop */
} FwdStreamResult;

FwdStreamResult fwd_stream(FwdState *s, FwdBatch *b);

#endif /* FWD_H */
