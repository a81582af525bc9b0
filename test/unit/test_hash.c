/*
 * Unit tests for src/hash.c: SHA-256 and SHA256d known vectors, hex.
 */
#include <string.h>

#include "hash.h"
#include "unit.h"

/* Hex of the first n bytes of SHA-256 (d=0) or SHA256d (d=1) of s. */
static void digest_hex(const char *s, int d, size_t n, char *out)
{
	uint8_t h[HASH_SIZE];

	if (d)
		hash_sha256d(s, strlen(s), h);
	else
		hash_sha256(s, strlen(s), h);
	hash_hex(h, n, out);
}

UNIT_TEST(hash_sha256_known_vectors)
{
	char hex[65];

	digest_hex("", 0, HASH_SIZE, hex);
	CHECK_EQ_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	digest_hex("abc", 0, HASH_SIZE, hex);
	CHECK_EQ_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	/* FIPS 180-2's two-block message. */
	digest_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 0, HASH_SIZE, hex);
	CHECK_EQ_STR(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

UNIT_TEST(hash_sha256d_known_vectors)
{
	char hex[65];

	/* Bitcoin's checksum of an empty payload (verack, getaddr, ...). */
	digest_hex("", 1, 4, hex);
	CHECK_EQ_STR(hex, "5df6e0e2");
	digest_hex("", 1, HASH_SIZE, hex);
	CHECK_EQ_STR(hex, "5df6e0e2761359d30a8275058e299fcc0381534545f55cf43e41983f5d4c9456");
	digest_hex("hello", 1, HASH_SIZE, hex);
	CHECK_EQ_STR(hex, "9595c9df90075148eb06860365df33584b75bff782a510c6cd4883a419833d50");
}

UNIT_TEST(hash_hex_reversed_is_display_order)
{
	uint8_t h[HASH_SIZE];
	char hex[65];

	hash_sha256d("", 0, h);
	hash_hex_reversed(h, hex);
	CHECK_EQ_STR(hex, "56944c5d3f98413ef45cf54545538103cc9f298e0575820ad3591376e2e0f65d");
	for (int i = 0; i < HASH_SIZE; i++)
		h[i] = (uint8_t)i;
	hash_hex_reversed(h, hex);
	CHECK_EQ_STR(hex, "1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100");
}

UNIT_TEST(hash_hex_decode_round_trip_and_rejects)
{
	uint8_t h[HASH_SIZE], back[HASH_SIZE], two[2];
	char hex[65];

	for (int i = 0; i < HASH_SIZE; i++)
		h[i] = (uint8_t)(i * 37 + 5);
	hash_hex_reversed(h, hex);
	CHECK_EQ_INT(hash_from_hex_reversed(hex, back), 0);
	CHECK(memcmp(h, back, HASH_SIZE) == 0);
	CHECK_EQ_INT(hash_hex_decode("aBcD", two, 2), 0);
	CHECK_EQ_INT(two[0], 0xab);
	CHECK_EQ_INT(two[1], 0xcd);
	CHECK_EQ_INT(hash_hex_decode("abc", two, 2), -1);   /* short */
	CHECK_EQ_INT(hash_hex_decode("abcde", two, 2), -1); /* long */
	CHECK_EQ_INT(hash_hex_decode("abcg", two, 2), -1);  /* not hex */
	CHECK_EQ_INT(hash_hex_decode("ab d", two, 2), -1);
	CHECK_EQ_INT(hash_from_hex_reversed("00", back), -1);
}
