/*
 * usdt_args.h — what usdt_args.bpf.c sends to usdt_args.c: one event per
 * probe hit of the header test program, every argument as read in the kernel.
 */
#ifndef USDT_ARGS_H
#define USDT_ARGS_H

#define USDT_ARGS_MAX 12
#define USDT_STR_LEN 64   /* longest test string is 20 bytes */
#define USDT_BYTES_LEN 32 /* the u8* argument points at 32 bytes */

/* Probe ids, carried as the USDT cookie: args0..12, vargs0..12, guarded. */
#define USDT_PROBE_VARGS0 13
#define USDT_PROBE_GUARDED 26
#define USDT_PROBE_COUNT 27

struct usdt_event {
	unsigned int probe; /* probe id, see above */
	unsigned int nargs;
	long long args[USDT_ARGS_MAX]; /* sign- or zero-extended by BPF_USDT */
	char str2[USDT_STR_LEN];       /* argument 2 (char*) */
	char str12[USDT_STR_LEN];      /* argument 12 (char*) */
	unsigned char bytes[USDT_BYTES_LEN]; /* what argument 4 (u8*) points at */
};

#endif
