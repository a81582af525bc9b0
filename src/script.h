/*
 * script.h — the only standard script: pay-to-public-key-hash (P2PKH),
 *   scriptPubKey: OP_DUP OP_HASH160 <20-byte script_hash160(pubkey)> OP_EQUALVERIFY OP_CHECKSIG
 *   scriptSig:    <DER signature + sighash byte> <33- or 65-byte public key>
 * Bitcoin's legacy SIGHASH_ALL digest, ECDSA verification with
 * libsecp256k1, and legacy signature-operation counting.
 *
 * Input from peers reaches every function here: nothing asserts on it,
 * everything is bounds-checked and failures come back as reason strings
 * ("script-verify-flag-failed (...)" style, at most SCRIPT_REASON_MAX).
 */
#ifndef MR_SCRIPT_H
#define MR_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tx.h"

#define SCRIPT_P2PKH_LEN 25
#define SCRIPT_REASON_MAX 96
#define SIGHASH_ALL 1

#define OP_DUP 0x76
#define OP_HASH160 0xa9
#define OP_EQUALVERIFY 0x88
#define OP_CHECKSIG 0xac
#define OP_CHECKSIGVERIFY 0xad
#define OP_CHECKMULTISIG 0xae
#define OP_CHECKMULTISIGVERIFY 0xaf
#define OP_PUSHDATA1 0x4c
#define OP_PUSHDATA2 0x4d
#define OP_PUSHDATA4 0x4e

/* out = RIPEMD160(SHA256(data)). */
void script_hash160(const void *data, size_t len, uint8_t out[20]);

/* Write the P2PKH scriptPubKey paying to h160 into out. */
void script_p2pkh(const uint8_t h160[20], uint8_t out[SCRIPT_P2PKH_LEN]);

/* True if s is exactly a P2PKH scriptPubKey; then copies its hash to h160
 * (h160 may be NULL). */
bool script_is_p2pkh(const uint8_t *s, size_t len, uint8_t h160[20]);

/*
 * Legacy sigop count of a script, as Bitcoin's GetSigOpCount(false):
 * OP_CHECKSIG(VERIFY) counts 1, OP_CHECKMULTISIG(VERIFY) 20. Parsing stops
 * at a malformed push (what was counted so far is returned).
 */
unsigned script_sigops(const uint8_t *s, size_t len);

/* Sum of script_sigops over every scriptSig and scriptPubKey of t. */
unsigned script_tx_sigops(const struct tx *t);

/*
 * Bitcoin's legacy signature hash for input `in` of t with SIGHASH_ALL:
 * every scriptSig emptied, input `in`'s replaced by script_code, the
 * 4-byte sighash type appended, double SHA-256. Returns 0, or -1 if `in`
 * is out of range (Bitcoin's "one" quirk is not reproduced: we fail).
 */
int script_sighash_all(const struct tx *t, size_t in, const uint8_t *script_code,
		       size_t code_len, uint8_t out[32]);

/*
 * Verify input `in` of t spending an output locked by spk. Only P2PKH is
 * accepted: the scriptSig must be exactly two pushes (signature with
 * SIGHASH_ALL, public key) whose key hashes to spk's hash and whose
 * signature (strict DER, low S) verifies over the sighash. Returns 0, or
 * -1 with a reason such as "non-standard scriptPubKey",
 * "scriptSig is not two pushes", "public key does not match",
 * "bad signature encoding", "signature does not verify".
 */
int script_verify_input(const struct tx *t, size_t in, const uint8_t *spk, size_t spk_len,
			char reason[SCRIPT_REASON_MAX]);

#endif
