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
 * A subset's closure sends its queries ahead (tdgen.remote_send) and
 * takes their rows in the order it sent them (tdgen.remote_take): two at
 * most, the second on a second connection in the same snapshot, so that
 * production works on one query while staging stores the rows of the
 * other.
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
#include "utils/resowner.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
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
PG_FUNCTION_INFO_V1(tdgen_remote_send);
PG_FUNCTION_INFO_V1(tdgen_remote_take);

/* The rows the last tdgen.remote_rows of this backend returned. */
static int64 remote_rows_returned = 0;

/* The open connection, if any, and what it belongs to. */
static PGconn *remote_conn = NULL;
static Oid	remote_server = InvalidOid;
static SubTransactionId remote_subid = InvalidSubTransactionId;
static bool remote_held = false;	/* kept across local commits */
static bool callbacks_registered = false;

/*
 * Where the rows of a query go: a tuplestore, each row typed by meta from
 * its values' text forms.  The early store of a query sent ahead is made
 * at its first row, of as many text columns as the row has, in the
 * transaction's memory and resource owner (it outlives the statement that
 * happened to read it).
 */
typedef struct RowTarget
{
	Tuplestorestate *store;
	AttInMetadata *meta;
	char	  **values;
	MemoryContext row_mcxt;
	int64		rows;
} RowTarget;

/*
 * The queries sent ahead, oldest first, each on its own connection (the
 * open one or the second, opened in its snapshot at the first query sent
 * ahead).  Rows a query sends before its turn are read into its early
 * store, so production is never held up by a full socket while the other
 * query's rows are taken.
 */
typedef struct Flight
{
	PGconn	   *conn;
	RowTarget	early;			/* rows read before its turn; store NULL: none */
	bool		ended;			/* its last result has come */
	PGresult   *error;			/* production's error, raised in its turn */
} Flight;

#define MAX_FLIGHTS 2
static Flight flights[MAX_FLIGHTS];
static int	nflights = 0;
static PGconn *second_conn = NULL;

static void flights_drop(bool cancel);

