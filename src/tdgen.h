/*-------------------------------------------------------------------------
 *
 * tdgen.h
 *	  Declarations shared by the tdgen source files.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TDGEN_H
#define TDGEN_H

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "access/tupdesc.h"
#include "utils/relcache.h"

/* Version of the library, from tdgen.control at build time. */
#ifndef TDGEN_VERSION
#error "TDGEN_VERSION must be defined by the build"
#endif

/* Prefix of every tdgen configuration parameter. */
#define TDGEN_GUC_PREFIX "tdgen"

/* Size of the master key and of every sub-key. */
#define TDGEN_KEY_BYTES 32

/*
 * Per-expression cache of a transform call, kept in fn_extra: the sub-key
 * for the scope last seen, and room for a transform's own parsed state.
 */
typedef struct TdgenCallCache
{
	uint64		key_generation; /* of the key ring when derived */
	int			scope_len;
	int			scope_cap;
	char	   *scope;
	uint8		subkey[TDGEN_KEY_BYTES];
	void	   *state;			/* transform-specific */
	MemoryContext state_mcxt;	/* what state was parsed into, or NULL */
} TdgenCallCache;

/* keys.c */
extern void TdgenKeysInit(void);
extern TdgenCallCache *TdgenCallCacheGet(FunctionCallInfo fcinfo);
extern MemoryContext TdgenCallStateRebuild(FunctionCallInfo fcinfo);
extern const uint8 *TdgenCallSubkey(FunctionCallInfo fcinfo, const char *transform, text *scope);

/* entry.c */
extern Oid	TdgenActingRole;
extern char *TdgenExecuteAs(Oid role, const char *sql);
extern void TdgenWithholdValues(ErrorData *edata);
extern char *TdgenSessionLocation(void);

/* How a background worker's error says which job it was (jobs.c). */
#define JOBS_CONTEXT_PREFIX "tdgen job: "


/* load.c */
typedef struct TdgenLoader TdgenLoader;

extern TdgenLoader *TdgenLoaderStart(Oid relid);
extern void TdgenLoaderCheckColumns(TdgenLoader *loader, TupleDesc desc);
extern void TdgenLoaderAdd(TdgenLoader *loader, Datum *values, bool *nulls);
extern uint64 TdgenLoaderFinish(TdgenLoader *loader);

/* remote.c: libpq types stay out of this header */
struct pg_result;
extern struct pg_result *TdgenRemoteSend(const char *sql, int expected, const char *doing);
extern struct pg_result *TdgenRemoteSendParams(const char *sql, int nparams, const char *const *params,
											   int expected, const char *doing);
extern void TdgenRemoteFinish(const char *doing);
extern void TdgenRemoteError(struct pg_result *res, const char *doing);
extern int	TdgenRemoteCopyData(char **buf, const char *doing);
extern void TdgenRemoteCheckTable(Relation ftrel);
extern char *TdgenRemoteSelect(Relation ftrel);

/* prf.c */
typedef struct TdgenStream
{
	uint8		key[16];
	uint64		block[2];		/* seed, counter */
} TdgenStream;

extern uint64 TdgenPrf64(const uint8 *subkey, const void *data, size_t len);
extern void TdgenStreamInit(TdgenStream *stream, const uint8 *subkey, const void *data, size_t len);
extern uint64 TdgenStreamNext(TdgenStream *stream);
extern int	TdgenRadixCapacity(uint32 radix);
extern uint64 TdgenPermuteInt(const uint8 *subkey, uint64 tweak, uint32 radix, int n, uint64 x);
extern void TdgenPermuteDigits(const uint8 *subkey, uint64 tweak, uint32 radix, uint8 *digits, int n);
extern void TdgenPermuteHalves(const uint8 *subkey, uint64 tweak, uint32 radix, int n,
							   uint64 *a, uint64 *b);

/* transform_id.c: check digits, also used by the scan's validators */
extern uint8 TdgenLuhnDigit(const uint8 *digits, int n);
extern int	TdgenIbanCheck(const uint8 *chars, int n);

/*
 * Building a text result in place: reserve the varlena header, append with
 * the StringInfo functions, then set the size.  Saves the copy that
 * cstring_to_text would make on every row.
 */
static inline void
TdgenTextStart(StringInfo s, int expected_len)
{
	s->maxlen = VARHDRSZ + expected_len + 1;
	s->data = (char *) palloc(s->maxlen);
	s->len = VARHDRSZ;
	s->data[VARHDRSZ] = '\0';
	s->cursor = 0;
}

static inline text *
TdgenTextFinish(StringInfo s)
{
	SET_VARSIZE(s->data, s->len);
	return (text *) s->data;
}

#endif							/* TDGEN_H */
