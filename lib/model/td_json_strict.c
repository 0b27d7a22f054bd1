/*
 * td_json_strict.c — the model bundle's JSON grammar (docs/bundle-format.md,
 * "Grammar"), which is stricter than what cJSON accepts, so that the C model library
 * and the Python reader accept exactly the same documents:
 *
 *  - RFC 8259 JSON text, whitespace only space, tab, LF and CR, no BOM;
 *  - numbers in JSON's grammar only (no leading zeros, "+", hex, "1.", ".5",
 *    NaN or Infinity), at most 63 characters, finite as a double;
 *  - strings: valid UTF-8 (no overlong forms, no surrogates, nothing above
 *    U+10FFFF), no control character (U+0000-U+001F, U+007F-U+009F) raw or
 *    escaped, "\u" escapes only as proper surrogate pairs;
 *  - nesting at most TD_JSON_MAX_DEPTH arrays/objects deep;
 *  - no object with two members of the same (decoded) name.
 *
 * td_json_parse_bundle first builds the members serving reads
 * (td_parse_bundle_members: unread members are only scanned, and text cJSON
 * cannot parse keeps cJSON's errors), then runs a recursive-descent pass
 * over the whole raw text (cJSON cuts strings at \u0000 and takes leading
 * zeros, so the text is the only place some rules can be checked; it also
 * finds duplicate member names, in unread members too), then walks the
 * tree it built and marks every number written with a fraction or an
 * exponent (TD_JSON_NOT_INT_TOKEN), so that "integer" in the bundle means
 * what it means to Python and to XGBoost: no "1.0", no "1e0".
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "td_internal.h"

#define MAX_NUMBER_CHARS 63

/* A member of the top-level object: its name and the numbers inside it. */
typedef struct td_top_member
{
	char  *name;		 /* decoded */
	size_t first_number; /* index of its first number in text order */
	size_t numbers;
} td_top_member;

typedef struct strict_state
{
	const unsigned char *s;
	size_t				 len;
	size_t				 pos;
	td_error			*err;
	unsigned char		*marks; /* one bit per number, in text order */
	size_t				 nnumbers;
	size_t				 cap;			 /* bytes allocated for marks */
	size_t				 next;			 /* tree walk: next number's bit */
	size_t				 nnumbers_limit; /* tree walk: end of the current member's */
	td_top_member		*top;			 /* the top-level object's members, in text order */
	size_t				 ntop;
	size_t				 cap_top;
} strict_state;

static td_status
bad(strict_state *st, const char *what)
{
	td_error_set(st->err, TD_ERR_JSON,
				 "The model bundle has %s at byte %zu; see the grammar in docs/bundle-format.md.",
				 what, st->pos);
	return TD_ERR_JSON;
}

static void
skip_ws(strict_state *st)
{
	while (st->pos < st->len &&
		   (st->s[st->pos] == ' ' || st->s[st->pos] == '\t' ||
			st->s[st->pos] == '\n' || st->s[st->pos] == '\r'))
		st->pos++;
}

static int
peek(const strict_state *st)
{
	return st->pos < st->len ? st->s[st->pos] : -1;
}

/* Record whether the number just read was an integer token. */
static td_status
push_mark(strict_state *st, bool not_int)
{
	if (st->nnumbers / 8 >= st->cap)
	{
		size_t		   cap = st->cap == 0 ? 256 : st->cap * 2;
		unsigned char *m = tdc_calloc_array(cap, 1);

		if (m == NULL)
			return td_error_nomem(st->err);
		if (st->marks != NULL)
			memcpy(m, st->marks, st->cap);
		tdc_free(st->marks);
		st->marks = m;
		st->cap = cap;
	}
	if (not_int)
		st->marks[st->nnumbers / 8] |= (unsigned char) (1u << (st->nnumbers % 8));
	st->nnumbers++;
	return TD_OK;
}

static size_t
digits(strict_state *st)
{
	size_t start = st->pos;

	while (st->pos < st->len && st->s[st->pos] >= '0' && st->s[st->pos] <= '9')
		st->pos++;
	return st->pos - start;
}

