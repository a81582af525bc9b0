/*
 * Unit tests for src/key.c, src/address.c and src/base58check.c:
 * secret-key validation, public keys, random keys, Base58Check (known
 * vectors, round trips, rejects), addresses and WIF.
 */
#include <string.h>

#include "address.h"
#include "base58check.h"
#include "hash.h"
#include "key.h"
#include "script.h"
#include "unit.h"

/* secp256k1's group order n, big-endian. */
static const uint8_t ORDER[32] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
	0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
};

static void secret_one(uint8_t s[32])
{
	memset(s, 0, 32);
	s[31] = 1;
}

UNIT_TEST(keys_from_secret_known_and_invalid)
{
	uint8_t s[32];
	struct key k;
	char hex[67];

	CHECK_EQ_INT(key_init(), 0);
	CHECK_EQ_INT(key_init(), 0); /* again: harmless */
	secret_one(s);
	CHECK_EQ_INT(key_from_secret(&k, s), 0);
	hash_hex(k.pub, 33, hex);
	CHECK_EQ_STR(hex, "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798");
	hash_hex(k.h160, 20, hex);
	CHECK_EQ_STR(hex, "751e76e8199196d454941c45d1b3a323f1433bd6");
	CHECK(memcmp(k.secret, s, 32) == 0);
	/* Secret 2: 2G. */
	s[31] = 2;
	CHECK_EQ_INT(key_from_secret(&k, s), 0);
	hash_hex(k.pub, 33, hex);
	CHECK_EQ_STR(hex, "02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5");
	/* n - 1 is the largest valid secret: -G, odd y. */
	memcpy(s, ORDER, 32);
	s[31]--;
	CHECK_EQ_INT(key_from_secret(&k, s), 0);
	hash_hex(k.pub, 33, hex);
	CHECK_EQ_STR(hex, "0379be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798");
	/* Zero, n, n + 1 and all-ones are not secrets. */
	memset(s, 0, 32);
	CHECK_EQ_INT(key_from_secret(&k, s), -1);
	CHECK_EQ_INT(key_from_secret(&k, ORDER), -1);
	memcpy(s, ORDER, 32);
	s[31]++;
	CHECK_EQ_INT(key_from_secret(&k, s), -1);
	memset(s, 0xff, 32);
	CHECK_EQ_INT(key_from_secret(&k, s), -1);
}

UNIT_TEST(keys_generate_gives_distinct_valid_keys)
{
	struct key a, b, again;
	uint8_t h[20];

	CHECK_EQ_INT(key_generate(&a), 0);
	CHECK_EQ_INT(key_generate(&b), 0);
	CHECK(memcmp(a.secret, b.secret, 32) != 0);
	CHECK(a.pub[0] == 0x02 || a.pub[0] == 0x03);
	script_hash160(a.pub, 33, h);
	CHECK(memcmp(h, a.h160, 20) == 0);
	CHECK_EQ_INT(key_from_secret(&again, a.secret), 0);
	CHECK(memcmp(again.pub, a.pub, 33) == 0);
}

UNIT_TEST(keys_base58check_known_vectors)
{
	uint8_t p[40];
	char out[ADDRESS_MAX];

	/* Bitcoin's version-0 address of script_hash160 00..00. */
	memset(p, 0, 21);
	CHECK_EQ_INT(base58check_encode(p, 21, out, sizeof(out)), 0);
	CHECK_EQ_STR(out, "1111111111111111111114oLvT2");
	/* Leading zero bytes become '1's; an empty payload is the checksum. */
	CHECK_EQ_INT(base58check_encode(p, 0, out, sizeof(out)), 0);
	CHECK_EQ_STR(out, "3QJmnh");
	p[2] = 1;
	CHECK_EQ_INT(base58check_encode(p, 3, out, sizeof(out)), 0);
	CHECK_EQ_STR(out, "11BwW2qR");
	/* Decoding gives the payload back. */
	memset(p, 0xaa, sizeof(p));
	CHECK_EQ_INT(base58check_decode("11BwW2qR", p, sizeof(p)), 3);
	CHECK(p[0] == 0 && p[1] == 0 && p[2] == 1);
	CHECK_EQ_INT(base58check_decode("3QJmnh", p, sizeof(p)), 0);
	CHECK_EQ_INT(base58check_decode("1111111111111111111114oLvT2", p, sizeof(p)), 21);
	for (int i = 0; i < 21; i++)
		CHECK_EQ_INT(p[i], 0);
}

