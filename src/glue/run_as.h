/*
 * run_as.h — switching to the role whose privileges some SQL must run with
 * (run_as.c), for the monitoring functions.
 */
#ifndef TD_RUN_AS_H
#define TD_RUN_AS_H

#include "postgres.h"

#include "fmgr.h"

typedef struct TdRunAs
{
	Oid userid;
	int sec_context;
	int nestlevel;
} TdRunAs;

extern void		   TdRunAsBegin(TdRunAs *saved, Oid role, bool restricted,
								const char *search_path);
extern void		   TdRunAsEnd(TdRunAs *saved);
extern char		  *TdCurrentSearchPath(void);
extern const char *TdFunctionSchema(FunctionCallInfo fcinfo);
extern Oid		   TdFunctionOwner(FunctionCallInfo fcinfo);
extern void		   TdRequireRole(Oid role, const char *what);
extern Datum	   TdSpiScalar(const char *sql, int nargs, Oid *argtypes,
							   Datum *values, const bool *nulls, bool *isnull);

#endif /* TD_RUN_AS_H */
