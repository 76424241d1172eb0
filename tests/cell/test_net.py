# SPDX-License-Identifier: LGPL-2.1-or-later
"""Networking as a user of LXC or podman expects it, observed from inside the
containers and from the host.  The session's network namespace (conftest's
NetHost) plays the host: its bridges, veths, nftables table and dnsmasq exist
only there; further namespaces made here play a LAN and "the internet".
Busybox's wget cannot resolve names (a static glibc without NSS), so names
are shown with nslookup (its own resolver) and connections made by address."""
import json
import os
import subprocess
import time

import pytest

WWW = "hello from {name}"


def wait(cond, timeout=20, what="condition"):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def info(cell, name):
    return json.loads(cell("info", "--json", name, check=True).stdout)


def serve(cell, name, port=80):
    """busybox httpd in the container, serving a page that names it."""
    cell("exec", name, "--", "sh", "-c",
         f"mkdir -p /www && echo '{WWW.format(name=name)}' > /www/index.html && "
         f"httpd -p {port} -h /www", check=True)


def http_get(run, url, timeout=3):
    """GET url with busybox nc, run through run(shell_command) (busybox's static
    wget crashes where glibc's NSS modules are not found, in a container and on
    this host alike); stdout becomes the body, returncode 0 only for a 200."""
    hostport, _, path = url.split("://", 1)[1].partition("/")
    if hostport.startswith("["):
        host, _, port = hostport[1:].partition("]")
        port = port.lstrip(":") or "80"
    else:
        host, _, port = hostport.partition(":")
        port = port or "80"
    r = run(f"printf 'GET /{path} HTTP/1.0\\r\\n\\r\\n' | busybox nc -w {timeout} {host} {port}")
    head, _, body = r.stdout.partition("\n\n")
    if r.returncode == 0 and " 200 " not in head.split("\n", 1)[0]:
        r.returncode = 1
    r.stdout = body
    return r


def fetch_in(cell, name, url, timeout=3):
    return http_get(lambda sh: cell("exec", name, "--", "sh", "-c", sh), url, timeout)


def fetch_host(cell, url, timeout=3):
    return http_get(lambda sh: cell.net.run("sh", "-c", sh), url, timeout)


def started(cell, hint, *opts):
    n = cell.name(hint)
    cell("create", n, *opts, check=True)
    cell("start", n, check=True)
    return n


def addr(cell, name):
    ip = info(cell, name)["ip"]
    assert ip, f"{name} has no address"
    return ip.split(",")[0]


def destroy(cell, *names):
    for n in names:
        cell("destroy", "--force", n, check=True)
        cell.names.discard(n)


def gateway(ip):
    return ip.rsplit(".", 1)[0] + ".1"


def test_bridge_default_eth0_address_route_dns_files(cell):
    n = started(cell, "br")
    ip = addr(cell, n)
    ls = json.loads(cell("ls", "--json", check=True).stdout)
    assert [e["ip"] for e in ls if e["name"] == n] == [ip]       # ls and info agree
    assert ip in cell("ls", check=True).stdout
    r = cell("exec", n, "--", "sh", "-c",
             "ip -o -4 addr show eth0; ip route; cat /sys/class/net/eth0/mtu; "
             "cat /etc/resolv.conf /etc/hosts", check=True)
    assert f"inet {ip}/24" in r.stdout, r.stdout
    assert f"default via {gateway(ip)} dev eth0" in r.stdout, r.stdout
    assert "\n1500\n" in r.stdout
    assert f"nameserver {gateway(ip)}" in r.stdout
    assert any(ln.split()[:2] == [ip, n] for ln in r.stdout.splitlines() if ln.strip())
    # the host sees the bridge with the gateway address, and the container's veth on it
    br = json.loads(cell.net.run("ip", "-j", "addr", "show", "cell0", check=True).stdout)[0]
    assert gateway(ip) in [a["local"] for a in br["addr_info"]]
    destroy(cell, n)


