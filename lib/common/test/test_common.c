/*
 * test_common.c — unit tests of the common library: errors, the three ways
 * of echoing untrusted text, the allocation hooks (failures counted, the
 * realloc fallback), the buffer and the environment helpers.
 */
#include <stdlib.h>
#include <string.h>

#include "tdc.h"
#include "tdc_test.h"

int td_tests_passed = 0;
int td_tests_failed = 0;

/* ---- errors --------------------------------------------------------------- */

static void
test_errors(void)
{
	tdc_error err;
	char	  long_detail[2000];

	memset(&err, 'x', sizeof(err));
	tdc_error_clear(&err);
	test_cond("clear: status 0, empty texts",
			  err.status == 0 && err.http_status == 0 && err.message[0] == '\0' && err.detail[0] == '\0');
	test_cond("set: returns the status", tdc_error_set(&err, 7, "bad thing", "Value %d is %s.", 3, "odd") == 7);
	test_cond("set: status, message, formatted detail",
			  err.status == 7 && strcmp(err.message, "bad thing") == 0 &&
				  strcmp(err.detail, "Value 3 is odd.") == 0);
	tdc_error_set_message(&err, "other %s", "message");
	test_cond("set_message: only the message changes",
			  strcmp(err.message, "other message") == 0 && strcmp(err.detail, "Value 3 is odd.") == 0);
	test_cond("set: NULL error is allowed", tdc_error_set(NULL, 3, "m", "d") == 3);
	tdc_error_set_message(NULL, "x");
	memset(long_detail, 'd', sizeof(long_detail) - 1);
	long_detail[sizeof(long_detail) - 1] = '\0';
	tdc_error_set(&err, 1, NULL, "%s", long_detail);
	test_cond("set: a long detail is cut, NUL-terminated",
			  strlen(err.detail) == TDC_ERROR_DETAIL_LEN - 1 && err.message[0] == '\0');
}

/* ---- tdc_echo ------------------------------------------------------------- */

static void
test_echo(void)
{
	char buf[128];
	char in[200];

	test_cond("echo: plain text unchanged", strcmp(tdc_echo("abc 12", buf, sizeof(buf)), "abc 12") == 0);
	test_cond("echo: controls, non-ASCII, quotes and backslashes become '?'",
			  strcmp(tdc_echo("a\n\"\\\xc3\xa9", buf, sizeof(buf)), "a?????") == 0);
	test_cond("echo: NULL reads as empty", strcmp(tdc_echo(NULL, buf, sizeof(buf)), "") == 0);
	memset(in, 'y', sizeof(in) - 1);
	in[sizeof(in) - 1] = '\0';
	tdc_echo(in, buf, sizeof(buf));
	test_cond("echo: cut at TDC_ECHO_MAX with an ellipsis",
			  strlen(buf) == TDC_ECHO_MAX + 3 && strcmp(buf + TDC_ECHO_MAX, "...") == 0);
	test_cond("echo: a small buffer is never overrun",
			  strcmp(tdc_echo("abcdefgh", buf, 6), "abcde") == 0 &&
				  strcmp(tdc_echo("abcdefghijkl", buf, 10), "abcdef...") == 0);
	test_cond("echo: bufsize 0", strcmp(tdc_echo("abc", buf, 0), "") == 0);
}

/* ---- tdc_escape ---------------------------------------------------------- */

static bool
escapes_to(const char *in, size_t bufsize, const char *want)
{
	char buf[512];
	bool ok;

	memset(buf, 'Z', sizeof(buf));
	ok = strcmp(tdc_escape(in, buf, bufsize), want) == 0 && buf[bufsize] == 'Z';
	if (!ok)
		printf("  tdc_escape(\"%s\", %zu) = \"%s\", want \"%s\"\n", in, bufsize, buf, want);
	return ok;
}

