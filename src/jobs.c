/*-------------------------------------------------------------------------
 *
 * jobs.c
 *	  Statements run side by side in background workers.
 *
 * tdgen.run_jobs(statements, after, workers) runs each statement (one or
 * more SQL commands) in a transaction of its own, in up to `workers`
 * background workers connected to this database as the current user.  A
 * statement starts once the earlier statements it comes after have
 * committed, in array order among those ready.  The call returns each
 * statement's result (the first column of the first row of its last
 * command) and seconds.  During a refresh each statement runs as the
 * acting role (the environment's owner) in a security-restricted
 * operation, in the workers as in the caller.
 *
 * Workers take the caller's masking key version and the settings values
 * depend on (time zone, date and interval styles), so a statement gives
 * what it would give in the caller's session.  The first error ends the
 * call: the other workers are stopped, and the error is raised again here
 * with its SQLSTATE, message, detail and hint.  A statement's notice, when
 * it has one, is raised here as it starts.  A cancel of the caller
 * stops the workers the same way.  Without a free worker slot, the caller
 * runs the statements itself, one after another, in its own transaction.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "portability/instr_time.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/shm_mq.h"
#include "storage/shm_toc.h"
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/tuplestore.h"
#include "utils/wait_event.h"

#include "tdgen.h"

PG_FUNCTION_INFO_V1(tdgen_run_jobs);
PGDLLEXPORT void tdgen_jobs_worker(Datum arg);

#define JOBS_MAGIC 0x7464676a
#define JOBS_QUEUE_SIZE 65536
#define JOBS_MAX_WORKERS 32

/* Settings a worker takes from the caller. */
static const char *const carried_settings[] = {
	"TimeZone", "DateStyle", "IntervalStyle", "extra_float_digits",
	"tdgen.key_version", "work_mem", "maintenance_work_mem",
};

#define NUM_CARRIED lengthof(carried_settings)
#define SETTING_LEN 256

typedef struct JobsShared
{
	Oid			database;
	Oid			user;
	Oid			acting;			/* TdgenActingRole of the caller */
	char		settings[NUM_CARRIED][SETTING_LEN];
} JobsShared;

/* A worker as the caller sees it. */
typedef struct Worker
{
	BackgroundWorkerHandle *handle;
	shm_mq_handle *to_worker;
	shm_mq_handle *from_worker;
	int			job;			/* running, or -1 */
} Worker;

/* Replies: 'R' job seconds result-or-nothing, 'E' sqlstate strings. */
typedef struct ReplyHead
{
	char		kind;
	bool		isnull;
	int32		job;
	int32		sqlerrcode;
	double		seconds;
} ReplyHead;

static Size
queue_offset(int i)
{
	return MAXALIGN(sizeof(JobsShared)) + (Size) i * 2 * JOBS_QUEUE_SIZE;
}

/*
 * Run one statement here, as the acting role when there is one; its
 * result, NULL when it returns no row.
 */
static char *
run_statement(const char *sql, bool *isnull)
{
	MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
	char	   *result = TdgenExecuteAs(TdgenActingRole, sql);

	MemoryContextSwitchTo(old);
	*isnull = (result == NULL);
	return result;
}

/* ------------------------------------------------------------------------
 * The worker
 * ------------------------------------------------------------------------
 */

static void
send_reply(shm_mq_handle *mqh, ReplyHead *head, List *strings)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	appendBinaryStringInfo(&buf, (char *) head, sizeof(ReplyHead));
	foreach(lc, strings)
	{
		const char *s = lfirst(lc);

		appendStringInfoString(&buf, s ? s : "");
		appendStringInfoChar(&buf, '\0');
	}
	(void) shm_mq_send(mqh, buf.len, buf.data, false, true);
	pfree(buf.data);
}

