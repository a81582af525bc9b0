// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * p2pstat.bpf.c — counts moneyrocketd's P2P messages in the kernel: one hash
 * map row per (peer, direction, message type) with messages and payload
 * bytes. Only the counts cross to user space, when p2pstat prints, so a busy
 * node costs one map update per message and no per-message event.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/usdt.bpf.h>
#include "p2pstat.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Set before load: count only this message type when filter_msg_type. */
const volatile bool filter_msg_type = false;
const volatile char msg_type_filter[P2P_MSG_TYPE_LEN] = {};

/* Rows not added because the map was full; user space warns. */
__u64 dropped = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, P2P_MAX_ROWS);
	__type(key, struct p2p_key);
	__type(value, struct p2p_stat);
} stats SEC(".maps");

static __always_inline bool wanted(const char *msg_type)
{
	if (!filter_msg_type)
		return true;
	for (int i = 0; i < P2P_MSG_TYPE_LEN; i++) {
		if (msg_type[i] != msg_type_filter[i])
			return false;
		if (!msg_type[i])
			break;
	}
	return true;
}

/* The row for key, created with the peer's address and connection type on
 * its first message; NULL when the map is full. */
static __always_inline struct p2p_stat *row(const struct p2p_key *key,
					    const char *addr, const char *conn_type)
{
	struct p2p_stat *s = bpf_map_lookup_elem(&stats, key);
	struct p2p_stat fresh = {};

	if (s)
		return s;
	bpf_probe_read_user_str(fresh.addr, sizeof(fresh.addr), addr);
	bpf_probe_read_user_str(fresh.conn_type, sizeof(fresh.conn_type), conn_type);
	/* Failing with EEXIST (another CPU added it first) is fine; the
	 * lookup below tells whether the row is there. */
	bpf_map_update_elem(&stats, key, &fresh, BPF_NOEXIST);
	s = bpf_map_lookup_elem(&stats, key);
	if (!s)
		__sync_fetch_and_add(&dropped, 1);
	return s;
}

static __always_inline int count(enum p2p_dir dir, long peer_id, const char *addr,
				 const char *conn_type, const char *msg_type,
				 __u64 size)
{
	struct p2p_key key = {};
	struct p2p_stat *s;

	key.peer_id = peer_id;
	key.dir = dir;
	if (bpf_probe_read_user_str(key.msg_type, sizeof(key.msg_type), msg_type) < 0)
		return 0;
	if (!wanted(key.msg_type))
		return 0;
	s = row(&key, addr, conn_type);
	if (!s)
		return 0;
	__sync_fetch_and_add(&s->msgs, 1);
	__sync_fetch_and_add(&s->bytes, size);
	return 0;
}

/* net:inbound_message / net:outbound_message: peer id int64, addr char*,
 * conn type char*, msg type char*, msg size uint64, msg bytes u8*. */
SEC("usdt")
int BPF_USDT(inbound_message, long peer_id, const char *addr, const char *conn_type,
	     const char *msg_type, __u64 size)
{
	return count(P2P_IN, peer_id, addr, conn_type, msg_type, size);
}

SEC("usdt")
int BPF_USDT(outbound_message, long peer_id, const char *addr, const char *conn_type,
	     const char *msg_type, __u64 size)
{
	return count(P2P_OUT, peer_id, addr, conn_type, msg_type, size);
}
