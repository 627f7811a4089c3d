#!/usr/bin/python3
"""The layout's arrows, checked (see README, Layout).

Folders are layers: scand/base <- backends, outputs, rules <- scand/core <-
scand/service <- scand/cli. A file may #include only from its own folder and
the folders its layer may use; ui-gtk is a D-Bus client and includes none of
them. A module is a .c file with its .h and -private.h (same folder, same
name); no two modules may include each other, directly or round a longer
loop. With a build directory: libscand must not need a symbol that only the
program defines.

Usage: layout.py SRCDIR [BUILDDIR]   (exit 1 and one line per problem)
"""
import json
import os
import re
import subprocess
import sys

LAYERS = [
    ("scand/base", {"scand/base"}),
    ("backends", {"scand/base", "backends"}),
    ("outputs", {"scand/base", "outputs"}),
    ("rules", {"scand/base", "rules"}),
    ("scand/core", {"scand/base", "backends", "outputs", "rules", "scand/core"}),
    ("scand/service", {"scand/base", "backends", "outputs", "rules", "scand/core", "scand/service"}),
    ("scand/cli", {"scand/base", "backends", "outputs", "rules", "scand/core", "scand/service", "scand/cli"}),
    ("ui-gtk", {"ui-gtk"}),
]
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def folder_of(path):
    for folder, _ in LAYERS:
        if path.startswith(folder + "/"):
            return folder
    return None


def allowed(folder):
    return dict(LAYERS)[folder]


def module_of(path):
    """scand/core/job-private.h -> scand/core/job."""
    stem = os.path.splitext(path)[0]
    return stem[: -len("-private")] if stem.endswith("-private") else stem


def sources(srcdir):
    try:
        out = subprocess.run(["git", "-C", srcdir, "ls-files", "--cached", "--others", "--exclude-standard", "*.c", "*.h"], check=True, capture_output=True, text=True).stdout
        files = out.split()
    except (OSError, subprocess.CalledProcessError):
        files = []
        for root, _, names in os.walk(srcdir):
            files += [os.path.relpath(os.path.join(root, n), srcdir) for n in names if n.endswith((".c", ".h"))]
    return sorted(f for f in files if folder_of(f) and os.path.exists(os.path.join(srcdir, f)))


def resolve(srcdir, path, target):
    """The repository path an #include "target" in path names, or None (generated/system)."""
    for cand in (target, os.path.normpath(os.path.join(os.path.dirname(path), target))):
        if os.path.exists(os.path.join(srcdir, cand)):
            return cand
    return None


def find_cycles(graph):
    """Strongly connected components with more than one node (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def cycle_path(graph, comp, why):
    """One loop through a component, as "a -> b (why) -> a"."""
    start, members = comp[0], set(comp)
    path, seen = [start], {start}
    v = start
    while True:
        nxt = sorted(w for w in graph[v] if w in members)
        back = [w for w in nxt if w == start]
        w = back[0] if back and len(path) > 1 else next((w for w in nxt if w not in seen), nxt[0])
        path.append(w)
        if w in seen:
            break
        seen.add(w)
        v = w
    return " -> ".join(f"{a} ({why[(a, b)]})" for a, b in zip(path, path[1:])) + f" -> {path[-1]}"


def check_includes(srcdir, problems):
    graph, why = {}, {}
    for path in sources(srcdir):
        folder = folder_of(path)
        text = open(os.path.join(srcdir, path), encoding="utf-8", errors="replace").read()
        for n, target in ((text.count("\n", 0, m.start()) + 1, m.group(1)) for m in INCLUDE.finditer(text)):
            real = resolve(srcdir, path, target)
            if not real:
                continue
            tfolder = folder_of(real)
            if tfolder and tfolder not in allowed(folder):
                problems.append(f"{path}:{n}: includes {target}: {folder}/ may not use {tfolder}/ (README, Layout)")
            a, b = module_of(path), module_of(real)
            if a != b:
                graph.setdefault(a, set()).add(b)
                why.setdefault((a, b), f"{path} includes {real}")
    for comp in find_cycles(graph):
        problems.append("include cycle: " + cycle_path(graph, comp, why))


def nm_objects(builddir):
    """{source path: (defined symbols, undefined symbols)} for libscand's objects."""
    db = json.load(open(os.path.join(builddir, "compile_commands.json")))
    objs = {}
    for entry in db:
        out = os.path.join(entry["directory"], entry["output"])
        if "libscand.a.p" in out:
            objs[os.path.normpath(out)] = os.path.normpath(os.path.join(entry["directory"], entry["file"]))
    result = {}
    for obj, src in objs.items():
        if not os.path.exists(obj):
            continue
        lines = subprocess.run(["nm", "-P", obj], check=True, capture_output=True, text=True).stdout.splitlines()
        defined, used = set(), set()
        for line in lines:
            parts = line.split()
            if len(parts) < 2:
                continue
            name, kind = parts[0], parts[1]
            if kind == "U":
                used.add(name)
            elif kind in "TDBRVWGS":
                defined.add(name)
        result[src] = (defined, used)
    return result


def check_link(srcdir, builddir, problems):
    """libscand must not need a symbol that only the program (scand/cli) defines."""
    objs = nm_objects(builddir)
    if not objs:
        problems.append(f"{builddir}: no libscand objects found (build first)")
        return
    srcdir = os.path.realpath(srcdir)
    defined = set().union(*(d for d, _ in objs.values()))
    for src, (_, used) in sorted(objs.items()):
        rel = os.path.relpath(os.path.realpath(src), srcdir)
        for name in sorted(used):
            if name.startswith("scand_") and name not in defined:
                problems.append(f"{rel}: uses {name}, which libscand does not define (only the program does?)")


def main():
    srcdir = sys.argv[1]
    builddir = sys.argv[2] if len(sys.argv) > 2 else None
    problems = []
    check_includes(srcdir, problems)
    if builddir:
        check_link(srcdir, builddir, problems)
    for p in problems:
        print(p)
    print(f"{len(problems)} layout problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
