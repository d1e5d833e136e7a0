/*-------------------------------------------------------------------------
 *
 * tdgen_refresh.c
 *		The CI client: refresh one environment of a staging database, show
 *		its progress, write its report, and exit with a code per outcome.
 *
 * It calls tdgen_refresh(environment, on_busy, "trigger" => 'ci') on one
 * connection, printing a line as each phase and each table's load starts
 * (the refresh announces them as NOTICEs), and every ten seconds reads
 * tdgen_progress(environment) on a second connection to show the rows a
 * long load has copied so far.  Once the call ends it reads the run
 * (tdgen_last_run, tdgen_report) to tell the outcome.  SIGINT or SIGTERM cancels the refresh: the server rolls it
 * back and records the run as cancelled.  Exit codes: docs/ci.md.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>

#include "libpq-fe.h"

#define EXIT_SUCCEEDED	0
#define EXIT_FAILED		1
#define EXIT_GATE		2
#define EXIT_BUSY		3
#define EXIT_DENIED		4
#define EXIT_CONNECT	5
#define EXIT_USAGE		64
#define EXIT_CANCELLED	130

/* How often the rows loaded so far are shown, in seconds. */
#define PROGRESS_EVERY 10

static const char *progname = "tdgen_refresh";
static volatile sig_atomic_t interrupted = 0;
static bool quiet = false;
static struct timespec start;

static void
on_signal(int signo)
{
	(void) signo;
	interrupted++;
}

/* Seconds since an earlier reading of the monotonic clock. */
static double
seconds_since(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double) (now.tv_sec - start->tv_sec) + (double) (now.tv_nsec - start->tv_nsec) / 1e9;
}

static void
say(const char *fmt,...)
{
	va_list		ap;

	if (quiet)
		return;
	va_start(ap, fmt);
	fprintf(stdout, "%s: ", progname);
	vfprintf(stdout, fmt, ap);
	fputc('\n', stdout);
	fflush(stdout);
	va_end(ap);
}

