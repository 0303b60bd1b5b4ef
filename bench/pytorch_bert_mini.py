#!/usr/bin/env python3
"""PyTorch reference for the CLI benchmarks of bench/run.ts (BERT-mini and bert-base sizes; bench/README.md).

Runs the same job as `microbatch train` on a pre-tokenized dataset: a BERT sequence
classifier (post-LN, erf GELU, HF BertForSequenceClassification architecture) built from
the HF config.json, micro-batches with dynamic padding, exact gradient accumulation
(sum of losses / window size), clip-norm 1.0, AdamW, linear schedule. Reference numbers
only: the product and its tests never depend on PyTorch.

usage: python3 bench/pytorch_bert_mini.py --config CONFIG.json --data IDS.json
       [--micro-batch 8] [--batch 32] [--epochs 1] [--threads 2] [--lr 5e-5]
       [--no-shuffle] [--bf16]
--bf16: the forward and the loss under torch.autocast('cpu', dtype=torch.bfloat16), as the
HF Trainer's --bf16 does on CPU (fp32 master weights, optimizer state and gradients).
IDS.json: {"examples": [{"ids": [...], "label": 0}, ...], "num_labels": 2}
Prints one JSON line with the timings.
"""
import argparse
import json
import math
import resource
import time

START = time.time()

import torch  # noqa: E402  (import time is part of the whole-process time we report)
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        h, i = c["hidden_size"], c["intermediate_size"]
        self.heads = c["num_attention_heads"]
        self.q, self.k, self.v, self.o = (nn.Linear(h, h) for _ in range(4))
        self.ln1 = nn.LayerNorm(h, eps=c.get("layer_norm_eps", 1e-12))
        self.inter, self.out = nn.Linear(h, i), nn.Linear(i, h)
        self.ln2 = nn.LayerNorm(h, eps=c.get("layer_norm_eps", 1e-12))
        self.drop = nn.Dropout(c.get("hidden_dropout_prob", 0.1))
        self.attn_drop = nn.Dropout(c.get("attention_probs_dropout_prob", 0.1))

    def forward(self, x, mask):
        b, l, h = x.shape
        d = h // self.heads
        split = lambda t: t.view(b, l, self.heads, d).transpose(1, 2)  # noqa: E731
        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(d) + mask
        ctx = (self.attn_drop(scores.softmax(-1)) @ v).transpose(1, 2).reshape(b, l, h)
        x = self.ln1(x + self.drop(self.o(ctx)))
        return self.ln2(x + self.drop(self.out(F.gelu(self.inter(x)))))


class Bert(nn.Module):
    def __init__(self, c, num_labels):
        super().__init__()
        h = c["hidden_size"]
        self.word = nn.Embedding(c["vocab_size"], h)
        self.pos = nn.Embedding(c.get("max_position_embeddings", 512), h)
        self.token_type = nn.Embedding(c.get("type_vocab_size", 2), h)
        self.ln = nn.LayerNorm(h, eps=c.get("layer_norm_eps", 1e-12))
        self.drop = nn.Dropout(c.get("hidden_dropout_prob", 0.1))
        self.layers = nn.ModuleList(Layer(c) for _ in range(c["num_hidden_layers"]))
        self.pooler = nn.Linear(h, h)
        self.classifier = nn.Linear(h, num_labels)

    def forward(self, ids, attention):
        l = ids.shape[1]
        x = self.word(ids) + self.pos.weight[:l] + self.token_type.weight[0]
        x = self.drop(self.ln(x))
        mask = (1.0 - attention[:, None, None, :].float()) * torch.finfo(torch.float32).min
        for layer in self.layers:
            x = layer(x, mask)
        return self.classifier(self.drop(torch.tanh(self.pooler(x[:, 0]))))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--config", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--micro-batch", type=int, default=8)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--lr", type=float, default=5e-5)
    p.add_argument("--no-shuffle", action="store_true")
    p.add_argument("--bf16", action="store_true")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    config = json.load(open(a.config))
    data = json.load(open(a.data))
    examples = data["examples"]
    model = Bert(config, data["num_labels"])
    no_decay = [p for n, p in model.named_parameters() if n.endswith("bias") or "ln" in n]
    decay = [p for n, p in model.named_parameters() if not (n.endswith("bias") or "ln" in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.0}, {"params": no_decay, "weight_decay": 0.0}], lr=a.lr)
    n = len(examples)
    windows_per_epoch = math.ceil(n / a.batch)
    total = windows_per_epoch * a.epochs
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: max(0.0, (total - s) / max(1, total)))
    model.train()
    train_start = time.time()
    step_times = []
    for epoch in range(a.epochs):
        g = torch.Generator().manual_seed(epoch)
        order = list(range(n)) if a.no_shuffle else torch.randperm(n, generator=g).tolist()
        for w in range(windows_per_epoch):
            t0 = time.time()
            window = order[w * a.batch:(w + 1) * a.batch]
            for m in range(0, len(window), a.micro_batch):
                micro = [examples[i] for i in window[m:m + a.micro_batch]]
                length = max(len(e["ids"]) for e in micro)
                ids = torch.zeros(len(micro), length, dtype=torch.long)
                att = torch.zeros(len(micro), length, dtype=torch.long)
                for r, e in enumerate(micro):
                    ids[r, :len(e["ids"])] = torch.tensor(e["ids"])
                    att[r, :len(e["ids"])] = 1
                labels = torch.tensor([e["label"] for e in micro])
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.bf16):
                    loss = F.cross_entropy(model(ids, att), labels, reduction="sum") / len(window)
                loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            step_times.append(time.time() - t0)
    end = time.time()
    print(json.dumps({
        "framework": f"pytorch {torch.__version__}",
        "threads": a.threads,
        "precision": "bf16 autocast" if a.bf16 else "fp32",
        "max_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "samples": n * a.epochs,
        "steps": len(step_times),
        "train_seconds": end - train_start,
        "process_seconds": end - START,
        "samples_per_second": n * a.epochs / (end - train_start),
        "median_step_seconds": sorted(step_times)[len(step_times) // 2],
    }))


if __name__ == "__main__":
    main()
