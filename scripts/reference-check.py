#!/usr/bin/env python3
"""Check a converted model folder against the reference figures with transformers (float32).

Usage: reference-check.py [MODEL_DIR] [--windows N] [--threads T] [--shared DIR]

(1) logits of the prompts in shared/reference/smollm2-135m-logits.json: max |diff| of the
    logsumexp and of the top-20 logits at every position, and whether the top-1 ids agree;
(2) mean NLL of the first N WikiText-2 test windows at seqlen 2048 against
    shared/reference/smollm2-135m.json. Prints one JSON summary line last; exit 1 on a mismatch
    beyond the tolerances (logits 2e-3, window NLL 1e-4).
"""
import argparse
import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import refcommon  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model_dir", nargs="?", default=refcommon.default_model_dir())
    ap.add_argument("--windows", type=int, default=2)
    ap.add_argument("--seqlen", type=int, default=2048)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--shared", default=refcommon.default_shared())
    ap.add_argument("--logit-tol", type=float, default=2e-3)
    ap.add_argument("--nll-tol", type=float, default=1e-4)
    args = ap.parse_args()

    import torch
    model = refcommon.load_model(args.model_dir, args.threads)
    tok = refcommon.load_tokenizer(args.model_dir)
    ref_dir = os.path.join(args.shared, "reference")
    summary = {"model_dir": args.model_dir}
    ok = True

    with open(os.path.join(ref_dir, "smollm2-135m-logits.json"), encoding="utf-8") as f:
        lref = json.load(f)
    lse_diff = top_diff = 0.0
    top1_agree = positions = 0
    for p in lref["prompts"]:
        ids = tok.encode(p["text"]).ids
        if ids != p["ids"]:
            print(f"tokenizer differs on {p['text'][:30]!r}: {ids} vs {p['ids']}")
            ok = False
        x = torch.tensor(p["ids"], dtype=torch.long).unsqueeze(0)
        with torch.inference_mode():
            logits = model(x).logits[0].float()
        lse = torch.logsumexp(logits, dim=-1)
        for pos, r in enumerate(p["positions"]):
            positions += 1
            lse_diff = max(lse_diff, abs(lse[pos].item() - r["logsumexp"]))
            for tid, val in r["top20"]:
                top_diff = max(top_diff, abs(logits[pos, tid].item() - val))
            top1_agree += int(torch.argmax(logits[pos]).item() == r["top20"][0][0])
    summary["logits"] = {"prompts": len(lref["prompts"]), "positions": positions,
                         "max_abs_diff_logsumexp": lse_diff, "max_abs_diff_top20": top_diff,
                         "top1_agree": f"{top1_agree}/{positions}"}
    print(f"logits: {positions} positions, max|dlogsumexp| {lse_diff:.3g}, max|dtop20| {top_diff:.3g}, "
          f"top-1 agrees {top1_agree}/{positions}")
    ok = ok and lse_diff <= args.logit_tol and top_diff <= args.logit_tol and top1_agree == positions

    wt = os.path.join(args.shared, "data", "wikitext-2-raw", "wiki.test.raw")
    if args.windows > 0 and os.path.exists(wt):
        with open(os.path.join(ref_dir, "smollm2-135m.json")) as f:
            pref = json.load(f)["fp16"]["full_seqlen2048"]["window_nll"]
        ids = tok.encode(refcommon.wikitext_joined(wt)).ids
        n = min(args.windows, len(ids) // args.seqlen)
        got = [refcommon.window_nll(model, ids, args.seqlen, i) for i in range(n)]
        diffs = [abs(g - r) for g, r in zip(got, pref)] if args.seqlen == 2048 else []
        for i, g in enumerate(got):
            extra = f" ref {pref[i]:.6f} diff {diffs[i]:.2e}" if diffs else ""
            print(f"window {i}: nll {g:.6f}{extra}")
        summary["wikitext2"] = {"windows": n, "seqlen": args.seqlen, "window_nll": got,
                                "ppl": math.exp(sum(got) / n) if n else None,
                                "max_abs_diff_window_nll": max(diffs) if diffs else None}
        if diffs:
            ok = ok and max(diffs) <= args.nll_tol
    else:
        print(f"skip: WikiText-2 windows ({wt} absent or --windows 0)")
    summary["pass"] = ok
    print(json.dumps(summary))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
