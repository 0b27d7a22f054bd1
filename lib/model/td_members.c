/*
 * td_members.c — parse only the bundle members serving reads.
 *
 * A bundle may carry large members the library never reads (`training`
 * metadata, a `reference_profile` for drift monitoring, anything a newer
 * exporter adds).  cJSON builds a node of about 80 bytes for every JSON
 * value, so a 64 MiB bundle whose bulk is an unread array used to cost
 * gigabytes during a load.  Here a small strict scanner (RFC 8259 grammar,
 * no allocation, iterative, nesting bounded like cJSON's) walks the
 * top-level object once, finding the span of each member's value; only the
 * members in td_read_members are handed to cJSON, one at a time, and put
 * into one object in document order (so a duplicated key means what it
 * meant before: the first one counts).  The others are checked for syntax
 * and skipped without being built.
 *
 * Whatever the scanner does not accept falls back to parsing the whole
 * text with cJSON: a top-level value that is not an object (the reader
 * rejects it with its usual message), and syntax errors, which then get
 * cJSON's message and byte position as before.  Text cJSON accepts but the
 * scanner does not (cJSON is lenient: "+1", "01", control characters in
 * strings, ...) is refused.  Everything the scanner accepts, cJSON accepts
 * too (numbers are at most 63 characters and \u escapes must pair
 * surrogates, cJSON's own limits), which tests/fuzz/fuzz_members.c checks.
 */
#include <stdlib.h>
#include <string.h>

#include "td_internal.h"

/* Top-level members the library reads (td_bundle.c); all others are skipped. */
static const char *const td_read_members[] = {
	"format", "format_version", "model", "inputs", "features", "estimator"
};

#define TD_SCAN_MAX_DEPTH 1000 /* CJSON_NESTING_LIMIT */
#define TD_SCAN_MAX_NUMBER 63  /* cJSON parses numbers of up to 63 characters */
#define TD_SCAN_POLL_MASK 0xFFFF
#ifndef TD_PARSE_CHUNK
#define TD_PARSE_CHUNK 65536 /* a read value larger than this is built piecewise */
#endif

/* A container of at least TD_PARSE_CHUNK bytes: [start, end). */
typedef struct big_span
{
	size_t start;
	size_t end;
} big_span;

typedef struct scanner
{
	const char		*s;
	size_t			 len;
	size_t			 pos;
	const char		*why; /* what was wrong at pos */
	unsigned long	 steps;
	const td_limits *limits;
	td_error		*err;
	bool			 canceled;
	bool			 record; /* note big containers in big[] */
	bool			 nomem;
	big_span		*big;
	size_t			 num_big;
	size_t			 cap_big;
	size_t			 next_big; /* the build's cursor into big[] */
} scanner;

static bool
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void
skip_ws(scanner *sc)
{
	while (sc->pos < sc->len && is_ws(sc->s[sc->pos]))
		sc->pos++;
}

