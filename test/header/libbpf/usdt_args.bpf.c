// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * usdt_args.bpf.c — reads every argument of the header test program's
 * probes with BPF_USDT and sends them to user space through a ring buffer.
 *
 * One program per arity (args0..args12) plus one for test:guarded. The user
 * side attaches program argsN to both test:argsN and test:vargsN and passes
 * the probe id as the USDT cookie, so 14 programs serve 27 probes.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/usdt.bpf.h>
#include "usdt_args.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Set by user space before load; 0 traces every process. */
const volatile int target_pid = 0;
/* Events dropped because the ring buffer was full; user space polls it. */
__u64 lost_events = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

/* Reserve and fill the common part of an event; NULL to skip this hit. */
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
	/* Reserved memory is not zeroed: unused slots must not leak stale
	 * data into the output. */
	__builtin_memset(e, 0, sizeof(*e));
	e->probe = (unsigned int)bpf_usdt_cookie(ctx);
	e->nargs = nargs;
	return e;
}

/*
 * Store argument k (1-based) and copy what the pointer arguments point at:
 * 2 and 12 are char*, 4 is a u8* to 32 bytes. A failed read sets the fault
 * bit so user space prints <fault> rather than an empty value.
 */
static __always_inline void put(struct usdt_event *e, int k, long v)
{
	long err = 0;

	e->args[k - 1] = (__u64)v;
	if (k == 2)
		err = bpf_probe_read_user_str(e->str2, sizeof(e->str2), (void *)v);
	else if (k == 12)
		err = bpf_probe_read_user_str(e->str12, sizeof(e->str12), (void *)v);
	else if (k == 4)
		err = bpf_probe_read_user(e->bytes, sizeof(e->bytes), (void *)v);
	if (err < 0)
		e->faults |= 1u << (k - 1);
}

/* PUTn stores arguments 1..n; each builds on the one before. */
#define PUT1 put(e, 1, a1)
#define PUT2 PUT1; put(e, 2, a2)
#define PUT3 PUT2; put(e, 3, a3)
#define PUT4 PUT3; put(e, 4, a4)
#define PUT5 PUT4; put(e, 5, a5)
#define PUT6 PUT5; put(e, 6, a6)
#define PUT7 PUT6; put(e, 7, a7)
#define PUT8 PUT7; put(e, 8, a8)
#define PUT9 PUT8; put(e, 9, a9)
#define PUT10 PUT9; put(e, 10, a10)
#define PUT11 PUT10; put(e, 11, a11)
#define PUT12 PUT11; put(e, 12, a12)

/* Body of the arity-n program: reserve, store n arguments, submit. */
#define EMIT(n, puts)                                   \
	do {                                            \
		struct usdt_event *e = begin(ctx, n);   \
		if (!e)                                 \
			return 0;                       \
		puts;                                   \
		bpf_ringbuf_submit(e, 0);               \
	} while (0)

SEC("usdt")
int BPF_USDT(args0)
{
	EMIT(0, (void)e);
	return 0;
}

SEC("usdt")
int BPF_USDT(args1, long a1)
{
	EMIT(1, PUT1);
	return 0;
}

SEC("usdt")
int BPF_USDT(args2, long a1, long a2)
{
	EMIT(2, PUT2);
	return 0;
}

SEC("usdt")
int BPF_USDT(args3, long a1, long a2, long a3)
{
	EMIT(3, PUT3);
	return 0;
}

SEC("usdt")
int BPF_USDT(args4, long a1, long a2, long a3, long a4)
{
	EMIT(4, PUT4);
	return 0;
}

SEC("usdt")
int BPF_USDT(args5, long a1, long a2, long a3, long a4, long a5)
{
	EMIT(5, PUT5);
	return 0;
}

SEC("usdt")
int BPF_USDT(args6, long a1, long a2, long a3, long a4, long a5, long a6)
{
	EMIT(6, PUT6);
	return 0;
}

SEC("usdt")
int BPF_USDT(args7, long a1, long a2, long a3, long a4, long a5, long a6,
	     long a7)
{
	EMIT(7, PUT7);
	return 0;
}

SEC("usdt")
int BPF_USDT(args8, long a1, long a2, long a3, long a4, long a5, long a6,
	     long a7, long a8)
{
	EMIT(8, PUT8);
	return 0;
}

SEC("usdt")
int BPF_USDT(args9, long a1, long a2, long a3, long a4, long a5, long a6,
	     long a7, long a8, long a9)
{
	EMIT(9, PUT9);
	return 0;
}

SEC("usdt")
int BPF_USDT(args10, long a1, long a2, long a3, long a4, long a5, long a6,
	     long a7, long a8, long a9, long a10)
{
	EMIT(10, PUT10);
	return 0;
}

SEC("usdt")
int BPF_USDT(args11, long a1, long a2, long a3, long a4, long a5, long a6,
	     long a7, long a8, long a9, long a10, long a11)
{
	EMIT(11, PUT11);
	return 0;
}

SEC("usdt")
int BPF_USDT(args12, long a1, long a2, long a3, long a4, long a5, long a6,
	     long a7, long a8, long a9, long a10, long a11, long a12)
{
	EMIT(12, PUT12);
	return 0;
}

/* test:guarded: 1 int64 evaluation count, 2 char* "guarded" — the same
 * slots as arguments 1 and 2 of the argsN probes. */
SEC("usdt")
int BPF_USDT(guarded, long a1, long a2)
{
	EMIT(2, PUT2);
	return 0;
}
