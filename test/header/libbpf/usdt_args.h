/*
 * usdt_args.h — what usdt_args.bpf.c sends to usdt_args.c: one event per
 * probe hit of the header test program, every argument as read in the
 * kernel. Shared by both sides, so it uses plain C types only (no vmlinux.h,
 * no <linux/types.h>).
 */
#ifndef USDT_ARGS_H
#define USDT_ARGS_H

#define USDT_ARGS_MAX 12
#define USDT_STR_LEN 64   /* longest test string is 20 bytes + NUL */
#define USDT_BYTES_LEN 32 /* the u8* argument points at 32 bytes */

/*
 * Probe ids, carried as the USDT cookie so one BPF program per arity can
 * serve test:argsN (id N) and test:vargsN (id 13 + N); test:guarded is 26.
 */
#define USDT_PROBE_VARGS0 13
#define USDT_PROBE_GUARDED 26
#define USDT_PROBE_COUNT 27

/*
 * One probe hit.
 *   args[k-1]  argument k as BPF_USDT returned it: the raw operand value,
 *              sign- or zero-extended to 64 bits by the size and signedness
 *              recorded in the probe's note. Pointers (arguments 2, 4, 12)
 *              are user-space addresses; what they point at is copied below.
 *   faults     bit k-1 set when reading what argument k points at failed.
 */
struct usdt_event {
	unsigned int probe; /* probe id, see above */
	unsigned int nargs; /* arguments this probe carries, 0..12 */
	unsigned int faults;
	unsigned int pad;   /* keeps args 8-byte aligned on both sides */
	unsigned long long args[USDT_ARGS_MAX];
	char str2[USDT_STR_LEN];             /* argument 2 (char*) */
	char str12[USDT_STR_LEN];            /* argument 12 (char*) */
	unsigned char bytes[USDT_BYTES_LEN]; /* what argument 4 (u8*) points at */
};

#endif
