/*
 * tda_uri.c — parsing the URIs the library fetches:
 *
 *   s3://bucket/key         bucket: 3-63 of [a-z0-9.-], alphanumeric at
 *                           both ends; key: [A-Za-z0-9._/-] only (libcurl
 *                           7.88 signs the path as given, so anything that
 *                           would need encoding is refused), no empty,
 *                           "." or ".." segment (curl would squash it),
 *                           no query
 *   models:/name@alias      name: printable ASCII without '/', '@'; alias:
 *                           [A-Za-z0-9_-]
 *   models:/name/version    version: decimal digits
 *
 * Everything else is TDA_ERR_URI, with the offending URI echoed safely.
 */
#include <string.h>

#include "tda_internal.h"

static bool
is_alnum_lower(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool
is_key_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		   (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '/' || c == '-';
}

static tda_status
bad_uri(tda_error *err, const char *uri, const char *why)
{
	return tda_error_echo(err, TDA_ERR_URI, "URI", uri, why);
}

static tda_status
parse_s3(const char *uri, const char *rest, tda_uri *out, tda_error *err)
{
	const char *slash = strchr(rest, '/');
	const char *key;
	const char *seg;
	size_t		blen;
	size_t		i;

	blen = slash != NULL ? (size_t) (slash - rest) : strlen(rest);
	if (blen == 0)
		return bad_uri(err, uri, "has no bucket name");
	if (blen < 3 || blen > 63)
		return bad_uri(err, uri, "has a bucket name that is not 3 to 63 characters long");
	for (i = 0; i < blen; i++)
	{
		char c = rest[i];

		if (!is_alnum_lower(c) && c != '.' && c != '-')
			return bad_uri(err, uri,
						   "has a bucket name with characters other than a-z, 0-9, '.' and '-'");
	}
	if (!is_alnum_lower(rest[0]) || !is_alnum_lower(rest[blen - 1]))
		return bad_uri(err, uri,
					   "has a bucket name that does not begin and end with a letter or digit");
	if (slash == NULL || slash[1] == '\0')
		return bad_uri(err, uri, "has no object key");
	key = slash + 1;
	for (i = 0; key[i] != '\0'; i++)
	{
		if (!is_key_char(key[i]))
			return bad_uri(err, uri,
						   "has an object key with characters other than A-Z, a-z, 0-9, '.', '_', '/' and '-'");
	}
	/* Reject empty, "." and ".." segments: curl would rewrite the path. */
	seg = key;
	for (;;)
	{
		size_t n = strcspn(seg, "/");

		if (n == 0 || (n == 1 && seg[0] == '.') ||
			(n == 2 && seg[0] == '.' && seg[1] == '.'))
			return bad_uri(err, uri,
						   "has an object key with an empty, \".\" or \"..\" segment");
		if (seg[n] == '\0')
			break;
		seg += n + 1;
	}
	out->kind = TDA_URI_S3;
	memcpy(out->bucket, rest, blen);
	out->bucket[blen] = '\0';
	strcpy(out->key, key); /* fits: the whole URI is <= TDA_URI_MAX */
	return TDA_OK;
}

static tda_status
parse_model(const char *uri, const char *rest, tda_uri *out, tda_error *err)
{
	size_t		nlen = strcspn(rest, "/@");
	const char *ref;
	size_t		i;

	if (nlen == 0)
		return bad_uri(err, uri, "has no model name");
	for (i = 0; i < nlen; i++)
	{
		unsigned char c = (unsigned char) rest[i];

		if (c < 0x20 || c >= 0x7f)
			return bad_uri(err, uri, "has a model name with control or non-ASCII characters");
	}
	if (rest[nlen] == '\0')
		return bad_uri(err, uri,
					   "names no version or alias (expected models:/name/version or models:/name@alias)");
	ref = rest + nlen + 1;
	if (*ref == '\0')
		return bad_uri(err, uri, "has an empty version or alias");
	if (strlen(ref) >= sizeof(out->ref))
		return bad_uri(err, uri, "has a version or alias that is too long");
	if (rest[nlen] == '@')
	{
		for (i = 0; ref[i] != '\0'; i++)
		{
			char c = ref[i];

			if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
				  (c >= '0' && c <= '9') || c == '_' || c == '-'))
				return bad_uri(err, uri,
							   "has an alias with characters other than letters, digits, '_' and '-'");
		}
		out->kind = TDA_URI_MODEL_ALIAS;
	}
	else
	{
		for (i = 0; ref[i] != '\0'; i++)
		{
			if (ref[i] < '0' || ref[i] > '9')
				return bad_uri(err, uri,
							   "has a version that is not a number (stages and \"latest\" are not supported; use an alias)");
		}
		if (i > 18)
			return bad_uri(err, uri, "has a version that is too large");
		out->kind = TDA_URI_MODEL_VERSION;
	}
	memcpy(out->name, rest, nlen);
	out->name[nlen] = '\0';
	strcpy(out->ref, ref);
	return TDA_OK;
}

tda_status
tda_uri_parse(const char *uri, tda_uri *out, tda_error *err)
{
	memset(out, 0, sizeof(*out));
	if (uri == NULL || *uri == '\0')
		return tda_error_set(err, TDA_ERR_URI, "The model URI is empty.");
	if (strlen(uri) > TDA_URI_MAX)
		return bad_uri(err, uri, "is longer than 1023 bytes");
	if (strncmp(uri, "s3://", 5) == 0)
		return parse_s3(uri, uri + 5, out, err);
	if (strncmp(uri, "models:/", 8) == 0 && uri[8] != '/')
		return parse_model(uri, uri + 8, out, err);
	return bad_uri(err, uri, "is neither s3://bucket/key nor models:/name/version nor models:/name@alias");
}
