// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * usdt_args.bpf.c — reads every argument of the header test program's
 * probes with BPF_USDT and sends them to user space through a ring buffer.
 * One program per arity; the user side attaches it to test:argsN and
 * test:vargsN with the probe id as the USDT cookie.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/usdt.bpf.h>
#include "usdt_args.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile int target_pid = 0;
/* Events dropped because the ring buffer was full; read by user space. */
unsigned long long lost_events = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

static __always_inline struct usdt_event *begin(struct pt_regs *ctx,
						unsigned int nargs)
{
	struct usdt_event *e;

	if (target_pid && (bpf_get_current_pid_tgid() >> 32) != target_pid)
		return NULL;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&lost_events, 1);
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->probe = (unsigned int)bpf_usdt_cookie(ctx);
	e->nargs = nargs;
	return e;
}

/* Store argument k (1-based); follow the pointers of arguments 2, 4, 12. */
static __always_inline void put(struct usdt_event *e, int k, long v)
{
	e->args[k - 1] = v;
	if (k == 2)
		bpf_probe_read_user_str(e->str2, sizeof(e->str2), (void *)v);
	else if (k == 12)
		bpf_probe_read_user_str(e->str12, sizeof(e->str12), (void *)v);
	else if (k == 4)
		bpf_probe_read_user(e->bytes, sizeof(e->bytes), (void *)v);
}

#define BEGIN(n)                                     \
	struct usdt_event *e = begin(ctx, n);        \
	if (!e)                                      \
		return 0
#define END()                        \
	bpf_ringbuf_submit(e, 0);    \
	return 0

SEC("usdt") int BPF_USDT(args0) { BEGIN(0); END(); }
SEC("usdt") int BPF_USDT(args1, long a1) { BEGIN(1); put(e, 1, a1); END(); }
SEC("usdt") int BPF_USDT(args2, long a1, long a2)
{
	BEGIN(2); put(e, 1, a1); put(e, 2, a2); END();
}
SEC("usdt") int BPF_USDT(args3, long a1, long a2, long a3)
{
	BEGIN(3); put(e, 1, a1); put(e, 2, a2); put(e, 3, a3); END();
}
SEC("usdt") int BPF_USDT(args4, long a1, long a2, long a3, long a4)
{
	BEGIN(4); put(e, 1, a1); put(e, 2, a2); put(e, 3, a3); put(e, 4, a4);
	END();
}
SEC("usdt") int BPF_USDT(args5, long a1, long a2, long a3, long a4, long a5)
{
	BEGIN(5); put(e, 1, a1); put(e, 2, a2); put(e, 3, a3); put(e, 4, a4);
	put(e, 5, a5); END();
}
SEC("usdt") int BPF_USDT(args6, long a1, long a2, long a3, long a4, long a5,
			 long a6)
{
	BEGIN(6); put(e, 1, a1); put(e, 2, a2); put(e, 3, a3); put(e, 4, a4);
	put(e, 5, a5); put(e, 6, a6); END();
}
SEC("usdt") int BPF_USDT(args7, long a1, long a2, long a3, long a4, long a5,
			 long a6, long a7)
{
	BEGIN(7); put(e, 1, a1); put(e, 2, a2); put(e, 3, a3); put(e, 4, a4);
	put(e, 5, a5); put(e, 6, a6); put(e, 7, a7); END();
}
SEC("usdt") int BPF_USDT(args8, long a1, long a2, long a3, long a4, long a5,
			 long a6, long a7, long a8)
{
	BEGIN(8); put(e, 1, a1); put(e, 2, a2); put(e, 3, a3); put(e, 4, a4);
	put(e, 5, a5); put(e, 6, a6); put(e, 7, a7); put(e, 8, a8); END();
}
SEC("usdt") int BPF_USDT(args9, long a1, long a2, long a3, long a4, long a5,
			 long a6, long a7, long a8, long a9)
{
	BEGIN(9); put(e, 1, a1); put(e, 2, a2); put(e, 3, a3); put(e, 4, a4);
	put(e, 5, a5); put(e, 6, a6); put(e, 7, a7); put(e, 8, a8);
	put(e, 9, a9); END();
}
SEC("usdt") int BPF_USDT(args10, long a1, long a2, long a3, long a4, long a5,
			 long a6, long a7, long a8, long a9, long a10)
{
	BEGIN(10); put(e, 1, a1); put(e, 2, a2); put(e, 3, a3); put(e, 4, a4);
	put(e, 5, a5); put(e, 6, a6); put(e, 7, a7); put(e, 8, a8);
	put(e, 9, a9); put(e, 10, a10); END();
}
SEC("usdt") int BPF_USDT(args11, long a1, long a2, long a3, long a4, long a5,
			 long a6, long a7, long a8, long a9, long a10, long a11)
{
	BEGIN(11); put(e, 1, a1); put(e, 2, a2); put(e, 3, a3); put(e, 4, a4);
	put(e, 5, a5); put(e, 6, a6); put(e, 7, a7); put(e, 8, a8);
	put(e, 9, a9); put(e, 10, a10); put(e, 11, a11); END();
}
SEC("usdt") int BPF_USDT(args12, long a1, long a2, long a3, long a4, long a5,
			 long a6, long a7, long a8, long a9, long a10, long a11,
			 long a12)
{
	BEGIN(12); put(e, 1, a1); put(e, 2, a2); put(e, 3, a3); put(e, 4, a4);
	put(e, 5, a5); put(e, 6, a6); put(e, 7, a7); put(e, 8, a8);
	put(e, 9, a9); put(e, 10, a10); put(e, 11, a11); put(e, 12, a12);
	END();
}
SEC("usdt") int BPF_USDT(guarded, long evals, long label)
{
	BEGIN(2); put(e, 1, evals); put(e, 2, label); END();
}
