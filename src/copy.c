/*-------------------------------------------------------------------------
 *
 * copy.c
 *	  The binary COPY source of the load: production's rows by COPY TO
 *	  STDOUT over tdgen's connection, masked on the way into the loader.
 *
 * tdgen.copy_rows(target, query) takes the same query as tdgen.load_rows,
 * a SELECT of masked and kept columns from one of tdgen's foreign tables,
 * but does not run it through postgres_fdw.  Production sends the foreign
 * table's columns as binary COPY; PostgreSQL's own COPY FROM machinery
 * (BeginCopyFrom with a data-source callback, NextCopyFrom) turns the
 * bytes into values; the query's select list, planned once, is evaluated
 * over each row in C; the loader writes the result in batches.  A row's
 * raw values live in a memory context reset after the row.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/pg_class.h"
#include "commands/copy.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "libpq-fe.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "optimizer/optimizer.h"
#include "parser/analyze.h"
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "tdgen.h"

PG_FUNCTION_INFO_V1(tdgen_copy_rows);

/*
 * The stream COPY FROM reads through copy_read: one COPY at a time per
 * backend (the callback takes no argument).
 */
static char *stream_buf = NULL;	/* the current message, from libpq */
static int	stream_len = 0;
static int	stream_pos = 0;
static bool stream_done = false;

/* Let go of the message read to its end. */
static void
stream_release(void)
{
	if (stream_buf != NULL)
		PQfreemem(stream_buf);
	stream_buf = NULL;
	stream_len = stream_pos = 0;
}

/* Ready for a new stream (and free what an interrupted one left). */
static void
stream_reset(void)
{
	stream_release();
	stream_done = false;
}

/* COPY FROM's data source: at least minread bytes, or 0 at the end. */
static int
copy_read(void *outbuf, int minread, int maxread)
{
	int			copied = 0;

	while (copied < minread)
	{
		int			n;

		if (stream_pos >= stream_len)
		{
			stream_release();
			if (stream_done)
				break;
			stream_len = TdgenRemoteCopyData(&stream_buf, "copying a table from production");
			if (stream_len < 0)
			{
				stream_len = 0;
				stream_done = true;
				break;
			}
		}
		n = Min(maxread - copied, stream_len - stream_pos);
		memcpy((char *) outbuf + copied, stream_buf + stream_pos, n);
		copied += n;
		stream_pos += n;
	}
	return copied;
}

/* The query, analyzed: a plain SELECT from one foreign table. */
static Query *
analyze_query(const char *query)
{
	List	   *raw = pg_parse_query(query);
	Query	   *q;
	RangeTblEntry *rte;

	if (list_length(raw) == 1)
	{
		q = parse_analyze_fixedparams(linitial_node(RawStmt, raw), query, NULL, 0, NULL);
		rte = list_length(q->rtable) == 1 ? linitial_node(RangeTblEntry, q->rtable) : NULL;
		if (q->commandType == CMD_SELECT && q->utilityStmt == NULL && rte != NULL &&
			rte->rtekind == RTE_RELATION && rte->relkind == RELKIND_FOREIGN_TABLE &&
			q->jointree->quals == NULL && !q->hasAggs && !q->hasWindowFuncs &&
			!q->hasTargetSRFs && !q->hasSubLinks && q->groupClause == NIL &&
			q->havingQual == NULL && q->sortClause == NIL && q->limitCount == NULL &&
			q->limitOffset == NULL && q->distinctClause == NIL && q->setOperations == NULL &&
			q->cteList == NIL && q->rowMarks == NIL)
			return q;
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("the query of a copy must be a SELECT of expressions from one foreign table"),
			 errhint("Give one SELECT list over one of the source's foreign tables, with no WHERE, grouping, order or limit.")));
	return NULL;				/* keep the compiler quiet */
}

/* Rows of a batch of keys at a time, so that a batch's text stays small. */
#define KEY_BATCH 20000

/*
 * Copy one COPY TO STDOUT of production's into the loader, each row's
 * select list evaluated on the way.
 */
