/*
 * tdc.h — the common library: what every other library and program of
 * taxi_duration needs and none should write again.
 *
 *   errors    tdc_error (a status code of the caller's library, a message
 *             and a detail in PostgreSQL's style) and its setters
 *   text      making untrusted text safe to echo: tdc_echo (plain ASCII,
 *             short), tdc_escape (JSON-string escaping, for log lines),
 *             tdc_redact_userinfo (no "user:password@" in URLs)
 *   memory    one process-wide set of allocation hooks (also cJSON's), a
 *             zeroing array allocator, failure counting
 *   buffer    tdc_buf, a growable NUL-terminated byte buffer
 *   env       reading settings from the environment
 *
 * Allowed dependencies: the C library and cJSON (for its allocation hooks)
 * only.  Every library (model, stats, aws) may depend on this one; this one
 * depends on none of them.
 *
 * Files: tdc_error.c, tdc_text.c, tdc_alloc.c, tdc_buf.c, tdc_env.c.
 */
#ifndef TDC_H
#define TDC_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define TDC_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define TDC_PRINTF(a, b)
#endif

/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

#define TDC_ERROR_MESSAGE_LEN 256
#define TDC_ERROR_DETAIL_LEN 768

/*
 * An error in PostgreSQL's style: message short and lower-case without a
 * trailing period, detail a full sentence.  `status` is the code of the
 * library that set it (td_status, tds_status, tda_status; 0 is success in
 * every one); `http_status` is the HTTP status of a response, 0 when none.
 */
typedef struct tdc_error
{
	int	 status;
	long http_status;
	char message[TDC_ERROR_MESSAGE_LEN];
	char detail[TDC_ERROR_DETAIL_LEN];
} tdc_error;

/* Empty the error (status 0). */
void tdc_error_clear(tdc_error *err);

/*
 * Set status, message and a formatted detail; returns status.  Libraries
 * wrap it in a macro that passes their standard message for the status.
 * A NULL err is allowed (nothing is written).
 */
int tdc_error_set(tdc_error *err, int status, const char *message,
				  const char *fmt, ...) TDC_PRINTF(4, 5);
int tdc_error_setv(tdc_error *err, int status, const char *message,
				   const char *fmt, va_list ap) TDC_PRINTF(4, 0);

/* Replace the message of an error already set. */
void tdc_error_set_message(tdc_error *err, const char *fmt, ...) TDC_PRINTF(2, 3);

/* ------------------------------------------------------------------ */
/* Untrusted text                                                      */
/* ------------------------------------------------------------------ */

/* Longest piece of text tdc_echo copies. */
#define TDC_ECHO_MAX 64

/*
 * Copy at most TDC_ECHO_MAX bytes of s into buf, replacing control and
 * non-ASCII bytes, quotes and backslashes with '?', and marking truncation
 * with "...".  For bundle or trip text in a detail.  Returns buf.
 */
const char *tdc_echo(const char *s, char *buf, size_t bufsize);

/*
 * Make untrusted text (a record's sequence number or partition key, a ride
 * id, an error message or body from a server) safe to put in a log line:
 * escaped as the inside of a JSON string, so that it can never end the
 * line, forge another one, or move the terminal's cursor.  Backslash and
 * '"' are backslashed; newline, carriage return and tab become \n, \r,
 * \t; other control characters and DEL, and every well-formed non-ASCII
 * UTF-8 character, become \uXXXX (a surrogate pair above U+FFFF); a byte
 * that is not part of well-formed UTF-8 becomes \xHH (not JSON, but
 * unambiguous).  The output is pure printable ASCII.
 *
 * At most bufsize - 1 bytes are written, cut at a character boundary and
 * ended with "..." when the text does not fit: bufsize is the length cap.
 * NULL reads as "".  Returns buf ("" when bufsize is 0).
 */
const char *tdc_escape(const char *s, char *buf, size_t bufsize);

/* A tdc_escape buffer size that keeps one logged value short. */
#define TDC_ESCAPE_SHORT 160

