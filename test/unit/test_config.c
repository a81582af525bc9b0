/*
 * Unit tests for src/config.c: every documented option from argv and from
 * moneyrocket.conf, booleans and their -no forms, list options collecting
 * from both sources, the command line winning over the file, the range of
 * every integer option at and beyond its limits, and the error message of
 * each kind of bad input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "unit.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Parse argv (argv[0] is the program) into a fresh config; returns the rc. */
static int parse(struct config *cfg, int argc, char **argv, char *err, size_t errlen)
{
	config_init(cfg);
	err[0] = '\0';
	return config_parse_args(cfg, argc, argv, NULL, err, errlen);
}

/* One option alone on the command line: rc, with the message in err. */
static int parse_one(const char *arg, char *err, size_t errlen)
{
	struct config cfg;
	char *argv[] = { "moneyrocketd", (char *)arg };
	int rc = parse(&cfg, 2, argv, err, errlen);

	config_free(&cfg);
	return rc;
}

/* A temporary directory with a moneyrocket.conf holding `text`. */
struct conf_file {
	char dir[64];
	char path[128];
};

static int conf_write(struct conf_file *cf, const char *text)
{
	FILE *f;

	if (!unit_tmpdir(cf->dir, sizeof(cf->dir), "config"))
		return -1;
	snprintf(cf->path, sizeof(cf->path), "%s/" CONFIG_FILE_NAME, cf->dir);
	f = fopen(cf->path, "w");
	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

static void conf_remove(struct conf_file *cf)
{
	unit_rmtree(cf->dir);
}

/* Read `text` as a config file into cfg (already initialised). */
static int read_text(struct config *cfg, const char *text, char *err, size_t errlen,
		     char *path_out, size_t path_cap)
{
	struct conf_file cf;
	int rc;

	if (conf_write(&cf, text) < 0)
		return -99;
	err[0] = '\0';
	rc = config_read_file(cfg, cf.path, err, errlen);
	if (path_out)
		snprintf(path_out, path_cap, "%s", cf.path);
	conf_remove(&cf);
	return rc;
}

UNIT_TEST(config_defaults)
{
	struct config cfg;
	char *old = getenv("HOME") ? strdup(getenv("HOME")) : NULL;

	setenv("HOME", "/home/tester", 1);
	config_init(&cfg);
	CHECK_EQ_STR(cfg.datadir, "/home/tester/.moneyrocket");
	CHECK_EQ_INT(cfg.port, 28444);
	CHECK_EQ_INT(cfg.rpcport, 28443);
	CHECK(cfg.listen);
	CHECK(!cfg.connect_only);
	CHECK(!cfg.logmessages);
	CHECK(!cfg.printtoconsole);
	CHECK(!cfg.help);
	CHECK(!cfg.version);
	CHECK_EQ_INT(cfg.debug_mask, 0);
	CHECK_EQ_INT(cfg.bind.n + cfg.connect.n + cfg.addnode.n + cfg.seednode.n, 0);
	CHECK_EQ_INT(cfg.maxconnections, 125);
	CHECK_EQ_INT(cfg.discouragetime, 86400);
	CHECK_EQ_INT(cfg.handshaketimeout, 60);
	CHECK_EQ_INT(cfg.blockdownloadtimeout, 60);
	CHECK_EQ_INT(cfg.whitelist.n, 0);
	CHECK_EQ_INT(cfg.feelerinterval, 120);
	CHECK_EQ_INT(cfg.dbcache, 450);
	CHECK_EQ_INT(cfg.flushinterval, 3600);
	CHECK_EQ_INT(cfg.maxmempool, 300);
	CHECK_EQ_INT(cfg.mempoolexpiry, 336);
	CHECK_EQ_INT(cfg.minrelaytxfee, 1000);
	config_free(&cfg);

	unsetenv("HOME");
	config_init(&cfg);
	CHECK_EQ_STR(cfg.datadir, "./.moneyrocket");
	config_free(&cfg);

	if (old) {
		setenv("HOME", old, 1);
		free(old);
	}
}

UNIT_TEST(config_every_option_from_argv)
{
	struct config cfg;
	char err[256];
	char *argv[] = {
		"moneyrocketd",
		"-datadir=/var/lib/mr",
		"--port=18444",
		"-rpcport=18443",
		"-bind=127.0.0.1",
		"-bind=[::1]:9000",
		"-listen=0",
		"-connect=10.0.0.1:8333",
		"-addnode=10.0.0.2",
		"-seednode=[2001:db8::1]:7",
		"-maxconnections=7",
		"-logmessages",
		"-printtoconsole=1",
		"-debug=net",
		"-discouragetime=30",
		"-handshaketimeout=5",
		"-feelerinterval=9",
		"-dbcache=16",
		"-flushinterval=10",
		"-maxmempool=5",
		"-mempoolexpiry=2",
		"-minrelaytxfee=0",
		"-version",
	};

	CHECK_EQ_INT(parse(&cfg, ARGC(argv), argv, err, sizeof(err)), 0);
	CHECK_EQ_STR(err, "");
	CHECK_EQ_STR(cfg.datadir, "/var/lib/mr");
	CHECK_EQ_INT(cfg.port, 18444);
	CHECK_EQ_INT(cfg.rpcport, 18443);
	CHECK_EQ_INT(cfg.bind.n, 2);
	if (cfg.bind.n == 2) {
		CHECK_EQ_STR(cfg.bind.items[0], "127.0.0.1");
		CHECK_EQ_STR(cfg.bind.items[1], "[::1]:9000");
	}
	CHECK(!cfg.listen);
	CHECK_EQ_INT(cfg.connect.n, 1);
	if (cfg.connect.n == 1)
		CHECK_EQ_STR(cfg.connect.items[0], "10.0.0.1:8333");
	CHECK(cfg.connect_only);
	CHECK_EQ_INT(cfg.addnode.n, 1);
	if (cfg.addnode.n == 1)
		CHECK_EQ_STR(cfg.addnode.items[0], "10.0.0.2");
	CHECK_EQ_INT(cfg.seednode.n, 1);
	if (cfg.seednode.n == 1)
		CHECK_EQ_STR(cfg.seednode.items[0], "[2001:db8::1]:7");
	CHECK_EQ_INT(cfg.maxconnections, 7);
	CHECK(cfg.logmessages);
	CHECK(cfg.printtoconsole);
	CHECK_EQ_INT(cfg.debug_mask, LOG_NET);
	CHECK_EQ_INT(cfg.discouragetime, 30);
	CHECK_EQ_INT(cfg.handshaketimeout, 5);
	CHECK_EQ_INT(cfg.feelerinterval, 9);
	CHECK_EQ_INT(cfg.dbcache, 16);
	CHECK_EQ_INT(cfg.flushinterval, 10);
	CHECK_EQ_INT(cfg.maxmempool, 5);
	CHECK_EQ_INT(cfg.mempoolexpiry, 2);
	CHECK_EQ_INT(cfg.minrelaytxfee, 0);
	CHECK(cfg.version);
	CHECK(!cfg.help);
	CHECK_EQ_INT(config_validate(&cfg, err, sizeof(err)), 0);
	config_free(&cfg);
}

UNIT_TEST(config_repeatable_connect_keeps_order)
{
	struct config cfg;
	char err[256];
	char *argv[] = { "moneyrocketd", "-connect=1.2.3.4", "-connect=[::1]:8",
			 "-connect=5.6.7.8:9" };

	CHECK_EQ_INT(parse(&cfg, ARGC(argv), argv, err, sizeof(err)), 0);
	CHECK_EQ_INT(cfg.connect.n, 3);
	if (cfg.connect.n == 3) {
		CHECK_EQ_STR(cfg.connect.items[0], "1.2.3.4");
		CHECK_EQ_STR(cfg.connect.items[1], "[::1]:8");
		CHECK_EQ_STR(cfg.connect.items[2], "5.6.7.8:9");
	}
	CHECK(cfg.connect_only);
	config_free(&cfg);

	/* -connect=0 and -noconnect: no automatic outbound, nothing listed. */
	{
		char *a0[] = { "moneyrocketd", "-connect=0" };
		char *a1[] = { "moneyrocketd", "-noconnect" };

		CHECK_EQ_INT(parse(&cfg, ARGC(a0), a0, err, sizeof(err)), 0);
		CHECK(cfg.connect_only);
		CHECK_EQ_INT(cfg.connect.n, 0);
		config_free(&cfg);
		CHECK_EQ_INT(parse(&cfg, ARGC(a1), a1, err, sizeof(err)), 0);
		CHECK(cfg.connect_only);
		CHECK_EQ_INT(cfg.connect.n, 0);
		config_free(&cfg);
	}
}

UNIT_TEST(config_booleans_flags_and_debug)
{
	struct config cfg;
	char err[256];
	char *a[] = { "moneyrocketd", "-nolisten", "-logmessages=1", "-nologmessages",
		      "-printtoconsole", "-h" };
	char *b[] = { "moneyrocketd", "-?", "-listen", "-debug" };
	char *c[] = { "moneyrocketd", "-debug=net", "-debug=rpc" };
	char *d[] = { "moneyrocketd", "-debug=all", "-debug=0", "-debug=rpc" };
	char *e[] = { "moneyrocketd", "--help", "-debug=none" };

	CHECK_EQ_INT(parse(&cfg, ARGC(a), a, err, sizeof(err)), 0);
	CHECK(!cfg.listen);
	CHECK(!cfg.logmessages);
	CHECK(cfg.printtoconsole);
	CHECK(cfg.help);
	config_free(&cfg);

	CHECK_EQ_INT(parse(&cfg, ARGC(b), b, err, sizeof(err)), 0);
	CHECK(cfg.help);
	CHECK(cfg.listen);
	CHECK_EQ_INT(cfg.debug_mask, LOG_ALL); /* -debug alone: all */
	config_free(&cfg);

	CHECK_EQ_INT(parse(&cfg, ARGC(c), c, err, sizeof(err)), 0);
	CHECK_EQ_INT(cfg.debug_mask, LOG_NET | LOG_RPC);
	config_free(&cfg);

	/* -debug=0 clears what came before. */
	CHECK_EQ_INT(parse(&cfg, ARGC(d), d, err, sizeof(err)), 0);
	CHECK_EQ_INT(cfg.debug_mask, LOG_RPC);
	config_free(&cfg);

	CHECK_EQ_INT(parse(&cfg, ARGC(e), e, err, sizeof(err)), 0);
	CHECK(cfg.help);
	CHECK_EQ_INT(cfg.debug_mask, 0);
	config_free(&cfg);
}

UNIT_TEST(config_last_value_wins_on_the_command_line)
{
	struct config cfg;
	char err[256];
	char *a[] = { "moneyrocketd", "-port=1000", "-port=2000", "-listen=0", "-listen=1" };

	CHECK_EQ_INT(parse(&cfg, ARGC(a), a, err, sizeof(err)), 0);
	CHECK_EQ_INT(cfg.port, 2000);
	CHECK(cfg.listen);
	config_free(&cfg);
}

UNIT_TEST(config_positional_arguments)
{
	struct config cfg;
	char err[256];
	char *a[] = { "moneyrocket-cli", "-rpcport=5000", "addnode", "-port=1", "add" };
	char *b[] = { "moneyrocket-cli", "-rpcport=5000" };
	char *c[] = { "moneyrocket-cli", "-" };
	int pos = -1;

	config_init(&cfg);
	CHECK_EQ_INT(config_parse_args(&cfg, ARGC(a), a, &pos, err, sizeof(err)), 0);
	CHECK_EQ_INT(pos, 2);
	CHECK_EQ_INT(cfg.rpcport, 5000);
	CHECK_EQ_INT(cfg.port, 28444); /* after the method: not parsed */
	config_free(&cfg);

	config_init(&cfg);
	CHECK_EQ_INT(config_parse_args(&cfg, ARGC(b), b, &pos, err, sizeof(err)), 0);
	CHECK_EQ_INT(pos, 2);
	config_free(&cfg);

	/* A lone "-" is positional, not an option. */
	config_init(&cfg);
	CHECK_EQ_INT(config_parse_args(&cfg, ARGC(c), c, &pos, err, sizeof(err)), 0);
	CHECK_EQ_INT(pos, 1);
	config_free(&cfg);

	/* The daemon takes no positional arguments. */
	CHECK_EQ_INT(parse(&cfg, ARGC(a), a, err, sizeof(err)), -1);
	CHECK_EQ_STR(err, "unexpected argument 'addnode' (options start with '-')");
	config_free(&cfg);
}

UNIT_TEST(config_bad_options_and_values_name_the_option)
{
	static const struct {
		const char *arg, *message;
	} cases[] = {
		{ "-bogus=1", "unknown option -bogus" },
		{ "-nobogus", "unknown option -nobogus" },
		{ "-noport", "unknown option -noport" },
		{ "-nohelp", "unknown option -nohelp" },
		{ "-=1", "invalid option '-=1'" },
		{ "--", "invalid option '--'" },
		{ "-port", "option -port needs a value (-port=...)" },
		{ "-port=", "invalid value for -port: '' (expected an integer from 1 to 65535)" },
		{ "-port=abc", "invalid value for -port: 'abc' (expected an integer from 1 to 65535)" },
		{ "-port=80x", "invalid value for -port: '80x' (expected an integer from 1 to 65535)" },
		{ "-port= 80", "invalid value for -port: ' 80' (expected an integer from 1 to 65535)" },
		{ "-port=99999999999999999999",
		  "invalid value for -port: '99999999999999999999' (expected an integer from 1 to 65535)" },
		{ "-listen=2", "invalid value for -listen: '2' (expected 0 or 1)" },
		{ "-listen=yes", "invalid value for -listen: 'yes' (expected 0 or 1)" },
		{ "-nolisten=1", "-nolisten takes no value" },
		{ "-help=2", "invalid value for -help: '2' (expected 0 or 1)" },
		{ "-connect", "option -connect needs a value (-connect=...)" },
		{ "-connect=", "invalid address for -connect: '' (expected IP, IP:PORT or [IPv6]:PORT)" },
		{ "-connect=example.com",
		  "invalid address for -connect: 'example.com' (expected IP, IP:PORT or [IPv6]:PORT)" },
		{ "-addnode=1.2.3.4:0",
		  "invalid address for -addnode: '1.2.3.4:0' (expected IP, IP:PORT or [IPv6]:PORT)" },
		{ "-bind=::1", "invalid address for -bind: '::1' (expected IP, IP:PORT or [IPv6]:PORT)" },
		{ "-seednode=256.0.0.1",
		  "invalid address for -seednode: '256.0.0.1' (expected IP, IP:PORT or [IPv6]:PORT)" },
		{ "-debug=disk", "invalid value for -debug: 'disk' (expected net, rpc, all or 0)" },
		{ "-datadir", "option -datadir needs a value (-datadir=...)" },
		{ "-datadir=", "invalid value for -datadir: '' (expected a path)" },
		{ "-whitelist=10.0.0.0/33",
		  "invalid value for -whitelist: '10.0.0.0/33' (expected [PERMS@]IP[/BITS])" },
		{ "-whitelist=root@10.0.0.1",
		  "invalid value for -whitelist: 'root@10.0.0.1' (expected [PERMS@]IP[/BITS])" },
		{ "-blockdownloadtimeout=0",
		  "invalid value for -blockdownloadtimeout: '0' (expected an integer from 1 to 86400)" },
	};
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = parse_one(cases[i].arg, err, sizeof(err));

		if (rc != -1)
			fprintf(stderr, "  accepted \"%s\"\n", cases[i].arg);
		CHECK_EQ_INT(rc, -1);
		CHECK_EQ_STR(err, cases[i].message);
	}
}

