#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The graph logic of scripts/layers: layer order, tiers, cycles, nm parsing, baseline."""
import os
import sys
import unittest
from importlib.machinery import SourceFileLoader
from importlib.util import module_from_spec, spec_from_loader

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "..", "..", "scripts", "layers")
_loader = SourceFileLoader("layers", SCRIPT)
layers = module_from_spec(spec_from_loader("layers", _loader))
_loader.exec_module(layers)

L = "src/libcell/"


def graph(*edges):
    g = {}
    for a, b in edges:
        g.setdefault(a, {}).setdefault(b, {"sym"})
        g.setdefault(b, {})
    return g


class Cycles(unittest.TestCase):
    def test_none_in_a_dag(self):
        self.assertEqual(layers.cycles(graph(("a", "b"), ("b", "c"), ("a", "c"))), [])

    def test_two_node_cycle(self):
        self.assertEqual(layers.cycles(graph(("a", "b"), ("b", "a"), ("b", "c"))), [("a", "b")])

    def test_separate_cycles_and_a_bridge(self):
        g = graph(("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("d", "e"), ("e", "d"))
        self.assertEqual(layers.cycles(g), [("a", "b", "c"), ("d", "e")])

    def test_self_loop_is_no_cycle(self):
        self.assertEqual(layers.cycles(graph(("a", "a"))), [])

    def test_nested_cycles_are_one_component(self):
        g = graph(("a", "b"), ("b", "a"), ("b", "c"), ("c", "d"), ("d", "b"))
        self.assertEqual(layers.cycles(g), [("a", "b", "c", "d")])

    def test_deep_chain_needs_no_recursion(self):
        n = 5000
        g = graph(*[(f"n{i:05}", f"n{i + 1:05}") for i in range(n)], (f"n{n:05}", "n00000"))
        self.assertEqual(len(layers.cycles(g)[0]), n + 1)


class Order(unittest.TestCase):
    def test_directory_of(self):
        self.assertEqual(layers.directory_of(L + "state.c"), ".")
        self.assertEqual(layers.directory_of(L + "cgroup/cgroup.c"), "cgroup")

    def test_downward_allowed_upward_refused(self):
        self.assertIsNone(layers.allowed(L + "container.c", L + "base/util.c"))
        self.assertIsNone(layers.allowed(L + "manager/manager.c", L + "container.c"))
        self.assertIn("above", layers.allowed(L + "process/spawn.c", L + "state.c"))
        self.assertIn("above", layers.allowed(L + "base/util.c", L + "sys/fsctx.c"))

    def test_peers_of_one_layer_refused(self):
        self.assertIn("peers", layers.allowed(L + "image/oci.c", L + "storage/storage.c"))

    def test_same_directory_without_tiers_allowed(self):
        self.assertIsNone(layers.allowed(L + "linux/mounts.c", L + "linux/idmap.c"))

    def test_tiers(self):
        # the front calls a backend and helpers; a backend calls helpers
        self.assertIsNone(layers.allowed(L + "cgroup/cgroup.c", L + "cgroup/cgroup-v2.c"))
        self.assertIsNone(layers.allowed(L + "cgroup/cgroup-v2.c", L + "cgroup/cgroup-fs.c"))
        self.assertIn("each other", layers.allowed(L + "cgroup/cgroup-v1.c", L + "cgroup/cgroup-v2.c"))
        self.assertIn("lower tier", layers.allowed(L + "cgroup/cgroup-fs.c", L + "cgroup/cgroup.c"))
        self.assertIn("lower tier", layers.allowed(L + "storage/storage-fs.c",
                                                   L + "storage/storage-btrfs.c"))
        # an unlisted file is in the top tier, whose files may use each other
        self.assertIsNone(layers.allowed(L + "storage/storage-new.c", L + "storage/storage.c"))

    def test_unknown_directory_is_an_error(self):
        with self.assertRaises(KeyError):
            layers.layer_of(L + "criu/dump.c")

    def test_layer_table_covers_each_directory_once(self):
        dirs = [d for _, ds in layers.LAYERS for d in ds]
        self.assertEqual(len(dirs), len(set(dirs)))


class Extraction(unittest.TestCase):
    NM = ("build/a.o:0000000000000000 T cell_a\n"
          "build/a.o:                 U cell_b\n"
          "build/a.o:                 U strlen\n"
          "build/b.o:0000000000000010 T cell_b\n"
          "build/b.o:0000000000000000 D b_ops\n"
          "build/b.o:                 U cell_a\n"
          "build/b.o:                 U cell_b\n"
          "build/c.o:                 U b_ops\n"
          "build/other.o:0000000000000000 T cell_a\n")
    OBJS = {"build/a.o": L + "a.c", "build/b.o": L + "b.c", "build/c.o": L + "c.c"}

    def test_parse_nm_and_graph(self):
        defs, uses = layers.parse_nm(self.NM, self.OBJS)
        self.assertEqual(defs["cell_a"], {L + "a.c"})  # other.o is not libcell's
        self.assertEqual(uses[L + "a.c"], {"cell_b", "strlen"})
        g = layers.call_graph(defs, uses, sorted(self.OBJS.values()))
        self.assertEqual(g[L + "a.c"], {L + "b.c": {"cell_b"}})  # libc is no edge
        self.assertEqual(g[L + "b.c"], {L + "a.c": {"cell_a"}})  # its own symbol is no edge
        self.assertEqual(g[L + "c.c"], {L + "b.c": {"b_ops"}})  # a table is a dependency
        self.assertEqual(layers.cycles(g), [(L + "a.c", L + "b.c")])

    def test_functions_only(self):
        defs, uses = layers.parse_nm(self.NM, self.OBJS, functions_only=True)
        self.assertNotIn("b_ops", defs)
        g = layers.call_graph(defs, uses, sorted(self.OBJS.values()))
        self.assertEqual(g[L + "c.c"], {})

    def test_include_edges(self):
        files = {L + "process/spawn.c": '#include "spawn.h"\n#include "../state.h"\n'
                                        '#include <stdio.h>\n  # include "libcell/spec/version.h"\n'}
        edges = layers.include_edges(list(files), read=files.get, exists=lambda p: False)
        self.assertEqual(edges, {(L + "process/spawn.c", L + "process/spawn.h"),
                                 (L + "process/spawn.c", L + "state.h"),
                                 (L + "process/spawn.c", L + "spec/version.h")})


class Baseline(unittest.TestCase):
    def test_findings_and_compare(self):
        g = graph((L + "process/spawn.c", L + "state.c"), (L + "container.c", L + "container-ops.c"),
                  (L + "container-ops.c", L + "container.c"), (L + "container.c", L + "base/util.c"))
        inc = {(L + "process/spawn.c", L + "state.h"), (L + "container.c", L + "state.h"),
               (L + "cgroup/cgroup-fs.c", L + "cgroup/cgroup-internal.h")}
        found = layers.findings(g, inc)
        self.assertEqual(found, {f"call {L}process/spawn.c -> {L}state.c",
                                 f"include {L}process/spawn.c -> {L}state.h",
                                 f"cycle {L}container-ops.c {L}container.c"})
        old = {f"call {L}process/spawn.c -> {L}state.c", f"cycle {L}image/import.c {L}image/oci.c"}
        new, gone = layers.compare(found, old)
        self.assertEqual(new, sorted(found - old))
        self.assertEqual(gone, [f"cycle {L}image/import.c {L}image/oci.c"])
        self.assertEqual(layers.compare(found, set(found)), ([], []))

    def test_read_baseline_ignores_comments_and_spacing(self):
        path = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"layers-baseline-{os.getpid()}")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write("# header\n\ncall a ->  b   # why\n  cycle a b\n")
        try:
            self.assertEqual(layers.read_baseline(path), {"call a -> b", "cycle a b"})
        finally:
            os.unlink(path)


if __name__ == "__main__":
    sys.exit(unittest.main(verbosity=1))
