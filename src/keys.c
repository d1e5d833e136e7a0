/*-------------------------------------------------------------------------
 *
 * keys.c
 *	  The masking key: where it lives, how it is loaded, and the sub-keys
 *	  every keyed transform derives from it.
 *
 * The key never passes through SQL.  It lives in a file: tdgen.key in the
 * data directory, or the file a superuser names with the tdgen.key_file
 * setting (postgresql.conf or ALTER SYSTEM).  The file must belong to the
 * server's OS user and be closed to group and others, like a TLS private
 * key.  It holds one or more versioned 32-byte keys, one per
 * line as "VERSION:64 hex digits", so a key can be rotated by adding a
 * version.  tdgen.key_version picks one (0, the default, means the highest).
 *
 * Each backend reads the file once, on the first keyed call, into memory
 * that is locked against swapping, and forgets it when either setting
 * changes.  Transforms never see the master key: they get a sub-key,
 * BLAKE2b(master, "tdgen" || transform || scope), so outputs of different
 * transforms and scopes are unrelated.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "tdgen.h"

PG_FUNCTION_INFO_V1(tdgen_key_status);

#define MAX_KEY_VERSIONS 64
#define MAX_KEY_FILE_SIZE 65536

typedef struct MaskingKey
{
	int			version;
	uint8		bytes[TDGEN_KEY_BYTES];
} MaskingKey;

/* settings */
static char *key_file = NULL;
static int	key_version = 0;

/*
 * The key ring of this backend.  Static storage, locked in memory once and
 * wiped before every reload, so key bytes never reach swap or a freed
 * palloc chunk.
 */
static MaskingKey key_ring[MAX_KEY_VERSIONS];
static int	key_count = 0;
static bool key_ring_loaded = false;
static const MaskingKey *current_key = NULL;

/* bumped whenever the key in use may have changed; caches compare it */
static uint64 key_generation = 1;

static void
forget_keys(void)
{
	sodium_memzero(key_ring, sizeof(key_ring));
	key_count = 0;
	key_ring_loaded = false;
	current_key = NULL;
	key_generation++;
}

static void
key_setting_changed(const char *newval, void *extra)
{
	forget_keys();
}

static void
key_version_changed(int newval, void *extra)
{
	forget_keys();
}

/*
 * TdgenKeysInit
 *		Define the key settings; called once from _PG_init.
 */
void
TdgenKeysInit(void)
{
	if (sodium_mlock(key_ring, sizeof(key_ring)) != 0)
		elog(DEBUG1, "tdgen could not lock its key ring in memory");

	DefineCustomStringVariable(TDGEN_GUC_PREFIX ".key_file",
							   "File holding the tdgen masking keys; empty means tdgen.key in the data directory.",
							   "One key per line as VERSION:HEX with 32-byte keys; the file must "
							   "belong to the server's OS user and have no group or other access.",
							   &key_file,
							   "",
							   PGC_SIGHUP,
							   GUC_SUPERUSER_ONLY,
							   NULL,
							   key_setting_changed,
							   NULL);

	DefineCustomIntVariable(TDGEN_GUC_PREFIX ".key_version",
							"Version of the masking key that transforms use.",
							"0 means the highest version in the key file.",
							&key_version,
							0,
							0,
							INT_MAX,
							PGC_SUSET,
							0,
							NULL,
							key_version_changed,
							NULL);
}

static void
no_key_error(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("no tdgen masking key is configured"),
			 errdetail_internal("%s", detail),
			 errhint("As the server's OS user, create the key file in the data directory: "
					 "(umask 077; printf '1:%%s\\n' \"$(openssl rand -hex 32)\" > \"$PGDATA/tdgen.key\"), "
					 "or name another file with tdgen.key_file in postgresql.conf and reload.")));
}

static void
bad_key_file(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_CONFIG_FILE_ERROR),
			 errmsg("the tdgen key file cannot be used"),
			 errdetail_internal("%s", detail),
			 errhint("Each line must be VERSION:KEY with a positive version and a 32-byte key "
					 "in 64 hex digits; blank lines and lines starting with # are ignored.")));
}

/*
 * Parse the file contents into key_ring.  Messages name line numbers,
 * never line contents.
 */
