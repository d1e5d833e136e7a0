/*-------------------------------------------------------------------------
 *
 * transform_fpe.c
 *	  Format-preserving encryption: NIST SP 800-38G FF1 over any alphabet.
 *
 * FF1 is a ten-round Feistel cipher on numeral strings whose round function
 * is AES (CBC-MAC, then AES in counter fashion for long outputs), run here
 * through OpenSSL's libcrypto, which the server already loads.  Numbers
 * longer than a machine word use OpenSSL's BIGNUM.  fpe_encrypt and
 * fpe_decrypt key AES-256 with the sub-key of ("fpe", scope); ff1_raw takes
 * the AES key from the caller, to check the cipher against NIST's samples.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include <openssl/bn.h>
#include <openssl/evp.h>

#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "tdgen.h"

PG_FUNCTION_INFO_V1(tdgen_fpe_encrypt);
PG_FUNCTION_INFO_V1(tdgen_fpe_decrypt);
PG_FUNCTION_INFO_V1(tdgen_ff1_raw);

/* FF1 needs radix^minlen >= 10^6 (SP 800-38G Rev. 1); we cap the length */
#define FF1_MIN_DOMAIN 1000000.0
#define FF1_MAX_LENGTH 1024
#define FF1_MAX_RADIX 65536

/* An alphabet: its characters in order, and a sorted copy for lookup. */
typedef struct Alphabet
{
	int			radix;
	pg_wchar   *chars;			/* numeral i is chars[i] */
	pg_wchar   *sorted;
	int		   *sorted_index;
} Alphabet;

static int
wchar_cmp(const void *a, const void *b)
{
	pg_wchar	x = *(const pg_wchar *) a;
	pg_wchar	y = *(const pg_wchar *) b;

	return (x > y) - (x < y);
}

static void
parse_alphabet(text *t, Alphabet *alpha)
{
	int			len = VARSIZE_ANY_EXHDR(t);
	pg_wchar   *w = palloc(sizeof(pg_wchar) * (len + 1));
	int			n = pg_mb2wchar_with_len(VARDATA_ANY(t), w, len);
	pg_wchar   *pairs;

	if (n < 2 || n > FF1_MAX_RADIX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("alphabet must have between 2 and %d characters", FF1_MAX_RADIX),
				 errhint("The default alphabet is the ten digits '0123456789'.")));

	/* sort (character, index) pairs packed as two wchars */
	pairs = palloc(sizeof(pg_wchar) * 2 * n);
	for (int i = 0; i < n; i++)
	{
		pairs[2 * i] = w[i];
		pairs[2 * i + 1] = i;
	}
	qsort(pairs, n, sizeof(pg_wchar) * 2, wchar_cmp);
	alpha->radix = n;
	alpha->chars = w;
	alpha->sorted = palloc(sizeof(pg_wchar) * n);
	alpha->sorted_index = palloc(sizeof(int) * n);
	for (int i = 0; i < n; i++)
	{
		if (i > 0 && pairs[2 * i] == pairs[2 * i - 2])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("alphabet has a repeated character"),
					 errhint("Every character of the alphabet stands for one numeral and may appear once.")));
		alpha->sorted[i] = pairs[2 * i];
		alpha->sorted_index[i] = (int) pairs[2 * i + 1];
	}
	pfree(pairs);
}

static int
numeral_of(const Alphabet *alpha, pg_wchar c)
{
	pg_wchar   *hit = bsearch(&c, alpha->sorted, alpha->radix, sizeof(pg_wchar), wchar_cmp);

	return hit ? alpha->sorted_index[hit - alpha->sorted] : -1;
}

/* ---------------------------------------------------------------------
 * FF1 proper
 * ---------------------------------------------------------------------
 */

typedef struct Ff1
{
	EVP_CIPHER_CTX *ecb;		/* AES-ECB for CIPH_K */
	const uint8 *tweak;
	int			tweak_len;
	uint32		radix;
} Ff1;

static void
openssl_failed(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
			 errmsg("AES encryption failed in OpenSSL")));
}