void
tdgen_jobs_worker(Datum arg)
{
	dsm_segment *seg;
	char	   *base;
	JobsShared *shared;
	int			index;
	shm_mq	   *inq;
	shm_mq	   *outq;
	shm_mq_handle *in;
	shm_mq_handle *out;

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	seg = dsm_attach(DatumGetUInt32(arg));
	if (seg == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("tdgen worker could not attach to its shared memory")));
	base = dsm_segment_address(seg);
	shared = (JobsShared *) base;
	memcpy(&index, MyBgworkerEntry->bgw_extra, sizeof(int));
	inq = (shm_mq *) (base + queue_offset(index));
	outq = (shm_mq *) (base + queue_offset(index) + JOBS_QUEUE_SIZE);
	shm_mq_set_receiver(inq, MyProc);
	shm_mq_set_sender(outq, MyProc);
	in = shm_mq_attach(inq, seg, NULL);
	out = shm_mq_attach(outq, seg, NULL);

	BackgroundWorkerInitializeConnectionByOid(shared->database, shared->user, 0);
	TdgenActingRole = shared->acting;

	StartTransactionCommand();
	for (int i = 0; i < (int) NUM_CARRIED; i++)
		if (shared->settings[i][0] != '\0')
			(void) set_config_option(carried_settings[i], shared->settings[i],
									 superuser() ? PGC_SUSET : PGC_USERSET, PGC_S_SESSION,
									 GUC_ACTION_SET, true, 0, false);
	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SET, true, 0, false);

	/*
	 * The workers side by side already fill the cores: an index build
	 * starts no parallel workers of its own, whose sorts would always go
	 * through temporary files.
	 */
	(void) set_config_option("max_parallel_maintenance_workers", "0", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SET, true, 0, false);
	CommitTransactionCommand();

	for (;;)
	{
		Size		len;
		void	   *data;
		int32		job;
		char	   *sql;
		ReplyHead	head = {0};
		instr_time	start;
		instr_time	duration;
		char	   *result;
		MemoryContext mcxt = CurrentMemoryContext;

		if (shm_mq_receive(in, &len, &data, false) != SHM_MQ_SUCCESS)
			break;				/* the caller is done */
		memcpy(&job, data, sizeof(int32));
		sql = pnstrdup((char *) data + sizeof(int32), len - sizeof(int32));

		INSTR_TIME_SET_CURRENT(start);
		pgstat_report_activity(STATE_RUNNING, sql);
		SetCurrentStatementStartTimestamp();
		PG_TRY();
		{
			StartTransactionCommand();
			PushActiveSnapshot(GetTransactionSnapshot());
			result = run_statement(sql, &head.isnull);
			PopActiveSnapshot();
			head.kind = 'R';
			head.job = job;
			INSTR_TIME_SET_CURRENT(duration);
			INSTR_TIME_SUBTRACT(duration, start);
			head.seconds = INSTR_TIME_GET_DOUBLE(duration);
			/* the result must outlive the transaction */
			result = result ? MemoryContextStrdup(mcxt, result) : NULL;
			CommitTransactionCommand();
		}
		PG_CATCH();
		{
			ErrorData  *edata;

			char	   *where;

			/* the caller raises the error, so it is logged once, there */
			MemoryContextSwitchTo(mcxt);
			edata = CopyErrorData();
			FlushErrorState();
			/* the job's label, before the abort takes it back */
			where = TdgenSessionLocation();
			AbortCurrentTransaction();
			if (OidIsValid(TdgenActingRole))
				TdgenWithholdValues(edata);	/* a refresh's rows are production's */
			head.kind = 'E';
			head.job = job;
			head.sqlerrcode = edata->sqlerrcode;
			send_reply(out, &head, list_make4(edata->message, edata->detail, edata->hint,
											  where ? psprintf("%s%s", JOBS_CONTEXT_PREFIX, where) : NULL));
			proc_exit(0);
		}
		PG_END_TRY();
		pgstat_report_activity(STATE_IDLE, NULL);
		send_reply(out, &head, list_make1(result));
		pfree(sql);
		if (result != NULL)
			pfree(result);
	}
	proc_exit(0);
}

/* ------------------------------------------------------------------------
 * The caller
 * ------------------------------------------------------------------------
 */

