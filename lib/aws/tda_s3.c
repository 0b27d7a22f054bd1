/*
 * tda_s3.c — S3 GetObject of one s3://bucket/key, SigV4-signed by libcurl.
 *
 * Path style against an endpoint override (<endpoint>/<bucket>/<key>,
 * for moto or LocalStack), virtual-host style against AWS
 * (https://<bucket>.s3.<region>.amazonaws.com/<key>).  libcurl 7.88 signs
 * whatever headers it is given and adds no x-amz-content-sha256, so the
 * request carries "x-amz-content-sha256: UNSIGNED-PAYLOAD" and, with a
 * session token, X-Amz-Security-Token; no header is ever blank and there
 * is no query string.  The body is checked against the object's
 * x-amz-meta-sha256 metadata and against the caller's expected sha256.
 * Error details name the bucket, key, URL and HTTP status and the <Code>
 * of S3's error XML; never a credential.
 */
#include <stdio.h>
#include <string.h>

#include "tda_internal.h"

/* The request URL: path style with an endpoint, virtual-host style without. */
static bool
build_url(const tda_config *config, const tda_uri *uri, tdc_buf *url)
{
	if (tda_is_set(config->aws_endpoint_url))
	{
		const char *ep = config->aws_endpoint_url;
		size_t		len = strlen(ep);

		while (len > 0 && ep[len - 1] == '/')
			len--;
		return tdc_buf_append(url, ep, len) &&
			   tdc_buf_append_str(url, "/") &&
			   tdc_buf_append_str(url, uri->bucket) &&
			   tdc_buf_append_str(url, "/") &&
			   tdc_buf_append_str(url, uri->key);
	}
	return tdc_buf_append_str(url, "https://") &&
		   tdc_buf_append_str(url, uri->bucket) &&
		   tdc_buf_append_str(url, ".s3.") &&
		   tdc_buf_append_str(url, config->aws_region) &&
		   tdc_buf_append_str(url, ".amazonaws.com/") &&
		   tdc_buf_append_str(url, uri->key);
}

/* The <Code> of an S3 error document, or "" (letters, digits, '.' only). */
static void
s3_error_code(const tdc_buf *body, char *code, size_t codesize)
{
	const char *start;
	size_t		i;

	code[0] = '\0';
	if (body->data == NULL)
		return;
	start = strstr(body->data, "<Code>");
	if (start == NULL)
		return;
	start += 6;
	for (i = 0; i + 1 < codesize; i++)
	{
		char c = start[i];

		if (c == '<')
			break;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			  (c >= '0' && c <= '9') || c == '.'))
		{
			i = 0;
			break;
		}
		code[i] = c;
	}
	if (start[i] != '<')
		i = 0;
	code[i] = '\0';
}

/* S3 error codes that mean the credentials were refused, whatever the status. */
static bool
is_credential_code(const char *code)
{
	static const char *const codes[] = {
		"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch",
		"InvalidToken", "ExpiredToken", "TokenRefreshRequired",
		"AuthorizationHeaderMalformed", "InvalidClientTokenId", NULL
	};
	int i;

	for (i = 0; codes[i] != NULL; i++)
		if (strcmp(code, codes[i]) == 0)
			return true;
	return false;
}

static tda_status
http_error(const tda_uri *uri, const char *display, const tda_http_response *resp,
		   tda_error *err)
{
	char	   code[64];
	char	   why[96];
	tda_status status;

	s3_error_code(&resp->body, code, sizeof(code));
	if (code[0] != '\0')
		snprintf(why, sizeof(why), " (%s)", code);
	else
		why[0] = '\0';
	if (resp->status == 404)
		status = TDA_ERR_NOT_FOUND;
	else if (resp->status == 401 || resp->status == 403 || is_credential_code(code))
		status = TDA_ERR_DENIED;
	else
		status = TDA_ERR_HTTP;
	tda_error_set(err, status, "GET %s returned HTTP %ld%s.", display,
				  resp->status, why);
	if (strcmp(code, "NoSuchBucket") == 0)
		tdc_error_set_message(err, "S3 bucket \"%s\" does not exist", uri->bucket);
	else if (status == TDA_ERR_NOT_FOUND)
		tdc_error_set_message(err, "model bundle not found in S3");
	else if (status == TDA_ERR_DENIED)
		tdc_error_set_message(err, "access to the model bundle in S3 was denied");
	if (err != NULL)
		err->http_status = resp->status;
	return status;
}

