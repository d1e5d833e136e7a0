/*-------------------------------------------------------------------------
 *
 * load.c
 *	  The load step of a refresh: rows into a shadow table in batches.
 *
 * A TdgenLoader takes rows shaped like a table's stored columns, routes
 * them to partitions, computes generated columns, checks NOT NULL and
 * CHECK constraints (but NOT VALID ones, which production's rows may
 * break) and writes them with table_multi_insert and a bulk-insert state,
 * the way COPY FROM does: one WAL record per page of rows instead of one
 * per row.
 * Rows wait in per-partition buffers of at most LOAD_BATCH_ROWS rows or
 * LOAD_BATCH_BYTES bytes; the buffers are emptied after each batch, so the
 * loader's memory does not grow with the table.
 *
 * tdgen.load_rows(target, query) feeds a loader from a query (the generic
 * path: the query reads foreign tables and masks in its select list).
 * Rows counted so far are published as a COPY FROM in
 * pg_stat_progress_copy, where tdgen.progress reads them.
 *
 * Errors never quote a row: a NULL where NOT NULL is required names the
 * column only, a broken check the constraint only (ExecConstraints would
 * add the failing row to the detail).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_class.h"
#include "commands/progress.h"
#include "executor/execPartition.h"
#include "executor/executor.h"
#include "executor/nodeModifyTable.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "tcop/dest.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/plancache.h"
#include "utils/rel.h"

#include "tdgen.h"

PG_FUNCTION_INFO_V1(tdgen_load_rows);

/* A batch ends at this many rows or bytes, as in COPY FROM. */
#define LOAD_BATCH_ROWS 1000
#define LOAD_BATCH_BYTES 65535

/* Rows waiting for one table (the target or one of its partitions). */
typedef struct LoadBuffer
{
	ResultRelInfo *rri;
	BulkInsertState bistate;
	int			options;		/* table_multi_insert options */
	int			nchecks;		/* the table's CHECK constraints */
	ExprState **checks;			/* ... planned */
	const char **check_names;	/* ... and their names */
	int			nused;
	TupleTableSlot *slots[LOAD_BATCH_ROWS];	/* made as first needed */
} LoadBuffer;

struct TdgenLoader
{
	Relation	target;
	EState	   *estate;
	ModifyTableState *mtstate;	/* what partition routing expects */
	ResultRelInfo *root;
	PartitionTupleRouting *proute;	/* NULL unless partitioned */
	TupleTableSlot *root_slot;	/* a row in the target's shape */
	int			nstored;		/* the target's non-generated columns */
	AttrNumber *stored;			/* ... their attribute numbers */
	List	   *buffers;
	int			batch_rows;
	Size		batch_bytes;
	uint64		rows;
	MemoryContext mcxt;
};

/*
 * A table's CHECK constraints, planned once.  Those NOT VALID are left
 * out: production holds rows that break them.
 */
static void
prepare_checks(LoadBuffer *buffer, EState *estate)
{
	TupleConstr *constr = buffer->rri->ri_RelationDesc->rd_att->constr;

	if (constr == NULL || constr->num_check == 0)
		return;
	buffer->checks = palloc(sizeof(ExprState *) * constr->num_check);
	buffer->check_names = palloc(sizeof(char *) * constr->num_check);
	for (int i = 0; i < constr->num_check; i++)
	{
		if (!constr->check[i].ccvalid)
			continue;
		buffer->checks[buffer->nchecks] = ExecPrepareExpr((Expr *) stringToNode(constr->check[i].ccbin), estate);
		buffer->check_names[buffer->nchecks] = pstrdup(constr->check[i].ccname);
		buffer->nchecks++;
	}
}

