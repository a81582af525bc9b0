/*
 * Unit tests for src/msglog.c: the files -logmessages writes, read back
 * byte for byte against doc/message-logging.md (8-byte LE time in µs,
 * 12-byte NUL-padded type, 4-byte LE length, payload), the directory
 * names, the open-file budget, and recovery after a failed write.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "msglog.h"
#include "unit.h"
#include "util.h"

/* The whole file at dir/rel (malloc'd) and its size; NULL if missing. */
static uint8_t *slurp(const char *dir, const char *rel, size_t *len)
{
	char path[512];
	FILE *f;
	uint8_t *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc(n > 0 ? (size_t)n : 1);
	*len = fread(buf, 1, (size_t)n, f);
	fclose(f);
	return buf;
}

static uint64_t get_le(const uint8_t *p, int bytes)
{
	uint64_t v = 0;

	for (int i = bytes - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/*
 * Check one record at *pos: time in [t0, t1], the 12 type bytes exactly
 * `type12`, then len and payload. Returns the record's time and advances
 * *pos (0 if the record is not all there).
 */
static uint64_t check_record(const uint8_t *buf, size_t size, size_t *pos, int64_t t0,
			     int64_t t1, const char type12[12], const uint8_t *payload,
			     size_t len)
{
	const uint8_t *r = buf + *pos;
	uint64_t t;

	CHECK(size - *pos >= 24 + len);
	if (size - *pos < 24 + len)
		return 0;
	t = get_le(r, 8);
	CHECK(t >= (uint64_t)t0 && t <= (uint64_t)t1);
	CHECK(memcmp(r + 8, type12, 12) == 0);
	CHECK_EQ_INT(get_le(r + 20, 4), len);
	CHECK(len == 0 || memcmp(r + 24, payload, len) == 0);
	*pos += 24 + len;
	return t;
}

UNIT_TEST(msglog_dirname_replaces_colons)
{
	char out[64];

	msglog_dirname("127.0.0.1:28444", out);
	CHECK_EQ_STR(out, "127.0.0.1_28444");
	msglog_dirname("[::1]:28444", out);
	CHECK_EQ_STR(out, "[__1]_28444");
	msglog_dirname("[2001:db8::ff00:42:8329]:8333", out);
	CHECK_EQ_STR(out, "[2001_db8__ff00_42_8329]_8333");
	msglog_dirname("", out);
	CHECK_EQ_STR(out, "");
}

UNIT_TEST(msglog_records_byte_for_byte)
{
	char dir[64];
	static const uint8_t version[5] = { 0x7f, 0x11, 0x01, 0x00, 0xff };
	static const uint8_t ping[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct msglog *ml;
	struct msglog_peer *mp;
	int64_t t0, t1;
	uint8_t *recv, *sent;
	size_t nrecv = 0, nsent = 0, pos;
	uint64_t ta, tb;

	REQUIRE(unit_tmpdir(dir, sizeof(dir), "msglog") != NULL);
	ml = msglog_new(dir, MSGLOG_DEFAULT_MAX_OPEN);
	mp = msglog_peer_new(ml, "127.0.0.1:28444");
	REQUIRE(ml != NULL && mp != NULL);
	CHECK_EQ_INT(msglog_open_files(ml), 0); /* nothing opened yet */

	t0 = util_time_us();
	CHECK_EQ_INT(msglog_write(mp, false, "version", version, sizeof(version)), 0);
	CHECK_EQ_INT(msglog_write(mp, true, "verack", NULL, 0), 0);
	CHECK_EQ_INT(msglog_write(mp, false, "ping", ping, sizeof(ping)), 0);
	t1 = util_time_us();
	CHECK_EQ_INT(msglog_open_files(ml), 2);

	/* On disk when the call returns: read while still open. */
	recv = slurp(dir, "message_logging/127.0.0.1_28444/msgs_recv.dat", &nrecv);
	sent = slurp(dir, "message_logging/127.0.0.1_28444/msgs_sent.dat", &nsent);
	CHECK(recv != NULL && sent != NULL);
	CHECK_EQ_INT(nrecv, 24 + 5 + 24 + 8);
	CHECK_EQ_INT(nsent, 24);
	if (recv && nrecv == 61) {
		pos = 0;
		ta = check_record(recv, nrecv, &pos, t0, t1, "version\0\0\0\0\0", version, 5);
		tb = check_record(recv, nrecv, &pos, t0, t1, "ping\0\0\0\0\0\0\0\0", ping, 8);
		CHECK(ta <= tb);
		CHECK_EQ_INT(pos, nrecv);
	}
	if (sent && nsent == 24) {
		pos = 0;
		check_record(sent, nsent, &pos, t0, t1, "verack\0\0\0\0\0\0", NULL, 0);
		/* The exact layout once more, from the raw bytes. */
		CHECK(memcmp(sent + 8, "verack\0\0\0\0\0\0\0\0\0\0", 16) == 0);
	}
	free(recv);
	free(sent);

	msglog_peer_free(mp);
	CHECK_EQ_INT(msglog_open_files(ml), 0);

	/* A new peer object for the same address appends. */
	mp = msglog_peer_new(ml, "127.0.0.1:28444");
	t0 = util_time_us();
	CHECK_EQ_INT(msglog_write(mp, true, "pong", ping, sizeof(ping)), 0);
	t1 = util_time_us();
	sent = slurp(dir, "message_logging/127.0.0.1_28444/msgs_sent.dat", &nsent);
	CHECK_EQ_INT(nsent, 24 + 24 + 8);
	if (sent && nsent == 56) {
		pos = 24;
		check_record(sent, nsent, &pos, t0, t1, "pong\0\0\0\0\0\0\0\0", ping, 8);
	}
	free(sent);

	/* A payload longer than 65535 bytes: all length bytes in LE order. */
	{
		size_t big = 0x012345; /* 74565 */
		uint8_t *p = malloc(big);

		for (size_t i = 0; i < big; i++)
			p[i] = (uint8_t)(i * 7);
		t0 = util_time_us();
		CHECK_EQ_INT(msglog_write(mp, true, "block", p, big), 0);
		t1 = util_time_us();
		sent = slurp(dir, "message_logging/127.0.0.1_28444/msgs_sent.dat", &nsent);
		CHECK_EQ_INT(nsent, 56 + 24 + big);
		if (sent && nsent == 56 + 24 + big) {
			CHECK(memcmp(sent + 56 + 20, "\x45\x23\x01\x00", 4) == 0);
			pos = 56;
			check_record(sent, nsent, &pos, t0, t1, "block\0\0\0\0\0\0\0", p, big);
		}
		free(sent);
		free(p);
	}
	msglog_peer_free(mp);
	msglog_free(ml);
	unit_rmtree(dir);
}

UNIT_TEST(msglog_type_field_is_twelve_bytes)
{
	char dir[64];
	struct msglog *ml;
	struct msglog_peer *mp;
	uint8_t *buf;
	size_t n = 0;
	static const uint8_t one[1] = { 0x42 };

	REQUIRE(unit_tmpdir(dir, sizeof(dir), "msglog") != NULL);
	ml = msglog_new(dir, 4);
	mp = msglog_peer_new(ml, "10.0.0.1:1");
	CHECK_EQ_INT(msglog_write(mp, true, "abcdefghijkl", one, 1), 0);   /* exactly 12 */
	CHECK_EQ_INT(msglog_write(mp, true, "abcdefghijklmn", one, 1), 0); /* cut to 12 */
	CHECK_EQ_INT(msglog_write(mp, true, "", one, 1), 0);               /* all NUL */
	buf = slurp(dir, "message_logging/10.0.0.1_1/msgs_sent.dat", &n);
	CHECK_EQ_INT(n, 3 * 25);
	if (buf && n == 75) {
		CHECK(memcmp(buf + 8, "abcdefghijkl\x01\0\0\0\x42", 17) == 0);
		CHECK(memcmp(buf + 25 + 8, "abcdefghijkl\x01\0\0\0\x42", 17) == 0);
		CHECK(memcmp(buf + 50 + 8, "\0\0\0\0\0\0\0\0\0\0\0\0\x01\0\0\0\x42", 17) == 0);
	}
	free(buf);
	msglog_free(ml); /* frees the peer too */
	unit_rmtree(dir);
}

UNIT_TEST(msglog_ipv6_directory)
{
	char dir[64], path[256];
	struct msglog *ml;
	struct msglog_peer *mp;
	struct stat st;
	uint8_t *buf;
	size_t n = 0;
	static const uint8_t payload[3] = { 9, 8, 7 };

	REQUIRE(unit_tmpdir(dir, sizeof(dir), "msglog") != NULL);
	ml = msglog_new(dir, 8);
	mp = msglog_peer_new(ml, "[::1]:28444");
	CHECK_EQ_INT(msglog_write(mp, false, "inv", payload, 3), 0);
	snprintf(path, sizeof(path), "%s/message_logging/[__1]_28444", dir);
	CHECK(stat(path, &st) == 0 && S_ISDIR(st.st_mode));
	buf = slurp(dir, "message_logging/[__1]_28444/msgs_recv.dat", &n);
	CHECK_EQ_INT(n, 27);
	if (buf && n == 27)
		CHECK(memcmp(buf + 8, "inv\0\0\0\0\0\0\0\0\0\x03\0\0\0\x09\x08\x07", 19) == 0);
	free(buf);
	/* Nothing sent: no msgs_sent.dat. */
	snprintf(path, sizeof(path), "%s/message_logging/[__1]_28444/msgs_sent.dat", dir);
	CHECK(stat(path, &st) != 0);
	msglog_peer_free(mp);
	msglog_free(ml);
	unit_rmtree(dir);
}

UNIT_TEST(msglog_open_file_budget)
{
	char dir[64], rel[128];
	struct msglog *ml;
	struct msglog_peer *p[3];
	static const char *const names[3] = { "1.1.1.1:1", "2.2.2.2:2", "[::2]:3" };
	static const char *const dirs[3] = { "1.1.1.1_1", "2.2.2.2_2", "[__2]_3" };
	uint8_t b;

	REQUIRE(unit_tmpdir(dir, sizeof(dir), "msglog") != NULL);
	ml = msglog_new(dir, 2);
	for (int i = 0; i < 3; i++)
		p[i] = msglog_peer_new(ml, names[i]);
	/* 5 rounds, each peer writing in both directions: 6 files, at most 2
	 * open at any time, every record kept (closed files reopen to append). */
	for (int round = 0; round < 5; round++) {
		for (int i = 0; i < 3; i++) {
			b = (uint8_t)(round * 16 + i);
			CHECK_EQ_INT(msglog_write(p[i], false, "a", &b, 1), 0);
			CHECK(msglog_open_files(ml) <= 2);
			b |= 0x80;
			CHECK_EQ_INT(msglog_write(p[i], true, "b", &b, 1), 0);
			CHECK(msglog_open_files(ml) <= 2);
		}
	}
	CHECK_EQ_INT(msglog_open_files(ml), 2);
	for (int i = 0; i < 3; i++) {
		for (int k = 0; k < 2; k++) {
			uint8_t *buf;
			size_t n = 0;

			snprintf(rel, sizeof(rel), "message_logging/%s/%s", dirs[i],
				 k ? "msgs_sent.dat" : "msgs_recv.dat");
			buf = slurp(dir, rel, &n);
			CHECK_EQ_INT(n, 5 * 25);
			for (int round = 0; buf && n == 125 && round < 5; round++) {
				const uint8_t *r = buf + round * 25;

				CHECK_EQ_INT(r[8], k ? 'b' : 'a');
				CHECK_EQ_INT(get_le(r + 20, 4), 1);
				CHECK_EQ_INT(r[24], (round * 16 + i) | (k ? 0x80 : 0));
			}
			free(buf);
		}
	}
	/* The least recently written are closed: the last writer was p[2]
	 * (recv then sent), so those two are the open ones. */
	msglog_peer_free(p[0]);
	msglog_peer_free(p[1]);
	CHECK_EQ_INT(msglog_open_files(ml), 2);
	msglog_peer_free(p[2]);
	CHECK_EQ_INT(msglog_open_files(ml), 0);
	msglog_free(ml);
	unit_rmtree(dir);
}

/* Count lines containing `needle` in a file. */
static int count_lines(const char *path, const char *needle)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

UNIT_TEST(msglog_failed_write_is_logged_once_and_retried)
{
	char dir[64], datadir[128], logpath[128], err[256];
	struct msglog *ml;
	struct msglog_peer *mp;
	static const uint8_t x[2] = { 0xaa, 0xbb };
	uint8_t *buf;
	size_t n = 0;

	REQUIRE(unit_tmpdir(dir, sizeof(dir), "msglog") != NULL);
	snprintf(datadir, sizeof(datadir), "%s/not-yet", dir);
	snprintf(logpath, sizeof(logpath), "%s/debug.log", dir);
	CHECK_EQ_INT(log_open(logpath, false, err, sizeof(err)), 0);

	ml = msglog_new(datadir, 4);
	mp = msglog_peer_new(ml, "5.5.5.5:5");
	/* DATADIR does not exist: message_logging cannot be created. */
	CHECK_EQ_INT(msglog_write(mp, false, "tx", x, 2), -1);
	CHECK_EQ_INT(msglog_write(mp, false, "tx", x, 2), -1);
	CHECK_EQ_INT(msglog_write(mp, true, "tx", x, 2), -1);
	CHECK_EQ_INT(msglog_open_files(ml), 0);
	/* Once per file: recv once, sent once. */
	CHECK_EQ_INT(count_lines(logpath, "msglog: write to"), 2);
	CHECK_EQ_INT(count_lines(logpath, "msgs_recv.dat failed"), 1);

	/* Later writes try again and succeed once the directory exists. */
	CHECK_EQ_INT(mkdir(datadir, 0755), 0);
	CHECK_EQ_INT(msglog_write(mp, false, "tx", x, 2), 0);
	buf = slurp(datadir, "message_logging/5.5.5.5_5/msgs_recv.dat", &n);
	CHECK_EQ_INT(n, 26);
	if (buf && n == 26)
		CHECK(memcmp(buf + 8, "tx\0\0\0\0\0\0\0\0\0\0\x02\0\0\0\xaa\xbb", 18) == 0);
	free(buf);
	CHECK_EQ_INT(count_lines(logpath, "msglog: write to"), 2);
	log_close();

	msglog_free(ml);
	unit_rmtree(dir);
}

/*
 * A write that fails halfway (here: the file size limit, as a full disk
 * would) leaves no partial record: the next record starts right after the
 * last whole one.
 */
UNIT_TEST(msglog_failed_write_leaves_whole_records)
{
	char dir[64];
	static uint8_t big[1000];
	static const uint8_t x[2] = { 0xaa, 0xbb };
	struct msglog *ml;
	struct msglog_peer *mp;
	struct rlimit old, small;
	void (*old_xfsz)(int);
	uint8_t *buf;
	size_t n = 0, pos = 0;

	REQUIRE(unit_tmpdir(dir, sizeof(dir), "msglog") != NULL);
	ml = msglog_new(dir, 4);
	mp = msglog_peer_new(ml, "6.6.6.6:6");
	CHECK_EQ_INT(msglog_write(mp, true, "tx", x, 2), 0);

	/* Room for 500 bytes: the 1,024-byte record is cut off by the kernel. */
	CHECK_EQ_INT(getrlimit(RLIMIT_FSIZE, &old), 0);
	small = old;
	small.rlim_cur = 26 + 500;
	old_xfsz = signal(SIGXFSZ, SIG_IGN);
	CHECK_EQ_INT(setrlimit(RLIMIT_FSIZE, &small), 0);
	CHECK_EQ_INT(msglog_write(mp, true, "block", big, sizeof(big)), -1);
	CHECK_EQ_INT(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, old_xfsz);

	CHECK_EQ_INT(msglog_write(mp, true, "tx", x, 2), 0);
	buf = slurp(dir, "message_logging/6.6.6.6_6/msgs_sent.dat", &n);
	CHECK_EQ_INT(n, 52);
	if (buf && n == 52) {
		check_record(buf, n, &pos, 0, INT64_MAX, "tx\0\0\0\0\0\0\0\0\0\0", x, 2);
		check_record(buf, n, &pos, 0, INT64_MAX, "tx\0\0\0\0\0\0\0\0\0\0", x, 2);
	}
	free(buf);
	msglog_peer_free(mp);
	msglog_free(ml);
	unit_rmtree(dir);
}

UNIT_TEST(msglog_peer_address_too_long)
{
	struct msglog *ml = msglog_new("/nonexistent", 1);
	char longaddr[200];

	memset(longaddr, '1', sizeof(longaddr) - 1);
	longaddr[sizeof(longaddr) - 1] = '\0';
	CHECK(msglog_peer_new(ml, longaddr) == NULL);
	msglog_peer_free(NULL);
	msglog_free(ml);
	msglog_free(NULL);
}

/* Every _free (and _clear) accepts NULL, as free() does: the test is that
 * these calls return (the sanitizer run catches a NULL dereference). */
UNIT_TEST(msglog_free_functions_accept_null)
{
	msglog_free(NULL);
	msglog_peer_free(NULL);
}
