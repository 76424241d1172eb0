#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fixtures for tests/unit/test-image.c: OCI layouts and docker-archives.

usage: image-fixtures.py OUTDIR OUTSIDE

Writes into OUTDIR only.  OUTSIDE is an absolute path of a host directory
the malicious layers aim at (the test checks it is left alone).
"""
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile

MTIME = 1_000_000_000


def entry(kind, name, data=b"", mode=None, uid=0, gid=0, target=None, xattrs=None,
          major=0, minor=0):
    return dict(kind=kind, name=name, data=data, mode=mode, uid=uid, gid=gid,
                target=target, xattrs=xattrs or {}, major=major, minor=minor)


def d(name, mode=0o755, uid=0, gid=0):
    return entry("dir", name, mode=mode, uid=uid, gid=gid)


def f(name, data, mode=0o644, uid=0, gid=0, xattrs=None):
    return entry("file", name, data=data.encode() if isinstance(data, str) else data,
                 mode=mode, uid=uid, gid=gid, xattrs=xattrs)


def sym(name, target):
    return entry("symlink", name, target=target)


def hard(name, target):
    return entry("hardlink", name, target=target)


def wh(name):
    return f(name, b"", mode=0o600)


TYPES = {"dir": tarfile.DIRTYPE, "file": tarfile.REGTYPE, "symlink": tarfile.SYMTYPE,
         "hardlink": tarfile.LNKTYPE, "chr": tarfile.CHRTYPE, "fifo": tarfile.FIFOTYPE}
DEFAULT_MODE = {"dir": 0o755, "file": 0o644, "symlink": 0o777, "hardlink": 0o644,
                "chr": 0o666, "fifo": 0o600}


def tar_bytes(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for e in entries:
            ti = tarfile.TarInfo(e["name"])
            ti.type = TYPES[e["kind"]]
            ti.mode = e["mode"] if e["mode"] is not None else DEFAULT_MODE[e["kind"]]
            ti.uid, ti.gid, ti.mtime = e["uid"], e["gid"], MTIME
            ti.uname = ti.gname = ""
            if e["target"] is not None:
                ti.linkname = e["target"]
            if e["kind"] == "chr":
                ti.devmajor, ti.devminor = e["major"], e["minor"]
            ti.pax_headers = {"SCHILY.xattr." + k: v for k, v in e["xattrs"].items()}
            if e["kind"] == "file":
                ti.size = len(e["data"])
                t.addfile(ti, io.BytesIO(e["data"]))
            else:
                t.addfile(ti)
    return buf.getvalue()


def gz(data):
    return gzip.compress(data, mtime=0)


def zst(data):
    """tar+zstd with the zstd tool; gzip when it is missing."""
    if shutil.which("zstd") is None:
        return gz(data), "gzip"
    out = subprocess.run(["zstd", "-q", "-c"], input=data, stdout=subprocess.PIPE, check=True)
    return out.stdout, "zstd"


def sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Layout:
    """An OCI image layout being written."""

    def __init__(self, path):
        self.path = path
        os.makedirs(os.path.join(path, "blobs", "sha256"), exist_ok=True)
        with open(os.path.join(path, "oci-layout"), "w") as fh:
            json.dump({"imageLayoutVersion": "1.0.0"}, fh)

    def blob(self, data, media_type):
        digest = sha(data)
        with open(os.path.join(self.path, "blobs", "sha256", digest[7:]), "wb") as fh:
            fh.write(data)
        return {"mediaType": media_type, "digest": digest, "size": len(data)}

    def blob_path(self, desc):
        return os.path.join(self.path, "blobs", "sha256", desc["digest"][7:])

    def index(self, manifests):
        with open(os.path.join(self.path, "index.json"), "w") as fh:
            json.dump({"schemaVersion": 2, "manifests": manifests}, fh)


MT_LAYER = "application/vnd.oci.image.layer.v1.tar"
MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_INDEX = "application/vnd.oci.image.index.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"


def config_json(diff_ids, process=None):
    cfg = {"architecture": "amd64", "os": "linux",
           "rootfs": {"type": "layers", "diff_ids": diff_ids}}
    if process is not None:
        cfg["config"] = process
    return json.dumps(cfg).encode()


def oci_image(path, layers, process=None, diff_ids=None, platform=True, wrap=None):
    """layers: list of (uncompressed tar, compression name).  Returns descriptors."""
    lay = Layout(path)
    descs, ids = [], []
    for raw, comp in layers:
        ids.append(sha(raw))
        if comp == "gzip":
            descs.append(lay.blob(gz(raw), MT_LAYER + "+gzip"))
        elif comp == "zstd":
            data, used = zst(raw)
            descs.append(lay.blob(data, MT_LAYER + ("+zstd" if used == "zstd" else "+gzip")))
        else:
            descs.append(lay.blob(raw, MT_LAYER))
    cfg = lay.blob(config_json(diff_ids or ids, process), MT_CONFIG)
    manifest = {"schemaVersion": 2, "mediaType": MT_MANIFEST, "config": cfg, "layers": descs}
    mdesc = lay.blob(json.dumps(manifest).encode(), MT_MANIFEST)
    mdesc["platform"] = {"os": "linux", "architecture": "amd64"}
    # another platform first: picking it would fail on its missing blobs
    other = {"mediaType": MT_MANIFEST, "digest": "sha256:" + "0" * 64, "size": 10,
             "platform": {"os": "linux", "architecture": "arm64"}}
    entries = [other, mdesc] if platform else [mdesc]
    if wrap:
        inner = lay.blob(json.dumps({"schemaVersion": 2, "mediaType": MT_INDEX,
                                     "manifests": entries}).encode(), MT_INDEX)
        entries = [inner]
    lay.index(entries)
    return lay, descs, cfg


PASSWD = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n"
GROUP = "root:x:0:\napp:x:1000:\nextra:x:2000:app\nother:x:3000:someone,app\n"

PROCESS = {
    "Entrypoint": ["/bin/app"],
    "Cmd": ["--flag", "x"],
    "Env": ["PATH=/usr/bin:/bin", "FOO=bar"],
    "WorkingDir": "/srv",
    "User": "app",
    "StopSignal": "SIGQUIT",
    "Labels": {"org.example.a": "1", "b": "two"},
}


def good_layers():
    l1 = tar_bytes([
        d("etc/"), f("etc/passwd", PASSWD), f("etc/group", GROUP),
        d("a/"), f("a/keep-lower", "lower"), d("a/sub/"), f("a/sub/x", "x"),
        f("a/xattr-file", "x", xattrs={"user.cell": "yes"}),
        d("bin/"), f("bin/suid", "suid", mode=0o4755, uid=1000, gid=1000),
        d("opq/"), f("opq/lower1", "1"), d("opq/subdir/"), f("opq/subdir/deep", "d"),
        d("opq/keepdir/"), f("opq/keepdir/lowerfile", "l"),
        d("opq2/"), f("opq2/old", "old"),
        d("del/"), f("del/file", "gone"), f("del/other", "stays"),
        d("deldir/"), d("deldir/inner/"), f("deldir/inner/f", "f"),
        d("dev/"), entry("chr", "dev/null-dev", mode=0o666, major=1, minor=3),
        entry("fifo", "dev/fifo", mode=0o600),
        sym("replace-me", "a/keep-lower"),
        d("usr/"), d("usr/bin/"), sym("bin2", "usr/bin"),
    ])
    l2 = tar_bytes([
        wh("del/.wh.file"), wh(".wh.deldir"),
        d("opq/"), wh("opq/.wh..wh..opq"), f("opq/new", "new"),
        d("opq/keepdir/"), f("opq/keepdir/upper", "upper"),
        hard("a/hl", "a/keep-lower"),
        d("h/"), f("h/orig", "orig"), hard("h/link", "h/orig"),
        d("s/"), sym("s/abs", "/etc/passwd"), sym("s/rel", "../a/keep-lower"),
        f("a/sub", "now a file"),
        f("./bin2/tool", "via usrmerge symlink", mode=0o755),
    ])
    l3 = tar_bytes([
        f("opq2/fresh", "fresh"), wh("opq2/.wh..wh..opq"),
        f("replace-me", "replaced"),
        d("srv/", mode=0o750, uid=1000, gid=1000),
    ])
    return l1, l2, l3


def docker_archive(path, layers, process, new_style=False, compress=False):
    """layers: uncompressed tars.  Old style: <id>/layer.tar, the last one a symlink."""
    ids = [sha(x) for x in layers]
    cfg = config_json(ids, process)
    members, names = [], []
    if new_style:
        cfg_name = "blobs/sha256/" + sha(cfg)[7:]
        for x in layers:
            names.append("blobs/sha256/" + sha(x)[7:])
            members.append((names[-1], x, None))
    else:
        cfg_name = sha(cfg)[7:] + ".json"
        for i, x in enumerate(layers):
            lid = hashlib.sha256(b"layer-id-%d" % i).hexdigest()
            names.append(lid + "/layer.tar")
            if i == len(layers) - 1:  # shared layer: stored once, linked
                real = hashlib.sha256(b"real-%d" % i).hexdigest()
                members.append((real + "/layer.tar", x, None))
                members.append((names[-1], None, "../" + real + "/layer.tar"))
            else:
                members.append((names[-1], x, None))
    members.append((cfg_name, cfg, None))
    manifest = [{"Config": cfg_name, "RepoTags": ["cell-test:latest"], "Layers": names}]
    members.append(("manifest.json", json.dumps(manifest).encode(), None))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data, link in members:
            ti = tarfile.TarInfo(name)
            ti.mtime = MTIME
            if link:
                ti.type, ti.linkname = tarfile.SYMTYPE, link
                t.addfile(ti)
            else:
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
    data = buf.getvalue()
    with open(path, "wb") as fh:
        fh.write(gz(data) if compress else data)


def outside_dirs(outside):
    """Directory entries recreating OUTSIDE's path inside the tree."""
    parts = outside.strip("/").split("/")
    return [d("/".join(parts[:i + 1]) + "/") for i in range(len(parts))]