static bool
scan_fail(scanner *sc, const char *why)
{
	sc->why = why;
	return false;
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Four hex digits at s[at]; -1 if not. */
static long
hex4(const scanner *sc, size_t at)
{
	long v = 0;
	int	 i;

	if (at > sc->len || sc->len - at < 4)
		return -1;
	for (i = 0; i < 4; i++)
	{
		int d = hex_value(sc->s[at + i]);

		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/* A \u escape at pos (the backslash); a high surrogate needs its low one. */
static bool
scan_unicode_escape(scanner *sc)
{
	long code = hex4(sc, sc->pos + 2);
	long low;

	if (code < 0)
		return scan_fail(sc, "a \\u escape without four hex digits");
	if (code >= 0xDC00 && code <= 0xDFFF)
		return scan_fail(sc, "a \\u escape that is a lone low surrogate");
	sc->pos += 6;
	if (code < 0xD800 || code > 0xDBFF)
		return true;
	if (sc->len - sc->pos < 6 || sc->s[sc->pos] != '\\' || sc->s[sc->pos + 1] != 'u' ||
		(low = hex4(sc, sc->pos + 2)) < 0xDC00 || low > 0xDFFF)
		return scan_fail(sc, "a \\u escape that is a high surrogate without its low surrogate");
	sc->pos += 6;
	return true;
}

/* A string at pos (the opening quote); pos ends after the closing quote. */
static bool
scan_string(scanner *sc)
{
	sc->pos++;
	while (sc->pos < sc->len)
	{
		unsigned char c = (unsigned char) sc->s[sc->pos];

		if (c == '"')
		{
			sc->pos++;
			return true;
		}
		if (c < 0x20)
			return scan_fail(sc, "a control character in a string");
		if (c != '\\')
		{
			sc->pos++;
			continue;
		}
		if (sc->pos + 1 >= sc->len)
			break;
		if (sc->s[sc->pos + 1] == 'u')
		{
			if (!scan_unicode_escape(sc))
				return false;
		}
		else if (strchr("\"\\/bfnrt", sc->s[sc->pos + 1]) != NULL && sc->s[sc->pos + 1] != '\0')
			sc->pos += 2;
		else
			return scan_fail(sc, "an unknown escape in a string");
	}
	return scan_fail(sc, "an unterminated string");
}

/* Digits at pos; false if there are none. */
static bool
scan_digits(scanner *sc)
{
	size_t start = sc->pos;

	while (sc->pos < sc->len && sc->s[sc->pos] >= '0' && sc->s[sc->pos] <= '9')
		sc->pos++;
	return sc->pos > start;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? at pos. */
static bool
scan_number(scanner *sc)
{
	size_t start = sc->pos;

	if (sc->s[sc->pos] == '-')
		sc->pos++;
	if (sc->pos < sc->len && sc->s[sc->pos] == '0')
		sc->pos++;
	else if (!scan_digits(sc))
		return scan_fail(sc, "a malformed number");
	if (sc->pos < sc->len && sc->s[sc->pos] == '.')
	{
		sc->pos++;
		if (!scan_digits(sc))
			return scan_fail(sc, "a malformed number");
	}
	if (sc->pos < sc->len && (sc->s[sc->pos] == 'e' || sc->s[sc->pos] == 'E'))
	{
		sc->pos++;
		if (sc->pos < sc->len && (sc->s[sc->pos] == '+' || sc->s[sc->pos] == '-'))
			sc->pos++;
		if (!scan_digits(sc))
			return scan_fail(sc, "a malformed number");
	}
	if (sc->pos - start > TD_SCAN_MAX_NUMBER)
	{
		sc->pos = start;
		return scan_fail(sc, "a number of more than 63 characters");
	}
	return true;
}

/* A scalar (string, number, literal) at pos. */
static bool
scan_scalar(scanner *sc)
{
	static const char *const literals[] = { "true", "false", "null" };
	char					 c = sc->s[sc->pos];
	size_t					 i;

	if (c == '"')
		return scan_string(sc);
	if (c == '-' || (c >= '0' && c <= '9'))
		return scan_number(sc);
	for (i = 0; i < sizeof(literals) / sizeof(literals[0]); i++)
	{
		size_t n = strlen(literals[i]);

		if (sc->len - sc->pos >= n && memcmp(sc->s + sc->pos, literals[i], n) == 0)
		{
			sc->pos += n;
			return true;
		}
	}
	return scan_fail(sc, "an unexpected character");
}

/*
 * An object key and its colon at pos (after optional whitespace); pos ends
 * where the value may start.  *key_off and *key_len: the key token, quotes
 * included.
 */
static bool
scan_key(scanner *sc, size_t *key_off, size_t *key_len)
{
	skip_ws(sc);
	*key_off = sc->pos;
	if (sc->pos >= sc->len || sc->s[sc->pos] != '"')
		return scan_fail(sc, "an object key that is not a string");
	if (!scan_string(sc))
		return false;
	*key_len = sc->pos - *key_off;
	skip_ws(sc);
	if (sc->pos >= sc->len || sc->s[sc->pos] != ':')
		return scan_fail(sc, "a missing colon after an object key");
	sc->pos++;
	return true;
}

/* scan_key() when the key itself does not matter. */
static bool
scan_key_colon(scanner *sc)
{
	size_t off;
	size_t len;

	return scan_key(sc, &off, &len);
}

/* Poll the cancel callback now and then; false once cancelled. */
static bool
scan_poll(scanner *sc)
{
	if ((++sc->steps & TD_SCAN_POLL_MASK) != 0)
		return true;
	if (td_poll_cancel(sc->limits, sc->err) == TD_OK)
		return true;
	sc->canceled = true;
	return false;
}

/* Note a big container (when recording); false when out of memory. */
static bool
note_big(scanner *sc, size_t start, size_t end)
{
	if (!sc->record || end - start < TD_PARSE_CHUNK)
		return true;
	if (sc->num_big == sc->cap_big)
	{
		size_t	  cap = sc->cap_big ? 2 * sc->cap_big : 16;
		big_span *grown = tdc_calloc_array(cap, sizeof(big_span));

		if (grown == NULL)
		{
			sc->nomem = true;
			return false;
		}
		if (sc->num_big > 0)
			memcpy(grown, sc->big, sc->num_big * sizeof(big_span));
		tdc_free(sc->big);
		sc->big = grown;
		sc->cap_big = cap;
	}
	sc->big[sc->num_big].start = start;
	sc->big[sc->num_big++].end = end;
	return true;
}

/*
 * One complete value at pos (after optional whitespace), nested at most
 * TD_SCAN_MAX_DEPTH - depth0 containers deep; pos ends right after it.
 * Iterative: `stack` holds '}' or ']' for each open container.
 */
static bool
scan_value(scanner *sc, int depth0)
{
	char   stack[TD_SCAN_MAX_DEPTH];
	size_t starts[TD_SCAN_MAX_DEPTH];
	int	   sp = 0;

	for (;;)
	{
		char c;

		/* a value starts here */
		if (!scan_poll(sc))
			return false;
		skip_ws(sc);
		if (sc->pos >= sc->len)
			return scan_fail(sc, "a value is missing at the end of the text");
		c = sc->s[sc->pos];
		if (c == '{' || c == '[')
		{
			if (depth0 + sp + 1 > TD_SCAN_MAX_DEPTH)
				return scan_fail(sc, "nesting deeper than 1000 levels");
			starts[sp] = sc->pos;
			stack[sp++] = c == '{' ? '}' : ']';
			sc->pos++;
			skip_ws(sc);
			if (sc->pos < sc->len && sc->s[sc->pos] == stack[sp - 1])
			{
				sc->pos++;
				sp--;
				if (!note_big(sc, starts[sp], sc->pos))
					return false;
			}
			else
			{
				if (c == '{' && !scan_key_colon(sc))
					return false;
				continue;
			}
		}
		else if (!scan_scalar(sc))
			return false;

		/* after a value: close containers, or move on to the next element */
		for (;;)
		{
			if (sp == 0)
				return true;
			skip_ws(sc);
			if (sc->pos >= sc->len)
				return scan_fail(sc, "an unterminated object or array");
			c = sc->s[sc->pos];
			if (c == stack[sp - 1])
			{
				sc->pos++;
				sp--;
				if (!note_big(sc, starts[sp], sc->pos))
					return false;
				continue;
			}
			if (c != ',')
				return scan_fail(sc, "a missing comma or closing bracket");
			sc->pos++;
			if (stack[sp - 1] == '}' && !scan_key_colon(sc))
				return false;
			break;
		}
	}
}

/* Is the key (a JSON string token, quotes included) one the library reads? */
static td_status
key_is_read(const char *key, size_t key_len, bool *read, td_error *err)
{
	const char *name = key + 1;
	size_t		name_len = key_len - 2;
	cJSON	   *decoded = NULL;
	size_t		i;

	*read = false;
	if (memchr(name, '\\', name_len) != NULL)
	{
		/* escaped: compare what cJSON would make of it */
		decoded = cJSON_ParseWithLength(key, key_len);
		if (decoded == NULL || !cJSON_IsString(decoded))
		{
			cJSON_Delete(decoded);
			return td_error_nomem(err);
		}
		name = decoded->valuestring;
		name_len = strlen(name);
	}
	for (i = 0; i < sizeof(td_read_members) / sizeof(td_read_members[0]); i++)
		if (strlen(td_read_members[i]) == name_len &&
			memcmp(td_read_members[i], name, name_len) == 0)
			*read = true;
	cJSON_Delete(decoded);
	return TD_OK;
}

/* TD_ERR_JSON for text cJSON refused at `at` (the scanner accepted it). */
static td_status
parse_failed(const scanner *sc, const char *at, unsigned long failures)
{
	if (tdc_alloc_failures() != failures)
		return td_error_nomem(sc->err);
	td_error_set(sc->err, TD_ERR_JSON,
				 "The model bundle is not valid JSON, is truncated or is nested too deeply; parsing failed at byte %zu.",
				 at != NULL && at >= sc->s && at <= sc->s + sc->len ? (size_t) (at - sc->s) : 0);
	return TD_ERR_JSON;
}

/* cJSON's parse of the one value at pos, of at most `avail` bytes. */
static td_status
parse_one(scanner *sc, size_t pos, size_t avail, cJSON **out, size_t *end_pos)
{
	const char	 *end = NULL;
	unsigned long failures = tdc_alloc_failures();

	*out = cJSON_ParseWithLengthOpts(sc->s + pos, avail, &end, 0);
	if (*out == NULL)
		return parse_failed(sc, end, failures);
	*end_pos = (size_t) (end - sc->s);
	return TD_OK;
}

static td_status build_value(scanner *sc, size_t pos, size_t avail, cJSON **out,
							 size_t *end_pos);

/*
 * A big container at pos, built child by child (each child parsed by cJSON
 * or, if big itself, built the same way), polling the cancel callback
 * between children.  The scanner has checked the syntax.
 */
static td_status
build_container(scanner *sc, size_t pos, size_t end, cJSON **out)
{
	bool	  object = sc->s[pos] == '{';
	cJSON	 *node = object ? cJSON_CreateObject() : cJSON_CreateArray();
	td_status st = TD_OK;

	if (node == NULL)
		return td_error_nomem(sc->err);
	sc->pos = pos + 1;
	skip_ws(sc);
	while (st == TD_OK && sc->pos < end && sc->s[sc->pos] != '}' && sc->s[sc->pos] != ']')
	{
		cJSON *key = NULL;
		cJSON *child = NULL;
		size_t at = sc->pos;

		if (object && (st = parse_one(sc, sc->pos, end - sc->pos, &key, &at)) == TD_OK)
		{
			sc->pos = at;
			skip_ws(sc);
			sc->pos++; /* the colon */
			skip_ws(sc);
		}
		if (st == TD_OK && (st = td_poll_cancel(sc->limits, sc->err)) == TD_OK &&
			(st = build_value(sc, sc->pos, end - sc->pos, &child, &at)) == TD_OK)
		{
			bool added = object ? cJSON_AddItemToObject(node, key->valuestring, child) :
								  cJSON_AddItemToArray(node, child);

			if (!added)
			{
				cJSON_Delete(child);
				st = td_error_nomem(sc->err);
			}
			sc->pos = at;
			skip_ws(sc);
			if (sc->pos < end && sc->s[sc->pos] == ',')
				sc->pos++;
			skip_ws(sc);
		}
		cJSON_Delete(key);
	}
	if (st != TD_OK)
	{
		cJSON_Delete(node);
		return st;
	}
	*out = node;
	return TD_OK;
}

/* The value at pos: built piecewise if the scan noted it as big, else parsed. */
static td_status
build_value(scanner *sc, size_t pos, size_t avail, cJSON **out, size_t *end_pos)
{
	if (sc->next_big < sc->num_big && sc->big[sc->next_big].start == pos)
	{
		size_t end = sc->big[sc->next_big++].end;

		*end_pos = end;
		return build_container(sc, pos, end, out);
	}
	return parse_one(sc, pos, avail, out, end_pos);
}

static int
big_span_order(const void *a, const void *b)
{
	size_t x = ((const big_span *) a)->start;
	size_t y = ((const big_span *) b)->start;

	return x < y ? -1 : x > y;
}

/* Parse one read member's value (at value_off) and append it to root. */
static td_status
add_member(scanner *sc, cJSON *root, size_t key_off, size_t key_len,
		   size_t value_off, size_t value_end)
{
	cJSON	 *key = NULL;
	cJSON	 *value = NULL;
	size_t	  at = value_off;
	size_t	  saved = sc->pos;
	td_status st;

	/* the build visits big containers in document order */
	if (sc->num_big > 1)
		qsort(sc->big, sc->num_big, sizeof(big_span), big_span_order);
	sc->next_big = 0;
	st = parse_one(sc, key_off, key_len, &key, &at);
	if (st == TD_OK)
		st = build_value(sc, value_off, value_end - value_off, &value, &at);
	if (st == TD_OK && at != value_end)
		st = parse_failed(sc, sc->s + at, tdc_alloc_failures());
	if (st == TD_OK && !cJSON_AddItemToObject(root, key->valuestring, value))
		st = td_error_nomem(sc->err);
	if (st != TD_OK)
		cJSON_Delete(value);
	cJSON_Delete(key);
	sc->num_big = 0;
	sc->pos = saved;
	return st;
}

/*
 * Walk the top-level object whose '{' is at sc->pos, adding the members
 * the library reads to root.  TD_ERR_JSON with sc->why set (err untouched) on
 * a syntax error; other failures fill err.
 */
static td_status
scan_members(scanner *sc, cJSON *root)
{
	td_status st;

	sc->pos++;
	skip_ws(sc);
	if (sc->pos < sc->len && sc->s[sc->pos] == '}')
	{
		sc->pos++;
		return TD_OK;
	}
	for (;;)
	{
		size_t key_off;
		size_t key_len;
		size_t value_off;
		bool   read;

		if (!scan_key(sc, &key_off, &key_len))
			return TD_ERR_JSON;
		if ((st = key_is_read(sc->s + key_off, key_len, &read, sc->err)) != TD_OK)
			return st;
		skip_ws(sc);
		value_off = sc->pos;
		sc->record = read;
		if (!scan_value(sc, 1))
			return sc->canceled ? TD_ERR_CANCELED : sc->nomem ? td_error_nomem(sc->err) :
																TD_ERR_JSON;
		if ((read && (st = add_member(sc, root, key_off, key_len, value_off, sc->pos)) != TD_OK) ||
			(st = td_poll_cancel(sc->limits, sc->err)) != TD_OK)
			return st;
		skip_ws(sc);
		if (sc->pos < sc->len && sc->s[sc->pos] == '}')
		{
			sc->pos++;
			return TD_OK;
		}
		if (sc->pos >= sc->len || sc->s[sc->pos] != ',')
		{
			sc->why = sc->pos >= sc->len ? "an unterminated object" :
										   "a missing comma or closing brace";
			return TD_ERR_JSON;
		}
		sc->pos++;
	}
}

/*
 * A syntax error the scanner found: cJSON's message and position when it
 * fails too (the message a bundle always had); else the scanner's.
 */
static cJSON *
syntax_error(const scanner *sc, td_error *err)
{
	cJSON *whole = td_json_parse(sc->s, sc->len, TD_ERR_JSON, "model bundle", err);

	if (whole == NULL)
		return NULL;
	cJSON_Delete(whole);
	td_error_set(err, TD_ERR_JSON,
				 "The model bundle is not valid JSON (RFC 8259): %s at byte %zu.",
				 sc->why ? sc->why : "a syntax error", sc->pos);
	return NULL;
}

/*
 * Parse a bundle's text into a cJSON object holding only the top-level
 * members the library reads (td_read_members), in document order.  A text
 * whose top level is not an object is parsed whole (td_json_parse), so the
 * reader reports it as before.  NULL with err filled on failure, including
 * TD_ERR_CANCELED when limits->cancel_requested said stop.
 */
cJSON *
td_parse_bundle_members(const char *json, size_t len, const td_limits *limits,
						td_error *err)
{
	scanner	  sc;
	cJSON	 *root;
	td_status st;

	memset(&sc, 0, sizeof(sc));
	sc.s = json;
	sc.len = len;
	sc.limits = limits;
	sc.err = err;
	skip_ws(&sc);
	if (json == NULL || sc.pos >= len || json[sc.pos] != '{')
	{
		/* cJSON's whitespace is any byte up to 32: an object after others is refused */
		sc.why = "an unexpected character";
		root = td_json_parse(json, len, TD_ERR_JSON, "model bundle", err);
		if (root == NULL || !cJSON_IsObject(root))
			return root;
		cJSON_Delete(root);
		return syntax_error(&sc, err);
	}
	tdc_install_cjson_hooks();
	root = cJSON_CreateObject();
	if (root == NULL)
	{
		td_error_nomem(err);
		return NULL;
	}
	st = scan_members(&sc, root);
	tdc_free(sc.big);
	if (st == TD_OK)
	{
		skip_ws(&sc);
		if (sc.pos < len)
		{
			sc.why = "unexpected data after the JSON value";
			st = TD_ERR_JSON;
		}
	}
	if (st == TD_OK)
		return root;
	cJSON_Delete(root);
	if (st == TD_ERR_JSON && sc.why != NULL)
		return syntax_error(&sc, err);
	return NULL;
}
