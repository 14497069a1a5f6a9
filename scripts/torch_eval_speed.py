#!/usr/bin/env python3
"""Perplexity eval speed of PyTorch/transformers (FP32 math) on a model folder, with the same protocol
as `qqq eval`, so both can be measured in one run on one machine.

Usage: torch_eval_speed.py MODEL_DIR TEXT_FILE [--windows N] [--threads T] [--seqlen 2048]
Prints one JSON line: tokens/s, seconds, windows, ppl of those windows.
"""
import argparse
import json
import math
import time

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer


def rows_rule(raw):
    lines = raw.split("\n")
    rows = [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
    return "\n\n".join("" if r.strip() == "" else r for r in rows)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("text")
    ap.add_argument("--windows", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seqlen", type=int, default=2048)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    tok = AutoTokenizer.from_pretrained(a.model)
    model = AutoModelForCausalLM.from_pretrained(a.model, torch_dtype=torch.float32, attn_implementation="sdpa").eval()
    ids = tok(rows_rule(open(a.text, encoding="utf-8").read()), return_tensors="pt").input_ids
    n = min(a.windows, ids.shape[1] // a.seqlen)
    losses = []
    with torch.inference_mode():
        model(ids[:, :a.seqlen])  # warm-up
        start = time.perf_counter()
        for w in range(n):
            x = ids[:, w * a.seqlen:(w + 1) * a.seqlen]
            logits = model(x).logits[0, :-1].float()
            losses.append(torch.nn.functional.cross_entropy(logits, x[0, 1:]).item())
        seconds = time.perf_counter() - start
    print(json.dumps({"engine": f"torch {torch.__version__} transformers FP32", "threads": a.threads, "windows": n,
                      "seconds": seconds, "tokens_per_second": n * a.seqlen / seconds,
                      "ppl": math.exp(sum(losses) / n), "window_nll": losses}))


if __name__ == "__main__":
    main()