/* End a connection; cancel first what still runs there. */
static void
conn_close(PGconn *conn, bool cancel)
{
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

/* Close the connection and the second one; cancel first what still runs. */
static void
remote_close(bool cancel)
{
	PGconn	   *conn = remote_conn;

	flights_drop(cancel);
	if (conn == NULL)
		return;
	remote_conn = NULL;
	remote_server = InvalidOid;
	remote_subid = InvalidSubTransactionId;
	remote_held = false;
	conn_close(conn, cancel);
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
			if (nflights > 0)
				remote_close(true);
			else if (remote_held)
			{
				/* the second connection serves one transaction's queries */
				flights_drop(false);
				remote_subid = InvalidSubTransactionId;
			}
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
	/* queries sent ahead belong to the statement that sent them */
	if (event == SUBXACT_EVENT_ABORT_SUB && nflights > 0)
	{
		remote_close(true);
		return;
	}
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
static void pg_attribute_noreturn()
conn_error(PGconn *conn, PGresult *res, const char *doing)
{
	char	   *sqlstate = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	char	   *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	int			code = ERRCODE_CONNECTION_FAILURE;
	char	   *message;

	if (sqlstate != NULL && strlen(sqlstate) == 5)
		code = MAKE_SQLSTATE(sqlstate[0], sqlstate[1], sqlstate[2], sqlstate[3], sqlstate[4]);
	if (primary != NULL)
		message = pstrdup(primary);
	else if (conn != NULL && PQstatus(conn) == CONNECTION_BAD)
		message = pstrdup("lost connection to production");
	else
		message = conn != NULL ? pchomp(PQerrorMessage(conn)) : pstrdup("no connection to production");
	PQclear(res);
	ereport(ERROR,
			(errcode(code),
			 errmsg("production: %s", message),
			 errcontext("%s", doing)));
}

void
TdgenRemoteError(PGresult *res, const char *doing)
{
	conn_error(remote_conn, res, doing);
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

/* The same, and nothing sent ahead still waits to be taken there. */
static void
require_idle(void)
{
	require_connection();
	for (int i = 0; i < nflights; i++)
		if (flights[i].conn == remote_conn)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("a query sent ahead to production has not been taken"),
					 errhint("tdgen.remote_take() takes its rows first.")));
}

/*
 * Wait for production to send something (or for a latch set, so that a
 * cancel or timeout is seen), then take in what came.
 */
static void
wait_for_input(PGconn *conn, const char *doing)
{
	int			events;

	events = WaitLatchOrSocket(MyLatch, WL_LATCH_SET | WL_SOCKET_READABLE | WL_EXIT_ON_PM_DEATH,
							   PQsocket(conn), -1L, PG_WAIT_EXTENSION);
	ResetLatch(MyLatch);
	CHECK_FOR_INTERRUPTS();
	if ((events & WL_SOCKET_READABLE) && !PQconsumeInput(conn))
		conn_error(conn, NULL, doing);
}

/* Wait until a connection has a whole result to give, interruptibly. */
static void
conn_wait(PGconn *conn, const char *doing)
{
	while (PQisBusy(conn))
		wait_for_input(conn, doing);
}

/* Send a statement on a connection and check its first result. */
static PGresult *
conn_send(PGconn *conn, const char *sql, int nparams, const char *const *params, int expected, const char *doing)
{
	PGresult   *res;

	if (!(nparams == 0 ? PQsendQuery(conn, sql)
		  : PQsendQueryParams(conn, sql, nparams, NULL, params, NULL, NULL, 0)))
		conn_error(conn, NULL, doing);
	conn_wait(conn, doing);
	res = PQgetResult(conn);
	if ((int) PQresultStatus(res) != expected)
		conn_error(conn, res, doing);
	return res;
}

/* Read the results left of a statement; raise the first error among them. */
static void
conn_finish(PGconn *conn, const char *doing)
{
	PGresult   *res;

	for (;;)
	{
		conn_wait(conn, doing);
		res = PQgetResult(conn);
		if (res == NULL)
			break;
		if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
			conn_error(conn, res, doing);
		PQclear(res);
	}
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
	require_idle();
	return conn_send(remote_conn, sql, nparams, params, expected, doing);
}

/* Read the results left of a statement; raise the first error among them. */
void
TdgenRemoteFinish(const char *doing)
{
	conn_finish(remote_conn, doing);
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
		wait_for_input(remote_conn, doing);
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

/*
 * A new connection to a server, made from its options and the user
 * mapping of the acting role, with postgres_fdw's password rules.
 */
static PGconn *
conn_connect(Oid serverid)
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
	pfree(keywords);
	pfree(values);
	return conn;
}

/*
 * Start production's REPEATABLE READ, READ ONLY transaction on a new
 * connection, in an exported snapshot when one is given.
 */
static void
conn_begin(PGconn *conn, const char *snapshot)
{
	PGresult   *res;

	res = conn_send(conn, "SET search_path = pg_catalog; SET datestyle = ISO; SET intervalstyle = postgres; "
					"SET extra_float_digits = 3; "
					"BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
					0, NULL, PGRES_COMMAND_OK, "starting the transaction on production");
	PQclear(res);
	conn_finish(conn, "starting the transaction on production");
	if (snapshot != NULL)
	{
		char	   *literal = PQescapeLiteral(conn, snapshot, strlen(snapshot));

		if (literal == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid snapshot name")));
		if (!PQsendQuery(conn, psprintf("SET TRANSACTION SNAPSHOT %s", literal)))
			conn_error(conn, NULL, "taking production's snapshot");
		PQfreemem(literal);
		conn_wait(conn, "taking production's snapshot");
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
			conn_error(conn, res, "taking production's snapshot");
		}
		PQclear(res);
		conn_finish(conn, "taking production's snapshot");
	}
}

static void
remote_open(Oid serverid, const char *snapshot)
{
	remote_conn = conn_connect(serverid);
	remote_server = serverid;
	remote_subid = GetCurrentSubTransactionId();
	if (!callbacks_registered)
	{
		RegisterXactCallback(remote_xact_callback, NULL);
		RegisterSubXactCallback(remote_subxact_callback, NULL);
		callbacks_registered = true;
	}
	conn_begin(remote_conn, snapshot);
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

/* Export the open connection's snapshot; its name. */
static char *
snapshot_export(void)
{
	PGresult   *res = TdgenRemoteSend("SELECT pg_export_snapshot()", PGRES_TUPLES_OK, "exporting production's snapshot");
	char	   *name = pstrdup(PQgetvalue(res, 0, 0));

	PQclear(res);
	TdgenRemoteFinish("exporting production's snapshot");
	return name;
}

/*
 * tdgen.remote_export() returns text
 *
 * Exports the open connection's snapshot for other sessions to take.
 */
Datum
tdgen_remote_export(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(snapshot_export()));
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

static void
target_init(RowTarget *t, Tuplestorestate *store, TupleDesc desc)
{
	t->store = store;
	t->meta = TupleDescGetAttInMetadata(desc);
	t->values = palloc(sizeof(char *) * Max(desc->natts, 1));
	t->row_mcxt = AllocSetContextCreate(CurrentMemoryContext, "tdgen remote row", ALLOCSET_DEFAULT_SIZES);
	t->rows = 0;
}

static void
early_init(RowTarget *t, int nfields)
{
	MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
	ResourceOwner owner = CurrentResourceOwner;
	TupleDesc	desc = CreateTemplateTupleDesc(nfields);

	for (int c = 0; c < nfields; c++)
		TupleDescInitEntry(desc, (AttrNumber) (c + 1), NULL, TEXTOID, -1, 0);
	CurrentResourceOwner = TopTransactionResourceOwner;
	target_init(t, tuplestore_begin_heap(false, false, work_mem), desc);
	CurrentResourceOwner = owner;
	MemoryContextSwitchTo(old);
}

/* Rows must have the columns the caller defined; res (if any) is freed on error. */
static void
target_check(RowTarget *t, int got, PGresult *res)
{
	int			natts = t->meta->tupdesc->natts;

	if (got != natts)
	{
		PQclear(res);
		elog(ERROR, "production returned %d columns where %d were defined", got, natts);
	}
}

/*
 * Store the row whose values t->values holds (text forms, NULL for NULL,
 * copied in t->row_mcxt), typed; then forget them.
 */
static void
target_store(RowTarget *t, bool early)
{
	MemoryContext old = MemoryContextSwitchTo(t->row_mcxt);
	ResourceOwner owner = CurrentResourceOwner;
	HeapTuple	tuple = BuildTupleFromCStrings(t->meta, t->values);

	if (early)
		CurrentResourceOwner = TopTransactionResourceOwner;
	tuplestore_puttuple(t->store, tuple);
	CurrentResourceOwner = owner;
	MemoryContextSwitchTo(old);
	MemoryContextReset(t->row_mcxt);
	t->rows++;
}

/* Store one row (values as text; NULL for NULL), typed; frees the result. */
static void
target_put(RowTarget *t, PGresult *res, bool early)
{
	MemoryContext old;

	if (early && t->store == NULL)
		early_init(t, PQnfields(res));
	target_check(t, PQnfields(res), res);
	/* the row's values copied out, libpq's result freed, then typed */
	old = MemoryContextSwitchTo(t->row_mcxt);
	for (int c = 0; c < PQnfields(res); c++)
		t->values[c] = PQgetisnull(res, 0, c) ? NULL : pstrdup(PQgetvalue(res, 0, c));
	MemoryContextSwitchTo(old);
	PQclear(res);
	target_store(t, early);
}

/* A set-returning call's rows, as the caller's column definition list types them. */
static void
rows_begin(FunctionCallInfo fcinfo, RowTarget *t)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	target_init(t, rsinfo->setResult, rsinfo->setDesc);
	remote_rows_returned = 0;
}

/* Send a query with text parameters, its rows to come one at a time. */
static void
rows_send(PGconn *conn, text *query, ArrayType *arr, const char *doing)
{
	Datum	   *elems;
	bool	   *elem_nulls;
	int			nparams;
	const char **params;
	char	   *sql = text_to_cstring(query);

	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &elem_nulls, &nparams);
	params = palloc0(sizeof(char *) * Max(nparams, 1));
	for (int i = 0; i < nparams; i++)
		params[i] = elem_nulls[i] ? NULL : TextDatumGetCString(elems[i]);
	if (!(nparams == 0 ? PQsendQuery(conn, sql)
		  : PQsendQueryParams(conn, sql, nparams, NULL, params, NULL, NULL, 0)))
		conn_error(conn, NULL, doing);
	if (!PQsetSingleRowMode(conn))
		conn_error(conn, NULL, doing);
}