static void
parse_key_file(const char *buf, size_t len)
{
	int			lineno = 0;
	size_t		pos = 0;

	while (pos < len)
	{
		size_t		end = pos;
		const char *line = buf + pos;
		size_t		linelen;
		const char *colon;
		const char *hex;
		size_t		hexlen;
		size_t		binlen;
		int			version = 0;
		MaskingKey *slot;

		while (end < len && buf[end] != '\n')
			end++;
		linelen = end - pos;
		pos = end + 1;
		lineno++;

		while (linelen > 0 && (line[linelen - 1] == '\r' || line[linelen - 1] == ' ' || line[linelen - 1] == '\t'))
			linelen--;
		while (linelen > 0 && (line[0] == ' ' || line[0] == '\t'))
			line++, linelen--;
		if (linelen == 0 || line[0] == '#')
			continue;

		colon = memchr(line, ':', linelen);
		if (colon == NULL || colon == line || colon - line > 9)
			bad_key_file(psprintf("Line %d has no version number before a colon.", lineno));
		for (const char *p = line; p < colon; p++)
		{
			if (*p < '0' || *p > '9')
				bad_key_file(psprintf("Line %d has no version number before a colon.", lineno));
			version = version * 10 + (*p - '0');
		}
		if (version <= 0)
			bad_key_file(psprintf("Line %d has version 0; versions start at 1.", lineno));

		hex = colon + 1;
		hexlen = linelen - (hex - line);
		if (key_count >= MAX_KEY_VERSIONS)
			bad_key_file(psprintf("The file holds more than %d keys.", MAX_KEY_VERSIONS));
		slot = &key_ring[key_count];
		if (hexlen != 2 * TDGEN_KEY_BYTES ||
			sodium_hex2bin(slot->bytes, TDGEN_KEY_BYTES, hex, hexlen, NULL, &binlen, NULL) != 0 ||
			binlen != TDGEN_KEY_BYTES)
		{
			sodium_memzero(slot, sizeof(*slot));
			bad_key_file(psprintf("The key on line %d is not 64 hex digits.", lineno));
		}
		for (int i = 0; i < key_count; i++)
			if (key_ring[i].version == version)
				bad_key_file(psprintf("Version %d appears twice (line %d).", version, lineno));
		slot->version = version;
		key_count++;
	}
}

/*
 * Read and check the key file into key_ring.  Any failure wipes what was
 * read before reporting.
 */
static void
load_key_ring(void)
{
	int			fd;
	struct stat st;
	char		buf[MAX_KEY_FILE_SIZE + 1];
	ssize_t		len;
	bool		default_path = (key_file == NULL || key_file[0] == '\0');
	const char *path = default_path ? psprintf("%s/tdgen.key", DataDir) : key_file;

	forget_keys();

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		no_key_error(default_path
					 ? psprintf("tdgen.key_file is not set and the data directory holds no readable tdgen.key (%s).",
								strerror(errno))
					 : psprintf("The key file named by tdgen.key_file could not be opened: %s.",
								strerror(errno)));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
	{
		close(fd);
		no_key_error("The tdgen key file is not a regular file.");
	}
	if (st.st_uid != geteuid() || (st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
	{
		close(fd);
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("the tdgen key file is not private to the server"),
				 errdetail("It must belong to the operating-system user running the server and have no group or other access."),
				 errhint("Give the key file to the server's OS user and chmod it 600.")));
	}

	len = read(fd, buf, MAX_KEY_FILE_SIZE + 1);
	close(fd);
	if (len < 0 || len > MAX_KEY_FILE_SIZE)
	{
		sodium_memzero(buf, sizeof(buf));
		bad_key_file(len < 0 ? "The file could not be read." : "The file is larger than 64 kB.");
	}

	PG_TRY();
	{
		parse_key_file(buf, len);
	}
	PG_FINALLY();
	{
		sodium_memzero(buf, sizeof(buf));
	}
	PG_END_TRY();

	if (key_count == 0)
		no_key_error("The key file holds no key.");
	key_ring_loaded = true;
}

/*
 * The key selected by tdgen.key_version, loading the ring if needed.
 */
static const MaskingKey *
masking_key(void)
{
	if (current_key != NULL)
		return current_key;

	if (!key_ring_loaded)
	{
		PG_TRY();
		{
			load_key_ring();
		}
		PG_CATCH();
		{
			forget_keys();
			PG_RE_THROW();
		}
		PG_END_TRY();
	}

	for (int i = 0; i < key_count; i++)
	{
		if (key_version == 0 ? (current_key == NULL || key_ring[i].version > current_key->version)
			: key_ring[i].version == key_version)
			current_key = &key_ring[i];
	}
	if (current_key == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("tdgen.key_version %d is not in the key file", key_version),
				 errhint("Set tdgen.key_version to 0 for the newest key, or add that version to the key file.")));
	return current_key;
}

