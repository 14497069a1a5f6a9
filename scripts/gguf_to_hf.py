#!/usr/bin/env python3
"""Convert a llama.cpp GGUF (LLaMA architecture, GPT-2-style BPE vocabulary) into a Hugging Face folder:
config.json, model.safetensors (float16), tokenizer.json, tokenizer_config.json.

- Quantized tensors (Q4_1, Q8_0, ...) are dequantized with the `gguf` package.
- llama.cpp's converter permutes the rows of q_proj and k_proj for its RoPE layout (pairs of adjacent
  dimensions); Hugging Face uses the half-rotation layout. The permutation is undone here.
- The tokenizer is rebuilt from the GGUF metadata (tokens, merges, token types, special ids).

Usage: gguf_to_hf.py MODEL.gguf OUT_DIR
"""
import json
import os
import struct
import sys

import numpy as np
import gguf


def field(reader, key, default=None):
    f = reader.fields.get(key)
    if f is None:
        return default
    return f.contents()


def unpermute(w, n_head):
    """Inverse of llama.cpp's `permute` (convert_hf_to_gguf.py LlamaModel.permute)."""
    rows = w.shape[0]
    return w.reshape(n_head, rows // n_head // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name, arr in tensors:
        data = np.ascontiguousarray(arr).tobytes()
        header[name] = {"dtype": "F16", "shape": list(arr.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    header["__metadata__"] = {"format": "pt"}
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * ((8 - len(raw) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)


def main():
    src, out = sys.argv[1], sys.argv[2]
    r = gguf.GGUFReader(src)
    arch = field(r, "general.architecture")
    if arch != "llama":
        sys.exit(f"{src}: unsupported GGUF architecture {arch!r} (only llama)")
    n_layer = int(field(r, "llama.block_count"))
    hidden = int(field(r, "llama.embedding_length"))
    n_head = int(field(r, "llama.attention.head_count"))
    n_kv = int(field(r, "llama.attention.head_count_kv", n_head))
    tokens = list(field(r, "tokenizer.ggml.tokens"))
    vocab = len(tokens)

    names = {
        "token_embd.weight": "model.embed_tokens.weight",
        "output_norm.weight": "model.norm.weight",
        "output.weight": "lm_head.weight",
    }
    per_layer = {
        "attn_norm": "input_layernorm", "ffn_norm": "post_attention_layernorm",
        "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
        "attn_output": "self_attn.o_proj", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj",
        "ffn_down": "mlp.down_proj",
    }
    tensors = []
    for t in r.tensors:
        w = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32)
        shape = [int(x) for x in reversed(t.shape)]  # GGUF lists dimensions innermost first
        w = w.reshape(shape)
        if t.name in names:
            name = names[t.name]
        else:
            parts = t.name.split(".")  # blk.{i}.{kind}.weight
            name = f"model.layers.{parts[1]}.{per_layer[parts[2]]}.weight"
            if parts[2] == "attn_q":
                w = unpermute(w, n_head)
            elif parts[2] == "attn_k":
                w = unpermute(w, n_kv)
        if not np.isfinite(w).all():
            sys.exit(f"{src}: tensor {t.name} has non-finite values")
        tensors.append((name, w.astype(np.float16)))
    tied = not any(n == "lm_head.weight" for n, _ in tensors)
    order = {"model.embed_tokens.weight": -1, "model.norm.weight": 10**6, "lm_head.weight": 10**6 + 1}
    tensors.sort(key=lambda nt: (order.get(nt[0], int(nt[0].split(".")[2]) if nt[0].startswith("model.layers.") else 0), nt[0]))

    os.makedirs(out, exist_ok=True)
    write_safetensors(os.path.join(out, "model.safetensors"), tensors)

    bos = int(field(r, "tokenizer.ggml.bos_token_id", 1))
    eos = int(field(r, "tokenizer.ggml.eos_token_id", 2))
    config = {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama",
        "hidden_size": hidden, "intermediate_size": int(field(r, "llama.feed_forward_length")),
        "num_hidden_layers": n_layer, "num_attention_heads": n_head, "num_key_value_heads": n_kv,
        "head_dim": hidden // n_head, "hidden_act": "silu",
        "max_position_embeddings": int(field(r, "llama.context_length")),
        "rms_norm_eps": float(field(r, "llama.attention.layer_norm_rms_epsilon")),
        "rope_theta": float(field(r, "llama.rope.freq_base", 10000.0)),
        "rope_scaling": None, "attention_bias": False, "mlp_bias": False,
        "vocab_size": vocab, "tie_word_embeddings": tied,
        "bos_token_id": bos, "eos_token_id": eos, "pad_token_id": int(field(r, "tokenizer.ggml.padding_token_id", eos)),
        "initializer_range": 0.02, "torch_dtype": "float16",
    }
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)

    if field(r, "tokenizer.ggml.model") != "gpt2":
        sys.exit(f"{src}: tokenizer model {field(r, 'tokenizer.ggml.model')!r} not supported by this converter")
    pre = field(r, "tokenizer.ggml.pre")
    if pre != "smollm":
        sys.exit(f"{src}: pre-tokenizer {pre!r} not supported by this converter (smollm)")
    types = list(field(r, "tokenizer.ggml.token_type"))
    merges = list(field(r, "tokenizer.ggml.merges"))
    added = [{"id": i, "content": tok, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True}
             for i, (tok, ty) in enumerate(zip(tokens, types)) if ty == gguf.TokenType.CONTROL]
    tokenizer = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added, "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Digits", "individual_digits": True},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}]},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": {tok: i for i, tok in enumerate(tokens)}, "merges": merges},
    }
    with open(os.path.join(out, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer, f, ensure_ascii=False)
    tok_config = {
        "add_bos_token": False, "add_prefix_space": False, "bos_token": tokens[bos], "eos_token": tokens[eos],
        "unk_token": tokens[int(field(r, "tokenizer.ggml.unknown_token_id", 0))],
        "pad_token": tokens[config["pad_token_id"]], "model_max_length": config["max_position_embeddings"],
        "clean_up_tokenization_spaces": False, "tokenizer_class": "GPT2Tokenizer",
        "additional_special_tokens": [a["content"] for a in added if a["id"] not in (bos, eos)],
    }
    template = field(r, "tokenizer.chat_template")
    if template:
        tok_config["chat_template"] = template
    with open(os.path.join(out, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(tok_config, f, indent=2, ensure_ascii=False)
    print(f"wrote {out}: {len(tensors)} tensors, vocab {vocab}, {len(merges)} merges, {len(added)} special tokens")


if __name__ == "__main__":
    main()
