/*-------------------------------------------------------------------------
 *
 * prf.c
 *	  Keyed primitives every transform is built from: a pseudo-random
 *	  function, a pseudo-random stream, and keyed permutations of digit
 *	  strings in any radix.
 *
 * The PRF is SipHash keyed with the first 16 bytes of a transform's
 * sub-key: fast on the short values masking sees, and a PRF under its key;
 * SipHash-2-4 over values, SipHash-1-3 over the fixed two-word blocks of
 * streams and Feistel rounds.
 *
 * The permutations make format-preserving transforms injective.  A numeral
 * of n digits in radix r is split in two halves (each below 2^63) and run
 * through eight Feistel rounds with modular addition, the structure of NIST
 * FF1, with the PRF as round function; every output is again an n-digit
 * numeral and distinct inputs stay distinct.  Longer numerals are cut into
 * chunks permuted in two chained passes (see TdgenPermuteDigits).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sodium.h>

#include "tdgen.h"

#define FEISTEL_ROUNDS 8
#define CHUNK_PASSES 2

/*
 * SipHash-2-4 (Aumasson and Bernstein), written out so that the compiler
 * can inline it: the same function as libsodium's crypto_shorthash, at a
 * fraction of the call overhead on the 8- to 32-byte inputs masking sees.
 */
#define ROTL64(x, b) (uint64) (((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND \
	do { \
		v0 += v1; v1 = ROTL64(v1, 13); v1 ^= v0; v0 = ROTL64(v0, 32); \
		v2 += v3; v3 = ROTL64(v3, 16); v3 ^= v2; \
		v0 += v3; v3 = ROTL64(v3, 21); v3 ^= v0; \
		v2 += v1; v1 = ROTL64(v1, 17); v1 ^= v2; v2 = ROTL64(v2, 32); \
	} while (0)

/* declares the four state words v0..v3 keyed by the 16 bytes at key */
#define SIP_STATE(key) \
	uint64		v0 = UINT64CONST(0x736f6d6570736575) ^ load_le64(key); \
	uint64		v1 = UINT64CONST(0x646f72616e646f6d) ^ load_le64((key) + 8); \
	uint64		v2 = UINT64CONST(0x6c7967656e657261) ^ load_le64(key); \
	uint64		v3 = UINT64CONST(0x7465646279746573) ^ load_le64((key) + 8)

static inline uint64
load_le64(const uint8 *p)
{
	return (uint64) p[0] | ((uint64) p[1] << 8) | ((uint64) p[2] << 16) | ((uint64) p[3] << 24) |
		((uint64) p[4] << 32) | ((uint64) p[5] << 40) | ((uint64) p[6] << 48) | ((uint64) p[7] << 56);
}

