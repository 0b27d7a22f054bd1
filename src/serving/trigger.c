/*
 * trigger.c — taxi_duration.fill_predicted_duration(), a row trigger.
 *
 *   CREATE TRIGGER trips_predict BEFORE INSERT OR UPDATE ON trips
 *     FOR EACH ROW EXECUTE FUNCTION
 *     taxi_duration.fill_predicted_duration('predicted_duration' [, 'null']);
 *
 * The first argument names the column to fill (double precision, real or
 * numeric).  The model's inputs are read from the columns whose names match
 * an input's name or alias, case-insensitively (pulocationid,
 * lpep_pickup_datetime, ...).  A required input with no column is an error.
 * The optional second argument says what a row the model rejects gets:
 * 'error' (the default: the INSERT fails) or 'null' (the column is set to
 * NULL and a WARNING names the problem, so bulk loads of dirty data go on).
 *
 * Everything but the row's values (the arguments, the target column, the
 * column of each input) is worked out on a statement's first row and kept
 * for the rest of it, so a bulk COPY pays per row only for reading the
 * inputs, the prediction and the modified tuple.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "serving/serving.h"

PG_FUNCTION_INFO_V1(fill_predicted_duration);

#define TD_MAX_VALUES 64

/* Column number (1-based) matching input `input`, or 0. */
static int
td_column_for_input(TupleDesc tupdesc, const td_image *image, uint32 input)
{
	int attnum;

	for (attnum = 1; attnum <= tupdesc->natts; attnum++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, attnum - 1);

		if (att->attisdropped)
			continue;
		if (td_image_find_input(image, NameStr(att->attname)) == (int) input)
			return attnum;
	}
	return 0;
}

/* Read column `attnum` of `tuple` as a core value. */
static void
td_value_from_column(HeapTuple tuple, TupleDesc tupdesc, int attnum,
					 td_value *value)
{
	Form_pg_attribute att = TupleDescAttr(tupdesc, attnum - 1);
	bool			  isnull;
	Datum			  datum = heap_getattr(tuple, attnum, tupdesc, &isnull);

	if (isnull)
	{
		value->kind = TD_VALUE_NULL;
		return;
	}
	switch (att->atttypid)
	{
		case INT2OID:
			value->kind = TD_VALUE_INT;
			value->i = DatumGetInt16(datum);
			break;
		case INT4OID:
			value->kind = TD_VALUE_INT;
			value->i = DatumGetInt32(datum);
			break;
		case INT8OID:
			value->kind = TD_VALUE_INT;
			value->i = DatumGetInt64(datum);
			break;
		case FLOAT4OID:
			value->kind = TD_VALUE_DOUBLE;
			value->d = DatumGetFloat4(datum);
			break;
		case FLOAT8OID:
			value->kind = TD_VALUE_DOUBLE;
			value->d = DatumGetFloat8(datum);
			break;
		case NUMERICOID:
			value->kind = TD_VALUE_DOUBLE;
			value->d = DatumGetFloat8(DirectFunctionCall1(numeric_float8, datum));
			break;
		case TIMESTAMPOID:
			value->kind = TD_VALUE_TIMESTAMP;
			value->i = TdTimestampToCore(DatumGetTimestamp(datum),
										 NameStr(att->attname));
			break;
		case TIMESTAMPTZOID:
			/* TLC times are local wall-clock: use the session's time zone */
			value->kind = TD_VALUE_TIMESTAMP;
			value->i = TdTimestampToCore(DatumGetTimestamp(DirectFunctionCall1(timestamptz_timestamp, datum)),
										 NameStr(att->attname));
			break;
		default:
			ereport(ERROR,
					errcode(ERRCODE_DATATYPE_MISMATCH),
					errmsg("column \"%s\" has type %s, which taxi_duration cannot read",
						   NameStr(att->attname), format_type_be(att->atttypid)),
					errhint("Use an integer, floating-point, numeric or timestamp column."));
	}
}

/* Datum of `minutes` for the target column's type. */
static Datum
td_result_datum(Oid type, double minutes)
{
	switch (type)
	{
		case FLOAT8OID:
			return Float8GetDatum(minutes);
		case FLOAT4OID:
			return Float4GetDatum((float4) minutes);
		case NUMERICOID:
			return DirectFunctionCall1(float8_numeric, Float8GetDatum(minutes));
	}
	pg_unreachable();
}

/*
 * What every row of a statement shares, worked out on its first row and kept
 * in fn_extra (the statement's memory): the trigger's arguments checked, the
 * target column, and the column of each model input.  Rebuilt if the
 * relation's descriptor or the model image is not the one it was made for.
 */
typedef struct TdTriggerPlan
{
	TupleDesc		tupdesc;	   /* the descriptor it was made for */
	const td_image *image;		   /* the model image it was made for */
	int				target;		   /* column to fill (1-based) */
	Oid				target_type;   /* its type: float8, float4 or numeric */
	bool			null_on_error; /* 'null': a rejected row gets NULL */
	uint32			ninputs;
	int				attnums[TD_MAX_VALUES]; /* column of each input, or 0 */
} TdTriggerPlan;

