#!/usr/bin/env python3
"""The layering check: each module of doudou/src imports only modules on lower lines of the
layers that ARCHITECTURE.md lists (the block between `<!-- layers:begin -->` and
`<!-- layers:end -->`), so no two modules import each other, through any number of others.

    scripts/layers.py [--src doudou/src] [--doc ARCHITECTURE.md]

An import is a `crate::module` path anywhere in a file's code (`use` lines, nested groups,
inline paths; `super::x` in a module's own file); comments, string literals, `tests.rs` files
and `#[cfg(test)] mod ... { ... }` blocks are not read: tests may reach across. Exits 1 naming each import that runs up or sideways, and each module the
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


def strip(src):
    """The code of a Rust source without comments and string literals (their text could look
    like a path) and without `#[cfg(test)] mod tests { ... }` blocks: tests may reach across."""
    out, i, n = [], 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith("//", i):
            i = src.find("\n", i)
            i = n if i < 0 else i
        elif src.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if src.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif src.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    out.append("\n" if src[i] == "\n" else "")
                    i += 1
        elif c == '"' or (c == "r" and re.match(r'r#*"', src[i:i + 10]) and not re.match(r"\w", src[i - 1:i] or " ")):
            raw = re.match(r'r(#*)"', src[i:])
            if raw:
                end = src.find('"' + raw.group(1), i + len(raw.group(0)))
                i = n if end < 0 else end + 1 + len(raw.group(1))
            else:
                i += 1
                while i < n and src[i] != '"':
                    i += 2 if src[i] == "\\" else 1
                i += 1
            out.append('""')
        elif c == "'" and re.match(r"'(\\.|[^\\'])'", src[i:i + 4]):
            i += len(re.match(r"'(\\.|[^\\'])'", src[i:i + 4]).group(0))
            out.append("' '")
        else:
            out.append(c)
            i += 1
    code = "".join(out)
    while True:
        tests = re.search(r"#\[cfg\(test\)\]\s*mod\s+\w+\s*\{", code)
        if not tests:
            return code
        depth, j = 1, tests.end()
        while j < len(code) and depth:
            depth += {"{": 1, "}": -1}.get(code[j], 0)
            j += 1
        code = code[: tests.start()] + "\n" * code[tests.start():j].count("\n") + code[j:]


def code_of(path):
    return strip(open(path, encoding="utf-8").read())


def group_items(text):
    """The items of a use group's inside, split at its top-level commas."""
    items, depth, start = [], 0, 0
    for k, ch in enumerate(text):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            items.append(text[start:k])
            start = k + 1
    items.append(text[start:])
    return [i.strip() for i in items if i.strip()]


def imports(code, top_level):
    """The heads of the crate paths a file's code names (`crate::x`, and `super::x` in a
    module's own file, where `super` is the crate), with the line of the first mention."""
    found = {}
    prefix = r"(?<![\w$])(?:crate" + (r"|super" if top_level else "") + r")::"
    for m in re.finditer(prefix, code):
        line = code.count("\n", 0, m.start()) + 1
        rest = code[m.end():]
        if rest.startswith("{"):
            depth, k = 0, 0
            for k, ch in enumerate(rest):
                depth += {"{": 1, "}": -1}.get(ch, 0)
                if depth == 0:
                    break
            heads = [item.split("::")[0].strip() for item in group_items(rest[1:k])]
        else:
            heads = [re.match(r"\w*", rest).group(0)]
        for head in heads:
            head = head.split(" as ")[0].strip()
            if head and head not in ("self", "super", "crate"):
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
            files.append((entry[:-3], path, True))
        elif os.path.isdir(path):
            modules.add(entry)
            for root, _, names in os.walk(path):
                files += [(entry, os.path.join(root, n), root == path and n == "mod.rs")
                          for n in sorted(names) if n.endswith(".rs") and n != "tests.rs"]
    problems = [f"{args.doc}: the layers do not place the module `{m}` of {args.src}"
                for m in sorted(modules - order.keys())]
    problems += [f"{args.doc}: the layers name `{m}`, which {args.src} does not have"
                 for m in sorted(order.keys() - modules)]
    for module, path, top_level in files:
        for target, line in imports(code_of(path), top_level).items():
            if target not in modules:
                problems.append(f"{path}:{line}: `crate::{target}` is no module of the crate (a root "
                                f"re-export?); name the module that defines it (`crate::error::Error`), "
                                f"so that the import can be checked")
            elif target != module and module in order and target in order:
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
