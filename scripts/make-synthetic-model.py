#!/usr/bin/env python3
"""Writes a synthetic LLaMA checkpoint with LLaMA-2-7B-sized layers (hidden 4096, intermediate 11008,
32 heads) and random fp16 weights, for measuring what `qqq quantize` needs per layer and exporting
7B-shaped layers. The tokenizer files are copied from a real model folder (the demo model).

usage: make-synthetic-model.py TOKENIZER_MODEL_DIR OUT_DIR [--layers N] [--seed S]
"""
import argparse, json, os, shutil, struct, sys
import numpy as np


def write_safetensors(path, tensors):
    header, offset = {}, 0
    for name, a in tensors:
        header[name] = {"dtype": "F16", "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
    header["__metadata__"] = {"format": "pt", "synthetic": "qqq scripts/make-synthetic-model.py"}
    hb = json.dumps(header, separators=(",", ":")).encode()
    hb += b" " * ((8 - len(hb) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for _, a in tensors:
            f.write(a.astype("<f2").tobytes())
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tokenizer_dir")
    ap.add_argument("out_dir")
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    tok = json.load(open(os.path.join(args.tokenizer_dir, "config.json")))
    vocab = tok["vocab_size"]
    h, inter, heads = 4096, 11008, 32
    cfg = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": h,
           "intermediate_size": inter, "num_attention_heads": heads, "num_key_value_heads": heads,
           "num_hidden_layers": args.layers, "vocab_size": vocab, "max_position_embeddings": 4096,
           "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "hidden_act": "silu", "tie_word_embeddings": True,
           "torch_dtype": "float16", "bos_token_id": tok.get("bos_token_id"), "eos_token_id": tok.get("eos_token_id")}
    rng = np.random.default_rng(args.seed)
    os.makedirs(args.out_dir, exist_ok=True)

    def w(rows, cols, std):
        return (rng.standard_normal((rows, cols), dtype=np.float32) * std).astype(np.float16)

    def norm():
        # A few large channels, as real LLaMA norms have: they give the smoothing search work to do.
        g = 1 + 0.1 * rng.standard_normal(h, dtype=np.float32)
        g[rng.choice(h, 8, replace=False)] *= 20
        return g.astype(np.float16)

    tensors = [("model.embed_tokens.weight", w(vocab, h, 1.0)), ("model.norm.weight", np.ones(h, np.float16))]
    for i in range(args.layers):
        p = f"model.layers.{i}."
        tensors += [(p + "input_layernorm.weight", norm()), (p + "post_attention_layernorm.weight", norm())]
        for name, rows, cols in [("self_attn.q_proj", h, h), ("self_attn.k_proj", h, h), ("self_attn.v_proj", h, h),
                                 ("self_attn.o_proj", h, h), ("mlp.gate_proj", inter, h), ("mlp.up_proj", inter, h),
                                 ("mlp.down_proj", h, inter)]:
            tensors.append((p + name + ".weight", w(rows, cols, cols ** -0.5)))
        print(f"layer {i + 1}/{args.layers}", file=sys.stderr)
    write_safetensors(os.path.join(args.out_dir, "model.safetensors"), tensors)
    json.dump(cfg, open(os.path.join(args.out_dir, "config.json"), "w"), indent=2)
    for f in ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]:
        src = os.path.join(args.tokenizer_dir, f)
        if os.path.exists(src):
            shutil.copy(src, os.path.join(args.out_dir, f))
    print(f"{args.out_dir}: {args.layers} layers of hidden {h}, intermediate {inter}, vocab {vocab}")


if __name__ == "__main__":
    main()
