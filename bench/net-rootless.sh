#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# bench/net-rootless.sh: iperf3 throughput from a container to the host, for
# a rootless container on --net pasta next to a root one on --net bridge
# (a veth on cell0), in one run.  Everything happens in a network and mount
# namespace of the script's own (made with unshare, gone with it): a veth
# pair there gives pasta the address and default route it copies, the
# bridge, its nftables table and dnsmasq exist only there, and iperf3's
# server listens there.  /dev/net/tun is bind-mounted in that mount
# namespace from a node of mode 0666 (the host's own node is not touched).
# The rootless side runs as a user the script makes and removes
# (cellbench-rl), with its store under the scratch directory.
#
# iperf3 runs inside the containers from a directory holding it, its
# libraries and the dynamic loader (ldd /usr/bin/iperf3), bind-mounted
# read-only at /opt/iperf: the busybox template has no iperf3.
#
#   sudo bench/net-rootless.sh [SECONDS]     (CELL=path/to/cell, default build/cell)
set -euo pipefail

SECS=${1:-5}
REPO=$(cd "$(dirname "$0")/.." && pwd)
CELL=${CELL:-$REPO/build/cell}
USER_RL=cellbench-rl
HOST_IP=10.91.0.1 GATEWAY=10.91.0.254

log() { printf 'net-rootless: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (it makes a user and scratch namespaces)"
[ -x "$CELL" ] || die "$CELL not built (make, or CELL=...)"
for t in pasta iperf3 unshare setpriv useradd python3; do
	command -v $t >/dev/null || die "$t missing"
done

# Re-run inside the scratch namespaces: everything below is torn down with them.
if [ "${NET_ROOTLESS_INNER:-}" != 1 ]; then
	exec env NET_ROOTLESS_INNER=1 unshare --net --mount --propagation private -- "$0" "$@"
fi

BASE=$(mktemp -d /tmp/cellbench-netrl.XXXXXX)
chmod 755 "$BASE"
MADE_USER=0
SRV=

cleanup() {
	set +e
	[ -n "${RL_ENV:-}" ] && as_user "$CELL" destroy --force rl-pasta >/dev/null 2>&1
	[ -n "${ROOT_ENV:-}" ] && env "${ROOT_ENV[@]}" "$CELL" destroy --force root-bridge >/dev/null 2>&1
	[ -n "$SRV" ] && kill "$SRV" 2>/dev/null && wait "$SRV" 2>/dev/null
	for d in /sys/fs/cgroup/*/"cellbench-netrl-$$"; do rmdir "$d" 2>/dev/null; done
	[ "$MADE_USER" = 1 ] && userdel "$USER_RL" 2>/dev/null
	umount -R "$BASE/dev" 2>/dev/null
	rm -rf "$BASE"
}
trap cleanup EXIT

# --------------------------------------------------- the scratch "host"
ip link set lo up
ip link add h0 type veth peer name h1
ip addr add $HOST_IP/24 dev h0
ip link set h0 up && ip link set h1 up
ip route add default via $GATEWAY dev h0
mkdir "$BASE/dev"
mount -t tmpfs tmpfs "$BASE/dev"
mknod -m 666 "$BASE/dev/tun" c 10 200
mount --bind "$BASE/dev/tun" /dev/net/tun

# iperf3 and what it links, for the containers
IP3=$BASE/iperf
mkdir "$IP3"
cp /usr/bin/iperf3 "$IP3/"
ldd /usr/bin/iperf3 | awk '/=> \//{print $3} /^\t\/.*ld-linux/{print $1}' |
	while read -r lib; do cp -L "$lib" "$IP3/"; done
chmod -R a+rX "$IP3"
LOADER=$(basename "$(ls "$IP3"/ld-linux*)")
IPERF="/opt/iperf/$LOADER --library-path /opt/iperf /opt/iperf/iperf3"

iperf3 -s -p 5201 >/dev/null 2>&1 &
SRV=$!
sleep 0.3

# From iperf3 -J on stdin: the Gbit/s the server received, then each
# second's (pasta 0.0~git20230309 stalls on this host: seconds near 0).
rate() { python3 -c 'import json, sys
d = json.load(sys.stdin)
each = " ".join("%.2f" % (i["sum"]["bits_per_second"] / 1e9) for i in d["intervals"])
print("%10.2f   [%s]" % (d["end"]["sum_received"]["bits_per_second"] / 1e9, each))'; }

# ------------------------------------------------------ root, --net bridge
mkdir -p "$BASE/ids"
echo "root:1000000:1000000000" > "$BASE/ids/subuid"
cp "$BASE/ids/subuid" "$BASE/ids/subgid"
ROOT_ENV=(CELL_ROOT="$BASE/root/store" CELL_RUNTIME_DIR="$BASE/root/run"
	CELL_NET_DIR="$BASE/root/net" CELL_NET_RUNTIME_DIR="$BASE/root/net-run"
	CELL_CGROUP_PARENT=cellbench-netrl-$$ CELL_SUBUID_FILE="$BASE/ids/subuid"
	CELL_SUBGID_FILE="$BASE/ids/subgid" CELL_IDMAP_REGISTRY="$BASE/ids/registry.json")
rootcell() { env "${ROOT_ENV[@]}" "$CELL" "$@"; }
rootcell create root-bridge --template busybox --net bridge --mount "$IP3:/opt/iperf:ro" >/dev/null
rootcell start root-bridge
GW_BRIDGE=$(rootcell exec root-bridge -- ip route | awk '/^default/{print $3}')
log "root --net bridge: iperf3 -c $GW_BRIDGE for ${SECS}s"
BRIDGE=$(rootcell exec root-bridge -- sh -c "$IPERF -c $GW_BRIDGE -t $SECS -J" | rate)
rootcell destroy --force root-bridge >/dev/null

# -------------------------------------------------- rootless, --net pasta
if ! id "$USER_RL" >/dev/null 2>&1; then
	useradd --no-create-home --shell /usr/sbin/nologin "$USER_RL"
	MADE_USER=1
fi
mkdir "$BASE/rl"
chown "$USER_RL:" "$BASE/rl"
RL_ENV=(CELL_ROOT="$BASE/rl/store" CELL_RUNTIME_DIR="$BASE/rl/run" PATH=/usr/bin:/bin
	HOME="$BASE/rl")
as_user() { (cd "$BASE/rl" && setpriv --reuid="$USER_RL" --regid="$USER_RL" --clear-groups \
	-- env -i "${RL_ENV[@]}" "$@"); }
as_user "$CELL" create rl-pasta --template busybox --net pasta --mount "$IP3:/opt/iperf:ro" >/dev/null
as_user "$CELL" start rl-pasta
log "rootless --net pasta: iperf3 -c $GATEWAY (pasta's gateway: the host) for ${SECS}s"
PASTA=$(as_user "$CELL" exec rl-pasta -- sh -c "$IPERF -c $GATEWAY -t $SECS -J" | rate)
as_user "$CELL" destroy --force rl-pasta >/dev/null

printf '%-28s %10s   %s\n' "container -> host, TCP" "Gbit/s" "[each second]"
printf '%-28s %s\n' "root, --net bridge (veth)" "$BRIDGE"
printf '%-28s %s\n' "rootless, --net pasta" "$PASTA"