static td_status
number(strict_state *st)
{
	size_t start = st->pos;
	bool   not_int = false;
	char   buf[MAX_NUMBER_CHARS + 1];
	double d;

	if (peek(st) == '-')
		st->pos++;
	if (peek(st) == '0')
	{
		st->pos++;
		if (peek(st) >= '0' && peek(st) <= '9')
			return bad(st, "a number with a leading zero");
	}
	else if (digits(st) == 0)
		return bad(st, "a value that is not JSON (numbers are -?digits[.digits][e[+-]digits]; no NaN, Infinity, hex or '+')");
	if (peek(st) == '.')
	{
		st->pos++;
		not_int = true;
		if (digits(st) == 0)
			return bad(st, "a number with no digit after its '.'");
	}
	if (peek(st) == 'e' || peek(st) == 'E')
	{
		st->pos++;
		not_int = true;
		if (peek(st) == '+' || peek(st) == '-')
			st->pos++;
		if (digits(st) == 0)
			return bad(st, "a number with no digit in its exponent");
	}
	if (st->pos - start > MAX_NUMBER_CHARS)
	{
		st->pos = start;
		return bad(st, "a number longer than 63 characters");
	}
	memcpy(buf, st->s + start, st->pos - start);
	buf[st->pos - start] = '\0';
	d = strtod(buf, NULL);
	if (!isfinite(d))
	{
		st->pos = start;
		return bad(st, "a number too large for a double");
	}
	return push_mark(st, not_int);
}

