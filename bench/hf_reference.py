#!/usr/bin/env python3
"""Independent PyTorch references for microbatch's models, written with Hugging Face's module names.

Families and heads, each class named and laid out as in transformers (4.47; modeling_bert.py,
modeling_roberta.py, modeling_distilbert.py, modeling_electra.py):

  bert        BertModel, BertForSequenceClassification, BertForTokenClassification, BertForMaskedLM
  roberta     RobertaModel, RobertaForSequenceClassification, RobertaForTokenClassification, RobertaForMaskedLM
  distilbert  DistilBertModel, DistilBertForSequenceClassification, DistilBertForTokenClassification, DistilBertForMaskedLM
  electra     ElectraModel, ElectraForSequenceClassification, ElectraForTokenClassification,
              ElectraForMaskedLM (the generator)

A checkpoint folder (config.json + model.safetensors) is loaded the way from_pretrained treats
these files — TF-era `LayerNorm.gamma/beta` renamed, saved non-persistent buffers
(`*.embeddings.position_ids`) ignored, tied weights that save_pretrained dropped filled from the
tensor they are tied to — and then with load_state_dict(strict=True): every other name and every
[out, in] shape must be exactly what HF expects, nothing missing, nothing extra.

Numerics follow HF in eval mode: post-LayerNorm blocks, the config's activation (exact erf GELU
for "gelu"), layer_norm_eps from the config (DistilBERT: 1e-12 hard-coded), additive attention
mask with float32's minimum (DistilBERT: masked_fill with it, queries scaled before the product),
RoBERTa positions = cumsum of the non-pad mask + padding_idx, ELECTRA's embeddings_project, and
each family's heads (BERT pooler tanh, DistilBERT pre_classifier + ReLU, RoBERTa dense + tanh +
out_proj on <s>, ELECTRA dense + GELU + out_proj, MLM decoders tied to the word embeddings).

usage (Debian's /usr/bin/python3 has torch):
  python3 bench/hf_reference.py --model DIR --ids-json FILE [--architecture NAME]
      FILE: a list of token-id lists (right-padded here with config.pad_token_id, attention mask 1
      on the given tokens), or {"input_ids": [[...]], "attention_mask": [[...]],
      "token_type_ids": [[...]] (optional)} with rows of equal length.
      Prints one JSON object: {"architecture", "input_ids", "attention_mask"} and "logits"
      ([batch, labels], [batch, seq, labels] or [batch, seq, vocab]) or, for a base model,
      "last_hidden_state" (+ "pooler_output" when it has a pooler). Notes on what loading did
      (renamed, ignored, re-tied tensors) go to stderr. --architecture only picks another class
      of the same layout; loading stays strict.
  python3 bench/hf_reference.py DIR IDS.json
      The original interface (bench/compare-pytorch.ts): a list of id lists in, the logits list out.

Reference only: needs python3-torch; microbatch and its tests never do.
"""
import argparse
import json
import math
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

