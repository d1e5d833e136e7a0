/*-------------------------------------------------------------------------
 *
 * entry.c
 *	  Entry points that act for their caller with the rights of tdgen's
 *	  owner: the refresh procedure, and the functions that must know who
 *	  called them.
 *
 * A SECURITY DEFINER function cannot tell who called it, and a procedure
 * that commits cannot be SECURITY DEFINER at all.  So these entry points
 * are C functions that run as their caller, note the caller's role, and
 * then call an internal function of schema tdgen as the role that owns
 * the entry point (as SECURITY DEFINER would), passing the caller's role
 * first.  The internal functions are executable by their owner alone:
 * nobody reaches them but through an entry point, and none takes SQL or
 * state from its caller.
 *
 *	tdgen_<name>(args)		->	tdgen.<name>_by(caller regrole, args)
 *
 * tdgen_refresh runs its steps (tdgen.run_start, refresh_prepare,
 * refresh_build, run_finish) the same way, committing between them.
 * While they run, the environment's owner is the acting role: what the
 * steps build in staging and read from production they do as that role,
 * inside a security-restricted operation (TdgenExecuteAs, the background
 * workers of tdgen.run_jobs, tdgen's connection to production), the way
 * PostgreSQL builds an index as its table's owner.  Only the records of
 * the run are written with tdgen's own rights.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/parse_func.h"
#include "storage/latch.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/elog.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/syscache.h"
#include "utils/wait_event.h"

#include "tdgen.h"

PG_FUNCTION_INFO_V1(tdgen_entry);
PG_FUNCTION_INFO_V1(tdgen_refresh);
PG_FUNCTION_INFO_V1(tdgen_run_as_owner);

/* The owner of the environment being refreshed, or InvalidOid. */
Oid			TdgenActingRole = InvalidOid;

#define MAX_ENTRY_ARGS 8

/* The role that owns a function: the rights its internal steps run with. */
static Oid
function_owner(Oid fn_oid, char **name)
{
	HeapTuple	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(fn_oid));
	Form_pg_proc proc;
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for function %u", fn_oid);
	proc = (Form_pg_proc) GETSTRUCT(tup);
	owner = proc->proowner;
	if (name != NULL)
		*name = pstrdup(NameStr(proc->proname));
	ReleaseSysCache(tup);
	return owner;
}

/*
 * tdgen_entry(...)
 *		The body of an entry point tdgen_<name>: calls tdgen.<name>_by with
 *		the caller's role and the same arguments, as the entry point's
 *		owner, and returns what it returns (a set too: the caller's
 *		ReturnSetInfo is handed on).
 */
Datum
tdgen_entry(PG_FUNCTION_ARGS)
{
	Oid			caller = GetUserId();
	char	   *name;
	Oid			owner = function_owner(fcinfo->flinfo->fn_oid, &name);
	int			nargs = PG_NARGS();
	Oid			argtypes[MAX_ENTRY_ARGS + 1];
	Oid			inner;
	FmgrInfo   *flinfo;
	LOCAL_FCINFO(call, MAX_ENTRY_ARGS + 1);
	Oid			save_user;
	int			save_sec;
	Datum		result;

	if (strncmp(name, "tdgen_", 6) != 0 || nargs > MAX_ENTRY_ARGS)
		elog(ERROR, "function \"%s\" is not a tdgen entry point", name);
	argtypes[0] = REGROLEOID;
	for (int i = 0; i < nargs; i++)
		argtypes[i + 1] = get_fn_expr_argtype(fcinfo->flinfo, i);
	if (fcinfo->flinfo->fn_expr == NULL)
	{
		/* called without an expression: the declared types */
		HeapTuple	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(fcinfo->flinfo->fn_oid));

		for (int i = 0; i < nargs; i++)
			argtypes[i + 1] = ((Form_pg_proc) GETSTRUCT(tup))->proargtypes.values[i];
		ReleaseSysCache(tup);
	}
	inner = LookupFuncName(list_make2(makeString("tdgen"), makeString(psprintf("%s_by", name + 6))),
						   nargs + 1, argtypes, false);

	flinfo = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(FmgrInfo));
	fmgr_info_cxt(inner, flinfo, fcinfo->flinfo->fn_mcxt);
	InitFunctionCallInfoData(*call, flinfo, nargs + 1, fcinfo->fncollation, fcinfo->context, fcinfo->resultinfo);
	call->args[0].value = ObjectIdGetDatum(caller);
	call->args[0].isnull = false;
	for (int i = 0; i < nargs; i++)
		call->args[i + 1] = fcinfo->args[i];

	GetUserIdAndSecContext(&save_user, &save_sec);
	SetUserIdAndSecContext(owner, save_sec | SECURITY_LOCAL_USERID_CHANGE);
	PG_TRY();
	{
		result = FunctionCallInvoke(call);
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_user, save_sec);
	}
	PG_END_TRY();
	fcinfo->isnull = call->isnull;
	return result;
}

