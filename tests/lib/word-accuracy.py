#!/usr/bin/python3
"""Word accuracy of extracted text against the known text.

Usage: word-accuracy.py TRUTH.txt EXTRACTED.txt
Prints the accuracy in percent: 100 * (1 - word edit distance / truth words),
words compared case-sensitively after stripping punctuation at their ends.
"""
import sys


def words(path):
    with open(path, encoding='utf-8', errors='replace') as f:
        out = []
        for w in f.read().split():
            w = w.strip('.,;:!?"\'()[]')
            if w:
                out.append(w)
        return out


def distance(a, b):
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, y in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y))
        prev = cur
    return prev[len(b)]


truth, got = words(sys.argv[1]), words(sys.argv[2])
acc = 100.0 * (1 - distance(truth, got) / max(len(truth), 1))
print('%.2f' % max(acc, 0.0))