UNIT_TEST(config_integer_limits)
{
	static const struct {
		const char *name;
		long long min, max;
	} lim[] = {
		{ "port", 1, 65535 },
		{ "rpcport", 1, 65535 },
		{ "maxconnections", 0, 100000 },
		{ "discouragetime", 1, 315360000 },
		{ "handshaketimeout", 1, 86400 },
		{ "feelerinterval", 1, 86400 },
		{ "dbcache", 1, 16384 },
		{ "flushinterval", 1, 86400 },
		{ "maxmempool", 1, 100000 },
		{ "mempoolexpiry", 1, 100000 },
		{ "minrelaytxfee", 0, 100000000 },
	};
	char arg[64], err[256], want[256];

	for (size_t i = 0; i < sizeof(lim) / sizeof(lim[0]); i++) {
		const long long v[4] = { lim[i].min, lim[i].max, lim[i].min - 1, lim[i].max + 1 };

		for (int k = 0; k < 4; k++) {
			int rc;

			snprintf(arg, sizeof(arg), "-%s=%lld", lim[i].name, v[k]);
			rc = parse_one(arg, err, sizeof(err));
			if (rc != (k < 2 ? 0 : -1))
				fprintf(stderr, "  %s gave %d\n", arg, rc);
			CHECK_EQ_INT(rc, k < 2 ? 0 : -1);
			if (k >= 2) {
				snprintf(want, sizeof(want),
					 "invalid value for -%s: '%lld' (expected an integer from %lld to %lld)",
					 lim[i].name, v[k], lim[i].min, lim[i].max);
				CHECK_EQ_STR(err, want);
			}
		}
	}

	/* The value lands in the field at both ends. */
	{
		struct config cfg;
		char *a[] = { "moneyrocketd", "-maxconnections=0", "-discouragetime=315360000" };

		CHECK_EQ_INT(parse(&cfg, ARGC(a), a, err, sizeof(err)), 0);
		CHECK_EQ_INT(cfg.maxconnections, 0);
		CHECK_EQ_INT(cfg.discouragetime, 315360000);
		config_free(&cfg);
	}
}

