# SPDX-License-Identifier: LGPL-2.1-or-later
"""bench/net's Markdown section from its scratch files (bench/README.md).

argv: rows.tsv starts.tsv WORK SECS RTT_N STARTS ROUNDS DATE LOAD MACHINE VERSIONS
rows.tsv:   path, what, Gbit/s, rtt median, p10, p90 (µs); "-" if not measured;
            one line per round: a row reports the median of its rounds
starts.tsv: warm|cold, none|bridge, ms of one `cell start`
WORK/strace-{none,bridge}: `strace -f -T` of one start each
"""
import os
import re
import statistics
import sys

rows_f, starts_f, work, secs, rtt_n, starts_n, rounds, date, load, machine, versions = sys.argv[1:12]
runs = {}
for ln in open(rows_f):
    if ln.strip():
        f = ln.rstrip("\n").split("\t")
        runs.setdefault((f[0], f[1]), []).append(f[2:])


def med(vals):
    v = [float(x) for x in vals if x != "-"]
    return "-" if not v else "%.2f" % statistics.median(v)


rows = []
for (path, what), rs in runs.items():   # registration order
    rows.append([path, what] + [med(c) for c in zip(*rs)] + [len([r for r in rs if r[0] != "-"])])

TARGETS = {  # (path, what starts with): (share of loopback, the words)
    ("cell", "container -> container"): (0.90, ">= 90 % of loopback"),
    ("cell", "host -> published"): (0.80, ">= 80 % of loopback"),
}


def baseline(r):
    """the loopback row measured in the same phase: the last one before r"""
    i = rows.index(r)
    return next((b for b in reversed(rows[:i + 1]) if b[0] == "loopback" and b[2] != "-"), None)


def base1500(r):
    """the loopback at MTU 1500 (a veth's) of the same phase"""
    i = rows.index(r)
    return next((b for b in reversed(rows[:i + 1]) if "MTU 1500" in b[1] and b[2] != "-"), None)


def pct1500(r):
    b = base1500(r)
    if r[2] == "-" or b is None or r[0] == "loopback":
        return "-"
    return f"{100 * float(r[2]) / float(b[2]):.0f} %"


def target(r):
    loop = baseline(r)
    for (path, what), (share, words) in TARGETS.items():
        if r[0] == path and r[1].startswith(what):
            if r[2] == "-" or loop is None:
                return words + ": n/a"
            got = float(r[2]) / float(loop[2])
            if got >= share:
                return f"{words}: met"
            return f"{words}: **missed** by {100 * (share - got):.1f} points"
    return ""


def pct(r):
    loop = baseline(r)
    if r[2] == "-" or loop is None:
        return "-"
    return f"{100 * float(r[2]) / float(loop[2]):.0f} %"


def rtt(r):
    if r[3] == "-":
        return "-"
    return f"{float(r[3]):.1f} ({float(r[4]):.1f}–{float(r[5]):.1f})"


print("## bench/net: container networking side by side\n")
print(f"- date: {date}; load average before the run: {load}")
print(f"- machine: {machine}")
print(f"- versions: {versions}")
print(f"- {rounds} rounds over all rows, each row's median over its rounds; "
      f"throughput: iperf3, one TCP stream, {secs} s, the receiver's rate; "
      f"round trip: bench/rtt.c, {rtt_n} round trips of 1 byte on one connection "
      "(TCP_NODELAY) after 1000 warm-up ones, both ends pinned to CPU 0, median (p10–p90)")
print("- everything in a network namespace of the benchmark's own; "
      "% = throughput / the loopback row above it (same phase); "
      "*at MTU 1500*: / the row above it of a bare namespace's loopback with a veth's MTU\n")
print("| path | measured | TCP Gbit/s | % of loopback | % of loopback at MTU 1500 | "
      "RTT µs median (p10–p90) | target (of loopback) |")
print("|---|---|---|---|---|---|---|")
for r in rows:
    if r[2] == "-" and r[3] == "-" and r[0] != "loopback" and "->" not in r[1]:
        print(f"| {r[0]} | n/a: {r[1]} | - | - | - | - | |")
        continue
    print(f"| {r[0]} | {r[1]} | {r[2]} | {pct(r)} | {pct1500(r)} | {rtt(r)} | {target(r)} |")

# ------------------------------------------------------------ start time

starts = {}
for ln in open(starts_f):
    tag, mode, ms = ln.split()
    starts.setdefault((tag, mode), []).append(float(ms))


def q(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(p * len(v)))]


print("\n### `cell start` of a busybox system container: --net bridge next to --net none\n")
print(f"{starts_n} runs of each, alternating, each followed by `cell stop` (not timed); "
      "*warm*: two other containers keep the network (cell0) up; "
      "*cold*: the container is the network's only user, so its start makes the bridge, "
      "the nftables table and dnsmasq, and its stop removes them.\n")