static void
copy_stream(const char *select_sql, Relation ftrel, TdgenLoader *loader, ExprContext *econtext,
			TupleTableSlot *scan_slot, ProjectionInfo *projection, MemoryContext row_mcxt)
{
	StringInfoData copy_sql;
	CopyFromState cstate;

	initStringInfo(&copy_sql);
	appendStringInfo(&copy_sql, "COPY (%s) TO STDOUT (FORMAT binary)", select_sql);
	stream_reset();
	PQclear(TdgenRemoteSend(copy_sql.data, PGRES_COPY_OUT, "copying a table from production"));
	cstate = BeginCopyFrom(NULL, ftrel, NULL, NULL, false, copy_read, NIL,
						   list_make1(makeDefElem("format", (Node *) makeString("binary"), -1)));
	for (;;)
	{
		MemoryContext old;
		bool		more;

		CHECK_FOR_INTERRUPTS();
		old = MemoryContextSwitchTo(row_mcxt);
		more = NextCopyFrom(cstate, econtext, scan_slot->tts_values, scan_slot->tts_isnull);
		if (more)
		{
			TupleTableSlot *masked;

			ExecStoreVirtualTuple(scan_slot);
			masked = ExecProject(projection);
			slot_getallattrs(masked);
			TdgenLoaderAdd(loader, masked->tts_values, masked->tts_isnull);
		}
		MemoryContextSwitchTo(old);
		ExecClearTuple(scan_slot);
		MemoryContextReset(row_mcxt);
		ResetExprContext(econtext);
		if (!more)
			break;
	}
	EndCopyFrom(cstate);
	stream_reset();
	TdgenRemoteFinish("copying a table from production");
	pfree(copy_sql.data);
}

/* One column of a batch of keys as a quoted array literal. */
static char *
key_list(SPITupleTable *tuptable, uint64 n, int column)
{
	ArrayBuildState *astate = initArrayResult(TEXTOID, CurrentMemoryContext, false);

	for (uint64 r = 0; r < n; r++)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(tuptable->vals[r], tuptable->tupdesc, column + 1, &isnull);

		astate = accumArrayResult(astate, isnull ? (Datum) 0 : d, isnull, TEXTOID, CurrentMemoryContext);
	}
	return quote_literal_cstr(OidOutputFunctionCall(F_ARRAY_OUT, makeArrayResult(astate, CurrentMemoryContext)));
}

/*
 * The condition that picks a batch of keys on production: the key
 * columns (production's expressions, ctid among them) equal to one of the
 * batch's rows, given as one array literal of production's type a column.
 * One column (a key: an index, or ctid, takes the list as it runs) gets
 * its list behind a subquery, out of the planner's sight, which would
 * weigh each constant, per partition.  Several columns, when an index
 * leads with the first (indexed), also get the first's list so behind:
 * the index finds the rows, and the whole keys only sift them (a join of
 * every key to the table would probe the index once a key).
 */
static char *
key_condition(ArrayType *columns, ArrayType *types, bool indexed, SPITupleTable *tuptable, uint64 n)
{
	Datum	   *cols;
	Datum	   *typs;
	int			ncols;
	int			ntypes;
	StringInfoData cond;

	deconstruct_array(columns, TEXTOID, -1, false, TYPALIGN_INT, &cols, NULL, &ncols);
	deconstruct_array(types, TEXTOID, -1, false, TYPALIGN_INT, &typs, NULL, &ntypes);
	if (ncols != ntypes || ncols != tuptable->tupdesc->natts)
		elog(ERROR, "the key table, its columns and their types do not match");
	initStringInfo(&cond);
	if (ncols > 1 && indexed)
		appendStringInfo(&cond, "%s = ANY ((SELECT %s::%s[])::%s[]) AND ", TextDatumGetCString(cols[0]),
						 key_list(tuptable, n, 0), TextDatumGetCString(typs[0]), TextDatumGetCString(typs[0]));
	appendStringInfoString(&cond, ncols == 1 ? "" : "(");
	for (int c = 0; c < ncols; c++)
		appendStringInfo(&cond, "%s%s", c ? ", " : "", TextDatumGetCString(cols[c]));
	appendStringInfoString(&cond, ncols == 1 ? " = ANY ((SELECT " : ") IN (SELECT * FROM unnest(");
	for (int c = 0; c < ncols; c++)
		appendStringInfo(&cond, "%s%s::%s[]", c ? ", " : "", key_list(tuptable, n, c), TextDatumGetCString(typs[c]));
	if (ncols == 1)
		appendStringInfo(&cond, ")::%s[])", TextDatumGetCString(typs[0]));
	else
		appendStringInfoString(&cond, "))");
	return cond.data;
}

/*
 * tdgen.copy_rows(target regclass, query text, keys regclass DEFAULT NULL,
 *				   key_columns text[] DEFAULT NULL, key_types text[] DEFAULT NULL)
 * returns bigint
 *
 * Loads into the target what tdgen.load_rows would load for the same query
 * (one SELECT of the target's stored columns from one foreign table), but
 * reads the foreign table's rows from production by binary COPY over the
 * connection tdgen.remote_begin opened.  With keys, a table of a subset's
 * keys (its columns in key order, read as text), only the rows whose
 * key_columns (production's expressions) equal one of its rows, fetched
 * a batch of keys at a time, as key_types (production's types).  Needs
 * SELECT on the foreign table and the keys, EXECUTE on the functions of
 * the select list and INSERT on the target.
 */
