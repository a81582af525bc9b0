/*
 * rpc_util.h — helpers the RPC files share: hashes, amounts, hex and
 * transactions as JSON, and the parameters they come in as. Amounts are
 * shown in coins with 8 decimals (as Bitcoin does).
 */
#ifndef MR_RPC_UTIL_H
#define MR_RPC_UTIL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "rpc.h"
#include "tx.h"

/* A hash as RPC shows it (hex, reversed). */
json_t *rpc_util_hash_json(const uint8_t h[32]);

/* Satoshis as a coin amount (8 decimals). */
json_t *rpc_util_amount_json(int64_t sat);

/* A coin amount (a JSON number) to satoshis, exactly to 8 decimals.
 * Returns 0, or -1 if it is not a number in [0, MAX_MONEY]. */
int rpc_util_amount_from_json(json_t *v, int64_t *sat);

/* The serialized transaction in hex. */
json_t *rpc_util_tx_hex_json(const struct tx *t);

/* params[i] as a 64-digit hex hash (RPC order) into out. Returns 0, or -1
 * with -8 in err. */
int rpc_util_param_hash(json_t *params, size_t i, uint8_t out[32], struct rpc_error *err);

/* JSON of a transaction as decoderawtransaction shows it. */
json_t *rpc_util_tx_json(const struct tx *t);

/* A scriptPubKey as RPC shows it: hex, type, and the address if P2PKH. */
json_t *rpc_util_script_json(const uint8_t *s, size_t n);

/* n bytes as lower-case hex (JSON null if out of memory). */
json_t *rpc_util_hex_json(const uint8_t *p, size_t n);

#endif
