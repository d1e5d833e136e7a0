/*-------------------------------------------------------------------------
 *
 * remote.c
 *	  tdgen's own connection to production, for the binary COPY transfer.
 *
 * A refresh with transfer 'copy' opens one libpq connection to the
 * source's foreign server, made from the server's options and the user
 * mapping of the environment's owner during a refresh (of the current user
 * otherwise), with postgres_fdw's password rules, and starts a
 * REPEATABLE READ, READ ONLY transaction there.  Every production read of
 * the refresh goes through it (catalog rows as JSON, table rows as binary
 * COPY), so the whole refresh sees one snapshot.  The connection belongs
 * to the local (sub)transaction that opened it and is closed when that
 * ends, or, when held, when tdgen.remote_end() is called or a local
 * transaction aborts: a refresh commits its progress without ending the
 * snapshot.  On an abort a remote query still running is cancelled first.
 * The snapshot can be exported, and a connection opened in another
 * session (a worker loading tables side by side) can take it.
 *
 * Waits for production are interruptible: a cancel or statement timeout
 * on staging ends the wait, and the abort closes the remote side.
 * Production's errors are passed on with their SQLSTATE and primary
 * message only: their detail and context can quote values.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/transam.h"
#include "access/xact.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "foreign/foreign.h"
#include "funcapi.h"
#include "libpq-fe.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/latch.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/wait_event.h"

#include "tdgen.h"

PG_FUNCTION_INFO_V1(tdgen_remote_begin);
PG_FUNCTION_INFO_V1(tdgen_remote_export);
PG_FUNCTION_INFO_V1(tdgen_remote_end);
PG_FUNCTION_INFO_V1(tdgen_remote_server);
PG_FUNCTION_INFO_V1(tdgen_remote_query);
PG_FUNCTION_INFO_V1(tdgen_remote_rows);
PG_FUNCTION_INFO_V1(tdgen_remote_rows_read);

/* The rows the last tdgen.remote_rows of this backend returned. */
static int64 remote_rows_returned = 0;

/* The open connection, if any, and what it belongs to. */
static PGconn *remote_conn = NULL;
static Oid	remote_server = InvalidOid;
static SubTransactionId remote_subid = InvalidSubTransactionId;
static bool remote_held = false;	/* kept across local commits */
static bool callbacks_registered = false;

/* Close the connection; cancel first what still runs there. */
static void
remote_close(bool cancel)
{
	PGconn	   *conn = remote_conn;

	if (conn == NULL)
		return;
	remote_conn = NULL;
	remote_server = InvalidOid;
	remote_subid = InvalidSubTransactionId;
	remote_held = false;
	if (cancel && PQtransactionStatus(conn) == PQTRANS_ACTIVE)
	{
		PGcancel   *request = PQgetCancel(conn);
		char		errbuf[256];

		if (request != NULL)
		{
			(void) PQcancel(request, errbuf, sizeof(errbuf));
			PQfreeCancel(request);
		}
	}
	PQfinish(conn);
}

static void
remote_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			remote_close(true);
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
			if (remote_held)
				remote_subid = InvalidSubTransactionId;
			else
				remote_close(false);
			break;
		case XACT_EVENT_PREPARE:
			remote_close(false);
			break;
		default:
			break;
	}
}

static void
remote_subxact_callback(SubXactEvent event, SubTransactionId subid, SubTransactionId parent, void *arg)
{
	if (remote_conn == NULL || subid != remote_subid)
		return;
	if (event == SUBXACT_EVENT_ABORT_SUB)
		remote_close(true);
	else if (event == SUBXACT_EVENT_COMMIT_SUB)
		remote_subid = parent;
}

/*
 * Raise production's error (or the connection's, when there is no result)
 * as a local one: SQLSTATE and primary message, nothing that quotes data.
 * Frees the result.
 */
void
TdgenRemoteError(PGresult *res, const char *doing)
{
	char	   *sqlstate = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	char	   *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	int			code = ERRCODE_CONNECTION_FAILURE;
	char	   *message;

	if (sqlstate != NULL && strlen(sqlstate) == 5)
		code = MAKE_SQLSTATE(sqlstate[0], sqlstate[1], sqlstate[2], sqlstate[3], sqlstate[4]);
	if (primary != NULL)
		message = pstrdup(primary);
	else if (remote_conn != NULL && PQstatus(remote_conn) == CONNECTION_BAD)
		message = pstrdup("lost connection to production");
	else
		message = remote_conn != NULL ? pchomp(PQerrorMessage(remote_conn)) : pstrdup("no connection to production");
	PQclear(res);
	ereport(ERROR,
			(errcode(code),
			 errmsg("production: %s", message),
			 errcontext("%s", doing)));
}