/*
 * TdgenExecuteAs
 *		Run SQL text (one or more commands) through SPI as role, inside a
 *		security-restricted operation (no SET ROLE, no temporary objects
 *		that outlive it), or as the current user when role is InvalidOid.
 *		Returns the first column of the first row of the last command as
 *		text, or NULL, allocated in the caller's memory context.
 */
char *
TdgenExecuteAs(Oid role, const char *sql)
{
	MemoryContext mcxt = CurrentMemoryContext;
	Oid			save_user;
	int			save_sec;
	char	   *volatile result = NULL;

	GetUserIdAndSecContext(&save_user, &save_sec);
	if (OidIsValid(role))
		SetUserIdAndSecContext(role, save_sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
	PG_TRY();
	{
		int			rc;

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		rc = SPI_execute(sql, false, 0);
		if (rc < 0)
			elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
		if (SPI_tuptable != NULL && SPI_processed > 0 && SPI_tuptable->tupdesc->natts > 0)
		{
			char	   *value = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

			if (value != NULL)
				result = MemoryContextStrdup(mcxt, value);
		}
		SPI_finish();
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_user, save_sec);
	}
	PG_END_TRY();
	return result;
}

/*
 * tdgen.run_as_owner(statements text[]) returns text
 *		Each statement as the acting role (the owner of the environment
 *		being refreshed) in a security-restricted operation, or as the
 *		current user outside a refresh; the result of the last one.
 */
Datum
tdgen_run_as_owner(PG_FUNCTION_ARGS)
{
	Datum	   *items;
	bool	   *nulls;
	int			n;
	char	   *result = NULL;

	deconstruct_array(PG_GETARG_ARRAYTYPE_P(0), TEXTOID, -1, false, TYPALIGN_INT, &items, &nulls, &n);
	for (int i = 0; i < n; i++)
		if (!nulls[i])
		{
			result = TdgenExecuteAs(TdgenActingRole, TextDatumGetCString(items[i]));
			CommandCounterIncrement();
		}
	if (result == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(result));
}

/*
 * TdgenWithholdValues
 *		Make an error of a refresh safe to show and log: PostgreSQL's own
 *		errors quote row values where a refresh's rows are production's
 *		(an integrity violation's detail: "Key (id)=(42) is not present";
 *		a data exception's message: invalid input syntax ... "abc"), and so
 *		may an error that production's own code raises (a function a CHECK
 *		calls, made in a shadow schema).  Those parts are replaced by what
 *		the error is about (constraint, table, column); the SQLSTATE and
 *		every other part stay.  tdgen's own errors (raised by its PL/pgSQL
 *		functions) name no value and are left as they are.
 */
