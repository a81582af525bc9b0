// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * moneyrocket-exporter.bpf.c — aggregates moneyrocketd's tracepoints in the
 * kernel for moneyrocket-exporter: per node (process id), counters and
 * log2 histograms in one hash map. No event crosses to user space; a
 * Prometheus scrape reads the map. Per hit: one string lookup at most and
 * one or two atomic adds.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/usdt.bpf.h>
#include "moneyrocket-exporter.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Events not counted because the rows map was full. */
__u64 lost = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, EXP_MAX_ROWS);
	__type(key, struct exp_key);
	__type(value, struct exp_val);
} rows SEC(".maps");

/* Filled by user space before attach: (kind, string) -> label index. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct exp_str);
	__type(value, __u16);
} strings SEC(".maps");

/* The label index of a string argument; EXP_OTHER when it is not in the
 * kind's list or cannot be read. */
static __always_inline __u16 classify(__u32 kind, const char *user_str)
{
	struct exp_str key = {};
	__u16 *idx;

	key.kind = kind;
	if (bpf_probe_read_user_str(key.s, sizeof(key.s), user_str) < 0)
		return EXP_OTHER;
	idx = bpf_map_lookup_elem(&strings, &key);
	return idx ? *idx : EXP_OTHER;
}

/* A reject reason may carry details after " (" (the script error of
 * mandatory-script-verify-flag-failed): the label is what comes before. */
static __always_inline __u16 classify_reject(const char *user_str)
{
	struct exp_str key = {};
	bool cut = false;
	__u16 *idx;

	key.kind = EXP_STR_REJECTED;
	if (bpf_probe_read_user_str(key.s, sizeof(key.s), user_str) < 0)
		return EXP_OTHER;
	for (int i = 0; i < EXP_STR_LEN - 1; i++) {
		if (key.s[i] == ' ' && key.s[i + 1] == '(')
			cut = true;
		if (cut)
			key.s[i] = 0;
	}
	if (cut)
		key.s[EXP_STR_LEN - 1] = 0;
	idx = bpf_map_lookup_elem(&strings, &key);
	return idx ? *idx : EXP_OTHER;
}

/* The row of (this process, metric, a, b), created at zero when new; NULL
 * (and one more lost event) when the map is full. */
static __always_inline struct exp_val *row(__u16 metric, __u16 a, __u16 b)
{
	struct exp_key key = {};
	struct exp_val zero = {}, *v;

	key.tgid = bpf_get_current_pid_tgid() >> 32;
	key.metric = metric;
	key.a = a;
	key.b = b;
	v = bpf_map_lookup_elem(&rows, &key);
	if (v)
		return v;
	/* EEXIST (another CPU added it first) is fine: look it up again. */
	bpf_map_update_elem(&rows, &key, &zero, BPF_NOEXIST);
	v = bpf_map_lookup_elem(&rows, &key);
	if (!v)
		__sync_fetch_and_add(&lost, 1);
	return v;
}

static __always_inline void count(__u16 metric, __u16 a, __u16 b, __u64 sum)
{
	struct exp_val *v = row(metric, a, b);

	if (!v)
		return;
	__sync_fetch_and_add(&v->count, 1);
	if (sum)
		__sync_fetch_and_add(&v->sum, sum);
}

/* floor(log2(v)) for v > 0, without loops. */
static __always_inline __u32 log2_u64(__u64 v)
{
	__u32 r = 0, shift;

	shift = (v > 0xFFFFFFFFULL) << 5; v >>= shift; r |= shift;
	shift = (v > 0xFFFF) << 4; v >>= shift; r |= shift;
	shift = (v > 0xFF) << 3; v >>= shift; r |= shift;
	shift = (v > 0xF) << 2; v >>= shift; r |= shift;
	shift = (v > 0x3) << 1; v >>= shift; r |= shift;
	r |= (v >> 1);
	return r;
}

/* The histogram bucket of `micros`: the smallest k with micros <= 2^k. */
static __always_inline __u16 bucket(__u64 micros)
{
	__u32 k = micros <= 1 ? 0 : log2_u64(micros - 1) + 1;

	return k > EXP_HIST_BUCKETS - 1 ? EXP_HIST_BUCKETS - 1 : (__u16)k;
}

/* net:inbound_message / net:outbound_message: peer id int64, addr char*,
 * conn type char*, msg type char*, msg size uint64, msg bytes u8*. */
SEC("usdt")
int BPF_USDT(inbound_message, long peer_id, const char *addr, const char *conn_type,
	     const char *msg_type, __u64 size)
{
	count(EXP_MSG, EXP_IN, classify(EXP_STR_MSG_TYPE, msg_type), size);
	return 0;
}

