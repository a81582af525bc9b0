/*
 * msglog.c — per-peer message log files with a cap on open descriptors.
 *
 * Each record is written with one writev (retried on short writes), so a
 * reader that polls the file sees whole records almost always, and nothing
 * sits in a user-space buffer: a record is on disk when the call returns.
 */
#include "msglog.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define MSGLOG_DIR "message_logging"

struct msglog_peer {
	struct msglog *ml;
	char dir[PATH_MAX + 192];
	int fd[2];           /* [0] recv, [1] sent; -1 when closed */
	off_t size[2];       /* bytes of whole records in each open file */
	uint64_t last_use[2];
	bool warned[2];      /* a failure has been logged */
	struct msglog_peer *prev, *next;
};

struct msglog {
	char root[PATH_MAX]; /* DATADIR/message_logging */
	size_t max_open, open;
	uint64_t clock;      /* use counter for least-recently-used */
	struct msglog_peer *peers;
};

static const char *const file_names[2] = { "msgs_recv.dat", "msgs_sent.dat" };

struct msglog *msglog_new(const char *datadir, size_t max_open)
{
	struct msglog *ml = calloc(1, sizeof(*ml));

	if (!ml)
		return NULL;
	snprintf(ml->root, sizeof(ml->root), "%s/" MSGLOG_DIR, datadir);
	ml->max_open = max_open ? max_open : 1;
	return ml;
}

void msglog_free(struct msglog *ml)
{
	while (ml && ml->peers)
		msglog_peer_free(ml->peers);
	free(ml);
}

void msglog_dirname(const char *addr, char *out)
{
	size_t i;

	for (i = 0; addr[i]; i++)
		out[i] = addr[i] == ':' ? '_' : addr[i];
	out[i] = '\0';
}

struct msglog_peer *msglog_peer_new(struct msglog *ml, const char *addr)
{
	struct msglog_peer *mp = calloc(1, sizeof(*mp));
	char name[128];

	if (!mp)
		return NULL;
	if (strlen(addr) >= sizeof(name)) {
		free(mp);
		return NULL;
	}
	msglog_dirname(addr, name);
	snprintf(mp->dir, sizeof(mp->dir), "%s/%s", ml->root, name);
	mp->ml = ml;
	mp->fd[0] = mp->fd[1] = -1;
	mp->next = ml->peers;
	if (ml->peers)
		ml->peers->prev = mp;
	ml->peers = mp;
	return mp;
}

static void file_close(struct msglog_peer *mp, int k)
{
	if (mp->fd[k] >= 0) {
		close(mp->fd[k]);
		mp->fd[k] = -1;
		mp->ml->open--;
	}
}

void msglog_peer_free(struct msglog_peer *mp)
{
	if (!mp)
		return;
	file_close(mp, 0);
	file_close(mp, 1);
	if (mp->prev)
		mp->prev->next = mp->next;
	else
		mp->ml->peers = mp->next;
	if (mp->next)
		mp->next->prev = mp->prev;
	free(mp);
}

size_t msglog_open_files(const struct msglog *ml)
{
	return ml->open;
}

/* Close the least recently written file of any peer, to stay in budget. */
static void close_lru(struct msglog *ml)
{
	struct msglog_peer *victim = NULL;
	int vk = 0;

	for (struct msglog_peer *mp = ml->peers; mp; mp = mp->next) {
		for (int k = 0; k < 2; k++) {
			if (mp->fd[k] >= 0 &&
			    (!victim || mp->last_use[k] < victim->last_use[vk])) {
				victim = mp;
				vk = k;
			}
		}
	}
	if (victim)
		file_close(victim, vk);
}

static int mkdir_one(const char *path)
{
	return mkdir(path, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

static int file_open(struct msglog_peer *mp, int k)
{
	char path[PATH_MAX + 256];
	struct stat st;

	if (mp->fd[k] >= 0)
		return 0;
	if (mkdir_one(mp->ml->root) < 0 || mkdir_one(mp->dir) < 0)
		return -1;
	while (mp->ml->open >= mp->ml->max_open)
		close_lru(mp->ml);
	snprintf(path, sizeof(path), "%s/%s", mp->dir, file_names[k]);
	mp->fd[k] = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (mp->fd[k] < 0)
		return -1;
	mp->ml->open++;
	if (fstat(mp->fd[k], &st) < 0) {
		file_close(mp, k);
		return -1;
	}
	mp->size[k] = st.st_size;
	return 0;
}

/* writev all of iov, retrying short writes. 0 or -1 (errno set). */
static int write_all(int fd, struct iovec *iov, int n)
{
	while (n > 0) {
		ssize_t w = writev(fd, iov, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

static void put_le(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

int msglog_write(struct msglog_peer *mp, bool sent, const char *msgtype,
		 const uint8_t *payload, size_t len)
{
	int k = sent ? 1 : 0;
	uint8_t head[24] = { 0 };
	struct iovec iov[2] = { { head, sizeof(head) }, { (void *)payload, len } };
	int err;

	put_le(head, (uint64_t)util_time_us(), 8);
	memcpy(head + 8, msgtype, strnlen(msgtype, 12));
	put_le(head + 20, len, 4);
	mp->last_use[k] = ++mp->ml->clock;
	if (file_open(mp, k) == 0) {
		if (write_all(mp->fd[k], iov, len ? 2 : 1) == 0) {
			mp->size[k] += (off_t)(sizeof(head) + len);
			mp->warned[k] = false;
			return 0;
		}
		err = errno;
		/* Cut off what part of the record got written (a full disk, a
		 * file size limit), so the file keeps whole records only and
		 * the next one starts where a reader expects it. */
		if (ftruncate(mp->fd[k], mp->size[k]) < 0)
			log_printf("msglog: cannot cut a partial record off %s/%s: %s",
				   mp->dir, file_names[k], strerror(errno));
		errno = err;
	}
	if (!mp->warned[k])
		log_printf("msglog: write to %s/%s failed: %s", mp->dir, file_names[k],
			   strerror(errno));
	mp->warned[k] = true;
	file_close(mp, k); /* reopen on the next record */
	return -1;
}
