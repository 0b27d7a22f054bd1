/*
 * tda_sigv4.c — what a SigV4-signed request needs from the configuration.
 *
 * S3 GetObject and Kinesis PutRecords are both signed by libcurl
 * (CURLOPT_AWS_SIGV4); before either is sent, the region, the key pair and
 * the endpoint override are checked here once, with errors that name the
 * service and never show a credential.
 */
#include <string.h>

#include "tda_internal.h"

/* AWS region names: lower-case letters, digits and '-'. */
static bool
is_region(const char *s)
{
	if (strlen(s) > 64)
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
			return false;
	return true;
}

/* TDA_OK if `config` can sign a request to `service` ("S3", "Kinesis"). */
tda_status
tda_check_signing_config(const tda_config *config, const char *service,
						 tda_error *err)
{
	if (!tda_is_set(config->aws_region))
		return tda_error_set(err, TDA_ERR_CONFIG,
							 "No AWS region is set (AWS_REGION); it is needed to sign %s requests.",
							 service);
	if (!is_region(config->aws_region))
		return tda_error_set(err, TDA_ERR_CONFIG,
							 "The AWS region is not of the form \"eu-north-1\".");
	if (!tda_is_set(config->aws_access_key_id) || !tda_is_set(config->aws_secret_access_key))
		return tda_error_set(err, TDA_ERR_CONFIG,
							 "No AWS credentials are set (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY); %s requests must be signed.",
							 service);
	if (!tda_is_token_text(config->aws_access_key_id) ||
		!tda_is_token_text(config->aws_secret_access_key) ||
		(tda_is_set(config->aws_session_token) && !tda_is_token_text(config->aws_session_token)))
		return tda_error_set(err, TDA_ERR_CONFIG,
							 "The AWS credentials contain spaces or control characters.");
	if (tda_is_set(config->aws_endpoint_url) &&
		strncmp(config->aws_endpoint_url, "http://", 7) != 0 &&
		strncmp(config->aws_endpoint_url, "https://", 8) != 0)
	{
		char echo[TDA_ECHO_MAX + 4];

		return tda_error_set(err, TDA_ERR_CONFIG,
							 "The %s endpoint URL \"%s\" is not an http:// or https:// URL.",
							 service,
							 tda_redact_url(config->aws_endpoint_url, echo, sizeof(echo)));
	}
	return TDA_OK;
}
