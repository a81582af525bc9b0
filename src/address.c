/*
 * address.c — P2PKH addresses: Base58Check of a version byte and a
 * script_hash160.
 */
#include "address.h"

#include <string.h>

#include "base58check.h"

void address_encode(const uint8_t h160[20], char out[ADDRESS_MAX])
{
	uint8_t p[21];

	p[0] = ADDRESS_VERSION;
	memcpy(p + 1, h160, 20);
	base58check_encode(p, sizeof(p), out, ADDRESS_MAX);
}

int address_decode(const char *addr, uint8_t h160[20])
{
	uint8_t p[32];

	if (base58check_decode(addr, p, sizeof(p)) != 21 || p[0] != ADDRESS_VERSION)
		return -1;
	memcpy(h160, p + 1, 20);
	return 0;
}