/* 08003 unless tdgen's connection to production is open. */
static void
require_connection(void)
{
	if (remote_conn == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_DOES_NOT_EXIST),
				 errmsg("no connection to production is open"),
				 errhint("tdgen.remote_begin(server) opens one for the transaction.")));
}

/*
 * Wait for production to send something (or for a latch set, so that a
 * cancel or timeout is seen), then take in what came.
 */
static void
wait_for_input(const char *doing)
{
	int			events;

	events = WaitLatchOrSocket(MyLatch, WL_LATCH_SET | WL_SOCKET_READABLE | WL_EXIT_ON_PM_DEATH,
							   PQsocket(remote_conn), -1L, PG_WAIT_EXTENSION);
	ResetLatch(MyLatch);
	CHECK_FOR_INTERRUPTS();
	if ((events & WL_SOCKET_READABLE) && !PQconsumeInput(remote_conn))
		TdgenRemoteError(NULL, doing);
}

/* Wait until the connection has a whole result to give, interruptibly. */
static void
remote_wait(const char *doing)
{
	while (PQisBusy(remote_conn))
		wait_for_input(doing);
}

/*
 * Send one statement and return its first result (the caller clears it);
 * raise production's error if it failed.  Results after the first are
 * read by the caller (COPY) or by TdgenRemoteFinish.
 */
PGresult *
TdgenRemoteSend(const char *sql, int expected, const char *doing)
{
	return TdgenRemoteSendParams(sql, 0, NULL, expected, doing);
}

/*
 * The same with parameters, as text, $1 to $nparams (the extended
 * protocol: one statement only); none, and several statements may be sent.
 */
PGresult *
TdgenRemoteSendParams(const char *sql, int nparams, const char *const *params, int expected, const char *doing)
{
	PGresult   *res;

	require_connection();
	if (!(nparams == 0 ? PQsendQuery(remote_conn, sql)
		  : PQsendQueryParams(remote_conn, sql, nparams, NULL, params, NULL, NULL, 0)))
		TdgenRemoteError(NULL, doing);
	remote_wait(doing);
	res = PQgetResult(remote_conn);
	if ((int) PQresultStatus(res) != expected)
		TdgenRemoteError(res, doing);
	return res;
}

/* Read the results left of a statement; raise the first error among them. */
void
TdgenRemoteFinish(const char *doing)
{
	PGresult   *res;

	for (;;)
	{
		remote_wait(doing);
		res = PQgetResult(remote_conn);
		if (res == NULL)
			break;
		if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
			TdgenRemoteError(res, doing);
		PQclear(res);
	}
}

/*
 * The next message of a COPY TO STDOUT, waiting for it; returns its length
 * and sets *buf (to free with PQfreemem), or -1 at the end of the data.
 */
int
TdgenRemoteCopyData(char **buf, const char *doing)
{
	for (;;)
	{
		int			len = PQgetCopyData(remote_conn, buf, 1);

		if (len > 0)
			return len;
		if (len == -1)
			return -1;
		if (len == -2)
			TdgenRemoteError(NULL, doing);
		/* nothing buffered yet */
		wait_for_input(doing);
	}
}

/*
 * Refuse to read a relation over the open connection unless it is a
 * foreign table of that connection's server: 08003 when no connection is
 * open, 42809 for anything else.
 */
void
TdgenRemoteCheckTable(Relation ftrel)
{
	require_connection();
	if (ftrel->rd_rel->relkind != RELKIND_FOREIGN_TABLE ||
		GetForeignTable(RelationGetRelid(ftrel))->serverid != remote_server)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a foreign table of the server of the open connection",
						RelationGetRelationName(ftrel))));
}

/* Whether a libpq keyword may come from a server or user mapping option. */
static bool
is_connection_option(const char *keyword)
{
	static PQconninfoOption *options = NULL;

	if (options == NULL)
	{
		options = PQconndefaults();
		if (options == NULL)
			ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	}
	/* debug options, and those tdgen sets itself, are not taken */
	if (strcmp(keyword, "fallback_application_name") == 0 || strcmp(keyword, "client_encoding") == 0)
		return false;
	for (PQconninfoOption *o = options; o->keyword != NULL; o++)
		if (strcmp(o->keyword, keyword) == 0)
			return strchr(o->dispchar, 'D') == NULL;
	return false;
}

