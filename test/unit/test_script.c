/*
 * Unit tests for src/script.c (script_hash160, P2PKH, sigops, legacy sighash,
 * verification with every way a scriptSig can be wrong) and the parts of
 * src/tx.c, block.c and pow.c they build on (tx round trip, genesis txid, merkle
 * roots, compact targets and work).
 */
#include <stdlib.h>
#include <string.h>

#include <secp256k1.h>

#include "block.h"
#include "hash.h"
#include "key.h"
#include "pow.h"
#include "script.h"
#include "ser.h"
#include "unit.h"

static const char GENESIS_TX_HEX[] =
	"01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff4d"
	"04ffff001d0104455468652054696d65732030332f4a616e2f32303039204368616e63656c6c6f7220"
	"6f6e206272696e6b206f66207365636f6e64206261696c6f757420666f722062616e6b73ffffffff01"
	"00f2052a01000000434104678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61"
	"deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5fac00000000";

static uint8_t *dup_mem(const void *p, size_t n)
{
	uint8_t *d = malloc(n ? n : 1);

	if (d && n)
		memcpy(d, p, n);
	return d;
}

/* A tx with n_in inputs and n_out outputs, all fields distinct; each input
 * has a 3-byte scriptSig and each output pays P2PKH to a made-up hash. */
static void build_tx(struct tx *t, size_t n_in, size_t n_out)
{
	memset(t, 0, sizeof(*t));
	t->version = 1;
	t->n_in = n_in;
	t->n_out = n_out;
	t->vin = calloc(n_in, sizeof(*t->vin));
	t->vout = calloc(n_out, sizeof(*t->vout));
	for (size_t i = 0; i < n_in; i++) {
		uint8_t ss[3] = { 0x02, (uint8_t)i, 0xee };
		for (int j = 0; j < 32; j++)
			t->vin[i].prevout.txid[j] = (uint8_t)(j * 7 + i + 1);
		t->vin[i].prevout.n = (uint32_t)i + 3;
		t->vin[i].script_sig = dup_mem(ss, sizeof(ss));
		t->vin[i].script_sig_len = sizeof(ss);
		t->vin[i].sequence = 0xfffffffe - (uint32_t)i;
	}
	for (size_t i = 0; i < n_out; i++) {
		uint8_t h[20], spk[SCRIPT_P2PKH_LEN];
		memset(h, 0x40 + (int)i, sizeof(h));
		script_p2pkh(h, spk);
		t->vout[i].value = (int64_t)(i + 1) * COIN / 3;
		t->vout[i].script_pubkey = dup_mem(spk, sizeof(spk));
		t->vout[i].script_pubkey_len = sizeof(spk);
	}
	t->locktime = 12345;
	tx_finalize(t);
}

static void set_script_sig(struct tx *t, size_t in, const uint8_t *s, size_t n)
{
	free(t->vin[in].script_sig);
	t->vin[in].script_sig = dup_mem(s, n);
	t->vin[in].script_sig_len = n;
}

/* scriptSig <sig> <pub> with direct pushes (both under 76 bytes). */
static size_t make_script_sig(uint8_t *out, const uint8_t *sig, size_t sig_len,
			      const uint8_t *pub, size_t pub_len)
{
	out[0] = (uint8_t)sig_len;
	memcpy(out + 1, sig, sig_len);
	out[1 + sig_len] = (uint8_t)pub_len;
	memcpy(out + 2 + sig_len, pub, pub_len);
	return 2 + sig_len + pub_len;
}

/* Split input in's scriptSig (as key_sign_p2pkh_input writes it) into the
 * signature push (DER + sighash byte) and the key push. */
static void split_script_sig(const struct tx *t, size_t in, uint8_t *sig, size_t *sig_len,
			     uint8_t *pub, size_t *pub_len)
{
	const uint8_t *s = t->vin[in].script_sig;

	*sig_len = s[0];
	memcpy(sig, s + 1, *sig_len);
	*pub_len = s[1 + *sig_len];
	memcpy(pub, s + 2 + *sig_len, *pub_len);
}

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* ---- script_hash160 and P2PKH ---------------------------------------------------- */

UNIT_TEST(script_hash160_known_vectors)
{
	static const char g_hex[] =
		"0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";
	uint8_t h[20], g[33];
	char hex[41];

	script_hash160("", 0, h);
	hash_hex(h, 20, hex);
	CHECK_EQ_STR(hex, "b472a266d0bd89c13706a4132ccfb16f7c3b9fcb");
	/* The compressed generator point (public key of secret 1). */
	CHECK_EQ_INT(hash_hex_decode(g_hex, g, sizeof(g)), 0);
	script_hash160(g, sizeof(g), h);
	hash_hex(h, 20, hex);
	CHECK_EQ_STR(hex, "751e76e8199196d454941c45d1b3a323f1433bd6");
}

UNIT_TEST(script_p2pkh_build_and_match)
{
	uint8_t h[20], back[20], spk[SCRIPT_P2PKH_LEN], bad[SCRIPT_P2PKH_LEN + 1];
	char hex[2 * SCRIPT_P2PKH_LEN + 1];

	for (int i = 0; i < 20; i++)
		h[i] = (uint8_t)(0xa0 + i);
	script_p2pkh(h, spk);
	hash_hex(spk, sizeof(spk), hex);
	CHECK_EQ_STR(hex, "76a914a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b388ac");
	memset(back, 0, sizeof(back));
	CHECK(script_is_p2pkh(spk, sizeof(spk), back));
	CHECK(memcmp(back, h, 20) == 0);
	CHECK(script_is_p2pkh(spk, sizeof(spk), NULL));
	/* Each structural byte matters; the length must be exact. */
	static const size_t fixed[] = { 0, 1, 2, 23, 24 };
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		memcpy(bad, spk, sizeof(spk));
		bad[fixed[i]] ^= 0x01;
		CHECK(!script_is_p2pkh(bad, sizeof(spk), NULL));
	}
	memcpy(bad, spk, sizeof(spk));
	bad[SCRIPT_P2PKH_LEN] = 0x00;
	CHECK(!script_is_p2pkh(bad, sizeof(bad), NULL));
	CHECK(!script_is_p2pkh(spk, sizeof(spk) - 1, NULL));
	CHECK(!script_is_p2pkh(spk, 0, NULL));
}

