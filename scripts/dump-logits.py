#!/usr/bin/env python3
"""Print logits of a prompt as JSON (for debugging the Swift engine against transformers).

Usage: dump-logits.py [MODEL_DIR] (--text TEXT | --ids 1,2,3) [--top K] [--threads T] [--hidden]

Output: {"ids": [...], "positions": [{"logsumexp": x, "top": [[id, logit], ...]}, ...]}, float32
math like shared/reference/smollm2-135m-logits.json. --hidden adds, per layer, the first 8 values
and the RMS of the last position's hidden state (embedding output first, final norm last).
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import refcommon  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model_dir", nargs="?", default=refcommon.default_model_dir())
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--text")
    g.add_argument("--ids", help="comma-separated token ids")
    ap.add_argument("--top", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--hidden", action="store_true")
    args = ap.parse_args()

    import torch
    model = refcommon.load_model(args.model_dir, args.threads)
    if args.text is not None:
        ids = refcommon.load_tokenizer(args.model_dir).encode(args.text).ids
    else:
        try:
            ids = [int(s) for s in args.ids.split(",") if s.strip()]
        except ValueError:
            sys.exit(f"--ids: not a comma-separated list of integers: {args.ids!r}")
    if not ids:
        sys.exit("no tokens to run")
    x = torch.tensor(ids, dtype=torch.long).unsqueeze(0)
    with torch.inference_mode():
        out = model(x, output_hidden_states=args.hidden)
    logits = out.logits[0].float()
    lse = torch.logsumexp(logits, dim=-1)
    vals, idx = torch.topk(logits, args.top, dim=-1)
    res = {"ids": ids, "positions": [
        {"logsumexp": lse[p].item(),
         "top": [[int(i), float(v)] for i, v in zip(idx[p].tolist(), vals[p].tolist())]}
        for p in range(len(ids))]}
    if args.hidden:
        res["hidden_last_position"] = [
            {"first8": h[0, -1, :8].tolist(), "rms": h[0, -1].pow(2).mean().sqrt().item()}
            for h in out.hidden_states]
    print(json.dumps(res))


if __name__ == "__main__":
    main()