static void
add_options(List *options, const char **keywords, const char **values, int *n, bool *password_given)
{
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *d = lfirst(lc);

		if (!is_connection_option(d->defname))
			continue;
		keywords[*n] = d->defname;
		values[*n] = defGetString(d);
		if (strcmp(d->defname, "password") == 0 && values[*n][0] != '\0')
			*password_given = true;
		(*n)++;
	}
}

/* A user mapping that may connect without a password (postgres_fdw's rule). */
static bool
password_required(UserMapping *um)
{
	ListCell   *lc;

	foreach(lc, um->options)
	{
		DefElem    *d = lfirst(lc);

		if (strcmp(d->defname, "password_required") == 0)
			return defGetBoolean(d);
	}
	return true;
}

static void
remote_open(Oid serverid, const char *snapshot)
{
	ForeignServer *server = GetForeignServer(serverid);
	UserMapping *um = GetUserMapping(OidIsValid(TdgenActingRole) ? TdgenActingRole : GetUserId(), serverid);
	int			max = list_length(server->options) + list_length(um->options) + 3;
	const char **keywords = palloc(sizeof(char *) * max);
	const char **values = palloc(sizeof(char *) * max);
	int			n = 0;
	bool		password_given = false;
	bool		checked = superuser_arg(um->userid) || !password_required(um);
	PGconn	   *conn;
	PGresult   *res;

	add_options(server->options, keywords, values, &n, &password_given);
	add_options(um->options, keywords, values, &n, &password_given);
	keywords[n] = "fallback_application_name";
	values[n++] = "tdgen";
	keywords[n] = "client_encoding";
	values[n++] = GetDatabaseEncodingName();
	keywords[n] = NULL;
	values[n] = NULL;

	if (!checked && !password_given)
		ereport(ERROR,
				(errcode(ERRCODE_S_R_E_PROHIBITED_SQL_STATEMENT_ATTEMPTED),
				 errmsg("password is required"),
				 errdetail("Non-superusers must provide a password in the user mapping."),
				 errhint("Give the user mapping of server \"%s\" a password, or have a superuser set password_required 'false' on it.",
						 server->servername)));

	conn = PQconnectdbParams(keywords, values, false);
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK)
	{
		char	   *message = conn ? pchomp(PQerrorMessage(conn)) : pstrdup("out of memory");

		PQfinish(conn);
		ereport(ERROR,
				(errcode(ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
				 errmsg("could not connect to server \"%s\"", server->servername),
				 errdetail_internal("%s", message)));
	}
	if (!checked && !PQconnectionUsedPassword(conn))
	{
		PQfinish(conn);
		ereport(ERROR,
				(errcode(ERRCODE_S_R_E_PROHIBITED_SQL_STATEMENT_ATTEMPTED),
				 errmsg("password is required"),
				 errdetail("Non-superuser cannot connect if the server does not request a password."),
				 errhint("Production's authentication must ask for the password, or a superuser must set password_required 'false' on the user mapping.")));
	}

	remote_conn = conn;
	remote_server = serverid;
	remote_subid = GetCurrentSubTransactionId();
	if (!callbacks_registered)
	{
		RegisterXactCallback(remote_xact_callback, NULL);
		RegisterSubXactCallback(remote_subxact_callback, NULL);
		callbacks_registered = true;
	}
	res = TdgenRemoteSend("SET search_path = pg_catalog; SET datestyle = ISO; SET intervalstyle = postgres; "
						  "SET extra_float_digits = 3; "
						  "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
						  PGRES_COMMAND_OK, "starting the transaction on production");
	PQclear(res);
	TdgenRemoteFinish("starting the transaction on production");
	if (snapshot != NULL)
	{
		char	   *literal = PQescapeLiteral(conn, snapshot, strlen(snapshot));

		if (literal == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid snapshot name")));
		if (!PQsendQuery(conn, psprintf("SET TRANSACTION SNAPSHOT %s", literal)))
			TdgenRemoteError(NULL, "taking production's snapshot");
		PQfreemem(literal);
		remote_wait("taking production's snapshot");
		res = PQgetResult(conn);
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
		{
			const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

			/*
			 * the snapshot is gone with the session that exported it: the
			 * refresh's own connection to production ended
			 */
			if (state != NULL && strcmp(state, "22023") == 0)
			{
				PQclear(res);
				ereport(ERROR,
						(errcode(ERRCODE_CONNECTION_FAILURE),
						 errmsg("production: the snapshot of this refresh is gone"),
						 errhint("The refresh's connection to production, which holds it, ended: killed, or production restarted.")));
			}
			TdgenRemoteError(res, "taking production's snapshot");
		}
		PQclear(res);
		TdgenRemoteFinish("taking production's snapshot");
	}
	pfree(keywords);
	pfree(values);
}

/*
 * The SELECT that reads a foreign table's columns from production as its
 * local types (built-in ones: their binary forms are the same on both
 * sides), in attribute order, generated columns left out.  Errors when a
 * column's type is not built in.
 */
char *
TdgenRemoteSelect(Relation ftrel)
{
	ForeignTable *ft = GetForeignTable(RelationGetRelid(ftrel));
	TupleDesc	desc = RelationGetDescr(ftrel);
	const char *nspname = get_namespace_name(RelationGetNamespace(ftrel));
	const char *relname = RelationGetRelationName(ftrel);
	StringInfoData sql;
	ListCell   *lc;
	bool		first = true;

	foreach(lc, ft->options)
	{
		DefElem    *d = lfirst(lc);

		if (strcmp(d->defname, "schema_name") == 0)
			nspname = defGetString(d);
		else if (strcmp(d->defname, "table_name") == 0)
			relname = defGetString(d);
	}
	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT ");
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		const char *colname = NameStr(att->attname);
		ListCell   *lo;

		if (att->attisdropped || att->attgenerated)
			continue;
		if (att->atttypid >= FirstGenbkiObjectId)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("column \"%s\" of foreign table \"%s\" is of a type that is not built in",
							colname, RelationGetRelationName(ftrel)),
					 errhint("The copy transfer reads built-in types only; use transfer 'fdw' for this environment.")));
		foreach(lo, GetForeignColumnOptions(RelationGetRelid(ftrel), att->attnum))
		{
			DefElem    *d = lfirst(lo);

			if (strcmp(d->defname, "column_name") == 0)
				colname = defGetString(d);
		}
		appendStringInfo(&sql, "%s%s::%s AS %s", first ? "" : ", ", quote_identifier(colname),
						 format_type_extended(att->atttypid, att->atttypmod,
											  FORMAT_TYPE_TYPEMOD_GIVEN | FORMAT_TYPE_FORCE_QUALIFY),
						 quote_identifier(NameStr(att->attname)));
		first = false;
	}
	appendStringInfo(&sql, " FROM %s.%s", quote_identifier(nspname), quote_identifier(relname));
	return sql.data;
}