/*
 * Take the rows a connection has ready, waiting for none; whether the
 * query's results have ended.  A query's error is raised, or, for one
 * read before its turn (error not NULL), kept there.
 */
static bool
rows_ready(PGconn *conn, RowTarget *t, PGresult **error, const char *doing)
{
	for (;;)
	{
		PGresult   *res;
		ExecStatusType status;

		if (PQisBusy(conn))
			return false;
		res = PQgetResult(conn);
		if (res == NULL)
			return true;
		status = PQresultStatus(res);
		if (status == PGRES_TUPLES_OK)
		{
			/* the end of the rows */
			PQclear(res);
			continue;
		}
		if (status != PGRES_SINGLE_TUPLE)
		{
			if (error == NULL)
				conn_error(conn, res, doing);
			/* the rest of its results, to the end, go unread */
			if (*error == NULL)
				*error = res;
			else
				PQclear(res);
			continue;
		}
		if (error != NULL && *error != NULL)
			PQclear(res);
		else
			target_put(t, res, error != NULL);
	}
}

/*
 * The events a take waits for, in long-lived memory: an error leaves it
 * behind, and the next take frees it.
 */
static WaitEventSet *take_events = NULL;

static void
take_events_free(void)
{
	if (take_events != NULL)
		FreeWaitEventSet(take_events);
	take_events = NULL;
}

