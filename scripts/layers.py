#!/usr/bin/env python3
"""The layering check: each module of doudou/src imports only modules on lower lines of the
layers that ARCHITECTURE.md lists (the block between `<!-- layers:begin -->` and
`<!-- layers:end -->`), so no two modules import each other, through any number of others.

    scripts/layers.py [--src doudou/src] [--doc ARCHITECTURE.md]

An import is a `crate::module` path anywhere in a file's code (`use` lines and inline paths);
comments, `tests.rs` files and a trailing `#[cfg(test)] mod tests { ... }` are not read: tests
may reach across. Exits 1 naming each import that runs up or sideways, and each module the
document does not place."""

import argparse
import os
import re
import sys


def layers(doc_path):
    text = open(doc_path, encoding="utf-8").read()
    match = re.search(r"<!-- layers:begin -->(.*?)<!-- layers:end -->", text, re.S)
    if not match:
        sys.exit(f"{doc_path}: no block between <!-- layers:begin --> and <!-- layers:end -->")
    order = {}
    lines = [l for l in match.group(1).splitlines() if l.strip() and not l.startswith("```")]
    # The block lists the top layer first; number the bottom one 0.
    for height, line in enumerate(reversed(lines)):
        names = re.split(r"\s{2,}", line.strip())[0]  # then, after two spaces, what they do
        for name in re.split(r"[,\s]+", names):
            if name:
                order[name] = height
    return order


def code_of(path):
    src = open(path, encoding="utf-8").read()
    src = re.sub(r"//[^\n]*", "", src)
    tests = re.search(r"#\[cfg\(test\)\]\s*mod tests\s*\{", src)
    return src[: tests.start()] if tests else src


def imports(code):
    """The crate modules a file's code names, with the line of the first mention."""
    found = {}
    for m in re.finditer(r"\bcrate::(\{[^;]*?\}|\w+)", code):
        line = code.count("\n", 0, m.start()) + 1
        target = m.group(1)
        heads = [p.strip().split("::")[0] for p in re.split(r",\s*(?![^{]*\})", target[1:-1])] \
            if target.startswith("{") else [target]
        for head in heads:
            head = head.strip("{} ")
            if head and head != "self":
                found.setdefault(head, line)
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", default="doudou/src")
    parser.add_argument("--doc", default="ARCHITECTURE.md")
    args = parser.parse_args()
    order = layers(args.doc)
    modules = set()
    files = []
    for entry in sorted(os.listdir(args.src)):
        path = os.path.join(args.src, entry)
        if entry.endswith(".rs") and entry != "lib.rs":
            modules.add(entry[:-3])
            files.append((entry[:-3], path))
        elif os.path.isdir(path):
            modules.add(entry)
            for root, _, names in os.walk(path):
                files += [(entry, os.path.join(root, n)) for n in sorted(names)
                          if n.endswith(".rs") and n != "tests.rs"]
    problems = [f"{args.doc}: the layers do not place the module `{m}` of {args.src}"
                for m in sorted(modules - order.keys())]
    problems += [f"{args.doc}: the layers name `{m}`, which {args.src} does not have"
                 for m in sorted(order.keys() - modules)]
    for module, path in files:
        for target, line in imports(code_of(path)).items():
            if target[0].isupper():
                problems.append(f"{path}:{line}: `crate::{target}` names a root re-export; name its "
                                f"module (`crate::error::Error`), so that the import can be checked")
            elif target in modules and target != module and module in order and target in order:
                if order[target] >= order[module]:
                    where = "above" if order[target] > order[module] else "beside"
                    problems.append(f"{path}:{line}: `{module}` imports `crate::{target}`, which stands "
                                    f"{where} it in {args.doc}'s layers; move what both need lower, "
                                    f"or the import's user higher")
    for p in problems:
        print(p)
    if problems:
        return 1
    print(f"layers: {len(files)} files in {len(modules)} modules import only lower layers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