/* Check the trigger's arguments and map the model's inputs to columns. */
static void
td_trigger_plan(TdTriggerPlan *plan, TriggerData *trigdata, const td_image *image)
{
	Trigger	 *trigger = trigdata->tg_trigger;
	TupleDesc tupdesc = trigdata->tg_relation->rd_att;
	uint32	  i;

	if (trigger->tgnargs < 1 || trigger->tgnargs > 2)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("fill_predicted_duration() takes the target column and optionally 'error' or 'null'"),
				errhint("Write EXECUTE FUNCTION taxi_duration.fill_predicted_duration('predicted_duration')."));
	plan->null_on_error = false;
	if (trigger->tgnargs == 2)
	{
		if (pg_strcasecmp(trigger->tgargs[1], "null") == 0)
			plan->null_on_error = true;
		else if (pg_strcasecmp(trigger->tgargs[1], "error") != 0)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("invalid on-error mode \"%s\"", trigger->tgargs[1]),
					errhint("Use 'error' or 'null'."));
	}

	plan->target = SPI_fnumber(tupdesc, trigger->tgargs[0]);
	if (plan->target <= 0)
		ereport(ERROR,
				errcode(ERRCODE_UNDEFINED_COLUMN),
				errmsg("column \"%s\" of relation \"%s\" does not exist",
					   trigger->tgargs[0], RelationGetRelationName(trigdata->tg_relation)));
	plan->target_type = TupleDescAttr(tupdesc, plan->target - 1)->atttypid;
	if (plan->target_type != FLOAT8OID && plan->target_type != FLOAT4OID &&
		plan->target_type != NUMERICOID)
		ereport(ERROR,
				errcode(ERRCODE_DATATYPE_MISMATCH),
				errmsg("column \"%s\" must be double precision, real or numeric",
					   trigger->tgargs[0]));

	plan->ninputs = td_image_num_inputs(image);
	if (plan->ninputs > TD_MAX_VALUES)
		elog(ERROR, "model declares %u inputs, more than %d", plan->ninputs, TD_MAX_VALUES);
	for (i = 0; i < plan->ninputs; i++)
	{
		plan->attnums[i] = td_column_for_input(tupdesc, image, i);
		if (plan->attnums[i] == 0 && td_image_input_required(image, i))
			ereport(ERROR,
					errcode(ERRCODE_UNDEFINED_COLUMN),
					errmsg("relation \"%s\" has no column for model input \"%s\"",
						   RelationGetRelationName(trigdata->tg_relation),
						   td_image_input_name(image, i)),
					errhint("Add a column named like the input, or one of its aliases."));
	}
	/* set last: an error above leaves the plan unusable, so the next row checks again */
	plan->tupdesc = tupdesc;
	plan->image = image;
}

Datum
fill_predicted_duration(PG_FUNCTION_ARGS)
{
	TriggerData	   *trigdata = (TriggerData *) fcinfo->context;
	TdTriggerPlan  *plan;
	TupleDesc		tupdesc;
	HeapTuple		tuple;
	TdModelRef	   *ref;
	const td_image *image;
	td_value		values[TD_MAX_VALUES];
	uint32			i;
	td_error		error;
	double			minutes;
	Datum			result;
	bool			result_null = false;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				errmsg("fill_predicted_duration() must be called as a trigger"));
	if (!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		!TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		!(TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) ||
		  TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event)))
		ereport(ERROR,
				errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				errmsg("fill_predicted_duration() must be a BEFORE INSERT OR UPDATE ... FOR EACH ROW trigger"));

	tupdesc = trigdata->tg_relation->rd_att;
	tuple = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ?
				trigdata->tg_newtuple :
				trigdata->tg_trigtuple;

	ref = TdModelForCall();
	image = TdModelImage(ref);
	plan = (TdTriggerPlan *) fcinfo->flinfo->fn_extra;
	if (plan == NULL)
		plan = fcinfo->flinfo->fn_extra =
			MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(TdTriggerPlan));
	if (plan->tupdesc != tupdesc || plan->image != image)
	{
		plan->tupdesc = NULL;
		td_trigger_plan(plan, trigdata, image);
	}

	for (i = 0; i < plan->ninputs; i++)
	{
		values[i].kind = TD_VALUE_ABSENT;
		if (plan->attnums[i] > 0)
			td_value_from_column(tuple, tupdesc, plan->attnums[i], &values[i]);
	}

	if (td_predict(TdModelPredictor(ref), values, &minutes, &error) == TD_OK)
		result = td_result_datum(plan->target_type, minutes);
	else if (plan->null_on_error && error.status == TD_ERR_INPUT)
	{
		ereport(WARNING,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("%s", error.message),
				errdetail("%s Column \"%s\" was set to NULL.", error.detail,
						  trigdata->tg_trigger->tgargs[0]));
		result = (Datum) 0;
		result_null = true;
	}
	else
		TdReportModelError(&error);

	return PointerGetDatum(heap_modify_tuple_by_cols(tuple, tupdesc, 1, &plan->target,
													 &result, &result_null));
}
