// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * p2pcapture.bpf.c — every P2P message of moneyrocketd, payload included,
 * into a BPF ring buffer for p2pcapture. The record is reserved in the ring
 * at its full size and the payload is read from the node's memory straight
 * into it (bpf_probe_read_user_dynptr, Linux 6.16 and later): one copy, no
 * scratch buffer. A message that finds the ring full is lost: counted in
 * `lost`, and the next record carries the count, so the reader knows
 * exactly where and how many.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/usdt.bpf.h>
#include "p2pcapture.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Set before load: payload bytes kept per message. */
const volatile __u32 max_bytes = CAP_MAX_PAYLOAD;

/* Messages and payload bytes lost to a full ring. */
__u64 lost = 0;
__u64 lost_bytes = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 << 20); /* p2pcapture -b sets it before load */
} ring SEC(".maps");

extern int bpf_probe_read_user_dynptr(struct bpf_dynptr *dptr, __u32 off, __u32 size,
				      const void *unsafe_ptr) __ksym;

static __always_inline int capture(__u32 dir, long peer_id, const char *addr,
				   const char *msg_type, __u64 size, const void *payload)
{
	struct cap_header h = {};
	struct bpf_dynptr rec;
	__u32 n = size < max_bytes ? (__u32)size : max_bytes;

	h.time_ns = bpf_ktime_get_ns();
	h.peer_id = peer_id;
	h.size = size > 0xFFFFFFFFULL ? 0xFFFFFFFFU : (__u32)size;
	h.dir = dir;
	bpf_probe_read_user_str(h.addr, sizeof(h.addr), addr);
	bpf_probe_read_user_str(h.msg_type, sizeof(h.msg_type), msg_type);
	if (bpf_ringbuf_reserve_dynptr(&ring, sizeof(h) + n, 0, &rec)) {
		/* A failed reservation must be discarded too. */
		bpf_ringbuf_discard_dynptr(&rec, 0);
		__sync_fetch_and_add(&lost, 1);
		__sync_fetch_and_add(&lost_bytes, size);
		return 0;
	}
	h.captured = n;
	if (n < size)
		h.flags |= CAP_TRUNCATED;
	if (n && bpf_probe_read_user_dynptr(&rec, sizeof(h), n, payload)) {
		h.captured = 0;
		h.flags |= CAP_READ_FAILED;
	}
	h.lost = *(volatile __u64 *)&lost;
	bpf_dynptr_write(&rec, 0, &h, sizeof(h), 0);
	bpf_ringbuf_submit_dynptr(&rec, 0);
	return 0;
}

/* net:inbound_message / net:outbound_message: peer id int64, addr char*,
 * conn type char*, msg type char*, msg size uint64, msg bytes u8*. */
SEC("usdt")
int BPF_USDT(inbound_message, long peer_id, const char *addr, const char *conn_type,
	     const char *msg_type, __u64 size, const void *payload)
{
	return capture(CAP_RECV, peer_id, addr, msg_type, size, payload);
}

SEC("usdt")
int BPF_USDT(outbound_message, long peer_id, const char *addr, const char *conn_type,
	     const char *msg_type, __u64 size, const void *payload)
{
	return capture(CAP_SENT, peer_id, addr, msg_type, size, payload);
}
