#!/usr/bin/env python3
"""Convert a LLaMA-architecture GGUF (e.g. SmolLM2-135M-Instruct.Q4_1.gguf) into a
Hugging Face folder: config.json, model.safetensors (float16), tokenizer.json,
tokenizer_config.json, generation_config.json.

Usage: gguf_to_hf.py GGUF OUT_DIR            convert (OUT_DIR must not exist)
       gguf_to_hf.py --verify OUT_DIR        check a written folder, exit 0 if sound

Only used by scripts/fetch-model; the qqq product never runs Python.
"""
import json
import os
import struct
import sys

import numpy as np

# GGUF tensor name (inside blk.N.) -> HF name (inside model.layers.N.)
LAYER_NAMES = {
    "attn_norm.weight": "input_layernorm.weight",
    "attn_q.weight": "self_attn.q_proj.weight",
    "attn_k.weight": "self_attn.k_proj.weight",
    "attn_v.weight": "self_attn.v_proj.weight",
    "attn_output.weight": "self_attn.o_proj.weight",
    "ffn_norm.weight": "post_attention_layernorm.weight",
    "ffn_gate.weight": "mlp.gate_proj.weight",
    "ffn_up.weight": "mlp.up_proj.weight",
    "ffn_down.weight": "mlp.down_proj.weight",
}
GLOBAL_NAMES = {
    "token_embd.weight": "model.embed_tokens.weight",
    "output_norm.weight": "model.norm.weight",
    "output.weight": "lm_head.weight",
}


def fail(msg):
    print(f"gguf_to_hf: {msg}", file=sys.stderr)
    sys.exit(1)


def field(reader, key, default=None):
    f = reader.fields.get(key)
    if f is None:
        return default
    return f.contents()


def f32_to_py(x):
    """Shortest decimal that round-trips the float32 value (9.99999974e-06 -> 1e-05)."""
    return float(str(np.float32(x)))