FLOAT_DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "F64": torch.float64}
INT_DTYPES = {"I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8, "BOOL": torch.bool}


def read_safetensors(path):
    """All tensors of a safetensors file; floating ones as float32."""
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
        dtype = info["dtype"]
        if dtype in FLOAT_DTYPES:
            tensor = torch.frombuffer(raw, dtype=FLOAT_DTYPES[dtype]).to(torch.float32)
        elif dtype in INT_DTYPES:
            tensor = torch.frombuffer(raw, dtype=INT_DTYPES[dtype])
        else:
            raise ValueError(f"{path}: tensor {name}: unsupported dtype {dtype}")
        tensors[name] = tensor.reshape(info["shape"]).clone()
    return tensors


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


# transformers.activations.ACT2FN, for the names these configs use.
ACT2FN = {
    "gelu": F.gelu,  # GELUActivation: nn.functional.gelu, the exact erf form
    "relu": F.relu,
    "gelu_new": gelu_new,  # NewGELUActivation
    "gelu_pytorch_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "silu": F.silu,
    "swish": F.silu,
    "tanh": torch.tanh,
}


def activation(name):
    if name not in ACT2FN:
        raise ValueError(f"activation {name!r} is not implemented by this reference (have {sorted(ACT2FN)})")
    return ACT2FN[name]


def extended_attention_mask(attention_mask):
    """ModuleUtilsMixin.get_extended_attention_mask: 0 where attended, float32 min where masked."""
    mask = attention_mask[:, None, None, :].to(torch.float32)
    return (1.0 - mask) * torch.finfo(torch.float32).min


# ---------------------------------------------------------------------------------------------
# BERT (also the encoder of RoBERTa and ELECTRA), modeling_bert.py


class BertEmbeddings(nn.Module):
    """Word + absolute position + token type, LayerNorm. `width` is hidden_size (ELECTRA: embedding_size)."""

    def __init__(self, c, width=None):
        super().__init__()
        width = width or c["hidden_size"]
        self.word_embeddings = nn.Embedding(c["vocab_size"], width)
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], width)
        self.token_type_embeddings = nn.Embedding(c["type_vocab_size"], width)
        self.LayerNorm = nn.LayerNorm(width, eps=c["layer_norm_eps"])
        # Non-persistent since transformers 4.31 (older versions saved it; loading ignores it).
        self.register_buffer("position_ids", torch.arange(c["max_position_embeddings"]).expand((1, -1)), persistent=False)

    def position_ids_for(self, input_ids):
        return self.position_ids[:, :input_ids.shape[1]]

    def forward(self, input_ids, token_type_ids):
        embeddings = self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids)
        embeddings = embeddings + self.position_embeddings(self.position_ids_for(input_ids))
        return self.LayerNorm(embeddings)


class BertSelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c["hidden_size"]
        self.num_attention_heads = c["num_attention_heads"]
        self.attention_head_size = h // self.num_attention_heads
        self.query, self.key, self.value = nn.Linear(h, h), nn.Linear(h, h), nn.Linear(h, h)

    def transpose_for_scores(self, x):
        return x.view(x.shape[:-1] + (self.num_attention_heads, self.attention_head_size)).permute(0, 2, 1, 3)

    def forward(self, hidden_states, attention_mask):
        query = self.transpose_for_scores(self.query(hidden_states))
        key = self.transpose_for_scores(self.key(hidden_states))
        value = self.transpose_for_scores(self.value(hidden_states))
        scores = torch.matmul(query, key.transpose(-1, -2)) / math.sqrt(self.attention_head_size) + attention_mask
        context = torch.matmul(F.softmax(scores, dim=-1), value).permute(0, 2, 1, 3).contiguous()
        return context.view(context.shape[:-2] + (self.num_attention_heads * self.attention_head_size,))


class BertSelfOutput(nn.Module):
    def __init__(self, c, size_in):
        super().__init__()
        self.dense = nn.Linear(size_in, c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])

    def forward(self, hidden_states, input_tensor):
        return self.LayerNorm(self.dense(hidden_states) + input_tensor)


BertOutput = BertSelfOutput  # same layout: dense (intermediate → hidden) + LayerNorm(x + residual)


class BertAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        setattr(self, "self", BertSelfAttention(c))
        self.output = BertSelfOutput(c, c["hidden_size"])

    def forward(self, hidden_states, attention_mask):
        return self.output(getattr(self, "self")(hidden_states, attention_mask), hidden_states)


class BertIntermediate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["intermediate_size"])
        self.intermediate_act_fn = activation(c["hidden_act"])

    def forward(self, hidden_states):
        return self.intermediate_act_fn(self.dense(hidden_states))


class BertLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = BertAttention(c)
        self.intermediate = BertIntermediate(c)
        self.output = BertOutput(c, c["intermediate_size"])

    def forward(self, hidden_states, attention_mask):
        attention_output = self.attention(hidden_states, attention_mask)
        return self.output(self.intermediate(attention_output), attention_output)


class BertEncoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList(BertLayer(c) for _ in range(c["num_hidden_layers"]))

    def forward(self, hidden_states, attention_mask):
        for layer in self.layer:
            hidden_states = layer(hidden_states, attention_mask)
        return hidden_states


class BertPooler(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["hidden_size"])

    def forward(self, hidden_states):
        return torch.tanh(self.dense(hidden_states[:, 0]))


