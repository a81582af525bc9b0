/*
 * rpc_wallet.h — the wallet manager and the wallet RPCs.
 *
 * The manager keeps the loaded wallets (DATADIR/wallets/NAME/wallet.dat)
 * and forwards chain and mempool changes to each. Wallet RPCs act on the
 * wallet named by the request's URL, /wallet/NAME (moneyrocket-cli
 * -rpcwallet=NAME), or on the only loaded wallet when the URL is "/";
 * with several loaded and none named, they fail with -19, as Bitcoin's.
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
#include "wallet.h"

#define WALLET_MAX_LOADED 16

struct wallet_manager;

/*
 * A manager for the wallets under datadir/wallets, registered as a chain
 * and mempool listener, with its commands registered in d. NULL on
 * failure (no memory, a name clash).
 */
struct wallet_manager *wallet_manager_new(struct rpc_dispatch *d, struct chainstate *cs,
					  struct mempool *mp, const char *datadir,
					  const struct wallet_options *o, wallet_relay_fn relay);

/* Load (or, with create, create) the wallet NAME. 0, or -1 with err. */
int wallet_manager_load(struct wallet_manager *m, const char *name, bool create, int *code,
			char *err, size_t errlen);

/* Unload every wallet and free the manager. Accepts NULL. The chain and
 * mempool must not change afterwards (their listeners point here). */
void wallet_manager_free(struct wallet_manager *m);

/* wallet_resubmit for every loaded wallet (see wallet.h). Returns how many
 * transactions were relayed. */
size_t wallet_manager_resubmit(struct wallet_manager *m, bool relay_all);

#endif