def unpermute_rope(w, n_head):
    """Undo llama.cpp convert_hf_to_gguf's q/k row permutation.

    The converter did w.reshape(n_head, 2, rows//n_head//2, cols).swapaxes(1, 2): it
    interleaves the two rotary halves of each head. HF LLaMA expects them split (rotate_half).
    """
    rows, cols = w.shape
    if rows % (2 * n_head) != 0:
        fail(f"cannot unpermute a tensor of {rows} rows for {n_head} heads")
    return (w.reshape(n_head, rows // n_head // 2, 2, cols)
             .swapaxes(1, 2)
             .reshape(rows, cols))


def dequantize(t):
    from gguf.quants import dequantize as gguf_dequantize
    from gguf import GGMLQuantizationType as T
    if t.tensor_type in (T.F32, T.F16):
        arr = np.asarray(t.data, dtype=np.float32)
    else:
        arr = gguf_dequantize(t.data, t.tensor_type).astype(np.float32)
    # GGUF lists dims innermost first; numpy order is the reverse (rows, cols) = HF (out, in).
    shape = tuple(int(d) for d in reversed(list(t.shape)))
    return arr.reshape(shape)


def build_config(r):
    arch = field(r, "general.architecture")
    if arch != "llama":
        fail(f"architecture {arch!r} is not supported (only llama)")
    p = lambda k, d=None: field(r, f"llama.{k}", d)
    hidden = int(p("embedding_length"))
    n_head = int(p("attention.head_count"))
    n_kv = int(p("attention.head_count_kv", n_head))
    vocab = int(p("vocab_size", len(field(r, "tokenizer.ggml.tokens"))))
    cfg = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": int(field(r, "tokenizer.ggml.bos_token_id", 1)),
        "eos_token_id": int(field(r, "tokenizer.ggml.eos_token_id", 2)),
        "pad_token_id": int(field(r, "tokenizer.ggml.padding_token_id",
                                  field(r, "tokenizer.ggml.eos_token_id", 2))),
        "head_dim": int(p("rope.dimension_count", hidden // n_head)),
        "hidden_act": "silu",
        "hidden_size": hidden,
        "initializer_range": 0.02,
        "intermediate_size": int(p("feed_forward_length")),
        "max_position_embeddings": int(p("context_length", 2048)),
        "mlp_bias": False,
        "num_attention_heads": n_head,
        "num_hidden_layers": int(p("block_count")),
        "num_key_value_heads": n_kv,
        "pretraining_tp": 1,
        "rms_norm_eps": f32_to_py(p("attention.layer_norm_rms_epsilon", 1e-5)),
        "rope_scaling": None,
        "rope_theta": f32_to_py(p("rope.freq_base", 10000.0)),
        "tie_word_embeddings": True,
        "torch_dtype": "float16",
        "use_cache": True,
        "vocab_size": vocab,
    }
    return cfg


def convert_tensors(r, cfg):
    n_head, n_kv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    out = {}
    for t in r.tensors:
        name = t.name
        if name.startswith("blk."):
            _, idx, rest = name.split(".", 2)
            if rest not in LAYER_NAMES:
                fail(f"unexpected tensor {name}")
            hf = f"model.layers.{int(idx)}.{LAYER_NAMES[rest]}"
        elif name in GLOBAL_NAMES:
            hf = GLOBAL_NAMES[name]
        elif name == "rope_freqs.weight":
            continue  # derived from rope_theta; HF does not store it
        else:
            fail(f"unexpected tensor {name}")
        w = dequantize(t)
        if hf.endswith("q_proj.weight"):
            w = unpermute_rope(w, n_head)
        elif hf.endswith("k_proj.weight"):
            w = unpermute_rope(w, n_kv)
        if not np.all(np.isfinite(w)):
            fail(f"tensor {name} has non-finite values after dequantization")
        out[hf] = w.astype(np.float16)
    if "lm_head.weight" in out:
        if np.array_equal(out["lm_head.weight"], out["model.embed_tokens.weight"]):
            del out["lm_head.weight"]
        else:
            cfg["tie_word_embeddings"] = False
    return out


def write_safetensors(path, tensors, metadata=None):
    """Plain safetensors writer: 8-byte LE header length, JSON header, raw little-endian data."""
    header = {}
    offset = 0
    order = sorted(tensors)
    for k in order:
        a = tensors[k]
        n = a.nbytes
        header[k] = {"dtype": {np.dtype(np.float16): "F16", np.dtype(np.float32): "F32"}[a.dtype],
                     "shape": list(a.shape), "data_offsets": [offset, offset + n]}
        offset += n
    header["__metadata__"] = metadata or {"format": "pt"}
    hb = json.dumps(header, separators=(",", ":")).encode()
    hb += b" " * ((8 - len(hb) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for k in order:
            f.write(np.ascontiguousarray(tensors[k]).astype(tensors[k].dtype.newbyteorder("<")).tobytes())


def build_tokenizer(r):
    if field(r, "tokenizer.ggml.model") != "gpt2":
        fail(f"tokenizer model {field(r, 'tokenizer.ggml.model')!r} is not byte-level BPE (gpt2)")
    pre = field(r, "tokenizer.ggml.pre")
    if pre not in ("smollm", None):
        fail(f"pre-tokenizer {pre!r} is not supported (only smollm)")
    tokens = field(r, "tokenizer.ggml.tokens")
    types = field(r, "tokenizer.ggml.token_type")
    merges = field(r, "tokenizer.ggml.merges")
    vocab = {tok: i for i, tok in enumerate(tokens)}
    if len(vocab) != len(tokens):
        fail("duplicate tokens in tokenizer.ggml.tokens")
    # token_type 3 = CONTROL, 4 = USER_DEFINED (llama.cpp's gguf vocab enum)
    added = []
    for i, (tok, ty) in enumerate(zip(tokens, types)):
        if ty in (3, 4):
            added.append({"id": i, "content": tok, "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": ty == 4, "special": ty == 3})
    merge_pairs = []
    for m in merges:
        parts = m.split(" ")
        if len(parts) != 2:
            fail(f"malformed merge {m!r}")
        merge_pairs.append(parts)
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    tok_json = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Digits", "individual_digits": True},
            byte_level,
        ]},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False,
                           "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True,
                    "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None,
                  "continuing_subword_prefix": None, "end_of_word_suffix": None,
                  "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": merge_pairs},
    }
    bos = tokens[int(field(r, "tokenizer.ggml.bos_token_id", 1))]
    eos = tokens[int(field(r, "tokenizer.ggml.eos_token_id", 2))]
    pad = tokens[int(field(r, "tokenizer.ggml.padding_token_id", field(r, "tokenizer.ggml.eos_token_id", 2)))]
    unk_id = field(r, "tokenizer.ggml.unknown_token_id")
    cfg = {
        "add_bos_token": bool(field(r, "tokenizer.ggml.add_bos_token", False)),
        "add_eos_token": False,
        "add_prefix_space": False,
        "added_tokens_decoder": {str(a["id"]): {k: a[k] for k in
                                 ("content", "lstrip", "normalized", "rstrip", "single_word", "special")}
                                 for a in added},
        "additional_special_tokens": [t for t in ("<|im_start|>", "<|im_end|>") if t in vocab],
        "bos_token": bos,
        "eos_token": eos,
        "pad_token": pad,
        "unk_token": tokens[int(unk_id)] if unk_id is not None else None,
        "clean_up_tokenization_spaces": False,
        "model_max_length": int(field(r, "llama.context_length", 2048)),
        "tokenizer_class": "GPT2Tokenizer",
        "vocab_size": len(tokens),
    }
    tmpl = field(r, "tokenizer.chat_template")
    if tmpl:
        cfg["chat_template"] = tmpl
    return tok_json, cfg


