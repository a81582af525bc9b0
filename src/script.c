/*
 * script.c — P2PKH scripts, legacy signature hashes and verification,
 * sigop counting.
 */
#include "script.h"

#include <openssl/evp.h>
#include <secp256k1.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

void script_hash160(const void *data, size_t len, uint8_t out[20])
{
	uint8_t sha[32];
	unsigned int n = 20;

	hash_sha256(data, len, sha);
	if (!EVP_Digest(sha, sizeof(sha), out, &n, EVP_ripemd160(), NULL))
		abort(); /* libcrypto without RIPEMD-160: nothing can be verified */
}

void script_p2pkh(const uint8_t h160[20], uint8_t out[SCRIPT_P2PKH_LEN])
{
	out[0] = OP_DUP;
	out[1] = OP_HASH160;
	out[2] = 20;
	memcpy(out + 3, h160, 20);
	out[23] = OP_EQUALVERIFY;
	out[24] = OP_CHECKSIG;
}

bool script_is_p2pkh(const uint8_t *s, size_t len, uint8_t h160[20])
{
	if (len != SCRIPT_P2PKH_LEN || s[0] != OP_DUP || s[1] != OP_HASH160 || s[2] != 20 ||
	    s[23] != OP_EQUALVERIFY || s[24] != OP_CHECKSIG)
		return false;
	if (h160)
		memcpy(h160, s + 3, 20);
	return true;
}

/*
 * Read one opcode at *pos: for pushes, *data / *dlen describe the pushed
 * bytes. Returns the opcode, or -1 at the end or on a truncated push.
 */
static int next_op(const uint8_t *s, size_t len, size_t *pos, const uint8_t **data,
		   size_t *dlen)
{
	size_t n = 0, i = *pos;
	int op;

	if (i >= len)
		return -1;
	op = s[i++];
	if (op >= 1 && op <= 75) {
		n = (size_t)op;
	} else if (op == OP_PUSHDATA1) {
		if (len - i < 1)
			return -1;
		n = s[i];
		i += 1;
	} else if (op == OP_PUSHDATA2) {
		if (len - i < 2)
			return -1;
		n = (size_t)s[i] | (size_t)s[i + 1] << 8;
		i += 2;
	} else if (op == OP_PUSHDATA4) {
		if (len - i < 4)
			return -1;
		n = (size_t)s[i] | (size_t)s[i + 1] << 8 | (size_t)s[i + 2] << 16 |
		    (size_t)s[i + 3] << 24;
		i += 4;
	}
	if (n > len - i)
		return -1;
	*data = s + i;
	*dlen = n;
	*pos = i + n;
	return op;
}

unsigned script_sigops(const uint8_t *s, size_t len)
{
	unsigned n = 0;
	size_t pos = 0, dlen;
	const uint8_t *data;
	int op;

	while ((op = next_op(s, len, &pos, &data, &dlen)) >= 0) {
		if (op == OP_CHECKSIG || op == OP_CHECKSIGVERIFY)
			n += 1;
		else if (op == OP_CHECKMULTISIG || op == OP_CHECKMULTISIGVERIFY)
			n += 20;
	}
	return n;
}

unsigned script_tx_sigops(const struct tx *t)
{
	unsigned n = 0;

	for (size_t i = 0; i < t->n_in; i++)
		n += script_sigops(t->vin[i].script_sig, t->vin[i].script_sig_len);
	for (size_t i = 0; i < t->n_out; i++)
		n += script_sigops(t->vout[i].script_pubkey, t->vout[i].script_pubkey_len);
	return n;
}

int script_sighash_all(const struct tx *t, size_t in, const uint8_t *script_code,
		       size_t code_len, uint8_t out[32])
{
	struct wbuf w;

	if (in >= t->n_in)
		return -1;
	/* The transaction serialized with every scriptSig empty but ours,
	 * which is the script being satisfied. */
	ser_write_init(&w);
	ser_write_i32(&w, t->version);
	ser_write_compact(&w, t->n_in);
	for (size_t i = 0; i < t->n_in; i++) {
		ser_write_bytes(&w, t->vin[i].prevout.txid, 32);
		ser_write_u32(&w, t->vin[i].prevout.n);
		if (i == in) {
			ser_write_compact(&w, code_len);
			ser_write_bytes(&w, script_code, code_len);
		} else {
			ser_write_compact(&w, 0);
		}
		ser_write_u32(&w, t->vin[i].sequence);
	}
	ser_write_compact(&w, t->n_out);
	for (size_t i = 0; i < t->n_out; i++) {
		ser_write_i64(&w, t->vout[i].value);
		ser_write_compact(&w, t->vout[i].script_pubkey_len);
		ser_write_bytes(&w, t->vout[i].script_pubkey, t->vout[i].script_pubkey_len);
	}
	ser_write_u32(&w, t->locktime);
	ser_write_u32(&w, SIGHASH_ALL);
	if (w.oom) {
		ser_write_free(&w);
		return -1;
	}
	hash_sha256d(w.data, w.len, out);
	ser_write_free(&w);
	return 0;
}

