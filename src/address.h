/*
 * address.h — P2PKH addresses: Base58Check (base58check.h) of version
 * byte ADDRESS_VERSION (0x6f, as Bitcoin's test networks: addresses start
 * with m or n) followed by the 20-byte script_hash160 of the compressed
 * public key.
 */
#ifndef MR_ADDRESS_H
#define MR_ADDRESS_H

#include <stdint.h>

#define ADDRESS_VERSION 0x6f
#define ADDRESS_MAX 64   /* buffer for an address, NUL included */

/* The address of a script_hash160. out holds ADDRESS_MAX bytes. */
void address_encode(const uint8_t h160[20], char out[ADDRESS_MAX]);

/* Parse an address into its script_hash160. Returns 0, or -1 (not Base58Check,
 * wrong version or length). */
int address_decode(const char *addr, uint8_t h160[20]);

#endif