/*
 * Take all the rows of a query, interruptibly; meanwhile, the rows the
 * query sent ahead after it (other, if any) has ready go to its early
 * store.
 */
static void
rows_take(PGconn *conn, RowTarget *t, Flight *other, const char *doing)
{
	take_events_free();
	while (!rows_ready(conn, t, NULL, doing))
	{
		WaitEvent	events[4];
		int			n;

		CHECK_FOR_INTERRUPTS();
		if (take_events == NULL)
		{
			take_events = CreateWaitEventSet(TopMemoryContext, 4);
			AddWaitEventToSet(take_events, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
			AddWaitEventToSet(take_events, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, NULL, NULL);
			AddWaitEventToSet(take_events, WL_SOCKET_READABLE, PQsocket(conn), NULL, NULL);
			if (other != NULL && !other->ended)
				AddWaitEventToSet(take_events, WL_SOCKET_READABLE, PQsocket(other->conn), NULL, other);
		}
		n = WaitEventSetWait(take_events, -1L, events, lengthof(events), PG_WAIT_EXTENSION);
		for (int i = 0; i < n; i++)
		{
			if (events[i].events & WL_LATCH_SET)
				ResetLatch(MyLatch);
			if (!(events[i].events & WL_SOCKET_READABLE))
				continue;
			if (events[i].user_data == NULL)
			{
				if (!PQconsumeInput(conn))
					conn_error(conn, NULL, doing);
				continue;
			}
			if (!PQconsumeInput(other->conn))
				conn_error(other->conn, NULL, doing);
			if (rows_ready(other->conn, &other->early, &other->error, doing))
			{
				/* its socket has nothing more to say */
				other->ended = true;
				take_events_free();
				break;
			}
		}
	}
	take_events_free();
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
	const char *doing = "reading keys from production";
	RowTarget	t;

	rows_begin(fcinfo, &t);
	require_idle();
	rows_send(remote_conn, PG_GETARG_TEXT_PP(0), PG_GETARG_ARRAYTYPE_P(1), doing);
	rows_take(remote_conn, &t, NULL, doing);
	remote_rows_returned = t.rows;
	return (Datum) 0;
}

/* Open the second connection, in the snapshot of the first. */
static void
second_open(void)
{
	char	   *snapshot = snapshot_export();

	second_conn = conn_connect(remote_server);
	conn_begin(second_conn, snapshot);
}

/* Forget the queries sent ahead and close the second connection. */
static void
flights_drop(bool cancel)
{
	for (int i = 0; i < nflights; i++)
	{
		if (flights[i].early.store != NULL)
			tuplestore_end(flights[i].early.store);
		PQclear(flights[i].error);
	}
	nflights = 0;
	if (second_conn != NULL)
	{
		PGconn	   *conn = second_conn;

		second_conn = NULL;
		conn_close(conn, cancel);
	}
}

/*
 * tdgen.remote_send(query text, params text[]) returns void
 *
 * Sends a query as tdgen.remote_rows would, without waiting for its
 * rows: tdgen.remote_take() takes them, in the order the queries were
 * sent.  Two at most wait to be taken (55000 for a third); the second
 * runs on a second connection in the same snapshot, side by side with
 * the first.
 */
Datum
tdgen_remote_send(PG_FUNCTION_ARGS)
{
	PGconn	   *conn;

	require_connection();
	if (nflights == MAX_FLIGHTS)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%d queries sent ahead to production wait to be taken", MAX_FLIGHTS),
				 errhint("tdgen.remote_take() takes the oldest first.")));
	if (second_conn == NULL)
	{
		require_idle();
		second_open();
	}
	conn = nflights == 1 && flights[0].conn == remote_conn ? second_conn : remote_conn;
	rows_send(conn, PG_GETARG_TEXT_PP(0), PG_GETARG_ARRAYTYPE_P(1), "sending a query to production");
	memset(&flights[nflights], 0, sizeof(Flight));
	flights[nflights].conn = conn;
	nflights++;
	PG_RETURN_VOID();
}