def malicious(out, outside):
    rel = "../" * 12 + outside.strip("/")
    oci_image(os.path.join(out, "evil-dotdot"), [(tar_bytes([f("../escape", "x")]), "none")])
    oci_image(os.path.join(out, "evil-abs"),
              [(tar_bytes([f(outside + "/abs-escape", "x")]), "none")])
    # contained: the symlinks resolve inside the tree, where OUTSIDE's path exists
    oci_image(os.path.join(out, "evil-contained"), [
        (tar_bytes(outside_dirs(outside) + [
            sym("evil", outside), f("evil/pwned", "contained"),
            sym("evil2", rel), f("evil2/pwned2", "contained"),
            wh("evil/.wh.victim"), sym("x", outside + "/target")]), "gzip"),
        (tar_bytes([f("x", "overwritten")]), "none"),
    ])
    # refused: a dangling symlink as a parent, hardlinks leaving the tree
    oci_image(os.path.join(out, "evil-dangling"),
              [(tar_bytes([sym("evil", outside), f("evil/pwned", "x")]), "none")])
    oci_image(os.path.join(out, "evil-hardlink"),
              [(tar_bytes([hard("hl", rel + "/target")]), "none")])
    oci_image(os.path.join(out, "evil-hardlink-sym"),
              [(tar_bytes([sym("ev", outside), hard("hl", "ev/target")]), "none")])