static void
complain(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	fprintf(stderr, "%s: ", progname);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/*
 * The refresh's NOTICEs, "tdgen ENV: PHASE" or "tdgen ENV: load TABLE (N
 * of M)", as progress lines with the share of tables done and the time
 * since the start; its other notices as they are.
 */
static void
on_notice(void *arg, const PGresult *res)
{
	const char *environment = arg;
	const char *message = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	size_t		prefix = strlen(environment) + 8;
	char		phase[64];
	char		table[512];
	int			n;
	int			total;

	if (message == NULL)
		return;
	if (strncmp(message, "tdgen ", 6) != 0 || strncmp(message + 6, environment, prefix - 8) != 0 ||
		strncmp(message + prefix - 2, ": ", 2) != 0)
	{
		say("%s", message);
		return;
	}
	message += prefix;
	if (strncmp(message, "refreshed (run", 14) == 0 || strncmp(message, "skipped (run", 12) == 0)
		return;					/* the outcome comes last */
	if (sscanf(message, "%63s %511s (%d of %d)", phase, table, &n, &total) == 4 && total > 0)
		say("%s: %s %s (%d of %d, %d%% done), %.1f s", environment, phase, table, n, total, (n - 1) * 100 / total,
			seconds_since(&start));
	else
		say("%s: %s, %.1f s", environment, message, seconds_since(&start));
}

static void
usage(void)
{
	printf("%s refreshes an environment of a tdgen staging database, for CI.\n\n", progname);
	printf("Usage:\n  %s --environment NAME [OPTION]...\n\n", progname);
	printf("Options:\n");
	printf("  -d, --dbname=CONNINFO      the staging database (a name or a connection string; PG* variables apply)\n");
	printf("  -e, --environment=NAME     the environment to refresh\n");
	printf("  -w, --wait                 wait for a refresh of it already running, then refresh\n");
	printf("  -s, --skip-if-busy         end at once (exit 3) if one is running, with the attempt recorded\n");
	printf("  -r, --report=FILE          write the run's JSON report (tdgen.run/1) to FILE\n");
	printf("  -q, --quiet                print errors only\n");
	printf("      --help                 show this help, then exit\n\n");
	printf("Exit codes: 0 succeeded, 1 failed, 2 refused by the gate, 3 busy or skipped,\n");
	printf("4 denied, 5 cannot connect, 64 bad usage, 130 cancelled (SIGINT, SIGTERM).\n");
}

/* The exit code of a call that ended with this SQLSTATE (NULL: none). */
static int
outcome_of(const char *sqlstate)
{
	if (sqlstate == NULL)
		return EXIT_SUCCEEDED;
	if (strcmp(sqlstate, "TG001") == 0)
		return EXIT_GATE;
	if (strcmp(sqlstate, "55P03") == 0)
		return EXIT_BUSY;
	if (strcmp(sqlstate, "42501") == 0 || strcmp(sqlstate, "TG003") == 0)
		return EXIT_DENIED;
	if (strcmp(sqlstate, "57014") == 0)
		return EXIT_CANCELLED;
	return EXIT_FAILED;
}

/* A connection as the client's, or NULL having said why. */
static PGconn *
connect_to(const char *dbname, const char *environment)
{
	const char *keywords[] = {"dbname", "fallback_application_name", NULL};
	const char *values[] = {dbname, progname, NULL};
	PGconn	   *conn = PQconnectdbParams(keywords, values, 1);

	if (conn == NULL || PQstatus(conn) != CONNECTION_OK)
	{
		complain("cannot connect: %s", conn ? PQerrorMessage(conn) : "out of memory");
		PQfinish(conn);
		return NULL;
	}
	PQsetNoticeReceiver(conn, on_notice, (void *) environment);
	return conn;
}

/* The rows each load at work has copied so far, read on its own connection. */
static void
show_progress(PGconn *conn, const char *environment)
{
	const char *params[1] = {environment};
	PGresult   *res = PQexecParams(conn,
								   "SELECT phase, table_name, rows_loaded FROM tdgen_progress($1) "
								   "WHERE table_name IS NOT NULL AND rows_loaded IS NOT NULL ORDER BY table_number",
								   1, NULL, params, NULL, NULL, 0);

	if (PQresultStatus(res) == PGRES_TUPLES_OK)
		for (int i = 0; i < PQntuples(res); i++)
			say("%s: %s %s: %s rows so far, %.1f s", environment, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
				PQgetvalue(res, i, 2), seconds_since(&start));
	PQclear(res);
}

/*
 * Run the CALL on conn while showing the progress read on watch; cancel
 * it on a signal.  Returns the call's last result.
 */
static PGresult *
run_refresh(PGconn *conn, PGconn *watch, const char *environment, const char *on_busy)
{
	const char *params[2] = {environment, on_busy};
	PGresult   *last = NULL;
	PGresult   *res;
	bool		cancelled = false;
	int			sock = PQsocket(conn);
	double		shown = 0;

	if (!PQsendQueryParams(conn,
						   "CALL tdgen_refresh(environment => $1, on_busy => $2, \"trigger\" => 'ci', force => false)",
						   2, NULL, params, NULL, NULL, 0))
	{
		complain("could not send the refresh: %s", PQerrorMessage(conn));
		return NULL;
	}
	for (;;)
	{
		fd_set		input;
		struct timeval timeout = {0, 200 * 1000};

		if (!PQconsumeInput(conn))
			break;
		if (!PQisBusy(conn))
			break;
		if (interrupted && !cancelled)
		{
			PGcancel   *cancel = PQgetCancel(conn);
			char		errbuf[256];

			say("%s: cancelling", environment);
			if (cancel == NULL || !PQcancel(cancel, errbuf, sizeof(errbuf)))
				complain("could not cancel the refresh: %s", cancel ? errbuf : "no cancel handle");
			PQfreeCancel(cancel);
			cancelled = true;
		}
		if (interrupted > 1)
			exit(EXIT_CANCELLED);
		FD_ZERO(&input);
		FD_SET(sock, &input);
		if (select(sock + 1, &input, NULL, NULL, &timeout) < 0 && errno != EINTR)
		{
			complain("select failed: %s", strerror(errno));
			break;
		}
		if (watch != NULL && seconds_since(&start) - shown >= PROGRESS_EVERY)
		{
			show_progress(watch, environment);
			shown = seconds_since(&start);
		}
	}
	while ((res = PQgetResult(conn)) != NULL)
	{
		PQclear(last);
		last = res;
	}
	return last;
}

int
main(int argc, char **argv)
{
	static const struct option options[] = {
		{"dbname", required_argument, NULL, 'd'},
		{"environment", required_argument, NULL, 'e'},
		{"wait", no_argument, NULL, 'w'},
		{"skip-if-busy", no_argument, NULL, 's'},
		{"report", required_argument, NULL, 'r'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	const char *dbname = NULL;
	const char *environment = NULL;
	const char *on_busy = "fail";
	const char *report_file = NULL;
	PGconn	   *conn;
	PGconn	   *watch;
	PGresult   *res;
	PGresult   *run;
	const char *params[1];
	char	   *sqlstate = NULL;
	char	   *error = NULL;
	const char *status;
	int			code;
	int			c;

	while ((c = getopt_long(argc, argv, "d:e:wsr:q", options, NULL)) != -1)
	{
		switch (c)
		{
			case 'd':
				dbname = optarg;
				break;
			case 'e':
				environment = optarg;
				break;
			case 'w':
				on_busy = "wait";
				break;
			case 's':
				on_busy = "skip";
				break;
			case 'r':
				report_file = optarg;
				break;
			case 'q':
				quiet = true;
				break;
			case 'h':
				usage();
				return EXIT_SUCCEEDED;
			default:
				fprintf(stderr, "Try \"%s --help\" for more information.\n", progname);
				return EXIT_USAGE;
		}
	}
	if (environment == NULL || optind < argc)
	{
		complain("%s", environment == NULL ? "--environment is needed" : "too many arguments");
		fprintf(stderr, "Try \"%s --help\" for more information.\n", progname);
		return EXIT_USAGE;
	}

	clock_gettime(CLOCK_MONOTONIC, &start);
	conn = connect_to(dbname, environment);
	if (conn == NULL)
		return EXIT_CONNECT;
	watch = quiet ? NULL : connect_to(dbname, environment);
	if (!quiet && watch == NULL)
		return EXIT_CONNECT;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	res = run_refresh(conn, watch, environment, on_busy);
	if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
		const char *hint = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_HINT) : NULL;

		sqlstate = res && PQresultErrorField(res, PG_DIAG_SQLSTATE) ? strdup(PQresultErrorField(res, PG_DIAG_SQLSTATE)) : NULL;
		error = strdup(res && PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
					   ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : PQerrorMessage(conn));
		complain("%s: %s%s%s%s%s", environment, error, detail ? "\nDETAIL:  " : "", detail ? detail : "",
				 hint ? "\nHINT:  " : "", hint ? hint : "");
	}
	PQclear(res);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);

	/* the run this session made, if any, tells the outcome */
	if (PQstatus(conn) != CONNECTION_OK)
	{
		complain("%s: the connection was lost; the run's record is in tdgen.run", environment);
		return sqlstate && strncmp(sqlstate, "08", 2) == 0 ? EXIT_CONNECT : EXIT_FAILED;
	}
	params[0] = environment;
	run = PQexecParams(conn,
					   "SELECT r ->> 'status', r ->> 'id', r::text, coalesce(r ->> 'rows', '0'), "
					   "coalesce(r ->> 'reason', r #>> '{error,message}', '') "
					   "FROM tdgen_report(tdgen_last_run($1)) AS r WHERE r IS NOT NULL",
					   1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(run) != PGRES_TUPLES_OK || PQntuples(run) == 0)
	{
		/* no run to read (none recorded, or none this role may read): the error tells */
		code = outcome_of(sqlstate);
		if (error == NULL)
			say("%s: nothing to do", environment);
	}
	else
	{
		status = PQgetvalue(run, 0, 0);
		if (report_file != NULL)
		{
			FILE	   *f = fopen(report_file, "w");

			if (f == NULL || fprintf(f, "%s\n", PQgetvalue(run, 0, 2)) < 0 || fclose(f) != 0)
			{
				complain("cannot write %s: %s", report_file, strerror(errno));
				return EXIT_FAILED;
			}
		}
		if (strcmp(status, "succeeded") == 0)
			code = EXIT_SUCCEEDED;
		else if (strcmp(status, "skipped") == 0 || strcmp(status, "busy") == 0)
			code = EXIT_BUSY;
		else if (strcmp(status, "denied") == 0)
			code = EXIT_DENIED;
		else if (strcmp(status, "cancelled") == 0)
			code = EXIT_CANCELLED;
		else
			code = outcome_of(sqlstate) == EXIT_GATE ? EXIT_GATE : EXIT_FAILED;
		/* a cancel between attempts ends the call, not a run */
		if (interrupted && sqlstate != NULL && strcmp(sqlstate, "57014") == 0)
			code = EXIT_CANCELLED;
		if (code == EXIT_SUCCEEDED)
			say("%s: succeeded in %.1f s (run %s, %s rows)", environment, seconds_since(&start), PQgetvalue(run, 0, 1),
				PQgetvalue(run, 0, 3));
		else
			say("%s: %s after %.1f s (run %s)%s%s", environment, status, seconds_since(&start), PQgetvalue(run, 0, 1),
				*PQgetvalue(run, 0, 4) ? ": " : "", PQgetvalue(run, 0, 4));
	}
	PQclear(run);
	PQfinish(watch);
	PQfinish(conn);
	return code;
}
