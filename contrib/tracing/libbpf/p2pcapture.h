/*
 * p2pcapture.h — the record p2pcapture.bpf.c puts in the ring buffer for
 * p2pcapture.c: a fixed header, then the payload bytes (header.captured of
 * them), written by the kernel straight into the reserved ring space. Plain
 * C types only, so both sides can include it.
 */
#ifndef P2PCAPTURE_H
#define P2PCAPTURE_H

/* The protocol's largest payload (Bitcoin's MAX_PROTOCOL_MESSAGE_LENGTH). */
#define CAP_MAX_PAYLOAD 4000000

/* String limits from doc/tracing.md, terminating NUL included. */
#define CAP_ADDR_LEN 68
#define CAP_MSG_TYPE_LEN 20

enum cap_dir { CAP_RECV = 0, CAP_SENT = 1 };

/* header.flags */
#define CAP_TRUNCATED 1   /* size > captured: cut at --max-bytes */
#define CAP_READ_FAILED 2 /* the payload could not be read: captured is 0 */

struct cap_header {
	unsigned long long time_ns;     /* CLOCK_MONOTONIC at the tracepoint */
	unsigned long long lost;        /* messages lost before this one, since start */
	long long peer_id;
	unsigned int size;              /* payload bytes the node reported */
	unsigned int captured;          /* payload bytes that follow */
	unsigned int dir;               /* enum cap_dir */
	unsigned int flags;
	char addr[CAP_ADDR_LEN];
	char msg_type[CAP_MSG_TYPE_LEN];
};

#endif