/* ---- Sigops --------------------------------------------------------------- */

UNIT_TEST(script_sigops_counts)
{
	uint8_t h[20] = { 0 }, spk[SCRIPT_P2PKH_LEN];

	script_p2pkh(h, spk);
	CHECK_EQ_INT(script_sigops(spk, sizeof(spk)), 1);
	CHECK_EQ_INT(script_sigops(NULL, 0), 0);

	static const uint8_t multisig[] = { 0x51, 0x21, 0x02, 0x52, OP_CHECKMULTISIG };
	/* 0x21 pushes 33 bytes but only 2 follow: truncated before the op. */
	CHECK_EQ_INT(script_sigops(multisig, sizeof(multisig)), 0);
	static const uint8_t cms[] = { 0x51, 0x52, OP_CHECKMULTISIG };
	CHECK_EQ_INT(script_sigops(cms, sizeof(cms)), 20);
	static const uint8_t all4[] = { OP_CHECKSIG, OP_CHECKSIGVERIFY, OP_CHECKMULTISIG,
					OP_CHECKMULTISIGVERIFY };
	CHECK_EQ_INT(script_sigops(all4, sizeof(all4)), 42);

	/* Opcode bytes inside pushed data are data, not opcodes. */
	static const uint8_t in_push[] = { 0x02, OP_CHECKSIG, OP_CHECKMULTISIG, OP_CHECKSIG };
	CHECK_EQ_INT(script_sigops(in_push, sizeof(in_push)), 1);
	static const uint8_t pd1[] = { OP_PUSHDATA1, 0x02, OP_CHECKSIG, OP_CHECKSIG, OP_CHECKSIG };
	CHECK_EQ_INT(script_sigops(pd1, sizeof(pd1)), 1);
	static const uint8_t pd2[] = { OP_PUSHDATA2, 0x01, 0x00, OP_CHECKMULTISIG,
				       OP_CHECKMULTISIG };
	CHECK_EQ_INT(script_sigops(pd2, sizeof(pd2)), 20);
	static const uint8_t pd4[] = { OP_PUSHDATA4, 0x01, 0x00, 0x00, 0x00, OP_CHECKSIG,
				       OP_CHECKSIG };
	CHECK_EQ_INT(script_sigops(pd4, sizeof(pd4)), 1);

	/* A truncated push stops the count: what came before still counts. */
	static const uint8_t trunc[] = { OP_CHECKSIG, 0x05, OP_CHECKSIG, OP_CHECKSIG };
	CHECK_EQ_INT(script_sigops(trunc, sizeof(trunc)), 1);
	static const uint8_t trunc_pd1[] = { OP_CHECKSIG, OP_PUSHDATA1 };
	CHECK_EQ_INT(script_sigops(trunc_pd1, sizeof(trunc_pd1)), 1);
	static const uint8_t trunc_pd2[] = { OP_CHECKMULTISIG, OP_PUSHDATA2, 0x01 };
	CHECK_EQ_INT(script_sigops(trunc_pd2, sizeof(trunc_pd2)), 20);
	static const uint8_t trunc_pd4[] = { OP_CHECKSIG, OP_PUSHDATA4, 0xff, 0xff, 0xff, 0xff,
					     OP_CHECKSIG };
	CHECK_EQ_INT(script_sigops(trunc_pd4, sizeof(trunc_pd4)), 1);
	static const uint8_t trunc_pd4_len[] = { OP_CHECKSIG, OP_PUSHDATA4, 0x01, 0x00, 0x00 };
	CHECK_EQ_INT(script_sigops(trunc_pd4_len, sizeof(trunc_pd4_len)), 1);
	/* Every prefix of a mixed script counts no more than the whole. */
	static const uint8_t mixed[] = { OP_CHECKSIG, OP_PUSHDATA1, 0x01, OP_CHECKSIG,
					 OP_CHECKMULTISIGVERIFY, 0x01, 0xac, OP_CHECKSIGVERIFY };
	CHECK_EQ_INT(script_sigops(mixed, sizeof(mixed)), 22);
	for (size_t n = 0; n < sizeof(mixed); n++)
		CHECK(script_sigops(mixed, n) <= 22);
}

UNIT_TEST(script_tx_sigops_sums_inputs_and_outputs)
{
	struct tx t;
	static const uint8_t two[] = { OP_CHECKSIG, OP_CHECKSIGVERIFY };

	build_tx(&t, 2, 3); /* outputs are P2PKH: 3; scriptSigs have none */
	CHECK_EQ_INT(script_tx_sigops(&t), 3);
	set_script_sig(&t, 1, two, sizeof(two));
	CHECK_EQ_INT(script_tx_sigops(&t), 5);
	tx_clear(&t);
}

/* ---- Sighash -------------------------------------------------------------- */

/* The sighash as its definition says: copy, empty every scriptSig, put the
 * script code in input `in`, serialize, append the type, SHA256d. */
static void sighash_by_copy(const struct tx *t, size_t in, const uint8_t *code, size_t n,
			    uint8_t out[32])
{
	struct tx c;
	struct wbuf w;

	if (tx_copy(&c, t) < 0)
		abort();
	for (size_t i = 0; i < c.n_in; i++) {
		free(c.vin[i].script_sig);
		c.vin[i].script_sig = dup_mem(NULL, 0);
		c.vin[i].script_sig_len = 0;
	}
	free(c.vin[in].script_sig);
	c.vin[in].script_sig = dup_mem(code, n);
	c.vin[in].script_sig_len = n;
	ser_write_init(&w);
	tx_encode(&w, &c);
	ser_write_u32(&w, SIGHASH_ALL);
	hash_sha256d(w.data, w.len, out);
	ser_write_free(&w);
	tx_clear(&c);
}