/*
 * tdgen.remote_begin(server name) returns void
 *
 * Opens tdgen's connection to the server for the current transaction and
 * starts production's REPEATABLE READ, READ ONLY transaction; nothing if
 * it is open already.  One server at a time (55000 otherwise).  With a
 * snapshot (tdgen.remote_export's), the transaction takes it.  A held
 * connection stays open across local commits, until tdgen.remote_end()
 * or an abort.
 */
Datum
tdgen_remote_begin(PG_FUNCTION_ARGS)
{
	char	   *name;
	char	   *snapshot = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	bool		hold = PG_ARGISNULL(2) ? false : PG_GETARG_BOOL(2);
	ForeignServer *server;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the server must not be null")));
	name = NameStr(*PG_GETARG_NAME(0));
	server = GetForeignServerByName(name, false);

	if (remote_conn != NULL && remote_server == server->serverid)
	{
		remote_held = remote_held || hold;
		PG_RETURN_VOID();
	}
	if (remote_conn != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("a connection to another production server is open"),
				 errhint("One transaction reads from one server.")));
	remote_open(server->serverid, snapshot);
	remote_held = hold;
	PG_RETURN_VOID();
}

/*
 * tdgen.remote_export() returns text
 *
 * Exports the open connection's snapshot for other sessions to take.
 */
Datum
tdgen_remote_export(PG_FUNCTION_ARGS)
{
	PGresult   *res;
	text	   *name;

	res = TdgenRemoteSend("SELECT pg_export_snapshot()", PGRES_TUPLES_OK, "exporting production's snapshot");
	name = cstring_to_text(PQgetvalue(res, 0, 0));
	PQclear(res);
	TdgenRemoteFinish("exporting production's snapshot");
	PG_RETURN_TEXT_P(name);
}

/*
 * tdgen.remote_end() returns void
 *
 * Closes the connection, held or not; nothing if none is open.
 */
Datum
tdgen_remote_end(PG_FUNCTION_ARGS)
{
	remote_close(false);
	PG_RETURN_VOID();
}

/*
 * tdgen.remote_server() returns name
 *
 * The server of the connection open in this transaction, or NULL.
 */
Datum
tdgen_remote_server(PG_FUNCTION_ARGS)
{
	ForeignServer *server;

	if (remote_conn == NULL)
		PG_RETURN_NULL();
	server = GetForeignServer(remote_server);
	PG_RETURN_DATUM(DirectFunctionCall1(namein, CStringGetDatum(server->servername)));
}

