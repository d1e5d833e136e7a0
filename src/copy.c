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
#include "libpq-fe.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "optimizer/optimizer.h"
#include "parser/analyze.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
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

/*
 * tdgen.copy_rows(target regclass, query text) returns bigint
 *
 * Loads into the target what tdgen.load_rows would load for the same query
 * (one SELECT of the target's stored columns from one foreign table), but
 * reads the foreign table's rows from production by binary COPY over the
 * connection tdgen.remote_begin opened.  Needs SELECT on the foreign table,
 * EXECUTE on the functions of the select list and INSERT on the target.
 */
Datum
tdgen_copy_rows(PG_FUNCTION_ARGS)
{
	Oid			target = PG_GETARG_OID(0);
	char	   *query = text_to_cstring(PG_GETARG_TEXT_PP(1));
	Query	   *q = analyze_query(query);
	RangeTblEntry *rte = linitial_node(RangeTblEntry, q->rtable);
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
	CopyFromState cstate;
	StringInfoData copy_sql;
	uint64		rows;

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

	initStringInfo(&copy_sql);
	appendStringInfo(&copy_sql, "COPY (%s) TO STDOUT (FORMAT binary)", TdgenRemoteSelect(ftrel));
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

	rows = TdgenLoaderFinish(loader);
	ExecDropSingleTupleTableSlot(scan_slot);
	ExecDropSingleTupleTableSlot(result_slot);
	FreeExprContext(econtext, true);
	MemoryContextDelete(row_mcxt);
	table_close(ftrel, AccessShareLock);
	PG_RETURN_INT64((int64) rows);
}
