/*
 * tds_error.c — the statistics library's standard messages (setting errors
 * is the common library's).
 */
#include "tds_internal.h"

const char *
tds_status_message(tds_status status)
{
	switch (status)
	{
		case TDS_OK:
			return "";
		case TDS_ERR_NOMEM:
			return "out of memory";
		case TDS_ERR_INPUT:
			return "invalid input to a drift test";
		case TDS_ERR_LIMIT:
			return "value exceeds a limit of the drift statistics";
		case TDS_ERR_CANCELED:
			return "drift statistic canceled";
	}
	return "unknown error";
}

tds_status
tds_error_nomem(tds_error *err)
{
	tds_error_set(err, TDS_ERR_NOMEM, "An allocation made while computing drift statistics failed.");
	return TDS_ERR_NOMEM;
}