/*
 * The length (1 to 4) of the well-formed UTF-8 sequence at p, n bytes
 * available, with its code point in *cp; 0 when p does not start one (a
 * stray continuation byte, an overlong form, a surrogate, a value above
 * U+10FFFF, a truncated sequence).  Reads no byte after one that fails, so
 * a NUL-terminated string may pass n = 4.
 */
size_t tdc_utf8_decode(const unsigned char *p, size_t n, uint32_t *cp);

/* Write code point cp (at most U+10FFFF) as UTF-8 to out (room for 4 bytes); its length. */
size_t tdc_utf8_encode(uint32_t cp, char *out);

/*
 * Copy `s` into buf (at most bufsize - 1 bytes, NUL-terminated) without the
 * user info ("user:password@") of any URL authority in it, so that text that
 * may hold a URL can be shown or logged.  Returns buf.
 */
const char *tdc_redact_userinfo(const char *s, char *buf, size_t bufsize);

/* ------------------------------------------------------------------ */
/* Memory                                                              */
/* ------------------------------------------------------------------ */

/*
 * Process-wide allocation hooks, used by every library and (through
 * cJSON_InitHooks) by cJSON.  A hook that fails must return NULL; it must
 * never longjmp.  NULL malloc_fn or free_fn restores the C library's;
 * without realloc_fn, buffers grow by malloc + copy + free.
 */
typedef struct tdc_allocator
{
	void *(*malloc_fn)(size_t size);
	void *(*realloc_fn)(void *ptr, size_t size);
	void (*free_fn)(void *ptr);
} tdc_allocator;

void		  tdc_set_allocator(const tdc_allocator *allocator);
void		 *tdc_malloc(size_t size);
void		 *tdc_realloc(void *ptr, size_t old_size, size_t size);
void		  tdc_free(void *ptr);
void		 *tdc_calloc_array(size_t count, size_t size); /* zeroed; NULL on overflow */
void		  tdc_install_cjson_hooks(void);			   /* idempotent, cheap */
unsigned long tdc_alloc_failures(void);					   /* wraps; compare for change only */

/*
 * cJSON_ParseWithLengthOpts through the hooks above, telling a failed
 * allocation apart from bad JSON (cJSON reports both as NULL): on NULL,
 * *out_of_memory says which.  *end (when end is given) is cJSON's
 * return_parse_end.
 */
struct cJSON *tdc_json_parse(const char *text, size_t len, const char **end,
							 bool *out_of_memory);

/* ------------------------------------------------------------------ */
/* Buffer                                                              */
/* ------------------------------------------------------------------ */

/* A growable byte buffer, always NUL-terminated when data != NULL. */
typedef struct tdc_buf
{
	char  *data;
	size_t len;
	size_t cap;
} tdc_buf;

/* Append; false (the buffer unchanged) on overflow or allocation failure. */
bool tdc_buf_append(tdc_buf *buf, const void *bytes, size_t len);
bool tdc_buf_append_str(tdc_buf *buf, const char *s);
bool tdc_buf_printf(tdc_buf *buf, const char *fmt, ...) TDC_PRINTF(2, 3);
/* s percent-encoded for a URL query parameter (RFC 3986 unreserved kept) */
bool tdc_buf_append_urlenc(tdc_buf *buf, const char *s);
void tdc_buf_reset(tdc_buf *buf); /* length 0, memory kept */
void tdc_buf_free(tdc_buf *buf);

/* ------------------------------------------------------------------ */
/* Environment                                                         */
/* ------------------------------------------------------------------ */

/* The variable's value, or fallback when it is unset or empty. */
const char *tdc_env_or(const char *name, const char *fallback);

/*
 * The variable as an integer in [min, max]: fallback when unset or empty;
 * when set but not a whole number in range, *invalid (if given) is set to
 * true and fallback returned, so that the caller can say so.
 */
long tdc_env_long(const char *name, long fallback, long min, long max, bool *invalid);

#ifdef __cplusplus
}
#endif

#endif /* TDC_H */
