/*
 * rpc_wallet.h — the wallet RPCs, over the loaded wallets of a
 * wallet_manager.h. They act on the wallet named by the request's URL,
 * /wallet/NAME (moneyrocket-cli -rpcwallet=NAME), or on the only loaded
 * wallet when the URL is "/"; with several loaded and none named, they fail
 * with -19, as Bitcoin's. Wallet failures (enum wallet_err) become Bitcoin
 * Core's JSON-RPC codes here.
 *
 * Commands: createwallet, loadwallet, unloadwallet, listwallets,
 * getwalletinfo, getnewaddress, getrawchangeaddress, getbalance,
 * getbalances, listunspent, listtransactions, gettransaction,
 * sendtoaddress, sendmany, settxfee, lockunspent, listlockunspent,
 * dumpprivkey.
 */
#ifndef MR_RPC_WALLET_H
#define MR_RPC_WALLET_H

#include "rpc.h"
#include "wallet_manager.h"

/* Register the commands, acting on wm's wallets. 0, or -1 (a name clash,
 * no memory). */
int rpc_wallet_register(struct rpc_dispatch *d, struct wallet_manager *wm);

#endif