/* CHECK constraints, checked without quoting the row. */
static void
check_row(LoadBuffer *buffer, TupleTableSlot *slot, EState *estate)
{
	ExprContext *econtext = GetPerTupleExprContext(estate);
	Relation	rel = buffer->rri->ri_RelationDesc;

	econtext->ecxt_scantuple = slot;
	for (int i = 0; i < buffer->nchecks; i++)
	{
		if (!ExecCheck(buffer->checks[i], econtext))
			ereport(ERROR,
					(errcode(ERRCODE_CHECK_VIOLATION),
					 errmsg("new row for relation \"%s\" violates check constraint \"%s\"",
							RelationGetRelationName(rel), buffer->check_names[i]),
					 errhint("Every row, once masked, must meet the table's checks: check the masks of the columns they read."),
					 errtableconstraint(rel, buffer->check_names[i])));
	}
}

static LoadBuffer *
buffer_for(TdgenLoader *loader, ResultRelInfo *rri)
{
	LoadBuffer *buffer;
	Relation	rel = rri->ri_RelationDesc;
	MemoryContext old;

	/* the slot COPY FROM keeps for its own buffer serves as ours */
	if (rri->ri_CopyMultiInsertBuffer != NULL)
		return (LoadBuffer *) rri->ri_CopyMultiInsertBuffer;

	old = MemoryContextSwitchTo(loader->mcxt);
	buffer = palloc0(sizeof(LoadBuffer));
	buffer->rri = rri;
	buffer->bistate = GetBulkInsertState();
	/*
	 * A table made (or emptied) in this transaction has no free space to
	 * reuse, and no other transaction can see it before this one commits:
	 * its rows go in frozen, on pages marked all-visible, as COPY FREEZE
	 * writes them.  Nothing reads them again to set hint bits or freeze,
	 * and index-only scans (of the foreign-key checks, of queries on
	 * staging) need not visit the heap.
	 */
	if (rel->rd_createSubid != InvalidSubTransactionId ||
		rel->rd_firstRelfilenodeSubid != InvalidSubTransactionId)
		buffer->options |= TABLE_INSERT_SKIP_FSM | TABLE_INSERT_FROZEN;
	prepare_checks(buffer, loader->estate);
	loader->buffers = lappend(loader->buffers, buffer);
	MemoryContextSwitchTo(old);
	rri->ri_CopyMultiInsertBuffer = (struct CopyMultiInsertBuffer *) buffer;
	return buffer;
}

/*
 * Open the target of a load, which must be a table or a partitioned table
 * the caller may insert into.  The loader lives in the current memory
 * context; TdgenLoaderFinish writes what is buffered and frees it.
 */
TdgenLoader *
TdgenLoaderStart(Oid relid)
{
	TdgenLoader *loader = palloc0(sizeof(TdgenLoader));
	RangeTblEntry *rte;
	TupleDesc	desc;
	AclResult	aclresult;

	aclresult = pg_class_aclcheck(relid, GetUserId(), ACL_INSERT);
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, get_relkind_objtype(get_rel_relkind(relid)), get_rel_name(relid));

	loader->mcxt = AllocSetContextCreate(CurrentMemoryContext, "tdgen load", ALLOCSET_DEFAULT_SIZES);
	loader->estate = CreateExecutorState();
	loader->estate->es_output_cid = GetCurrentCommandId(true);

	rte = makeNode(RangeTblEntry);
	rte->rtekind = RTE_RELATION;
	rte->relid = relid;
	rte->relkind = get_rel_relkind(relid);
	rte->rellockmode = RowExclusiveLock;
	rte->requiredPerms = ACL_INSERT;
	ExecInitRangeTable(loader->estate, list_make1(rte));

	loader->root = makeNode(ResultRelInfo);
	ExecInitResultRelation(loader->estate, loader->root, 1);
	loader->target = loader->root->ri_RelationDesc;
	if (loader->target->rd_rel->relkind != RELKIND_RELATION &&
		loader->target->rd_rel->relkind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("cannot load rows into \"%s\"", RelationGetRelationName(loader->target)),
				 errdetail("Rows are loaded into tables and partitioned tables only.")));
	CheckValidResultRel(loader->root, CMD_INSERT);
	ExecOpenIndices(loader->root, false);

	loader->mtstate = makeNode(ModifyTableState);
	loader->mtstate->ps.state = loader->estate;
	loader->mtstate->operation = CMD_INSERT;
	loader->mtstate->mt_nrels = 1;
	loader->mtstate->resultRelInfo = loader->root;
	loader->mtstate->rootResultRelInfo = loader->root;
	if (loader->target->rd_rel->relkind == RELKIND_PARTITIONED_TABLE)
		loader->proute = ExecSetupPartitionTupleRouting(loader->estate, loader->target);

	desc = RelationGetDescr(loader->target);
	loader->stored = palloc(sizeof(AttrNumber) * desc->natts);
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && !att->attgenerated)
			loader->stored[loader->nstored++] = att->attnum;
	}
	loader->root_slot = MakeSingleTupleTableSlot(desc, &TTSOpsVirtual);

	pgstat_progress_start_command(PROGRESS_COMMAND_COPY, relid);
	pgstat_progress_update_param(PROGRESS_COPY_COMMAND, PROGRESS_COPY_COMMAND_FROM);
	pgstat_progress_update_param(PROGRESS_COPY_TYPE, PROGRESS_COPY_TYPE_CALLBACK);
	return loader;
}