def test_two_containers_reach_each_other_by_address_and_name(cell):
    a, b = started(cell, "peer-a"), started(cell, "peer-b")
    serve(cell, a)
    ip_a = addr(cell, a)
    r = fetch_in(cell, b, f"http://{ip_a}/")
    assert r.returncode == 0 and WWW.format(name=a) in r.stdout, r
    # the network's DNS answers the other's name (and its own)
    r = cell("exec", b, "--", "nslookup", a, gateway(ip_a), check=True)
    assert ip_a in r.stdout.split("Name:")[-1], r.stdout
    # the host reaches a container by its address
    r = fetch_host(cell, f"http://{ip_a}/")
    assert r.returncode == 0 and WWW.format(name=a) in r.stdout, r
    destroy(cell, a, b)


def test_published_ports_loopback_bridge_address_and_hairpin(cell):
    n = started(cell, "pub", "-p", "127.0.0.1:8080:80", "-p", "8081:80")
    serve(cell, n)
    gw = gateway(addr(cell, n))
    for url in ("http://127.0.0.1:8080/", f"http://{gw}:8081/"):
        r = fetch_host(cell, url)
        assert r.returncode == 0 and WWW.format(name=n) in r.stdout, (url, r)
    # hairpin: the container through its own published port on the host's address
    r = fetch_in(cell, n, f"http://{gw}:8081/")
    assert r.returncode == 0 and WWW.format(name=n) in r.stdout, r
    # the table holds the ports while the container runs, and goes with its last user
    rules = cell.net.run("nft", "list", "table", "inet", "cell", check=True).stdout
    assert "8080" in rules and "8081" in rules
    destroy(cell, n)
    assert not any("cell" in t for t in cell.net.nft_tables())


def test_networks_are_isolated_and_isolated_reaches_only_the_gateway(cell):
    net = "t-other"
    cell("network", "create", net, "--subnet", "10.77.1.0/24", check=True)
    iso = "t-iso"
    cell("network", "create", iso, "--subnet", "10.77.2.0/24", "--isolated", check=True)
    try:
        a = started(cell, "iso-a")
        b = started(cell, "iso-b", "--net", f"bridge={net}")
        c1 = started(cell, "iso-c", "--net", f"bridge={iso}")
        c2 = started(cell, "iso-d", "--net", f"bridge={iso}")
        for n in (a, b, c1, c2):
            serve(cell, n)
        assert addr(cell, b).startswith("10.77.1.")
        # another network's container is not reached, in either direction
        assert fetch_in(cell, b, f"http://{addr(cell, a)}/", timeout=2).returncode != 0
        assert fetch_in(cell, a, f"http://{addr(cell, b)}/", timeout=2).returncode != 0
        # on an isolated network, neighbours do not reach each other either...
        assert fetch_in(cell, c1, f"http://{addr(cell, c2)}/", timeout=2).returncode != 0
        # ...but the gateway (the host) is reached, and reaches them
        r = fetch_host(cell, f"http://{addr(cell, c1)}/")
        assert r.returncode == 0 and WWW.format(name=c1) in r.stdout, r
        ls = cell("network", "ls", "--json", check=True).stdout
        entry = [e for e in json.loads(ls) if e["name"] == iso][0]
        assert entry["isolated"] and entry["running"] == 2 and entry["subnet"] == "10.77.2.0/24"
        destroy(cell, a, b, c1, c2)
    finally:
        cell("network", "rm", net)
        cell("network", "rm", iso)
    assert net not in cell("network", "ls", check=True).stdout


def test_ipv6_network(cell):
    net = "t-six"
    cell("network", "create", net, "--subnet", "10.77.6.0/24", "--ipv6", "fd00:77:6::/64",
         check=True)
    try:
        a, b = (started(cell, h, "--net", f"bridge={net}") for h in ("six-a", "six-b"))
        ips = info(cell, a)["ip"].split(",")
        assert len(ips) == 2 and ips[1].startswith("fd00:77:6::"), ips
        serve(cell, a)
        r = fetch_in(cell, b, f"http://[{ips[1]}]/")
        assert r.returncode == 0 and WWW.format(name=a) in r.stdout, r
        r = fetch_host(cell, f"http://[{ips[1]}]/")
        assert r.returncode == 0, r
        r = cell("exec", b, "--", "ip", "-6", "route", check=True).stdout
        assert "default via fd00:77:6::1" in r, r
        destroy(cell, a, b)
    finally:
        cell("network", "rm", net)


