#!/usr/bin/env python3
"""Render collapsed stacks ("frame;frame;frame <samples>" per line, async-profiler's `collapsed` output) as a
static SVG flame graph: one box per frame, width proportional to its samples, callers below callees, a tooltip
(<title>) with the frame and its share. async-profiler 4 writes HTML flame graphs only; a plain SVG opens in any
browser or image viewer and diffs as text, so the benchmark documentation keeps SVGs.

Usage: flamegraph-svg.py STACKS.collapsed OUT.svg "title"
"""
import html
import sys

WIDTH = 1600
ROW = 16
MIN_WIDTH = 0.5  # pixels; narrower frames are not drawn (their samples still count in their parents)


def load(path):
    root = {"name": "all", "n": 0, "kids": {}}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            stack, _, count = line.rpartition(" ")
            n = int(count)
            node = root
            node["n"] += n
            for frame in stack.split(";"):
                node = node["kids"].setdefault(frame, {"name": frame, "n": 0, "kids": {}})
                node["n"] += n
    return root


def colour(name):
    # Java frames warm, native/kernel frames grey-blue, so the split is visible at a glance.
    h = sum(ord(c) for c in name) % 60
    if "/" not in name and "." not in name:
        return f"rgb({150 + h // 2},{160 + h // 2},{200 + h // 3})"
    return f"rgb({205 + h // 2},{90 + h * 2},{40 + h // 2})"


def render(root, title):
    total = root["n"] or 1
    depth = 0
    boxes = []

    def walk(node, x, level):
        nonlocal depth
        depth = max(depth, level)
        w = node["n"] / total * WIDTH
        if w < MIN_WIDTH:
            return
        boxes.append((x, level, w, node))
        cx = x
        for kid in sorted(node["kids"].values(), key=lambda k: k["name"]):
            walk(kid, cx, level + 1)
            cx += kid["n"] / total * WIDTH

    walk(root, 0.0, 0)
    height = (depth + 1) * ROW + 40
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
           f'font-family="monospace" font-size="11">',
           f'<text x="4" y="16" font-size="14">{html.escape(title)} ({root["n"]} samples)</text>']
    for x, level, w, node in boxes:
        y = height - (level + 1) * ROW
        share = node["n"] / total * 100
        label = html.escape(node["name"])
        out.append(f'<g><title>{label} ({node["n"]} samples, {share:.2f} %)</title>'
                   f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{ROW - 1}" fill="{colour(node["name"])}"/>')
        chars = int(w / 7)
        if chars >= 3:
            text = node["name"] if len(node["name"]) <= chars else node["name"][:chars - 2] + ".."
            out.append(f'<text x="{x + 2:.1f}" y="{y + ROW - 4}">{html.escape(text)}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: flamegraph-svg.py STACKS.collapsed OUT.svg TITLE")
    root = load(sys.argv[1])
    if root["n"] == 0:
        sys.exit(f"flamegraph-svg: {sys.argv[1]} has no samples")
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        f.write(render(root, sys.argv[3]))


if __name__ == "__main__":
    main()