/*
 * Rows shaped by desc must be the target's stored columns (those not
 * generated), in order, type for type: 42804 otherwise.
 */
void
TdgenLoaderCheckColumns(TdgenLoader *loader, TupleDesc desc)
{
	Relation	target = loader->target;
	const AttrNumber *attnums = loader->stored;
	int			ncolumns = loader->nstored;

	if (desc->natts != ncolumns)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("the query gives %d columns, table \"%s\" stores %d",
						desc->natts, RelationGetRelationName(target), ncolumns),
				 errhint("Select one value for each column of the table that is not generated, in the table's order.")));
	for (int i = 0; i < ncolumns; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		Form_pg_attribute column = TupleDescAttr(RelationGetDescr(target), attnums[i] - 1);

		if (att->atttypid != column->atttypid ||
			(column->atttypmod >= 0 && att->atttypmod != column->atttypmod))
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column %d of the query is of type %s, column \"%s\" of table \"%s\" is of type %s",
							i + 1, format_type_with_typemod(att->atttypid, att->atttypmod),
							NameStr(column->attname), RelationGetRelationName(target),
							format_type_with_typemod(column->atttypid, column->atttypmod)),
					 errhint("Cast each value to its column's type.")));
	}
}

/*
 * Write every buffered row, then empty the buffers.  What the writing
 * allocates (toasted copies of the rows, index entries) goes in the
 * per-tuple context, reset here: the caller's context may live as long as
 * the whole load.
 */
static void
flush(TdgenLoader *loader)
{
	ListCell   *lc;
	MemoryContext old = MemoryContextSwitchTo(GetPerTupleMemoryContext(loader->estate));

	foreach(lc, loader->buffers)
	{
		LoadBuffer *buffer = lfirst(lc);
		ResultRelInfo *rri = buffer->rri;

		if (buffer->nused == 0)
			continue;
		table_multi_insert(rri->ri_RelationDesc, buffer->slots, buffer->nused,
						   loader->estate->es_output_cid, buffer->options, buffer->bistate);
		for (int i = 0; i < buffer->nused; i++)
		{
			if (rri->ri_NumIndices > 0)
			{
				List	   *recheck;

				recheck = ExecInsertIndexTuples(rri, buffer->slots[i], loader->estate,
												false, false, NULL, NIL);
				list_free(recheck);
				ResetPerTupleExprContext(loader->estate);
			}
			ExecClearTuple(buffer->slots[i]);
		}
		buffer->nused = 0;
	}
	MemoryContextSwitchTo(old);
	ResetPerTupleExprContext(loader->estate);
	loader->batch_rows = 0;
	loader->batch_bytes = 0;
	pgstat_progress_update_param(PROGRESS_COPY_TUPLES_PROCESSED, loader->rows);
}

