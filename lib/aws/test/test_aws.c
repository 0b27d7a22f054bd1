/*
 * test_aws.c — tests of the AWS library's fetching (S3, MLflow) and single
 * PutRecords call against real servers (the sender: test_sender.c).
 *
 * Run by lib/aws/test/run.sh, which starts moto (with signature checking)
 * and MLflow through tests/lib/servers.py, publishes the fixtures with
 * setup_fixtures.py and passes everything through the environment
 * (servers.py's env file, plus TDT_FIXTURES, TDT_RUN_ID_1/2).  The fault
 * tests stop moto (SIGSTOP, then SIGCONT) and finally MLflow (SIGTERM).
 * Without servers (no AWS_ENDPOINT_URL) only the offline tests run: URI
 * parsing, tda_echo, and cancelling a PutRecords that a fault injector
 * (a socket that accepts connections and never answers) leaves hanging.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <curl/curl.h>

#include "tda_internal.h"
#include "tda_aws.h"
#include "tdc_test.h" /* test_cond(), test_report() */

int td_tests_passed = 0;
int td_tests_failed = 0;

static const char *secret;
static const char *bucket;
static char		   fixtures[512];

/* ---- helpers ---------------------------------------------------------- */

/* Every error must be free of the secret, token and authorization header. */
static void
check_clean(const char *what, const tda_error *err)
{
	char d[256];

	snprintf(d, sizeof(d), "%s: no secret in message/detail", what);
	test_cond(d, !tdc_test_contains(err->message, secret) && !tdc_test_contains(err->detail, secret) &&
					 !tdc_test_contains(err->detail, "s3cr3t-token") &&
					 !tdc_test_contains(err->detail, "bearer-t0ken") &&
					 !tdc_test_contains(err->detail, "Authorization") &&
					 !tdc_test_contains(err->detail, "Credential="));
	snprintf(d, sizeof(d), "%s: message set", what);
	test_cond(d, err->status == TDA_OK || err->message[0] != '\0');
}

static tda_config
base_config(void)
{
	tda_config c;

	memset(&c, 0, sizeof(c));
	tda_config_from_env(&c);
	c.connect_timeout_ms = 2000;
	c.timeout_ms = 20000;
	c.max_bytes = 16 * 1024 * 1024;
	return c;
}

static tda_status
fetch(const tda_config *c, const char *uri, tda_result *r, tda_error *e)
{
	tda_status st = tda_fetch(c, uri, r, e);

	if (getenv("TDT_VERBOSE") != NULL)
		printf("  %s -> %s [%ld] %s | %s\n", uri, tda_status_name(st),
			   e->http_status, e->message, e->detail);
	check_clean(uri, e);
	if (st != TDA_OK)
	{
		char d[256];

		snprintf(d, sizeof(d), "%s: failure leaves result empty", uri);
		test_cond(d, r->data == NULL && r->len == 0);
	}
	return st;
}

static char *
s3uri(const char *key)
{
	static char buf[4][512];
	static int	i = 0;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "s3://%s/%s", bucket, key);
	return buf[i];
}

