#!/usr/bin/env python3
"""Includes run one way (docs/ARCHITECTURE.md).

    contracts  <- core, bpf  <- engine, control

Each folder is a layer; a file may include headers of its own layer and of the layers below it,
never of a layer beside or above it: nothing includes engine or control, the dataplane never
includes control, contracts include nothing of ours outside contracts. Two modules of one layer
never include each other's header from their .c files (A.c -> B.h and B.c -> A.h: a cycle),
and a meson.build under dataplane/ never names control/.

    check-includes.py SOURCE_DIR              check the tree; exit 1 listing every violation
    check-includes.py --self-test SOURCE_DIR  copy the tree, add one wrong-way include and one
                                              cycle, and fail unless the check catches both
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

LAYERS = {
    "contracts": "contracts",
    "dataplane/core": "core",
    "bpf": "bpf",
    "dataplane/engine": "engine",
    "control": "control",
}
ALLOWED = {
    "contracts": {"contracts"},
    "core": {"contracts", "core"},
    "bpf": {"contracts", "bpf"},
    "engine": {"contracts", "core", "bpf", "engine"},
    "control": {"contracts", "core", "bpf", "control"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def layer_of(rel):
    d = os.path.dirname(rel)
    return LAYERS.get(d)


def sources(top):
    out = []
    for d in LAYERS:
        full = os.path.join(top, d)
        if not os.path.isdir(full):
            continue
        for f in sorted(os.listdir(full)):
            if f.endswith((".c", ".h")):
                out.append(os.path.join(d, f))
    return out


def check(top):
    files = sources(top)
    by_name = {}
    for rel in files:
        by_name.setdefault(os.path.basename(rel), []).append(rel)
    errors = []
    for name, where in by_name.items():
        if name.endswith(".h") and len(where) > 1:
            errors.append(f"header {name} exists twice: {', '.join(where)}")
    incs = {}
    for rel in files:
        with open(os.path.join(top, rel), encoding="utf-8", errors="replace") as f:
            text = f.read()
        lay = layer_of(rel)
        incs[rel] = []
        for inc in INCLUDE.findall(text):
            base = os.path.basename(inc)
            if "/" in inc:
                errors.append(f"{rel}: #include \"{inc}\" names a path; meson's include "
                              "directories say which layers a target sees")
            targets = by_name.get(base)
            if not targets:
                continue  # system-like or generated header
            tgt = targets[0]
            incs[rel].append(tgt)
            tl = layer_of(tgt)
            if tl not in ALLOWED[lay]:
                errors.append(f"{rel} ({lay}) includes {tgt} ({tl}): "
                              f"{lay} may include only {', '.join(sorted(ALLOWED[lay]))}")
    # A.c includes B.h and B.c includes A.h, A and B in one layer: two files calling each other.
    for rel in files:
        if not rel.endswith(".c") or rel.endswith("_test.c"):
            continue
        a = rel[:-2]
        for h in incs[rel]:
            b = h[:-2]
            if b == a or layer_of(h) != layer_of(rel):
                continue
            other = b + ".c"
            if other in incs and (a + ".h") in incs[other]:
                if a < b:
                    errors.append(f"{rel} and {other} include each other's header "
                                  "(modules that call each other)")
    for dirpath, _, names in os.walk(os.path.join(top, "dataplane")):
        if "meson.build" in names:
            p = os.path.join(dirpath, "meson.build")
            with open(p, encoding="utf-8") as f:
                for n, line in enumerate(f, 1):
                    code = line.split("#", 1)[0]
                    if re.search(r"(\.\./)+control|'control'", code):
                        errors.append(f"{os.path.relpath(p, top)}:{n}: names control/")
    return errors


def self_test(top):
    tmp = tempfile.mkdtemp(prefix="sb-includes-")
    try:
        listed = subprocess.run(["git", "-C", top, "ls-files"], capture_output=True, text=True)
        names = listed.stdout.split() if listed.returncode == 0 else [
            r for r in sources(top)] + [os.path.join(d, "meson.build") for d in LAYERS]
        for rel in names:
            if rel.endswith((".c", ".h", "meson.build")) and os.path.exists(os.path.join(top, rel)):
                os.makedirs(os.path.join(tmp, os.path.dirname(rel)), exist_ok=True)
                shutil.copy(os.path.join(top, rel), os.path.join(tmp, rel))
        base = check(tmp)
        if base:
            print("self-test: the tree itself fails the check:\n  " + "\n  ".join(base))
            return 1
        # A wrong-way include: the dataplane's engine reaching into control/.
        with open(os.path.join(tmp, "dataplane/engine/lcore.c"), "a") as f:
            f.write('\n#include "api.h"\n')
        # A cycle in one layer: two core modules calling each other.
        with open(os.path.join(tmp, "dataplane/core/pkt.c"), "a") as f:
            f.write('\n#include "dhcp.h"\n')
        with open(os.path.join(tmp, "dataplane/core/dhcp.c"), "a") as f:
            f.write('\n#include "pkt.h"\n')
        errs = check(tmp)
        wrong_way = any("lcore.c" in e and "api.h" in e for e in errs)
        cycle = any("include each other" in e and "pkt.c" in e for e in errs)
        print(f"self-test: wrong-way include caught: {wrong_way}; cycle caught: {cycle}")
        return 0 if wrong_way and cycle else 1
    finally:
        shutil.rmtree(tmp)


def main():
    args = sys.argv[1:]
    if args and args[0] == "--self-test":
        return self_test(args[1] if len(args) > 1 else ".")
    top = args[0] if args else "."
    errors = check(top)
    for e in errors:
        print("include rule: " + e)
    n = len(sources(top))
    print(f"{n} files checked, {len(errors)} violation(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
