#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# bench/callgrind.sh: instructions executed by `cellrun run` of /bin/true in
# the benchmark's busybox bundle, counted by callgrind -- a repeatable
# number for the hot path where wall time is noisy -- and by
# `cellrun --version` as the baseline (process start, libc, exit).
#
# --trace-children=no: valgrind does not follow execve, so the container's
# /bin/true (and any helper cellrun execs) is not counted; processes that
# cellrun forks stay under valgrind and get their own output file.  The
# totals are per process and summed.  See bench/README.md.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(dirname "$HERE")
CELLRUN=${CELLRUN:-$TOP/build/cellrun}
REPEAT=1
CG=cellbench-$$
WORK=

usage() {
	cat <<EOF
usage: bench/callgrind.sh [-n REPEAT] [-k]
  -n REPEAT   measure each command REPEAT times (default 1), to show the spread
  -k          keep the callgrind.out files (their directory is printed)
Environment: CELLRUN (default \$TOP/build/cellrun).
EOF
}

KEEP=
while getopts "n:kh" opt; do
	case $opt in
	n) REPEAT=$OPTARG ;;
	k) KEEP=1 ;;
	h) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done

LOG_PREFIX=callgrind
# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"

[ "$(id -u)" = 0 ] || die "needs root (containers with cgroups)"
command -v valgrind >/dev/null || die "valgrind missing: apt-get install valgrind"
[ -x "$CELLRUN" ] || die "cellrun not built ($CELLRUN missing: make)"

cleanup() {
	local rc=$? id
	trap - EXIT INT TERM
	set +e
	[ -n "$WORK" ] || exit $rc
	for id in $("$CELLRUN" --root "$WORK/state" list -q 2>/dev/null); do
		"$CELLRUN" --root "$WORK/state" delete --force "$id" >/dev/null 2>&1
	done
	remove_cgroup_parents
	if [ -n "$KEEP" ]; then
		rm -rf "$WORK/rootfs" "$WORK/bundles" "$WORK/state"
		log "callgrind output kept in $WORK/out"
	else
		rm -rf "$WORK"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

WORK=$(mktemp -d /tmp/cellbench-callgrind.XXXXXX)
mkdir "$WORK/bundles" "$WORK/out"
make_rootfs "$WORK/rootfs"
write_config_template "$WORK/config.tmpl" "$WORK/rootfs"
make_cgroup_parents

# Ir of one callgrind.out file (its "totals:" line, else "summary:").
instructions_of() { # FILE
	awk '/^totals:/ { t = $2 } /^summary:/ { s = $2 } END { print (t != "" ? t : s) }' "$1"
}

# Runs COMMAND under callgrind as measurement NAME; prints one line: NAME,
# the total, the per-process counts, and the first error if it failed.
# Sets TOTAL.
count() { # NAME COMMAND...
	local name=$1 dir="$WORK/out/$1" rc=0 f n procs=0 parts=""
	shift
	mkdir "$dir"
	valgrind --tool=callgrind --trace-children=no --callgrind-out-file="$dir/callgrind.out.%p" \
		--log-file="$dir/valgrind.log" "$@" >/dev/null 2>"$dir/stderr" || rc=$?
	TOTAL=0
	for f in "$dir"/callgrind.out.*; do
		[ -f "$f" ] || continue
		n=$(instructions_of "$f")
		TOTAL=$((TOTAL + n)) procs=$((procs + 1)) parts="$parts ${f##*.}:$n"
	done
	printf '%-12s %12d Ir  (%d process(es), pid:Ir%s)\n' "$name" "$TOTAL" "$procs" "$parts"
	[ $rc = 0 ] && return 0
	printf '%-12s FAILED (exit %d): %s\n' "$name" "$rc" "$(first_error "$dir/stderr")"
	hint_for "$dir/stderr"
	return 1
}

# The two known ways a runtime fails under valgrind 3.19, explained.
hint_for() { # STDERR-FILE
	if grep -q 'sealed' "$1"; then
		printf '%-12s (valgrind cannot execve a memfd: fexecve of the sealed copy fails\n' ""
		printf '%-12s  with ENOENT; and with --trace-children=no the re-executed process\n' ""
		printf '%-12s  would not be counted anyway: the runtime needs a way to skip the\n' ""
		printf '%-12s  sealed re-exec when it runs on valgrind)\n' ""
	elif grep -q 'clone.*Function not implemented' "$1"; then
		printf '%-12s (valgrind answers clone3 with ENOSYS; the runtime needs to fall\n' ""
		printf '%-12s  back to clone(2) then, as glibc does)\n' ""
	fi
}

status=0
echo "callgrind instruction counts (Ir): $("$CELLRUN" --version | head -1), $(valgrind --version)"
for i in $(seq "$REPEAT"); do
	count "version-$i" "$CELLRUN" --version || status=1
	base=$TOTAL
	id=cg-$$-$i
	make_bundle "$WORK/config.tmpl" "$WORK/bundles/$id" "$id"
	if count "run-$i" "$CELLRUN" --root "$WORK/state" run -b "$WORK/bundles/$id" "$id"; then
		printf '%-12s %12d Ir  (run minus --version)\n' "delta-$i" $((TOTAL - base))
	else
		status=1
	fi
done
exit $status