UNIT_TEST(script_sighash_all_matches_definition)
{
	struct tx t;
	uint8_t code[SCRIPT_P2PKH_LEN], h[20] = { 9 }, a[32], b[32], other[32];

	build_tx(&t, 3, 2);
	script_p2pkh(h, code);
	for (size_t in = 0; in < 3; in++) {
		CHECK_EQ_INT(script_sighash_all(&t, in, code, sizeof(code), a), 0);
		sighash_by_copy(&t, in, code, sizeof(code), b);
		CHECK(memcmp(a, b, 32) == 0);
	}
	/* Different inputs hash differently; other scriptSigs do not matter. */
	CHECK_EQ_INT(script_sighash_all(&t, 0, code, sizeof(code), a), 0);
	CHECK_EQ_INT(script_sighash_all(&t, 1, code, sizeof(code), other), 0);
	CHECK(memcmp(a, other, 32) != 0);
	set_script_sig(&t, 1, code, 5);
	CHECK_EQ_INT(script_sighash_all(&t, 0, code, sizeof(code), b), 0);
	CHECK(memcmp(a, b, 32) == 0);
	/* Outputs, locktime and the script code do. */
	t.locktime++;
	CHECK_EQ_INT(script_sighash_all(&t, 0, code, sizeof(code), b), 0);
	CHECK(memcmp(a, b, 32) != 0);
	t.locktime--;
	CHECK_EQ_INT(script_sighash_all(&t, 0, code, sizeof(code) - 1, b), 0);
	CHECK(memcmp(a, b, 32) != 0);
	/* An empty script code is allowed. */
	CHECK_EQ_INT(script_sighash_all(&t, 2, NULL, 0, a), 0);
	sighash_by_copy(&t, 2, NULL, 0, b);
	CHECK(memcmp(a, b, 32) == 0);
	/* Out of range fails rather than Bitcoin's "one" quirk. */
	CHECK_EQ_INT(script_sighash_all(&t, 3, code, sizeof(code), a), -1);
	CHECK_EQ_INT(script_sighash_all(&t, (size_t)-1, code, sizeof(code), a), -1);
	tx_clear(&t);
}

/* ---- Signing and verification -------------------------------------------- */

/* Keys from fixed secrets 1..n (little, but valid). */
static void test_key(struct key *k, uint8_t tag)
{
	uint8_t secret[32] = { 0 };

	secret[31] = tag;
	secret[0] = tag == 1 ? 0 : 0x11; /* 1 stays the generator's secret */
	if (key_from_secret(k, secret) < 0)
		abort();
}

UNIT_TEST(script_sign_then_verify_round_trip)
{
	struct key k1, k2;
	struct tx t;
	uint8_t spk1[SCRIPT_P2PKH_LEN], spk2[SCRIPT_P2PKH_LEN], txid[32];
	char reason[SCRIPT_REASON_MAX];

	test_key(&k1, 1);
	test_key(&k2, 2);
	script_p2pkh(k1.h160, spk1);
	script_p2pkh(k2.h160, spk2);
	build_tx(&t, 2, 2);
	memcpy(txid, t.txid, 32);
	CHECK_EQ_INT(key_sign_p2pkh_input(&k1, &t, 0), 0);
	CHECK_EQ_INT(key_sign_p2pkh_input(&k2, &t, 1), 0);
	/* Re-finalized: txid and size follow the new scriptSigs. */
	CHECK(memcmp(txid, t.txid, 32) != 0);
	{
		struct wbuf w;
		uint8_t id[32];
		ser_write_init(&w);
		tx_encode(&w, &t);
		hash_sha256d(w.data, w.len, id);
		CHECK(memcmp(id, t.txid, 32) == 0);
		CHECK_EQ_INT(t.size, w.len);
		ser_write_free(&w);
	}
	/* <sig+hashtype> <33-byte pub>: 0x30 ... 0x01, then 0x21 and the key. */
	{
		const uint8_t *s = t.vin[0].script_sig;
		size_t n = t.vin[0].script_sig_len, sl = s[0];
		CHECK(sl >= 9 && sl <= 73);
		CHECK_EQ_INT(n, 1 + sl + 1 + 33);
		CHECK_EQ_INT(s[1], 0x30);
		CHECK_EQ_INT(s[sl], SIGHASH_ALL);
		CHECK_EQ_INT(s[1 + sl], 33);
		CHECK(memcmp(s + 2 + sl, k1.pub, 33) == 0);
	}
	reason[0] = 'x';
	CHECK_EQ_INT(script_verify_input(&t, 0, spk1, sizeof(spk1), reason), 0);
	CHECK_EQ_INT(script_verify_input(&t, 1, spk2, sizeof(spk2), reason), 0);
	/* Each input against the other's output fails. */
	CHECK_EQ_INT(script_verify_input(&t, 0, spk2, sizeof(spk2), reason), -1);
	CHECK_EQ_STR(reason, "public key does not match");
	/* Legacy sighash blanks other scriptSigs: re-signing input 1 (even
	 * with garbage) leaves input 0 valid. */
	set_script_sig(&t, 1, (const uint8_t *)"\x01\x02", 2);
	CHECK_EQ_INT(script_verify_input(&t, 0, spk1, sizeof(spk1), reason), 0);
	CHECK_EQ_INT(script_verify_input(&t, 2, spk1, sizeof(spk1), reason), -1);
	CHECK_EQ_INT(key_sign_p2pkh_input(&k1, &t, 2), -1);
	tx_clear(&t);
}

UNIT_TEST(script_signing_is_deterministic)
{
	struct key k;
	struct tx a, b;

	test_key(&k, 3);
	build_tx(&a, 2, 1);
	build_tx(&b, 2, 1);
	CHECK_EQ_INT(key_sign_p2pkh_input(&k, &a, 1), 0);
	CHECK_EQ_INT(key_sign_p2pkh_input(&k, &b, 1), 0);
	CHECK_EQ_INT(a.vin[1].script_sig_len, b.vin[1].script_sig_len);
	CHECK(memcmp(a.vin[1].script_sig, b.vin[1].script_sig, a.vin[1].script_sig_len) == 0);
	CHECK(memcmp(a.txid, b.txid, 32) == 0);
	/* Signing again over the signed tx gives the same (scriptSigs are
	 * blanked in the sighash). */
	CHECK_EQ_INT(key_sign_p2pkh_input(&k, &a, 1), 0);
	CHECK(memcmp(a.vin[1].script_sig, b.vin[1].script_sig, a.vin[1].script_sig_len) == 0);
	/* A different input signs a different digest. */
	CHECK_EQ_INT(key_sign_p2pkh_input(&k, &a, 0), 0);
	CHECK(a.vin[0].script_sig_len != a.vin[1].script_sig_len ||
	      memcmp(a.vin[0].script_sig, a.vin[1].script_sig, a.vin[0].script_sig_len) != 0);
	tx_clear(&a);
	tx_clear(&b);
}

