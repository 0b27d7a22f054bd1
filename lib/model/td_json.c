/*
 * td_json.c — small helpers over cJSON shared by the bundle and trip-event
 * readers: parsing a length-delimited buffer with no trailing garbage, and
 * checking integers and XGBoost's integer-valued strings.
 */
#include <math.h>
#include <string.h>

#include "td_internal.h"

/*
 * Parse len bytes (no NUL needed) as one JSON value followed only by
 * whitespace.  On failure fill err with bad_status (TD_ERR_JSON or
 * TD_ERR_RIDE_JSON) or TD_ERR_NOMEM and return NULL.
 */
cJSON *
td_json_parse(const char *json, size_t len, td_status bad_status,
			  const char *what, td_error *err)
{
	cJSON	   *root;
	const char *end = NULL;
	size_t		pos;
	bool		out_of_memory;

	if (json == NULL || len == 0)
	{
		td_error_set(err, bad_status, "The %s is empty.", what);
		return NULL;
	}
	root = tdc_json_parse(json, len, &end, &out_of_memory);
	if (out_of_memory)
	{
		td_error_nomem(err);
		return NULL;
	}
	if (root == NULL)
	{
		pos = (end != NULL && end >= json && end <= json + len) ?
				  (size_t) (end - json) :
				  0;
		if (len >= 2 && json[0] == '{' &&
			strchr("iUIlLdDSHTFZ$#[{", json[1]) != NULL && json[1] != '\0' &&
			json[1] != '"')
			td_error_set(err, bad_status,
						 "The %s is not JSON text (it looks like UBJSON); parsing failed at byte %zu.",
						 what, pos);
		else
			td_error_set(err, bad_status,
						 "The %s is not valid JSON, is truncated or is nested too deeply; parsing failed at byte %zu.",
						 what, pos);
		return NULL;
	}
	pos = (size_t) (end - json);
	while (pos < len && (json[pos] == ' ' || json[pos] == '\t' ||
						 json[pos] == '\n' || json[pos] == '\r'))
		pos++;
	if (pos < len)
	{
		cJSON_Delete(root);
		td_error_set(err, bad_status,
					 "The %s has unexpected data after the JSON value, at byte %zu.",
					 what, pos);
		return NULL;
	}
	return root;
}

/*
 * A JSON number with an integral value that fits an int64; in a bundle also
 * written as an integer (no fraction, no exponent: td_json_strict.c).
 */
bool
td_json_is_integer(const cJSON *item)
{
	double d;

	if (!cJSON_IsNumber(item) || (item->type & TD_JSON_NOT_INT_TOKEN) != 0)
		return false;
	d = item->valuedouble;
	return isfinite(d) && floor(d) == d &&
		   d >= -9223372036854775808.0 && d < 9223372036854775808.0;
}

/*
 * XGBoost writes integers as JSON strings ("123").  Accept optional
 * surrounding spaces and decimal digits only; fail above max.
 */
bool
td_parse_uint_string(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	bool	 any = false;

	if (s == NULL)
		return false;
	while (*s == ' ')
		s++;
	while (*s >= '0' && *s <= '9')
	{
		unsigned digit = (unsigned) (*s - '0');

		if (digit > max || v > (max - digit) / 10)
			return false;
		v = v * 10 + digit;
		any = true;
		s++;
	}
	while (*s == ' ')
		s++;
	if (!any || *s != '\0')
		return false;
	*out = v;
	return true;
}

/*
 * Number of children of an array/object.  Stops counting once the count
 * exceeds limit and returns limit + 1 (saturating), so callers can reject
 * oversized arrays without walking them to the end.
 */
uint32_t
td_json_count_children(const cJSON *item, uint32_t limit)
{
	const cJSON *c;
	uint32_t	 n = 0;

	for (c = item ? item->child : NULL; c != NULL; c = c->next)
	{
		if (n > limit || n == UINT32_MAX)
			return n;
		n++;
	}
	return n;
}