static void
aes_block(Ff1 *ff1, const uint8 *in, uint8 *out)
{
	int			outl;

	if (EVP_EncryptUpdate(ff1->ecb, out, &outl, in, 16) != 1 || outl != 16)
		openssl_failed();
}

/* CBC-MAC under AES of x (len a multiple of 16), continuing from r */
static void
cbc_mac(Ff1 *ff1, const uint8 *x, int len, uint8 *r)
{
	uint8		block[16];

	for (int j = 0; j < len; j += 16)
	{
		for (int k = 0; k < 16; k++)
			block[k] = r[k] ^ x[j + k];
		aes_block(ff1, block, r);
	}
}

/* NUM_radix(X) for numerals x[0..n-1] */
static void
num_radix(BIGNUM *out, const uint16 *x, int n, uint32 radix)
{
	BN_zero(out);
	for (int i = 0; i < n; i++)
		if (!BN_mul_word(out, radix) || !BN_add_word(out, x[i]))
			openssl_failed();
}

/* STR^m_radix(c) into x[0..m-1]; c is consumed */
static void
str_radix(BIGNUM *c, uint16 *x, int m, uint32 radix)
{
	for (int i = m - 1; i >= 0; i--)
		x[i] = (uint16) BN_div_word(c, radix);
}

/* the same for numbers below 2^63 */
static uint64
num_radix64(const uint16 *x, int n, uint32 radix)
{
	uint64		v = 0;

	for (int i = 0; i < n; i++)
		v = v * radix + x[i];
	return v;
}

static void
str_radix64(uint64 c, uint16 *x, int m, uint32 radix)
{
	for (int i = m - 1; i >= 0; i--)
	{
		x[i] = (uint16) (c % radix);
		c /= radix;
	}
}

/*
 * Run FF1 over x[0..n-1] in place; encrypt or decrypt.  Halves whose
 * values stay below 2^63 (every case masking meets) use machine integers;
 * longer ones OpenSSL's BIGNUM.
 */