/* A signed 1-in 2-out tx spending k's output; checks it verifies. */
static void signed_tx(struct tx *t, struct key *k, uint8_t spk[SCRIPT_P2PKH_LEN])
{
	char reason[SCRIPT_REASON_MAX];

	test_key(k, 4);
	script_p2pkh(k->h160, spk);
	build_tx(t, 1, 2);
	if (key_sign_p2pkh_input(k, t, 0) < 0 ||
	    script_verify_input(t, 0, spk, SCRIPT_P2PKH_LEN, reason) < 0)
		abort();
}

UNIT_TEST(script_verify_rejects_changed_tx_or_signature)
{
	struct key k;
	struct tx t;
	uint8_t spk[SCRIPT_P2PKH_LEN], sig[80], pub[70], ss[160];
	size_t sig_len, pub_len, n;
	char reason[SCRIPT_REASON_MAX];

	signed_tx(&t, &k, spk);
	/* Any signed field changed: value, output script, prevout, sequence,
	 * version, locktime. */
	t.vout[1].value++;
	CHECK_EQ_INT(script_verify_input(&t, 0, spk, sizeof(spk), reason), -1);
	CHECK_EQ_STR(reason, "signature does not verify");
	t.vout[1].value--;
	t.vout[0].script_pubkey[5] ^= 0x01;
	CHECK_EQ_INT(script_verify_input(&t, 0, spk, sizeof(spk), reason), -1);
	CHECK_EQ_STR(reason, "signature does not verify");
	t.vout[0].script_pubkey[5] ^= 0x01;
	t.vin[0].prevout.txid[31] ^= 0x80;
	CHECK_EQ_INT(script_verify_input(&t, 0, spk, sizeof(spk), reason), -1);
	t.vin[0].prevout.txid[31] ^= 0x80;
	t.vin[0].prevout.n++;
	CHECK_EQ_INT(script_verify_input(&t, 0, spk, sizeof(spk), reason), -1);
	t.vin[0].prevout.n--;
	t.vin[0].sequence ^= 1;
	CHECK_EQ_INT(script_verify_input(&t, 0, spk, sizeof(spk), reason), -1);
	t.vin[0].sequence ^= 1;
	t.version = 2;
	CHECK_EQ_INT(script_verify_input(&t, 0, spk, sizeof(spk), reason), -1);
	t.version = 1;
	t.locktime = 0;
	CHECK_EQ_INT(script_verify_input(&t, 0, spk, sizeof(spk), reason), -1);
	t.locktime = 12345;
	CHECK_EQ_INT(script_verify_input(&t, 0, spk, sizeof(spk), reason), 0);

	/* A flipped bit in R's or S's value keeps the encoding but not the
	 * signature. */
	split_script_sig(&t, 0, sig, &sig_len, pub, &pub_len);
	size_t lr = sig[3];
	size_t value_bytes[] = { 4 + lr - 1, sig_len - 2, 4 + lr / 2 };
	for (size_t i = 0; i < sizeof(value_bytes) / sizeof(value_bytes[0]); i++) {
		sig[value_bytes[i]] ^= 0x01;
		n = make_script_sig(ss, sig, sig_len, pub, pub_len);
		set_script_sig(&t, 0, ss, n);
		CHECK_EQ_INT(script_verify_input(&t, 0, spk, sizeof(spk), reason), -1);
		CHECK_EQ_STR(reason, "signature does not verify");
		sig[value_bytes[i]] ^= 0x01;
	}
	n = make_script_sig(ss, sig, sig_len, pub, pub_len);
	set_script_sig(&t, 0, ss, n);
	CHECK_EQ_INT(script_verify_input(&t, 0, spk, sizeof(spk), reason), 0);
	tx_clear(&t);
}

UNIT_TEST(script_verify_rejects_wrong_public_key)
{
	struct key k, other;
	struct tx t;
	uint8_t spk[SCRIPT_P2PKH_LEN], spk_other[SCRIPT_P2PKH_LEN], sig[80], pub[70], ss[160];
	size_t sig_len, pub_len, n;
	char reason[SCRIPT_REASON_MAX];

	signed_tx(&t, &k, spk);
	test_key(&other, 5);
	script_p2pkh(other.h160, spk_other);
	split_script_sig(&t, 0, sig, &sig_len, pub, &pub_len);

	/* Another key in the scriptSig: its hash is not the output's. */
	n = make_script_sig(ss, sig, sig_len, other.pub, 33);
	set_script_sig(&t, 0, ss, n);
	CHECK_EQ_INT(script_verify_input(&t, 0, spk, sizeof(spk), reason), -1);
	CHECK_EQ_STR(reason, "public key does not match");
	/* ... and with an output paying that key, k's signature fails. */
	CHECK_EQ_INT(script_verify_input(&t, 0, spk_other, sizeof(spk_other), reason), -1);
	CHECK_EQ_STR(reason, "signature does not verify");
	/* The right key with one bit flipped no longer matches. */
	pub[10] ^= 0x04;
	n = make_script_sig(ss, sig, sig_len, pub, pub_len);
	set_script_sig(&t, 0, ss, n);
	CHECK_EQ_INT(script_verify_input(&t, 0, spk, sizeof(spk), reason), -1);
	CHECK_EQ_STR(reason, "public key does not match");
	pub[10] ^= 0x04;

	/* Outputs other than P2PKH are not accepted at all. */
	n = make_script_sig(ss, sig, sig_len, pub, pub_len);
	set_script_sig(&t, 0, ss, n);
	CHECK_EQ_INT(script_verify_input(&t, 0, spk, sizeof(spk) - 1, reason), -1);
	CHECK_EQ_STR(reason, "non-standard scriptPubKey");
	static const uint8_t p2pk_like[] = { 0x21, 0x02, OP_CHECKSIG };
	CHECK_EQ_INT(script_verify_input(&t, 0, p2pk_like, sizeof(p2pk_like), reason), -1);
	CHECK_EQ_STR(reason, "non-standard scriptPubKey");
	tx_clear(&t);
}