/*
 * The rows of a query run on production through the open connection, as a
 * jsonb array of objects (json_agg of its rows).
 */
static Datum
remote_json(const char *query)
{
	StringInfoData sql;
	PGresult   *res;
	char	   *json;

	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT coalesce(json_agg(tdgen_row), '[]') FROM (%s) AS tdgen_row", query);
	res = TdgenRemoteSend(sql.data, PGRES_TUPLES_OK, "reading production's catalog");
	if (PQntuples(res) != 1 || PQnfields(res) != 1)
	{
		PQclear(res);
		elog(ERROR, "unexpected result shape from production");
	}
	json = pstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	TdgenRemoteFinish("reading production's catalog");
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(json));
}

/*
 * tdgen.remote_query(query text) returns jsonb
 *
 * The rows of a read-only query on production's catalog (tdgen's own
 * text, never a caller's: only tdgen's owner may execute this), through
 * the open connection, as a jsonb array of objects.
 */
Datum
tdgen_remote_query(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATUM(remote_json(text_to_cstring(PG_GETARG_TEXT_PP(0))));
}

/*
 * tdgen.remote_rows(query text, params text[]) returns setof record
 *
 * The rows of a read-only query on production (tdgen's own text, never a
 * caller's: only tdgen's owner may execute this) with its parameters
 * given as text, through the open connection, typed as the caller's
 * column definition list says (each column's text form read by its
 * type's input function).  A subset's keys come this way.  The rows are
 * taken from libpq one at a time (single-row mode) into the result's
 * tuplestore, which spills to a temporary file past work_mem: however
 * many rows production returns, the memory they take stays bounded.
 */
Datum
tdgen_remote_rows(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *query = text_to_cstring(PG_GETARG_TEXT_PP(0));
	ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(1);
	const char *doing = "reading keys from production";
	Datum	   *elems;
	bool	   *elem_nulls;
	int			nparams;
	const char **params;
	AttInMetadata *attinmeta;
	int			natts;
	char	  **values;
	MemoryContext row_mcxt;

	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &elem_nulls, &nparams);
	params = palloc0(sizeof(char *) * Max(nparams, 1));
	for (int i = 0; i < nparams; i++)
		params[i] = elem_nulls[i] ? NULL : TextDatumGetCString(elems[i]);
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	attinmeta = TupleDescGetAttInMetadata(rsinfo->setDesc);
	natts = rsinfo->setDesc->natts;
	values = palloc(sizeof(char *) * Max(natts, 1));
	row_mcxt = AllocSetContextCreate(CurrentMemoryContext, "tdgen remote row", ALLOCSET_DEFAULT_SIZES);
	remote_rows_returned = 0;

	require_connection();
	if (!(nparams == 0 ? PQsendQuery(remote_conn, query)
		  : PQsendQueryParams(remote_conn, query, nparams, NULL, params, NULL, NULL, 0)))
		TdgenRemoteError(NULL, doing);
	if (!PQsetSingleRowMode(remote_conn))
		TdgenRemoteError(NULL, doing);
	for (;;)
	{
		PGresult   *res;
		ExecStatusType status;
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		remote_wait(doing);
		res = PQgetResult(remote_conn);
		if (res == NULL)
			break;
		status = PQresultStatus(res);
		if (status == PGRES_TUPLES_OK)
		{
			/* the end of the rows */
			PQclear(res);
			continue;
		}
		if (status != PGRES_SINGLE_TUPLE)
			TdgenRemoteError(res, doing);
		if (PQnfields(res) != natts)
		{
			int			got = PQnfields(res);

			PQclear(res);
			elog(ERROR, "production returned %d columns where %d were defined", got, natts);
		}

		/* the row's values copied out, libpq's result freed, then typed */
		old = MemoryContextSwitchTo(row_mcxt);
		for (int c = 0; c < natts; c++)
			values[c] = PQgetisnull(res, 0, c) ? NULL : pstrdup(PQgetvalue(res, 0, c));
		PQclear(res);
		tuplestore_puttuple(rsinfo->setResult, BuildTupleFromCStrings(attinmeta, values));
		MemoryContextSwitchTo(old);
		MemoryContextReset(row_mcxt);
		remote_rows_returned++;
	}
	MemoryContextDelete(row_mcxt);
	return (Datum) 0;
}

/*
 * tdgen.remote_rows_read() returns bigint
 *
 * How many rows the last tdgen.remote_rows of this backend returned: a
 * statement that inserts what it reads tells what it read without
 * keeping the rows a second time to count them.
 */
Datum
tdgen_remote_rows_read(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(remote_rows_returned);
}
