/*
 * access.c — who may load what, and who sees which details.
 *
 *   loading       superusers and members of taxi_duration_admin; a file://
 *                 URI also needs superuser or the privileges of
 *                 pg_read_server_files (as pg_read_file() does), wherever a
 *                 URI can be set or used: load_model(uri), load_model() with
 *                 the configured URI, and ALTER SYSTEM SET
 *                 taxi_duration.model_uri (a ProcessUtility hook: the GUC
 *                 check hook cannot tell who set a value, because it also
 *                 runs at every reload in every process).  The bundle
 *                 installed with the extension is always allowed.
 *   details       error details, model_info().last_error and model_loads.detail
 *                 may name server paths; they are shown to superusers,
 *                 members of taxi_duration_admin and of pg_read_all_settings
 *                 only.  Other roles get the message alone (the detail goes
 *                 to the server log).
 *   URIs in text  user info ("user:password@") is removed from any URI we
 *                 echo (TdRedactUri).  A SET or ALTER SYSTEM giving one of
 *                 our URL settings a value with user info is refused here,
 *                 before PostgreSQL could write the statement (and so the
 *                 secret) to the server log as a failed statement.
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/guc.h"

#include "serving/serving.h"
#include "tda_aws.h"

static ProcessUtility_hook_type prev_process_utility_hook = NULL;

/* Is the current user a member (with privileges) of the named role? */
static bool
td_has_privs_of(const char *role)
{
	Oid oid = get_role_oid(role, true);

	return OidIsValid(oid) && has_privs_of_role(GetUserId(), oid);
}

/*
 * May the caller see error details, paths and the last failure in full?
 * The loader worker has no client (and no transaction to look roles up in).
 */
bool
TdCallerSeesDetails(void)
{
	if (!IsTransactionState())
		return AmBackgroundWorkerProcess() && !IsParallelWorker();
	return superuser() || td_has_privs_of(TD_ADMIN_ROLE) ||
		   has_privs_of_role(GetUserId(), ROLE_PG_READ_ALL_SETTINGS);
}

/* Is `uri` the bundle installed with the extension? */
bool
TdIsDefaultBundleUri(const char *uri)
{
	char *default_uri = TdDefaultBundleUri();
	bool  same = strcmp(uri, default_uri) == 0;

	pfree(default_uri);
	return same;
}

/*
 * ERROR unless the current user may make the server read `uri`: any URI
 * that is not file://, the default bundle, or a file:// URI for superusers
 * and roles with the privileges of pg_read_server_files.
 */
void
TdCheckFileUriAllowed(const char *uri, const char *message)
{
	if (strncmp(uri, "file://", 7) != 0 || TdIsDefaultBundleUri(uri))
		return;
	if (superuser() || has_privs_of_role(GetUserId(), ROLE_PG_READ_SERVER_FILES))
		return;
	ereport(ERROR,
			errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			errmsg("%s", message),
			errdetail("Reading a model from a file:// URI requires superuser or the privileges of role \"pg_read_server_files\"; only the bundle installed with the extension is allowed to everyone who may load models."));
}

/* ERROR unless the current user may load models from `uri`. */
void
TdCheckLoadPermission(const char *uri)
{
	if (!superuser() && !td_has_privs_of(TD_ADMIN_ROLE))
		ereport(ERROR,
				errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				errmsg("permission denied to load a taxi_duration model"),
				errdetail("Only superusers and members of role \"%s\" may load models.",
						  TD_ADMIN_ROLE));
	TdCheckFileUriAllowed(uri, "permission denied to load a model from a file");
}

/* ALTER SYSTEM SET taxi_duration.model_uri = 'file://...': the file rule. */
static void
td_check_alter_system(AlterSystemStmt *stmt)
{
	VariableSetStmt *set = stmt->setstmt;
	char			*value;

	if (set == NULL || set->name == NULL || set->kind != VAR_SET_VALUE ||
		pg_strcasecmp(set->name, "taxi_duration.model_uri") != 0)
		return; /* other settings, RESET and DEFAULT ('') are fine */
	value = ExtractSetVariableArgs(set);
	if (value != NULL)
		TdCheckFileUriAllowed(value, "permission denied to set taxi_duration.model_uri to a file:// URI");
}

/*
 * SET / ALTER SYSTEM / ALTER ROLE|DATABASE ... SET of a URL setting to a
 * value with credentials: refused without the statement in the log.
 */
static void
td_check_no_credentials_in(VariableSetStmt *set)
{
	static const char *const url_settings[] = {
		"taxi_duration.mlflow_tracking_uri", "taxi_duration.aws_endpoint_url",
		"taxi_duration.model_uri"
	};
	char *value;
	int	  i;

	if (set == NULL || set->name == NULL || set->kind != VAR_SET_VALUE)
		return;
	for (i = 0; i < (int) lengthof(url_settings); i++)
	{
		if (pg_strcasecmp(set->name, url_settings[i]) != 0)
			continue;
		value = ExtractSetVariableArgs(set);
		if (value != NULL && TdUrlHasUserinfo(value))
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("%s must not contain credentials", url_settings[i]),
					errdetail("The value has user information (user:password@host) in it; setting values are shown to other roles and written to the server log."),
					errhint("Credentials come from the server's environment (AWS_*, MLFLOW_TRACKING_TOKEN) or taxi_duration.aws_shared_credentials_file."),
					errhidestmt(true));
	}
}

/* ProcessUtility hook: check SET and ALTER SYSTEM, then chain. */
static void
td_process_utility(PlannedStmt *pstmt, const char *query_string,
				   bool read_only_tree, ProcessUtilityContext context,
				   ParamListInfo params, QueryEnvironment *query_env,
				   DestReceiver *dest, QueryCompletion *qc)
{
	Node *stmt = pstmt->utilityStmt;

	if (IsA(stmt, AlterSystemStmt))
	{
		td_check_no_credentials_in(((AlterSystemStmt *) stmt)->setstmt);
		td_check_alter_system((AlterSystemStmt *) stmt);
	}
	else if (IsA(stmt, VariableSetStmt))
		td_check_no_credentials_in((VariableSetStmt *) stmt);
	else if (IsA(stmt, AlterRoleSetStmt))
		td_check_no_credentials_in(((AlterRoleSetStmt *) stmt)->setstmt);
	else if (IsA(stmt, AlterDatabaseSetStmt))
		td_check_no_credentials_in(((AlterDatabaseSetStmt *) stmt)->setstmt);
	if (prev_process_utility_hook != NULL)
		prev_process_utility_hook(pstmt, query_string, read_only_tree, context,
								  params, query_env, dest, qc);
	else
		standard_ProcessUtility(pstmt, query_string, read_only_tree, context,
								params, query_env, dest, qc);
}

/* Install the hook; called from _PG_init however the library is loaded. */
void
TdAccessInit(void)
{
	prev_process_utility_hook = ProcessUtility_hook;
	ProcessUtility_hook = td_process_utility;
}

/* A palloc'd copy of `uri` without the user info of any authority in it. */
char *
TdRedactUri(const char *uri)
{
	Size  size = strlen(uri) + 1;
	char *copy = palloc(size);

	tdc_redact_userinfo(uri, copy, size);
	return copy;
}