class BertModel(nn.Module):
    embeddings_class = BertEmbeddings

    def __init__(self, c, add_pooling_layer=True):
        super().__init__()
        self.embeddings = self.embeddings_class(c)
        self.encoder = BertEncoder(c)
        self.pooler = BertPooler(c) if add_pooling_layer else None

    def forward(self, input_ids, attention_mask, token_type_ids):
        sequence_output = self.encoder(self.embeddings(input_ids, token_type_ids), extended_attention_mask(attention_mask))
        pooled_output = self.pooler(sequence_output) if self.pooler is not None else None
        return sequence_output, pooled_output


class BertPredictionHeadTransform(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["hidden_size"])
        self.transform_act_fn = activation(c["hidden_act"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])

    def forward(self, hidden_states):
        return self.LayerNorm(self.transform_act_fn(self.dense(hidden_states)))


class BertLMPredictionHead(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.transform = BertPredictionHeadTransform(c)
        self.decoder = nn.Linear(c["hidden_size"], c["vocab_size"], bias=False)
        self.bias = nn.Parameter(torch.zeros(c["vocab_size"]))
        self.decoder.bias = self.bias  # one Parameter under two names, as HF

    def forward(self, hidden_states):
        return self.decoder(self.transform(hidden_states))


class BertOnlyMLMHead(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.predictions = BertLMPredictionHead(c)

    def forward(self, sequence_output):
        return self.predictions(sequence_output)


class BertForSequenceClassification(nn.Module):
    base_model_prefix = "bert"

    def __init__(self, c):
        super().__init__()
        self.bert = BertModel(c)
        self.classifier = nn.Linear(c["hidden_size"], num_labels(c))

    def forward(self, input_ids, attention_mask, token_type_ids):
        _, pooled = self.bert(input_ids, attention_mask, token_type_ids)
        return {"logits": self.classifier(pooled)}


class BertForTokenClassification(nn.Module):
    base_model_prefix = "bert"

    def __init__(self, c):
        super().__init__()
        self.bert = BertModel(c, add_pooling_layer=False)
        self.classifier = nn.Linear(c["hidden_size"], num_labels(c))

    def forward(self, input_ids, attention_mask, token_type_ids):
        sequence_output, _ = self.bert(input_ids, attention_mask, token_type_ids)
        return {"logits": self.classifier(sequence_output)}


class BertForMaskedLM(nn.Module):
    base_model_prefix = "bert"
    tied_weights = {
        "cls.predictions.decoder.weight": "bert.embeddings.word_embeddings.weight",
        "cls.predictions.decoder.bias": "cls.predictions.bias",
    }

    def __init__(self, c):
        super().__init__()
        self.bert = BertModel(c, add_pooling_layer=False)
        self.cls = BertOnlyMLMHead(c)
        if c.get("tie_word_embeddings", True):
            self.cls.predictions.decoder.weight = self.bert.embeddings.word_embeddings.weight

    def forward(self, input_ids, attention_mask, token_type_ids):
        sequence_output, _ = self.bert(input_ids, attention_mask, token_type_ids)
        return {"logits": self.cls(sequence_output)}


class BertBaseModel(BertModel):
    """BertModel as a top-level model: names without the `bert.` prefix."""

    base_model_prefix = ""

    def __init__(self, c):
        super().__init__(c, add_pooling_layer=True)

    def forward(self, input_ids, attention_mask, token_type_ids):
        sequence_output, pooled = super().forward(input_ids, attention_mask, token_type_ids)
        return {"last_hidden_state": sequence_output, "pooler_output": pooled}


# ---------------------------------------------------------------------------------------------
# RoBERTa, modeling_roberta.py


def create_position_ids_from_input_ids(input_ids, padding_idx):
    """Non-pad tokens count from padding_idx + 1; pad tokens get padding_idx (fairseq's make_positions)."""
    mask = input_ids.ne(padding_idx).int()
    incremental_indices = torch.cumsum(mask, dim=1).type_as(mask) * mask
    return incremental_indices.long() + padding_idx


class RobertaEmbeddings(BertEmbeddings):
    def __init__(self, c):
        super().__init__(c)
        self.padding_idx = c["pad_token_id"]

    def position_ids_for(self, input_ids):
        return create_position_ids_from_input_ids(input_ids, self.padding_idx)


class RobertaModel(BertModel):
    embeddings_class = RobertaEmbeddings


class RobertaClassificationHead(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["hidden_size"])
        self.out_proj = nn.Linear(c["hidden_size"], num_labels(c))

    def forward(self, features):
        return self.out_proj(torch.tanh(self.dense(features[:, 0, :])))  # <s>


class RobertaLMHead(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["hidden_size"])
        self.layer_norm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])
        self.decoder = nn.Linear(c["hidden_size"], c["vocab_size"])
        self.bias = nn.Parameter(torch.zeros(c["vocab_size"]))
        self.decoder.bias = self.bias

    def forward(self, features):
        return self.decoder(self.layer_norm(F.gelu(self.dense(features))))  # gelu regardless of hidden_act