/*
 * The partition a row goes to.  When there is none, the error's detail
 * (which quotes the row's partition key) is left out.
 */
static ResultRelInfo *
find_partition(TdgenLoader *loader, TupleTableSlot *slot)
{
	MemoryContext mcxt = CurrentMemoryContext;
	ResultRelInfo *rri = NULL;

	PG_TRY();
	{
		rri = ExecFindPartition(loader->mtstate, loader->root, loader->proute, slot, loader->estate);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(mcxt);
		edata = CopyErrorData();
		if (edata->sqlerrcode != ERRCODE_CHECK_VIOLATION)
			PG_RE_THROW();
		FlushErrorState();
		edata->detail = NULL;
		edata->hint = pstrdup("Every row, once masked, must belong to a partition: check the masks of the partition key.");
		ReThrowError(edata);
	}
	PG_END_TRY();
	return rri;
}

/* NOT NULL, checked without quoting the row. */
static void
check_not_null(ResultRelInfo *rri, TupleTableSlot *slot)
{
	Relation	rel = rri->ri_RelationDesc;
	TupleDesc	desc = RelationGetDescr(rel);

	slot_getallattrs(slot);
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attnotnull && slot->tts_isnull[i])
			ereport(ERROR,
					(errcode(ERRCODE_NOT_NULL_VIOLATION),
					 errmsg("null value in column \"%s\" of relation \"%s\" violates not-null constraint",
							NameStr(att->attname), RelationGetRelationName(rel)),
					 errtablecol(rel, att->attnum)));
	}
}

/*
 * Add one row: values and nulls for the target's stored columns, in the
 * order TdgenLoaderColumns gives.  The values are copied; the caller may
 * free them when this returns.
 */
void
TdgenLoaderAdd(TdgenLoader *loader, Datum *values, bool *nulls)
{
	TupleTableSlot *slot = loader->root_slot;
	ResultRelInfo *rri = loader->root;
	Relation	rel;
	LoadBuffer *buffer;
	TupleTableSlot *stored;

	ExecClearTuple(slot);
	memset(slot->tts_isnull, true, sizeof(bool) * slot->tts_tupleDescriptor->natts);
	for (int i = 0; i < loader->nstored; i++)
	{
		slot->tts_values[loader->stored[i] - 1] = values[i];
		slot->tts_isnull[loader->stored[i] - 1] = nulls[i];
	}
	ExecStoreVirtualTuple(slot);

	if (loader->proute != NULL)
	{
		rri = find_partition(loader, slot);
		if (rri->ri_RootToPartitionMap != NULL)
			slot = execute_attr_map_slot(rri->ri_RootToPartitionMap->attrMap, slot,
										 rri->ri_PartitionTupleSlot);
	}
	rel = rri->ri_RelationDesc;
	if (rel->rd_att->constr != NULL && rel->rd_att->constr->has_generated_stored)
		ExecComputeStoredGenerated(rri, loader->estate, slot, CMD_INSERT);
	if (rel->rd_att->constr != NULL && rel->rd_att->constr->has_not_null)
		check_not_null(rri, slot);
	buffer = buffer_for(loader, rri);
	if (buffer->nchecks > 0)
		check_row(buffer, slot, loader->estate);

	if (buffer->slots[buffer->nused] == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(loader->mcxt);

		buffer->slots[buffer->nused] = table_slot_create(rel, NULL);
		MemoryContextSwitchTo(old);
	}
	stored = buffer->slots[buffer->nused++];
	ExecCopySlot(stored, slot);
	if (TTS_IS_HEAPTUPLE(stored) || TTS_IS_BUFFERTUPLE(stored))
		loader->batch_bytes += ((HeapTupleTableSlot *) stored)->tuple->t_len;
	loader->rows++;
	ResetPerTupleExprContext(loader->estate);

	/* the batch counts the rows of every buffer, so none overflows */
	if (++loader->batch_rows >= LOAD_BATCH_ROWS || loader->batch_bytes >= LOAD_BATCH_BYTES)
		flush(loader);
}