UNIT_TEST(config_every_option_from_file)
{
	static const char text[] =
		"# moneyrocket.conf\n"
		"\n"
		"port=18444\n"
		"  rpcport = 18443  \n"
		"bind=127.0.0.1:7000\n"
		"listen=0\n"
		"connect=10.0.0.1\n"
		"connect=[2001:db8::2]:99 # trailing comment\n"
		"addnode=10.0.0.2:1\n"
		"seednode=10.0.0.3\n"
		"maxconnections=12\n"
		"logmessages=1\n"
		"printtoconsole=1\n"
		"debug=rpc\n"
		"discouragetime=31\n"
		"handshaketimeout=6\n"
		"feelerinterval=8\n"
		"dbcache=20\n"
		"flushinterval=11\n"
		"maxmempool=6\n"
		"mempoolexpiry=3\n"
		"minrelaytxfee=500\r\n"
		"\t# indented comment\n"
		"nologmessages=\n";
	struct config cfg;
	char err[256];
	int rc;

	config_init(&cfg);
	rc = read_text(&cfg, text, err, sizeof(err), NULL, 0);
	/* "nologmessages=" has a value (empty): the -no form takes none. */
	CHECK_EQ_INT(rc, -1);
	CHECK(strstr(err, ":24: -nologmessages takes no value") != NULL);
	config_free(&cfg);

	config_init(&cfg);
	{
		char trimmed[sizeof(text)];
		char *cut;

		snprintf(trimmed, sizeof(trimmed), "%s", text);
		cut = strstr(trimmed, "nologmessages=");
		*cut = '\0';
		rc = read_text(&cfg, trimmed, err, sizeof(err), NULL, 0);
	}
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(cfg.port, 18444);
	CHECK_EQ_INT(cfg.rpcport, 18443);
	CHECK_EQ_INT(cfg.bind.n, 1);
	if (cfg.bind.n == 1)
		CHECK_EQ_STR(cfg.bind.items[0], "127.0.0.1:7000");
	CHECK(!cfg.listen);
	CHECK_EQ_INT(cfg.connect.n, 2);
	if (cfg.connect.n == 2) {
		CHECK_EQ_STR(cfg.connect.items[0], "10.0.0.1");
		CHECK_EQ_STR(cfg.connect.items[1], "[2001:db8::2]:99");
	}
	CHECK(cfg.connect_only);
	CHECK_EQ_INT(cfg.addnode.n, 1);
	CHECK_EQ_INT(cfg.seednode.n, 1);
	CHECK_EQ_INT(cfg.maxconnections, 12);
	CHECK(cfg.logmessages);
	CHECK(cfg.printtoconsole);
	CHECK_EQ_INT(cfg.debug_mask, LOG_RPC);
	CHECK_EQ_INT(cfg.discouragetime, 31);
	CHECK_EQ_INT(cfg.handshaketimeout, 6);
	CHECK_EQ_INT(cfg.feelerinterval, 8);
	CHECK_EQ_INT(cfg.dbcache, 20);
	CHECK_EQ_INT(cfg.flushinterval, 11);
	CHECK_EQ_INT(cfg.maxmempool, 6);
	CHECK_EQ_INT(cfg.mempoolexpiry, 3);
	CHECK_EQ_INT(cfg.minrelaytxfee, 500);
	CHECK_EQ_INT(config_validate(&cfg, err, sizeof(err)), 0);
	config_free(&cfg);
}