static int
hex4(const unsigned char *p)
{
	int v = 0;
	int i;

	for (i = 0; i < 4; i++)
	{
		int c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

static bool
is_control(long cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

/* A \u escape at st->pos (pointing at the 'u'); a pair for a surrogate. */
static td_status
unicode_escape(strict_state *st)
{
	long cp;
	long lo;

	if (st->len - st->pos < 5 || (cp = hex4(st->s + st->pos + 1)) < 0)
		return bad(st, "a \\u escape without four hex digits");
	if (cp == 0)
		return bad(st, "a NUL character (\\u0000) in a string");
	if (is_control(cp))
		return bad(st, "an escaped control character in a string");
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return bad(st, "a lone low surrogate escape in a string");
	st->pos += 5;
	if (cp < 0xd800 || cp > 0xdbff)
		return TD_OK;
	if (st->len - st->pos < 6 || st->s[st->pos] != '\\' || st->s[st->pos + 1] != 'u' ||
		(lo = hex4(st->s + st->pos + 2)) < 0xdc00 || lo > 0xdfff)
		return bad(st, "a high surrogate escape not followed by a low surrogate escape");
	st->pos += 6;
	return TD_OK;
}

static td_status
string(strict_state *st)
{
	st->pos++; /* the opening quote */
	while (st->pos < st->len)
	{
		unsigned char c = st->s[st->pos];
		uint32_t	  cp = 0;
		size_t		  k;

		if (c == '"')
		{
			st->pos++;
			return TD_OK;
		}
		if (c == '\\')
		{
			int e = st->pos + 1 < st->len ? st->s[st->pos + 1] : -1;

			st->pos++;
			if (e == 'u')
			{
				td_status r = unicode_escape(st);

				if (r != TD_OK)
					return r;
				continue;
			}
			if (e == '"' || e == '\\' || e == '/')
			{
				st->pos++;
				continue;
			}
			if (e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't')
				return bad(st, "an escaped control character in a string");
			return bad(st, "an invalid escape in a string");
		}
		if (c == 0)
			return bad(st, "a NUL byte in a string");
		if (c < 0x20 || c == 0x7f)
			return bad(st, "a raw control character in a string");
		if (c < 0x80)
		{
			st->pos++;
			continue;
		}
		k = tdc_utf8_decode(st->s + st->pos, st->len - st->pos, &cp);
		if (k == 0)
			return bad(st, "bytes that are not UTF-8");
		if (is_control(cp))
			return bad(st, "a control character (U+0080-U+009F) in a string");
		st->pos += k;
	}
	return bad(st, "an unterminated string");
}

static td_status value(strict_state *st, unsigned depth);

static td_status container_members(strict_state *st, unsigned depth, bool object,
								   char ***names, size_t *nnames, size_t *cap_names);

/*
 * The decoded text of the string token [start, end) (quotes included),
 * already checked by string(): escapes are only \" \\ \/ and \u pairs.
 * NULL when out of memory.
 */
static char *
decode_key(const unsigned char *s, size_t start, size_t end)
{
	char  *out = tdc_malloc(end - start + 1);
	size_t i = start + 1;
	size_t o = 0;

	if (out == NULL)
		return NULL;
	while (i < end - 1)
	{
		long cp;

		if (s[i] != '\\')
		{
			out[o++] = (char) s[i++];
			continue;
		}
		if (s[i + 1] != 'u')
		{
			out[o++] = (char) s[i + 1];
			i += 2;
			continue;
		}
		cp = hex4(s + i + 2);
		i += 6;
		if (cp >= 0xd800 && cp <= 0xdbff)
		{
			cp = 0x10000 + ((cp - 0xd800) << 10) + (hex4(s + i + 2) - 0xdc00);
			i += 6;
		}
		o += tdc_utf8_encode((uint32_t) cp, out + o);
	}
	out[o] = '\0';
	return out;
}

static int
compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* The member names of one object: none twice. Frees the names. */
static td_status
check_names(strict_state *st, char **names, size_t n)
{
	td_status r = TD_OK;
	size_t	  i;

	if (n > 1)
		qsort((void *) names, n, sizeof(char *), compare_names);
	for (i = 1; i < n && r == TD_OK; i++)
	{
		if (strcmp(names[i - 1], names[i]) == 0)
		{
			char a[80];

			td_error_set(st->err, TD_ERR_JSON,
						 "The model bundle has the key \"%s\" twice in an object ending at byte %zu; keys must be unique.",
						 tdc_echo(names[i], a, sizeof(a)), st->pos);
			r = TD_ERR_JSON;
		}
	}
	for (i = 0; i < n; i++)
		tdc_free(names[i]);
	return r;
}

/* Remember a top-level member: its name and where its numbers start. */
static td_status
note_top_member(strict_state *st, const char *name)
{
	if (st->ntop == st->cap_top)
	{
		size_t		   cap = st->cap_top == 0 ? 16 : st->cap_top * 2;
		td_top_member *top = tdc_calloc_array(cap, sizeof(td_top_member));

		if (top == NULL)
			return td_error_nomem(st->err);
		if (st->top != NULL)
			memcpy(top, st->top, st->ntop * sizeof(td_top_member));
		tdc_free(st->top);
		st->top = top;
		st->cap_top = cap;
	}
	st->top[st->ntop].name = tdc_malloc(strlen(name) + 1);
	if (st->top[st->ntop].name == NULL)
		return td_error_nomem(st->err);
	strcpy(st->top[st->ntop].name, name);
	st->top[st->ntop].first_number = st->nnumbers;
	st->ntop++;
	return TD_OK;
}

static td_status
container(strict_state *st, unsigned depth, bool object)
{
	td_status r;
	char	**names = NULL;
	size_t	  nnames = 0;
	size_t	  cap_names = 0;

	r = container_members(st, depth, object, &names, &nnames, &cap_names);
	if (r == TD_OK && object)
		r = check_names(st, names, nnames); /* frees the names */
	else
		while (nnames > 0)
			tdc_free(names[--nnames]);
	tdc_free(names);
	return r;
}

/* The members (or elements) of one container; object names into *names. */
static td_status
container_members(strict_state *st, unsigned depth, bool object, char ***names,
				  size_t *nnames, size_t *cap_names)
{
	int		  close = object ? '}' : ']';
	td_status r;

	if (depth >= TD_JSON_MAX_DEPTH)
		return bad(st, "nesting deeper than 128 arrays and objects");
	st->pos++;
	skip_ws(st);
	if (peek(st) == close)
	{
		st->pos++;
		return TD_OK;
	}
	for (;;)
	{
		if (object)
		{
			size_t start = st->pos;
			char  *name;

			if (peek(st) != '"')
				return bad(st, "an object member without a string name");
			if ((r = string(st)) != TD_OK)
				return r;
			if (*nnames == *cap_names)
			{
				size_t cap = *cap_names == 0 ? 16 : *cap_names * 2;
				char **grown = tdc_calloc_array(cap, sizeof(char *));

				if (grown == NULL)
					return td_error_nomem(st->err);
				if (*names != NULL)
					memcpy(grown, *names, *nnames * sizeof(char *));
				tdc_free(*names);
				*names = grown;
				*cap_names = cap;
			}
			name = decode_key(st->s, start, st->pos);
			if (name == NULL)
				return td_error_nomem(st->err);
			(*names)[(*nnames)++] = name;
			if (depth == 0 && (r = note_top_member(st, name)) != TD_OK)
				return r;
			skip_ws(st);
			if (peek(st) != ':')
				return bad(st, "an object member without ':'");
			st->pos++;
			skip_ws(st);
		}
		if ((r = value(st, depth + 1)) != TD_OK)
			return r;
		if (object && depth == 0)
			st->top[st->ntop - 1].numbers = st->nnumbers - st->top[st->ntop - 1].first_number;
		skip_ws(st);
		if (peek(st) == ',')
		{
			st->pos++;
			skip_ws(st);
			continue;
		}
		if (peek(st) == close)
		{
			st->pos++;
			return TD_OK;
		}
		return bad(st, object ? "an object without ',' or '}' after a member" :
								"an array without ',' or ']' after an element");
	}
}

static td_status
literal(strict_state *st, const char *word)
{
	size_t n = strlen(word);

	if (st->len - st->pos < n || memcmp(st->s + st->pos, word, n) != 0)
		return bad(st, "a value that is not JSON");
	st->pos += n;
	return TD_OK;
}

static td_status
value(strict_state *st, unsigned depth)
{
	switch (peek(st))
	{
		case '{':
			return container(st, depth, true);
		case '[':
			return container(st, depth, false);
		case '"':
			return string(st);
		case 't':
			return literal(st, "true");
		case 'f':
			return literal(st, "false");
		case 'n':
			return literal(st, "null");
		default:
			return number(st);
	}
}

/* Walk a (sub)tree in text order: mark its numbers. */
static td_status
walk(strict_state *st, cJSON *item)
{
	cJSON	 *c;
	td_status r;

	if (cJSON_IsNumber(item))
	{
		if (st->next >= st->nnumbers_limit)
			return bad(st, "more numbers than the text holds (internal error)");
		if (st->marks[st->next / 8] & (1u << (st->next % 8)))
			item->type |= TD_JSON_NOT_INT_TOKEN;
		st->next++;
		return TD_OK;
	}
	for (c = item->child; c != NULL; c = c->next)
		if ((r = walk(st, c)) != TD_OK)
			return r;
	return TD_OK;
}

/* The top-level member named `name`, or NULL. */
static const td_top_member *
top_member(const strict_state *st, const char *name)
{
	size_t i;

	for (i = 0; i < st->ntop; i++)
		if (strcmp(st->top[i].name, name) == 0)
			return &st->top[i];
	return NULL;
}

/*
 * Mark the numbers of the tree td_parse_bundle_members built: only the
 * members serving reads are in it, so each starts at its own first number.
 */
static td_status
walk_members(strict_state *st, cJSON *root)
{
	cJSON	 *c;
	td_status r;

	if (!cJSON_IsObject(root))
		return walk(st, root);
	for (c = root->child; c != NULL; c = c->next)
	{
		const td_top_member *m = top_member(st, c->string);

		if (m == NULL)
			return bad(st, "a member the text does not hold (internal error)");
		st->next = m->first_number;
		st->nnumbers_limit = m->first_number + m->numbers;
		if ((r = walk(st, c)) != TD_OK)
			return r;
		if (st->next != st->nnumbers_limit)
			return bad(st, "fewer numbers than the text holds (internal error)");
	}
	return TD_OK;
}

cJSON *
td_json_parse_bundle(const char *json, size_t len, const td_limits *limits,
					 td_error *err)
{
	strict_state st;
	cJSON		*root;
	td_status	 r;
	size_t		 i;

	/* only the members serving reads are built; syntax errors as before */
	root = td_parse_bundle_members(json, len, limits, err);
	if (root == NULL)
		return NULL;
	memset(&st, 0, sizeof(st));
	st.s = (const unsigned char *) json;
	st.len = len;
	st.err = err;
	skip_ws(&st);
	r = value(&st, 0);
	if (r == TD_OK)
	{
		skip_ws(&st);
		if (st.pos != st.len)
			r = bad(&st, "data after the JSON value");
	}
	st.nnumbers_limit = st.nnumbers;
	if (r == TD_OK)
		r = walk_members(&st, root);
	tdc_free(st.marks);
	for (i = 0; i < st.ntop; i++)
		tdc_free(st.top[i].name);
	tdc_free(st.top);
	if (r != TD_OK)
	{
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}
