-- FF1 (NIST SP 800-38G) against the nine NIST sample vectors, then
-- fpe_encrypt / fpe_decrypt under the test key, and their errors.
\set VERBOSITY terse
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS tdgen CASCADE;
RESET client_min_messages;

\set k128 '\\x2B7E151628AED2A6ABF7158809CF4F3C'
\set k192 '\\x2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F'
\set k256 '\\x2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F7F036D6F04FC6A94'
\set radix36 '0123456789abcdefghijklmnopqrstuvwxyz'

CREATE TEMP TABLE nist (sample int, aes_key bytea, tweak bytea, alphabet text, plaintext text, ciphertext text);
INSERT INTO nist VALUES
	(1, :'k128', '\x', '0123456789', '0123456789', '2433477484'),
	(2, :'k128', '\x39383736353433323130', '0123456789', '0123456789', '6124200773'),
	(3, :'k128', '\x3737373770717273373737', :'radix36', '0123456789abcdefghi', 'a9tv40mll9kdu509eum'),
	(4, :'k192', '\x', '0123456789', '0123456789', '2830668132'),
	(5, :'k192', '\x39383736353433323130', '0123456789', '0123456789', '2496655549'),
	(6, :'k192', '\x3737373770717273373737', :'radix36', '0123456789abcdefghi', 'xbj3kv35jrawxv32ysr'),
	(7, :'k256', '\x', '0123456789', '0123456789', '6657667009'),
	(8, :'k256', '\x39383736353433323130', '0123456789', '0123456789', '1001623463'),
	(9, :'k256', '\x3737373770717273373737', :'radix36', '0123456789abcdefghi', 'xs8a0azh2avyalyzuwd');

SELECT sample,
	   tdgen.ff1_raw(aes_key, tweak, alphabet, plaintext) AS encrypted,
	   tdgen.ff1_raw(aes_key, tweak, alphabet, plaintext) = ciphertext AS matches_nist,
	   tdgen.ff1_raw(aes_key, tweak, alphabet, ciphertext, true) = plaintext AS decrypts
FROM nist ORDER BY sample;

-- under the masking key: same length and alphabet, reversible
SELECT tdgen.fpe_encrypt('4111111111111111') AS card,
	   tdgen.fpe_decrypt(tdgen.fpe_encrypt('4111111111111111')) AS back,
	   tdgen.fpe_encrypt('4111111111111111', tweak => 'orders') AS other_tweak,
	   tdgen.fpe_encrypt('4111111111111111', scope => 'billing') AS other_scope;
SELECT tdgen.fpe_encrypt('Grüße aus Köln', ' abcdefghijklmnopqrstuvwxyzäöüßAGK') AS unicode,
	   tdgen.fpe_decrypt(tdgen.fpe_encrypt('Grüße aus Köln', ' abcdefghijklmnopqrstuvwxyzäöüßAGK'),
						 ' abcdefghijklmnopqrstuvwxyzäöüßAGK') AS back;
SELECT tdgen.fpe_encrypt(NULL) IS NULL AS null_stays_null;

-- errors never quote the value
SELECT tdgen.fpe_encrypt('12345');
\echo :LAST_ERROR_SQLSTATE
SELECT tdgen.fpe_encrypt('4111-1111-1111-1111');
\echo :LAST_ERROR_SQLSTATE
SELECT tdgen.fpe_encrypt('123456789', '0123456789012');
\echo :LAST_ERROR_SQLSTATE
SELECT tdgen.fpe_encrypt('123456789', '0');
\echo :LAST_ERROR_SQLSTATE
SELECT tdgen.fpe_encrypt(repeat('7', 1025));
\echo :LAST_ERROR_SQLSTATE
SELECT tdgen.ff1_raw('\x00', '\x', '0123456789', '0123456789');
\echo :LAST_ERROR_SQLSTATE
