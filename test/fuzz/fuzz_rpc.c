/*
 * fuzz_rpc.c — JSON-RPC request parsing and dispatch with the node's real
 * handlers: the built-ins, the net, chain, mempool and raw-transaction
 * commands, and the wallet commands (on "/" or "/wallet/w"), over a real
 * chainstate, mempool and connection manager in a temporary directory.
 *
 * The input is an HTTP body; the first byte's low bit picks the endpoint.
 * Every reply must be JSON with, for each answered call, a result or an
 * error object. Bodies naming generatetoaddress, generateblock or addnode
 * are skipped: mining many blocks per input or opening connections would
 * make runs slow and reach outside the process, and none of them parses
 * anything the others do not.
 */
#include <event2/event.h>
#include <jansson.h>
#include <string.h>

#include "chainstate.h"
#include "config.h"
#include "fuzz.h"
#include "key.h"
#include "log.h"
#include "mempool.h"
#include "net.h"
#include "net_chain.h"
#include "net_processing.h"
#include "rpc.h"
#include "rpc_chain.h"
#include "rpc_net.h"
#include "rpc_wallet.h"
#include "wallet.h"

static struct rpc_dispatch *dispatch;
static struct event_base *base;
static struct config cfg;

static void setup_wallets(struct chainstate *cs, struct mempool *mp, const char *dir)
{
	struct wallet_options o = {
		.fallback_feerate = CONFIG_DEFAULT_FALLBACK_FEE,
		.long_term_feerate = CONFIG_DEFAULT_CONSOLIDATE_FEERATE,
		.discard_feerate = WALLET_DISCARD_FEERATE,
		.min_relay_feerate = CONFIG_DEFAULT_MIN_RELAY_FEE,
	};
	struct wallet_manager *wm = wallet_manager_new(cs, mp, dir, &o, NULL);
	char err[1024];

	FUZZ_ASSERT(wm && rpc_wallet_register(dispatch, wm) == 0);
	FUZZ_ASSERT(wallet_manager_load(wm, "w", true, err, sizeof(err)) == WALLET_OK);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = fuzz_tmpdir("rpc");
	struct chain_params cp = { 8 << 20, 3600 };
	struct mempool_params mpp = { 5000000, 3600, CONFIG_DEFAULT_MIN_RELAY_FEE };
	struct chain_listener l = { mempool_block_connected, mempool_block_disconnected, NULL };
	struct chainstate *cs;
	struct mempool *mp;
	struct connman *cm;
	struct net_chain *nc;
	struct net_processing *np;
	struct net_processing_sync sync;
	char err[1024];

	(void)argc;
	(void)argv;
	FUZZ_ASSERT(log_open("/dev/null", false, err, sizeof(err)) == 0);
	FUZZ_ASSERT(key_init() == 0);
	config_init(&cfg);
	snprintf(cfg.datadir, sizeof(cfg.datadir), "%s", dir);
	base = event_base_new();
	cs = chainstate_open(dir, &cp, err, sizeof(err));
	FUZZ_ASSERT(base && cs);
	mp = mempool_new(cs, &mpp);
	FUZZ_ASSERT(mp);
	l.ctx = mp;
	chainstate_listen(cs, &l);
	cm = net_new(base, &cfg, err, sizeof(err));
	FUZZ_ASSERT(cm);
	nc = net_chain_new(cs, mp, cm);
	FUZZ_ASSERT(nc);
	sync = net_chain_sync(nc);
	np = net_processing_new(cm, &sync);
	dispatch = rpc_dispatch_new();
	FUZZ_ASSERT(np && dispatch && rpc_net_register(dispatch, cm, np) == 0 &&
		    rpc_chain_register(dispatch, cs, mp, nc) == 0);
	setup_wallets(cs, mp, dir);
	return 0;
}

/* Every reply object has exactly one of a non-null error and a result. */
static void check_reply(json_t *r)
{
	json_t *e = json_object_get(r, "error");

	FUZZ_ASSERT(json_is_object(r));
	FUZZ_ASSERT(json_object_get(r, "result") || (e && !json_is_null(e)));
	if (e && !json_is_null(e)) {
		FUZZ_ASSERT(json_is_integer(json_object_get(e, "code")));
		FUZZ_ASSERT(json_is_string(json_object_get(e, "message")));
	}
}

static bool skipped(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "generate", "addnode" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (memmem(data, size, names[i], strlen(names[i])))
			return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *reply;
	char *out;
	int status = 0;

	if (size == 0 || skipped(data, size))
		return 0;
	out = rpc_dispatch_body_wallet(dispatch, data[0] & 1 ? "w" : NULL,
				       (const char *)data + 1, size - 1, &status);
	if (status == 204) {
		FUZZ_ASSERT(out == NULL);
		return 0;
	}
	FUZZ_ASSERT(out && strlen(out) <= RPC_MAX_REPLY);
	reply = json_loads(out, JSON_DECODE_ANY, NULL);
	FUZZ_ASSERT(reply);
	if (json_is_array(reply)) {
		size_t i;
		json_t *r;

		FUZZ_ASSERT(status == 200);
		json_array_foreach(reply, i, r)
			check_reply(r);
	} else {
		check_reply(reply);
	}
	json_decref(reply);
	free(out);
	event_base_loop(base, EVLOOP_NONBLOCK); /* deferred frees, as the daemon */
	return 0;
}
