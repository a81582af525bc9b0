/*
 * moneyrocketd.c — the daemon's main(): options, data directory, file
 * descriptor budget, logging, then the event loop with the connection
 * manager and the RPC server until SIGINT, SIGTERM or the `stop` RPC.
 *
 * Signals are ordinary libevent events: the loop exits and shutdown runs
 * in main(), not in a signal handler.
 */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chainstate.h"
#include "config.h"
#include "db.h"
#include "key.h"
#include "log.h"
#include "mempool.h"
#include "msg.h"
#include "msglog.h"
#include "net.h"
#include "net_chain.h"
#include "net_processing.h"
#include "rpc.h"
#include "rpc_chain.h"
#include "rpc_net.h"
#include "rpc_wallet.h"
#include "tracesock.h"
#include "util.h"


/* Mempool expiry and the periodic chainstate write are checked this often. */
#define MAINTENANCE_INTERVAL_S 10

#define NODE_VERSION_STRING "v0.1.0"
/* Descriptors besides peers, RPC clients, databases and wallets: stdio,
 * debug.log, the lock, epoll, libevent's signal pipe, listeners, the RPC
 * listener, the cookie file being written. */
#define RESERVED_FDS 32
/* The block store and the chainstate are LevelDB databases. */
#define NODE_DATABASES 2
/* A wallet's SQLite file and its rollback journal. */
#define WALLET_FDS 2

struct node {
	struct config cfg;
	struct event_base *base;
	struct chainstate *chain;
	struct mempool *mempool;
	struct event *maintenance;
	struct connman *connman;
	struct net_processing *net_processing;
	struct net_chain *net_chain;
	struct rpc_dispatch *dispatch;
	struct rpc_server *rpc;
	struct wallet_manager *wallets;
	struct tracesock *tracesock;
	int64_t next_wallet_broadcast; /* monotonic us: announce wallet txs again */
	struct event *sigint, *sigterm;
	int lock_fd;
};

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "Error: %s\n", msg);
	exit(1);
}

/* ---- Before anything starts -------------------------------------------- */

static void load_config(struct config *cfg, int argc, char **argv)
{
	char err[1024], path[CONFIG_PATH_MAX + 32];

	config_init(cfg);
	if (config_parse_args(cfg, argc, argv, NULL, err, sizeof(err)) < 0)
		die("%s (see -help)", err);
	if (cfg->help) {
		config_usage(argv[0]);
		exit(0);
	}
	if (cfg->version) {
		printf("moneyrocketd version %s\n", NODE_VERSION_STRING);
		exit(0);
	}
	if (mkdir(cfg->datadir, 0700) < 0 && errno != EEXIST)
		die("cannot create data directory %s: %s", cfg->datadir, strerror(errno));
	snprintf(path, sizeof(path), "%s/%s", cfg->datadir, CONFIG_FILE_NAME);
	if (config_read_file(cfg, path, err, sizeof(err)) < 0 ||
	    config_validate(cfg, err, sizeof(err)) < 0)
		die("%s", err);
}

/*
 * Every connection is a descriptor, as are message-log files. Refuse to
 * start rather than fail accept() later: raise the soft limit if the hard
 * one allows, else explain.
 */
static void check_fd_budget(const struct config *cfg)
{
	unsigned long long fixed = RESERVED_FDS + RPC_MAX_CLIENTS + 1 +
				   NODE_DATABASES * DB_FDS + WALLET_MAX_LOADED * WALLET_FDS;
	unsigned long long need = (unsigned long long)cfg->maxconnections + NET_MAX_MANUAL +
				  fixed + cfg->seednode.n + TRACESOCK_MAX_CLIENTS + 1 +
				  (cfg->logmessages ? MSGLOG_DEFAULT_MAX_OPEN : 0);
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("getrlimit(RLIMIT_NOFILE): %s", strerror(errno));
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need &&
	    (rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need)) {
		rl.rlim_cur = need;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need)
		die("-maxconnections=%lld needs %llu file descriptors (%lld connections + %d manual + %llu for RPC clients, databases, wallets and the daemon%s) but RLIMIT_NOFILE allows %llu; lower -maxconnections or raise the limit (ulimit -n)",
		    (long long)cfg->maxconnections, need, (long long)cfg->maxconnections,
		    NET_MAX_MANUAL, fixed,
		    cfg->logmessages ? " + 64 message-log files" : "",
		    (unsigned long long)rl.rlim_cur);
}