UNIT_TEST(config_command_line_wins_but_lists_collect)
{
	struct config cfg;
	char err[256];
	char *argv[] = { "moneyrocketd", "-port=1111", "-nolisten", "-connect=1.1.1.1",
			 "-debug=net" };
	int rc;

	CHECK_EQ_INT(parse(&cfg, ARGC(argv), argv, err, sizeof(err)), 0);
	rc = read_text(&cfg,
		       "port=2222\nrpcport=3333\nlisten=1\nconnect=2.2.2.2\ndebug=rpc\n",
		       err, sizeof(err), NULL, 0);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(cfg.port, 1111);    /* command line wins */
	CHECK_EQ_INT(cfg.rpcport, 3333); /* only in the file */
	CHECK(!cfg.listen);
	CHECK_EQ_INT(cfg.debug_mask, LOG_NET);
	CHECK_EQ_INT(cfg.connect.n, 2);  /* lists collect both, argv first */
	if (cfg.connect.n == 2) {
		CHECK_EQ_STR(cfg.connect.items[0], "1.1.1.1");
		CHECK_EQ_STR(cfg.connect.items[1], "2.2.2.2");
	}
	config_free(&cfg);
}

UNIT_TEST(config_file_errors_carry_path_and_line)
{
	static const struct {
		const char *text, *suffix;
	} cases[] = {
		{ "port=1\nlisten\n", ":2: expected key=value, got 'listen'" },
		{ "\n\n-port=5\n", ":3: write keys without '-': '-port'" },
		{ "datadir=/x\n", ":1: -datadir cannot be set in moneyrocket.conf" },
		{ "help=1\n", ":1: -help cannot be set in moneyrocket.conf" },
		{ "version=1\n", ":1: -version cannot be set in moneyrocket.conf" },
		{ "# c\nfoo=1\n", ":2: unknown option -foo" },
		{ "port=0\n", ":1: invalid value for -port: '0' (expected an integer from 1 to 65535)" },
		{ "port=\n", ":1: invalid value for -port: '' (expected an integer from 1 to 65535)" },
		{ "listen=true\n", ":1: invalid value for -listen: 'true' (expected 0 or 1)" },
		{ "addnode=x\n", ":1: invalid address for -addnode: 'x' (expected IP, IP:PORT or [IPv6]:PORT)" },
	};
	char err[512], path[128], want[640];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config cfg;
		int rc;

		config_init(&cfg);
		rc = read_text(&cfg, cases[i].text, err, sizeof(err), path, sizeof(path));
		CHECK_EQ_INT(rc, -1);
		snprintf(want, sizeof(want), "%s%s", path, cases[i].suffix);
		CHECK_EQ_STR(err, want);
		config_free(&cfg);
	}
}