/* n - s for a 32-byte big-endian s (n: the secp256k1 group order). */
static void negate_scalar(uint8_t s[32])
{
	static const uint8_t order[32] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
		0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
	};
	int borrow = 0;

	for (int i = 31; i >= 0; i--) {
		int d = order[i] - s[i] - borrow;
		borrow = d < 0;
		s[i] = (uint8_t)(d + (borrow ? 256 : 0));
	}
}

UNIT_TEST(script_verify_rejects_high_s)
{
	const secp256k1_context *ctx = secp256k1_context_static;
	struct key k;
	struct tx t;
	uint8_t spk[SCRIPT_P2PKH_LEN], sig[80], pub[70], ss[160], compact[64], der[80];
	size_t sig_len, pub_len, der_len = sizeof(der), n;
	secp256k1_ecdsa_signature s;
	char reason[SCRIPT_REASON_MAX];

	signed_tx(&t, &k, spk);
	split_script_sig(&t, 0, sig, &sig_len, pub, &pub_len);
	CHECK(secp256k1_ecdsa_signature_parse_der(ctx, &s, sig, sig_len - 1));
	CHECK(secp256k1_ecdsa_signature_serialize_compact(ctx, compact, &s));
	/* (r, n - s) is the same signature, malleated to high S. */
	negate_scalar(compact + 32);
	CHECK(secp256k1_ecdsa_signature_parse_compact(ctx, &s, compact));
	CHECK(secp256k1_ecdsa_signature_serialize_der(ctx, der, &der_len, &s));
	der[der_len++] = SIGHASH_ALL;
	n = make_script_sig(ss, der, der_len, pub, pub_len);
	set_script_sig(&t, 0, ss, n);
	CHECK_EQ_INT(script_verify_input(&t, 0, spk, sizeof(spk), reason), -1);
	CHECK(strstr(reason, "high") != NULL);
	/* Negated back, it verifies again. */
	negate_scalar(compact + 32);
	CHECK(secp256k1_ecdsa_signature_parse_compact(ctx, &s, compact));
	der_len = sizeof(der);
	CHECK(secp256k1_ecdsa_signature_serialize_der(ctx, der, &der_len, &s));
	der[der_len++] = SIGHASH_ALL;
	CHECK_EQ_INT(der_len, sig_len);
	CHECK(memcmp(der, sig, sig_len) == 0);
	tx_clear(&t);
}

UNIT_TEST(script_verify_rejects_non_der_signatures)
{
	struct key k;
	struct tx t;
	uint8_t spk[SCRIPT_P2PKH_LEN], sig[80], pub[70], ss[200], bad[90];
	size_t sig_len, pub_len, n, lr, ls;
	char reason[SCRIPT_REASON_MAX];

	signed_tx(&t, &k, spk);
	split_script_sig(&t, 0, sig, &sig_len, pub, &pub_len);
	lr = sig[3];
	ls = sig[5 + lr];
	CHECK_EQ_INT(sig_len, lr + ls + 7);

#define EXPECT_BAD_ENCODING(buf, len)                                                \
	do {                                                                         \
		n = make_script_sig(ss, (buf), (len), pub, pub_len);                 \
		set_script_sig(&t, 0, ss, n);                                        \
		CHECK_EQ_INT(script_verify_input(&t, 0, spk, sizeof(spk), reason), -1); \
		CHECK(starts_with(reason, "bad signature encoding"));                \
	} while (0)

	/* Each header byte wrong. */
	memcpy(bad, sig, sig_len);
	bad[0] = 0x31; /* not a SEQUENCE */
	EXPECT_BAD_ENCODING(bad, sig_len);
	memcpy(bad, sig, sig_len);
	bad[1]++; /* total length */
	EXPECT_BAD_ENCODING(bad, sig_len);
	memcpy(bad, sig, sig_len);
	bad[2] = 0x03; /* R not an INTEGER */
	EXPECT_BAD_ENCODING(bad, sig_len);
	memcpy(bad, sig, sig_len);
	bad[4 + lr] = 0x04; /* S not an INTEGER */
	EXPECT_BAD_ENCODING(bad, sig_len);
	memcpy(bad, sig, sig_len);
	bad[3]++; /* R length disagrees with the rest */
	EXPECT_BAD_ENCODING(bad, sig_len);
	memcpy(bad, sig, sig_len);
	bad[5 + lr]--; /* S length disagrees */
	EXPECT_BAD_ENCODING(bad, sig_len);

	/* Sighash type other than ALL, or missing. */
	memcpy(bad, sig, sig_len);
	bad[sig_len - 1] = 0x02;
	EXPECT_BAD_ENCODING(bad, sig_len);
	bad[sig_len - 1] = 0x81; /* ALL|ANYONECANPAY */
	EXPECT_BAD_ENCODING(bad, sig_len);
	EXPECT_BAD_ENCODING(sig, sig_len - 1);

	/* A trailing byte after the sighash type. */
	memcpy(bad, sig, sig_len);
	bad[sig_len] = SIGHASH_ALL;
	EXPECT_BAD_ENCODING(bad, sig_len + 1);

	/* R padded with a needless zero (lengths kept consistent). */
	bad[0] = 0x30;
	bad[1] = (uint8_t)(sig[1] + 1);
	bad[2] = 0x02;
	bad[3] = (uint8_t)(lr + 1);
	bad[4] = 0x00;
	memcpy(bad + 5, sig + 4, sig_len - 4);
	if (!(sig[4] & 0x80)) /* a zero is needed before a high bit */
		EXPECT_BAD_ENCODING(bad, sig_len + 1);
	/* S padded likewise (S is low, so its top bit is clear: never needed). */
	memcpy(bad, sig, 6 + lr);
	bad[1] = (uint8_t)(sig[1] + 1);
	bad[5 + lr] = (uint8_t)(ls + 1);
	bad[6 + lr] = 0x00;
	memcpy(bad + 7 + lr, sig + 6 + lr, ls + 1);
	CHECK(!(sig[6 + lr] & 0x80));
	EXPECT_BAD_ENCODING(bad, sig_len + 1);

	/* Negative R / S (top bit set without a zero in front). */
	memcpy(bad, sig, sig_len);
	if (lr == 33) { /* R starts with the 0x00 pad: drop it */
		bad[1]--;
		bad[3]--;
		memmove(bad + 4, bad + 5, sig_len - 5);
		EXPECT_BAD_ENCODING(bad, sig_len - 1);
	} else {
		bad[4] |= 0x80;
		EXPECT_BAD_ENCODING(bad, sig_len);
	}
	memcpy(bad, sig, sig_len);
	bad[6 + lr] |= 0x80;
	EXPECT_BAD_ENCODING(bad, sig_len);

	/* Zero-length R and S. */
	static const uint8_t zero_r[] = { 0x30, 0x06, 0x02, 0x00, 0x02, 0x02, 0x01, 0x01, 0x01 };
	EXPECT_BAD_ENCODING(zero_r, sizeof(zero_r));
	static const uint8_t zero_s[] = { 0x30, 0x06, 0x02, 0x02, 0x01, 0x01, 0x02, 0x00, 0x01 };
	EXPECT_BAD_ENCODING(zero_s, sizeof(zero_s));
	/* Too short (8 bytes) and too long (74 bytes). */
	static const uint8_t short_sig[] = { 0x30, 0x05, 0x02, 0x01, 0x01, 0x02, 0x00, 0x01 };
	EXPECT_BAD_ENCODING(short_sig, sizeof(short_sig));
	memset(bad, 0x01, 74);
	bad[0] = 0x30;
	bad[1] = 71;
	bad[2] = 0x02;
	bad[3] = 34;
	bad[38] = 0x02;
	bad[39] = 33;
	EXPECT_BAD_ENCODING(bad, 74);
	/* An empty signature (OP_0): rejected, whichever reason. */
	n = make_script_sig(ss, sig, 0, pub, pub_len);
	set_script_sig(&t, 0, ss, n);
	CHECK_EQ_INT(script_verify_input(&t, 0, spk, sizeof(spk), reason), -1);
	/* Every truncation of the real signature. */
	for (size_t cut = 1; cut < sig_len; cut++) {
		memcpy(bad, sig, cut);
		bad[cut - 1] = SIGHASH_ALL;
		EXPECT_BAD_ENCODING(bad, cut);
	}
#undef EXPECT_BAD_ENCODING

	/* Put back, it verifies. */
	n = make_script_sig(ss, sig, sig_len, pub, pub_len);
	set_script_sig(&t, 0, ss, n);
	CHECK_EQ_INT(script_verify_input(&t, 0, spk, sizeof(spk), reason), 0);
	tx_clear(&t);
}

