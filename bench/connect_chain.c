/*
 * connect_chain.c — how fast the node connects a chain of signed
 * transactions, and what its tracepoints cost there (make bench).
 *
 * USAGE:
 *   connect_chain generate FILE BLOCKS TXS_PER_BLOCK
 *       Mine a chain in a temporary chainstate and write its blocks
 *       (after genesis) to FILE: 110 blocks of coinbases, a few blocks
 *       fanning coinbases out into TXS_PER_BLOCK coins, then blocks of
 *       TXS_PER_BLOCK signed one-input, one-output P2PKH transactions
 *       until BLOCKS blocks. Not timed.
 *   connect_chain connect FILE [MAX_BLOCKS]
 *       Connect FILE's blocks (the first MAX_BLOCKS only, if given), in order, to a fresh chainstate in a
 *       temporary directory and print one line:
 *       "blocks B txs T inputs I seconds S cpu C" (wall and CPU seconds)
 *       (decoding, checks, signature verification, the coins cache and
 *       its flush at the end; -dbcache 450 MiB, as the node's default).
 *
 * scripts/bench.sh builds this twice, tracing compiled in and compiled
 * away (-DTRACE_DISABLE), generates the chain once and alternates the
 * two connect runs (bench/README.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "block.h"
#include "chainstate.h"
#include "key.h"
#include "miner.h"
#include "script.h"

#define FEE 1000   /* per transaction, sat */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU seconds (user + system) of this process: less disturbed than the
 * wall clock by whatever else the machine runs. */
static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

static void rm_rf(const char *dir)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "connect_chain: could not remove %s\n", dir);
}

static struct chainstate *open_temp(char dir[64])
{
	struct chain_params cp = { 450LL << 20, 3600 };
	char err[512];
	struct chainstate *cs;

	snprintf(dir, 64, "/tmp/mr_bench_chain_XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return NULL;
	}
	cs = chainstate_open(dir, &cp, err, 512);
	if (!cs)
		fprintf(stderr, "connect_chain: %s\n", err);
	return cs;
}

/* A coin the generator may spend. */
struct coin_ref {
	struct outpoint op;
	int64_t value;
};

/* A transaction spending `in` to n_out equal P2PKH outputs to k, signed. */
static int make_tx(const struct key *k, const struct coin_ref *in, size_t n_out, struct tx *t)
{
	int64_t each = (in->value - FEE) / (int64_t)n_out;

	memset(t, 0, sizeof(*t));
	t->version = 2;
	t->vin = calloc(1, sizeof(*t->vin));
	t->vout = calloc(n_out, sizeof(*t->vout));
	if (!t->vin || !t->vout)
		return -1;
	t->n_in = 1;
	t->vin[0].prevout = in->op;
	t->vin[0].sequence = 0xffffffff;
	for (size_t i = 0; i < n_out; i++) {
		t->vout[i].value = each;
		t->vout[i].script_pubkey = malloc(SCRIPT_P2PKH_LEN);
		if (!t->vout[i].script_pubkey)
			return -1;
		script_p2pkh(k->h160, t->vout[i].script_pubkey);
		t->vout[i].script_pubkey_len = SCRIPT_P2PKH_LEN;
		t->n_out++;
	}
	tx_finalize(t);
	return key_sign_p2pkh_input(k, t, 0);
}

/* Mine txs[0..n) into a block, connect it, append it to f. */
static int mine(struct chainstate *cs, const uint8_t *spk, const struct tx *txs, size_t n,
		FILE *f, uint8_t coinbase_txid[32])
{
	char reason[CHAIN_REASON_MAX];
	struct block b;
	struct wbuf w;
	bool is_new;
	uint32_t len;
	int rc;

	if (miner_create_block(cs, NULL, spk, SCRIPT_P2PKH_LEN, txs, n, &b, reason) < 0 ||
	    chainstate_process_block(cs, &b, &is_new, reason) < 0) {
		fprintf(stderr, "connect_chain: block: %s\n", reason);
		return -1;
	}
	memcpy(coinbase_txid, b.txs[0].txid, 32);
	ser_write_init(&w);
	block_encode(&w, &b);
	len = (uint32_t)w.len;
	rc = w.oom || fwrite(&len, 4, 1, f) != 1 || fwrite(w.data, 1, w.len, f) != w.len ? -1 : 0;
	ser_write_free(&w);
	block_clear(&b);
	return rc;
}

