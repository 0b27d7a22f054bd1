/*
 * td_ride.c — decoding a trip event ({"ride": {...}, "ride_id": ...}) or a
 * bare ride object into one td_value per image input, with cJSON.
 *
 * The ride id is passed on as its JSON text, exactly as the event wrote it:
 * cJSON keeps numbers only as doubles, which would turn 9007199254740993
 * into 9.00719925474099e+15, so a numeric ride id is copied from the event's
 * text (raw_member, a scanner of the top-level object) rather than printed
 * back from cJSON's value.
 *
 * A number input (and an integer one) also takes the JSON strings "NaN",
 * "Infinity" and "-Infinity", which the decoder writes for a float or
 * numeric column holding them: the value reaches td_predict as the double
 * it is, which decides as for SQL's float8 argument (NaN is missing,
 * ±Infinity is refused with the same reason).  Any other string is refused:
 * SQL's predict_duration() does not take text either.  A timestamp
 * "infinity" or "-infinity" (the decoder's infinite timestamps) is refused
 * as SQL refuses it: it must be a finite timestamp.
 */
#include <math.h>
#include <string.h>

#include "td_internal.h"
#include "td_image_layout.h"

static td_status
ride_fail(td_error *err, td_status st, const char *name, const char *what)
{
	char buf[80];

	if (name != NULL)
		td_error_set(err, st, "The trip's \"%s\" %s.", tdc_echo(name, buf, sizeof(buf)), what);
	else
		td_error_set(err, st, "%s", what);
	return st;
}

/*
 * A non-finite float as the taxi_duration decoder writes it: the JSON
 * strings "NaN", "Infinity" and "-Infinity" (PostgreSQL's own spellings;
 * JSON has no such numbers).  Exactly these three, nothing else.
 */
static bool
non_finite(const char *s, double *d)
{
	if (s == NULL)
		return false;
	if (strcmp(s, "NaN") == 0)
		*d = NAN;
	else if (strcmp(s, "Infinity") == 0)
		*d = INFINITY;
	else if (strcmp(s, "-Infinity") == 0)
		*d = -INFINITY;
	else
		return false;
	return true;
}

static td_status
decode_value(const td_image_input *in, const char *name, const cJSON *item,
			 td_value *out, td_error *err)
{
	double d;

	out->i = 0;
	out->d = 0;
	if (item == NULL)
	{
		out->kind = TD_VALUE_ABSENT;
		return TD_OK;
	}
	if (cJSON_IsNull(item))
	{
		out->kind = TD_VALUE_NULL;
		return TD_OK;
	}
	switch ((td_input_type) in->type)
	{
		case TD_INPUT_INTEGER:
		case TD_INPUT_NUMBER:
			if (cJSON_IsString(item) && non_finite(item->valuestring, &d))
			{
				/* the value as SQL would get it: td_predict decides (NaN is missing) */
				out->kind = TD_VALUE_DOUBLE;
				out->d = d;
				return TD_OK;
			}
			if (cJSON_IsString(item))
				return ride_fail(err, TD_ERR_RIDE_JSON, name, "is a JSON string, not a number");
			if (!cJSON_IsNumber(item))
				return ride_fail(err, TD_ERR_RIDE_JSON, name, "is not a JSON number");
			if (in->type == TD_INPUT_NUMBER)
			{
				out->kind = TD_VALUE_DOUBLE;
				out->d = item->valuedouble;
				return TD_OK;
			}
			d = item->valuedouble;
			if (!isfinite(d))
				return ride_fail(err, TD_ERR_INPUT, name, "is not a finite number");
			if (!td_json_is_integer(item))
				return ride_fail(err, TD_ERR_INPUT, name, "is not an integer");
			out->kind = TD_VALUE_INT;
			out->i = (int64_t) d;
			return TD_OK;
		case TD_INPUT_TIMESTAMP:
			if (!cJSON_IsString(item) || item->valuestring == NULL)
				return ride_fail(err, TD_ERR_RIDE_JSON, name, "is not a timestamp string");
			/* the decoder's ±infinity: SQL refuses them too (22023) */
			if (strcmp(item->valuestring, "infinity") == 0 ||
				strcmp(item->valuestring, "-infinity") == 0)
				return ride_fail(err, TD_ERR_INPUT, name, "must be a finite timestamp");
			if (!td_parse_timestamp(item->valuestring, strlen(item->valuestring), &out->i))
				return ride_fail(err, TD_ERR_INPUT, name,
								 "is not a timestamp of the form YYYY-MM-DD HH:MM[:SS[.ffffff]]");
			out->kind = TD_VALUE_TIMESTAMP;
			return TD_OK;
	}
	return ride_fail(err, TD_ERR_IMAGE, name, "has a type this core does not know");
}

