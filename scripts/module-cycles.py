#!/usr/bin/env python3
"""Fails when two modules of the core depend on each other, directly or through others.

A module is a file under src/ (tests and the test double module excluded); module A depends on
B when A names a `crate::` path inside B (comments ignored). A parent and its own submodules
are one unit. Prints each cycle and exits 1, or prints "no module cycles".

    python3 scripts/module-cycles.py [SRC_DIR]
"""
import re
import sys
from pathlib import Path

src = Path(sys.argv[1] if len(sys.argv) > 1 else "src")
modules = {}
for path in src.rglob("*.rs"):
    rel = path.relative_to(src).with_suffix("")
    if rel.name in ("tests", "testing", "lib") or "tests" in rel.parts[:-1]:
        continue
    text = re.sub(r"//[^\n]*", "", path.read_text())
    modules["::".join(rel.parts)] = set(re.findall(r"crate::([a-z_]+(?:::[a-z_]+)*)", text))


def owner(reference):
    parts = reference.split("::")
    for end in range(len(parts), 0, -1):
        candidate = "::".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


def related(a, b):
    return a == b or a.startswith(b + "::") or b.startswith(a + "::")


graph = {
    name: {t for t in map(owner, refs) if t and not related(t, name)}
    for name, refs in modules.items()
}

# Tarjan's strongly connected components: every component of more than one module is a cycle.
index, low, stack, on_stack, cycles, counter = {}, {}, [], set(), [], [0]
sys.setrecursionlimit(10_000)


def visit(v):
    index[v] = low[v] = counter[0]
    counter[0] += 1
    stack.append(v)
    on_stack.add(v)
    for w in graph[v]:
        if w not in index:
            visit(w)
            low[v] = min(low[v], low[w])
        elif w in on_stack:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        component = []
        while True:
            w = stack.pop()
            on_stack.discard(w)
            component.append(w)
            if w == v:
                break
        if len(component) > 1:
            cycles.append(sorted(component))


for name in sorted(graph):
    if name not in index:
        visit(name)
for cycle in cycles:
    print("module cycle: " + " <-> ".join(cycle))
if cycles:
    sys.exit(1)
print(f"no module cycles ({len(modules)} modules)")