UNIT_TEST(config_missing_file_is_fine)
{
	struct config cfg;
	char err[512];

	config_init(&cfg);
	err[0] = '\0';
	CHECK_EQ_INT(config_read_file(&cfg, "/nonexistent/dir/moneyrocket.conf", err,
				      sizeof(err)), 0);
	CHECK_EQ_STR(err, "");
	CHECK_EQ_INT(cfg.port, 28444);
	config_free(&cfg);
}

/* A comment longer than any line buffer is still one comment, and a long
 * line's tail is never read as a line of its own. */
UNIT_TEST(config_file_long_lines)
{
	struct config cfg;
	char err[512];
	size_t n = 1023 + 6; /* 1023: what fits a 1024-byte fgets buffer */
	char *text = malloc(3000 + 64);
	int rc;

	memset(text, 'x', n);
	text[0] = '#';
	/* The tail after 1023 bytes would look like "port=7" on its own. */
	memcpy(text + n - 6, "port=7", 6);
	snprintf(text + n, 64, "\nrpcport=9\n");
	config_init(&cfg);
	rc = read_text(&cfg, text, err, sizeof(err), NULL, 0);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(cfg.port, 28444);
	CHECK_EQ_INT(cfg.rpcport, 9);
	config_free(&cfg);

	/* A long value line is one value (here an invalid one), reported on
	 * line 1 and nowhere else. */
	n = 3000;
	memset(text, '1', n);
	memcpy(text, "port=", 5);
	snprintf(text + n, 64, "\n");
	config_init(&cfg);
	rc = read_text(&cfg, text, err, sizeof(err), NULL, 0);
	CHECK_EQ_INT(rc, -1);
	CHECK(strstr(err, ":1: invalid value for -port: '1111") != NULL);
	CHECK_EQ_INT(cfg.port, 28444);
	config_free(&cfg);
	free(text);
}