static size_t
skip_ws(const char *s, size_t len, size_t i)
{
	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	return i;
}

/* Past the end of the JSON string opening at s[i] ('"'); len + 1 if unterminated. */
static size_t
string_end(const char *s, size_t len, size_t i)
{
	for (i++; i < len; i++)
	{
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"')
			return i + 1;
	}
	return len + 1;
}

/* Past the end of the JSON value starting at s[i]; len + 1 if it does not end. */
static size_t
value_end(const char *s, size_t len, size_t i)
{
	size_t depth = 0;

	if (i < len && s[i] == '"')
		return string_end(s, len, i);
	if (i < len && (s[i] == '{' || s[i] == '['))
	{
		for (; i < len; i++)
		{
			if (s[i] == '"')
			{
				i = string_end(s, len, i) - 1;
				continue;
			}
			if (s[i] == '{' || s[i] == '[')
				depth++;
			else if ((s[i] == '}' || s[i] == ']') && --depth == 0)
				return i + 1;
		}
		return len + 1;
	}
	while (i < len && strchr(",}] \t\n\r", s[i]) == NULL)
		i++;
	return i;
}

/*
 * The text of the first member `key` of the top-level JSON object in json
 * (a document cJSON has already accepted), or NULL: a key written with
 * escapes is not recognised (the caller then falls back to cJSON's value).
 */
static const char *
raw_member(const char *json, size_t len, const char *key, size_t *vlen)
{
	size_t keylen = strlen(key);
	size_t i = skip_ws(json, len, 0);

	if (i >= len || json[i] != '{')
		return NULL;
	for (i = skip_ws(json, len, i + 1); i < len && json[i] == '"';)
	{
		size_t kend = string_end(json, len, i);
		size_t vstart;
		size_t vend;

		if (kend > len)
			return NULL;
		vstart = skip_ws(json, len, kend);
		if (vstart >= len || json[vstart] != ':')
			return NULL;
		vstart = skip_ws(json, len, vstart + 1);
		vend = value_end(json, len, vstart);
		if (vend > len)
			return NULL;
		if (kend - i - 2 == keylen && memcmp(json + i + 1, key, keylen) == 0)
		{
			*vlen = vend - vstart;
			return json + vstart;
		}
		i = skip_ws(json, len, vend);
		if (i >= len || json[i] != ',')
			return NULL;
		i = skip_ws(json, len, i + 1);
	}
	return NULL;
}