static void
ff1_run(Ff1 *ff1, uint16 *x, int n, bool encrypt)
{
	int			u = n / 2;
	int			v = n - u;
	int			t = ff1->tweak_len;
	bool		native = (v <= TdgenRadixCapacity(ff1->radix));
	int			b;
	int			d;
	int			qlen;
	uint8		p_block[16];
	uint8		p_state[16];
	uint8	   *q;
	uint8	   *s;
	uint16	   *a = palloc(sizeof(uint16) * n);
	uint16	   *bb = palloc(sizeof(uint16) * n);
	int			la = u;
	int			lb = v;
	uint64		mod64_u = 1;
	uint64		mod64_v = 1;
	BN_CTX	   *bnctx = NULL;
	BIGNUM	   *num = NULL;
	BIGNUM	   *y = NULL;
	BIGNUM	   *mod_u = NULL;
	BIGNUM	   *mod_v = NULL;

	/* b = ceil(ceil(v * log2(radix)) / 8): the bytes of radix^v - 1 */
	if (native)
	{
		uint64		top;

		for (int i = 0; i < u; i++)
			mod64_u *= ff1->radix;
		for (int i = 0; i < v; i++)
			mod64_v *= ff1->radix;
		top = mod64_v - 1;
		for (b = 0; top > 0; b++)
			top >>= 8;
	}
	else
	{
		BIGNUM	   *radix_bn;
		BIGNUM	   *exp;

		bnctx = BN_CTX_new();
		num = BN_new();
		y = BN_new();
		mod_u = BN_new();
		mod_v = BN_new();
		radix_bn = BN_new();
		exp = BN_new();
		if (!bnctx || !num || !y || !mod_u || !mod_v || !radix_bn || !exp)
			openssl_failed();
		BN_set_word(radix_bn, ff1->radix);
		BN_set_word(exp, v);
		if (!BN_exp(mod_v, radix_bn, exp, bnctx))
			openssl_failed();
		BN_sub_word(mod_v, 1);
		b = BN_num_bytes(mod_v);
		BN_add_word(mod_v, 1);
		BN_set_word(exp, u);
		if (!BN_exp(mod_u, radix_bn, exp, bnctx))
			openssl_failed();
		BN_free(radix_bn);
		BN_free(exp);
	}
	d = 4 * ((b + 3) / 4) + 4;

	/* P = [1,2,1] [radix]^3 [10] [u mod 256] [n]^4 [t]^4, MACed once */
	p_block[0] = 1;
	p_block[1] = 2;
	p_block[2] = 1;
	p_block[3] = (ff1->radix >> 16) & 0xff;
	p_block[4] = (ff1->radix >> 8) & 0xff;
	p_block[5] = ff1->radix & 0xff;
	p_block[6] = 10;
	p_block[7] = u & 0xff;
	p_block[8] = (n >> 24) & 0xff;
	p_block[9] = (n >> 16) & 0xff;
	p_block[10] = (n >> 8) & 0xff;
	p_block[11] = n & 0xff;
	p_block[12] = (t >> 24) & 0xff;
	p_block[13] = (t >> 16) & 0xff;
	p_block[14] = (t >> 8) & 0xff;
	p_block[15] = t & 0xff;
	aes_block(ff1, p_block, p_state);

	/* Q = T || 0^((-t-b-1) mod 16) || [i] || [NUM(B)]^b */
	qlen = t + ((((-t - b - 1) % 16) + 16) % 16) + 1 + b;
	q = palloc0(qlen);
	memcpy(q, ff1->tweak, t);
	s = palloc(((d + 15) / 16) * 16);

	memcpy(a, x, sizeof(uint16) * u);
	memcpy(bb, x + u, sizeof(uint16) * v);

	for (int step = 0; step < 10; step++)
	{
		int			i = encrypt ? step : 9 - step;
		int			m = (i % 2 == 0) ? u : v;
		/* the round function reads B when encrypting, A when decrypting */
		const uint16 *in = encrypt ? bb : a;
		int			in_len = encrypt ? lb : la;
		/* and updates the other half */
		uint16	   *other = encrypt ? a : bb;
		int			other_len = encrypt ? la : lb;
		uint8		r[16];

		q[qlen - b - 1] = (uint8) i;
		if (native)
		{
			uint64		w = num_radix64(in, in_len, ff1->radix);

			for (int k = 0; k < b; k++)
				q[qlen - 1 - k] = (uint8) (w >> (8 * k));
		}
		else
		{
			num_radix(num, in, in_len, ff1->radix);
			if (BN_bn2binpad(num, q + qlen - b, b) < 0)
				openssl_failed();
		}
		memcpy(r, p_state, 16);
		cbc_mac(ff1, q, qlen, r);

		/* S = R || CIPH(R ^ [1]) || CIPH(R ^ [2]) ..., first d bytes */
		memcpy(s, r, 16);
		for (int j = 1; j * 16 < d; j++)
		{
			uint8		block[16];

			memcpy(block, r, 16);
			for (int k = 0; k < 4; k++)
				block[15 - k] ^= (uint8) (j >> (8 * k));
			aes_block(ff1, block, s + 16 * j);
		}

		if (native)
		{
			/* d <= 12 here, so y fits in 128 bits */
			uint64		mod = (m == u) ? mod64_u : mod64_v;
			unsigned __int128 yy = 0;
			uint64		ymod;
			uint64		c = num_radix64(other, other_len, ff1->radix);

			for (int k = 0; k < d; k++)
				yy = (yy << 8) | s[k];
			ymod = (uint64) (yy % mod);
			c = encrypt ? (uint64) (((unsigned __int128) c + ymod) % mod)
				: (uint64) (((unsigned __int128) c + mod - ymod) % mod);
			/* the read half becomes the other; the result takes its place */
			memcpy(other, in, sizeof(uint16) * in_len);
			str_radix64(c, (uint16 *) in, m, ff1->radix);
		}
		else
		{
			if (!BN_bin2bn(s, d, y))
				openssl_failed();
			num_radix(num, other, other_len, ff1->radix);
			if (encrypt ? !BN_mod_add(num, num, y, (m == u) ? mod_u : mod_v, bnctx)
				: !BN_mod_sub(num, num, y, (m == u) ? mod_u : mod_v, bnctx))
				openssl_failed();
			memcpy(other, in, sizeof(uint16) * in_len);
			str_radix(num, (uint16 *) in, m, ff1->radix);
		}
		/* encrypting: A = B, B = C; decrypting: B = A, A = C */
		if (encrypt)
		{
			la = lb;
			lb = m;
		}
		else
		{
			lb = la;
			la = m;
		}
	}

	memcpy(x, a, sizeof(uint16) * la);
	memcpy(x + la, bb, sizeof(uint16) * lb);

	if (!native)
	{
		BN_free(num);
		BN_free(y);
		BN_free(mod_u);
		BN_free(mod_v);
		BN_CTX_free(bnctx);
	}
}

