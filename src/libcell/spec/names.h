/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * Name tables of the spec layer (internal).  One table per closed set of
 * names in runtime-spec config.md / config-linux.md; the parser validates
 * against them and the features document lists them, so the two never
 * disagree.  Every table ends with { NULL, 0 }.
 */
#include <stdint.h>

struct cell_name_value {
	const char *name;
	int64_t value;
};

extern const struct cell_name_value spec_ns_names[];           /* enum cell_ns_type */
extern const struct cell_name_value spec_rlimit_names[];       /* RLIMIT_* */
extern const struct cell_name_value spec_sched_policy_names[]; /* kernel SCHED_* */
extern const struct cell_name_value spec_sched_flag_names[];   /* SCHED_FLAG_* */
extern const struct cell_name_value spec_ioprio_class_names[]; /* IOPRIO_CLASS_* */
extern const struct cell_name_value spec_seccomp_action_names[];
extern const struct cell_name_value spec_seccomp_op_names[];
extern const struct cell_name_value spec_seccomp_arch_names[];
extern const struct cell_name_value spec_seccomp_flag_names[]; /* SECCOMP_FILTER_FLAG_* */
extern const struct cell_name_value spec_propagation_names[];
extern const struct cell_name_value spec_personality_names[]; /* PER_* */
extern const struct cell_name_value spec_device_type_names[]; /* linux.devices[].type */
extern const struct cell_name_value spec_rule_type_names[];   /* resources.devices[].type */

/* The entry named `name`, or NULL. */
const struct cell_name_value *spec_name_find(const struct cell_name_value *t, const char *name);
/* The name of the first entry with `value`, or NULL. */
const char *spec_name_of(const struct cell_name_value *t, int64_t value);
