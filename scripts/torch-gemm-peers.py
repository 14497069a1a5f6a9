#!/usr/bin/env python3
"""GEMM speed of the PyTorch peers at qqq bench's shapes: torch.matmul FP32 and FBGEMM's int8 W8A8
(torch.ao dynamic quantized Linear, per-channel weights, per-tensor dynamic activations).

Usage: torch-gemm-peers.py [--shape KxN ...] [--m 1,16,128,512] [--threads 2] [--min-time 0.3] [--hot]

Like qqq bench: a warm-up, then repeats until --min-time, the median; the weights cycle through copies
totalling at least 256 MiB (4x a 32 MB L3) unless --hot, so M = 1 reads memory, not the cache.
Prints a table and one JSON line per cell (for comparisons in one session beside `qqq bench`).
"""
import argparse
import json
import statistics
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shape", action="append", help="KxN (inputs x outputs), repeatable")
    ap.add_argument("--m", default="1,16,128,512")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--min-time", type=float, default=0.3)
    ap.add_argument("--hot", action="store_true")
    ap.add_argument("--cold-mib", type=int, default=256)
    args = ap.parse_args()

    import torch
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    torch.set_num_threads(args.threads)
    shapes = [tuple(int(v) for v in s.lower().split("x")) for s in (args.shape or ["4096x11008", "4096x4096"])]
    ms = [int(v) for v in args.m.split(",")]
    print(f"torch {torch.__version__}, threads {args.threads}, quantized engine {torch.backends.quantized.engine}, "
          f"weights {'hot' if args.hot else f'cycled through >= {args.cold_mib} MiB'}")
    print("| shape KxN | M | peer | ms | GOPS | weight GB/s |")
    print("|---:|---:|---|---:|---:|---:|")
    rows = []
    for k, n in shapes:
        for peer, bytes_per_weight in (("torch fp32", 4), ("fbgemm w8a8", 1)):
            one = k * n * bytes_per_weight
            copies = 1 if args.hot else max(1, -(-args.cold_mib * 2**20 // one))
            torch.manual_seed(0)
            if peer == "torch fp32":
                mats = [torch.randn(k, n) for _ in range(copies)]  # Wᵀ, contiguous: y = x @ Wᵀ
                calls = [lambda x, w=w: x @ w for w in mats]
            else:
                mods = []
                for _ in range(copies):
                    lin = torch.nn.Sequential(torch.nn.Linear(k, n, bias=False))
                    mods.append(quantize_dynamic(lin, {torch.nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8))
                calls = [lambda x, q=q: q(x) for q in mods]
            for m in ms:
                x = torch.randn(m, k)
                with torch.inference_mode():
                    for c in calls[: min(len(calls), 3)]:
                        c(x)
                    times, i, start = [], 0, time.perf_counter()
                    while time.perf_counter() - start < args.min_time or len(times) < 5:
                        t0 = time.perf_counter()
                        calls[i % len(calls)](x)
                        times.append(time.perf_counter() - t0)
                        i += 1
                med = statistics.median(times)
                gops = 2 * m * n * k / med / 1e9
                gbs = one / med / 1e9
                print(f"| {k}x{n} | {m} | {peer} | {med * 1e3:.3f} | {gops:.1f} | {gbs:.1f} |", flush=True)
                rows.append({"k": k, "n": n, "m": m, "peer": peer, "median_ms": med * 1e3, "gops": gops,
                             "weight_gbs": gbs, "copies": copies, "threads": args.threads})
            del calls
    for r in rows:
        print(json.dumps(r))


if __name__ == "__main__":
    main()