/* ---------------------------------------------------------------------
 * SQL-callable functions
 * ---------------------------------------------------------------------
 */

/* Per-expression state: the parsed alphabet and an AES context. */
typedef struct FpeState
{
	text	   *alphabet_text;	/* copy, to notice a different alphabet */
	Alphabet	alpha;
	EVP_CIPHER_CTX *ecb;
	uint8		key[32];
	int			key_len;
} FpeState;

static void
free_cipher(void *arg)
{
	FpeState   *state = (FpeState *) arg;

	if (state->ecb)
		EVP_CIPHER_CTX_free(state->ecb);
	state->ecb = NULL;
}

static FpeState *
fpe_state(FunctionCallInfo fcinfo, text *alphabet, const uint8 *key, int key_len)
{
	TdgenCallCache *cache = TdgenCallCacheGet(fcinfo);
	FpeState   *state = (FpeState *) cache->state;
	MemoryContext old;

	if (state == NULL)
	{
		MemoryContextCallback *cb;

		state = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(FpeState));
		cb = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(MemoryContextCallback));
		cb->func = free_cipher;
		cb->arg = state;
		MemoryContextRegisterResetCallback(fcinfo->flinfo->fn_mcxt, cb);
		cache->state = state;
	}

	if (state->alphabet_text == NULL ||
		VARSIZE_ANY_EXHDR(state->alphabet_text) != VARSIZE_ANY_EXHDR(alphabet) ||
		memcmp(VARDATA_ANY(state->alphabet_text), VARDATA_ANY(alphabet), VARSIZE_ANY_EXHDR(alphabet)) != 0)
	{
		Alphabet	alpha;

		/* the cipher state stays; the parsed alphabet is rebuilt */
		state->alphabet_text = NULL;
		old = MemoryContextSwitchTo(TdgenCallStateRebuild(fcinfo));
		cache->state = state;
		parse_alphabet(alphabet, &alpha);
		state->alphabet_text = (text *) PG_DETOAST_DATUM_COPY(PointerGetDatum(alphabet));
		MemoryContextSwitchTo(old);
		state->alpha = alpha;
	}

	if (state->ecb == NULL || state->key_len != key_len || memcmp(state->key, key, key_len) != 0)
	{
		const EVP_CIPHER *cipher = key_len == 16 ? EVP_aes_128_ecb()
			: key_len == 24 ? EVP_aes_192_ecb() : EVP_aes_256_ecb();

		if (state->ecb == NULL && (state->ecb = EVP_CIPHER_CTX_new()) == NULL)
			openssl_failed();
		if (EVP_EncryptInit_ex(state->ecb, cipher, NULL, key, NULL) != 1 ||
			EVP_CIPHER_CTX_set_padding(state->ecb, 0) != 1)
			openssl_failed();
		memcpy(state->key, key, key_len);
		state->key_len = key_len;
	}
	return state;
}

/*
 * Encrypt or decrypt value over the alphabet with FF1 under the given AES
 * key and tweak.  Characters outside the alphabet, values too short for
 * FF1's minimum domain of a million and values over FF1_MAX_LENGTH
 * characters are refused (22023) without quoting the value.
 */
