/*
 * tracestream_os.c — the platform-specific calls of lib/tracestream.
 *
 * Linux and FreeBSD: memfd_create() with seals, SO_PEERCRED or
 * getpeereid(). macOS and other POSIX systems: shm_open() under a random
 * name, unlinked at once, and getpeereid() where the system has it.
 */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE
#endif
#include "tracestream_os.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#if defined(__linux__) || (defined(__FreeBSD__) && __FreeBSD__ >= 13)
#define TS_HAVE_MEMFD 1
#endif

static int fail(char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s: %s", what, strerror(errno));
	return -1;
}

#ifdef TS_HAVE_MEMFD
int tracestream_os_shm(size_t len, char *err, size_t errlen)
{
	int fd = memfd_create("tracestream-ring", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0)
		return fail(err, errlen, "memfd_create");
	if (ftruncate(fd, (off_t)len) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		fail(err, errlen, "sizing the ring");
		close(fd);
		return -1;
	}
	return fd;
}
#else
int tracestream_os_shm(size_t len, char *err, size_t errlen)
{
	char name[32];
	int fd = -1;

	for (int tries = 0; tries < 16 && fd < 0; tries++) {
		struct timespec now;

		clock_gettime(CLOCK_REALTIME, &now);
		snprintf(name, sizeof(name), "/trs.%ld.%lx", (long)getpid(),
			 (unsigned long)now.tv_nsec ^ (unsigned long)tries);
		fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
		if (fd < 0 && errno != EEXIST)
			return fail(err, errlen, "shm_open");
	}
	if (fd < 0)
		return fail(err, errlen, "shm_open");
	shm_unlink(name);
	if (ftruncate(fd, (off_t)len) < 0) {
		fail(err, errlen, "sizing the ring");
		close(fd);
		return -1;
	}
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	return fd;
}
#endif

int tracestream_os_peer_uid(int fd, uid_t *uid)
{
#if defined(SO_PEERCRED) && defined(__linux__)
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -1;
	*uid = cred.uid;
	return 0;
#elif defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) || \
	defined(__NetBSD__)
	gid_t gid;

	return getpeereid(fd, uid, &gid);
#else
	(void)fd;
	(void)uid;
	return -1;
#endif
}

void tracestream_os_nosigpipe(int fd)
{
#ifdef SO_NOSIGPIPE
	int one = 1;

	setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof(one));
#else
	(void)fd;
#endif
}

int tracestream_os_send_flags(void)
{
#ifdef MSG_NOSIGNAL
	return MSG_NOSIGNAL;
#else
	return 0;
#endif
}
