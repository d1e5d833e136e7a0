/*-------------------------------------------------------------------------
 *
 * tdgen.c
 *	  Module entry points: PG_MODULE_MAGIC, _PG_init and library metadata.
 *
 * Loading the library initialises libsodium, which every keyed transform
 * relies on, defines the key settings, and reserves the "tdgen."
 * configuration prefix so that a misspelt setting is reported instead of
 * silently ignored.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sodium.h>

#include "access/xact.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "tdgen.h"

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(tdgen_version);
PG_FUNCTION_INFO_V1(tdgen_in_transaction_block);

void		_PG_init(void);

/*
 * _PG_init
 *		Initialise libsodium once per backend and reserve the GUC prefix.
 *
 * sodium_init() is idempotent; it fails only when the system cannot provide
 * a source of randomness, in which case no transform can be trusted and the
 * library refuses to load.
 */
void
_PG_init(void)
{
	if (sodium_init() < 0)
		ereport(ERROR,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("could not initialize libsodium"),
				 errdetail("The cryptographic library tdgen depends on failed its self-initialisation."),
				 errhint("Check that the server can read /dev/urandom or that the getrandom() system call is allowed.")));

	TdgenKeysInit();
	MarkGUCPrefixReserved(TDGEN_GUC_PREFIX);
}

/*
 * tdgen_version() returns text
 *		Version of the loaded library, so that a mismatch between the SQL
 *		objects and the shared library after an upgrade can be seen.
 */
Datum
tdgen_version(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(TDGEN_VERSION));
}

/*
 * tdgen_in_transaction_block() returns boolean
 *		Whether the session is inside BEGIN ... COMMIT.  A procedure that
 *		must make a record outlive the error it raises commits first, which
 *		it can only do outside a transaction block.
 */
Datum
tdgen_in_transaction_block(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(IsTransactionBlock());
}