print("| network | --net | median ms | p25–p75 | min–max | bridge adds (median) | target |")
print("|---|---|---|---|---|---|---|")
for tag in ("warm", "cold"):
    none, br = starts.get((tag, "none")), starts.get((tag, "bridge"))
    for mode, v in (("none", none), ("bridge", br)):
        if not v:
            continue
        add, tgt = "", ""
        if mode == "bridge" and none:
            d = statistics.median(v) - statistics.median(none)
            add = f"{d:+.1f} ms"
            tgt = "< 5 ms: met" if d < 5 else f"< 5 ms: **missed** by {d - 5:.1f} ms"
        print(f"| {tag} | {mode} | {statistics.median(v):.1f} | {q(v, .25):.1f}–{q(v, .75):.1f} "
              f"| {min(v):.1f}–{max(v):.1f} | {add} | {tgt} |")

# --------------------------------------------------------------- profile

LINE = re.compile(r"^(\d+)\s+([\d.]+)\s+(\w+)\((.*)\)\s+=\s+(.*?)\s+<([\d.]+)>$")


def calls(path):
    """(ms, pid, name, args, result) of each call that ended before `cell
    start` itself exited (strace went on following the supervisor), and the
    wall time of that start under strace in ms."""
    if not os.path.exists(path):
        return [], 0
    lines = open(path, errors="replace").read().splitlines()
    top = lines[0].split()[0] if lines else ""
    first = float(lines[0].split()[1]) if lines else 0
    end = next((float(ln.split()[1]) for ln in lines
                if ln.startswith(top + " ") and "+++ exited" in ln), float("inf"))
    out = []
    for ln in lines:
        m = LINE.match(ln.strip())
        if m and float(m.group(2)) <= end:
            out.append((float(m.group(6)) * 1000, m.group(1), m.group(3), m.group(4), m.group(5)))
            SPANS.setdefault(path, {}).setdefault(m.group(1), []).append((float(m.group(2)), m.group(3), m.group(4)))
    return out, (end - first) * 1000


SPANS = {}


def spans(path):
    """per process: what it ran (its last execve, else "cell, forked"), its
    first and last call in ms from the start, its number of calls"""
    out = []
    per = SPANS.get(path, {})
    t0 = min((c[0][0] for c in per.values()), default=0)
    for pid, cs in per.items():
        ex = [a for _, n, a in cs if n.startswith("execve")]
        what = ex[-1].split("[", 1)[-1].split(",")[0].strip('"') if ex else "(forked, no exec)"
        out.append(((cs[0][0] - t0) * 1000, (cs[-1][0] - t0) * 1000, pid, what, len(cs)))
    return sorted(out)


WAITS = {"wait4", "waitid", "poll", "ppoll", "epoll_wait", "epoll_pwait", "read", "select",
         "pselect6", "futex", "clock_nanosleep", "nanosleep", "pidfd_open", "rt_sigtimedwait"}
(none_c, none_w), (br_c, br_w) = (calls(os.path.join(work, "strace-" + m)) for m in ("none", "bridge"))
if br_c:
    def total(c, waits):
        return sum(t for t, _, name, _, _ in c if (name in WAITS) == waits)

    print("\n### Where the bridge start spends its time (`strace -f -T`, one start each)\n")
    print(f"Wall time of the start under strace: --net none {none_w:.1f} ms, --net bridge "
          f"{br_w:.1f} ms.  "
          f"Syscall time, every process of `cell start` (strace slows each call down): "
          f"--net none {total(none_c, False):.1f} ms working + {total(none_c, True):.1f} ms "
          f"waiting; --net bridge {total(br_c, False):.1f} ms working + "
          f"{total(br_c, True):.1f} ms waiting ({len(none_c)} and {len(br_c)} calls).\n")
    print("Each process of the bridge start (ms from the first call, until `cell start` exits):\n")
    print("| pid | runs | first call ms | last call ms | calls |")
    print("|---|---|---|---|---|")
    for a, b, pid, what, n in spans(os.path.join(work, "strace-bridge")):
        print(f"| {pid} | {what} | {a:.1f} | {b:.1f} | {n} |")
    print()
    print("The slowest calls of the bridge start that are not a wait (one run: a call")
    print("preempted on this shared 2-CPU machine shows up here too):\n")
    print("| ms | pid | call | argument | result |")
    print("|---|---|---|---|---|")
    for t, pid, name, args, res in sorted((c for c in br_c if c[2] not in WAITS), reverse=True)[:12]:
        a = args.replace("|", "\\|")[:70]
        print(f"| {t:.2f} | {pid} | {name} | `{a}` | {res[:30]} |")
    print("\nThe longest waits (a process waiting for another, or for the kernel):\n")
    print("| ms | pid | call | argument |")
    print("|---|---|---|---|")
    for t, pid, name, args, res in sorted((c for c in br_c if c[2] in WAITS), reverse=True)[:6]:
        print(f"| {t:.2f} | {pid} | {name} | `{args.replace('|', chr(92) + '|')[:70]}` |")
