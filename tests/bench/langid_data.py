#!/usr/bin/env python3
"""Prepares the benchmark inputs from lingua's test sets: one file per
bucket with every message, and a parallel file with the expected language.

    langid_data.py TESTDATA OUTDIR [--langs en,es,...] [--skip N]

Buckets: sentences, word-pairs, single-words, and chat30 (the first 30
characters of each sentence, cut at a character boundary). --skip N leaves
out the first N lines of every file (they were used to tune the detector).
"""
import argparse
import os

BUCKETS = [("sentences", "sentences"), ("word-pairs", "word-pairs"),
           ("single-words", "single-words"), ("chat30", "sentences")]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("testdata")
    ap.add_argument("outdir")
    ap.add_argument("--langs", default="")
    ap.add_argument("--skip", type=int, default=0)
    ap.add_argument("--limit", type=int, default=0, help="at most N lines per file")
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    want = set(a.langs.split(",")) if a.langs else None
    for bucket, src in BUCKETS:
        d = os.path.join(a.testdata, src)
        langs = sorted(f[:-4] for f in os.listdir(d) if f.endswith(".txt"))
        with open(os.path.join(a.outdir, bucket + ".txt"), "w", encoding="utf-8") as out, \
             open(os.path.join(a.outdir, bucket + ".gold"), "w", encoding="utf-8") as gold:
            for lang in langs:
                if want and lang not in want:
                    continue
                with open(os.path.join(d, lang + ".txt"), encoding="utf-8") as f:
                    lines = [l.strip() for l in f if l.strip()]
                lines = lines[a.skip:]
                if a.limit:
                    lines = lines[:a.limit]
                for l in lines:
                    if bucket == "chat30":
                        l = l[:30].strip()
                    out.write(l.replace("\n", " ") + "\n")
                    gold.write(lang + "\n")


if __name__ == "__main__":
    main()
