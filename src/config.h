/*
 * config.h — the daemon's and the CLI's options, from the command line and
 * DATADIR/moneyrocket.conf.
 *
 * Command line: -name=value (or --name=value); a boolean may be given as
 * -name (1) or -noname (0). The config file holds the same keys as
 * "name=value" lines; '#' starts a comment; blank lines are ignored. A value
 * given on the command line wins over the file, except for list options
 * (-bind, -connect, -addnode, -seednode, -wallet), which collect both.
 *
 * Every function reports a bad option or value in the caller's err buffer
 * as one complete sentence naming the option; the caller prints it and
 * exits 1 before starting anything.
 */
#ifndef MR_CONFIG_H
#define MR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_FILE_NAME "moneyrocket.conf"
#define CONFIG_PATH_MAX 4096
#define CONFIG_DEFAULT_MAXCONNECTIONS 125
#define CONFIG_DEFAULT_DISCOURAGE_TIME (24 * 60 * 60)
#define CONFIG_DEFAULT_HANDSHAKE_TIMEOUT 60
#define CONFIG_DEFAULT_BLOCK_DOWNLOAD_TIMEOUT 60
#define CONFIG_DEFAULT_RECV_TIMEOUT 120
#define CONFIG_DEFAULT_FEELER_INTERVAL 120
#define CONFIG_DEFAULT_DBCACHE 450
#define CONFIG_DEFAULT_FLUSH_INTERVAL 3600
#define CONFIG_DEFAULT_MAXMEMPOOL 300
#define CONFIG_DEFAULT_MEMPOOL_EXPIRY 336
#define CONFIG_DEFAULT_MIN_RELAY_FEE 1000
#define CONFIG_DEFAULT_FALLBACK_FEE 10000      /* sat/kvB */
#define CONFIG_DEFAULT_CONSOLIDATE_FEERATE 10000 /* sat/kvB */
#define CONFIG_DEFAULT_MAX_APS_FEE 0           /* sat; -1: never try */
#define CONFIG_DEFAULT_WALLET_BROADCAST_INTERVAL 600 /* seconds */
#define CONFIG_NAME_MAX 65                     /* a wallet name, NUL included */
#define CONFIG_HEX256_MAX 65                   /* 64 hex digits, NUL included */

/* A list option's values, in the order given (strings owned). */
struct config_list {
	char **items;
	size_t n;
};

struct config {
	char datadir[CONFIG_PATH_MAX];
	int64_t port;             /* P2P listening port */
	int64_t rpcport;          /* JSON-RPC port on loopback */
	struct config_list bind;  /* ADDR[:PORT] to listen on; empty: all */
	bool listen;              /* accept inbound connections */
	struct config_list connect; /* only these peers (manual) */
	bool connect_only;        /* -connect given: no automatic outbound */
	struct config_list addnode; /* manual peers kept connected */
	struct config_list seednode; /* addr-fetch peers asked for addresses */
	struct config_list whitelist; /* [PERMS@]IP[/BITS] of privileged inbound peers */
	int64_t maxconnections;   /* inbound + automatic outbound */
	bool logmessages;         /* DATADIR/message_logging/ */
	bool printtoconsole;      /* echo debug.log to stdout */
	unsigned debug_mask;      /* log_category bits */
	int64_t discouragetime;   /* seconds a misbehaving IP is refused */
	int64_t handshaketimeout; /* seconds to complete version/verack */
	int64_t blockdownloadtimeout; /* seconds a peer has to send a requested block */
	int64_t recvtimeout;      /* seconds a begun message may take to arrive */
	char minimumchainwork[CONFIG_HEX256_MAX]; /* hex; "": none */
	int64_t feelerinterval;   /* seconds between feeler connections */
	int64_t dbcache;          /* coins cache limit, MiB */
	int64_t flushinterval;    /* seconds between PERIODIC chainstate writes */
	int64_t maxmempool;       /* mempool limit, MB of transactions */
	int64_t mempoolexpiry;    /* hours a transaction may wait */
	int64_t minrelaytxfee;    /* sat per 1000 vbytes */
	struct config_list wallet; /* wallets loaded at start-up */
	int64_t fallbackfee;      /* wallet fee rate, sat/kvB, unless set */
	int64_t consolidatefeerate; /* long-term fee rate for waste, sat/kvB */
	int64_t maxapsfee;        /* extra fee allowed for avoiding partial spends */
	bool avoidpartialspends;  /* always group coins by address */
	int64_t walletbroadcastinterval; /* seconds between wallet re-announcements */
	char rpcwallet[CONFIG_NAME_MAX]; /* moneyrocket-cli: /wallet/NAME */
	char tracesocket[CONFIG_PATH_MAX]; /* "": DATADIR/trace.sock; "0": none */
	bool help;                /* -help / -h / -? */
	bool version;             /* -version */
	/* internal: which options the command line set (bit per option) */
	uint64_t set_on_cmdline;
};

/* Defaults: datadir $HOME/.moneyrocket, ports 28444/28443, listen=1, ... */
void config_init(struct config *cfg);

/* Free the list options. Accepts NULL. */
void config_free(struct config *cfg);

/*
 * Parse argv[1..argc-1] as options. With `positional` non-NULL, the first
 * argument that is not an option and every one after it are not parsed
 * (the CLI's METHOD and ARGS): *positional is set to its index (argc if
 * none). With `positional` NULL such an argument is an error.
 * Returns 0, or -1 with a message in err.
 */
int config_parse_args(struct config *cfg, int argc, char **argv,
		      int *positional, char *err, size_t errlen);

/*
 * Set one option by name ("port") from a string value (NULL: given without
 * "=", i.e. boolean true). `from_file` lets an option already set on the
 * command line keep its value. Returns 0, or -1 with a message in err.
 */
int config_set(struct config *cfg, const char *name, const char *value,
	       bool from_file, char *err, size_t errlen);

/*
 * Read options from the file at `path`. A missing file is fine (returns 0).
 * Returns 0, or -1 with "path:line: ..." in err.
 */
int config_read_file(struct config *cfg, const char *path, char *err,
		     size_t errlen);

/*
 * Checks that need every option: ranges that depend on each other, and
 * that addresses in lists parse. Returns 0 or -1 with a message in err.
 */
int config_validate(const struct config *cfg, char *err, size_t errlen);

/* Print the option summary (for -help) to stdout. */
void config_usage(const char *program);

#endif
