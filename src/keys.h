/*
 * keys.h — secp256k1 keys, signing, and the text forms users see:
 * addresses and private keys in Base58Check.
 *
 * Address: Base58Check of version byte KEYS_ADDR_VERSION (0x6f, as
 * Bitcoin's test networks: addresses start with m or n) followed by the
 * 20-byte script_hash160 of the compressed public key. Private key (WIF):
 * Base58Check of KEYS_WIF_VERSION (0xef), the 32-byte secret and 0x01
 * (compressed). Base58Check = Base58(payload || first 4 bytes of
 * SHA256d(payload)).
 */
#ifndef MR_KEYS_H
#define MR_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tx.h"

#define KEYS_ADDR_VERSION 0x6f
#define KEYS_WIF_VERSION 0xef
#define KEYS_ADDR_MAX 64   /* buffer for an address, NUL included */
#define KEYS_WIF_MAX 64

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

/* Base58Check of `len` payload bytes into out (cap bytes). Returns 0, or
 * -1 if out is too small. */
int base58check_encode(const uint8_t *payload, size_t len, char *out, size_t cap);

/* Decode Base58Check text into out (cap bytes); returns the payload length,
 * or -1 for a bad character, a bad checksum or a payload over cap. */
int base58check_decode(const char *text, uint8_t *out, size_t cap);

/* The address of a script_hash160. out holds KEYS_ADDR_MAX bytes. */
void address_encode(const uint8_t h160[20], char out[KEYS_ADDR_MAX]);

/* Parse an address into its script_hash160. Returns 0, or -1 (not Base58Check,
 * wrong version or length). */
int address_decode(const char *addr, uint8_t h160[20]);

/* WIF of k's secret. out holds KEYS_WIF_MAX bytes. */
void key_to_wif(const struct key *k, char out[KEYS_WIF_MAX]);

/* Parse a WIF (compressed form only) into k. Returns 0 or -1. */
int key_from_wif(struct key *k, const char *wif);

#endif