class RobertaForSequenceClassification(nn.Module):
    base_model_prefix = "roberta"

    def __init__(self, c):
        super().__init__()
        self.roberta = RobertaModel(c, add_pooling_layer=False)
        self.classifier = RobertaClassificationHead(c)

    def forward(self, input_ids, attention_mask, token_type_ids):
        sequence_output, _ = self.roberta(input_ids, attention_mask, token_type_ids)
        return {"logits": self.classifier(sequence_output)}


class RobertaForTokenClassification(nn.Module):
    base_model_prefix = "roberta"

    def __init__(self, c):
        super().__init__()
        self.roberta = RobertaModel(c, add_pooling_layer=False)
        self.classifier = nn.Linear(c["hidden_size"], num_labels(c))

    def forward(self, input_ids, attention_mask, token_type_ids):
        sequence_output, _ = self.roberta(input_ids, attention_mask, token_type_ids)
        return {"logits": self.classifier(sequence_output)}


class RobertaForMaskedLM(nn.Module):
    base_model_prefix = "roberta"
    tied_weights = {
        "lm_head.decoder.weight": "roberta.embeddings.word_embeddings.weight",
        "lm_head.decoder.bias": "lm_head.bias",
    }

    def __init__(self, c):
        super().__init__()
        self.roberta = RobertaModel(c, add_pooling_layer=False)
        self.lm_head = RobertaLMHead(c)
        if c.get("tie_word_embeddings", True):
            self.lm_head.decoder.weight = self.roberta.embeddings.word_embeddings.weight

    def forward(self, input_ids, attention_mask, token_type_ids):
        sequence_output, _ = self.roberta(input_ids, attention_mask, token_type_ids)
        return {"logits": self.lm_head(sequence_output)}


class RobertaBaseModel(RobertaModel):
    base_model_prefix = ""

    def __init__(self, c):
        super().__init__(c, add_pooling_layer=True)

    def forward(self, input_ids, attention_mask, token_type_ids):
        sequence_output, pooled = super().forward(input_ids, attention_mask, token_type_ids)
        return {"last_hidden_state": sequence_output, "pooler_output": pooled}


# ---------------------------------------------------------------------------------------------
# DistilBERT, modeling_distilbert.py (LayerNorm eps 1e-12 everywhere, whatever the config says)

DISTILBERT_LN_EPS = 1e-12


class DistilBertEmbeddings(nn.Module):  # HF's class is named `Embeddings`
    def __init__(self, c):
        super().__init__()
        self.word_embeddings = nn.Embedding(c["vocab_size"], c["dim"])
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], c["dim"])
        self.LayerNorm = nn.LayerNorm(c["dim"], eps=DISTILBERT_LN_EPS)
        self.register_buffer("position_ids", torch.arange(c["max_position_embeddings"]).expand((1, -1)), persistent=False)

    def forward(self, input_ids):
        position_ids = self.position_ids[:, :input_ids.shape[1]]
        return self.LayerNorm(self.word_embeddings(input_ids) + self.position_embeddings(position_ids))


class MultiHeadSelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.n_heads, self.dim = c["n_heads"], c["dim"]
        self.q_lin, self.k_lin = nn.Linear(self.dim, self.dim), nn.Linear(self.dim, self.dim)
        self.v_lin, self.out_lin = nn.Linear(self.dim, self.dim), nn.Linear(self.dim, self.dim)

    def forward(self, x, mask):
        bs, _, _ = x.shape
        dim_per_head = self.dim // self.n_heads
        shape = lambda t: t.view(bs, -1, self.n_heads, dim_per_head).transpose(1, 2)  # noqa: E731
        q, k, v = shape(self.q_lin(x)), shape(self.k_lin(x)), shape(self.v_lin(x))
        q = q / math.sqrt(dim_per_head)
        scores = torch.matmul(q, k.transpose(2, 3))
        masked = (mask == 0).view(bs, 1, 1, -1).expand_as(scores)
        scores = scores.masked_fill(masked, torch.tensor(torch.finfo(scores.dtype).min))
        context = torch.matmul(F.softmax(scores, dim=-1), v)
        return self.out_lin(context.transpose(1, 2).contiguous().view(bs, -1, self.n_heads * dim_per_head))