SEC("usdt")
int BPF_USDT(outbound_message, long peer_id, const char *addr, const char *conn_type,
	     const char *msg_type, __u64 size)
{
	count(EXP_MSG, EXP_OUT, classify(EXP_STR_MSG_TYPE, msg_type), size);
	return 0;
}

/* net:*_connection: peer id int64, addr char*, conn type char*, ... */
SEC("usdt")
int BPF_USDT(inbound_connection, long peer_id, const char *addr, const char *conn_type)
{
	count(EXP_CONN, EXP_CONN_INBOUND, classify(EXP_STR_CONN_TYPE, conn_type), 0);
	return 0;
}

SEC("usdt")
int BPF_USDT(outbound_connection, long peer_id, const char *addr, const char *conn_type)
{
	count(EXP_CONN, EXP_CONN_OUTBOUND, classify(EXP_STR_CONN_TYPE, conn_type), 0);
	return 0;
}

SEC("usdt")
int BPF_USDT(closed_connection, long peer_id, const char *addr, const char *conn_type)
{
	count(EXP_CONN, EXP_CONN_CLOSED, classify(EXP_STR_CONN_TYPE, conn_type), 0);
	return 0;
}

SEC("usdt")
int BPF_USDT(evicted_inbound_connection, long peer_id, const char *addr,
	     const char *conn_type)
{
	count(EXP_CONN, EXP_CONN_EVICTED, classify(EXP_STR_CONN_TYPE, conn_type), 0);
	return 0;
}

/* net:misbehaving_connection: peer id int64, reason char* (free text: not
 * a label). */
SEC("usdt")
int BPF_USDT(misbehaving_connection, long peer_id)
{
	count(EXP_CONN, EXP_CONN_MISBEHAVING, EXP_OTHER, 0);
	return 0;
}

/* validation:block_connected: hash u8*, height int32, transactions
 * uint64, inputs int32, sigops uint64, microseconds uint64. */
SEC("usdt")
int BPF_USDT(block_connected, void *hash, int height, __u64 txs, int inputs,
	     __u64 sigops, __u64 micros)
{
	struct exp_val *h;

	count(EXP_BLOCK, 0, 0, micros);
	count(EXP_BLOCK_HIST, bucket(micros), 0, 0);
	h = row(EXP_HEIGHT, 0, 0);
	if (h)
		h->count = (__u64)height;
	return 0;
}

/* utxocache:flush: duration int64 (µs), mode uint32, coins uint64,
 * memory uint64, pruned bool. */
SEC("usdt")
int BPF_USDT(flush, __s64 micros, __u32 mode)
{
	__u64 us = micros > 0 ? (__u64)micros : 0;

	count(EXP_FLUSH, mode <= 3 ? (__u16)(mode + 1) : EXP_OTHER, 0, us);
	count(EXP_FLUSH_HIST, bucket(us), 0, 0);
	return 0;
}

SEC("usdt")
int BPF_USDT(add)
{
	count(EXP_COINS, EXP_COIN_ADD, 0, 0);
	return 0;
}

SEC("usdt")
int BPF_USDT(spent)
{
	count(EXP_COINS, EXP_COIN_SPENT, 0, 0);
	return 0;
}

SEC("usdt")
int BPF_USDT(uncache)
{
	count(EXP_COINS, EXP_COIN_UNCACHE, 0, 0);
	return 0;
}

/* mempool:added: txid u8*, vsize int32, fee int64. */
SEC("usdt")
int BPF_USDT(added)
{
	count(EXP_MEMPOOL, EXP_MP_ADDED, 0, 0);
	return 0;
}

/* mempool:removed: txid u8*, reason char*, ... */
SEC("usdt")
int BPF_USDT(removed, void *txid, const char *reason)
{
	count(EXP_MEMPOOL, EXP_MP_REMOVED, classify(EXP_STR_REMOVED, reason), 0);
	return 0;
}

SEC("usdt")
int BPF_USDT(replaced)
{
	count(EXP_MEMPOOL, EXP_MP_REPLACED, 0, 0);
	return 0;
}

/* mempool:rejected: txid u8*, reason char*. */
SEC("usdt")
int BPF_USDT(rejected, void *txid, const char *reason)
{
	count(EXP_MEMPOOL, EXP_MP_REJECTED, classify_reject(reason), 0);
	return 0;
}

/* coin_selection:selected_coins: wallet char*, algorithm char*, ... */
SEC("usdt")
int BPF_USDT(selected_coins, const char *wallet, const char *algorithm)
{
	count(EXP_COINSEL, classify(EXP_STR_ALGORITHM, algorithm), 0, 0);
	return 0;
}