UNIT_TEST(keys_base58check_round_trip_and_rejects)
{
	uint8_t p[40], back[40];
	char out[80], bad[80];

	for (size_t len = 0; len <= 34; len++) {
		for (size_t i = 0; i < len; i++)
			p[i] = (uint8_t)(i < 3 && len % 2 ? 0 : i * 29 + len);
		CHECK_EQ_INT(base58check_encode(p, len, out, sizeof(out)), 0);
		CHECK_EQ_INT(base58check_decode(out, back, sizeof(back)), (int)len);
		CHECK(len == 0 || memcmp(p, back, len) == 0);
		/* One character changed to another valid one: checksum fails. */
		for (size_t i = 0; out[i]; i++) {
			strcpy(bad, out);
			bad[i] = bad[i] == 'z' ? 'y' : 'z';
			CHECK_EQ_INT(base58check_decode(bad, back, sizeof(back)), -1);
		}
		/* Payload over cap. */
		if (len > 0)
			CHECK_EQ_INT(base58check_decode(out, back, len - 1), -1);
	}
	/* Output buffer too small: -1, exactly big enough: 0. */
	memset(p, 0x55, 21);
	CHECK_EQ_INT(base58check_encode(p, 21, out, sizeof(out)), 0);
	size_t need = strlen(out) + 1;
	CHECK_EQ_INT(base58check_encode(p, 21, bad, need), 0);
	CHECK_EQ_STR(bad, out);
	CHECK_EQ_INT(base58check_encode(p, 21, bad, need - 1), -1);
	/* Characters outside the alphabet: 0 O I l, space, '+', non-ASCII. */
	static const char *const not_b58[] = { "0", "O", "I", "l", " ", "+", "\xc3\xa9" };
	for (size_t i = 0; i < sizeof(not_b58) / sizeof(not_b58[0]); i++) {
		strcpy(bad, out);
		memcpy(bad + 5, not_b58[i], strlen(not_b58[i]));
		CHECK_EQ_INT(base58check_decode(bad, back, sizeof(back)), -1);
	}
	/* Too short to hold a checksum, empty, and absurdly long. */
	CHECK_EQ_INT(base58check_decode("", back, sizeof(back)), -1);
	CHECK_EQ_INT(base58check_decode("1", back, sizeof(back)), -1);
	CHECK_EQ_INT(base58check_decode("111", back, sizeof(back)), -1);
	{
		char longs[400];
		memset(longs, 'z', sizeof(longs) - 1);
		longs[sizeof(longs) - 1] = '\0';
		CHECK_EQ_INT(base58check_decode(longs, back, sizeof(back)), -1);
		memset(longs, '1', sizeof(longs) - 1);
		CHECK_EQ_INT(base58check_decode(longs, back, sizeof(back)), -1);
	}
}

UNIT_TEST(keys_address_encode_decode)
{
	uint8_t s[32], h[20], p[22];
	struct key k;
	char addr[ADDRESS_MAX], bad[ADDRESS_MAX];

	secret_one(s);
	CHECK_EQ_INT(key_from_secret(&k, s), 0);
	address_encode(k.h160, addr);
	/* The test-network address of secret 1's compressed key. */
	CHECK_EQ_STR(addr, "mrCDrCybB6J1vRfbwM5hemdJz73FwDBC8r");
	memset(h, 0, sizeof(h));
	CHECK_EQ_INT(address_decode(addr, h), 0);
	CHECK(memcmp(h, k.h160, 20) == 0);
	/* Every hash round-trips; addresses start with m or n. */
	for (int i = 0; i < 50; i++) {
		uint8_t in[20], out[20];
		for (int j = 0; j < 20; j++)
			in[j] = (uint8_t)(i * 31 + j * 7 + (i & 1 ? 0xf0 : 0));
		address_encode(in, addr);
		CHECK(addr[0] == 'm' || addr[0] == 'n');
		CHECK_EQ_INT(address_decode(addr, out), 0);
		CHECK(memcmp(in, out, 20) == 0);
	}
	/* Wrong checksum: last character changed. */
	address_encode(k.h160, addr);
	strcpy(bad, addr);
	bad[strlen(bad) - 1] = bad[strlen(bad) - 1] == 'r' ? 's' : 'r';
	CHECK_EQ_INT(address_decode(bad, h), -1);
	/* Wrong version: Bitcoin mainnet's (0x00), valid Base58Check. */
	CHECK_EQ_INT(address_decode("1111111111111111111114oLvT2", h), -1);
	CHECK_EQ_INT(address_decode("1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH", h), -1);
	p[0] = KEY_WIF_VERSION;
	memcpy(p + 1, k.h160, 20);
	CHECK_EQ_INT(base58check_encode(p, 21, bad, sizeof(bad)), 0);
	CHECK_EQ_INT(address_decode(bad, h), -1);
	/* Right version, wrong length (19 and 21 hash bytes). */
	p[0] = ADDRESS_VERSION;
	CHECK_EQ_INT(base58check_encode(p, 20, bad, sizeof(bad)), 0);
	CHECK_EQ_INT(address_decode(bad, h), -1);
	p[21] = 0x00;
	CHECK_EQ_INT(base58check_encode(p, 22, bad, sizeof(bad)), 0);
	CHECK_EQ_INT(address_decode(bad, h), -1);
	/* Not Base58 at all. */
	CHECK_EQ_INT(address_decode("", h), -1);
	CHECK_EQ_INT(address_decode("mrCDrCybB6J1vRfbwM5hemdJz73FwDBC80", h), -1);
	/* The address pays the key's P2PKH script. */
	{
		uint8_t spk[SCRIPT_P2PKH_LEN], got[20];
		CHECK_EQ_INT(address_decode("mrCDrCybB6J1vRfbwM5hemdJz73FwDBC8r", h), 0);
		script_p2pkh(h, spk);
		CHECK(script_is_p2pkh(spk, sizeof(spk), got));
		CHECK(memcmp(got, k.h160, 20) == 0);
	}
}

