#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# bench/clone.sh: an overlay container's create and clone cost the same
# whatever the template's size; a dir container's grow with it.
#
# Two dir: templates, small (50 files, 5 MB) and large (20000 files,
# 500 MB).  For each template and each storage (overlay, dir), RUNS times:
#   cell create A --template dir:T --storage S     (wall time)
#   cell clone A B                                 (wall time)
#   du -skx of A's and B's container directories   (disk used)
# After one untimed warm-up round.  Reported: the median times, the disk
# use, and large/small ratios.  The
# Markdown table goes to bench/clone-results.md and stdout.  See
# bench/README.md.
#
# Everything lives in one temp dir under /var/tmp (the store, the runtime
# dir, the templates) with its own cgroup parent name; all of it goes away
# on exit, also on ^C.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(dirname "$HERE")
CELL=${CELL:-$TOP/build/cell}
RUNS=${BENCH_RUNS:-5}
OUT=${BENCH_OUT:-$HERE/clone-results.md}
SMALL=${BENCH_CLONE_SMALL:-50:5}      # files:MB
LARGE=${BENCH_CLONE_LARGE:-20000:500}
STORAGES="overlay dir"
WORK=

usage() {
	cat <<EOF
usage: bench/clone.sh [-n RUNS] [-s FILES:MB] [-l FILES:MB] [-o OUT]
  -n RUNS       create+clone rounds per template and storage (default $RUNS)
  -s FILES:MB   the small template (default $SMALL)
  -l FILES:MB   the large template (default $LARGE)
  -o OUT        Markdown output (default $OUT)
Environment: CELL (default \$TOP/build/cell).
EOF
}

while getopts "n:s:l:o:h" opt; do
	case $opt in
	n) RUNS=$OPTARG ;;
	s) SMALL=$OPTARG ;;
	l) LARGE=$OPTARG ;;
	o) OUT=$OPTARG ;;
	h) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done

