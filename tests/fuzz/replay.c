/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Replays saved fuzz inputs through a target's LLVMFuzzerTestOneInput()
 * without libFuzzer, so the corpus (crash regressions included) runs as an
 * ordinary test in every build.  Arguments: files or directories of files.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "libcell/base/cleanup.h"
#include "libcell/base/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	int r = cell_read_file(path, &data, &len);

	if (r < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(-r));
		return r;
	}
	(void)LLVMFuzzerTestOneInput((const uint8_t *)data, len);
	return 0;
}

static int replay_dir(const char *dir, size_t *count)
{
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *de;
	int r = 0;

	if (!d) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -errno;
	}
	while ((de = readdir(d))) {
		_cleanup_free_ char *path = NULL;
		if (de->d_name[0] == '.')
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		if (replay_file(path) < 0)
			r = -EIO;
		(*count)++;
	}
	return r;
}

int main(int argc, char **argv)
{
	size_t count = 0;
	struct stat st;
	int r = 0;

	for (int i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			r |= replay_dir(argv[i], &count);
		} else {
			r |= replay_file(argv[i]);
			count++;
		}
	}
	printf("replayed %zu inputs\n", count);
	return r ? 1 : 0;
}
