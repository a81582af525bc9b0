/*
 * key.h — secp256k1 keys, P2PKH signing, and the private key's text form.
 *
 * Private key (WIF): Base58Check (base58check.h) of KEY_WIF_VERSION
 * (0xef), the 32-byte secret and 0x01 (compressed). A key's address is
 * address_encode(k->h160) (address.h).
 */
#ifndef MR_KEY_H
#define MR_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tx.h"

#define KEY_WIF_VERSION 0xef
#define KEY_WIF_MAX 64     /* buffer for a WIF, NUL included */

struct key {
	uint8_t secret[32];
	uint8_t pub[33];     /* compressed */
	uint8_t h160[20];    /* script_hash160(pub) */
};

/*
 * Initialise the library's secp256k1 context (randomised). Call once at
 * start; every other function calls it if needed. Returns 0 or -1.
 */
int key_init(void);

/* Fill k from a 32-byte secret. Returns 0, or -1 if it is not a valid
 * secret key (zero or >= the group order). */
int key_from_secret(struct key *k, const uint8_t secret[32]);

/* A new random key (from getrandom()). Returns 0 or -1. */
int key_generate(struct key *k);

/*
 * Sign input `in` of t, which spends a P2PKH output paying to k: sets the
 * input's scriptSig to <DER sig || SIGHASH_ALL> <pub> (replacing what was
 * there) and re-finalizes t (txid, size). The signature is deterministic
 * (RFC 6979, ground to a low R as Bitcoin Core does: at most 71 DER
 * bytes) and low-S. Returns 0, or -1 (index out of range, no memory).
 */
int key_sign_p2pkh_input(const struct key *k, struct tx *t, size_t in);

/* WIF of k's secret. out holds KEY_WIF_MAX bytes. */
void key_to_wif(const struct key *k, char out[KEY_WIF_MAX]);

/* Parse a WIF (compressed form only) into k. Returns 0 or -1. */
int key_from_wif(struct key *k, const char *wif);

#endif