UNIT_TEST(script_verify_requires_exactly_two_pushes)
{
	struct key k;
	struct tx t;
	uint8_t spk[SCRIPT_P2PKH_LEN], sig[80], pub[70], ss[200];
	size_t sig_len, pub_len, n;
	char reason[SCRIPT_REASON_MAX];

	signed_tx(&t, &k, spk);
	split_script_sig(&t, 0, sig, &sig_len, pub, &pub_len);

#define EXPECT_NOT_TWO(buf, len)                                                     \
	do {                                                                         \
		set_script_sig(&t, 0, (buf), (len));                                 \
		CHECK_EQ_INT(script_verify_input(&t, 0, spk, sizeof(spk), reason), -1); \
		CHECK_EQ_STR(reason, "scriptSig is not two pushes");                 \
	} while (0)

	/* Three pushes: a third after the key, or one in front. */
	n = make_script_sig(ss, sig, sig_len, pub, pub_len);
	ss[n] = 0x01;
	ss[n + 1] = 0x01;
	EXPECT_NOT_TWO(ss, n + 2);
	ss[0] = 0x01;
	ss[1] = 0x07;
	n = 2 + make_script_sig(ss + 2, sig, sig_len, pub, pub_len);
	EXPECT_NOT_TWO(ss, n);
	/* One push, none, a non-push opcode between or after. */
	ss[0] = (uint8_t)sig_len;
	memcpy(ss + 1, sig, sig_len);
	EXPECT_NOT_TWO(ss, 1 + sig_len);
	EXPECT_NOT_TWO(ss, 0);
	n = make_script_sig(ss, sig, sig_len, pub, pub_len);
	ss[n] = OP_CHECKSIG;
	EXPECT_NOT_TWO(ss, n + 1);
	memmove(ss + 2 + sig_len, ss + 1 + sig_len, 1 + pub_len);
	ss[1 + sig_len] = OP_DUP;
	EXPECT_NOT_TWO(ss, n + 1);
	/* The key's push claims more bytes than there are. */
	n = make_script_sig(ss, sig, sig_len, pub, pub_len);
	EXPECT_NOT_TWO(ss, n - 1);
	ss[1 + sig_len] = OP_PUSHDATA2;
	EXPECT_NOT_TWO(ss, 2 + sig_len);
	/* Every truncation of the real scriptSig. */
	n = make_script_sig(ss, sig, sig_len, pub, pub_len);
	for (size_t cut = 0; cut < n; cut++) {
		set_script_sig(&t, 0, ss, cut);
		CHECK_EQ_INT(script_verify_input(&t, 0, spk, sizeof(spk), reason), -1);
	}
#undef EXPECT_NOT_TWO

	set_script_sig(&t, 0, ss, n);
	CHECK_EQ_INT(script_verify_input(&t, 0, spk, sizeof(spk), reason), 0);
	CHECK_EQ_INT(script_verify_input(&t, 1, spk, sizeof(spk), reason), -1);
	tx_clear(&t);
}

