/*
 * tracestream_os.h — the calls that differ between Linux, macOS and FreeBSD,
 * kept to tracestream_os.c. Internal to lib/tracestream.
 */
#ifndef TRACESTREAM_OS_H
#define TRACESTREAM_OS_H

#include <stddef.h>
#include <sys/types.h>

/*
 * A shared-memory object of `len` bytes that the holder of the returned
 * descriptor can map but not resize where the system can forbid it
 * (Linux and FreeBSD seals; on macOS a POSIX shm object cannot be resized
 * once sized). A resize would turn the server's writes into SIGBUS.
 * Returns the descriptor, or -1 with a message in err.
 */
int tracestream_os_shm(size_t len, char *err, size_t errlen);

/* The effective uid of the process at the other end of a connected Unix
 * socket: 0 and *uid set, or -1 when the system cannot tell. */
int tracestream_os_peer_uid(int fd, uid_t *uid);

/* Make writes to a peer that went away return EPIPE instead of raising
 * SIGPIPE (SO_NOSIGPIPE where it exists; Linux uses MSG_NOSIGNAL). */
void tracestream_os_nosigpipe(int fd);

/* Flags for send(): MSG_NOSIGNAL where it exists. */
int tracestream_os_send_flags(void);

#endif /* TRACESTREAM_OS_H */
