/*
 * fuzz_wallet.c — the wallet file loader: walletdb's checks of an SQLite
 * file and wallet.c's loading of its keys and transactions, as
 * loadwallet or -wallet does, over a real chainstate and mempool.
 *
 * The input is written as WALLETS/fz/wallet.dat and opened; a file that is
 * not a good wallet must be refused with a reason, never crash or leak.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chainstate.h"
#include "config.h"
#include "fuzz.h"
#include "key.h"
#include "log.h"
#include "mempool.h"
#include "wallet.h"

static struct chainstate *cs;
static struct mempool *mp;
static char wdir[512], wfile[600];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = fuzz_tmpdir("wallet");
	struct chain_params cp = { 8 << 20, 3600 };
	struct mempool_params mpp = { 5000000, 3600, CONFIG_DEFAULT_MIN_RELAY_FEE };
	char err[1024];

	(void)argc;
	(void)argv;
	FUZZ_ASSERT(log_open("/dev/null", false, err, sizeof(err)) == 0);
	FUZZ_ASSERT(key_init() == 0);
	cs = chainstate_open(dir, &cp, err, sizeof(err));
	FUZZ_ASSERT(cs);
	mp = mempool_new(cs, &mpp);
	FUZZ_ASSERT(mp);
	snprintf(wdir, sizeof(wdir), "%s/fz", dir);
	snprintf(wfile, sizeof(wfile), "%s/wallet.dat", wdir);
	FUZZ_ASSERT(mkdir(wdir, 0700) == 0);
	return 0;
}

/* Remove the file and whatever SQLite left beside it. */
static void clean(void)
{
	static const char *const suffixes[] = { "", "-journal", "-wal", "-shm" };
	char path[700];

	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", wfile, suffixes[i]);
		unlink(path);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wallet_options o = {
		.fallback_feerate = CONFIG_DEFAULT_FALLBACK_FEE,
		.long_term_feerate = CONFIG_DEFAULT_CONSOLIDATE_FEERATE,
		.discard_feerate = WALLET_DISCARD_FEERATE,
		.min_relay_feerate = CONFIG_DEFAULT_MIN_RELAY_FEE,
	};
	char err[1024] = "";
	struct wallet *w;
	int fd = open(wfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	FUZZ_ASSERT(fd >= 0 && write(fd, data, size) == (ssize_t)size && close(fd) == 0);
	w = wallet_new("fz", wdir, false, cs, mp, &o, NULL, err, sizeof(err));
	if (w) {
		struct wallet_balances b;

		wallet_balances(w, &b);
		(void)wallet_tx_count(w);
		wallet_free(w);
	} else {
		FUZZ_ASSERT(err[0] != '\0');
	}
	clean();
	return 0;
}