static td_status
encode_ride_id(const cJSON *id, const char *json, size_t len,
			   char ride_id_json[TD_RIDE_ID_MAX], td_error *err)
{
	char		tmp[TD_RIDE_ID_MAX + 8];
	const char *raw;
	size_t		rawlen = 0;

	ride_id_json[0] = '\0';
	if (id == NULL || cJSON_IsNull(id))
		return TD_OK;
	if (!cJSON_IsNumber(id) && !cJSON_IsString(id))
		return ride_fail(err, TD_ERR_RIDE_JSON, NULL,
						 "The trip's \"ride_id\" is neither a number nor a string.");
	if (cJSON_IsNumber(id) && !isfinite(id->valuedouble))
		return ride_fail(err, TD_ERR_RIDE_JSON, NULL,
						 "The trip's \"ride_id\" is not a finite number.");
	/* a number exactly as written (cJSON's double would round it) */
	raw = cJSON_IsNumber(id) ? raw_member(json, len, "ride_id", &rawlen) : NULL;
	if (raw != NULL && rawlen > 0 && (raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9')))
	{
		if (rawlen >= TD_RIDE_ID_MAX)
			return ride_fail(err, TD_ERR_RIDE_JSON, NULL,
							 "The trip's \"ride_id\" is too long a number.");
		memcpy(ride_id_json, raw, rawlen);
		ride_id_json[rawlen] = '\0';
		return TD_OK;
	}
	/* cJSON wants 5 spare bytes; it never allocates in this mode. */
	if (!cJSON_PrintPreallocated((cJSON *) id, tmp, (int) sizeof(tmp), 0) ||
		strlen(tmp) >= TD_RIDE_ID_MAX)
	{
		td_error_set(err, TD_ERR_RIDE_JSON,
					 "The trip's \"ride_id\" is longer than %d bytes as JSON.",
					 TD_RIDE_ID_MAX - 1);
		return TD_ERR_RIDE_JSON;
	}
	memcpy(ride_id_json, tmp, strlen(tmp) + 1);
	return TD_OK;
}

td_status
td_decode_ride(const td_image *image, const char *json, size_t len,
			   td_value *values, char ride_id_json[TD_RIDE_ID_MAX],
			   td_error *err)
{
	const td_image_header *h = TD_IMG_HDR(image);
	const td_image_input  *inputs;
	const uint32_t		  *aliases;
	const char			  *base = (const char *) image;
	cJSON				  *root;
	const cJSON			  *ride;
	const cJSON			  *inner;
	td_status			   st = TD_OK;
	uint32_t			   i;
	uint32_t			   j;

	if (err != NULL)
		memset(err, 0, sizeof(*err));
	if (ride_id_json != NULL)
		ride_id_json[0] = '\0';
	if (image == NULL || values == NULL || ride_id_json == NULL)
	{
		td_error_set(err, TD_ERR_RIDE_JSON, "td_decode_ride was called with a NULL argument.");
		return TD_ERR_RIDE_JSON;
	}
	inputs = TD_IMG_AT(image, h->inputs_off, td_image_input);
	aliases = TD_IMG_AT(image, h->aliases_off, uint32_t);
	for (i = 0; i < h->num_inputs; i++)
	{
		values[i].kind = TD_VALUE_ABSENT;
		values[i].i = 0;
		values[i].d = 0;
	}
	root = td_json_parse(json, len, TD_ERR_RIDE_JSON, "trip event", err);
	if (root == NULL)
		return err != NULL ? err->status : TD_ERR_RIDE_JSON;
	if (!cJSON_IsObject(root))
	{
		cJSON_Delete(root);
		return ride_fail(err, TD_ERR_RIDE_JSON, NULL,
						 "The trip event is JSON but not an object.");
	}
	inner = cJSON_GetObjectItemCaseSensitive(root, "ride");
	ride = cJSON_IsObject(inner) ? inner : root;
	if (inner != NULL && !cJSON_IsObject(inner) && !cJSON_IsNull(inner))
		st = ride_fail(err, TD_ERR_RIDE_JSON, NULL,
					   "The trip event's \"ride\" is not an object.");
	if (st == TD_OK)
		st = encode_ride_id(cJSON_GetObjectItemCaseSensitive(root, "ride_id"), json, len,
							ride_id_json, err);
	for (i = 0; st == TD_OK && i < h->num_inputs; i++)
	{
		const td_image_input *in = &inputs[i];
		const char			 *name = base + in->name_off;
		const cJSON			 *item = cJSON_GetObjectItemCaseSensitive(ride, name);

		for (j = 0; item == NULL && j < in->aliases_count; j++)
		{
			name = base + aliases[in->aliases_first + j];
			item = cJSON_GetObjectItemCaseSensitive(ride, name);
		}
		st = decode_value(in, name, item, &values[i], err);
	}
	cJSON_Delete(root);
	if (st != TD_OK)
		ride_id_json[0] = '\0';
	return st;
}
