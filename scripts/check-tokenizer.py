#!/usr/bin/env python3
"""Check a converted tokenizer.json against the reference token ids.

Usage: check-tokenizer.py MODEL_DIR [--shared DIR]

Tokenizes the WikiText-2 test text (rows joined with "\\n\\n", see
shared/data/wikitext-2-raw/README.md) with the PyPI `tokenizers` package and compares
count and sha256 of the ids (int32 little-endian) with shared/reference/smollm2-135m-tokens.json,
plus every tricky string listed there. Exit 0 when everything matches.
"""
import argparse
import hashlib
import json
import os
import sys

import numpy as np
from tokenizers import Tokenizer


def default_shared():
    env = os.environ.get("QQQ_SHARED_DIR")
    if env:
        return env
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return os.path.join(os.path.dirname(repo), "shared")


def wikitext_rows_joined(path):
    """The Hugging Face `wikitext-2-raw-v1` rows of a raw file, joined with "\\n\\n"."""
    with open(path, encoding="utf-8", newline="") as f:
        text = f.read()
    rows = _split_keep_lf(text)
    rows = ["" if r.strip() == "" else r for r in rows]
    return "\n\n".join(rows)


def _split_keep_lf(text):
    # Split on "\n" only (str.splitlines would also split on \r, \x0b, \u2028, ...).
    parts = text.split("\n")
    rows = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        rows.append(parts[-1])
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model_dir")
    ap.add_argument("--shared", default=default_shared())
    args = ap.parse_args()

    tok = Tokenizer.from_file(os.path.join(args.model_dir, "tokenizer.json"))
    with open(os.path.join(args.shared, "reference", "smollm2-135m-tokens.json"), encoding="utf-8") as f:
        ref = json.load(f)

    ok = True
    for s in ref["strings"]:
        ids = tok.encode(s["text"]).ids
        if ids != s["ids"]:
            ok = False
            print(f"MISMATCH {s['text'][:40]!r}: got {ids[:12]}... want {s['ids'][:12]}...")
    print(f"strings: {len(ref['strings'])} checked, {'all match' if ok else 'MISMATCHES'}")

    wt = os.path.join(args.shared, "data", "wikitext-2-raw", "wiki.test.raw")
    if os.path.exists(wt):
        text = wikitext_rows_joined(wt)
        ids = np.asarray(tok.encode(text).ids, dtype="<i4")
        digest = hashlib.sha256(ids.tobytes()).hexdigest()
        want = ref["wikitext2_test"]
        match = len(ids) == want["count"] and digest == want["sha256_of_ids_as_int32_le"]
        print(json.dumps({"wikitext2_test_tokens": int(len(ids)), "want": want["count"],
                          "sha256": digest, "sha256_match": digest == want["sha256_of_ids_as_int32_le"]}))
        ok = ok and match
    else:
        print(f"skip: {wt} not found, WikiText-2 token check not run")

    print("tokenizer check: " + ("PASS" if ok else "FAIL"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
