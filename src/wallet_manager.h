/*
 * wallet_manager.h — the set of loaded wallets (DATADIR/wallets/NAME/
 * wallet.dat): loading, creating, finding and unloading them, and
 * forwarding chain and mempool changes to each (it registers itself as a
 * chain and mempool listener). The wallet RPCs (rpc_wallet.h) act on it;
 * it knows nothing of RPC.
 */
#ifndef MR_WALLET_MANAGER_H
#define MR_WALLET_MANAGER_H

#include <stdbool.h>
#include <stddef.h>

#include "mempool.h"
#include "chainstate.h"
#include "wallet.h"

#define WALLET_MAX_LOADED 16

struct wallet_manager;

/*
 * A manager for the wallets under datadir/wallets, listening to cs and mp.
 * Wallets relay through `relay` (copied; NULL: none).
 * NULL if out of memory. cs and mp must outlive it, and must not change
 * after wallet_manager_free (their listeners point here).
 */
struct wallet_manager *wallet_manager_new(struct chainstate *cs, struct mempool *mp,
					  const char *datadir, const struct wallet_options *o,
					  const struct wallet_relay *relay);

/* Unload every wallet and free the manager. Accepts NULL. */
void wallet_manager_free(struct wallet_manager *m);

/* wallet_resubmit for every loaded wallet (see wallet.h). Returns how many
 * transactions were relayed. */
size_t wallet_manager_resubmit(struct wallet_manager *m, bool relay_all);

/*
 * Load (or, with create, create) the wallet NAME. Returns WALLET_OK, or
 * the kind of failure with a message in err: WALLET_ERR_INVALID_PARAMETER
 * (a bad name), WALLET_ERR_ALREADY_LOADED, WALLET_ERR_NOT_FOUND (no such
 * wallet to load), WALLET_ERR_ALREADY_EXISTS (create over an existing one),
 * WALLET_ERR_FAILED (too many loaded, a file or database error).
 */
enum wallet_err wallet_manager_load(struct wallet_manager *m, const char *name, bool create,
				    char *err, size_t errlen);

/* Unload NAME. 0, or -1 if it is not loaded. */
int wallet_manager_unload(struct wallet_manager *m, const char *name);

/* The loaded wallet NAME, or NULL. */
struct wallet *wallet_manager_find(const struct wallet_manager *m, const char *name);

/* How many wallets are loaded, and the i-th (i < that count). */
size_t wallet_manager_count(const struct wallet_manager *m);
struct wallet *wallet_manager_get(const struct wallet_manager *m, size_t i);

#endif