static inline uint64
siphash24(const uint8 *key, const uint8 *data, size_t len)
{
	SIP_STATE(key);
	const uint8 *end = data + (len & ~(size_t) 7);
	uint64		b = ((uint64) len) << 56;

	for (; data != end; data += 8)
	{
		uint64		m = load_le64(data);

		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	/* the last 0-7 bytes, little-endian, under the length byte */
	for (int i = (int) (len & 7) - 1; i >= 0; i--)
		b |= ((uint64) data[i]) << (8 * i);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/*
 * SipHash-1-3 of two 64-bit words: one compression round per word and
 * three to finalise, the variant many hash tables use.  It keys the
 * Feistel rounds and the stream, where inputs are fixed-size words and the
 * calls are many; TdgenPrf64 keeps the full 2-4 for variable inputs.
 */
static inline uint64
siphash13_words(const uint8 *key, uint64 m0, uint64 m1)
{
	SIP_STATE(key);
	uint64		b = ((uint64) 16) << 56;

	v3 ^= m0;
	SIPROUND;
	v0 ^= m0;
	v3 ^= m1;
	SIPROUND;
	v0 ^= m1;
	v3 ^= b;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/*
 * TdgenPrf64
 *		64-bit keyed hash of a byte string: SipHash-2-4 under the first 16
 *		bytes of the sub-key, read as a little-endian number.
 */
uint64
TdgenPrf64(const uint8 *subkey, const void *data, size_t len)
{
	return siphash24(subkey, data, len);
}

/*
 * TdgenStreamInit / TdgenStreamNext
 *		Pseudo-random words determined by (sub-key, input): SipHash in
 *		counter mode over a seed that is itself the keyed hash of the input.
 */
void
TdgenStreamInit(TdgenStream *stream, const uint8 *subkey, const void *data, size_t len)
{
	memcpy(stream->key, subkey, sizeof(stream->key));
	stream->block[0] = TdgenPrf64(subkey, data, len);
	stream->block[1] = 0;
}

uint64
TdgenStreamNext(TdgenStream *stream)
{
	stream->block[1]++;
	return siphash13_words(stream->key, stream->block[0], stream->block[1]);
}

/*
 * TdgenRadixCapacity
 *		Largest n with radix^n <= 2^63.
 */
int
TdgenRadixCapacity(uint32 radix)
{
	uint64		m = 1;
	int			n = 0;

	Assert(radix >= 2);
	while (m <= (UINT64CONST(1) << 63) / radix)
	{
		m *= radix;
		n++;
	}
	return n;
}

static uint64
ipow(uint64 radix, int n)
{
	uint64		m = 1;

	for (; n > 0; n >>= 1, radix *= radix)
		if (n & 1)
			m *= radix;
	return m;
}

/*
 * The Feistel round function: PRF of (tweak, round, shape, half), packed
 * in two words.
 */
static inline uint64
round_value(const uint8 *subkey, uint64 tweak, int round, uint32 radix, int n, uint64 half)
{
	return siphash13_words(subkey, tweak ^ (((uint64) round << 56) | ((uint64) radix << 24) | (uint64) n),
						   half);
}

/*
 * Eight Feistel rounds (as FF3-1 has) over the halves (a, b) of an n-digit
 * numeral, a of n/2 digits and b of the rest, as in FF1: round i adds the
 * PRF of the other half to one half modulo radix^(its length) and swaps
 * them.
 */
static void
feistel(const uint8 *subkey, uint64 tweak, uint32 radix, int n, uint64 *a, uint64 *b)
{
	uint64		mod_u = ipow(radix, n / 2);
	uint64		mod_v = ipow(radix, n - n / 2);

	for (int i = 0; i < FEISTEL_ROUNDS; i++)
	{
		uint64		m = (i % 2 == 0) ? mod_u : mod_v;
		uint64		c = (*a + round_value(subkey, tweak, i, radix, n, *b) % m) % m;

		*a = *b;
		*b = c;
	}
}

/*
 * TdgenPermuteInt
 *		Keyed permutation of [0, radix^n), for radix^n up to 2^63
 *		(n <= TdgenRadixCapacity(radix)).
 */
uint64
TdgenPermuteInt(const uint8 *subkey, uint64 tweak, uint32 radix, int n, uint64 x)
{
	uint64		mod_v = ipow(radix, n - n / 2);
	uint64		a = x / mod_v;
	uint64		b = x % mod_v;

	feistel(subkey, tweak, radix, n, &a, &b);
	return a * mod_v + b;
}

static uint64
digits_to_int(const uint8 *digits, int n, uint32 radix)
{
	uint64		x = 0;

	for (int i = 0; i < n; i++)
		x = x * radix + digits[i];
	return x;
}

/* the common radixes get constant divisors, which compile to multiplies */
#define INT_TO_DIGITS(r) \
	for (int i = n - 1; i >= 0; i--) \
	{ \
		digits[i] = (uint8) (x % (r)); \
		x /= (r); \
	}

static void
int_to_digits(uint64 x, uint8 *digits, int n, uint32 radix)
{
	switch (radix)
	{
		case 2:
			INT_TO_DIGITS(2);
			break;
		case 10:
			INT_TO_DIGITS(10);
			break;
		case 26:
			INT_TO_DIGITS(26);
			break;
		default:
			INT_TO_DIGITS(radix);
			break;
	}
}

/*
 * TdgenPermuteHalves
 *		The Feistel permutation of an n-digit numeral given as its halves:
 *		*a, the first n/2 digits, and *b, the rest (each below 2^63).
 */
void
TdgenPermuteHalves(const uint8 *subkey, uint64 tweak, uint32 radix, int n, uint64 *a, uint64 *b)
{
	feistel(subkey, tweak, radix, n, a, b);
}

/* One Feistel permutation of a numeral of at most twice the capacity. */
static void
feistel_digits(const uint8 *subkey, uint64 tweak, uint32 radix, uint8 *digits, int n)
{
	int			u = n / 2;
	uint64		a = digits_to_int(digits, u, radix);
	uint64		b = digits_to_int(digits + u, n - u, radix);

	feistel(subkey, tweak, radix, n, &a, &b);
	int_to_digits(a, digits, u, radix);
	int_to_digits(b, digits + u, n - u, radix);
}

/*
 * TdgenPermuteDigits
 *		Keyed permutation, in place, of the numeral digits[0..n-1] (each
 *		digit below radix, radix <= 256).  Any n.
 */
void
TdgenPermuteDigits(const uint8 *subkey, uint64 tweak, uint32 radix, uint8 *digits, int n)
{
	int			capacity = TdgenRadixCapacity(radix);
	int			chunks;
	int			chunk_len;

	Assert(radix >= 2 && radix <= 256);
	if (n <= 0)
		return;
	if (n <= 2 * capacity)
	{
		feistel_digits(subkey, tweak, radix, digits, n);
		return;
	}

	/*
	 * Cut into near-equal chunks and permute them in two chained passes:
	 * left to right, each chunk under a tweak of the previous chunk's new
	 * value, then right to left, each under a tweak of the next chunk's.
	 * Each step can be undone knowing its neighbour's output, so the whole
	 * is a permutation, and every output digit depends on every input
	 * digit, at linear cost.
	 */
	chunks = (n + 2 * capacity - 1) / (2 * capacity);
	chunk_len = (n + chunks - 1) / chunks;
	for (int pass = 0; pass < CHUNK_PASSES; pass++)
	{
		int			prev_start = -1;
		int			prev_len = 0;

		for (int k = 0; k < chunks; k++)
		{
			int			c = (pass % 2 == 0) ? k : chunks - 1 - k;
			int			start = c * chunk_len;
			int			len = Min(chunk_len, n - start);
			uint64		header[3];

			header[0] = tweak;
			header[1] = ((uint64) pass << 32) | (uint64) c;
			header[2] = (prev_start < 0) ? 0 :
				TdgenPrf64(subkey, digits + prev_start, prev_len);
			feistel_digits(subkey, TdgenPrf64(subkey, header, sizeof(header)), radix,
						   digits + start, len);
			prev_start = start;
			prev_len = len;
		}
	}
}
