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
#include "net_chain.h"
#include "rpc.h"
#include "chainstate.h"

/* Register the commands; sendrawtransaction relays through nc (NULL: no
 * relay). Returns 0 or -1 (name clash, no memory). */
int rpc_chain_register(struct rpc_dispatch *d, struct chainstate *cs, struct mempool *mp,
		       struct net_chain *nc);

#endif