/*
 * tdgen.remote_take() returns setof record
 *
 * The rows of the oldest query tdgen.remote_send sent, typed as the
 * caller's column definition list says; tdgen.remote_rows_read() counts
 * them.  While it waits, the other query's rows are read into their own
 * store, so that production keeps working on it.
 */
Datum
tdgen_remote_take(PG_FUNCTION_ARGS)
{
	const char *doing = "reading keys from production";
	RowTarget	t;
	Flight		head;

	if (nflights == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no query sent ahead to production waits to be taken"),
				 errhint("tdgen.remote_send(query, params) sends one.")));
	rows_begin(fcinfo, &t);
	head = flights[0];
	flights[0] = flights[1];
	nflights--;
	if (head.error != NULL)
	{
		if (head.early.store != NULL)
			tuplestore_end(head.early.store);
		conn_error(head.conn, head.error, doing);
	}

	/* the rows read before its turn, typed now */
	if (head.early.store != NULL)
	{
		TupleTableSlot *slot = MakeSingleTupleTableSlot(head.early.meta->tupdesc, &TTSOpsMinimalTuple);
		int			natts = head.early.meta->tupdesc->natts;

		target_check(&t, natts, NULL);
		while (tuplestore_gettupleslot(head.early.store, true, false, slot))
		{
			MemoryContext old = MemoryContextSwitchTo(t.row_mcxt);

			slot_getallattrs(slot);
			for (int c = 0; c < natts; c++)
				t.values[c] = slot->tts_isnull[c] ? NULL : TextDatumGetCString(slot->tts_values[c]);
			MemoryContextSwitchTo(old);
			target_store(&t, false);
		}
		ExecDropSingleTupleTableSlot(slot);
		tuplestore_end(head.early.store);
	}
	if (!head.ended)
		rows_take(head.conn, &t, nflights > 0 ? &flights[0] : NULL, doing);
	remote_rows_returned = t.rows;
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
