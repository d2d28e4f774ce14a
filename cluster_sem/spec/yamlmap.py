"""Where each key of a YAML document sits (line numbers), and duplicate keys.

``yaml.safe_load`` forgets positions and silently keeps the *last* of two equal keys (a second ``TS:``
under ``constructs`` would erase the first construct without a word).  A separate compose pass (no
object construction, so it is as safe as ``safe_load``) recovers both: a map from key paths such as
``constructs.RQ.items[2].reverse`` to 1-based line numbers, and the list of duplicated keys.
"""
from __future__ import annotations

import yaml

# libyaml's safe loader when PyYAML was built with it (the same documents and marks, ~20× faster: a 900 kB
# spec took 20 s to read twice with the pure-Python one); the pure-Python loader otherwise
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def key_lines(text: str) -> tuple[dict[str, int], list[tuple[str, str, int, int]]]:
    """Return ``(lines, duplicates)``.

    ``lines`` maps key paths to the line of the key (mappings) or of the element (sequences);
    ``duplicates`` lists ``(parent path, key, first line, second line)`` for keys written twice.
    Both are empty when the text cannot be composed (the loader reports the syntax error itself).
    """
    lines: dict[str, int] = {}
    dups: list[tuple[str, str, int, int]] = []
    try:
        root = yaml.compose(text, Loader=SAFE_LOADER)
    except yaml.YAMLError:
        return lines, dups

    def walk(node: yaml.Node | None, path: str) -> None:
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, int] = {}
            for key_node, value_node in node.value:
                key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
                line = key_node.start_mark.line + 1
                if key in seen:
                    dups.append((path, key, seen[key], line))
                seen.setdefault(key, line)
                lines.setdefault(_join(path, key), line)
                walk(value_node, _join(path, key))
        elif isinstance(node, yaml.SequenceNode):
            for i, child in enumerate(node.value):
                lines.setdefault(f"{path}[{i}]", child.start_mark.line + 1)
                walk(child, f"{path}[{i}]")

    walk(root, "")
    return lines, dups


def line_of(lines: dict[str, int], key_path: str) -> int | None:
    """Line of ``key_path`` or of its nearest written ancestor (``a.b[2].c`` → ``a.b[2]`` → ``a.b`` → ``a``)."""
    path = key_path
    while path:
        if path in lines:
            return lines[path]
        cut = max(path.rfind("."), path.rfind("["))
        path = path[:cut] if cut > 0 else ""
    return None