/* Stop every worker still running (on an error or a cancel). */
static void
stop_workers(Worker *workers, int n)
{
	for (int i = 0; i < n; i++)
		if (workers[i].handle != NULL)
			TerminateBackgroundWorker(workers[i].handle);
}

static int
start_workers(Worker *workers, int wanted, dsm_segment *seg)
{
	char	   *base = dsm_segment_address(seg);
	int			n = 0;

	for (int i = 0; i < wanted; i++)
	{
		BackgroundWorker bgw = {0};
		shm_mq	   *to = (shm_mq *) (base + queue_offset(i));
		shm_mq	   *from = (shm_mq *) (base + queue_offset(i) + JOBS_QUEUE_SIZE);
		pid_t		pid;

		bgw.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
		bgw.bgw_start_time = BgWorkerStart_ConsistentState;
		bgw.bgw_restart_time = BGW_NEVER_RESTART;
		snprintf(bgw.bgw_library_name, BGW_MAXLEN, "tdgen");
		snprintf(bgw.bgw_function_name, BGW_MAXLEN, "tdgen_jobs_worker");
		snprintf(bgw.bgw_name, BGW_MAXLEN, "tdgen worker %d for PID %d", i + 1, MyProcPid);
		snprintf(bgw.bgw_type, BGW_MAXLEN, "tdgen worker");
		bgw.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(seg));
		bgw.bgw_notify_pid = MyProcPid;
		memcpy(bgw.bgw_extra, &i, sizeof(int));

		to = shm_mq_create(to, JOBS_QUEUE_SIZE);
		from = shm_mq_create(from, JOBS_QUEUE_SIZE);
		shm_mq_set_sender(to, MyProc);
		shm_mq_set_receiver(from, MyProc);
		if (!RegisterDynamicBackgroundWorker(&bgw, &workers[n].handle))
			break;				/* no free slot: fewer workers */
		if (WaitForBackgroundWorkerStartup(workers[n].handle, &pid) != BGWH_STARTED)
		{
			pfree(workers[n].handle);
			workers[n].handle = NULL;
			break;
		}
		workers[n].to_worker = shm_mq_attach(to, seg, workers[n].handle);
		workers[n].from_worker = shm_mq_attach(from, seg, workers[n].handle);
		workers[n].job = -1;
		n++;
	}
	return n;
}

/* Raise a worker's error as ours. */
static void
raise_reply_error(const ReplyHead *head, const char *strings)
{
	const char *message = strings;
	const char *detail = message + strlen(message) + 1;
	const char *hint = detail + strlen(detail) + 1;
	const char *where = hint + strlen(hint) + 1;

	ereport(ERROR,
			(errcode(head->sqlerrcode),
			 errmsg_internal("%s", message),
			 *detail ? errdetail_internal("%s", detail) : 0,
			 *hint ? errhint("%s", hint) : 0,
			 *where ? errcontext("%s", where) : 0));
}

typedef struct JobResult
{
	bool		done;
	bool		isnull;
	char	   *result;
	double		seconds;
} JobResult;

/*
 * The statements each statement comes after: `width` 1-based numbers per
 * statement, 0 where there is none.
 */
typedef struct JobOrder
{
	int			width;
	int		   *after;
} JobOrder;

/* May job j start: not started, and all it comes after done? */
static bool
job_ready(int j, const JobOrder *order, const JobResult *results, const bool *started)
{
	if (started[j])
		return false;
	for (int i = 0; i < order->width; i++)
	{
		int			before = order->after[j * order->width + i];

		if (before > 0 && !results[before - 1].done)
			return false;
	}
	return true;
}

/* Say that a statement starts, when it has something to say. */
static void
announce(char **notices, int j)
{
	if (notices[j] != NULL)
		ereport(NOTICE, (errmsg_internal("%s", notices[j])));
}