void
TdgenWithholdValues(ErrorData *edata)
{
	int			class = ERRCODE_TO_CATEGORY(edata->sqlerrcode);
	const char *context = edata->context ? edata->context : "";
	bool		raised = edata->funcname && strcmp(edata->funcname, "exec_stmt_raise") == 0;
	bool		production_code = strstr(context, "function tdgen_shadow_") != NULL;
	StringInfoData about;

	if (raised && !production_code)
		return;
	if (class != ERRCODE_INTEGRITY_CONSTRAINT_VIOLATION && class != ERRCODE_DATA_EXCEPTION && !production_code)
		return;
	initStringInfo(&about);
	if (edata->constraint_name)
		appendStringInfo(&about, " constraint \"%s\"", edata->constraint_name);
	if (edata->column_name)
		appendStringInfo(&about, " column \"%s\"", edata->column_name);
	if (edata->table_name)
		appendStringInfo(&about, " %s \"%s\"%s%s", edata->column_name ? "of table" : "table",
						 edata->schema_name ? edata->schema_name : "", edata->schema_name ? "." : "",
						 edata->table_name);
	if (production_code)
	{
		edata->message = psprintf("production's code failed on a row being loaded (SQLSTATE %s)%s%s",
								  unpack_sql_state(edata->sqlerrcode), about.len > 0 ? ":" : "", about.data);
		edata->detail = pstrdup("Its message is withheld: it can quote the row's values.");
		edata->hint = pstrdup("The function is production's (a CHECK, default, index or generated column calls it); "
							  "run the same statement on production to see the message.");
	}
	else if (class == ERRCODE_DATA_EXCEPTION)
	{
		edata->message = psprintf("a production value could not be loaded (SQLSTATE %s)%s%s",
								  unpack_sql_state(edata->sqlerrcode), about.len > 0 ? ":" : "", about.data);
		edata->detail = pstrdup("PostgreSQL's message is withheld: it can quote the value.");
	}
	else
		edata->detail = psprintf("PostgreSQL's detail is withheld: it quotes the row's values%s%s.",
								 about.len > 0 ? "; about" : "", about.data);
	edata->detail_log = NULL;
	if (edata->hint == NULL)
		edata->hint = pstrdup("The run's phase and table show in tdgen.run and the NOTICEs before the error.");
}

/*
 * TdgenSessionLocation
 *		Where a session of a refresh is at work, from the label
 *		tdgen.session_label puts in its application_name
 *		("tdgen|phase|n|total|pid|table"): "phase load, table app.item", or
 *		NULL when the session has no such label.  Palloc'd.
 */
char *
TdgenSessionLocation(void)
{
	const char *label = GetConfigOption("application_name", false, false);
	char	  **parts;
	int			n = 0;
	char	   *copy;
	char	   *rest;

	if (label == NULL || strncmp(label, "tdgen|", 6) != 0)
		return NULL;
	copy = pstrdup(label);
	parts = palloc(6 * sizeof(char *));
	rest = copy;
	while (n < 5)
	{
		char	   *bar = strchr(rest, '|');

		if (bar == NULL)
			break;
		*bar = '\0';
		parts[n++] = rest;
		rest = bar + 1;
	}
	if (n < 5)
		return NULL;
	parts[5] = rest;			/* the table, which may hold a bar */
	return *parts[5] != '\0' ? psprintf("phase %s, table %s", parts[1], parts[5]) : psprintf("phase %s", parts[1]);
}

/* ------------------------------------------------------------------------
 * The refresh
 * ------------------------------------------------------------------------
 */

/*
 * Run one statement of the refresh with parameters (nulls as SPI takes
 * them, or NULL for none null) as the owner; its first column, *isnull
 * when it returns none.  Errors go to the caller.
 */
