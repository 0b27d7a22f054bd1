/*
 * predict.c — taxi_duration.predict_duration() in its three forms.
 *
 *   predict_duration(pu integer, do integer, distance float8)
 *   predict_duration(pu integer, do integer, distance float8, pickup timestamp)
 *   predict_duration(ride jsonb)      -- the trip-event shape, or a bare ride
 *
 * Each fills one model input value per model input and calls the model library.  SQL NULL
 * is a missing value (XGBoost's default direction; an unknown category),
 * never an error; what is an error (±Infinity, values outside the ranges the
 * bundle declares, an input the model requires but the form does not carry)
 * is decided by the model library, so SQL, the trigger and the Lambda agree.
 */
#include "postgres.h"

#include "datatype/timestamp.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "serving/serving.h"

PG_FUNCTION_INFO_V1(predict_duration);
PG_FUNCTION_INFO_V1(predict_duration_at);
PG_FUNCTION_INFO_V1(predict_duration_jsonb);

#define TD_MAX_VALUES 64

/* Microseconds between 1970-01-01 and 2000-01-01. */
#define TD_UNIX_TO_PG_EPOCH_USECS \
	((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY)

/* Mark every input absent; returns the image's input count. */
static uint32
td_values_init(const td_image *image, td_value *values)
{
	uint32 count = td_image_num_inputs(image);
	uint32 i;

	if (count > TD_MAX_VALUES)
		elog(ERROR, "model declares %u inputs, more than %d", count, TD_MAX_VALUES);
	for (i = 0; i < count; i++)
		values[i].kind = TD_VALUE_ABSENT;
	return count;
}

/* Set an integer argument (NULL → missing). */
static inline void
td_set_int_arg(td_value *values, int input, FunctionCallInfo fcinfo, int arg)
{
	if (input < 0)
		return;
	if (PG_ARGISNULL(arg))
		values[input].kind = TD_VALUE_NULL;
	else
	{
		values[input].kind = TD_VALUE_INT;
		values[input].i = PG_GETARG_INT32(arg);
	}
}

/* Set a float8 argument (NULL → missing). */
static inline void
td_set_double_arg(td_value *values, int input, FunctionCallInfo fcinfo, int arg)
{
	if (input < 0)
		return;
	if (PG_ARGISNULL(arg))
		values[input].kind = TD_VALUE_NULL;
	else
	{
		values[input].kind = TD_VALUE_DOUBLE;
		values[input].d = PG_GETARG_FLOAT8(arg);
	}
}

/* Convert a PostgreSQL timestamp to the model library's Unix-epoch microseconds. */
int64
TdTimestampToCore(Timestamp ts, const char *what)
{
	if (TIMESTAMP_NOT_FINITE(ts))
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("%s must be a finite timestamp", what));
	return ts + TD_UNIX_TO_PG_EPOCH_USECS;
}

/* Shared body of the positional forms. */
static Datum
td_predict_positional(FunctionCallInfo fcinfo, bool with_pickup)
{
	TdModelRef			   *ref = TdModelForCall();
	const TdStandardInputs *inputs = TdModelStandardInputs(ref);
	td_value				values[TD_MAX_VALUES];

	td_values_init(TdModelImage(ref), values);
	td_set_int_arg(values, inputs->pu_location_id, fcinfo, 0);
	td_set_int_arg(values, inputs->do_location_id, fcinfo, 1);
	td_set_double_arg(values, inputs->trip_distance, fcinfo, 2);
	if (with_pickup && inputs->pickup_datetime >= 0)
	{
		td_value *v = &values[inputs->pickup_datetime];

		if (PG_ARGISNULL(3))
			v->kind = TD_VALUE_NULL;
		else
		{
			v->kind = TD_VALUE_TIMESTAMP;
			v->i = TdTimestampToCore(PG_GETARG_TIMESTAMP(3), "pickup_datetime");
		}
	}
	PG_RETURN_FLOAT8(TdPredictOrError(TdModelPredictor(ref), values));
}

/* predict_duration(integer, integer, double precision) */
Datum
predict_duration(PG_FUNCTION_ARGS)
{
	return td_predict_positional(fcinfo, false);
}

/* predict_duration(integer, integer, double precision, timestamp) */
Datum
predict_duration_at(PG_FUNCTION_ARGS)
{
	return td_predict_positional(fcinfo, true);
}

/* predict_duration(jsonb): a trip event or a bare ride object. */
Datum
predict_duration_jsonb(PG_FUNCTION_ARGS)
{
	Jsonb	   *ride = PG_GETARG_JSONB_P(0);
	TdModelRef *ref = TdModelForCall();
	td_value	values[TD_MAX_VALUES];
	char		ride_id[TD_RIDE_ID_MAX];
	td_error	error;
	char	   *text;

	td_values_init(TdModelImage(ref), values);
	text = JsonbToCString(NULL, &ride->root, VARSIZE(ride));
	if (td_decode_ride(TdModelImage(ref), text, strlen(text), values, ride_id,
					   &error) != TD_OK)
		TdReportModelError(&error);
	pfree(text);
	PG_RETURN_FLOAT8(TdPredictOrError(TdModelPredictor(ref), values));
}