static void
run_with_workers(Worker *workers, int nworkers, int njobs, char **sql, char **notices,
				 const JobOrder *order, JobResult *results)
{
	bool	   *started = palloc0(sizeof(bool) * njobs);
	int			done = 0;

	while (done < njobs)
	{
		bool		progress = false;

		/* give every idle worker a ready job */
		for (int w = 0; w < nworkers; w++)
		{
			if (workers[w].job >= 0)
				continue;
			for (int j = 0; j < njobs; j++)
			{
				if (job_ready(j, order, results, started))
				{
					StringInfoData msg;
					int32		job = j;

					initStringInfo(&msg);
					appendBinaryStringInfo(&msg, (char *) &job, sizeof(int32));
					appendStringInfoString(&msg, sql[j]);
					if (shm_mq_send(workers[w].to_worker, msg.len, msg.data, false, true) != SHM_MQ_SUCCESS)
						ereport(ERROR,
								(errcode(ERRCODE_CONNECTION_FAILURE),
								 errmsg("a tdgen worker ended before its work was done")));
					pfree(msg.data);
					announce(notices, j);
					started[j] = true;
					workers[w].job = j;
					break;
				}
			}
		}

		/* collect what is finished */
		for (int w = 0; w < nworkers; w++)
		{
			Size		len;
			void	   *data;
			shm_mq_result res;
			ReplyHead	head;

			if (workers[w].job < 0)
				continue;
			res = shm_mq_receive(workers[w].from_worker, &len, &data, true);
			if (res == SHM_MQ_WOULD_BLOCK)
				continue;
			if (res != SHM_MQ_SUCCESS)
				ereport(ERROR,
						(errcode(ERRCODE_CONNECTION_FAILURE),
						 errmsg("a tdgen worker ended before its work was done"),
						 errhint("The server log may say why.")));
			memcpy(&head, data, sizeof(ReplyHead));
			if (head.kind == 'E')
				raise_reply_error(&head, (char *) data + sizeof(ReplyHead));
			results[head.job].done = true;
			results[head.job].seconds = head.seconds;
			results[head.job].isnull = head.isnull;
			if (!head.isnull)
				results[head.job].result = pstrdup((char *) data + sizeof(ReplyHead));
			workers[w].job = -1;
			done++;
			progress = true;
		}

		if (done < njobs && !progress)
		{
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH, -1, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
		}
		CHECK_FOR_INTERRUPTS();
	}
}

/* The workers run the statements; an error or a cancel stops them all. */
static void
run_or_stop(Worker *workers, int nworkers, int njobs, char **sql, char **notices,
			const JobOrder *order, JobResult *results)
{
	PG_TRY();
	{
		run_with_workers(workers, nworkers, njobs, sql, notices, order, results);
	}
	PG_CATCH();
	{
		stop_workers(workers, nworkers);
		PG_RE_THROW();
	}
	PG_END_TRY();
}

/* No worker could start: the statements run here, in order, in this transaction. */
static void
run_here(int njobs, char **sql, char **notices, JobResult *results)
{
	for (int j = 0; j < njobs; j++)
	{
		instr_time	start;
		instr_time	duration;
		char	   *result;

		announce(notices, j);
		INSTR_TIME_SET_CURRENT(start);
		result = run_statement(sql[j], &results[j].isnull);
		CommandCounterIncrement();
		INSTR_TIME_SET_CURRENT(duration);
		INSTR_TIME_SUBTRACT(duration, start);
		results[j].result = result ? pstrdup(result) : NULL;
		results[j].seconds = INSTR_TIME_GET_DOUBLE(duration);
		results[j].done = true;
	}
}

/*
 * tdgen.run_jobs(statements text[], after integer[], workers integer, notices text[])
 *	 returns table (job integer, result text, seconds double precision)
 *
 * after[i] is the 1-based number of the statement statement i starts
 * after, or 0; in a two-dimensional array, after[i][k] are the numbers of
 * those it starts after, 0 where there is none.  notices[i], when there
 * is one, is raised as a NOTICE here when statement i starts.
 */
