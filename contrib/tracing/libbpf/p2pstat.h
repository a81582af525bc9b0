/*
 * p2pstat.h — what p2pstat.bpf.c keeps for p2pstat.c: messages and payload
 * bytes per peer, direction and message type, summed in the kernel from
 * net:inbound_message and net:outbound_message. Plain C types only, so both
 * sides can include it.
 */
#ifndef P2PSTAT_H
#define P2PSTAT_H

/* String limits from doc/tracing.md, terminating NUL included. */
#define P2P_ADDR_LEN 68
#define P2P_CONN_TYPE_LEN 20
#define P2P_MSG_TYPE_LEN 20

/* Distinct (peer, direction, message type) rows held at once. A full map
 * drops new rows (counted in `dropped`), never old counts. */
#define P2P_MAX_ROWS 16384

enum p2p_dir { P2P_IN = 0, P2P_OUT = 1 };

struct p2p_key {
	long long peer_id;
	unsigned int dir; /* enum p2p_dir */
	char msg_type[P2P_MSG_TYPE_LEN];
};

struct p2p_stat {
	unsigned long long msgs;
	unsigned long long bytes; /* payload bytes, the tracepoints' msg size */
	char addr[P2P_ADDR_LEN];
	char conn_type[P2P_CONN_TYPE_LEN];
};

#endif
