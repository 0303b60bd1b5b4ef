import test from 'node:test';
import assert from 'node:assert/strict';
import { CheckpointError } from '../../src/core/errors.js';
import { BERT_CONFIG_DEFAULTS, parseBertConfig, serializeBertConfig } from '../../src/bert/config.js';
import { tinyConfigJson } from './fixtures.js';

function rejects(json: unknown, pattern: RegExp): void {
  assert.throws(() => parseBertConfig(json, 'model/config.json'), (error: unknown) => {
    assert.ok(error instanceof CheckpointError);
    assert.match(error.message, /^model\/config\.json: /);
    assert.match(error.message, pattern);
    return true;
  });
}

test('parseBertConfig fills HF BertConfig defaults for absent keys', () => {
  const config = parseBertConfig({}, 'config.json');
  assert.deepEqual({ ...config, extra: undefined }, { ...BERT_CONFIG_DEFAULTS, extra: undefined });
  assert.equal(config.hidden_act, 'gelu');
  assert.equal(config.layer_norm_eps, 1e-12);
  assert.equal(config.classifier_dropout, null);
  assert.equal(config.labels, undefined);
});

test('parseBertConfig reads a real bert-base-uncased config.json', () => {
  const config = parseBertConfig(
    {
      architectures: ['BertForMaskedLM'], attention_probs_dropout_prob: 0.1, gradient_checkpointing: false, hidden_act: 'gelu',
      hidden_dropout_prob: 0.1, hidden_size: 768, initializer_range: 0.02, intermediate_size: 3072, layer_norm_eps: 1e-12,
      max_position_embeddings: 512, model_type: 'bert', num_attention_heads: 12, num_hidden_layers: 12, pad_token_id: 0,
      position_embedding_type: 'absolute', transformers_version: '4.6.0.dev0', type_vocab_size: 2, use_cache: true, vocab_size: 30522,
    },
    'bert-base-uncased/config.json',
  );
  assert.equal(config.num_hidden_layers, 12);
  assert.deepEqual(config.extra, { gradient_checkpointing: false, transformers_version: '4.6.0.dev0', use_cache: true });
});

test('parseBertConfig reads labels from id2label and/or label2id in id order', () => {
  assert.deepEqual(parseBertConfig({ id2label: { '1': 'spam', '0': 'ham' } }, 'c').labels, ['ham', 'spam']);
  assert.deepEqual(parseBertConfig({ label2id: { spam: 1, ham: 0 } }, 'c').labels, ['ham', 'spam']);
  assert.deepEqual(parseBertConfig({ id2label: { 0: 'ham', 1: 'spam' }, label2id: { ham: 0, spam: 1 }, num_labels: 2 }, 'c').labels, ['ham', 'spam']);
  rejects({ id2label: { 0: 'a', 2: 'b' } }, /field "id2label" keys must be the ids 0\.\.1, got "2"/);
  rejects({ id2label: { 0: 'a', 1: 'a' } }, /field "id2label" has duplicate label names/);
  rejects({ id2label: { 0: 'a', 1: 'b' }, label2id: { a: 1, b: 0 } }, /field "label2id" disagrees with id2label/);
  rejects({ label2id: { a: 0, b: 0 } }, /field "label2id" ids must be distinct integers/);
  rejects({ id2label: { 0: 'a', 1: 'b' }, num_labels: 3 }, /field "num_labels" \(3\) disagrees with id2label \(2 labels\)/);
  rejects({ id2label: ['a'] }, /field "id2label" must be an object/);
});

test('parseBertConfig names the field and the file of every invalid value', () => {
  rejects([], /must contain a JSON object/);
  rejects({ hidden_size: 'big' }, /field "hidden_size" must be an integer >= 1, got "big"/);
  rejects({ num_hidden_layers: -1 }, /field "num_hidden_layers" must be an integer >= 0/);
  rejects({ vocab_size: 1.5 }, /field "vocab_size" must be an integer/);
  rejects({ hidden_dropout_prob: 1 }, /field "hidden_dropout_prob" must be a probability in \[0, 1\), got 1/);
  rejects({ attention_probs_dropout_prob: -0.1 }, /field "attention_probs_dropout_prob"/);
  rejects({ classifier_dropout: 'x' }, /field "classifier_dropout" must be null or a probability/);
  rejects({ layer_norm_eps: 0 }, /field "layer_norm_eps" must be a finite number > 0/);
  rejects({ initializer_range: null }, /field "initializer_range"/);
  rejects({ hidden_act: 'swish' }, /field "hidden_act" must be one of gelu, gelu_new, gelu_pytorch_tanh, relu, got "swish"/);
  rejects({ hidden_size: 10, num_attention_heads: 4 }, /field "hidden_size" \(10\) must be a multiple of num_attention_heads \(4\)/);
  rejects({ model_type: 'roberta' }, /field "model_type" must be "bert", got "roberta"/);
  rejects({ position_embedding_type: 'relative_key' }, /field "position_embedding_type" only "absolute" is supported/);
  rejects({ is_decoder: true }, /field "is_decoder" must be false/);
  rejects({ problem_type: 'regression' }, /field "problem_type" only "single_label_classification" is supported/);
});

test('serializeBertConfig writes an HF-loadable BertForSequenceClassification config that parses back', () => {
  const config = parseBertConfig({ ...tinyConfigJson(), transformers_version: '4.40.0', classifier_dropout: 0.2 }, 'c');
  const text = serializeBertConfig(config, ['ham', 'spam']);
  const json = JSON.parse(text) as Record<string, unknown>;
  assert.deepEqual(json.architectures, ['BertForSequenceClassification']);
  assert.equal(json.model_type, 'bert');
  assert.deepEqual(json.id2label, { '0': 'ham', '1': 'spam' });
  assert.deepEqual(json.label2id, { ham: 0, spam: 1 });
  assert.equal(json.problem_type, 'single_label_classification');
  assert.equal(json.transformers_version, '4.40.0');
  assert.equal(json.classifier_dropout, 0.2);
  assert.equal(json.labels, undefined);
  assert.equal(json.extra, undefined);
  const back = parseBertConfig(json, 'c');
  assert.deepEqual(back, { ...config, labels: ['ham', 'spam'] });
});
