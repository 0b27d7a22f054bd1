/*
 * guc.c — the extension's settings.
 *
 *   taxi_duration.model_uri          what to serve when no model was loaded
 *                                    explicitly; '' means the default bundle
 *                                    installed with the extension (SIGHUP:
 *                                    one value for the whole cluster; the
 *                                    loader worker follows changes live)
 *   taxi_duration.max_bundle_size    largest bundle accepted, in kB (SUSET)
 *   taxi_duration.load_retry_interval seconds between automatic retries of
 *                                    a failed default-model load (SUSET)
 *
 * Who may change them: superusers, and (PostgreSQL 15+) the role
 * taxi_duration_admin, to which the extension script grants ALTER SYSTEM on
 * taxi_duration.model_uri.
 */
#include "postgres.h"

#include "utils/guc.h"

#include "taxi_duration.h"

char	   *td_model_uri = NULL;
int			td_max_bundle_size_kb = 64 * 1024;
int			td_load_retry_seconds = 10;

/* Reject URIs whose scheme no loader understands, before they are set. */
static bool
check_model_uri(char **newval, void **extra, GucSource source)
{
	const char *uri = *newval;

	if (uri == NULL || uri[0] == '\0')
		return true;
	if (strncmp(uri, "file://", 7) == 0 || strncmp(uri, "s3://", 5) == 0 ||
		strncmp(uri, "models:/", 8) == 0)
		return true;
	GUC_check_errcode(ERRCODE_INVALID_PARAMETER_VALUE);
	GUC_check_errmsg("invalid value for taxi_duration.model_uri");
	GUC_check_errdetail("A model URI starts with file://, s3:// or models:/.");
	return false;
}

/* Define the settings; called from _PG_init in every process. */
void
TdGucInit(void)
{
	DefineCustomStringVariable("taxi_duration.model_uri",
							   gettext_noop("URI of the model bundle served when none was loaded explicitly."),
							   gettext_noop("Empty means the default bundle installed with the extension. "
											"Schemes: file://, s3://bucket/key, models:/name@alias, models:/name/version."),
							   &td_model_uri,
							   "",
							   PGC_SIGHUP,
							   0,
							   check_model_uri, NULL, NULL);

	DefineCustomIntVariable("taxi_duration.max_bundle_size",
							gettext_noop("Largest model bundle accepted."),
							NULL,
							&td_max_bundle_size_kb,
							64 * 1024, 1, 1024 * 1024,
							PGC_SUSET,
							GUC_UNIT_KB,
							NULL, NULL, NULL);

	DefineCustomIntVariable("taxi_duration.load_retry_interval",
							gettext_noop("Seconds to wait before retrying a failed automatic model load."),
							NULL,
							&td_load_retry_seconds,
							10, 0, 3600,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	MarkGUCPrefixReserved("taxi_duration");
}