log() { printf 'clone.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (cell does)"
[ -x "$CELL" ] || die "$CELL not built: run make"
[ -x /usr/bin/python3 ] || die "/usr/bin/python3 missing"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "-n $RUNS: want a positive count"
for t in "$SMALL" "$LARGE"; do
	[[ $t =~ ^[1-9][0-9]*:[1-9][0-9]*$ ]] || die "template \"$t\": want FILES:MB"
done

# ------------------------------------------------------------- cleanup

cleanup() {
	local rc=$? name m d
	trap - EXIT INT TERM
	set +e
	if [ -n "$WORK" ] && [ -d "$WORK/store/containers" ]; then
		for d in "$WORK"/store/containers/*/; do
			[ -f "$d/cell.json" ] || continue
			name=$(basename "$d")
			"$CELL" destroy --force "$name" >/dev/null 2>&1 ||
				log "cleanup: destroy $name failed"
		done
	fi
	# nothing here mounts, but a failed create must not leave a mount behind
	if [ -n "$WORK" ]; then
		awk -v w="$WORK/" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo |
			sort -r | while read -r m; do umount -l "$m"; done
		rm -rf "$WORK"
	fi
	for d in /sys/fs/cgroup/*/"$CELL_CGROUP_PARENT"; do
		[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
	done
	exit "$rc"
}

WORK=$(mktemp -d /var/tmp/cellbench-clone.XXXXXX)
chmod 755 "$WORK"
export CELL_ROOT=$WORK/store CELL_RUNTIME_DIR=$WORK/run
export CELL_CGROUP_PARENT=cellbench-clone-$$
# the host's /etc/subuid, /etc/subgid and id registry stay untouched
printf 'root:1000000:1000000000\n' >"$WORK/subuid"
cp "$WORK/subuid" "$WORK/subgid"
export CELL_SUBUID_FILE=$WORK/subuid CELL_SUBGID_FILE=$WORK/subgid
export CELL_IDMAP_REGISTRY=$WORK/idmap/ranges.json
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------ templates

make_template() { # DIR FILES MB: FILES files of MB/FILES each, 100 per directory
	/usr/bin/python3 - "$@" <<'PY'
import os, sys
root, files, mb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
size = mb * 1024 * 1024 // files
block = os.urandom(size)
for d in ("bin", "etc", "sbin", "tmp", "proc", "sys", "dev"):
    os.makedirs(os.path.join(root, d), exist_ok=True)
# what cell rewrites in a new root (its identity): a clone copies them up
for name, text in (("hostname", "template\n"), ("machine-id", "0" * 32 + "\n")):
    with open(os.path.join(root, "etc", name), "w") as f:
        f.write(text)
for i in range(files):
    d = os.path.join(root, "usr", "share", "bench", "d%04d" % (i // 100))
    if i % 100 == 0:
        os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%06d" % i), "wb") as f:
        f.write(block)
PY
}

# ------------------------------------------------------------ measuring

now_ms() { # wall clock in ms, from bash's own clock (no fork)
	local t=${EPOCHREALTIME/./}
	echo $((t / 1000))
}

du_kib() { du -skx "$1" | cut -f1; }

median() { # numbers...
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END {
		if (NR % 2) print v[(NR + 1) / 2]; else printf "%.0f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

human() { # KiB -> "123 KiB" / "4.5 MiB"
	awk -v k="$1" 'BEGIN { if (k < 1024) printf "%d KiB", k;
		else if (k < 1048576) printf "%.1f MiB", k / 1024; else printf "%.2f GiB", k / 1048576 }'
}

declare -A CREATE_MS CLONE_MS SRC_KIB DST_KIB UPPER_KIB TPL_KIB TPL_DESC

measure() { # KEY TEMPLATE_DIR STORAGE
	local key=$1 tpl=$2 sto=$3 r a b t0 t1 t2 creates=() clones=()
	for ((r = 1; r <= RUNS; r++)); do
		a=$key-$sto-$r
		b=$a-clone
		t0=$(now_ms)
		"$CELL" create "$a" --template "dir:$tpl" --storage "$sto" >/dev/null
		t1=$(now_ms)
		"$CELL" clone "$a" "$b" >/dev/null
		t2=$(now_ms)
		creates+=($((t1 - t0)))
		clones+=($((t2 - t1)))
		SRC_KIB[$key.$sto]=$(du_kib "$CELL_ROOT/containers/$a")
		DST_KIB[$key.$sto]=$(du_kib "$CELL_ROOT/containers/$b")
		if [ "$sto" = overlay ]; then
			UPPER_KIB[$key.$sto]=$(du_kib "$CELL_ROOT/containers/$b/storage/upper")
		else
			UPPER_KIB[$key.$sto]=-
		fi
		"$CELL" destroy "$b" >/dev/null
		"$CELL" destroy "$a" >/dev/null
	done
	CREATE_MS[$key.$sto]=$(median "${creates[@]}")
	CLONE_MS[$key.$sto]=$(median "${clones[@]}")
	log "$key/$sto: create ${creates[*]} ms, clone ${clones[*]} ms"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "n/a" }'; }

# ------------------------------------------------------------ main

for key in small large; do
	spec=$SMALL
	[ "$key" = large ] && spec=$LARGE
	files=${spec%%:*}
	mb=${spec##*:}
	log "making the $key template: $files files, $mb MB"
	make_template "$WORK/tpl-$key" "$files" "$mb"
	TPL_KIB[$key]=$(du_kib "$WORK/tpl-$key")
	TPL_DESC[$key]="$key: $files files, $(human "${TPL_KIB[$key]}")"
done

# one untimed round first: the first cell call pays for cold caches
"$CELL" create warmup --template "dir:$WORK/tpl-small" --storage overlay >/dev/null
"$CELL" destroy warmup >/dev/null

for sto in $STORAGES; do
	for key in small large; do
		log "measuring $key/$sto ($RUNS rounds)"
		measure "$key" "$WORK/tpl-$key" "$sto"
	done
done

store_fs=$(findmnt -no FSTYPE -T "$WORK" 2>/dev/null || echo "?")
{
	echo "# cellbench: overlay clone cost against the template's size"
	echo
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- kernel: $(uname -r) ($(uname -m)), $(nproc) CPUs; store on $store_fs ($WORK)"
	echo "- $("$CELL" --version); $RUNS rounds each, median wall time"
	echo "- templates (dir:PATH): ${TPL_DESC[small]}; ${TPL_DESC[large]}"
	echo "- disk: \`du -skx\` of the stopped container's directory (<root>/containers/NAME)"
	echo
	echo "| storage | template | create ms | clone ms | container du | clone du | clone's overlay upper |"
	echo "|---|---|---|---|---|---|---|"
	for sto in $STORAGES; do
		for key in small large; do
			k=$key.$sto
			up=${UPPER_KIB[$k]}
			[ "$up" != - ] && up=$(human "$up")
			echo "| $sto | ${TPL_DESC[$key]} | ${CREATE_MS[$k]} | ${CLONE_MS[$k]} |" \
				"$(human "${SRC_KIB[$k]}") | $(human "${DST_KIB[$k]}") | $up |"
		done
	done
	echo
	echo "Large / small, for a template $(ratio "${TPL_KIB[large]}" "${TPL_KIB[small]}")x the size:"
	echo
	echo "| storage | create time | clone time | clone du |"
	echo "|---|---|---|---|"
	for sto in $STORAGES; do
		echo "| $sto | $(ratio "${CREATE_MS[large.$sto]}" "${CREATE_MS[small.$sto]}")x" \
			"| $(ratio "${CLONE_MS[large.$sto]}" "${CLONE_MS[small.$sto]}")x" \
			"| $(ratio "${DST_KIB[large.$sto]}" "${DST_KIB[small.$sto]}")x |"
	done
} | tee "$OUT"
