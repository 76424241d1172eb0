/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: config.json text -> cell_spec_parse(). */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "libcell/spec/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cell_error err = { 0 };
	struct cell_spec *spec = NULL;

	if (cell_spec_parse((const char *)data, size, &spec, &err) < 0) {
		/* every failure says why, and *out stays untouched */
		assert(err.msg[0] != '\0' && spec == NULL);
		return 0;
	}
	/* what the parser promises the executors */
	assert(spec->oci_version && spec->root.path);
	assert(!spec->process_set || (spec->process.args && spec->process.args[0]));
	assert(!spec->process_set || spec->process.cwd[0] == '/');
	for (size_t i = 0; i < spec->n_mounts; i++)
		assert(spec->mounts[i].destination[0] == '/');
	cell_spec_free(spec);
	return 0;
}