UNIT_TEST(script_verify_survives_random_script_sigs)
{
	struct key k;
	struct tx t;
	uint8_t spk[SCRIPT_P2PKH_LEN], ss[128];
	char reason[SCRIPT_REASON_MAX];
	uint32_t x = 0x12345678;

	signed_tx(&t, &k, spk);
	for (int iter = 0; iter < 2000; iter++) {
		size_t n = iter % sizeof(ss);
		for (size_t i = 0; i < n; i++) {
			x = x * 1103515245u + 12345u;
			ss[i] = (uint8_t)(x >> 16);
		}
		if (n > 1 && iter % 3 == 0)
			ss[0] = (uint8_t)(n / 2); /* often a plausible first push */
		set_script_sig(&t, 0, ss, n);
		CHECK_EQ_INT(script_verify_input(&t, 0, spk, sizeof(spk), reason), -1);
		CHECK(strlen(reason) > 0 && strlen(reason) < SCRIPT_REASON_MAX);
		(void)script_sigops(ss, n);
	}
	tx_clear(&t);
}

/* ---- Primitives ----------------------------------------------------------- */

UNIT_TEST(primitives_tx_round_trip)
{
	struct tx t, back;
	struct wbuf w, w2;
	uint8_t id[32];

	build_tx(&t, 3, 2);
	ser_write_init(&w);
	tx_encode(&w, &t);
	CHECK(!w.oom);
	CHECK_EQ_INT(t.size, w.len);
	hash_sha256d(w.data, w.len, id);
	CHECK(memcmp(id, t.txid, 32) == 0);
	CHECK_EQ_INT(tx_decode_bytes(w.data, w.len, &back), 0);
	CHECK_EQ_INT(back.version, 1);
	CHECK_EQ_INT(back.n_in, 3);
	CHECK_EQ_INT(back.n_out, 2);
	CHECK_EQ_INT(back.locktime, 12345);
	CHECK_EQ_INT(back.size, w.len);
	CHECK(memcmp(back.txid, t.txid, 32) == 0);
	for (size_t i = 0; i < 3; i++) {
		CHECK(memcmp(back.vin[i].prevout.txid, t.vin[i].prevout.txid, 32) == 0);
		CHECK_EQ_INT(back.vin[i].prevout.n, t.vin[i].prevout.n);
		CHECK_EQ_INT(back.vin[i].sequence, t.vin[i].sequence);
		CHECK_EQ_INT(back.vin[i].script_sig_len, 3);
		CHECK(memcmp(back.vin[i].script_sig, t.vin[i].script_sig, 3) == 0);
	}
	for (size_t i = 0; i < 2; i++) {
		CHECK_EQ_INT(back.vout[i].value, t.vout[i].value);
		CHECK_EQ_INT(back.vout[i].script_pubkey_len, SCRIPT_P2PKH_LEN);
		CHECK(memcmp(back.vout[i].script_pubkey, t.vout[i].script_pubkey,
			     SCRIPT_P2PKH_LEN) == 0);
	}
	ser_write_init(&w2);
	tx_encode(&w2, &back);
	CHECK_EQ_INT(w2.len, w.len);
	CHECK(memcmp(w2.data, w.data, w.len) == 0);
	ser_write_free(&w2);
	tx_clear(&back);
	/* Every truncation and a trailing byte fail (and leave back cleared). */
	for (size_t cut = 0; cut < w.len; cut++) {
		CHECK_EQ_INT(tx_decode_bytes(w.data, cut, &back), -1);
		CHECK(back.vin == NULL && back.vout == NULL);
	}
	ser_write_u8(&w, 0);
	CHECK_EQ_INT(tx_decode_bytes(w.data, w.len, &back), -1);
	/* A deep copy encodes the same and owns its scripts. */
	{
		struct tx c;
		CHECK_EQ_INT(tx_copy(&c, &t), 0);
		CHECK(c.vin[0].script_sig != t.vin[0].script_sig);
		tx_finalize(&c);
		CHECK(memcmp(c.txid, t.txid, 32) == 0);
		tx_clear(&c);
	}
	ser_write_free(&w);
	tx_clear(&t);
	tx_clear(NULL);
}

UNIT_TEST(primitives_genesis_coinbase_txid)
{
	uint8_t raw[sizeof(GENESIS_TX_HEX) / 2];
	struct tx t;
	struct wbuf w;
	char hex[65];

	CHECK_EQ_INT(sizeof(raw), 204);
	CHECK_EQ_INT(hash_hex_decode(GENESIS_TX_HEX, raw, sizeof(raw)), 0);
	CHECK_EQ_INT(tx_decode_bytes(raw, sizeof(raw), &t), 0);
	hash_hex_reversed(t.txid, hex);
	CHECK_EQ_STR(hex, "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b");
	CHECK_EQ_INT(t.size, 204);
	CHECK(tx_is_coinbase(&t));
	CHECK_EQ_INT(t.n_in, 1);
	CHECK_EQ_INT(t.vin[0].script_sig_len, 0x4d);
	CHECK_EQ_INT(t.n_out, 1);
	CHECK_EQ_INT(t.vout[0].value, 50 * COIN);
	CHECK_EQ_INT(tx_value_out(&t), 50 * COIN);
	CHECK_EQ_INT(t.vout[0].script_pubkey_len, 67);
	/* P2PK: the key push and OP_CHECKSIG, one sigop. */
	CHECK_EQ_INT(script_tx_sigops(&t), 1);
	ser_write_init(&w);
	tx_encode(&w, &t);
	CHECK_EQ_INT(w.len, sizeof(raw));
	CHECK(memcmp(w.data, raw, sizeof(raw)) == 0);
	ser_write_free(&w);
	/* Recomputed from the fields, the same. */
	memset(t.txid, 0, 32);
	tx_finalize(&t);
	hash_hex_reversed(t.txid, hex);
	CHECK_EQ_STR(hex, "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b");
	tx_clear(&t);
}

static void pair_hash(const uint8_t a[32], const uint8_t b[32], uint8_t out[32])
{
	uint8_t buf[64];

	memcpy(buf, a, 32);
	memcpy(buf + 32, b, 32);
	hash_sha256d(buf, 64, out);
}

