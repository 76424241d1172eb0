# SPDX-License-Identifier: LGPL-2.1-or-later
"""Driving attacks: runtime calls the integration driver has no knob for,
and waiting for evidence a detached attacker leaves in its bundle's out/."""
import os

import celltest


def run_with_fds(rt, *args, fds, cwd=None, timeout=20):
    """rt.cmd(*args), but the runtime starts with extra open fds -- what a
    careless caller leaks, or what --preserve-fds passes on purpose.
    fds: {fd number: host path}, opened read-only (directories too) by a
    shell redirection, hence not close-on-exec."""
    argv = [rt.binary, "--root", rt.s.state_root] + [str(a) for a in args]
    if args[0] in ("run", "create"):
        argv = ["unshare", "--uts", "--net", "--"] + argv   # as Runtime.create/run do
    env = dict(os.environ)
    redirs = []
    for n, path in sorted(fds.items()):
        env[f"CELLTEST_FD{n}"] = path
        redirs.append(f'{n}<"$CELLTEST_FD{n}"')
    wrapper = ["/bin/sh", "-c", 'exec "$@" ' + " ".join(redirs), "sh", *argv]
    return celltest.run_reaping(wrapper, timeout=timeout, cwd=cwd, env=env, tmpdir=rt.s.base)


def run_with_preexec(rt, preexec, *args, timeout=20):
    """rt.cmd(*args) with preexec (a callable) run in the runtime's process
    just before exec -- to start it in a prepared context."""
    return rt.cmd(*args, preexec=preexec, guard=args[0] in ("run", "create"), timeout=timeout)


def read(path):
    with open(path, errors="replace") as f:
        return f.read()


def wait_out(bundle, name, timeout=10, want=None):
    """Text of out/<name> once it exists (and contains want, if given)."""
    path = os.path.join(bundle.out, name)

    def ready():
        if not os.path.exists(path):
            return None
        text = read(path)
        return text if want is None or want in text else None
    return celltest.wait_for(ready, timeout=timeout,
                             what=path + (f" to contain {want!r}" if want else ""))


def release(bundle, name="go"):
    """Create out/<name>: the signal a waiting attacker polls for."""
    with open(os.path.join(bundle.out, name), "w") as f:
        f.write("go\n")


def apply_profile(bundle, profile):
    """profile "no-seccomp": drop linux.seccomp (see the profile fixture)."""
    if profile == "no-seccomp":
        bundle.linux.pop("seccomp", None)
    else:
        assert profile == "default", profile
    return bundle


def drop_capability(bundle, cap):
    caps = bundle.process.get("capabilities", {})
    for kind in caps:
        caps[kind] = [c for c in caps[kind] if c != cap]
