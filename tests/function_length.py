#!/usr/bin/python3
"""Function length (STYLE): no production function longer than LIMIT lines,
counted from the line that names it to its closing brace, unless the comment
directly above it carries a `whole: reason` marker saying why it is better
whole. Production code: the C files under scand/, backends/, outputs/, rules/
and ui-gtk/. Usage: function_length.py SRCDIR [--list]"""
import os
import re
import subprocess
import sys

LIMIT = 80
FOLDERS = ("scand", "backends", "outputs", "rules", "ui-gtk")


def production_files(srcdir):
    try:
        out = subprocess.run(["git", "-C", srcdir, "ls-files", "*.c"], capture_output=True, text=True, check=True)
        files = out.stdout.split()
    except (OSError, subprocess.CalledProcessError):
        files = []
        for top in FOLDERS:
            for root, _, names in os.walk(os.path.join(srcdir, top)):
                files += [os.path.relpath(os.path.join(root, n), srcdir) for n in names if n.endswith(".c")]
    return sorted(f for f in files if f.split("/")[0] in FOLDERS)


def blank_out(text):
    """text with comments, string and character literals and preprocessor
    lines replaced by spaces (newlines kept, so offsets and lines stay)."""
    out = list(text)
    i, n = 0, len(text)
    at_line_start = True
    while i < n:
        c = text[i]
        if at_line_start and c == "#":
            # a directive, with its continuation lines
            j = i
            while j < n and not (text[j] == "\n" and text[j - 1] != "\\"):
                j += 1
            for k in range(i, j):
                if out[k] != "\n":
                    out[k] = " "
            i = j
            continue
        if c == "\n":
            at_line_start = True
            i += 1
            continue
        if c in " \t":
            i += 1
            continue
        at_line_start = False
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            j += 1
        else:
            i += 1
            continue
        for k in range(i, min(j, n)):
            if out[k] != "\n":
                out[k] = " "
        i = j
    return "".join(out)


def functions(text):
    """(name, first line, last line) of each function definition, 1-based."""
    code = blank_out(text)
    found = []
    depth = 0
    i = 0
    while i < len(code):
        c = code[i]
        if c == "{":
            if depth == 0:
                j = i - 1
                while j >= 0 and code[j].isspace():
                    j -= 1
                if j >= 0 and code[j] == ")":
                    # back to the matching '(' and the name before it
                    level = 0
                    while j >= 0:
                        if code[j] == ")":
                            level += 1
                        elif code[j] == "(":
                            level -= 1
                            if level == 0:
                                break
                        j -= 1
                    m = re.search(r"([A-Za-z_][A-Za-z0-9_]*)\s*$", code[:j])
                    if m:
                        start = code.count("\n", 0, m.start(1)) + 1
                        found.append([m.group(1), start, i])
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0 and found and isinstance(found[-1][2], int) and found[-1][2] >= 0 and len(found[-1]) == 3:
                open_at = found[-1][2]
                found[-1][2] = code.count("\n", 0, i) + 1
                found[-1].append(open_at)
        i += 1
    return [(f[0], f[1], f[2]) for f in found if len(f) == 4]


def marked_whole(lines, first):
    """Whether the comment block ending right above line first (1-based)
    says `whole:`."""
    k = first - 2
    if k < 0 or not (lines[k].rstrip().endswith("*/") or lines[k].lstrip().startswith("//")):
        return False
    while k >= 0:
        line = lines[k]
        if "whole:" in line:
            return True
        stripped = line.lstrip()
        if stripped.startswith("/*") or stripped.startswith("//") and (k == 0 or not lines[k - 1].lstrip().startswith("//")):
            return False
        k -= 1
    return False


def main():
    srcdir = sys.argv[1] if len(sys.argv) > 1 else "."
    listing = "--list" in sys.argv
    over, marked, total = [], [], 0
    for path in production_files(srcdir):
        with open(os.path.join(srcdir, path), encoding="utf-8", errors="replace") as f:
            text = f.read()
        lines = text.split("\n")
        for name, first, last in functions(text):
            total += 1
            length = last - first + 1
            if length <= LIMIT:
                continue
            entry = f"{path}:{first}: {name} is {length} lines"
            (marked if marked_whole(lines, first) else over).append(entry)
    if listing:
        for e in over + marked:
            print(e)
    for e in marked:
        print(f"whole by its comment: {e}")
    for e in over:
        print(f"over {LIMIT} lines: {e} (split it, or say why it is better whole in a /* whole: reason */ comment directly above it)", file=sys.stderr)
    print(f"{total} production functions, {len(over)} over {LIMIT} lines without a reason, {len(marked)} whole by their comment")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
