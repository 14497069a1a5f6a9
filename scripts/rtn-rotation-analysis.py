#!/usr/bin/env python3
"""Why round-to-nearest loses accuracy under rotation (`qqq quantize --rotate --no-gptq`), layer by layer.

Usage: rtn-rotation-analysis.py [MODEL_DIR] [--calib FILE] [--windows 4] [--seed 0]
(run with the venv of scripts/setup-torch; defaults: models/SmolLM2-135M-Instruct, calibration/corpus.txt)

For every linear of every decoder layer it measures the output error of 4-bit RTN (the same MinMax grids
as qqq: per channel [-7, 7], per group of 128 [-8, 7]), tr(dW S dW^T) with S the second moment of the
linear's real inputs over the calibration windows, once on the plain model and once on the rotated one
(norm weights fused into the reading linears, a random orthogonal residual rotation Q, the per-head
Hadamard on v -> o, as `qqq quantize --rotate` does; Q stands in for qqq's randomized Hadamard, which
spreads channels the same way). It prints the rotated / plain ratio per linear kind, and per norm the
factor by which fusing it lets the normalized residual's energy reach the quantization error:
mean(s) mean(g^2) / mean(g^2 s), s the per-channel energy of the normalized residual and g the norm's
weights. A factor above 1 means the norm gives small weights to high-energy channels: the plain model
multiplies those channels by ~0 before they meet any weight error; after rotation their energy is
spread over every channel of the rotated input, and the uniform RTN error of the fused weights meets it.
This is reference analysis, not part of the product; it needs torch and transformers.
"""
import argparse
import random

import numpy as np
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer


def rtn(w, group):
    n, k = w.shape
    if group < 0:
        d = np.abs(w).max(1, keepdims=True) / 7
        d[d == 0] = 1
        return np.clip(np.rint(w / d), -7, 7) * d
    g = (k + group - 1) // group
    wg = np.pad(w, ((0, 0), (0, g * group - k))).reshape(n, g, group)
    a = np.abs(wg).max(-1, keepdims=True)
    a[a == 0] = 1
    d = 2 * a / 15
    return (np.clip(np.rint(wg / d), -8, 7) * d).reshape(n, g * group)[:, :k]


def output_error(w, s, group):
    d = w - rtn(w, group)
    return float(((d @ s) * d).sum())


def hadamard(n):
    h = np.array([[1.0]])
    while h.shape[0] < n:
        h = np.block([[h, h], [h, -h]])
    return h / np.sqrt(n)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model", nargs="?", default="models/SmolLM2-135M-Instruct")
    ap.add_argument("--calib", default="calibration/corpus.txt")
    ap.add_argument("--windows", type=int, default=4)
    ap.add_argument("--seqlen", type=int, default=2048)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    tok = AutoTokenizer.from_pretrained(args.model)
    model = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32).eval()
    ids = tok(open(args.calib, encoding="utf-8").read(), return_tensors="pt").input_ids[0]
    random.seed(args.seed)
    starts = [random.randint(0, len(ids) - args.seqlen - 1) for _ in range(args.windows)]

    moments = {}

    def accumulate(name, x):
        x = x.reshape(-1, x.shape[-1]).double()
        moments[name] = moments.get(name, 0) + x.T @ x

    def normalized(name):
        def hook(mod, inp):
            x = inp[0]
            accumulate(name, x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + mod.variance_epsilon))
        return hook

    for i, layer in enumerate(model.model.layers):
        layer.input_layernorm.register_forward_pre_hook(normalized(f"{i}.ln1"))
        layer.post_attention_layernorm.register_forward_pre_hook(normalized(f"{i}.ln2"))
        layer.self_attn.o_proj.register_forward_pre_hook(lambda m, inp, i=i: accumulate(f"{i}.o", inp[0]))
        layer.mlp.down_proj.register_forward_pre_hook(lambda m, inp, i=i: accumulate(f"{i}.down", inp[0]))
    with torch.no_grad():
        for s in starts:
            model(ids[s:s + args.seqlen][None])

    cfg = model.config
    h = cfg.hidden_size
    hd = getattr(cfg, "head_dim", None) or h // cfg.num_attention_heads
    q_rot, _ = np.linalg.qr(np.random.default_rng(args.seed).standard_normal((h, h)))
    h_o = np.kron(np.eye(cfg.num_attention_heads), hadamard(hd))
    h_v = np.kron(np.eye(cfg.num_key_value_heads), hadamard(hd))

    def weight(lin):
        return lin.weight.detach().double().numpy()

    print(f"{args.model}: {args.windows} x {args.seqlen} tokens of {args.calib}, seed {args.seed}")
    print("\nnorm weights against the normalized residual's energy (fusing factor, see the docstring):")
    for key, label in [("ln1", "input_layernorm"), ("ln2", "post_attention_layernorm")]:
        factors, shares, top_weight = [], [], []
        for i, layer in enumerate(model.model.layers):
            g = (layer.input_layernorm if key == "ln1" else layer.post_attention_layernorm).weight.detach().double().numpy()
            s = np.diag(moments[f"{i}.{key}"].numpy())
            factors.append(s.mean() * (g ** 2).mean() / ((g ** 2) * s).mean())
            top = np.argsort(-s)[:4]
            shares.append(s[top].sum() / s.sum())
            top_weight.append(abs(g[top[0]]) / np.median(np.abs(g)))
        print(f"  {label:25s} median {np.median(factors):.2f}, range {min(factors):.2f}-{max(factors):.2f}, layer 1 {factors[1]:.2f}")
        print(f"  {'':25s} its 4 highest-energy channels hold {min(shares):.0%}-{max(shares):.0%} of the energy; "
              f"the top one's weight / the median weight: median {np.median(top_weight):.2f}, range {min(top_weight):.2f}-{max(top_weight):.2f}")

    for group in (-1, 128):
        ratios = {name: [] for name in ["q", "k", "v", "o", "gate", "up", "down"]}
        for i, layer in enumerate(model.model.layers):
            att, mlp = layer.self_attn, layer.mlp
            for key, norm, lins in [("ln1", layer.input_layernorm, [("q", att.q_proj), ("k", att.k_proj), ("v", att.v_proj)]),
                                    ("ln2", layer.post_attention_layernorm, [("gate", mlp.gate_proj), ("up", mlp.up_proj)])]:
                g = norm.weight.detach().double().numpy()
                s = moments[f"{i}.{key}"].numpy()
                for name, lin in lins:
                    w = weight(lin)
                    plain = output_error(w, s * np.outer(g, g), group)
                    wr = (w * g) @ q_rot
                    if name == "v":
                        wr = h_v @ wr
                    ratios[name].append(output_error(wr, q_rot.T @ s @ q_rot, group) / plain)
            so, sd = moments[f"{i}.o"].numpy(), moments[f"{i}.down"].numpy()
            wo, wd = weight(att.o_proj), weight(mlp.down_proj)
            ratios["o"].append(output_error(q_rot.T @ wo @ h_o, h_o @ so @ h_o, group) / output_error(wo, so, group))
            ratios["down"].append(output_error(q_rot.T @ wd, sd, group) / output_error(wd, sd, group))
        print(f"\nRTN output error, rotated / plain, {'per channel' if group < 0 else 'group 128'} (over the layers):")
        for name, r in ratios.items():
            print(f"  {name:5s} median {np.median(r):.2f}, range {min(r):.2f}-{max(r):.2f}, layer 1 {r[1]:.2f}")


if __name__ == "__main__":
    main()
