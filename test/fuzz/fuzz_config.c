/*
 * fuzz_config.c — the configuration file (moneyrocket.conf) and what
 * start-up does with it: config_read_file, then config_validate (which
 * parses every -bind address), as moneyrocketd's load_config.
 *
 * The input is the file's content, handed over as a memfd so no disk is
 * touched. The parser must never leave a half-parsed value behind that
 * config_free cannot release (ASan's leak check sees it).
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg;
	char path[64], err[1024];
	int fd = memfd_create("moneyrocket.conf", MFD_CLOEXEC);

	FUZZ_ASSERT(fd >= 0);
	FUZZ_ASSERT(write(fd, data, size) == (ssize_t)size);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	config_init(&cfg);
	err[0] = '\0';
	if (config_read_file(&cfg, path, err, sizeof(err)) == 0)
		(void)config_validate(&cfg, err, sizeof(err));
	else
		FUZZ_ASSERT(err[0] != '\0'); /* a refusal always says why */
	config_free(&cfg);
	close(fd);
	return 0;
}
