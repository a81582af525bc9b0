/*
 * rpc_chain.h — blockchain, mining, raw transaction and mempool RPCs:
 * getblockcount, getbestblockhash, getblockhash, getblock, getblockheader,
 * getchaintips, generatetoaddress, generateblock, submitblock,
 * invalidateblock, reconsiderblock, gettxout, gettxoutsetinfo,
 * getrawtransaction, decoderawtransaction, createrawtransaction,
 * signrawtransactionwithkey, sendrawtransaction, testmempoolaccept,
 * getmempoolinfo, getrawmempool, getmempoolentry, getnewkeypair.
 *
 * Amounts are shown in coins with 8 decimals (as Bitcoin does) and,
 * where tests need exact integers, also in satoshis (`*_sat` fields).
 */
#ifndef MR_RPC_CHAIN_H
#define MR_RPC_CHAIN_H

#include "mempool.h"
#include "rpc.h"
#include "validation.h"

/* Register the commands. Returns 0 or -1 (name clash, no memory). */
int rpc_chain_register(struct rpc_dispatch *d, struct chainstate *cs, struct mempool *mp);

/* A hash as RPC shows it (hex, reversed). */
json_t *rpc_hash_json(const uint8_t h[32]);

/* Satoshis as a coin amount (8 decimals). */
json_t *rpc_amount_json(int64_t sat);

/* A coin amount (a JSON number) to satoshis, exactly to 8 decimals.
 * Returns 0, or -1 if it is not a number in [0, MAX_MONEY]. */
int rpc_amount_from_json(json_t *v, int64_t *sat);

/* The serialized transaction in hex. */
json_t *rpc_tx_hex_json(const struct tx *t);

/* params[i] as a 64-digit hex hash (RPC order) into out. Returns 0, or -1
 * with -8 in err. */
int rpc_param_hash(json_t *params, size_t i, uint8_t out[32], struct rpc_error *err);

/* JSON of a transaction as decoderawtransaction shows it. */
json_t *rpc_tx_json(const struct tx *t);

#endif