static Datum
run_as(Oid owner, const char *sql, int nparams, Oid *types, Datum *values, const char *nulls, bool *isnull)
{
	Oid			save_user;
	int			save_sec;
	volatile Datum result = (Datum) 0;
	int			rc;

	*isnull = true;
	GetUserIdAndSecContext(&save_user, &save_sec);
	SetUserIdAndSecContext(owner, save_sec | SECURITY_LOCAL_USERID_CHANGE);
	PG_TRY();
	{
		rc = SPI_execute_with_args(sql, nparams, types, values, nulls, false, 0);
		if (rc < 0)
			elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
		if (SPI_processed > 0 && SPI_tuptable->tupdesc->natts > 0)
			result = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, isnull);
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_user, save_sec);
	}
	PG_END_TRY();
	return result;
}

/*
 * Run a step of the refresh, tdgen.<step>(run_id), as the owner inside a
 * subtransaction; NULL when it succeeded, else its error (copied into
 * keep), the step's work rolled back.
 */
static ErrorData *
run_step(Oid owner, const char *sql, int64 run_id, MemoryContext keep)
{
	MemoryContext mcxt = CurrentMemoryContext;
	ResourceOwner resowner = CurrentResourceOwner;
	ErrorData  *volatile edata = NULL;
	Oid			type = INT8OID;
	Datum		value = Int64GetDatum(run_id);
	bool		isnull;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(mcxt);
	PG_TRY();
	{
		(void) run_as(owner, sql, 1, &type, &value, NULL, &isnull);
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		char	   *where;

		MemoryContextSwitchTo(keep);
		edata = CopyErrorData();
		FlushErrorState();
		/* where this session was at work, before the rollback takes it back */
		where = TdgenSessionLocation();
		if (where != NULL && (edata->context == NULL || strstr(edata->context, JOBS_CONTEXT_PREFIX) == NULL))
			edata->context = psprintf("%s%s%s%s", edata->context ? edata->context : "", edata->context ? "\n" : "",
									  JOBS_CONTEXT_PREFIX, where);
		RollbackAndReleaseCurrentSubTransaction();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(mcxt);
	CurrentResourceOwner = resowner;
	return edata;
}

/* A text column of the run's row, read as the owner. */
static char *
run_field(Oid owner, int64 run_id, const char *column)
{
	Oid			type = INT8OID;
	Datum		value = Int64GetDatum(run_id);
	bool		isnull;
	Datum		d = run_as(owner, psprintf("SELECT %s FROM tdgen.run WHERE id = $1", column),
						   1, &type, &value, NULL, &isnull);

	return isnull ? NULL : TextDatumGetCString(d);
}

/* Wait some seconds, a cancel or a shutdown ending the wait with an error. */
static void
wait_seconds(double seconds)
{
	long		left = (long) (seconds * 1000);

	while (left > 0)
	{
		long		step = Min(left, 1000);

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, step, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		left -= step;
	}
}

/*
 * CALL tdgen_refresh(environment text, on_busy text DEFAULT 'fail',
 *					  "trigger" text DEFAULT 'manual', force boolean DEFAULT false)
 *
 * The run is recorded and committed first (tdgen.run_start decides
 * whether the caller may refresh, and records a denied, busy or skipped
 * attempt as such; a scheduled call with no time due records nothing);
 * then the two steps, committed in between so that background workers
 * see the shadow schema; then the run is closed and committed, and a
 * step's error raised again with its SQLSTATE, message, detail and hint.
 * A failed attempt is tried again, as a new one, when tdgen.retry_delay
 * says so (a transient failure, within the option retries).  Only the steps' own functions run
 * as tdgen's owner, and the environment's owner is the acting role while
 * they run.
 */
static void
refresh(FunctionCallInfo fcinfo)
{
	Oid			owner = function_owner(fcinfo->flinfo->fn_oid, NULL);
	Oid			caller = GetUserId();
	bool		nonatomic = fcinfo->context != NULL && IsA(fcinfo->context, CallContext) &&
		!castNode(CallContext, fcinfo->context)->atomic;
	static const char *const steps[] = {
		"SELECT tdgen.refresh_prepare($1)",
		"SELECT tdgen.refresh_build($1)",
	};
	Oid			types[6] = {TEXTOID, TEXTOID, OIDOID, TEXTOID, BOOLOID, INT8OID};
	Datum		values[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', 'n'};
	bool		isnull;
	int64		run_id;
	char	   *status;
	ErrorData  *edata = NULL;
	char	   *environment;
	MemoryContext keep = CurrentMemoryContext;	/* outlives SPI_finish */
	Oid			finish_types[4] = {INT8OID, TEXTOID, TEXTOID, TEXTOID};
	Datum		finish_values[4];
	char		finish_nulls[4];

	if (!nonatomic || IsTransactionBlock())
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("tdgen_refresh cannot run inside a transaction block"),
				 errhint("CALL it on its own: it commits its run record before the work, so the record survives a failure.")));
	for (int i = 0; i < 4; i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("tdgen_refresh needs an environment, on_busy, trigger and force, none of them NULL")));
	environment = text_to_cstring(PG_GETARG_TEXT_PP(0));

	if (SPI_connect_ext(SPI_OPT_NONATOMIC) != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect_ext failed");

	/* the environment's owner acts from here on (run_start refuses none) */
	values[0] = PG_GETARG_DATUM(0);
	values[0] = run_as(owner, "SELECT e.owner::text FROM tdgen.environment AS e WHERE e.name = $1", 1, types,
					   values, NULL, &isnull);
	if (!isnull)
		TdgenActingRole = get_role_oid(TextDatumGetCString(values[0]), true);

	values[0] = PG_GETARG_DATUM(0);
	values[1] = PG_GETARG_DATUM(1);
	values[2] = ObjectIdGetDatum(caller);
	values[3] = PG_GETARG_DATUM(2);
	values[4] = PG_GETARG_DATUM(3);
	for (;;)
	{
		Datum		delay;

		run_id = DatumGetInt64(run_as(owner, "SELECT tdgen.run_start($1, $2, $3, $4, $5, $6)", 6, types, values, nulls,
									  &isnull));
		if (isnull)
		{
			/* a scheduled call with no time of its schedule due */
			SPI_finish();
			ereport(DEBUG1, (errmsg("tdgen %s: no scheduled time is due", environment)));
			return;
		}
		status = run_field(owner, run_id, "status");
		if (strcmp(status, "skipped") == 0)
		{
			char	   *reason = run_field(owner, run_id, "reason");

			SPI_commit();
			SPI_finish();
			ereport(NOTICE,
					(errmsg("tdgen %s: skipped (run " INT64_FORMAT "): %s", environment, run_id, reason)));
			return;
		}
		if (strcmp(status, "running") != 0)
		{
			/* refused: the record of the attempt is kept, then the error */
			char	   *sqlstate = run_field(owner, run_id, "sqlstate");
			char	   *message = run_field(owner, run_id, "message");

			SPI_commit();
			ereport(ERROR,
					(errcode(MAKE_SQLSTATE(sqlstate[0], sqlstate[1], sqlstate[2], sqlstate[3], sqlstate[4])),
					 errmsg_internal("%s", message),
					 strcmp(status, "busy") == 0
					 ? errhint("Wait for it (see tdgen_progress), CALL tdgen_refresh(..., on_busy => 'wait') to queue behind it, or on_busy => 'skip'.")
					 : strcmp(sqlstate, "TG003") == 0
					 ? errhint("The environment's option min_interval keeps refreshes apart; its owner or a superuser may CALL tdgen_refresh(..., force => true).")
					 : errhint("The environment's owner or a superuser may allow you with tdgen_grant('%s', 'refresh', role).",
							   environment)));
		}
		SPI_commit();

		for (int i = 0; i < (int) lengthof(steps) && edata == NULL; i++)
		{
			edata = run_step(owner, steps[i], run_id, keep);
			if (edata == NULL)
				SPI_commit();
		}
		if (edata != NULL)
		{
			/*
			 * Where it failed, as a background worker's job or this session
			 * (run_step) said in the error's context
			 */
			const char *job = edata->context ? strstr(edata->context, JOBS_CONTEXT_PREFIX) : NULL;
			char	   *where = NULL;

			if (job != NULL)
			{
				where = pstrdup(job + strlen(JOBS_CONTEXT_PREFIX));
				where[strcspn(where, "\n")] = '\0';
			}
			/* a worker's error had its values withheld there (jobs.c) */
			if (edata->funcname == NULL || strcmp(edata->funcname, "raise_reply_error") != 0)
				TdgenWithholdValues(edata);
			edata->context = where ? psprintf("refresh of environment %s, %s", environment, where)
				: psprintf("refresh of environment %s", environment);

			/*
			 * End the failed transaction whole (and with it the remote one,
			 * which may have lost its connection) before recording the
			 * failure
			 */
			SPI_rollback();
		}

		/* the run's record is closed and committed whatever comes: a cancel waits */
		HOLD_INTERRUPTS();
		finish_values[0] = Int64GetDatum(run_id);
		memset(finish_nulls, 'n', sizeof(finish_nulls));
		finish_nulls[0] = ' ';
		if (edata != NULL)
		{
			finish_values[1] = CStringGetTextDatum(unpack_sql_state(edata->sqlerrcode));
			finish_values[2] = CStringGetTextDatum(edata->message ? edata->message : "");
			finish_nulls[1] = finish_nulls[2] = ' ';
			if (edata->detail != NULL)
			{
				finish_values[3] = CStringGetTextDatum(edata->detail);
				finish_nulls[3] = ' ';
			}
		}
		(void) run_as(owner, "SELECT tdgen.run_finish($1, $2, $3, $4)", 4, finish_types, finish_values, finish_nulls,
					  &isnull);
		SPI_commit();
		RESUME_INTERRUPTS();
		if (edata == NULL)
			break;

		/* again, as the next attempt, when tdgen.retry_delay says so */
		values[5] = Int64GetDatum(run_id);
		delay = run_as(owner, "SELECT tdgen.retry_delay($1)", 1, types + 5, values + 5, NULL, &isnull);
		if (isnull)
			break;
		ereport(NOTICE,
				(errmsg("tdgen %s: attempt %s failed with SQLSTATE %s; trying again in %g s", environment,
						run_field(owner, run_id, "attempt::text"), unpack_sql_state(edata->sqlerrcode),
						DatumGetFloat8(delay))));
		wait_seconds(DatumGetFloat8(delay));
		FreeErrorData(edata);
		edata = NULL;
		nulls[5] = ' ';
	}
	SPI_finish();

	if (edata != NULL)
	{
		/*
		 * the step's error as it was raised, with where in the refresh
		 * instead of where in tdgen's code, and no empty parts
		 */
		if (edata->detail != NULL && edata->detail[0] == '\0')
			edata->detail = NULL;
		if (edata->hint != NULL && edata->hint[0] == '\0')
			edata->hint = NULL;
		edata->internalquery = NULL;
		edata->internalpos = 0;
		edata->cursorpos = 0;
		ReThrowError(edata);
	}
	ereport(NOTICE,
			(errmsg("tdgen %s: refreshed (run " INT64_FORMAT ")", environment, run_id)));
}

/*
 * CALL tdgen_refresh(environment text, on_busy text DEFAULT 'fail',
 *					  "trigger" text DEFAULT 'manual', force boolean DEFAULT false)
 */
Datum
tdgen_refresh(PG_FUNCTION_ARGS)
{
	PG_TRY();
	{
		refresh(fcinfo);
	}
	PG_FINALLY();
	{
		TdgenActingRole = InvalidOid;
	}
	PG_END_TRY();
	PG_RETURN_VOID();
}
