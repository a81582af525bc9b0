/*
 * wallet.h — one named wallet: keys derived from a seed, the transactions
 * that pay or spend them, balances, and building and sending payments
 * (wallet_send.c, with coin selection from coinselection.h).
 *
 * Keys: secret(chain, index) = HMAC-SHA256(seed, "moneyrocket wallet key"
 * || chain || index || counter), 32-bit little-endian fields, counter the
 * first from 0 giving a valid secp256k1 secret. Chain 0 gives receiving
 * addresses, chain 1 change. Addresses are P2PKH in Base58Check (address.h:
 * version 0x6f, a 4-byte SHA256d checksum).
 *
 * Storage: walletdb.h. Every key handed out and every transaction sent is
 * committed before the call returns. Block and mempool state is not
 * stored: loading rescans the chain from a little before the wallet's
 * birth height, reads the mempool, and offers unconfirmed transactions of
 * its own to the mempool again.
 *
 * Chain and mempool changes reach a wallet through wallet_block_connected,
 * wallet_block_disconnected, wallet_tx_added and wallet_tx_removed (the
 * wallet manager, wallet_manager.h, forwards them to every loaded wallet).
 *
 * States of a transaction (Bitcoin's): confirmed (depth >= 1);
 * unconfirmed (depth 0), in the mempool or not; conflicted (depth -1):
 * an input is spent by another confirmed transaction, or it is a coinbase
 * whose block left the active chain. An output is spent when a
 * transaction that is not conflicted spends it. Coinbase outputs are
 * spendable at depth COINBASE_MATURITY + 1, as in Bitcoin's wallet.
 *
 * Balances: trusted = confirmed and mature, plus unconfirmed change of our
 * own in the mempool; untrusted_pending = other unconfirmed payments in
 * the mempool; immature = coinbase outputs not yet spendable.
 */
#ifndef MR_WALLET_H
#define MR_WALLET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "address.h"
#include "chainstate.h"
#include "coinselection.h"
#include "key.h"
#include "mempool.h"
#include "walletdb.h"

#define WALLET_NAME_MAX 65   /* as CONFIG_NAME_MAX */
#define WALLET_RESCAN_MARGIN 100 /* blocks before the birth height rescanned */
#define WALLET_DISCARD_FEERATE 10000 /* sat/kvB: Bitcoin's -discardfee default */

/* Fee rates and policy, from the node's options. */
struct wallet_options {
	int64_t fallback_feerate;     /* sat/kvB when neither fee_rate nor settxfee */
	int64_t long_term_feerate;    /* -consolidatefeerate */
	int64_t discard_feerate;      /* spending change later */
	int64_t max_aps_fee;          /* -maxapsfee (-1: never try) */
	bool avoid_partial_spends;    /* -avoidpartialspends */
	int64_t min_relay_feerate;    /* the mempool's: lower fee rates refused */
};

struct wallet_tx {
	struct tx tx;
	int64_t time;
	bool from_me;             /* created by this wallet */
	int64_t fee;              /* from_me: fee paid */
	char comment[WALLETDB_LABEL_MAX];
	/* Chain state, rebuilt by the rescan and kept by the listeners. */
	int32_t height;           /* -1: not in the active chain */
	uint8_t block_hash[32];
	int64_t block_time;
	bool in_mempool;
	unsigned sort_mark;       /* private: wallet.c's dependency sort */
};

/* One of the wallet's spendable-or-not outputs, as listunspent shows it. */
struct wallet_coin {
	const struct wallet_tx *wtx;
	uint32_t n;
	int64_t value;
	int32_t depth;
	bool locked;
	bool spendable;           /* mature, trusted, not locked */
	bool change;              /* paid to a change key */
	uint8_t h160[20];
};

struct wallet_balances {
	int64_t trusted, untrusted_pending, immature;
};

struct wallet;

/* Relay a transaction the wallet sent to peers (net_chain's, in the node):
 * fn(ctx, txid). */
struct wallet_relay {
	void (*fn)(void *ctx, const uint8_t txid[32]);
	void *ctx;
};

/*
 * Create (create=true: DIR must not hold a wallet) or load the wallet
 * NAME whose file is DIR/wallet.dat, following cs and mp. Loading reads
 * keys and transactions, rescans, and re-offers unconfirmed transactions
 * to the mempool, relaying through `relay` (copied; NULL: no relay). NULL
 * with the reason in err.
 */
struct wallet *wallet_new(const char *name, const char *dir, bool create,
			  struct chainstate *cs, struct mempool *mp,
			  const struct wallet_options *o, const struct wallet_relay *relay, char *err,
			  size_t errlen);
void wallet_free(struct wallet *w);   /* accepts NULL */

const char *wallet_name(const struct wallet *w);

/* A new receiving (chain 0, label) or change (chain 1) address, committed
 * before it is returned. 0 or -1 with err. */
int wallet_new_address(struct wallet *w, uint32_t chain, const char *label,
		       char addr[ADDRESS_MAX], char *err, size_t errlen);

/* The key paying to h160 if it is the wallet's; NULL otherwise. label and
 * chain may be NULL. */
const struct key *wallet_key(const struct wallet *w, const uint8_t h160[20],
			     const char **label, uint32_t *chain);

/* Depth of a transaction: >= 1 confirmed, 0 unconfirmed, -1 conflicted. */
int32_t wallet_tx_depth(const struct wallet *w, const struct wallet_tx *wtx);

/* Credits and debits of a transaction in satoshis: what its outputs pay
 * to us, what its inputs spend of ours. */