static int generate(const char *path, int blocks, int per_block)
{
	char dir[64];
	struct chainstate *cs = open_temp(dir);
	FILE *f = fopen(path, "wb");
	struct key k;
	uint8_t secret[32], spk[SCRIPT_P2PKH_LEN], cb[32];
	struct coin_ref *pool = calloc((size_t)per_block * 2, sizeof(*pool));
	struct tx *txs = calloc((size_t)per_block, sizeof(*txs));
	struct coin_ref *coinbases = calloc(200, sizeof(*coinbases));
	size_t n_pool = 0, n_cb = 0;
	int height = 0, rc = -1;

	memset(secret, 0x42, 32);
	if (!cs || !f || !pool || !txs || !coinbases || key_from_secret(&k, secret) < 0)
		goto out;
	script_p2pkh(k.h160, spk);
	/* Coinbases that mature: 110 blocks. */
	for (; height < 110; height++) {
		if (mine(cs, spk, NULL, 0, f, cb) < 0)
			goto out;
		memcpy(coinbases[n_cb].op.txid, cb, 32);
		coinbases[n_cb].value = chainstate_subsidy(height + 1);
		n_cb++;
	}
	/* Fan out mature coinbases into per_block coins, ten per block. */
	for (size_t c = 0; n_pool < (size_t)per_block; c += 10) {
		size_t n = 0;

		for (size_t j = c; j < c + 10 && n_pool < (size_t)per_block; j++, n++) {
			size_t outs = (size_t)per_block - n_pool < 50 ? (size_t)per_block - n_pool : 50;

			if (make_tx(&k, &coinbases[j], outs, &txs[n]) < 0)
				goto out;
			for (size_t o = 0; o < outs; o++) {
				memcpy(pool[n_pool].op.txid, txs[n].txid, 32);
				pool[n_pool].op.n = (uint32_t)o;
				pool[n_pool++].value = txs[n].vout[o].value;
			}
		}
		if (mine(cs, spk, txs, n, f, cb) < 0)
			goto out;
		for (size_t j = 0; j < n; j++)
			tx_clear(&txs[j]);
		height++;
	}
	/* Then each block spends every pool coin once into a new one. */
	for (; height < blocks; height++) {
		for (int i = 0; i < per_block; i++)
			if (make_tx(&k, &pool[i], 1, &txs[i]) < 0)
				goto out;
		if (mine(cs, spk, txs, (size_t)per_block, f, cb) < 0)
			goto out;
		for (int i = 0; i < per_block; i++) {
			memcpy(pool[i].op.txid, txs[i].txid, 32);
			pool[i].op.n = 0;
			pool[i].value = txs[i].vout[0].value;
			tx_clear(&txs[i]);
		}
		if (height % 500 == 0)
			fprintf(stderr, "connect_chain: generated %d blocks\n", height);
	}
	rc = 0;
out:
	if (f && fclose(f) != 0)
		rc = -1;
	chainstate_close(cs);
	rm_rf(dir);
	free(pool);
	free(txs);
	free(coinbases);
	return rc;
}

/* Read the next block from f into a malloc'd buffer; 0 at the end, -1 on
 * an error, else the length. */
static long read_block(FILE *f, uint8_t **buf)
{
	uint32_t len;

	if (fread(&len, 4, 1, f) != 1)
		return 0;
	*buf = malloc(len ? len : 1);
	if (!*buf || fread(*buf, 1, len, f) != len) {
		free(*buf);
		return -1;
	}
	return (long)len;
}

static int connect_file(const char *path, long max_blocks)
{
	char dir[64], reason[CHAIN_REASON_MAX];
	struct chainstate *cs = open_temp(dir);
	FILE *f = fopen(path, "rb");
	long blocks = 0, txs = 0, inputs = 0, len = 0;
	uint8_t *buf;
	double t0, c0, t, c;
	int rc = -1;

	if (!cs || !f)
		goto out;
	t0 = now_s();
	c0 = cpu_s();
	while ((max_blocks <= 0 || blocks < max_blocks) && (len = read_block(f, &buf)) > 0) {
		struct block b;
		bool is_new;

		if (block_decode_bytes(buf, (size_t)len, &b) < 0) {
			free(buf);
			goto out;
		}
		free(buf);
		if (chainstate_process_block(cs, &b, &is_new, reason) < 0) {
			fprintf(stderr, "connect_chain: block %ld: %s\n", blocks + 1, reason);
			block_clear(&b);
			goto out;
		}
		blocks++;
		txs += (long)b.n_tx - 1;
		for (size_t i = 1; i < b.n_tx; i++)
			inputs += (long)b.txs[i].n_in;
		block_clear(&b);
	}
	if (len < 0 || chainstate_flush(cs, COINS_FLUSH_ALWAYS) < 0)
		goto out;
	t = now_s() - t0;
	c = cpu_s() - c0;
	printf("blocks %ld txs %ld inputs %ld seconds %.3f cpu %.3f\n", blocks, txs, inputs, t, c);
	rc = 0;
out:
	if (f)
		fclose(f);
	chainstate_close(cs);
	rm_rf(dir);
	return rc;
}

int main(int argc, char **argv)
{
	if (key_init() < 0)
		return 1;
	if (argc == 5 && strcmp(argv[1], "generate") == 0)
		return generate(argv[2], atoi(argv[3]), atoi(argv[4])) < 0;
	if ((argc == 3 || argc == 4) && strcmp(argv[1], "connect") == 0)
		return connect_file(argv[2], argc == 4 ? atol(argv[3]) : 0) < 0;
	fprintf(stderr, "usage: connect_chain generate FILE BLOCKS TXS_PER_BLOCK\n"
		"       connect_chain connect FILE [MAX_BLOCKS]\n");
	return 2;
}