/* Only printable ASCII, NUL-terminated within bufsize. */
static bool
printable(const char *s, size_t bufsize)
{
	size_t i;

	for (i = 0; i < bufsize && s[i] != '\0'; i++)
		if ((unsigned char) s[i] < 0x20 || (unsigned char) s[i] >= 0x7f)
			return false;
	return i < bufsize;
}

/* Every code point round-trips; every ill-formed sequence is refused without over-reading. */
static void
test_utf8(void)
{
	uint32_t cp;
	bool	 round_trip = true;
	size_t	 i;
	static const struct
	{
		const char *bytes;
		size_t		len;
	} bad[] = {
		{ "\x80", 1 },			   /* stray continuation */
		{ "\xc0\xaf", 2 },		   /* overlong */
		{ "\xe0\x80\xaf", 3 },	   /* overlong */
		{ "\xed\xa0\x80", 3 },	   /* surrogate */
		{ "\xf4\x90\x80\x80", 4 }, /* above U+10FFFF */
		{ "\xf5\x80\x80\x80", 4 },
		{ "\xe2\x82", 2 },	   /* truncated */
		{ "\xe2\x82\xac", 2 }, /* the euro sign, but only 2 bytes available */
		{ "\xe2\x00\xac", 3 }, /* a NUL inside */
	};

	for (cp = 0; cp <= 0x10FFFF; cp++)
	{
		char	 buf[4];
		uint32_t back = 0;
		size_t	 n;

		if (cp >= 0xD800 && cp <= 0xDFFF)
			continue;
		n = tdc_utf8_encode(cp, buf);
		if (tdc_utf8_decode((const unsigned char *) buf, n, &back) != n || back != cp ||
			n != (size_t) (cp < 0x80 ? 1 : cp < 0x800 ? 2 :
									   cp < 0x10000	  ? 3 :
														4))
			round_trip = false;
	}
	test_cond("every code point encodes and decodes back", round_trip);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		char what[64];

		snprintf(what, sizeof what, "ill-formed UTF-8 #%zu is refused", i);
		test_cond(what, tdc_utf8_decode((const unsigned char *) bad[i].bytes, bad[i].len, &cp) == 0);
	}
	test_cond("nothing to read is refused", tdc_utf8_decode((const unsigned char *) "a", 0, &cp) == 0);
}

