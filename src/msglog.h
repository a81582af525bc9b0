/*
 * msglog.h — -logmessages: every P2P message, in and out, appended to
 * DATADIR/message_logging/<addr, ':' -> '_'>/msgs_recv.dat / msgs_sent.dat.
 *
 * Record: 8-byte LE time (microseconds since the epoch), 12-byte NUL-padded
 * message type, 4-byte LE payload length, payload.
 *
 * Files are opened on first use and at most `max_open` stay open at once
 * across all peers (the least recently written one is closed and reopened
 * later in append mode), so logging fits the node's file-descriptor budget.
 * A failed write is logged once per file and never stops the node.
 */
#ifndef MR_MSGLOG_H
#define MR_MSGLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Log files open at once across all peers: the fd budget's share. */
#define MSGLOG_DEFAULT_MAX_OPEN 64

struct msglog;
struct msglog_peer;

/* The logger for DATADIR (directories are created on first write).
 * NULL on allocation failure. */
struct msglog *msglog_new(const char *datadir, size_t max_open);

/* Close every file and free. All peers must have been freed. Accepts NULL. */
void msglog_free(struct msglog *ml);

/* One peer's pair of files, named from `addr` ("ip:port" / "[v6]:port").
 * Opens nothing yet. NULL on allocation failure. */
struct msglog_peer *msglog_peer_new(struct msglog *ml, const char *addr);

/* Close the peer's files and free it. Accepts NULL. */
void msglog_peer_free(struct msglog_peer *mp);

/*
 * Append one record (`sent`: to msgs_sent.dat, else msgs_recv.dat).
 * Returns 0, or -1 if the record could not be written in full (logged
 * once per file; later writes try again).
 */
int msglog_write(struct msglog_peer *mp, bool sent, const char *msgtype,
		 const uint8_t *payload, size_t len);

/* The directory name for an address: every ':' replaced by '_'. `out`
 * holds at least strlen(addr) + 1 bytes. */
void msglog_dirname(const char *addr, char *out);

/* Files open right now, across all peers (for tests and the fd budget). */
size_t msglog_open_files(const struct msglog *ml);

#endif
