/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: the `exec -p` process.json -> cell_process_parse(). */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include "libcell/spec/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cell_error err = { 0 };
	struct cell_process *p = NULL;

	if (cell_process_parse((const char *)data, size, &p, &err) < 0) {
		assert(err.msg[0] != '\0' && p == NULL);
		return 0;
	}
	assert(p->args && p->args[0] && p->cwd && p->cwd[0] == '/');
	for (size_t i = 0; i < p->n_rlimits; i++)
		assert(p->rlimits[i].soft <= p->rlimits[i].hard);
	cell_process_free(p);
	return 0;
}
