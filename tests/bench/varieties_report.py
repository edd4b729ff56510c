#!/usr/bin/env python3
"""Per-variety precision and recall of `parley detect` on the labelled set.

    tests/bench/varieties_report.py [PARLEY_BIN] [tests/data/varieties.tsv]

A message counts as predicted variety V when the detector answers V; a null
variety is a miss for recall and no prediction for precision.
"""
import collections
import json
import os
import subprocess
import sys

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "build", "parley")
tsv = sys.argv[2] if len(sys.argv) > 2 else os.path.join(root, "tests", "data", "varieties.tsv")

gold, msgs = [], []
with open(tsv, encoding="utf-8") as f:
    for line in f:
        if line.startswith("#") or "\t" not in line:
            continue
        v, m = line.rstrip("\n").split("\t", 1)
        gold.append(v)
        msgs.append(m)
out = subprocess.run([binary, "detect", "--json"], input="\n".join(msgs) + "\n",
                     capture_output=True, text=True, check=True).stdout.splitlines()
pred = [json.loads(l)["variety"] or "null" for l in out]
tp, fp, fn = collections.Counter(), collections.Counter(), collections.Counter()
for g, p in zip(gold, pred):
    if g == p:
        tp[g] += 1
    else:
        fn[g] += 1
        if p != "null":
            fp[p] += 1
print("| variety | messages | precision | recall | no variety |")
print("| --- | ---: | ---: | ---: | ---: |")
nulls = collections.Counter(g for g, p in zip(gold, pred) if p == "null")
for v in sorted(set(gold)):
    prec = tp[v] / (tp[v] + fp[v]) if tp[v] + fp[v] else 0.0
    rec = tp[v] / (tp[v] + fn[v])
    print(f"| {v} | {tp[v] + fn[v]} | {prec:.2f} | {rec:.2f} | {nulls[v]} |")
acc = sum(tp.values()) / len(gold)
print(f"\n{len(gold)} messages, {sum(tp.values())} correct ({acc:.1%}), "
      f"{sum(nulls.values())} without a variety.")
