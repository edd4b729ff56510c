#!/usr/bin/env python3
"""Scores detector outputs against the gold labels written by langid_data.py.

    langid_score.py DATADIR BUCKET PRED [PRED...] --names parley,cld2,eld
        [--langs en,es,...] [--markdown]

Each PRED file has one predicted language code per input line. Prints the
accuracy per language and the macro-average over the chosen languages.
"""
import argparse
import collections


def accuracy(gold, pred, langs):
    tot = collections.Counter()
    ok = collections.Counter()
    for g, p in zip(gold, pred):
        tot[g] += 1
        if g == p:
            ok[g] += 1
    per = {l: 100.0 * ok[l] / tot[l] for l in langs if tot[l]}
    macro = sum(per.values()) / len(per) if per else 0.0
    return per, macro


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("datadir")
    ap.add_argument("bucket")
    ap.add_argument("preds", nargs="+")
    ap.add_argument("--names", required=True)
    ap.add_argument("--langs", default="")
    ap.add_argument("--per-language", action="store_true")
    a = ap.parse_args()
    gold = [l.strip() for l in open(f"{a.datadir}/{a.bucket}.gold", encoding="utf-8")]
    langs = a.langs.split(",") if a.langs else sorted(set(gold))
    names = a.names.split(",")
    results = []
    for name, path in zip(names, a.preds):
        pred = [l.strip() for l in open(path, encoding="utf-8")]
        if len(pred) != len(gold):
            raise SystemExit(f"{path}: {len(pred)} predictions for {len(gold)} lines")
        results.append((name, *accuracy(gold, pred, langs)))
    if a.per_language:
        print("lang " + " ".join(f"{n:>7}" for n in names))
        for l in langs:
            print(f"{l:4} " + " ".join(f"{r[1].get(l, float('nan')):7.1f}" for r in results))
    print(f"{a.bucket} macro " + " ".join(f"{n}={r[2]:.1f}" for n, r in zip(names, results)))


if __name__ == "__main__":
    main()