/* Bitcoin's IsValidSignatureEncoding (BIP66 strict DER), sighash byte
 * included in len. */
static bool strict_der(const uint8_t *sig, size_t len)
{
	size_t lr, ls;

	if (len < 9 || len > 73 || sig[0] != 0x30 || sig[1] != len - 3)
		return false;
	lr = sig[3];
	if (5 + lr >= len)
		return false;
	ls = sig[5 + lr];
	if (lr + ls + 7 != len)
		return false;
	if (sig[2] != 0x02 || lr == 0 || (sig[4] & 0x80))
		return false;
	if (lr > 1 && sig[4] == 0x00 && !(sig[5] & 0x80))
		return false;
	if (sig[lr + 4] != 0x02 || ls == 0 || (sig[lr + 6] & 0x80))
		return false;
	if (ls > 1 && sig[lr + 6] == 0x00 && !(sig[lr + 7] & 0x80))
		return false;
	return true;
}

static secp256k1_context *verify_ctx(void)
{
	static secp256k1_context *ctx;

	if (!ctx)
		ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
	return ctx;
}

static int why(char reason[SCRIPT_REASON_MAX], const char *msg)
{
	snprintf(reason, SCRIPT_REASON_MAX, "%s", msg);
	return -1;
}

int script_verify_input(const struct tx *t, size_t in, const uint8_t *spk, size_t spk_len,
			char reason[SCRIPT_REASON_MAX])
{
	const uint8_t *sig, *pub, *extra;
	size_t sig_len, pub_len, extra_len, pos = 0;
	uint8_t h160[20], want[20], digest[32];
	secp256k1_ecdsa_signature s;
	secp256k1_pubkey pk;
	const uint8_t *ss;
	size_t ss_len;
	int op1, op2;

	if (in >= t->n_in)
		return why(reason, "input index out of range");
	if (!script_is_p2pkh(spk, spk_len, want))
		return why(reason, "non-standard scriptPubKey");
	ss = t->vin[in].script_sig;
	ss_len = t->vin[in].script_sig_len;
	op1 = next_op(ss, ss_len, &pos, &sig, &sig_len);
	op2 = next_op(ss, ss_len, &pos, &pub, &pub_len);
	if (op1 < 1 || op1 > OP_PUSHDATA4 || op2 < 1 || op2 > OP_PUSHDATA4 ||
	    next_op(ss, ss_len, &pos, &extra, &extra_len) != -1 || pos != ss_len)
		return why(reason, "scriptSig is not two pushes");
	script_hash160(pub, pub_len, h160);
	if (memcmp(h160, want, 20) != 0)
		return why(reason, "public key does not match");
	if (sig_len < 1 || sig[sig_len - 1] != SIGHASH_ALL || !strict_der(sig, sig_len))
		return why(reason, "bad signature encoding");
	if (!secp256k1_ecdsa_signature_parse_der(verify_ctx(), &s, sig, sig_len - 1))
		return why(reason, "bad signature encoding");
	/* normalize returns 1 when S was high: reject, as BIP146 LOW_S. */
	if (secp256k1_ecdsa_signature_normalize(verify_ctx(), NULL, &s))
		return why(reason, "signature S value is high");
	if (!secp256k1_ec_pubkey_parse(verify_ctx(), &pk, pub, pub_len))
		return why(reason, "bad public key");
	if (script_sighash_all(t, in, spk, spk_len, digest) < 0)
		return why(reason, "out of memory");
	if (!secp256k1_ecdsa_verify(verify_ctx(), &s, digest, &pk))
		return why(reason, "signature does not verify");
	return 0;
}