int64_t wallet_tx_credit(const struct wallet *w, const struct wallet_tx *wtx);
int64_t wallet_tx_debit(const struct wallet *w, const struct wallet_tx *wtx);

const struct wallet_tx *wallet_get_tx(const struct wallet *w, const uint8_t txid[32]);

/* Every transaction, oldest first. */
void wallet_foreach_tx(const struct wallet *w,
		       void (*cb)(void *ctx, const struct wallet_tx *wtx), void *ctx);

/* Every unspent output of ours in a transaction that is not conflicted. */
void wallet_foreach_coin(const struct wallet *w,
			 void (*cb)(void *ctx, const struct wallet_coin *c), void *ctx);

void wallet_balances(const struct wallet *w, struct wallet_balances *b);

/* Lock or unlock an output for coin selection (in memory, as Bitcoin's
 * default). Lock: -1 if it is not an unspent output of ours or already
 * locked; unlock: -1 if not locked. unlock_all clears every lock. */
int wallet_lock_coin(struct wallet *w, const struct outpoint *op, bool lock);
void wallet_unlock_all(struct wallet *w);
size_t wallet_locked(const struct wallet *w, struct outpoint *out, size_t max);

/* settxfee: the wallet's fee rate in sat/kvB (0: use the fallback),
 * stored in the file. */
int wallet_set_feerate(struct wallet *w, int64_t feerate, char *err, size_t errlen);
int64_t wallet_feerate(const struct wallet *w);

/* Counters for getwalletinfo. */
size_t wallet_tx_count(const struct wallet *w);
size_t wallet_key_count(const struct wallet *w);

/* Listeners (wallet_manager.c forwards to every loaded wallet). */
void wallet_block_connected(struct wallet *w, const struct block *b,
			    const struct block_index *bi);
void wallet_block_disconnected(struct wallet *w, const struct block *b,
			       const struct block_index *bi);
void wallet_tx_added(struct wallet *w, const struct mempool_entry *e);
void wallet_tx_removed(struct wallet *w, const struct mempool_entry *e, const char *reason);

/*
 * Offer every unconfirmed, unconflicted wallet transaction missing from
 * the mempool to it again, parents before children, relaying each one it
 * takes; with `relay_all`, first announce again to peers those already in
 * the mempool. The daemon calls it periodically (doc/wallet.md). Returns
 * how many transactions were relayed.
 */
size_t wallet_resubmit(struct wallet *w, bool relay_all);

/* ---- Sending (wallet_send.c) ---------------------------------------- */

struct wallet_recipient {
	uint8_t h160[20];
	int64_t amount;
};

struct wallet_send_request {
	const struct wallet_recipient *to;
	size_t n_to;
	int64_t feerate;          /* sat/kvB; 0: settxfee, else -fallbackfee */
	const char *comment;      /* may be NULL */
};

struct wallet_send_result {
	uint8_t txid[32];
	int64_t fee;
	int32_t change_pos;       /* -1: none */
	bool aps_used;            /* the avoid-partial-spends selection won */
	const char *algo;         /* coin selection algorithm of the winner */
};

/* What kind of failure a wallet call reports (the wallet RPCs, rpc_wallet.c,
 * turn each into its JSON-RPC code). */
enum wallet_err {
	WALLET_OK = 0,
	WALLET_ERR_FAILED,               /* the wallet could not do it (-4) */
	WALLET_ERR_INVALID_PARAMETER,    /* a bad argument: name, no recipients */
	WALLET_ERR_INVALID_AMOUNT,       /* an amount out of range */
	WALLET_ERR_INSUFFICIENT_FUNDS,
	WALLET_ERR_REJECTED,             /* the mempool refused the transaction */
	WALLET_ERR_NOT_FOUND,            /* no such wallet */
	WALLET_ERR_ALREADY_LOADED,
	WALLET_ERR_ALREADY_EXISTS,
};

/* Why a send failed: its kind and a message. */
struct wallet_error {
	enum wallet_err kind;
	char message[256];
};

/*
 * Build, sign, store and broadcast a payment (Bitcoin's CreateTransaction
 * + CommitTransaction), firing the coin_selection tracepoints. The
 * transaction is committed to the wallet file before it enters the
 * mempool and before this returns. Returns 0, or -1 with *e set:
 * WALLET_ERR_INSUFFICIENT_FUNDS; WALLET_ERR_INVALID_PARAMETER (no
 * recipients); WALLET_ERR_INVALID_AMOUNT; WALLET_ERR_FAILED (an amount
 * too small, a fee rate out of range, no memory, signing); or
 * WALLET_ERR_REJECTED with the mempool's reason.
 */
int wallet_send(struct wallet *w, const struct wallet_send_request *req,
		struct wallet_send_result *res, struct wallet_error *e);

/* ---- For wallet_send.c ---------------------------------------------- */

/* The transaction was created and signed by us: store it (committed),
 * then offer it to the mempool and relay it. 0, or -1 with the mempool's
 * or the database's reason in err. */
int wallet_commit_tx(struct wallet *w, const struct tx *t, int64_t fee, const char *comment,
		     char *err, size_t errlen);

/* Reserve the next change key without handing it out (it is committed by
 * wallet_commit_tx if the transaction uses it). */
int wallet_peek_change(struct wallet *w, struct key *k);

const struct wallet_options *wallet_opts(const struct wallet *w);
struct mempool *wallet_mempool(const struct wallet *w);
struct chainstate *wallet_chain(const struct wallet *w);

#endif
