/*
 * key.c — secp256k1 keys, P2PKH signing, and WIF.
 */
#include "key.h"

#include <secp256k1.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "base58check.h"
#include "hash.h"
#include "script.h"

static secp256k1_context *ctx;

int key_init(void)
{
	uint8_t seed[32];

	if (ctx)
		return 0;
	ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
	if (!ctx)
		return -1;
	/* Blinding against side channels while signing. */
	if (getrandom(seed, sizeof(seed), 0) == sizeof(seed) &&
	    !secp256k1_context_randomize(ctx, seed))
		return -1;
	memset(seed, 0, sizeof(seed));
	return 0;
}

int key_from_secret(struct key *k, const uint8_t secret[32])
{
	secp256k1_pubkey pk;
	size_t n = sizeof(k->pub);

	if (key_init() < 0 || !secp256k1_ec_seckey_verify(ctx, secret) ||
	    !secp256k1_ec_pubkey_create(ctx, &pk, secret))
		return -1;
	memcpy(k->secret, secret, 32);
	secp256k1_ec_pubkey_serialize(ctx, k->pub, &n, &pk, SECP256K1_EC_COMPRESSED);
	script_hash160(k->pub, sizeof(k->pub), k->h160);
	return 0;
}

int key_generate(struct key *k)
{
	uint8_t secret[32];

	for (int tries = 0; tries < 16; tries++) {
		if (getrandom(secret, sizeof(secret), 0) != sizeof(secret))
			return -1;
		if (key_from_secret(k, secret) == 0) {
			memset(secret, 0, sizeof(secret));
			return 0;
		}
	}
	return -1;
}

/*
 * Sign with RFC 6979 nonces (libsecp256k1 signs low-S), grinding the
 * nonce with a counter as extra data until R's top bit is clear, as
 * Bitcoin Core does: the DER signature is then at most 71 bytes, so a
 * P2PKH input is at most 148 bytes and the wallet's fee estimate holds.
 * The first attempt has no extra data, so half of all signatures are
 * plain RFC 6979.
 */
static int sign_low_r(const struct key *k, const uint8_t digest[32],
		      secp256k1_ecdsa_signature *sig)
{
	uint8_t extra[32] = { 0 }, compact[64];

	for (uint32_t counter = 0; counter < 256; counter++) {
		memcpy(extra, &counter, sizeof(counter));
		if (!secp256k1_ecdsa_sign(ctx, sig, digest, k->secret, NULL,
					  counter ? extra : NULL))
			return -1;
		secp256k1_ecdsa_signature_serialize_compact(ctx, compact, sig);
		if (compact[0] < 0x80)
			return 0;
	}
	return -1;
}

int key_sign_p2pkh_input(const struct key *k, struct tx *t, size_t in)
{
	uint8_t spk[SCRIPT_P2PKH_LEN], digest[32], der[80];
	size_t der_len = sizeof(der) - 1;
	secp256k1_ecdsa_signature sig;
	uint8_t *ss;

	if (key_init() < 0 || in >= t->n_in)
		return -1;
	script_p2pkh(k->h160, spk);
	if (script_sighash_all(t, in, spk, sizeof(spk), digest) < 0)
		return -1;
	if (sign_low_r(k, digest, &sig) < 0 ||
	    !secp256k1_ecdsa_signature_serialize_der(ctx, der, &der_len, &sig))
		return -1;
	der[der_len++] = SIGHASH_ALL;
	ss = malloc(1 + der_len + 1 + sizeof(k->pub));
	if (!ss)
		return -1;
	ss[0] = (uint8_t)der_len;
	memcpy(ss + 1, der, der_len);
	ss[1 + der_len] = sizeof(k->pub);
	memcpy(ss + 2 + der_len, k->pub, sizeof(k->pub));
	free(t->vin[in].script_sig);
	t->vin[in].script_sig = ss;
	t->vin[in].script_sig_len = 2 + der_len + sizeof(k->pub);
	tx_finalize(t);
	return 0;
}

void key_to_wif(const struct key *k, char out[KEY_WIF_MAX])
{
	uint8_t p[34];

	p[0] = KEY_WIF_VERSION;
	memcpy(p + 1, k->secret, 32);
	p[33] = 0x01;
	base58check_encode(p, sizeof(p), out, KEY_WIF_MAX);
	memset(p, 0, sizeof(p));
}

int key_from_wif(struct key *k, const char *wif)
{
	uint8_t p[40];
	int rc;

	if (base58check_decode(wif, p, sizeof(p)) != 34 || p[0] != KEY_WIF_VERSION ||
	    p[33] != 0x01)
		return -1;
	rc = key_from_secret(k, p + 1);
	memset(p, 0, sizeof(p));
	return rc;
}