Datum
tdgen_run_jobs(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Datum	   *sql_datums;
	bool	   *sql_nulls;
	Datum	   *after_datums;
	bool	   *after_nulls;
	Datum	   *notice_datums;
	bool	   *notice_nulls;
	int			nnotices;
	char	  **notices;
	int			njobs;
	int			nafter;
	ArrayType  *after_array = PG_GETARG_ARRAYTYPE_P(1);
	int			wanted = PG_GETARG_INT32(2);
	char	  **sql;
	JobOrder	order;
	JobResult  *results;
	Worker	   *workers;
	int			nworkers = 0;
	dsm_segment *seg = NULL;

	InitMaterializedSRF(fcinfo, 0);
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(0), TEXTOID, -1, false, TYPALIGN_INT,
					  &sql_datums, &sql_nulls, &njobs);
	deconstruct_array(after_array, INT4OID, 4, true, TYPALIGN_INT,
					  &after_datums, &after_nulls, &nafter);
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(3), TEXTOID, -1, false, TYPALIGN_INT,
					  &notice_datums, &notice_nulls, &nnotices);
	if (ARR_NDIM(after_array) > 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("after has %d dimensions", ARR_NDIM(after_array)),
				 errhint("after has one entry per statement, or one row per statement.")));
	order.width = ARR_NDIM(after_array) == 2 ? ARR_DIMS(after_array)[1] : 1;
	if (nafter != njobs * order.width)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("after has %d entries for %d statements",
						ARR_NDIM(after_array) == 2 ? ARR_DIMS(after_array)[0] : nafter, njobs),
				 errhint("after has one entry per statement, or one row per statement.")));
	if (wanted < 1 || wanted > JOBS_MAX_WORKERS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("workers must be between 1 and %d", JOBS_MAX_WORKERS)));

	sql = palloc(sizeof(char *) * Max(njobs, 1));
	order.after = palloc(sizeof(int) * Max(nafter, 1));
	results = palloc0(sizeof(JobResult) * Max(njobs, 1));
	notices = palloc0(sizeof(char *) * Max(njobs, 1));
	for (int j = 0; j < Min(njobs, nnotices); j++)
		if (!notice_nulls[j])
			notices[j] = TextDatumGetCString(notice_datums[j]);
	for (int j = 0; j < njobs; j++)
	{
		if (sql_nulls[j])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("statement %d is null", j + 1)));
		sql[j] = TextDatumGetCString(sql_datums[j]);
		for (int i = 0; i < order.width; i++)
		{
			int			k = j * order.width + i;

			order.after[k] = after_nulls[k] ? 0 : DatumGetInt32(after_datums[k]);
			if (order.after[k] < 0 || order.after[k] > j)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("statement %d comes after statement %d", j + 1, order.after[k]),
						 errhint("A statement comes after earlier ones, or after none (0).")));
		}
	}

	wanted = Min(wanted, njobs);
	workers = palloc0(sizeof(Worker) * Max(wanted, 1));
	if (wanted > 1)
	{
		JobsShared *shared;

		seg = dsm_create(queue_offset(wanted), 0);
		shared = dsm_segment_address(seg);
		shared->database = MyDatabaseId;
		shared->user = GetUserId();
		shared->acting = TdgenActingRole;
		for (int i = 0; i < (int) NUM_CARRIED; i++)
		{
			const char *value = GetConfigOption(carried_settings[i], true, false);

			strlcpy(shared->settings[i], value ? value : "", SETTING_LEN);
		}
		nworkers = start_workers(workers, wanted, seg);
	}

	if (nworkers == 0)
		run_here(njobs, sql, notices, results);
	else
	{
		run_or_stop(workers, nworkers, njobs, sql, notices, &order, results);
		/* done: the workers see their queues closed and leave */
		dsm_detach(seg);
	}

	for (int j = 0; j < njobs; j++)
	{
		Datum		values[3];
		bool		nulls[3] = {false, results[j].isnull, false};

		values[0] = Int32GetDatum(j + 1);
		values[1] = results[j].isnull ? (Datum) 0 : CStringGetTextDatum(results[j].result);
		values[2] = Float8GetDatum(results[j].seconds);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	PG_RETURN_NULL();
}