/* One daemon per data directory: an exclusive lock on DATADIR/.lock. */
static int lock_datadir(const char *datadir)
{
	char path[CONFIG_PATH_MAX + 16];
	int fd;

	snprintf(path, sizeof(path), "%s/.lock", datadir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		die("cannot open %s: %s", path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		die("cannot lock data directory %s: is moneyrocketd already running there?",
		    datadir);
	return fd;
}

/* ---- Event loop -------------------------------------------------------- */

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct node *n = arg;

	(void)what;
	log_printf("received %s, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
	event_base_loopexit(n->base, NULL);
}

static void rpc_stop_cb(void *arg)
{
	struct node *n = arg;

	log_printf("stop requested by RPC, shutting down");
	event_base_loopexit(n->base, NULL);
}

static void start_logging(const struct config *cfg)
{
	char path[CONFIG_PATH_MAX + 16], err[512];

	snprintf(path, sizeof(path), "%s/debug.log", cfg->datadir);
	if (log_open(path, cfg->printtoconsole, err, sizeof(err)) < 0)
		die("%s", err);
	log_enable(cfg->debug_mask);
}

/*
 * Unconfirmed wallet transactions missing from the mempool are offered
 * again every tick (a parent that got back in lets its child in); those in
 * it are announced to peers again every -walletbroadcastinterval, so a
 * payment no peer heard of is not stranded.
 */
static void wallets_resubmit(struct node *n)
{
	int64_t now = util_mono_us();
	bool relay_all = now >= n->next_wallet_broadcast;
	size_t relayed;

	if (relay_all)
		n->next_wallet_broadcast = now + n->cfg.walletbroadcastinterval * 1000000;
	relayed = wallet_manager_resubmit(n->wallets, relay_all);
	if (relay_all && relayed)
		log_printf("wallet: announced %zu unconfirmed transaction%s again", relayed,
			   relayed == 1 ? "" : "s");
}

static void maintenance_cb(evutil_socket_t fd, short what, void *arg)
{
	struct node *n = arg;

	(void)fd;
	(void)what;
	mempool_trim(n->mempool, util_time_s());
	chainstate_flush(n->chain, COINS_FLUSH_PERIODIC);
	wallets_resubmit(n);
}

/* The chain (loading or creating the block store and chainstate) and the
 * mempool that follows it. */
static void chain_start(struct node *n)
{
	struct chain_params cp = { n->cfg.dbcache << 20, n->cfg.flushinterval };
	struct mempool_params mpp = { (size_t)n->cfg.maxmempool * 1000000,
				      n->cfg.mempoolexpiry * 3600, n->cfg.minrelaytxfee };
	struct chain_listener l = { mempool_block_connected, mempool_block_disconnected, NULL };
	char err[512];

	if (key_init() < 0)
		die("cannot initialise secp256k1");
	n->chain = chainstate_open(n->cfg.datadir, &cp, err, sizeof(err));
	if (!n->chain) {
		log_printf("validation: %s", err);
		die("%s", err);
	}
	n->mempool = mempool_new(n->chain, &mpp);
	if (!n->mempool)
		die("cannot create the mempool: out of memory");
	l.ctx = n->mempool;
	chainstate_listen(n->chain, &l);
	log_printf("validation: chain height %d, best block loaded, coins cache %lld MiB",
		   chainstate_height(n->chain), (long long)n->cfg.dbcache);
}

static void relay_wallet_tx(void *ctx, const uint8_t txid[32])
{
	net_chain_relay_tx(ctx, txid, NULL);
}

/*
 * The network layers, bottom up: the connection manager, message handling,
 * block and transaction sync (each layer handed to the one below as
 * callbacks), and their RPCs. Peers connect later, in net_start.
 */
static void network_start(struct node *n)
{
	struct net_processing_sync sync;
	char err[512] = "out of memory";

	n->connman = net_new(n->base, &n->cfg, err, sizeof(err));
	n->net_chain = n->connman ? net_chain_new(n->chain, n->mempool, n->connman) : NULL;
	if (n->net_chain) {
		sync = net_chain_sync(n->net_chain);
		n->net_processing = net_processing_new(n->connman, &sync);
	}
	n->dispatch = rpc_dispatch_new();
	if (!n->net_processing || !n->dispatch ||
	    rpc_net_register(n->dispatch, n->connman, n->net_processing) < 0 ||
	    rpc_chain_register(n->dispatch, n->chain, n->mempool, n->net_chain) < 0)
		die("start-up: %s", err);
}

/* The wallet manager and its RPCs, and the -wallet wallets. */
static void wallets_start(struct node *n)
{
	struct wallet_options o = {
		.fallback_feerate = n->cfg.fallbackfee,
		.long_term_feerate = n->cfg.consolidatefeerate,
		.discard_feerate = WALLET_DISCARD_FEERATE,
		.max_aps_fee = n->cfg.maxapsfee,
		.avoid_partial_spends = n->cfg.avoidpartialspends,
		.min_relay_feerate = n->cfg.minrelaytxfee,
	};
	struct wallet_relay relay = { relay_wallet_tx, n->net_chain };
	char err[1024];

	n->wallets = wallet_manager_new(n->chain, n->mempool, n->cfg.datadir, &o, &relay);
	if (!n->wallets || rpc_wallet_register(n->dispatch, n->wallets) < 0)
		die("cannot start the wallet manager: out of memory");
	for (size_t i = 0; i < n->cfg.wallet.n; i++)
		if (wallet_manager_load(n->wallets, n->cfg.wallet.items[i], false, err,
					sizeof(err)) != WALLET_OK) {
			log_printf("wallet: %s", err);
			die("-wallet=%s: %s", n->cfg.wallet.items[i], err);
		}
}

/* Start every subsystem; a failure is fatal (reported and exit 1). */
static void node_start(struct node *n)
{
	char err[512];
	struct timeval tv = { MAINTENANCE_INTERVAL_S, 0 };
	struct net_events events;

	n->base = event_base_new();
	if (!n->base)
		die("cannot create the event loop");
	/* First, so a client can watch the chain load. */
	n->tracesock = tracesock_new(n->base, &n->cfg, err, sizeof(err));
	if (!n->tracesock && err[0]) {
		log_printf("tracestream: %s", err);
		die("-tracesocket: %s (-notracesocket turns the stream off)", err);
	}
	chain_start(n);
	network_start(n);
	wallets_start(n);
	n->maintenance = event_new(n->base, -1, EV_PERSIST, maintenance_cb, n);
	if (!n->maintenance || event_add(n->maintenance, &tv) < 0)
		die("cannot start the maintenance timer");
	events = net_processing_events(n->net_processing);
	if (net_start(n->connman, &events, err, sizeof(err)) < 0) {
		log_printf("net: %s", err);
		die("%s", err);
	}
	n->rpc = rpc_http_new(n->base, n->dispatch, n->cfg.datadir, (uint16_t)n->cfg.rpcport,
			      rpc_stop_cb, n, err, sizeof(err));
	if (!n->rpc) {
		log_printf("rpc: %s", err);
		die("rpc: %s", err);
	}
	n->sigint = evsignal_new(n->base, SIGINT, signal_cb, n);
	n->sigterm = evsignal_new(n->base, SIGTERM, signal_cb, n);
	if (!n->sigint || !n->sigterm || evsignal_add(n->sigint, NULL) < 0 ||
	    evsignal_add(n->sigterm, NULL) < 0)
		die("cannot install signal events");
}

/* Reverse order of node_start: peers closed first, cookie removed, files
 * flushed, log last. */
static void node_shutdown(struct node *n)
{
	net_stop(n->connman);
	rpc_http_free(n->rpc);
	net_free(n->connman);
	net_processing_free(n->net_processing); /* after the peers it kept state of */
	if (n->maintenance)
		event_free(n->maintenance);
	mempool_free(n->mempool);
	chainstate_close(n->chain); /* flushes the coins (ALWAYS) */
	net_chain_free(n->net_chain); /* after the chain: its listener points here */
	wallet_manager_free(n->wallets); /* after both: their listeners point at it */
	tracesock_free(n->tracesock); /* last to fire: the shutdown's own events go out */
	rpc_dispatch_free(n->dispatch);
	if (n->sigint)
		event_free(n->sigint);
	if (n->sigterm)
		event_free(n->sigterm);
	event_base_free(n->base);
	log_printf("shutdown complete");
	log_close();
	config_free(&n->cfg);
	close(n->lock_fd);
}

int main(int argc, char **argv)
{
	struct node n = { .lock_fd = -1 };

	load_config(&n.cfg, argc, argv);
	check_fd_budget(&n.cfg);
	n.lock_fd = lock_datadir(n.cfg.datadir);
	/* A peer closing mid-write must be an error return, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	start_logging(&n.cfg);
	log_printf("moneyrocketd %s starting, datadir %s, pid %d", NODE_VERSION_STRING,
		   n.cfg.datadir, (int)getpid());
	node_start(&n);
	log_printf("node started: P2P port %lld%s, RPC 127.0.0.1:%lld",
		   (long long)n.cfg.port, n.cfg.listen ? "" : " (not listening)",
		   (long long)n.cfg.rpcport);
	event_base_dispatch(n.base);
	node_shutdown(&n);
	return 0;
}