static void
test_escape(void)
{
	char		 buf[256];
	char		 in[600];
	unsigned int seed = 1;
	bool		 all_printable = true;
	int			 i;
	int			 k;

	test_cond("escape: plain text unchanged", escapes_to("ride-256 abc", 64, "ride-256 abc"));
	test_cond("escape: quote and backslash", escapes_to("a\"b\\c", 64, "a\\\"b\\\\c"));
	test_cond("escape: a newline cannot start a forged line",
			  escapes_to("4965\nERROR forged", 64, "4965\\nERROR forged"));
	test_cond("escape: \\r \\t, other controls and DEL",
			  escapes_to("\r\t\x01\x1b[2J\x7f", 64, "\\r\\t\\u0001\\u001b[2J\\u007f"));
	test_cond("escape: valid UTF-8 as \\uXXXX",
			  escapes_to("\xc3\xa9\xe2\x82\xac\xe2\x80\xa8", 64, "\\u00e9\\u20ac\\u2028"));
	test_cond("escape: C1 control (NEL) as \\u0085", escapes_to("\xc2\x85", 64, "\\u0085"));
	test_cond("escape: above U+FFFF as a surrogate pair",
			  escapes_to("\xf0\x9f\x98\x80", 64, "\\ud83d\\ude00"));
	test_cond("escape: invalid bytes as \\xHH",
			  escapes_to("\xff\x80", 64, "\\xff\\x80"));
	test_cond("escape: overlong and surrogate forms are invalid",
			  escapes_to("\xc0\xaf\xed\xa0\x80", 64, "\\xc0\\xaf\\xed\\xa0\\x80"));
	test_cond("escape: above U+10FFFF is invalid",
			  escapes_to("\xf4\x90\x80\x80", 64, "\\xf4\\x90\\x80\\x80"));
	test_cond("escape: a sequence cut by the end is invalid",
			  escapes_to("a\xe2\x82", 64, "a\\xe2\\x82"));
	test_cond("escape: NULL reads as empty", escapes_to(NULL, 8, ""));
	test_cond("escape: exact fit, no ellipsis", escapes_to("abcdefg", 8, "abcdefg"));
	test_cond("escape: cut with an ellipsis", escapes_to("abcdefgh", 8, "abcd..."));
	test_cond("escape: never cut inside an escape sequence",
			  escapes_to("abcdef\n", 8, "abcd...") && escapes_to("abcde\n", 8, "abcde\\n") &&
				  escapes_to("ab\xe2\x82\xacxyzw", 12, "ab\\u20ac...") &&
				  escapes_to("\n\n\n\n", 8, "\\n\\n..."));
	test_cond("escape: tiny buffers", escapes_to("abc", 1, "") && escapes_to("abc", 3, "ab"));
	buf[0] = 'Z';
	test_cond("escape: bufsize 0 writes nothing", strcmp(tdc_escape("abc", buf, 0), "") == 0 &&
													  buf[0] == 'Z');
	/* random bytes, random caps: always printable ASCII within the cap */
	for (k = 0; k < 20000; k++)
	{
		size_t len = (size_t) (rand_r(&seed) % 80);
		size_t cap = 1 + (size_t) (rand_r(&seed) % 64);

		for (i = 0; i < (int) len; i++)
			in[i] = (char) (1 + rand_r(&seed) % 255);
		in[len] = '\0';
		memset(buf, 'Z', sizeof(buf));
		tdc_escape(in, buf, cap);
		if (!printable(buf, cap) || buf[cap] != 'Z')
			all_printable = false;
	}
	test_cond("escape: 20000 random inputs give printable ASCII within the cap", all_printable);
}

/* ---- tdc_redact_userinfo -------------------------------------------------- */

static void
test_redact(void)
{
	char buf[128];

	test_cond("redact user info",
			  strcmp(tdc_redact_userinfo("GET http://u:p@h:1/x?q=a@b and https://t@k/", buf, sizeof(buf)),
					 "GET http://h:1/x?q=a@b and https://k/") == 0);
	test_cond("redact keeps plain text",
			  strcmp(tdc_redact_userinfo("models:/m@a s3://b/k@1", buf, sizeof(buf)),
					 "models:/m@a s3://b/k@1") == 0);
	test_cond("redact truncates", strcmp(tdc_redact_userinfo("abcdef", buf, 4), "abc") == 0);
	test_cond("redact: no scheme, no change", strcmp(tdc_redact_userinfo("a@b", buf, sizeof(buf)), "a@b") == 0);
}

/* ---- allocation hooks ------------------------------------------------------- */

static void
test_alloc(void)
{
	tdc_allocator		  hooks = tdc_test_hooks(0);
	tdc_test_alloc_state *alloc = tdc_test_alloc();
	unsigned long		  failures;
	unsigned char		 *z;
	tdc_buf				  buf = { 0 };
	bool				  ok = true;
	int					  i;

	tdc_set_allocator(&hooks);
	z = tdc_calloc_array(16, 4);
	test_cond("calloc_array: zeroed, through the hook", z != NULL && z[0] == 0 && z[63] == 0 && alloc->live == 1);
	tdc_free(z);
	test_cond("free: through the hook", alloc->live == 0);
	test_cond("calloc_array: overflow is NULL", tdc_calloc_array((size_t) -1, 16) == NULL);
	/* no realloc hook: the buffer grows by malloc + copy + free */
	for (i = 0; i < 1000 && ok; i++)
		ok = tdc_buf_append_str(&buf, "0123456789");
	test_cond("buf: grows without a realloc hook, content kept",
			  ok && buf.len == 10000 && memcmp(buf.data + 9990, "0123456789", 10) == 0 && alloc->live == 1);
	failures = tdc_alloc_failures();
	alloc->fail_at = alloc->calls;
	test_cond("buf: a failed growth leaves the buffer unchanged",
			  !tdc_buf_append(&buf, buf.data, buf.len) && buf.len == 10000 && alloc->live == 1);
	test_cond("failures are counted", tdc_alloc_failures() == failures + 1);
	alloc->fail_at = -1;
	tdc_buf_free(&buf);
	test_cond("buf_free: everything returned", alloc->live == 0 && buf.data == NULL && buf.len == 0);
	tdc_set_allocator(NULL);
	z = tdc_malloc(0);
	test_cond("NULL allocator: the C library again (malloc(0) is not NULL)", z != NULL && alloc->live == 0);
	tdc_free(z);
	tdc_free(NULL);
}

