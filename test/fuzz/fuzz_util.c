/*
 * fuzz_util.c — fuzz.h's temporary directory. Linked into every target.
 */
#define _XOPEN_SOURCE 700
#include "fuzz.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char tmpdir[256];

static int remove_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void tmpdir_remove(void)
{
	if (tmpdir[0])
		nftw(tmpdir, remove_cb, 16, FTW_DEPTH | FTW_PHYS);
}

const char *fuzz_tmpdir(const char *name)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/mr_fuzz_%s_XXXXXX", name);
	if (!mkdtemp(tmpdir)) {
		perror("fuzz: mkdtemp");
		exit(1);
	}
	atexit(tmpdir_remove);
	return tmpdir;
}