UNIT_TEST(keys_wif_encode_decode)
{
	uint8_t s[32], p[34];
	struct key k, back;
	char wif[KEY_WIF_MAX], bad[KEY_WIF_MAX];

	secret_one(s);
	CHECK_EQ_INT(key_from_secret(&k, s), 0);
	key_to_wif(&k, wif);
	CHECK_EQ_STR(wif, "cMahea7zqjxrtgAbB7LSGbcQUr1uX1ojuat9jZodMN87JcbXMTcA");
	memset(&back, 0, sizeof(back));
	CHECK_EQ_INT(key_from_wif(&back, wif), 0);
	CHECK(memcmp(back.secret, k.secret, 32) == 0);
	CHECK(memcmp(back.pub, k.pub, 33) == 0);
	CHECK(memcmp(back.h160, k.h160, 20) == 0);
	/* Random keys round-trip. */
	for (int i = 0; i < 10; i++) {
		CHECK_EQ_INT(key_generate(&k), 0);
		key_to_wif(&k, wif);
		CHECK(wif[0] == 'c');
		CHECK_EQ_INT(key_from_wif(&back, wif), 0);
		CHECK(memcmp(back.secret, k.secret, 32) == 0);
		CHECK(memcmp(back.pub, k.pub, 33) == 0);
	}
	/* Bad checksum. */
	strcpy(bad, "cMahea7zqjxrtgAbB7LSGbcQUr1uX1ojuat9jZodMN87JcbXMTcB");
	CHECK_EQ_INT(key_from_wif(&back, bad), -1);
	/* Uncompressed form (no 0x01 suffix), wrong suffix, wrong version. */
	p[0] = KEY_WIF_VERSION;
	secret_one(p + 1);
	p[33] = 0x01;
	CHECK_EQ_INT(base58check_encode(p, 33, bad, sizeof(bad)), 0);
	CHECK_EQ_INT(key_from_wif(&back, bad), -1);
	p[33] = 0x02;
	CHECK_EQ_INT(base58check_encode(p, 34, bad, sizeof(bad)), 0);
	CHECK_EQ_INT(key_from_wif(&back, bad), -1);
	p[33] = 0x01;
	p[0] = 0x80; /* mainnet */
	CHECK_EQ_INT(base58check_encode(p, 34, bad, sizeof(bad)), 0);
	CHECK_EQ_INT(key_from_wif(&back, bad), -1);
	/* A well-formed WIF of an invalid secret (zero, n). */
	p[0] = KEY_WIF_VERSION;
	memset(p + 1, 0, 32);
	CHECK_EQ_INT(base58check_encode(p, 34, bad, sizeof(bad)), 0);
	CHECK_EQ_INT(key_from_wif(&back, bad), -1);
	memcpy(p + 1, ORDER, 32);
	CHECK_EQ_INT(base58check_encode(p, 34, bad, sizeof(bad)), 0);
	CHECK_EQ_INT(key_from_wif(&back, bad), -1);
	/* An address is not a WIF. */
	CHECK_EQ_INT(key_from_wif(&back, "mrCDrCybB6J1vRfbwM5hemdJz73FwDBC8r"), -1);
	CHECK_EQ_INT(key_from_wif(&back, ""), -1);
}
