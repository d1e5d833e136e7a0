/*-------------------------------------------------------------------------
 *
 * transform_hash.c
 *	  Pseudonyms: keyed hex hashes, keyed bijections on integers, uuids.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sodium.h>

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/uuid.h"

#include "tdgen.h"

PG_FUNCTION_INFO_V1(tdgen_hash);
PG_FUNCTION_INFO_V1(tdgen_pseudo_int2);
PG_FUNCTION_INFO_V1(tdgen_pseudo_int4);
PG_FUNCTION_INFO_V1(tdgen_pseudo_int8);
PG_FUNCTION_INFO_V1(tdgen_uuid);

#define HASH_MAX_LENGTH ((int) crypto_generichash_BYTES_MAX * 2)

/*
 * hash(value text, length int, scope text) returns text
 *		The first `length` hex digits of BLAKE2b keyed by the sub-key of
 *		(hash, scope) over the value.  1 <= length <= 128.
 */
Datum
tdgen_hash(PG_FUNCTION_ARGS)
{
	text	   *value = PG_GETARG_TEXT_PP(0);
	int32		length = PG_GETARG_INT32(1);
	const uint8 *subkey;
	uint8		digest[crypto_generichash_BYTES_MAX];
	text	   *result;
	char	   *hex;
	int			nbytes;

	if (length < 1 || length > HASH_MAX_LENGTH)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("hash length must be between 1 and %d", HASH_MAX_LENGTH),
				 errhint("The length counts hex digits; 16 (64 bits) is the default.")));

	subkey = TdgenCallSubkey(fcinfo, "hash", PG_GETARG_TEXT_PP(2));
	nbytes = Max((length + 1) / 2, (int) crypto_generichash_BYTES_MIN);
	crypto_generichash(digest, nbytes,
					   (const unsigned char *) VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value),
					   subkey, TDGEN_KEY_BYTES);

	result = (text *) palloc(VARHDRSZ + length);
	SET_VARSIZE(result, VARHDRSZ + length);
	hex = VARDATA(result);
	for (int i = 0; i < length; i++)
		hex[i] = "0123456789abcdef"[(digest[i / 2] >> ((i % 2) ? 0 : 4)) & 0xf];
	PG_RETURN_TEXT_P(result);
}

/*
 * Keyed bijection on the integers of `bits` value bits plus sign: x >= 0
 * maps into [0, 2^bits) and x < 0 into [-2^bits, 0), each by its own
 * permutation, so unique keys stay unique and keep their sign.
 */
static int64
pseudo_int(FunctionCallInfo fcinfo, int64 x, int bits)
{
	const uint8 *subkey = TdgenCallSubkey(fcinfo, "pseudo_int", PG_GETARG_TEXT_PP(1));

	if (x >= 0)
		return (int64) TdgenPermuteInt(subkey, 0, 2, bits, (uint64) x);
	return -1 - (int64) TdgenPermuteInt(subkey, 1, 2, bits, (uint64) (-1 - x));
}

/*
 * pseudo_int(value int2|int4|int8, scope text) returns the same type
 *		Keyed permutation within the type's range that keeps the sign.
 */
Datum
tdgen_pseudo_int2(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT16((int16) pseudo_int(fcinfo, PG_GETARG_INT16(0), 15));
}

Datum
tdgen_pseudo_int4(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32((int32) pseudo_int(fcinfo, PG_GETARG_INT32(0), 31));
}

Datum
tdgen_pseudo_int8(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(pseudo_int(fcinfo, PG_GETARG_INT64(0), 63));
}

/*
 * uuid(value uuid, scope text) returns uuid
 *		A random-looking version-4 uuid.  The 122 bits a version-4 uuid
 *		leaves free are permuted, so distinct version-4 inputs give
 *		distinct outputs; any other input is first reduced to 122 bits by
 *		the keyed hash, where a collision needs about 2^61 values.
 */
Datum
tdgen_uuid(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *in = PG_GETARG_UUID_P(0);
	const uint8 *subkey = TdgenCallSubkey(fcinfo, "uuid", PG_GETARG_TEXT_PP(1));
	pg_uuid_t  *out = palloc(sizeof(pg_uuid_t));
	uint8		source[UUID_LEN];
	const uint128 low62 = (((uint128) 1) << 62) - 1;
	uint128		x = 0;
	uint128		free_bits;
	uint64		a;
	uint64		b;

	memcpy(source, in->data, UUID_LEN);
	if ((source[6] >> 4) != 4 || (source[8] >> 6) != 2)
		crypto_generichash(source, UUID_LEN, in->data, UUID_LEN, subkey, TDGEN_KEY_BYTES);

	/*
	 * The free bits: all but the version nibble (bits 48-51 from the top)
	 * and the variant (bits 64-65), as two 61-bit halves.
	 */
	for (int i = 0; i < UUID_LEN; i++)
		x = (x << 8) | source[i];
	free_bits = ((x >> 80) << 74) | (((x >> 64) & 0xfff) << 62) | (x & low62);
	a = (uint64) (free_bits >> 61);
	b = (uint64) (free_bits & ((((uint128) 1) << 61) - 1));
	TdgenPermuteHalves(subkey, 0, 2, 122, &a, &b);
	free_bits = (((uint128) a) << 61) | b;
	x = ((free_bits >> 74) << 80) | (((uint128) 0x4) << 76) | (((free_bits >> 62) & 0xfff) << 64) |
		(((uint128) 0x2) << 62) | (free_bits & low62);
	for (int i = UUID_LEN - 1; i >= 0; i--, x >>= 8)
		out->data[i] = (uint8) x;
	PG_RETURN_UUID_P(out);
}