def test_pinned_address_and_mac_and_a_taken_address_is_refused(cell):
    a = cell.name("pin-a")
    cell("create", a, "--ip", "10.66.0.200", "--mac", "02:00:00:00:00:c8", check=True)
    assert info(cell, a)["ip"] == "10.66.0.200"
    cell("start", a, check=True)
    r = cell("exec", a, "--", "cat", "/sys/class/net/eth0/address", check=True)
    assert r.stdout.strip() == "02:00:00:00:00:c8"
    b = cell.name("pin-b")
    r = cell("create", b, "--ip", "10.66.0.200")
    assert r.returncode != 0 and a in r.stderr and "10.66.0.200" in r.stderr, r.stderr
    assert not os.path.exists(os.path.join(cell.store, "containers", b))   # nothing half made
    cell.names.discard(b)
    destroy(cell, a)


def test_a_second_store_never_gets_the_same_address(cell):
    from conftest import Cell
    other = Cell(shared=cell)
    try:
        a = started(cell, "st-a")
        b = other.name("st-b")
        other("create", b, check=True)
        other("start", b, check=True)
        ip_b = json.loads(other("info", "--json", b, check=True).stdout)["ip"]
        assert ip_b and ip_b != addr(cell, a)
        serve(cell, a)
        r = fetch_in(other, b, f"http://{addr(cell, a)}/")
        assert r.returncode == 0 and WWW.format(name=a) in r.stdout, r
        destroy(cell, a)
    finally:
        other.cleanup()


def test_join_another_containers_network(cell):
    a = started(cell, "pod-a")
    b = started(cell, "pod-b", "--net", f"container={a}")
    serve(cell, a)
    r = fetch_in(cell, b, "http://127.0.0.1/")
    assert r.returncode == 0 and WWW.format(name=a) in r.stdout, r
    assert info(cell, b)["ip"] == ""
    destroy(cell, b, a)


class Namespace:
    """A further network namespace of the test's own, wired to the session's
    host namespace by a veth (host end `host_if`, its end `eth0`)."""

    def __init__(self, cell, host_if, host_addr, addr):
        self.proc = subprocess.Popen(["unshare", "--net", "--", "sleep", "infinity"])
        self.path = f"/proc/{self.proc.pid}/ns/net"
        own = os.readlink("/proc/self/ns/net")
        wait(lambda: os.readlink(self.path) != own, what="a namespace")
        self.cell, self.host_if = cell, host_if
        h = cell.net
        h.run("ip", "link", "add", host_if, "type", "veth", "peer", "name", "eth0",
              "netns", self.path, check=True)
        if host_addr:
            h.run("ip", "addr", "add", host_addr, "dev", host_if, check=True)
        h.run("ip", "link", "set", host_if, "up", check=True)
        for cmd in (["ip", "addr", "add", addr, "dev", "eth0"], ["ip", "link", "set", "eth0", "up"],
                    ["ip", "link", "set", "lo", "up"]):
            self.run(*cmd, check=True)
        self.servers = []

    def run(self, *args, check=False):
        r = subprocess.run(["nsenter", f"--net={self.path}", "--", *args], capture_output=True,
                           text=True, timeout=30)
        assert not check or r.returncode == 0, r
        return r

    def serve_cgi(self, root, port=80):
        """httpd whose /cgi-bin/who prints the peer's address as it sees it."""
        os.makedirs(os.path.join(root, "cgi-bin"))
        who = os.path.join(root, "cgi-bin", "who")
        with open(who, "w") as f:
            f.write("#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\n%s\\n' \"$REMOTE_ADDR\"\n")
        os.chmod(who, 0o755)
        p = subprocess.Popen(["nsenter", f"--net={self.path}", "--", "busybox", "httpd", "-f",
                              "-p", str(port), "-h", root])
        self.servers.append(p)

    def close(self):
        for p in self.servers:
            p.kill()
            p.wait()
        self.cell.net.run("ip", "link", "del", self.host_if)
        self.proc.kill()
        self.proc.wait()