static text *
ff1_text(FunctionCallInfo fcinfo, text *value, text *alphabet, const uint8 *tweak, int tweak_len,
		 const uint8 *key, int key_len, bool encrypt)
{
	FpeState   *state = fpe_state(fcinfo, alphabet, key, key_len);
	int			len = VARSIZE_ANY_EXHDR(value);
	pg_wchar   *w = palloc(sizeof(pg_wchar) * (len + 1));
	int			n = pg_mb2wchar_with_len(VARDATA_ANY(value), w, len);
	uint16	   *x = palloc(sizeof(uint16) * (n + 1));
	int			minlen = 1;
	char	   *out;
	int			outlen;
	Ff1			ff1;

	while (pow(state->alpha.radix, minlen) < FF1_MIN_DOMAIN)
		minlen++;
	if (n < minlen || n > FF1_MAX_LENGTH)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("value must have between %d and %d characters for format-preserving encryption over this alphabet",
						minlen, FF1_MAX_LENGTH),
				 errhint("FF1 needs at least a million possible values: radix^length >= 1000000.")));
	for (int i = 0; i < n; i++)
	{
		int			v = numeral_of(&state->alpha, w[i]);

		if (v < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("value has a character outside the alphabet"),
					 errhint("Every character of the value must appear in the alphabet argument.")));
		x[i] = (uint16) v;
	}

	ff1.ecb = state->ecb;
	ff1.tweak = tweak;
	ff1.tweak_len = tweak_len;
	ff1.radix = state->alpha.radix;
	ff1_run(&ff1, x, n, encrypt);

	for (int i = 0; i < n; i++)
		w[i] = state->alpha.chars[x[i]];
	out = palloc(n * pg_database_encoding_max_length() + 1);
	outlen = pg_wchar2mb_with_len(w, out, n);
	return cstring_to_text_with_len(out, outlen);
}

static Datum
fpe(FunctionCallInfo fcinfo, bool encrypt)
{
	text	   *tweak = PG_GETARG_TEXT_PP(2);
	const uint8 *subkey = TdgenCallSubkey(fcinfo, "fpe", PG_GETARG_TEXT_PP(3));

	PG_RETURN_TEXT_P(ff1_text(fcinfo, PG_GETARG_TEXT_PP(0), PG_GETARG_TEXT_PP(1),
							  (const uint8 *) VARDATA_ANY(tweak), VARSIZE_ANY_EXHDR(tweak),
							  subkey, TDGEN_KEY_BYTES, encrypt));
}

/*
 * fpe_encrypt / fpe_decrypt(value text, alphabet text, tweak text,
 *							 scope text) returns text
 *		FF1 with AES-256 keyed by the sub-key of ("fpe", scope).
 */
Datum
tdgen_fpe_encrypt(PG_FUNCTION_ARGS)
{
	return fpe(fcinfo, true);
}

Datum
tdgen_fpe_decrypt(PG_FUNCTION_ARGS)
{
	return fpe(fcinfo, false);
}

/*
 * ff1_raw(aes_key bytea, tweak bytea, alphabet text, value text,
 *		   decrypt boolean) returns text
 *		FF1 under a caller-supplied AES-128/192/256 key: the same cipher as
 *		fpe_encrypt, exposed to check it against published test vectors.
 */
Datum
tdgen_ff1_raw(PG_FUNCTION_ARGS)
{
	bytea	   *key = PG_GETARG_BYTEA_PP(0);
	bytea	   *tweak = PG_GETARG_BYTEA_PP(1);
	int			key_len = VARSIZE_ANY_EXHDR(key);

	if (key_len != 16 && key_len != 24 && key_len != 32)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("AES key must be 16, 24 or 32 bytes long")));
	PG_RETURN_TEXT_P(ff1_text(fcinfo, PG_GETARG_TEXT_PP(3), PG_GETARG_TEXT_PP(2),
							  (const uint8 *) VARDATA_ANY(tweak), VARSIZE_ANY_EXHDR(tweak),
							  (const uint8 *) VARDATA_ANY(key), key_len, !PG_GETARG_BOOL(4)));
}
