#!/usr/bin/env python3
"""Fails when a module of a crate imports a module that imports it back.

usage: tools/module_cycles.py SRC_DIR...   (e.g. crates/*/src src)

A module is a file (`mod.rs`/`lib.rs`/`main.rs` stand for their folder).
Module A uses module B when A's code (tests and comments excluded) names a
path into B: `use` trees and `crate::`/`super::`/`self::` paths, followed
through `pub use` re-exports to the module that defines the item. Uses
between a module and its own descendants or ancestors (a `mod.rs` declaring
and re-exporting its children, a child naming its parent) are structure,
not imports, and are left out. Every cycle among the rest is printed; the
exit code is 1 when there is one.
"""
import os
import re
import sys


def modules(src):
    mods = {}
    for root, _, files in os.walk(src):
        for f in files:
            if f.endswith('.rs'):
                path = os.path.join(root, f)
                rel = os.path.relpath(path, src)[:-3].split(os.sep)
                if rel[-1] in ('mod', 'lib', 'main'):
                    rel = rel[:-1]
                mods[tuple(rel)] = path
    return mods


def code_of(path):
    text = re.sub(r'//[^\n]*', '', open(path, encoding='utf-8').read())
    for marker in ('#[cfg(test)]\nmod tests', '#[cfg(test)]\n    mod tests'):
        i = text.find(marker)
        if i >= 0:
            text = text[:i]
    return text


def use_paths(tree, prefix):
    """Every full path of a `use` tree, as lists of segments."""
    tree = ' '.join(tree.split())
    m = re.match(r'^(.*?)::\{(.*)\}$', tree)
    if not m:
        name = tree.split(' as ')[0].strip()
        yield prefix + [x for x in name.split('::') if x]
        return
    base = prefix + [x for x in m.group(1).split('::') if x]
    depth, cur, parts = 0, '', []
    for ch in m.group(2):
        depth += (ch == '{') - (ch == '}')
        if ch == ',' and depth == 0:
            parts.append(cur)
            cur = ''
        else:
            cur += ch
    parts.append(cur)
    for part in parts:
        if part.strip():
            yield from use_paths(part.strip(), base)


def absolute(mods, module, parts):
    if not parts:
        return None
    if parts[0] == 'crate':
        return parts[1:]
    if parts[0] in ('self', 'super'):
        base = list(module)
        if parts[0] == 'self':
            parts = parts[1:]
        while parts and parts[0] == 'super':
            base, parts = base[:-1], parts[1:]
        return base + parts
    if tuple(list(module) + [parts[0]]) in mods:
        return list(module) + parts
    return None  # another crate, or std


def cycles(src):
    mods = modules(src)
    codes = {m: code_of(p) for m, p in mods.items()}
    reexports = {}
    for m, text in codes.items():
        for u in re.finditer(r'pub(?:\([^)]*\))?\s+use\s+([^;]+);', text):
            for path in use_paths(u.group(1), []):
                target = absolute(mods, m, path)
                if target:
                    reexports[(m, path[-1])] = target

    def resolve(parts, depth=0):
        best, at = (), 0
        for i in range(1, len(parts) + 1):
            if tuple(parts[:i]) in mods:
                best, at = tuple(parts[:i]), i
        if depth < 8 and at < len(parts) and (best, parts[at]) in reexports:
            return resolve(reexports[(best, parts[at])] + parts[at + 1:], depth + 1)
        return best

    edges = {}
    for m, text in codes.items():
        targets = set()
        for u in re.finditer(r'\buse\s+([^;]+);', text):
            for path in use_paths(u.group(1), []):
                target = absolute(mods, m, path)
                if target is not None:
                    targets.add(resolve(target))
        for p in re.finditer(r'\b(crate|super|self)((?:::[A-Za-z_]\w*)+)', text):
            target = absolute(mods, m, [p.group(1)] + p.group(2).split('::')[1:])
            if target is not None:
                targets.add(resolve(target))
        edges[m] = {t for t in targets
                    if t in mods and t[:len(m)] != m and m[:len(t)] != t}

    index, low, stack, on, found = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append((component, edges))

    sys.setrecursionlimit(10000)
    for v in mods:
        if v not in index:
            visit(v)
    return found


def main():
    bad = False
    for src in sys.argv[1:]:
        for component, edges in cycles(src):
            bad = True
            names = lambda m: '::'.join(m) or '<crate root>'
            print(f'{src}: import cycle among ' + ', '.join(sorted(map(names, component))))
            for a in component:
                for b in sorted(edges[a]):
                    if b in component:
                        print(f'    {names(a)} uses {names(b)}')
    sys.exit(1 if bad else 0)


if __name__ == '__main__':
    main()