def convert(gguf_path, out_dir):
    from gguf import GGUFReader
    if os.path.exists(out_dir):
        fail(f"{out_dir} already exists")
    try:
        r = GGUFReader(gguf_path)
    except Exception as e:  # noqa: BLE001 - report any parse failure in one line
        fail(f"{gguf_path}: not a readable GGUF file ({e})")
    cfg = build_config(r)
    tensors = convert_tensors(r, cfg)
    tok_json, tok_cfg = build_tokenizer(r)
    os.makedirs(out_dir)
    write_safetensors(os.path.join(out_dir, "model.safetensors"), tensors)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    with open(os.path.join(out_dir, "generation_config.json"), "w") as f:
        json.dump({"bos_token_id": cfg["bos_token_id"], "eos_token_id": cfg["eos_token_id"],
                   "pad_token_id": cfg["pad_token_id"]}, f, indent=2)
        f.write("\n")
    with open(os.path.join(out_dir, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tok_json, f, ensure_ascii=False, indent=2)
        f.write("\n")
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(tok_cfg, f, ensure_ascii=False, indent=2)
        f.write("\n")
    print(f"gguf_to_hf: wrote {len(tensors)} tensors to {out_dir}")


def expected_shapes(cfg):
    h, i, v = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    d = cfg["head_dim"]
    q, kv = cfg["num_attention_heads"] * d, cfg["num_key_value_heads"] * d
    shapes = {"model.embed_tokens.weight": [v, h], "model.norm.weight": [h]}
    if not cfg.get("tie_word_embeddings", False):
        shapes["lm_head.weight"] = [v, h]
    for L in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{L}."
        shapes.update({
            p + "input_layernorm.weight": [h], p + "post_attention_layernorm.weight": [h],
            p + "self_attn.q_proj.weight": [q, h], p + "self_attn.k_proj.weight": [kv, h],
            p + "self_attn.v_proj.weight": [kv, h], p + "self_attn.o_proj.weight": [h, q],
            p + "mlp.gate_proj.weight": [i, h], p + "mlp.up_proj.weight": [i, h],
            p + "mlp.down_proj.weight": [h, i],
        })
    return shapes


def verify(out_dir):
    """Exit 0 if out_dir holds a complete, sound conversion; else print why and exit 1."""
    try:
        with open(os.path.join(out_dir, "config.json")) as f:
            cfg = json.load(f)
        path = os.path.join(out_dir, "model.safetensors")
        with open(path, "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
            header = json.loads(f.read(n))
        size = os.path.getsize(path)
    except (OSError, ValueError, struct.error) as e:
        fail(f"verify {out_dir}: {e}")
    header.pop("__metadata__", None)
    want = expected_shapes(cfg)
    if set(header) != set(want):
        missing, extra = set(want) - set(header), set(header) - set(want)
        fail(f"verify {out_dir}: tensor names differ (missing {sorted(missing)[:3]}, extra {sorted(extra)[:3]})")
    end = 0
    mm = np.memmap(path, dtype=np.uint8, mode="r")
    for k, info in header.items():
        if info["shape"] != want[k] or info["dtype"] != "F16":
            fail(f"verify {out_dir}: {k} is {info['dtype']} {info['shape']}, expected F16 {want[k]}")
        a, b = info["data_offsets"]
        if b - a != 2 * int(np.prod(want[k])):
            fail(f"verify {out_dir}: {k} has a wrong byte length")
        arr = mm[8 + n + a: 8 + n + b].view(np.float16)
        if not np.all(np.isfinite(arr)):
            fail(f"verify {out_dir}: {k} has non-finite values")
        end = max(end, b)
    if 8 + n + end != size:
        fail(f"verify {out_dir}: model.safetensors is {size} bytes, header says {8 + n + end}")
    try:
        from tokenizers import Tokenizer
        tok = Tokenizer.from_file(os.path.join(out_dir, "tokenizer.json"))
        ids = tok.encode("Hello world").ids
        if ids != [19556, 905] or tok.get_vocab_size() != cfg["vocab_size"]:
            fail(f"verify {out_dir}: tokenizer gives {ids} for 'Hello world'")
    except ImportError:
        pass
    with open(os.path.join(out_dir, "tokenizer_config.json")) as f:
        json.load(f)
    print(f"gguf_to_hf: {out_dir} verified ({len(header)} tensors)")


def main(argv):
    if len(argv) == 3 and argv[1] == "--verify":
        verify(argv[2])
    elif len(argv) == 3:
        convert(argv[1], argv[2])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main(sys.argv)