def test_outbound_nat_to_the_internet(cell, tmp_path):
    inet = Namespace(cell, "ct-inet", "198.51.100.1/24", "198.51.100.2/24")
    try:
        inet.serve_cgi(str(tmp_path / "www"))
        n = started(cell, "nat")
        wait(lambda: http_get(lambda sh: inet.run("sh", "-c", sh),
                              "http://127.0.0.1/cgi-bin/who").returncode == 0, what="httpd")
        r = fetch_in(cell, n, "http://198.51.100.2/cgi-bin/who")
        # the internet has no route to the container's subnet: the reply came back
        # because the host masqueraded the container behind its own address
        seen = r.stdout.strip().strip("[]").replace("::ffff:", "")
        assert r.returncode == 0 and seen == "198.51.100.1", r
        destroy(cell, n)
    finally:
        inet.close()


def test_macvlan_between_two_namespaces(cell, tmp_path):
    lan = Namespace(cell, "ct-lan", None, "192.168.77.1/24")
    try:
        n = started(cell, "mv", "--net", "macvlan=ct-lan", "--ip", "192.168.77.10/24")
        serve(cell, n)
        r = http_get(lambda sh: lan.run("sh", "-c", sh), "http://192.168.77.10/")
        assert r.returncode == 0 and WWW.format(name=n) in r.stdout, r
        r = cell("exec", n, "--", "ip", "-o", "-4", "addr", "show", "eth0", check=True)
        assert "192.168.77.10/24" in r.stdout
        destroy(cell, n)
    finally:
        lan.close()


def test_ipvlan_where_the_kernel_has_none_says_so(cell):
    if os.path.exists("/sys/module/ipvlan"):
        pytest.skip("this kernel has ipvlan")
    n = cell.name("ipv")
    cell("create", n, "--net", "ipvlan=lo", "--ip", "192.168.78.10/24", check=True)
    r = cell("start", n)
    assert r.returncode != 0 and "ipvlan" in r.stderr, r.stderr
    assert info(cell, n)["state"] == "stopped"
    destroy(cell, n)


def records_of(cell, name):
    d = os.path.join(cell.env["CELL_NET_RUNTIME_DIR"], "links")
    out = []
    for f in os.listdir(d) if os.path.isdir(d) else []:
        with open(os.path.join(d, f)) as fh:
            if json.load(fh)["name"] == name:
                out.append(f)
    return out


def test_kill_9_of_the_supervisor_then_destroy_leaves_nothing(cell):
    n = started(cell, "k9", "-p", "8090:80")
    sup = info(cell, n)["supervisor"]["pid"]
    before = set(cell.net.links())
    assert records_of(cell, n)
    os.kill(sup, 9)
    cell("destroy", "--force", n, check=True)
    cell.names.discard(n)
    after = set(cell.net.links())
    assert not after - before
    assert len([l for l in before - after if l.startswith("cv")]) == 1, (before, after)
    assert not records_of(cell, n)
    with open(os.path.join(cell.env["CELL_NET_DIR"], "networks.json")) as f:
        assert not [l for l in json.load(f)["leases"] if l["name"] == n]
    if not any(l.startswith("cv") for l in after):    # it was the last container on a bridge
        assert not cell.net.dnsmasqs()
        assert not any("cell" in t for t in cell.net.nft_tables())
        assert "cell0" not in after
    else:
        rules = cell.net.run("nft", "list", "table", "inet", "cell", check=True).stdout
        assert "8090" not in rules


def test_a_clone_gets_its_own_address_and_mac(cell):
    src = cell.name("cl-src")
    cell("create", src, "--ip", "10.66.0.210", "--mac", "02:00:00:00:00:d2", check=True)
    dst = cell.name("cl-dst")
    cell("clone", src, dst, check=True)
    ip = info(cell, dst)["ip"]
    assert ip and ip != "10.66.0.210"                    # leased at clone: ls shows it
    for n in (src, dst):
        cell("start", n, check=True)
    macs = {n: cell("exec", n, "--", "cat", "/sys/class/net/eth0/address", check=True).stdout.strip()
            for n in (src, dst)}
    assert macs[src] == "02:00:00:00:00:d2" and macs[dst] != macs[src], macs
    serve(cell, src)
    r = fetch_in(cell, dst, "http://10.66.0.210/")
    assert r.returncode == 0 and WWW.format(name=src) in r.stdout, r
    inspect = json.loads(cell("network", "inspect", "cell0", check=True).stdout)
    held = {c["name"]: c["ipv4"] for c in inspect["leases"]}
    assert held[src] == "10.66.0.210" and held[dst] == ip, inspect
    destroy(cell, dst, src)
