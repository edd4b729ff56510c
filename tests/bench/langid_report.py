#!/usr/bin/env python3
"""Turns the outputs of tests/bench/langid.sh into the Markdown tables of
docs/benchmarks.md.

    langid_report.py RESULTS_DIR parley,cld2,eld [parley22,eld22]

The optional second list names runs restricted to the 22 languages of the
goal; they appear in the 22-language table only.

RESULTS_DIR holds data/<bucket>.{txt,gold} and <detector>/<bucket>.{pred,time}.
"""
import os
import sys

from langid_score import accuracy

BUCKETS = ["sentences", "chat30", "word-pairs", "single-words"]
L22 = "en es pt fr de it nl sv pl ru uk tr ar fa ur he zh ja ko th vi hi".split()


def read(path):
    with open(path, encoding="utf-8") as f:
        return [l.rstrip("\n") for l in f]


def timing(path):
    vals = {}
    for tok in read(path)[-1].split():
        k, _, v = tok.partition("=")
        vals[k] = float(v)
    return vals


def main():
    res, names = sys.argv[1], sys.argv[2].split(",")
    restricted = sys.argv[3].split(",") if len(sys.argv) > 3 else []
    gold = {b: read(os.path.join(res, "data", b + ".gold")) for b in BUCKETS}
    pred = {(n, b): read(os.path.join(res, n, b + ".pred"))
            for n in names + restricted for b in BUCKETS}
    all_langs = sorted(set(gold["sentences"]))

    def table(title, langs, rows=None):
        print(f"\n{title}\n")
        print("| detector | " + " | ".join(BUCKETS) + " |")
        print("| --- |" + " ---: |" * len(BUCKETS))
        for n in rows or names:
            cells = [f"{accuracy(gold[b], pred[(n, b)], langs)[1]:.2f}" for b in BUCKETS]
            print(f"| {n} | " + " | ".join(cells) + " |")

    table("Macro-average accuracy (%), the 22 languages of the goal:", L22)
    if restricted:
        table("Macro-average accuracy (%), the 22 languages, each detector restricted to "
              "those 22 (Parley's allowed-language set, ELD's language subset):", L22, restricted)
    table(f"Macro-average accuracy (%), all {len(all_langs)} languages of the test data "
          "(a language a detector does not support counts as wrong):", all_langs)
    table("Indonesian / Malay (macro-average of id and ms):", ["id", "ms"])

    print("\nid/ms confusion (messages of one labelled as the other, all buckets):\n")
    print("| detector | id -> ms | ms -> id | id+ms messages |")
    print("| --- | ---: | ---: | ---: |")
    for n in names:
        a = b_ = tot = 0
        for b in BUCKETS:
            for g, p in zip(gold[b], pred[(n, b)]):
                if g in ("id", "ms"):
                    tot += 1
                    a += g == "id" and p == "ms"
                    b_ += g == "ms" and p == "id"
        print(f"| {n} | {a} | {b_} | {tot} |")

    print("\nSpeed on one core (taskset), all languages' sentences, by CPU time of the"
          " process (wall clock in brackets), and peak resident memory:\n")
    print("| detector | messages/s | chat30 messages/s | MB/s | peak RSS (MB) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for n in names:
        t = timing(os.path.join(res, n, "sentences.time"))
        c = timing(os.path.join(res, n, "chat30.time"))
        print(f"| {n} | {t['cpu_msgs_per_s']:,.0f} ({t['msgs_per_s']:,.0f}) | "
              f"{c['cpu_msgs_per_s']:,.0f} ({c['msgs_per_s']:,.0f}) | "
              f"{t['cpu_mb_per_s']:.2f} | {max(t['maxrss_mb'], c['maxrss_mb']):.0f} |")

    print("\nPer language, sentences / chat30 / word pairs / single words (22 languages):\n")
    print("| lang | " + " | ".join(names) + " |")
    print("| --- |" + " --- |" * len(names))
    for l in L22:
        cells = []
        for n in names:
            vals = [accuracy(gold[b], pred[(n, b)], [l])[1] for b in BUCKETS]
            cells.append(" / ".join(f"{v:.0f}" for v in vals))
        print(f"| {l} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
