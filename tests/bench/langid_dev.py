#!/usr/bin/env python3
"""Builds a development set for the language detector from the gettext
message catalogs installed on the machine (/usr/share/locale/*/LC_MESSAGES/
*.mo): translated user-interface strings, which are short like chat messages
and unrelated to both lingua's training text and its test sets. Used to
choose the detector's settings, so that lingua's test sets stay unseen.

    langid_dev.py MODELS OUTDIR [--per-bucket N] [--locale-dir DIR]

MODELS is the lingua-models folder (only for the list of languages). Writes
OUTDIR/{words1,words2-3,words4+,para}.{txt,gold}: strings of one word, two
or three words, and four or more, at most N per language and bucket (a fixed
pseudo-random sample), and "paragraphs" of sentence length (strings of four
or more words of one language joined until they reach 120 characters),
and "para-en": each paragraph of a language other than English after an
English passage of 30 to 90 characters (a pasted error message, a product
name, a header: text the answer must not follow). English comes from the
catalogs' msgids. Strings
equal to their msgid (untranslated) are skipped; format directives, markup
and accelerator marks are removed. The catalogs differ between machines, so
figures on this set are only comparable within one machine.
"""
import argparse
import gettext
import glob
import os
import random
import re

NOISE = re.compile(r"%(\(\w+\))?[-+ 0#]*\d*(\.\d+)?[a-zA-Z]|\{[^}]*\}|<[^>]+>|&\w+;|\\n|https?://\S+|\$\w+")
ACCEL = re.compile(r"[_&](?=\w)")
BUCKETS = ["words1", "words2-3", "words4+"]
PARA_CHARS = 120


def clean(s):
    s = NOISE.sub(" ", s)
    s = ACCEL.sub("", s)
    return " ".join(s.split())


def bucket_of(s):
    n = len(s.split())
    return "words1" if n == 1 else "words2-3" if n <= 3 else "words4+"


def catalog(path):
    with open(path, "rb") as f:
        try:
            return gettext.GNUTranslations(f)._catalog
        except Exception:
            return {}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("models")
    ap.add_argument("outdir")
    ap.add_argument("--per-bucket", type=int, default=300)
    ap.add_argument("--locale-dir", default="/usr/share/locale")
    a = ap.parse_args()
    langs = sorted(d for d in os.listdir(a.models) if d not in ("la", "eo"))
    found = {l: {b: set() for b in BUCKETS} for l in langs}
    for d in sorted(os.listdir(a.locale_dir)):
        lang = re.split(r"[_@.]", d)[0]
        for mo in sorted(glob.glob(os.path.join(a.locale_dir, d, "LC_MESSAGES", "*.mo"))):
            for k, v in catalog(mo).items():
                msgid = k[0] if isinstance(k, tuple) else k
                if not isinstance(v, str) or not msgid:
                    continue
                pairs = [("en", msgid)]
                if lang in found and v != msgid:
                    pairs.append((lang, v))
                for l, s in pairs:
                    s = clean(s)
                    if sum(c.isalpha() for c in s) >= 3 and len(s) <= 200:
                        found[l][bucket_of(s)].add(s)
    os.makedirs(a.outdir, exist_ok=True)
    rng = random.Random(4)
    paras = {}
    for l in langs:
        items = sorted(found[l]["words4+"])
        random.Random(l).shuffle(items)
        paras[l], cur = [], []
        for s in items:
            cur.append(s if s[-1:] in ".!?" else s + ".")
            if sum(len(c) + 1 for c in cur) >= PARA_CHARS:
                paras[l].append(" ".join(cur))
                cur = []
            if len(paras[l]) == a.per_bucket:
                break
    with open(os.path.join(a.outdir, "para.txt"), "w", encoding="utf-8") as out, \
         open(os.path.join(a.outdir, "para.gold"), "w", encoding="utf-8") as gold:
        for l in langs:
            for s in paras[l]:
                out.write(s + "\n")
                gold.write(l + "\n")
    english = [s for s in sorted(found["en"]["words4+"]) if 30 <= len(s) <= 90]
    rng_en = random.Random(7)
    with open(os.path.join(a.outdir, "para-en.txt"), "w", encoding="utf-8") as out, \
         open(os.path.join(a.outdir, "para-en.gold"), "w", encoding="utf-8") as gold:
        for l in langs:
            if l == "en":
                continue
            for s in paras[l]:
                out.write(rng_en.choice(english) + " " + s + "\n")
                gold.write(l + "\n")
    for b in BUCKETS:
        with open(os.path.join(a.outdir, b + ".txt"), "w", encoding="utf-8") as out, \
             open(os.path.join(a.outdir, b + ".gold"), "w", encoding="utf-8") as gold:
            for l in langs:
                items = sorted(found[l][b])
                rng.shuffle(items)
                for s in items[:a.per_bucket]:
                    out.write(s + "\n")
                    gold.write(l + "\n")


if __name__ == "__main__":
    main()
