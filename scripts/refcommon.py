"""Shared helpers for the torch reference scripts (reference-check.py, torch-eval-speed.py,
dump-logits.py): locating shared/, forming the WikiText-2 evaluation text, loading the model."""
import os
import sys

# Keep the scripts' output to their own lines (no hub access is possible anyway).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


def repo_root():
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def default_shared():
    """QQQ_SHARED_DIR, else <repo>/../shared."""
    return os.environ.get("QQQ_SHARED_DIR") or os.path.join(os.path.dirname(repo_root()), "shared")


def default_model_dir():
    return os.environ.get("QQQ_MODEL_DIR") or os.path.join(repo_root(), "models", "SmolLM2-135M-Instruct")


def wikitext_joined(path):
    """Hugging Face `wikitext-2-raw-v1` rows of a raw file joined with "\\n\\n" (GPTQ/QQQ convention):
    split on "\\n" only keeping it, whitespace-only rows become "", join with "\\n\\n"."""
    with open(path, encoding="utf-8", newline="") as f:
        text = f.read()
    parts = text.split("\n")
    rows = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        rows.append(parts[-1])
    rows = ["" if r.strip() == "" else r for r in rows]
    return "\n\n".join(rows)


def load_model(model_dir, threads=None):
    """transformers LlamaForCausalLM in float32 (fp16 weights upcast), eval mode, sdpa attention."""
    import torch
    from transformers import AutoModelForCausalLM
    quiet_transformers()
    if threads:
        torch.set_num_threads(threads)
    if not os.path.isfile(os.path.join(model_dir, "config.json")):
        sys.exit(f"{model_dir}: no config.json (run scripts/fetch-model first)")
    try:
        model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32, attn_implementation="sdpa")
    except TypeError:  # older transformers spell it torch_dtype
        model = AutoModelForCausalLM.from_pretrained(model_dir, torch_dtype=torch.float32, attn_implementation="sdpa")
    model.eval()
    return model


def quiet_transformers():
    try:
        from transformers.utils import logging
        logging.disable_progress_bar()
        logging.set_verbosity_error()
    except ImportError:
        pass


def load_tokenizer(model_dir):
    from tokenizers import Tokenizer
    return Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))


def window_nll(model, ids, seqlen, index):
    """Mean NLL of the seqlen-1 shifted predictions of window `index` (non-overlapping from 0)."""
    import torch
    x = torch.tensor(ids[index * seqlen:(index + 1) * seqlen], dtype=torch.long).unsqueeze(0)
    with torch.inference_mode():
        logits = model(x).logits.float()
    return torch.nn.functional.cross_entropy(logits[0, :-1], x[0, 1:]).item()