static int
closed_port(void)
{
	struct sockaddr_in a;
	socklen_t		   len = sizeof(a);
	int				   fd = socket(AF_INET, SOCK_STREAM, 0);
	int				   port;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(fd, (struct sockaddr *) &a, sizeof(a));
	getsockname(fd, (struct sockaddr *) &a, &len);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static int
cancel_now(void *arg)
{
	(void) arg;
	return 1;
}

static int
cancel_after(void *arg)
{
	int *calls = arg;

	return ++*calls > 3;
}

/* ---- tda_echo (tdc_escape itself is tested in lib/common) ---------------- */

static void
test_echo(void)
{
	char buf[256];
	char in[600];

	memset(in, 'x', sizeof(in) - 1);
	in[sizeof(in) - 1] = '\0';
	tda_echo(in, buf, sizeof(buf));
	test_cond("echo: cut at TDA_ECHO_MAX with an ellipsis",
			  strlen(buf) == TDA_ECHO_MAX + 3 && strcmp(buf + TDA_ECHO_MAX, "...") == 0);
	test_cond("echo: escapes like tdc_escape",
			  strcmp(tda_echo("a\"\n\xff", buf, sizeof(buf)), "a\\\"\\n\\xff") == 0);
}

/* ---- Kinesis PutRecords cancelled while it hangs -------------------------- */

/*
 * FAULT INJECTOR: a listening socket that is never accepted from.  The
 * kernel completes the TCP handshake, so libcurl sends its request and then
 * waits for an answer that never comes, as it would from a hung Kinesis.
 */
static int
hanging_listener(int *port)
{
	struct sockaddr_in a;
	socklen_t		   len = sizeof(a);
	int				   fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *) &a, sizeof(a)) != 0 || listen(fd, 8) != 0 ||
		getsockname(fd, (struct sockaddr *) &a, &len) != 0)
	{
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

static double cancel_at;

static int
cancel_after_time(void *arg)
{
	int *calls = arg;

	(*calls)++;
	return tdc_test_now_s() >= cancel_at;
}

static void
test_kinesis_cancel(void)
{
	tda_config	   c;
	tda_record	   rec = { "{\"ride_id\": 1}", 14, "1" };
	tda_put_result res;
	tda_error	   e;
	tda_status	   st;
	char		   ep[64];
	int			   port = 0;
	int			   calls = 0;
	int			   fd = hanging_listener(&port);
	double		   t0;

	test_cond("fault injector: hanging listener", fd >= 0);
	if (fd < 0)
		return;
	snprintf(ep, sizeof(ep), "http://127.0.0.1:%d", port);
	memset(&c, 0, sizeof(c));
	c.aws_region = "eu-north-1";
	c.aws_endpoint_url = ep;
	c.aws_access_key_id = "AKIDTESTTESTTEST";
	c.aws_secret_access_key = "test-secret-0123456789";
	c.timeout_ms = 30000;
	c.cancel = cancel_now;
	t0 = tdc_test_now_s();
	st = tda_kinesis_put_records(&c, "stg_taxi_trip_events", &rec, 1, &res, &e);
	test_cond("kinesis: cancel before the call -> cancelled", st == TDA_ERR_CANCELLED);
	test_cond("kinesis: cancelled call names the stream", tdc_test_contains(e.detail, "stg_taxi_trip_events"));

	c.cancel = cancel_after_time;
	c.cancel_arg = &calls;
	cancel_at = tdc_test_now_s() + 1.0;
	t0 = tdc_test_now_s();
	st = tda_kinesis_put_records(&c, "stg_taxi_trip_events", &rec, 1, &res, &e);
	t0 = tdc_test_now_s() - t0;
	if (getenv("TDT_VERBOSE") != NULL)
		printf("  hung PutRecords -> %s after %.2f s, %d polls: %s\n", tda_status_name(st), t0,
			   calls, e.detail);
	test_cond("kinesis: hung PutRecords cancelled while waiting for the answer",
			  st == TDA_ERR_CANCELLED && calls > 1);
	/* a functional bound, far below the 30 s timeout */
	test_cond("kinesis: cancel ends the call well before its timeout", t0 < 10.0);
	close(fd);
}

/* ---- offline tests ----------------------------------------------------- */

static void
test_offline(void)
{
	static const char *bad[] = {
		"s3://", "s3://bucket", "s3://bucket/", "s3://b/k", "s3://bucket/k?x",
		"s3://bucket/a key", "s3://bucket/k#f", "s3://Bucket/k", "s3://bucket/a/../b",
		"s3://bucket/./b", "s3://bucket/a//b", "s3://-bucket/k", "s3://bucket/k%20",
		"models:/", "models:/x", "models://x/1", "models:/x/", "models:/x@",
		"models:/x/latest", "models:/x/Production", "models:/x@a b", "models:/x@a/b",
		"http://example.com/bundle.json", "", "file:///etc/passwd", "S3://bucket/k",
		NULL
	};
	tda_config c;
	tda_result r;
	tda_error  e;
	tda_uri	   u;
	char	   hex[65];
	char	   d[256];
	char	   longuri[1100];
	int		   i;

	for (i = 0; bad[i] != NULL; i++)
	{
		snprintf(d, sizeof(d), "bad URI \"%s\" -> TDA_ERR_URI", bad[i]);
		test_cond(d, tda_uri_parse(bad[i], &u, &e) == TDA_ERR_URI &&
						 e.status == TDA_ERR_URI && e.detail[0] != '\0');
	}
	memset(longuri, 'a', sizeof(longuri) - 1);
	memcpy(longuri, "s3://bucket/", 12);
	longuri[sizeof(longuri) - 1] = '\0';
	test_cond("over-long URI refused", tda_uri_parse(longuri, &u, &e) == TDA_ERR_URI);
	test_cond("s3 URI parses", tda_uri_parse("s3://rll-models-dev/m/1/bundle.json", &u, &e) == TDA_OK &&
								   u.kind == TDA_URI_S3 && strcmp(u.bucket, "rll-models-dev") == 0 &&
								   strcmp(u.key, "m/1/bundle.json") == 0);
	test_cond("alias URI parses", tda_uri_parse("models:/taxi duration@champion", &u, &e) == TDA_OK &&
									  u.kind == TDA_URI_MODEL_ALIAS && strcmp(u.name, "taxi duration") == 0 &&
									  strcmp(u.ref, "champion") == 0);
	test_cond("version URI parses", tda_uri_parse("models:/taxi/12", &u, &e) == TDA_OK &&
										u.kind == TDA_URI_MODEL_VERSION && strcmp(u.ref, "12") == 0);

	tda_sha256_hex("abc", 3, hex);
	test_cond("sha256(abc)", strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0);
	tda_sha256_hex(NULL, 0, hex);
	test_cond("sha256(empty)", strcmp(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == 0);
	test_cond("status names", strcmp(tda_status_name(TDA_ERR_CHECKSUM), "TDA_ERR_CHECKSUM") == 0 &&
								  strcmp(tda_status_name((tda_status) 99), "TDA_ERR_UNKNOWN") == 0);

	/* Through tda_fetch too: URI errors come before any configuration. */
	memset(&c, 0, sizeof(c));
	c.max_bytes = 1000;
	test_cond("tda_fetch bad URI", tda_fetch(&c, "s3://bucket/k?x", &r, &e) == TDA_ERR_URI &&
									   r.data == NULL);
	test_cond("tda_fetch NULL URI", tda_fetch(&c, NULL, &r, &e) == TDA_ERR_URI);
	c.max_bytes = 0;
	test_cond("max_bytes 0 -> config", tda_fetch(&c, "s3://bucket/k", &r, &e) == TDA_ERR_CONFIG);
	c.max_bytes = 1000;
	test_cond("no region -> config", tda_fetch(&c, "s3://bucket/k", &r, &e) == TDA_ERR_CONFIG);
	c.aws_region = "eu-north-1";
	test_cond("no credentials -> config", tda_fetch(&c, "s3://bucket/k", &r, &e) == TDA_ERR_CONFIG &&
											  tdc_test_contains(e.detail, "AWS_ACCESS_KEY_ID"));
	c.aws_access_key_id = "AKIAEXAMPLE";
	test_cond("no secret -> config", tda_fetch(&c, "s3://bucket/k", &r, &e) == TDA_ERR_CONFIG);
	c.aws_secret_access_key = "very-secret";
	c.aws_endpoint_url = "ftp://127.0.0.1:1";
	test_cond("ftp endpoint -> config", tda_fetch(&c, "s3://bucket/k", &r, &e) == TDA_ERR_CONFIG);
	c.aws_endpoint_url = "http://user:pw@127.0.0.1:1";
	c.connect_timeout_ms = 2000;
	test_cond("endpoint credentials not echoed",
			  tda_fetch(&c, "s3://bucket/k", &r, &e) == TDA_ERR_UNREACHABLE &&
				  !tdc_test_contains(e.detail, "pw@") && !tdc_test_contains(e.detail, "very-secret"));
	test_cond("no tracking URI -> config", tda_fetch(&c, "models:/m@a", &r, &e) == TDA_ERR_CONFIG &&
											   tdc_test_contains(e.detail, "MLFLOW_TRACKING_URI"));
	c.mlflow_tracking_uri = "databricks";
	test_cond("non-http tracking URI -> config", tda_fetch(&c, "models:/m/1", &r, &e) == TDA_ERR_CONFIG);
	test_cond("resolve of s3:// -> URI", tda_resolve_model(&c, "s3://bucket/k", &r, &e) == TDA_ERR_URI);
	c.mlflow_tracking_uri = "http://alice:pa55word@127.0.0.1:1/mlflow";
	test_cond("tracking URI credentials not echoed",
			  tda_fetch(&c, "models:/m/1", &r, &e) == TDA_ERR_UNREACHABLE &&
				  tdc_test_contains(e.detail, "127.0.0.1:1/mlflow") && !tdc_test_contains(e.detail, "pa55word") &&
				  !tdc_test_contains(e.detail, "alice"));
	test_cond("URI credentials not echoed",
			  tda_fetch(&c, "s3://alice:pa55word@bucket/k", &r, &e) == TDA_ERR_URI &&
				  !tdc_test_contains(e.detail, "pa55word") && !tdc_test_contains(e.detail, "alice"));
	{
		char buf[128];

		test_cond("echo redacts user info",
				  strcmp(tda_echo("x http://u:p@h/", buf, sizeof(buf)), "x http://h/") == 0);
	}

	/* The MLflow parser on its own. */
	{
		tda_model_version mv;
		const char		 *ok = "{\"model_version\":{\"version\":\"7\",\"run_id\":\"r\",\"tags\":["
							   "{\"key\":\"bundle_uri\",\"value\":\"s3://bkt/m/7/bundle.json\"},"
							   "{\"key\":\"bundle_sha256\",\"value\":\"BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD\"}]}}";
		const char		 *notag = "{\"model_version\":{\"version\":\"7\",\"tags\":[]}}";
		const char		 *badtag = "{\"model_version\":{\"version\":\"7\",\"tags\":["
								   "{\"key\":\"bundle_uri\",\"value\":\"s3://bkt/a b\"},"
								   "{\"key\":\"bundle_sha256\",\"value\":\"x\"}]}}";

		test_cond("parse ok", tda_mlflow_parse_version(ok, strlen(ok), "m", &mv, &e) == TDA_OK &&
								  strcmp(mv.version, "7") == 0 &&
								  strcmp(mv.bundle_sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0);
		test_cond("parse no tags", tda_mlflow_parse_version(notag, strlen(notag), "m", &mv, &e) == TDA_ERR_PROTOCOL &&
									   tdc_test_contains(e.detail, "not published"));
		test_cond("parse bad tag", tda_mlflow_parse_version(badtag, strlen(badtag), "m", &mv, &e) == TDA_ERR_PROTOCOL);
		test_cond("parse not JSON", tda_mlflow_parse_version("{", 1, "m", &mv, &e) == TDA_ERR_PROTOCOL);
		test_cond("parse truncated", tda_mlflow_parse_version(ok, 20, "m", &mv, &e) == TDA_ERR_PROTOCOL);
	}
}

/* ---- S3 ---------------------------------------------------------------- */

static void
test_s3(void)
{
	tda_config c = base_config();
	tda_config c2;
	tda_result r;
	tda_error  e;
	size_t	   alen = 0;
	size_t	   clen = 0;
	char	  *a = tdc_test_read_file(fixtures, "a.json", &alen);
	char	  *cbody = tdc_test_read_file(fixtures, "c.json", &clen);
	char	   hex[65];
	int		   calls;
	double	   t0;

	test_cond("fixtures readable", a != NULL && cbody != NULL);
	if (a == NULL || cbody == NULL)
		return;

	test_cond("s3 GET with metadata", fetch(&c, s3uri("taxi-duration/1/bundle.json"), &r, &e) == TDA_OK &&
										  r.len == alen && memcmp(r.data, a, alen) == 0 && r.data[r.len] == '\0');
	tda_sha256_hex(a, alen, hex);
	test_cond("s3 sha256 reported", strcmp(r.sha256, hex) == 0);
	test_cond("s3 resolved_uri", strcmp(r.resolved_uri, s3uri("taxi-duration/1/bundle.json")) == 0 &&
									 r.model_version[0] == '\0' && r.run_id[0] == '\0');
	tda_result_free(&r);
	test_cond("result freed", r.data == NULL);

	test_cond("s3 GET without metadata", fetch(&c, s3uri("plain/bundle.json"), &r, &e) == TDA_OK &&
											 r.len == clen && memcmp(r.data, cbody, clen) == 0);
	tda_result_free(&r);

	test_cond("metadata mismatch -> checksum", fetch(&c, s3uri("corrupt/bundle.json"), &r, &e) == TDA_ERR_CHECKSUM &&
												   tdc_test_contains(e.detail, "x-amz-meta-sha256"));
	test_cond("missing key -> not found", fetch(&c, s3uri("nope/bundle.json"), &r, &e) == TDA_ERR_NOT_FOUND &&
											  e.http_status == 404 && tdc_test_contains(e.detail, "NoSuchKey") &&
											  tdc_test_contains(e.detail, "nope/bundle.json") && tdc_test_contains(e.detail, "404"));
	test_cond("missing bucket -> not found", fetch(&c, "s3://no-such-bucket-td/k.json", &r, &e) == TDA_ERR_NOT_FOUND &&
												 tdc_test_contains(e.detail, "NoSuchBucket") && tdc_test_contains(e.message, "no-such-bucket-td"));

	c2 = c;
	c2.aws_secret_access_key = "wrong-secret-0123456789";
	secret = c2.aws_secret_access_key;
	test_cond("wrong secret -> denied", fetch(&c2, s3uri("taxi-duration/1/bundle.json"), &r, &e) == TDA_ERR_DENIED &&
											e.http_status == 403 && tdc_test_contains(e.detail, "SignatureDoesNotMatch"));
	c2.aws_session_token = "s3cr3t-token";
	test_cond("wrong secret + token -> denied", fetch(&c2, s3uri("taxi-duration/1/bundle.json"), &r, &e) == TDA_ERR_DENIED);
	secret = c.aws_secret_access_key;
	c2 = c;
	c2.aws_access_key_id = "AKIAUNKNOWNKEY000000";
	test_cond("unknown access key -> denied", fetch(&c2, s3uri("taxi-duration/1/bundle.json"), &r, &e) == TDA_ERR_DENIED &&
												  tdc_test_contains(e.detail, "InvalidAccessKeyId"));
	c2 = c;
	c2.aws_access_key_id = NULL;
	c2.aws_secret_access_key = NULL;
	test_cond("no credentials -> config", fetch(&c2, s3uri("taxi-duration/1/bundle.json"), &r, &e) == TDA_ERR_CONFIG);

	c2 = c;
	c2.max_bytes = 1000;
	test_cond("small object over max_bytes -> too large", fetch(&c2, s3uri("small/bundle.json"), &r, &e) == TDA_ERR_TOO_LARGE &&
															  tdc_test_contains(e.detail, "4096"));
	c2.max_bytes = 4096;
	test_cond("object of exactly max_bytes ok", fetch(&c2, s3uri("small/bundle.json"), &r, &e) == TDA_OK &&
													r.len == 4096);
	tda_result_free(&r);
	c2.max_bytes = 1024 * 1024;
	t0 = tdc_test_now_s();
	test_cond("100 MiB object -> too large", fetch(&c2, s3uri("big/bundle.json"), &r, &e) == TDA_ERR_TOO_LARGE &&
												 tdc_test_contains(e.detail, "104857600"));
	test_cond("100 MiB object refused quickly (Content-Length)", tdc_test_now_s() - t0 < 1.5);

	c2 = c;
	c2.cancel = cancel_now;
	test_cond("cancel -> cancelled", fetch(&c2, s3uri("taxi-duration/1/bundle.json"), &r, &e) == TDA_ERR_CANCELLED);
	c2.max_bytes = 200 * 1024 * 1024;
	calls = 0;
	c2.cancel = cancel_after;
	c2.cancel_arg = &calls;
	t0 = tdc_test_now_s();
	test_cond("cancel during a 100 MiB download", fetch(&c2, s3uri("big/bundle.json"), &r, &e) == TDA_ERR_CANCELLED &&
													  calls == 4);
	test_cond("cancel is prompt", tdc_test_now_s() - t0 < 5);

	c2 = c;
	{
		char ep[64];

		snprintf(ep, sizeof(ep), "http://127.0.0.1:%d", closed_port());
		c2.aws_endpoint_url = ep;
		t0 = tdc_test_now_s();
		test_cond("nothing listening -> unreachable", fetch(&c2, s3uri("taxi-duration/1/bundle.json"), &r, &e) == TDA_ERR_UNREACHABLE &&
														  e.http_status == 0 && tdc_test_contains(e.detail, "127.0.0.1"));
		test_cond("unreachable is fast", tdc_test_now_s() - t0 < 1.0);
	}
	c2 = c;
	c2.aws_endpoint_url = NULL;
	c2.aws_region = "eu-north-1";
	c2.connect_timeout_ms = 1500;
	c2.timeout_ms = 2000;
	test_cond("AWS host unresolvable offline -> unreachable/timeout",
			  (fetch(&c2, "s3://rll-models-dev/m/bundle.json", &r, &e) == TDA_ERR_UNREACHABLE ||
			   e.status == TDA_ERR_TIMEOUT) &&
				  tdc_test_contains(e.detail, "rll-models-dev.s3.eu-north-1.amazonaws.com"));

	free(a);
	free(cbody);
}

/* ---- MLflow ------------------------------------------------------------ */

static size_t
discard(char *data, size_t size, size_t nmemb, void *arg)
{
	(void) data;
	(void) arg;
	return size * nmemb;
}

static bool
set_alias(const char *alias, const char *version)
{
	CURL			  *curl = curl_easy_init();
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	char			   url[512];
	char			   body[256];
	long			   code = 0;
	CURLcode		   rc;

	snprintf(url, sizeof(url), "%s/api/2.0/mlflow/registered-models/alias",
			 getenv("MLFLOW_TRACKING_URI"));
	snprintf(body, sizeof(body), "{\"name\":\"taxi-duration\",\"alias\":\"%s\",\"version\":\"%s\"}",
			 alias, version);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
	rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(h);
	curl_easy_cleanup(curl);
	return rc == CURLE_OK && code == 200;
}

static void
test_mlflow(void)
{
	tda_config	c = base_config();
	tda_config	c2;
	tda_result	r;
	tda_error	e;
	size_t		alen = 0;
	size_t		blen = 0;
	char	   *a = tdc_test_read_file(fixtures, "a.json", &alen);
	char	   *b = tdc_test_read_file(fixtures, "b.json", &blen);
	const char *run1 = getenv("TDT_RUN_ID_1");
	const char *run2 = getenv("TDT_RUN_ID_2");
	char		expect[512];
	char		hex[65];

	test_cond("fixtures readable", a != NULL && b != NULL && run1 != NULL && run2 != NULL);
	if (a == NULL || b == NULL || run1 == NULL || run2 == NULL)
		return;
	snprintf(expect, sizeof(expect), "s3://%s/taxi-duration/1/bundle.json", bucket);

	test_cond("models:/name@alias", fetch(&c, "models:/taxi-duration@champion", &r, &e) == TDA_OK &&
										r.len == alen && memcmp(r.data, a, alen) == 0 &&
										strcmp(r.resolved_uri, expect) == 0 && strcmp(r.model_version, "1") == 0 &&
										strcmp(r.run_id, run1) == 0);
	tda_sha256_hex(a, alen, hex);
	test_cond("alias sha256", strcmp(r.sha256, hex) == 0);
	tda_result_free(&r);

	snprintf(expect, sizeof(expect), "s3://%s/taxi-duration/2/bundle.json", bucket);
	test_cond("models:/name/version", fetch(&c, "models:/taxi-duration/2", &r, &e) == TDA_OK &&
										  r.len == blen && memcmp(r.data, b, blen) == 0 &&
										  strcmp(r.resolved_uri, expect) == 0 && strcmp(r.model_version, "2") == 0 &&
										  strcmp(r.run_id, run2) == 0);
	tda_result_free(&r);

	test_cond("resolve without download", tda_resolve_model(&c, "models:/taxi-duration@champion", &r, &e) == TDA_OK &&
											  r.data == NULL && strcmp(r.model_version, "1") == 0 && strcmp(r.sha256, hex) == 0);
	tda_result_free(&r);

	test_cond("move alias to version 2", set_alias("champion", "2"));
	test_cond("moved alias resolves to version 2",
			  tda_resolve_model(&c, "models:/taxi-duration@champion", &r, &e) == TDA_OK &&
				  strcmp(r.model_version, "2") == 0 && strcmp(r.resolved_uri, expect) == 0);
	tda_result_free(&r);
	test_cond("moved alias fetches version 2", fetch(&c, "models:/taxi-duration@champion", &r, &e) == TDA_OK &&
												   r.len == blen && memcmp(r.data, b, blen) == 0 && strcmp(r.run_id, run2) == 0);
	tda_result_free(&r);

	test_cond("missing alias -> not found", fetch(&c, "models:/taxi-duration@nope", &r, &e) == TDA_ERR_NOT_FOUND &&
												tdc_test_contains(e.detail, "nope"));
	test_cond("missing model -> not found", fetch(&c, "models:/no-such-model@champion", &r, &e) == TDA_ERR_NOT_FOUND &&
												e.http_status == 404);
	test_cond("missing version -> not found", fetch(&c, "models:/taxi-duration/99", &r, &e) == TDA_ERR_NOT_FOUND);
	test_cond("version without tags -> protocol", fetch(&c, "models:/taxi-duration/3", &r, &e) == TDA_ERR_PROTOCOL &&
													  tdc_test_contains(e.detail, "not published by the model pipeline"));
	test_cond("alias to untagged version -> protocol",
			  fetch(&c, "models:/taxi-duration@unpublished", &r, &e) == TDA_ERR_PROTOCOL);
	test_cond("registry sha256 mismatch -> checksum",
			  fetch(&c, "models:/taxi-duration@tampered", &r, &e) == TDA_ERR_CHECKSUM &&
				  tdc_test_contains(e.detail, "registry"));
	c2 = c;
	c2.mlflow_tracking_token = "bearer-t0ken";
	test_cond("bearer token accepted", fetch(&c2, "models:/taxi-duration/1", &r, &e) == TDA_OK);
	tda_result_free(&r);
	c2 = c;
	c2.aws_secret_access_key = "wrong-secret-0123456789";
	secret = c2.aws_secret_access_key;
	test_cond("models:/ with wrong S3 secret -> denied",
			  fetch(&c2, "models:/taxi-duration/1", &r, &e) == TDA_ERR_DENIED);
	secret = c.aws_secret_access_key;
	c2 = c;
	c2.cancel = cancel_now;
	test_cond("models:/ cancel", fetch(&c2, "models:/taxi-duration/1", &r, &e) == TDA_ERR_CANCELLED);
	free(a);
	free(b);
}

/* ---- allocation failures ------------------------------------------------ */

static void
nomem_sweep(const char *uri)
{
	tdc_allocator		  hooks = tdc_test_hooks(1);
	tdc_test_alloc_state *alloc = tdc_test_alloc();
	tda_config			  c = base_config();
	tda_result			  r;
	tda_error			  e;
	tda_status			  st;
	long				  k;
	bool				  all_nomem = true;
	bool				  no_leak = true;
	bool				  finished = false;
	char				  d[256];

	tdc_set_allocator(&hooks);
	for (k = 0; k < 200 && !finished; k++)
	{
		alloc->calls = 0;
		alloc->fail_at = k;
		alloc->live = 0;
		st = tda_fetch(&c, uri, &r, &e);
		if (st == TDA_OK)
		{
			finished = true;
			tda_result_free(&r);
		}
		else if (st != TDA_ERR_NOMEM)
		{
			all_nomem = false;
			printf("  fail_at %ld: %s %s\n", k, tda_status_name(st), e.detail);
		}
		if (alloc->live != 0)
			no_leak = false;
	}
	alloc->fail_at = -1;
	tdc_set_allocator(NULL);
	snprintf(d, sizeof(d), "%s: every failed allocation -> TDA_ERR_NOMEM", uri);
	test_cond(d, all_nomem);
	snprintf(d, sizeof(d), "%s: no leak after any failure", uri);
	test_cond(d, no_leak);
	snprintf(d, sizeof(d), "%s: succeeds once allocations do (%ld tried)", uri, k);
	test_cond(d, finished && k > 1);
}

/* ---- faults ------------------------------------------------------------ */

static void
test_moto_paused(void)
{
	tda_config c = base_config();
	tda_result r;
	tda_error  e;
	pid_t	   pid = (pid_t) atol(getenv("MOTO_PID"));
	double	   t0;
	tda_status st;

	test_cond("SIGSTOP moto", kill(-pid, SIGSTOP) == 0);
	c.timeout_ms = 1500;
	t0 = tdc_test_now_s();
	st = fetch(&c, s3uri("taxi-duration/1/bundle.json"), &r, &e);
	t0 = tdc_test_now_s() - t0;
	kill(-pid, SIGCONT);
	test_cond("paused moto -> timeout", st == TDA_ERR_TIMEOUT && tdc_test_contains(e.detail, "1500 ms"));
	test_cond("timeout within the configured bound", t0 >= 1.4 && t0 < 3.0);
	test_cond("works again after SIGCONT", fetch(&c, s3uri("plain/bundle.json"), &r, &e) == TDA_OK);
	tda_result_free(&r);
}

static void
test_mlflow_stopped(void)
{
	tda_config c = base_config();
	tda_result r;
	tda_error  e;
	pid_t	   pid = (pid_t) atol(getenv("MLFLOW_PID"));
	int		   i;
	double	   t0;

	test_cond("SIGTERM mlflow", kill(-pid, SIGTERM) == 0);
	for (i = 0; i < 200; i++)
	{
		if (kill(-pid, 0) != 0 && errno == ESRCH)
			break;
		usleep(50000);
	}
	t0 = tdc_test_now_s();
	test_cond("MLflow stopped -> unreachable", fetch(&c, "models:/taxi-duration@champion", &r, &e) == TDA_ERR_UNREACHABLE);
	test_cond("unreachable MLflow is fast", tdc_test_now_s() - t0 < 1.0);
	test_cond("s3:// still works without MLflow", fetch(&c, s3uri("plain/bundle.json"), &r, &e) == TDA_OK);
	tda_result_free(&r);
}

int
main(void)
{
	const char *dir = getenv("TDT_FIXTURES");

	secret = getenv("AWS_SECRET_ACCESS_KEY");
	bucket = getenv("TD_MODEL_BUCKET");
	snprintf(fixtures, sizeof(fixtures), "%s", dir != NULL ? dir : ".");
	test_offline();
	test_echo();
	test_kinesis_cancel();
	if (getenv("AWS_ENDPOINT_URL") != NULL && bucket != NULL)
	{
		test_s3();
		nomem_sweep(s3uri("taxi-duration/1/bundle.json"));
		if (getenv("MLFLOW_TRACKING_URI") != NULL && *getenv("MLFLOW_TRACKING_URI") != '\0')
		{
			test_mlflow();
			nomem_sweep("models:/taxi-duration/1");
		}
		test_moto_paused();
		if (getenv("MLFLOW_PID") != NULL && *getenv("MLFLOW_PID") != '\0')
			test_mlflow_stopped();
	}
	else
		printf("(no servers: offline tests only)\n");
	curl_global_cleanup();
	test_report();
	return td_tests_failed == 0 ? 0 : 1;
}
