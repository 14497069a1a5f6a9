#!/usr/bin/env python3
"""Speed of transformers' FP32 perplexity evaluation (the PyTorch baseline for qqq eval).

Usage: torch-eval-speed.py [MODEL_DIR] [--windows N] [--threads T] [--seqlen L] [--text FILE]

Times only the forward passes of N non-overlapping windows of WikiText-2 test (or --text, taken
verbatim) after one untimed warm-up window, and prints one JSON line: tokens/s (total and median
per window), seconds, windows, perplexity of the timed windows, versions.
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import refcommon  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model_dir", nargs="?", default=refcommon.default_model_dir())
    ap.add_argument("--windows", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seqlen", type=int, default=2048)
    ap.add_argument("--text", help="evaluation text (default: WikiText-2 test from the shared folder)")
    ap.add_argument("--shared", default=refcommon.default_shared())
    ap.add_argument("--no-warmup", action="store_true")
    args = ap.parse_args()

    import torch
    import transformers
    model = refcommon.load_model(args.model_dir, args.threads)
    tok = refcommon.load_tokenizer(args.model_dir)
    if args.text:
        with open(args.text, encoding="utf-8") as f:
            text = f.read()
    else:
        text = refcommon.wikitext_joined(os.path.join(args.shared, "data", "wikitext-2-raw", "wiki.test.raw"))
    ids = tok.encode(text).ids
    avail = len(ids) // args.seqlen
    if avail < 1:
        sys.exit(f"text has {len(ids)} tokens, fewer than one window of {args.seqlen}")
    n = min(args.windows, avail)
    if not args.no_warmup:
        refcommon.window_nll(model, ids, args.seqlen, 0)
    times, nlls = [], []
    for i in range(n):
        t0 = time.perf_counter()
        nlls.append(refcommon.window_nll(model, ids, args.seqlen, i))
        times.append(time.perf_counter() - t0)
    total = sum(times)
    print(json.dumps({
        "engine": "transformers-fp32",
        "tokens_per_second": n * args.seqlen / total,
        "median_window_tokens_per_second": args.seqlen / statistics.median(times),
        "seconds": total, "windows": n, "seqlen": args.seqlen, "threads": torch.get_num_threads(),
        "ppl": math.exp(sum(nlls) / n),
        "torch": torch.__version__, "transformers": transformers.__version__,
    }))


if __name__ == "__main__":
    main()
