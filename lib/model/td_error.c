/*
 * td_error.c — the model library's status names and standard messages
 * (setting errors and echoing text are the common library's).
 */
#include "td_internal.h"

const char *
td_status_name(td_status status)
{
	switch (status)
	{
		case TD_OK:
			return "TD_OK";
		case TD_ERR_NOMEM:
			return "TD_ERR_NOMEM";
		case TD_ERR_JSON:
			return "TD_ERR_JSON";
		case TD_ERR_FORMAT:
			return "TD_ERR_FORMAT";
		case TD_ERR_VERSION:
			return "TD_ERR_VERSION";
		case TD_ERR_INVALID:
			return "TD_ERR_INVALID";
		case TD_ERR_UNSUPPORTED:
			return "TD_ERR_UNSUPPORTED";
		case TD_ERR_LIMIT:
			return "TD_ERR_LIMIT";
		case TD_ERR_IMAGE:
			return "TD_ERR_IMAGE";
		case TD_ERR_INPUT:
			return "TD_ERR_INPUT";
		case TD_ERR_MISSING_INPUT:
			return "TD_ERR_MISSING_INPUT";
		case TD_ERR_RIDE_JSON:
			return "TD_ERR_RIDE_JSON";
		case TD_ERR_CANCELED:
			return "TD_ERR_CANCELED";
	}
	return "TD_ERR_UNKNOWN";
}

/* The standard message of a status (td_error_set passes it). */
const char *
td_status_message(td_status status)
{
	switch (status)
	{
		case TD_OK:
			return "";
		case TD_ERR_NOMEM:
			return "out of memory";
		case TD_ERR_JSON:
			return "model bundle is not valid JSON";
		case TD_ERR_FORMAT:
			return "not a taxi-duration model bundle";
		case TD_ERR_VERSION:
			return "unsupported model bundle format version";
		case TD_ERR_INVALID:
			return "invalid model bundle";
		case TD_ERR_UNSUPPORTED:
			return "unsupported model bundle";
		case TD_ERR_LIMIT:
			return "model bundle exceeds a size limit";
		case TD_ERR_IMAGE:
			return "invalid model image";
		case TD_ERR_INPUT:
			return "invalid model input value";
		case TD_ERR_MISSING_INPUT:
			return "model input was not given";
		case TD_ERR_RIDE_JSON:
			return "invalid trip event";
		case TD_ERR_CANCELED:
			return "model bundle compile canceled";
	}
	return "unknown error";
}

td_status
td_error_nomem(td_error *err)
{
	td_error_set(err, TD_ERR_NOMEM,
				 "An allocation made while handling the model failed.");
	return TD_ERR_NOMEM;
}