UNIT_TEST(primitives_merkle_root_by_hand)
{
	uint8_t ids[4][32], root[32], ab[32], cc[32], want[32];
	bool mutated = true;

	for (int i = 0; i < 4; i++)
		hash_sha256d(&i, sizeof(i), ids[i]);
	block_compute_merkle_root(NULL, 0, root, &mutated);
	CHECK(!mutated);
	memset(want, 0, 32);
	CHECK(memcmp(root, want, 32) == 0);
	/* One: the txid itself. */
	block_compute_merkle_root((const uint8_t (*)[32])ids, 1, root, &mutated);
	CHECK(memcmp(root, ids[0], 32) == 0);
	CHECK(!mutated);
	/* Two: H(a||b). */
	block_compute_merkle_root((const uint8_t (*)[32])ids, 2, root, &mutated);
	pair_hash(ids[0], ids[1], ab);
	CHECK(memcmp(root, ab, 32) == 0);
	CHECK(!mutated);
	/* Three: H(H(a||b) || H(c||c)), the odd one paired with itself. */
	block_compute_merkle_root((const uint8_t (*)[32])ids, 3, root, &mutated);
	pair_hash(ids[2], ids[2], cc);
	pair_hash(ab, cc, want);
	CHECK(memcmp(root, want, 32) == 0);
	CHECK(!mutated);
	/* [a b c c] has the same root as [a b c], and is flagged mutated. */
	memcpy(ids[3], ids[2], 32);
	block_compute_merkle_root((const uint8_t (*)[32])ids, 4, root, &mutated);
	CHECK(memcmp(root, want, 32) == 0);
	CHECK(mutated);
	block_compute_merkle_root((const uint8_t (*)[32])ids, 3, root, NULL);
	CHECK(memcmp(root, want, 32) == 0);
}

UNIT_TEST(primitives_compact_targets_and_work)
{
	u256 t, w, back;
	char hex[65];

	CHECK_EQ_INT(pow_target_from_bits(0x1d00ffff, &t), 0);
	u256_hex(&t, hex);
	CHECK_EQ_STR(hex, "00000000ffff0000000000000000000000000000000000000000000000000000");
	CHECK_EQ_INT(pow_target_to_bits(&t), 0x1d00ffff);
	CHECK_EQ_INT(u256_from_hex(hex, &back), 0);
	CHECK_EQ_INT(u256_cmp(&back, &t), 0);
	/* Bitcoin's block 0 (and every difficulty-1 block) proves 0x100010001. */
	pow_work_from_bits(0x1d00ffff, &w);
	u256_hex(&w, hex);
	CHECK_EQ_STR(hex, "0000000000000000000000000000000000000000000000000000000100010001");
	/* Regtest's easiest target 0x207fffff: work 2. */
	pow_work_from_bits(0x207fffff, &w);
	u256_hex(&w, hex);
	CHECK_EQ_STR(hex, "0000000000000000000000000000000000000000000000000000000000000002");

	/* Vectors from Bitcoin's arith_uint256 tests (SetCompact/GetCompact). */
	CHECK_EQ_INT(pow_target_from_bits(0x01123456, &t), 0);
	CHECK_EQ_INT(t.w[0], 0x12);
	CHECK_EQ_INT(pow_target_to_bits(&t), 0x01120000);
	CHECK_EQ_INT(pow_target_from_bits(0x02123456, &t), 0);
	CHECK_EQ_INT(t.w[0], 0x1234);
	CHECK_EQ_INT(pow_target_to_bits(&t), 0x02123400);
	CHECK_EQ_INT(pow_target_from_bits(0x03123456, &t), 0);
	CHECK_EQ_INT(t.w[0], 0x123456);
	CHECK_EQ_INT(pow_target_to_bits(&t), 0x03123456);
	CHECK_EQ_INT(pow_target_from_bits(0x04123456, &t), 0);
	CHECK_EQ_INT(t.w[0], 0x12345600);
	CHECK_EQ_INT(pow_target_to_bits(&t), 0x04123456);
	CHECK_EQ_INT(pow_target_from_bits(0x05009234, &t), 0);
	CHECK_EQ_INT(t.w[0], 0x92340000);
	CHECK_EQ_INT(pow_target_to_bits(&t), 0x05009234);
	CHECK_EQ_INT(pow_target_from_bits(0x20123456, &t), 0);
	u256_hex(&t, hex);
	CHECK_EQ_STR(hex, "1234560000000000000000000000000000000000000000000000000000000000");
	CHECK_EQ_INT(pow_target_to_bits(&t), 0x20123456);
	/* Invalid: negative, zero, overflow. */
	CHECK_EQ_INT(pow_target_from_bits(0x04923456, &t), -1);
	CHECK_EQ_INT(pow_target_from_bits(0x01803456, &t), -1);
	CHECK_EQ_INT(pow_target_from_bits(0x00000000, &t), -1);
	CHECK_EQ_INT(pow_target_from_bits(0x01003456, &t), -1); /* rounds to zero */
	CHECK_EQ_INT(pow_target_from_bits(0xff123456, &t), -1);
	CHECK_EQ_INT(pow_target_from_bits(0x21010000, &t), -1);
	pow_work_from_bits(0x04923456, &w);
	u256_hex(&w, hex);
	CHECK_EQ_STR(hex, "0000000000000000000000000000000000000000000000000000000000000000");

	/* A hash meets the target up to and including equality. */
	{
		uint8_t h[32] = { 0 };
		CHECK_EQ_INT(pow_target_from_bits(0x1d00ffff, &t), 0);
		h[26] = 0xff;
		h[27] = 0xff; /* little-endian: exactly the target */
		CHECK(pow_hash_meets_target(h, &t));
		h[0] = 1;
		CHECK(!pow_hash_meets_target(h, &t));
	}
}

/* Every _free (and _clear) accepts NULL, as free() does: the test is that
 * these calls return (the sanitizer run catches a NULL dereference). */
UNIT_TEST(tx_and_block_clear_accept_null)
{
	tx_clear(NULL);
	block_clear(NULL);
}