UNIT_TEST(config_validate_checks)
{
	struct config cfg;
	char err[256];
	char *same[] = { "moneyrocketd", "-port=5000", "-rpcport=5000" };
	char *ok[] = { "moneyrocketd", "-port=5000", "-rpcport=5001", "-bind=[::1]" };

	CHECK_EQ_INT(parse(&cfg, ARGC(same), same, err, sizeof(err)), 0);
	CHECK_EQ_INT(config_validate(&cfg, err, sizeof(err)), -1);
	CHECK_EQ_STR(err, "-port and -rpcport must differ (both 5000)");
	config_free(&cfg);

	CHECK_EQ_INT(parse(&cfg, ARGC(ok), ok, err, sizeof(err)), 0);
	CHECK_EQ_INT(config_validate(&cfg, err, sizeof(err)), 0);
	config_free(&cfg);

	/* Defaults validate. */
	config_init(&cfg);
	CHECK_EQ_INT(config_validate(&cfg, err, sizeof(err)), 0);

	/* A -bind entry that does not parse (only possible if set directly). */
	cfg.bind.items = malloc(sizeof(char *));
	cfg.bind.items[0] = strdup("not-an-address");
	cfg.bind.n = 1;
	CHECK_EQ_INT(config_validate(&cfg, err, sizeof(err)), -1);
	CHECK_EQ_STR(err, "invalid address for -bind: 'not-an-address'");
	config_free(&cfg);
	CHECK(cfg.bind.items == NULL);
	CHECK_EQ_INT(cfg.bind.n, 0);
	config_free(NULL);
}

