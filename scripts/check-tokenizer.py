#!/usr/bin/env python3
"""Check a model folder's tokenizer.json with Hugging Face `tokenizers` against the reference ids in
../shared/reference/smollm2-135m-tokens.json (WikiText-2 test: count and sha256; tricky strings).

Usage: check-tokenizer.py MODEL_DIR [SHARED_DIR]
"""
import hashlib
import json
import os
import struct
import sys

from tokenizers import Tokenizer


def wikitext_rows(raw):
    lines = raw.split("\n")
    rows = [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
    return "\n\n".join("" if row.strip() == "" else row for row in rows)


def main():
    model = sys.argv[1]
    shared = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "..", "..", "shared")
    ref_path = os.path.join(shared, "reference", "smollm2-135m-tokens.json")
    if not os.path.exists(ref_path):
        print(f"check-tokenizer: {ref_path} absent, skipped")
        return
    ref = json.load(open(ref_path))
    tok = Tokenizer.from_file(os.path.join(model, "tokenizer.json"))
    bad = 0
    for case in ref["strings"]:
        ids = tok.encode(case["text"]).ids
        if ids != case["ids"]:
            bad += 1
            print(f"MISMATCH {case['text']!r}: {ids} != {case['ids']}")
    test = os.path.join(shared, "data", "wikitext-2-raw", "wiki.test.raw")
    if os.path.exists(test):
        ids = tok.encode(wikitext_rows(open(test, encoding="utf-8").read())).ids
        digest = hashlib.sha256(struct.pack(f"<{len(ids)}i", *ids)).hexdigest()
        want = ref["wikitext2_test"]
        ok = len(ids) == want["count"] and digest == want["sha256_of_ids_as_int32_le"]
        print(f"wikitext-2 test: {len(ids)} tokens, sha256 {digest[:16]}... {'OK' if ok else 'MISMATCH'}")
        bad += 0 if ok else 1
    if bad:
        sys.exit(f"check-tokenizer: {bad} mismatches")
    print(f"check-tokenizer: {len(ref['strings'])} strings and the test text match the reference ids")


if __name__ == "__main__":
    main()