class FFN(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.lin1 = nn.Linear(c["dim"], c["hidden_dim"])
        self.lin2 = nn.Linear(c["hidden_dim"], c["dim"])
        self.activation = activation(c["activation"])

    def forward(self, x):
        return self.lin2(self.activation(self.lin1(x)))


class TransformerBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = MultiHeadSelfAttention(c)
        self.sa_layer_norm = nn.LayerNorm(c["dim"], eps=DISTILBERT_LN_EPS)
        self.ffn = FFN(c)
        self.output_layer_norm = nn.LayerNorm(c["dim"], eps=DISTILBERT_LN_EPS)

    def forward(self, x, mask):
        sa_output = self.sa_layer_norm(self.attention(x, mask) + x)
        return self.output_layer_norm(self.ffn(sa_output) + sa_output)


class Transformer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList(TransformerBlock(c) for _ in range(c["n_layers"]))

    def forward(self, x, mask):
        for layer in self.layer:
            x = layer(x, mask)
        return x


class DistilBertModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embeddings = DistilBertEmbeddings(c)
        self.transformer = Transformer(c)

    def forward(self, input_ids, attention_mask, token_type_ids=None):
        return self.transformer(self.embeddings(input_ids), attention_mask)


class DistilBertForSequenceClassification(nn.Module):
    base_model_prefix = "distilbert"

    def __init__(self, c):
        super().__init__()
        self.distilbert = DistilBertModel(c)
        self.pre_classifier = nn.Linear(c["dim"], c["dim"])
        self.classifier = nn.Linear(c["dim"], num_labels(c))

    def forward(self, input_ids, attention_mask, token_type_ids):
        hidden_state = self.distilbert(input_ids, attention_mask)
        return {"logits": self.classifier(F.relu(self.pre_classifier(hidden_state[:, 0])))}


class DistilBertForTokenClassification(nn.Module):
    base_model_prefix = "distilbert"

    def __init__(self, c):
        super().__init__()
        self.distilbert = DistilBertModel(c)
        self.classifier = nn.Linear(c["dim"], num_labels(c))

    def forward(self, input_ids, attention_mask, token_type_ids):
        return {"logits": self.classifier(self.distilbert(input_ids, attention_mask))}


class DistilBertForMaskedLM(nn.Module):
    base_model_prefix = "distilbert"
    tied_weights = {"vocab_projector.weight": "distilbert.embeddings.word_embeddings.weight"}

    def __init__(self, c):
        super().__init__()
        self.activation = activation(c["activation"])
        self.distilbert = DistilBertModel(c)
        self.vocab_transform = nn.Linear(c["dim"], c["dim"])
        self.vocab_layer_norm = nn.LayerNorm(c["dim"], eps=DISTILBERT_LN_EPS)
        self.vocab_projector = nn.Linear(c["dim"], c["vocab_size"])
        if c.get("tie_word_embeddings", True):
            self.vocab_projector.weight = self.distilbert.embeddings.word_embeddings.weight

    def forward(self, input_ids, attention_mask, token_type_ids):
        hidden_states = self.distilbert(input_ids, attention_mask)
        x = self.vocab_layer_norm(self.activation(self.vocab_transform(hidden_states)))
        return {"logits": self.vocab_projector(x)}


class DistilBertBaseModel(DistilBertModel):
    base_model_prefix = ""

    def forward(self, input_ids, attention_mask, token_type_ids):
        return {"last_hidden_state": super().forward(input_ids, attention_mask)}


# ---------------------------------------------------------------------------------------------
# ELECTRA, modeling_electra.py: BERT's encoder after embeddings of width embedding_size


class ElectraEmbeddings(BertEmbeddings):
    def __init__(self, c):
        super().__init__(c, width=c["embedding_size"])


class ElectraModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embeddings = ElectraEmbeddings(c)
        if c["embedding_size"] != c["hidden_size"]:
            self.embeddings_project = nn.Linear(c["embedding_size"], c["hidden_size"])
        self.encoder = BertEncoder(c)

    def forward(self, input_ids, attention_mask, token_type_ids):
        hidden_states = self.embeddings(input_ids, token_type_ids)
        if hasattr(self, "embeddings_project"):
            hidden_states = self.embeddings_project(hidden_states)
        return self.encoder(hidden_states, extended_attention_mask(attention_mask))


class ElectraClassificationHead(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["hidden_size"])
        self.out_proj = nn.Linear(c["hidden_size"], num_labels(c))

    def forward(self, features):
        return self.out_proj(F.gelu(self.dense(features[:, 0, :])))  # get_activation("gelu"), not hidden_act


class ElectraGeneratorPredictions(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.LayerNorm = nn.LayerNorm(c["embedding_size"], eps=c["layer_norm_eps"])
        self.dense = nn.Linear(c["hidden_size"], c["embedding_size"])

    def forward(self, hidden_states):
        return self.LayerNorm(F.gelu(self.dense(hidden_states)))  # get_activation("gelu")


class ElectraForSequenceClassification(nn.Module):
    base_model_prefix = "electra"

    def __init__(self, c):
        super().__init__()
        self.electra = ElectraModel(c)
        self.classifier = ElectraClassificationHead(c)

    def forward(self, input_ids, attention_mask, token_type_ids):
        return {"logits": self.classifier(self.electra(input_ids, attention_mask, token_type_ids))}


class ElectraForTokenClassification(nn.Module):
    base_model_prefix = "electra"

    def __init__(self, c):
        super().__init__()
        self.electra = ElectraModel(c)
        self.classifier = nn.Linear(c["hidden_size"], num_labels(c))

    def forward(self, input_ids, attention_mask, token_type_ids):
        return {"logits": self.classifier(self.electra(input_ids, attention_mask, token_type_ids))}


class ElectraForMaskedLM(nn.Module):
    base_model_prefix = "electra"
    tied_weights = {"generator_lm_head.weight": "electra.embeddings.word_embeddings.weight"}

    def __init__(self, c):
        super().__init__()
        self.electra = ElectraModel(c)
        self.generator_predictions = ElectraGeneratorPredictions(c)
        self.generator_lm_head = nn.Linear(c["embedding_size"], c["vocab_size"])
        if c.get("tie_word_embeddings", True):
            self.generator_lm_head.weight = self.electra.embeddings.word_embeddings.weight

    def forward(self, input_ids, attention_mask, token_type_ids):
        hidden_states = self.electra(input_ids, attention_mask, token_type_ids)
        return {"logits": self.generator_lm_head(self.generator_predictions(hidden_states))}


class ElectraBaseModel(ElectraModel):
    base_model_prefix = ""

    def forward(self, input_ids, attention_mask, token_type_ids):
        return {"last_hidden_state": super().forward(input_ids, attention_mask, token_type_ids)}


# ---------------------------------------------------------------------------------------------
# Loading and running

ARCHITECTURES = {
    "BertModel": BertBaseModel,
    "BertForSequenceClassification": BertForSequenceClassification,
    "BertForTokenClassification": BertForTokenClassification,
    "BertForMaskedLM": BertForMaskedLM,
    "RobertaModel": RobertaBaseModel,
    "RobertaForSequenceClassification": RobertaForSequenceClassification,
    "RobertaForTokenClassification": RobertaForTokenClassification,
    "RobertaForMaskedLM": RobertaForMaskedLM,
    "DistilBertModel": DistilBertBaseModel,
    "DistilBertForSequenceClassification": DistilBertForSequenceClassification,
    "DistilBertForTokenClassification": DistilBertForTokenClassification,
    "DistilBertForMaskedLM": DistilBertForMaskedLM,
    "ElectraModel": ElectraBaseModel,
    "ElectraForSequenceClassification": ElectraForSequenceClassification,
    "ElectraForTokenClassification": ElectraForTokenClassification,
    "ElectraForMaskedLM": ElectraForMaskedLM,
}


def num_labels(c):
    """PretrainedConfig.num_labels: len(id2label), 2 when the config has none."""
    return len(c["id2label"]) if "id2label" in c else c.get("num_labels", 2)


def fix_state_dict_key_on_load(key):
    """PreTrainedModel._fix_state_dict_key_on_load: TF-era LayerNorm names."""
    if key.endswith("LayerNorm.beta"):
        return key[: -len("beta")] + "bias"
    if key.endswith("LayerNorm.gamma"):
        return key[: -len("gamma")] + "weight"
    return key


def load_model(folder, architecture=None):
    """The model of `folder`, loaded strictly after HF's load-time fixes: (model, config, architecture, notes)."""
    config = json.load(open(f"{folder}/config.json"))
    architecture = architecture or config["architectures"][0]
    if architecture not in ARCHITECTURES:
        raise SystemExit(f"{folder}: architecture {architecture} is not implemented here (have {', '.join(ARCHITECTURES)})")
    model = ARCHITECTURES[architecture](config)
    notes = []
    state = {}
    for name, tensor in read_safetensors(f"{folder}/model.safetensors").items():
        fixed = fix_state_dict_key_on_load(name)
        if fixed != name:
            notes.append(f"renamed {name} -> {fixed}")
        state[fixed] = tensor
    # Saved non-persistent buffers (position_ids before transformers 4.31) are not loaded.
    buffers = {name for name, _ in model.named_buffers()}
    for name in [name for name in state if name in buffers]:
        notes.append(f"ignored buffer {name}")
        del state[name]
    # Tied weights: save_pretrained keeps one name of each tied group; from_pretrained re-ties.
    for tied, source in getattr(model, "tied_weights", {}).items():
        if tied.endswith(".weight") and not config.get("tie_word_embeddings", True):
            continue
        if tied in state:
            if not torch.equal(state[tied], state[source]):
                raise SystemExit(f"{folder}: {tied} differs from {source}, to which HF ties it")
            notes.append(f"{tied} present in the file (HF's save_pretrained drops it)")
        state[tied] = state[source]
    model.load_state_dict(state, strict=True)
    model.eval()
    return model, config, architecture, notes


def batch_inputs(spec, config):
    """(input_ids, attention_mask, token_type_ids) from a list of id lists or an input_ids/attention_mask object."""
    if isinstance(spec, list):
        length = max(len(ids) for ids in spec)
        pad = config.get("pad_token_id") or 0
        input_ids = [ids + [pad] * (length - len(ids)) for ids in spec]
        attention_mask = [[1] * len(ids) + [0] * (length - len(ids)) for ids in spec]
        token_type_ids = None
    else:
        input_ids, attention_mask = spec["input_ids"], spec.get("attention_mask")
        if attention_mask is None:
            attention_mask = [[1] * len(ids) for ids in input_ids]
        token_type_ids = spec.get("token_type_ids")
    input_ids = torch.tensor(input_ids, dtype=torch.long)
    attention_mask = torch.tensor(attention_mask, dtype=torch.long)
    token_type_ids = torch.zeros_like(input_ids) if token_type_ids is None else torch.tensor(token_type_ids, dtype=torch.long)
    return input_ids, attention_mask, token_type_ids


def run(folder, spec, architecture=None):
    model, config, architecture, notes = load_model(folder, architecture)
    input_ids, attention_mask, token_type_ids = batch_inputs(spec, config)
    with torch.no_grad():
        outputs = model(input_ids, attention_mask, token_type_ids)
    result = {"architecture": architecture, "input_ids": input_ids.tolist(), "attention_mask": attention_mask.tolist()}
    for key, value in outputs.items():
        if value is not None:
            result[key] = value.tolist()
    return result, notes


def main(argv):
    if len(argv) == 2 and not argv[0].startswith("-"):
        result, _ = run(argv[0], json.load(open(argv[1])))
        print(json.dumps(result["logits"]))
        return
    parser = argparse.ArgumentParser(description="Hugging Face reference logits for a checkpoint folder (see the module docstring).")
    parser.add_argument("--model", required=True, help="folder with config.json and model.safetensors")
    parser.add_argument("--ids-json", required=True, help="token id batches (list of id lists, or {input_ids, attention_mask[, token_type_ids]})")
    parser.add_argument("--architecture", help="override config.json's architectures[0]")
    args = parser.parse_args(argv)
    result, notes = run(args.model, json.load(open(args.ids_json)), args.architecture)
    for note in notes:
        print(f"hf_reference: {note}", file=sys.stderr)
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
