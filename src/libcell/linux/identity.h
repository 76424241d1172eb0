/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/* Process identity and attributes applied in the child just before exec. */
#include <stdbool.h>
#include <sys/types.h>
#include "../base/error.h"
#include "../plan/plan.h"
#include "../spec/spec.h"

/* Bounding set drop, PR_SET_KEEPCAPS, setgroups/setresgid/setresuid,
 * capset (effective/permitted/inheritable), ambient raise.  When caps->set
 * is false, all capabilities are dropped for a non-root uid and kept for
 * root (runc behaviour).  `setgroups_allowed` is false in a user namespace
 * whose setgroups file says deny. */
int cell_identity_apply(const struct cell_process *p, bool setgroups_allowed,
			struct cell_error *err);

/* In the runtime, before the child: what process.capabilities asks for that
 * this runtime cannot give is left out of the sets with one warning, as runc
 * does ("ignoring unknown or unavailable capabilities"; runtime-spec 1.1: a
 * runtime SHOULD warn and go on): names unknown to this build (the parser
 * left them out), capabilities above the kernel's last, and, when the
 * process has no user namespace (where it would hold every capability),
 * those missing from the runtime's own permitted or bounding set (capset
 * would refuse them). */
void cell_caps_drop_unavailable(struct cell_caps *c, bool in_userns);

/* umask (0022 when unset), rlimits, scheduler, I/O priority,
 * execCPUAffinity.initial, in the child before exec. */
int cell_process_attrs_apply(const struct cell_process *p, struct cell_error *err);
/* process.noNewPrivileges: PR_SET_NO_NEW_PRIVS.  Call right before the
 * seccomp load (the filter is compiled with SCMP_FLTATR_CTL_NNP off). */
int cell_no_new_privs_apply(const struct cell_process *p, struct cell_error *err);
/* From the parent after exec: oom_score_adj (before exec, on the pid) and
 * execCPUAffinity.final on the pid. */
int cell_process_oom_score_apply(pid_t pid, const struct cell_process *p, struct cell_error *err);
int cell_process_final_affinity_apply(pid_t pid, const struct cell_process *p,
				      struct cell_error *err);
/* Personality (linux.personality). */
int cell_personality_apply(const struct cell_personality *p, struct cell_error *err);
/* sysctl: writes /proc/sys/... (call inside the container's mount ns, after /proc is mounted). */
int cell_sysctl_apply(const struct cell_kv *kv, size_t n, struct cell_error *err);
/* The same for the planned sysctls (paths made by cell_sysctl_path, plan/plan.h). */
int cell_sysctl_run(const struct cell_plan *p, struct cell_error *err);
/* LSM: apparmor profile / selinux label on exec; clear error when the LSM is off. */
int cell_lsm_apply(const struct cell_process *p, struct cell_error *err);
/* linux.mountLabel needs SELinux: error when a label is given without it. */
int cell_lsm_mount_label_check(const char *label, struct cell_error *err);
/* Parse a cpu list "0-3,7" into a cpu_set_t (pure; exposed for tests). */
#include <sched.h>
int cell_cpulist_parse(const char *s, cpu_set_t *set);