UNIT_TEST(config_set_directly)
{
	struct config cfg;
	char err[256];

	config_init(&cfg);
	CHECK_EQ_INT(config_set(&cfg, "port", "4242", false, err, sizeof(err)), 0);
	CHECK_EQ_INT(cfg.port, 4242);
	/* From the file it no longer changes; a list option still collects. */
	CHECK_EQ_INT(config_set(&cfg, "port", "4343", true, err, sizeof(err)), 0);
	CHECK_EQ_INT(cfg.port, 4242);
	CHECK_EQ_INT(config_set(&cfg, "addnode", "9.9.9.9", false, err, sizeof(err)), 0);
	CHECK_EQ_INT(config_set(&cfg, "addnode", "8.8.8.8", true, err, sizeof(err)), 0);
	CHECK_EQ_INT(cfg.addnode.n, 2);
	CHECK(!cfg.connect_only); /* only -connect implies it */
	/* Boolean given without "=": true. */
	CHECK_EQ_INT(config_set(&cfg, "logmessages", NULL, false, err, sizeof(err)), 0);
	CHECK(cfg.logmessages);
	CHECK_EQ_INT(config_set(&cfg, "rpcport", NULL, false, err, sizeof(err)), -1);
	CHECK_EQ_STR(err, "option -rpcport needs a value (-rpcport=...)");
	config_free(&cfg);
}

UNIT_TEST(config_whitelist_is_repeatable)
{
	struct config cfg;
	char err[256];
	char *argv[] = { "moneyrocketd", "-whitelist=192.0.2.2", "-whitelist=noban,relay@10.0.0.0/8",
			 "-blockdownloadtimeout=5" };

	config_init(&cfg);
	CHECK_EQ_INT(config_parse_args(&cfg, 4, argv, NULL, err, sizeof(err)), 0);
	CHECK_EQ_INT(cfg.whitelist.n, 2);
	if (cfg.whitelist.n == 2) {
		CHECK_EQ_STR(cfg.whitelist.items[0], "192.0.2.2");
		CHECK_EQ_STR(cfg.whitelist.items[1], "noban,relay@10.0.0.0/8");
	}
	CHECK_EQ_INT(cfg.blockdownloadtimeout, 5);
	config_free(&cfg);
}

/* Every _free (and _clear) accepts NULL, as free() does: the test is that
 * these calls return (the sanitizer run catches a NULL dereference). */
UNIT_TEST(config_free_accepts_null)
{
	config_free(NULL);
}
