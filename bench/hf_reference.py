#!/usr/bin/env python3
"""Independent check of microbatch's BERT against PyTorch, with Hugging Face's module names.

Builds BertForSequenceClassification exactly as HF names its modules (bert.embeddings.*,
bert.encoder.layer.N.attention.self.query, …, bert.pooler.dense, classifier), loads a
microbatch checkpoint's model.safetensors with load_state_dict(strict=True) — so every name
and [out, in] shape must match what HF expects — and prints the logits for the given token
ids as JSON. Run by bench/compare-pytorch.ts; reference only (needs python3-torch).

usage: python3 bench/hf_reference.py CHECKPOINT_DIR IDS.json
"""
import json
import math
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

DTYPES = {"F32": torch.float32}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (header_len,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + header_len])
    base = 8 + header_len
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        raw = bytearray(data[base + begin:base + end])
        tensors[name] = torch.frombuffer(raw, dtype=DTYPES[info["dtype"]]).reshape(info["shape"]).clone()
    return tensors


class SelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c["hidden_size"]
        self.heads = c["num_attention_heads"]
        self.query, self.key, self.value = nn.Linear(h, h), nn.Linear(h, h), nn.Linear(h, h)

    def forward(self, x, mask):
        b, l, h = x.shape
        d = h // self.heads
        split = lambda t: t.view(b, l, self.heads, d).transpose(1, 2)  # noqa: E731
        scores = split(self.query(x)) @ split(self.key(x)).transpose(-1, -2) / math.sqrt(d) + mask
        return (scores.softmax(-1) @ split(self.value(x))).transpose(1, 2).reshape(b, l, h)


class Output(nn.Module):
    def __init__(self, c, size_in):
        super().__init__()
        self.dense = nn.Linear(size_in, c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])

    def forward(self, x, residual):
        return self.LayerNorm(self.dense(x) + residual)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        setattr(self, "self", SelfAttention(c))
        self.output = Output(c, c["hidden_size"])

    def forward(self, x, mask):
        return self.output(getattr(self, "self")(x, mask), x)


class Intermediate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["intermediate_size"])

    def forward(self, x):
        return F.gelu(self.dense(x))  # exact (erf) GELU, HF's "gelu"


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = Attention(c)
        self.intermediate = Intermediate(c)
        self.output = Output(c, c["intermediate_size"])

    def forward(self, x, mask):
        a = self.attention(x, mask)
        return self.output(self.intermediate(a), a)


class Embeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c["hidden_size"]
        self.word_embeddings = nn.Embedding(c["vocab_size"], h)
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], h)
        self.token_type_embeddings = nn.Embedding(c["type_vocab_size"], h)
        self.LayerNorm = nn.LayerNorm(h, eps=c["layer_norm_eps"])

    def forward(self, ids):
        l = ids.shape[1]
        return self.LayerNorm(self.word_embeddings(ids) + self.position_embeddings.weight[:l] + self.token_type_embeddings.weight[0])


class Encoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList(Layer(c) for _ in range(c["num_hidden_layers"]))


class Pooler(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["hidden_size"])


class BertModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embeddings = Embeddings(c)
        self.encoder = Encoder(c)
        self.pooler = Pooler(c)


class BertForSequenceClassification(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.bert = BertModel(c)
        self.classifier = nn.Linear(c["hidden_size"], len(c["id2label"]))

    def forward(self, ids, attention):
        x = self.bert.embeddings(ids)
        mask = (1.0 - attention[:, None, None, :].float()) * torch.finfo(torch.float32).min
        for layer in self.bert.encoder.layer:
            x = layer(x, mask)
        return self.classifier(torch.tanh(self.bert.pooler.dense(x[:, 0])))


def main():
    checkpoint, ids_file = sys.argv[1], sys.argv[2]
    config = json.load(open(f"{checkpoint}/config.json"))
    assert config["hidden_act"] == "gelu", "this reference implements HF's exact GELU only"
    model = BertForSequenceClassification(config)
    model.load_state_dict(read_safetensors(f"{checkpoint}/model.safetensors"), strict=True)
    model.eval()
    examples = json.load(open(ids_file))
    length = max(len(ids) for ids in examples)
    ids = torch.zeros(len(examples), length, dtype=torch.long)
    att = torch.zeros(len(examples), length, dtype=torch.long)
    for r, e in enumerate(examples):
        ids[r, :len(e)] = torch.tensor(e)
        att[r, :len(e)] = 1
    with torch.no_grad():
        print(json.dumps(model(ids, att).tolist()))


if __name__ == "__main__":
    main()