/* Write what is buffered, close the target; returns the rows loaded. */
uint64
TdgenLoaderFinish(TdgenLoader *loader)
{
	ListCell   *lc;
	uint64		rows = loader->rows;

	flush(loader);
	foreach(lc, loader->buffers)
	{
		LoadBuffer *buffer = lfirst(lc);

		FreeBulkInsertState(buffer->bistate);
		table_finish_bulk_insert(buffer->rri->ri_RelationDesc, buffer->options);
		for (int i = 0; i < LOAD_BATCH_ROWS && buffer->slots[i] != NULL; i++)
			ExecDropSingleTupleTableSlot(buffer->slots[i]);
		buffer->rri->ri_CopyMultiInsertBuffer = NULL;
	}
	ExecDropSingleTupleTableSlot(loader->root_slot);
	/* the slots partition routing made */
	ExecResetTupleTable(loader->estate->es_tupleTable, false);
	if (loader->proute != NULL)
		ExecCleanupTupleRouting(loader->mtstate, loader->proute);
	ExecCloseResultRelations(loader->estate);
	ExecCloseRangeTableRelations(loader->estate);
	FreeExecutorState(loader->estate);
	MemoryContextDelete(loader->mcxt);
	pgstat_progress_end_command();
	pfree(loader->stored);
	pfree(loader);
	return rows;
}

/*
 * The generic source: a query's rows, received as the executor produces
 * them.
 */
typedef struct QueryReceiver
{
	DestReceiver pub;
	TdgenLoader *loader;
} QueryReceiver;

/* The query's columns must be the target's stored columns, type for type. */
static void
query_startup(DestReceiver *self, int operation, TupleDesc desc)
{
	TdgenLoaderCheckColumns(((QueryReceiver *) self)->loader, desc);
}

static bool
query_receive(TupleTableSlot *slot, DestReceiver *self)
{
	QueryReceiver *receiver = (QueryReceiver *) self;

	slot_getallattrs(slot);
	TdgenLoaderAdd(receiver->loader, slot->tts_values, slot->tts_isnull);
	return true;
}

static void
query_shutdown(DestReceiver *self)
{
}

static void
query_destroy(DestReceiver *self)
{
}

/*
 * tdgen.load_rows(target regclass, query text) returns bigint
 *
 * Runs the query (one SELECT whose columns are the target's columns that
 * are not generated, in order, of the same types) and loads its rows into
 * the target; returns how many.  Needs INSERT on the target; the query
 * runs with the caller's rights.
 */
Datum
tdgen_load_rows(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	char	   *query = text_to_cstring(PG_GETARG_TEXT_PP(1));
	QueryReceiver receiver = {0};
	SPIExecuteOptions options = {0};
	SPIPlanPtr	plan;
	List	   *sources;
	uint64		rows;

	receiver.pub.receiveSlot = query_receive;
	receiver.pub.rStartup = query_startup;
	receiver.pub.rShutdown = query_shutdown;
	receiver.pub.rDestroy = query_destroy;
	receiver.pub.mydest = DestNone;
	receiver.loader = TdgenLoaderStart(relid);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	plan = SPI_prepare(query, 0, NULL);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	sources = SPI_plan_get_plan_sources(plan);
	if (list_length(sources) != 1 ||
		((CachedPlanSource *) linitial(sources))->commandTag != CMDTAG_SELECT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the query of a load must be a single SELECT"),
				 errhint("Give one SELECT of the table's columns that are not generated.")));
	options.dest = (DestReceiver *) &receiver;
	if (SPI_execute_plan_extended(plan, &options) < 0)
		elog(ERROR, "SPI_execute_plan_extended failed");
	SPI_finish();

	rows = TdgenLoaderFinish(receiver.loader);
	PG_RETURN_INT64((int64) rows);
}