/*
 * derive_subkey
 *		out = BLAKE2b-256 keyed by the master key over
 *		"tdgen\0" transform "\0" scope.  Errors out without a key.
 */
static void
derive_subkey(const char *transform, const char *scope, int scopelen,
				  uint8 out[TDGEN_KEY_BYTES])
{
	const MaskingKey *key = masking_key();
	crypto_generichash_state state;
	static const unsigned char label[] = "tdgen";

	crypto_generichash_init(&state, key->bytes, TDGEN_KEY_BYTES, TDGEN_KEY_BYTES);
	crypto_generichash_update(&state, label, sizeof(label));
	crypto_generichash_update(&state, (const unsigned char *) transform, strlen(transform) + 1);
	crypto_generichash_update(&state, (const unsigned char *) scope, scopelen);
	crypto_generichash_final(&state, out, TDGEN_KEY_BYTES);
	sodium_memzero(&state, sizeof(state));
}

/*
 * TdgenCallSubkey
 *		The sub-key of one transform and scope, cached in fn_extra for the
 *		life of the calling expression.  scope may be NULL (the default
 *		scope, "").
 */
const uint8 *
TdgenCallSubkey(FunctionCallInfo fcinfo, const char *transform, text *scope)
{
	TdgenCallCache *cache = TdgenCallCacheGet(fcinfo);
	const char *s = scope ? VARDATA_ANY(scope) : "";
	int			slen = scope ? VARSIZE_ANY_EXHDR(scope) : 0;

	if (cache->key_generation != key_generation ||
		cache->scope_len != slen ||
		(slen > 0 && memcmp(cache->scope, s, slen) != 0))
	{
		derive_subkey(transform, s, slen, cache->subkey);
		if (slen > cache->scope_cap)
		{
			cache->scope = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, slen);
			cache->scope_cap = slen;
		}
		if (slen > 0)
			memcpy(cache->scope, s, slen);
		cache->scope_len = slen;
		cache->key_generation = key_generation;
	}
	return cache->subkey;
}

/*
 * TdgenCallCacheGet
 *		The per-expression cache of a transform call, allocated zeroed in
 *		fn_mcxt on first use.
 */
TdgenCallCache *
TdgenCallCacheGet(FunctionCallInfo fcinfo)
{
	if (fcinfo->flinfo->fn_extra == NULL)
		fcinfo->flinfo->fn_extra = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt,
														  sizeof(TdgenCallCache));
	return (TdgenCallCache *) fcinfo->flinfo->fn_extra;
}

/*
 * TdgenCallStateRebuild
 *		Drop the state parsed for earlier arguments and return the empty
 *		context (a child of fn_mcxt) to parse the new arguments' state into,
 *		so that arguments changing from row to row do not pile up memory.
 *		cache->state is NULL until the caller sets it again.
 */
MemoryContext
TdgenCallStateRebuild(FunctionCallInfo fcinfo)
{
	TdgenCallCache *cache = TdgenCallCacheGet(fcinfo);

	cache->state = NULL;
	if (cache->state_mcxt == NULL)
		cache->state_mcxt = AllocSetContextCreate(fcinfo->flinfo->fn_mcxt, "tdgen transform state",
												  ALLOCSET_SMALL_SIZES);
	else
		MemoryContextReset(cache->state_mcxt);
	return cache->state_mcxt;
}

/*
 * tdgen_key_status() returns (version int, versions int[], fingerprint text)
 *		Which key transforms use now, for audit records.  The fingerprint is
 *		a keyed hash of a constant: it identifies a key without revealing
 *		anything about it.  Raises the same error a transform would when no
 *		usable key is configured.
 */
Datum
tdgen_key_status(PG_FUNCTION_ARGS)
{
	const MaskingKey *key = masking_key();
	TupleDesc	tupdesc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	Datum	   *versions = palloc(sizeof(Datum) * key_count);
	uint8		fp[8];
	char		hex[sizeof(fp) * 2 + 1];
	static const unsigned char constant[] = "tdgen key fingerprint";

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	for (int i = 0; i < key_count; i++)
		versions[i] = Int32GetDatum(key_ring[i].version);
	crypto_generichash(fp, sizeof(fp), constant, sizeof(constant), key->bytes, TDGEN_KEY_BYTES);
	sodium_bin2hex(hex, sizeof(hex), fp, sizeof(fp));

	values[0] = Int32GetDatum(key->version);
	values[1] = PointerGetDatum(construct_array(versions, key_count, INT4OID, 4, true, TYPALIGN_INT));
	values[2] = CStringGetTextDatum(hex);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
