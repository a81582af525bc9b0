/*
 * moneyrocket-exporter.h — what moneyrocket-exporter.bpf.c counts for
 * moneyrocket-exporter.c: one hash map of (node, metric, label, label) ->
 * (count, sum), and one map that turns a tracepoint's string argument
 * (message type, connection type, reason, algorithm) into a label index.
 * User space fills the string map from fixed lists before attaching; a
 * string not in a list counts under index 0, "other", so every label stays
 * bounded whatever a peer sends. Plain C types only, so both sides can
 * include it.
 */
#ifndef MONEYROCKET_EXPORTER_H
#define MONEYROCKET_EXPORTER_H

/* Strings are compared on their first EXP_STR_LEN - 1 bytes: every entry
 * of the fixed lists is shorter. */
#define EXP_STR_LEN 40

/* (node, metric, labels) rows held at once: 64 nodes of every label
 * combination fit. A full map drops new rows, counted in `lost`. */
#define EXP_MAX_ROWS 32768
#define EXP_MAX_ROWS_STR "32768"

/* Histogram rows: bucket k (0..EXP_HIST_BUCKETS-2) counts values of at
 * most 2^k microseconds; the last bucket counts the rest (+Inf only). */
#define EXP_HIST_BUCKETS 34

/* Index 0 of every string kind: a value not in the fixed list. */
#define EXP_OTHER 0

enum exp_str_kind {
	EXP_STR_MSG_TYPE = 1,   /* net:*_message msg type */
	EXP_STR_CONN_TYPE,      /* net:*_connection conn type */
	EXP_STR_REMOVED,        /* mempool:removed reason */
	EXP_STR_REJECTED,       /* mempool:rejected reason, cut before " (" */
	EXP_STR_ALGORITHM,      /* coin_selection:selected_coins algorithm */
};

enum exp_metric {
	EXP_MSG = 1,       /* a: exp_dir, b: msg type; count, sum: payload bytes */
	EXP_CONN,          /* a: exp_conn_event, b: conn type (0 for misbehaving) */
	EXP_BLOCK,         /* count, sum: microseconds to connect */
	EXP_BLOCK_HIST,    /* a: bucket */
	EXP_HEIGHT,        /* count: height of the last block connected (a gauge) */
	EXP_FLUSH,         /* a: flush mode + 1 (0: unknown mode); count, sum: microseconds */
	EXP_FLUSH_HIST,    /* a: bucket */
	EXP_COINS,         /* a: exp_coin_event */
	EXP_MEMPOOL,       /* a: exp_mempool_event, b: reason (removed, rejected) */
	EXP_COINSEL,       /* a: algorithm */
};

enum exp_dir { EXP_IN = 0, EXP_OUT = 1 };
enum exp_conn_event { EXP_CONN_INBOUND = 0, EXP_CONN_OUTBOUND, EXP_CONN_CLOSED,
		      EXP_CONN_EVICTED, EXP_CONN_MISBEHAVING };
enum exp_coin_event { EXP_COIN_ADD = 0, EXP_COIN_SPENT, EXP_COIN_UNCACHE };
enum exp_mempool_event { EXP_MP_ADDED = 0, EXP_MP_REMOVED, EXP_MP_REPLACED, EXP_MP_REJECTED };

struct exp_key {
	unsigned int tgid;      /* the node's process id */
	unsigned short metric;  /* enum exp_metric */
	unsigned short a;
	unsigned short b;
	unsigned short pad;     /* zero: keys are compared as bytes */
};

struct exp_val {
	unsigned long long count;
	unsigned long long sum;
};

struct exp_str {
	unsigned int kind;      /* enum exp_str_kind */
	char s[EXP_STR_LEN];
};

#endif