def broken(out):
    small = tar_bytes([d("etc/"), f("etc/hello", "hello " * 2000)])
    data = bytearray(gz(small))
    for i in range(20, 40):
        data[i] ^= 0x5A
    # digests of the corrupt bytes: only decompression can notice
    rewrite_layer(os.path.join(out, "corrupt-gzip"), bytes(data), small)

    rewrite_layer(os.path.join(out, "truncated-gzip"), gz(small)[:100], small)

    lay, descs, _ = oci_image(os.path.join(out, "bad-digest"), [(small, "none")])
    path = lay.blob_path(descs[0])
    data = bytearray(open(path, "rb").read())
    data[data.index(b"hello hello")] = ord("j")  # file data: same size, other content
    open(path, "wb").write(bytes(data))

    data = bytearray(small)
    data[data.index(b"etc/hello")] = ord("x")  # a header: its checksum no longer matches
    rewrite_layer(os.path.join(out, "damaged-tar"), gz(bytes(data)), small)

    lay, descs, _ = oci_image(os.path.join(out, "missing-blob"), [(small, "gzip")])
    os.unlink(lay.blob_path(descs[0]))

    oci_image(os.path.join(out, "bad-diffid"), [(small, "gzip")], diff_ids=[sha(b"other")])

    lay, _, _ = oci_image(os.path.join(out, "traversal-digest"), [(small, "none")])
    manifest = {"schemaVersion": 2, "mediaType": MT_MANIFEST,
                "config": {"mediaType": MT_CONFIG, "size": 10,
                           "digest": "sha256:../../../../../../../../etc/passwd"},
                "layers": []}
    lay.index([lay.blob(json.dumps(manifest).encode(), MT_MANIFEST)])


def rewrite_layer(path, blob, raw):
    """Replace the only layer of layout `path` by `blob`, digests updated."""
    shutil.rmtree(path, ignore_errors=True)
    lay = Layout(path)
    desc = lay.blob(blob, MT_LAYER + "+gzip")
    cfg = lay.blob(config_json([sha(raw)]), MT_CONFIG)
    manifest = {"schemaVersion": 2, "mediaType": MT_MANIFEST, "config": cfg, "layers": [desc]}
    lay.index([lay.blob(json.dumps(manifest).encode(), MT_MANIFEST)])


def main():
    out, outside = sys.argv[1], sys.argv[2]
    l1, l2, l3 = good_layers()
    oci_image(os.path.join(out, "good-oci"), [(l1, "gzip"), (l2, "none"), (l3, "zstd")], PROCESS)
    oci_image(os.path.join(out, "nested-oci"), [(l1, "gzip")], PROCESS, platform=False,
              wrap=True)
    docker_archive(os.path.join(out, "good-docker.tar"), [l1, l2, l3], PROCESS)
    docker_archive(os.path.join(out, "good-docker-new.tar.gz"), [l1, l2, l3], PROCESS,
                   new_style=True, compress=True)
    data = open(os.path.join(out, "good-docker.tar"), "rb").read()
    open(os.path.join(out, "truncated-docker.tar"), "wb").write(data[:len(data) // 2])
    malicious(out, outside)
    broken(out)


if __name__ == "__main__":
    main()