/* ---- buffer ------------------------------------------------------------------- */

static void
test_buf(void)
{
	tdc_buf buf = { 0 };

	test_cond("buf: empty append gives an empty string", tdc_buf_append(&buf, "", 0) && strcmp(buf.data, "") == 0);
	test_cond("buf: printf", tdc_buf_printf(&buf, "%s=%d;", "n", 42) && strcmp(buf.data, "n=42;") == 0);
	test_cond("buf: urlenc keeps unreserved, encodes the rest",
			  tdc_buf_append_urlenc(&buf, "a-b_c.d~e f/g@h\xc3\xa9") &&
				  strcmp(buf.data, "n=42;a-b_c.d~e%20f%2Fg%40h%C3%A9") == 0);
	tdc_buf_reset(&buf);
	test_cond("buf: reset keeps memory, empties", buf.len == 0 && buf.data != NULL && buf.data[0] == '\0');
	test_cond("buf: embedded NUL bytes kept", tdc_buf_append(&buf, "a\0b", 3) && buf.len == 3 && buf.data[2] == 'b');
	tdc_buf_free(&buf);
}

/* ---- environment -------------------------------------------------------------- */

static void
test_env(void)
{
	bool invalid;

	setenv("TDC_TEST_SET", "value", 1);
	setenv("TDC_TEST_EMPTY", "", 1);
	unsetenv("TDC_TEST_UNSET");
	test_cond("env_or: set", strcmp(tdc_env_or("TDC_TEST_SET", "d"), "value") == 0);
	test_cond("env_or: empty is unset", strcmp(tdc_env_or("TDC_TEST_EMPTY", "d"), "d") == 0);
	test_cond("env_or: unset", tdc_env_or("TDC_TEST_UNSET", NULL) == NULL);
	setenv("TDC_TEST_N", "250", 1);
	test_cond("env_long: in range", tdc_env_long("TDC_TEST_N", 5, 1, 1000, &invalid) == 250 && !invalid);
	test_cond("env_long: unset is the fallback, not invalid",
			  tdc_env_long("TDC_TEST_UNSET", 5, 1, 1000, &invalid) == 5 && !invalid);
	setenv("TDC_TEST_N", "0", 1);
	test_cond("env_long: below min", tdc_env_long("TDC_TEST_N", 5, 1, 1000, &invalid) == 5 && invalid);
	setenv("TDC_TEST_N", "12abc", 1);
	test_cond("env_long: trailing garbage", tdc_env_long("TDC_TEST_N", 5, 1, 1000, &invalid) == 5 && invalid);
	setenv("TDC_TEST_N", "99999999999999999999999", 1);
	test_cond("env_long: overflow", tdc_env_long("TDC_TEST_N", 5, 1, 1000, &invalid) == 5 && invalid);
	test_cond("env_long: invalid pointer optional", tdc_env_long("TDC_TEST_N", 7, 1, 1000, NULL) == 7);
}

int
main(void)
{
	test_errors();
	test_echo();
	test_escape();
	test_utf8();
	test_redact();
	test_alloc();
	test_buf();
	test_env();
	test_report();
	return td_tests_failed == 0 ? 0 : 1;
}