Datum
tdgen_copy_rows(PG_FUNCTION_ARGS)
{
	Oid			target;
	char	   *query;
	Query	   *q;
	RangeTblEntry *rte;
	Relation	ftrel;
	TdgenLoader *loader;
	List	   *tlist = NIL;
	ListCell   *lc;
	TupleDesc	result_desc;
	ExprContext *econtext;
	TupleTableSlot *scan_slot;
	TupleTableSlot *result_slot;
	ProjectionInfo *projection;
	MemoryContext row_mcxt;
	char	   *select_sql;
	uint64		rows;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the target and the query of a copy must not be null")));
	if (!PG_ARGISNULL(2) && (PG_ARGISNULL(3) || PG_ARGISNULL(4)))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("a copy by keys needs the key columns and their types")));
	target = PG_GETARG_OID(0);
	query = text_to_cstring(PG_GETARG_TEXT_PP(1));
	q = analyze_query(query);
	rte = linitial_node(RangeTblEntry, q->rtable);

	ExecCheckRTPerms(q->rtable, true);
	ftrel = table_open(rte->relid, AccessShareLock);
	TdgenRemoteCheckTable(ftrel);

	/* the select list, planned once, evaluated over each row */
	foreach(lc, q->targetList)
	{
		TargetEntry *te = lfirst_node(TargetEntry, lc);

		if (te->resjunk)
			continue;
		tlist = lappend(tlist, makeTargetEntry(expression_planner(te->expr), list_length(tlist) + 1,
											   te->resname, false));
	}
	result_desc = ExecTypeFromTL(tlist);
	loader = TdgenLoaderStart(target);
	TdgenLoaderCheckColumns(loader, result_desc);
	econtext = CreateStandaloneExprContext();
	scan_slot = MakeSingleTupleTableSlot(RelationGetDescr(ftrel), &TTSOpsVirtual);
	result_slot = MakeSingleTupleTableSlot(result_desc, &TTSOpsVirtual);
	econtext->ecxt_scantuple = scan_slot;
	projection = ExecBuildProjectionInfo(tlist, econtext, result_slot, NULL, RelationGetDescr(ftrel));
	row_mcxt = AllocSetContextCreate(CurrentMemoryContext, "tdgen copy row", ALLOCSET_DEFAULT_SIZES);
	select_sql = TdgenRemoteSelect(ftrel);

	if (PG_ARGISNULL(2))
		copy_stream(select_sql, ftrel, loader, econtext, scan_slot, projection, row_mcxt);
	else
	{
		Oid			keys = PG_GETARG_OID(2);
		ArrayType  *key_columns = PG_GETARG_ARRAYTYPE_P(3);
		ArrayType  *key_types = PG_GETARG_ARRAYTYPE_P(4);
		bool		key_indexed = !PG_ARGISNULL(5) && PG_GETARG_BOOL(5);
		MemoryContext batch_mcxt = AllocSetContextCreate(CurrentMemoryContext, "tdgen copy keys",
														 ALLOCSET_DEFAULT_SIZES);
		char	   *keys_sql;
		Portal		portal;
		int			nkeys = ArrayGetNItems(ARR_NDIM(key_columns), ARR_DIMS(key_columns));
		StringInfoData cols;
		StringInfoData order;

		/* the key columns (named k1, k2, ...) as text, in key order */
		initStringInfo(&cols);
		initStringInfo(&order);
		for (int c = 1; c <= nkeys; c++)
		{
			appendStringInfo(&cols, "%sk%d::text", c > 1 ? ", " : "", c);
			appendStringInfo(&order, "%sk%d", c > 1 ? ", " : "", c);
		}
		keys_sql = psprintf("SELECT %s FROM %s ORDER BY %s", cols.data,
							quote_qualified_identifier(get_namespace_name(get_rel_namespace(keys)), get_rel_name(keys)),
							order.data);
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		portal = SPI_cursor_open_with_args(NULL, keys_sql, 0, NULL, NULL, NULL, true, 0);
		for (;;)
		{
			MemoryContext old;
			char	   *condition;

			SPI_cursor_fetch(portal, true, KEY_BATCH);
			if (SPI_processed == 0)
				break;
			old = MemoryContextSwitchTo(batch_mcxt);
			condition = key_condition(key_columns, key_types, key_indexed, SPI_tuptable, SPI_processed);
			copy_stream(psprintf("%s WHERE %s", select_sql, condition), ftrel, loader, econtext, scan_slot,
						projection, row_mcxt);
			MemoryContextSwitchTo(old);
			MemoryContextReset(batch_mcxt);
			SPI_freetuptable(SPI_tuptable);
		}
		SPI_cursor_close(portal);
		SPI_finish();
		MemoryContextDelete(batch_mcxt);
	}

	rows = TdgenLoaderFinish(loader);
	ExecDropSingleTupleTableSlot(scan_slot);
	ExecDropSingleTupleTableSlot(result_slot);
	FreeExprContext(econtext, true);
	MemoryContextDelete(row_mcxt);
	table_close(ftrel, AccessShareLock);
	PG_RETURN_INT64((int64) rows);
}