/* Check the body against the object metadata and the caller's sha256. */
static tda_status
verify(const char *display, const tda_http_response *resp, const char *sha,
	   const char *expected_sha256, tda_error *err)
{
	char   expected[65];
	size_t i;

	if (resp->has_meta_sha256)
	{
		if (!tda_is_sha256_hex(resp->meta_sha256))
			return tda_error_set(err, TDA_ERR_PROTOCOL,
								 "The x-amz-meta-sha256 metadata of %s is not 64 hex digits.",
								 display);
		if (strcmp(resp->meta_sha256, sha) != 0)
			return tda_error_set(err, TDA_ERR_CHECKSUM,
								 "The body of %s has sha256 %s but its x-amz-meta-sha256 metadata says %s.",
								 display, sha, resp->meta_sha256);
	}
	if (expected_sha256 != NULL && *expected_sha256 != '\0')
	{
		for (i = 0; i < 64 && expected_sha256[i] != '\0'; i++)
			expected[i] = (expected_sha256[i] >= 'A' && expected_sha256[i] <= 'F') ?
							  (char) (expected_sha256[i] - 'A' + 'a') :
							  expected_sha256[i];
		expected[i] = '\0';
		if (strcmp(expected, sha) != 0)
			return tda_error_set(err, TDA_ERR_CHECKSUM,
								 "The body of %s has sha256 %s but the model registry says %s.",
								 display, sha, expected);
	}
	return TDA_OK;
}

/* "s3://bucket/key" into result->resolved_uri (it fit as the input URI). */
static void
set_resolved_uri(const tda_uri *uri, tda_result *result)
{
	size_t blen = strlen(uri->bucket);
	size_t klen = strlen(uri->key);
	size_t room = sizeof(result->resolved_uri) - 1;
	char  *p = result->resolved_uri;

	if (5 + blen + 1 + klen > room)
		klen = room - 5 - blen - 1;
	memcpy(p, "s3://", 5);
	memcpy(p + 5, uri->bucket, blen);
	p[5 + blen] = '/';
	memcpy(p + 5 + blen + 1, uri->key, klen);
	p[5 + blen + 1 + klen] = '\0';
}

tda_status
tda_s3_get(const tda_config *config, const tda_uri *uri,
		   const char *expected_sha256, tda_result *result, tda_error *err)
{
	tdc_buf			  url = { 0 };
	tdc_buf			  token = { 0 };
	tdc_buf			  sigv4 = { 0 };
	const char		 *headers[3];
	char			  redacted[TDA_ECHO_MAX + 4];
	char			  kecho[TDA_ECHO_MAX + 4];
	char			  display[512];
	char			  sha[65];
	tda_http_request  req;
	tda_http_response resp;
	tda_status		  status;

	status = tda_check_signing_config(config, "S3", err);
	if (status != TDA_OK)
		return status;
	memset(&resp, 0, sizeof(resp));
	if (!build_url(config, uri, &url) ||
		!tdc_buf_append_str(&sigv4, "aws:amz:") ||
		!tdc_buf_append_str(&sigv4, config->aws_region) ||
		!tdc_buf_append_str(&sigv4, ":s3"))
	{
		status = tda_error_nomem(err);
		goto done;
	}
	headers[0] = "x-amz-content-sha256: UNSIGNED-PAYLOAD";
	headers[1] = NULL;
	headers[2] = NULL;
	if (tda_is_set(config->aws_session_token))
	{
		if (!tdc_buf_append_str(&token, "X-Amz-Security-Token: ") ||
			!tdc_buf_append_str(&token, config->aws_session_token))
		{
			status = tda_error_nomem(err);
			goto done;
		}
		headers[1] = token.data;
	}
	snprintf(display, sizeof(display), "s3://%s/%s (%s)", uri->bucket,
			 tda_echo(uri->key, kecho, sizeof(kecho)),
			 tda_redact_url(url.data, redacted, sizeof(redacted)));

	memset(&req, 0, sizeof(req));
	req.url = url.data;
	req.display = display;
	req.headers = headers;
	req.sigv4 = sigv4.data;
	req.username = config->aws_access_key_id;
	req.password = config->aws_secret_access_key;
	req.max_bytes = config->max_bytes;

	status = tda_http_get(config, &req, &resp, err);
	if (status != TDA_OK)
		goto done;
	if (resp.status != 200)
	{
		status = http_error(uri, display, &resp, err);
		goto done;
	}
	tda_sha256_hex(resp.body.data, resp.body.len, sha);
	status = verify(display, &resp, sha, expected_sha256, err);
	if (status != TDA_OK)
	{
		if (err != NULL)
			err->http_status = resp.status;
		goto done;
	}
	/* Hand the body over to the result. */
	result->data = resp.body.data;
	result->len = resp.body.len;
	resp.body.data = NULL;
	memcpy(result->sha256, sha, sizeof(sha));
	set_resolved_uri(uri, result);

done:
	tda_http_response_free(&resp);
	if (token.data != NULL)
		memset(token.data, 0, token.len);
	tdc_buf_free(&token);
	tdc_buf_free(&sigv4);
	tdc_buf_free(&url);
	return status;
}
