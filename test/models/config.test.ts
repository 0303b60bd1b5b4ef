import test from 'node:test';
import assert from 'node:assert/strict';
import { chooseTrainingLabels, modelConfigJson, readConfig } from '../../src/app/checkpoint.js';
import { CheckpointError, ConfigError } from '../../src/core/errors.js';
import { registeredFamilies } from '../../src/models/index.js';
import { SequenceClassifier } from '../../src/tasks/model.js';
import { tinyConfigJson } from '../fixtures/tiny-bert.js';

function rejects(json: unknown, pattern: RegExp): void {
  assert.throws(
    () => readConfig(json, 'model/config.json'),
    (error: unknown) => {
      assert.ok(error instanceof CheckpointError || error instanceof ConfigError, String(error));
      assert.match(error.message, /^model\/config\.json[,:] /);
      assert.match(error.message, pattern);
      return true;
    },
  );
}

test('the registry holds the four families', () => {
  assert.deepEqual(registeredFamilies().map((family) => family.modelType).sort(), ['bert', 'distilbert', 'electra', 'roberta']);
});

test('each family reads its own keys and fills HF defaults', () => {
  const bert = readConfig({ model_type: 'bert' }, 'c').config;
  assert.deepEqual([bert.hiddenSize, bert.numLayers, bert.numHeads, bert.intermediateSize, bert.vocabSize, bert.layerNormEps, bert.typeVocabSize], [768, 12, 12, 3072, 30522, 1e-12, 2]);
  assert.equal(bert.classifierDropout, 0.1, 'classifier_dropout null → hidden_dropout_prob');
  const distil = readConfig({ model_type: 'distilbert', dim: 64, hidden_dim: 96, n_layers: 3, n_heads: 4, activation: 'relu', seq_classif_dropout: 0.3, dropout: 0.05 }, 'c').config;
  assert.deepEqual([distil.hiddenSize, distil.intermediateSize, distil.numLayers, distil.numHeads, distil.activation, distil.classifierDropout, distil.hiddenDropout, distil.typeVocabSize, distil.layerNormEps], [64, 96, 3, 4, 'relu', 0.3, 0.05, 0, 1e-12]);
  const roberta = readConfig({ model_type: 'roberta' }, 'c').config;
  assert.deepEqual([roberta.padTokenId, roberta.maxPositions, roberta.typeVocabSize, roberta.layerNormEps, roberta.positionStyle], [1, 514, 1, 1e-5, 'padding-offset']);
  const electra = readConfig({ model_type: 'electra' }, 'c').config;
  assert.deepEqual([electra.embeddingSize, electra.hiddenSize, electra.numHeads], [128, 256, 4]);
});

test('labels come from id2label and/or label2id in id order, checked', () => {
  const labels = (json: Record<string, unknown>) => readConfig({ model_type: 'bert', ...json }, 'c').config.labels;
  assert.deepEqual(labels({ id2label: { '1': 'spam', '0': 'ham' } }), ['ham', 'spam']);
  assert.deepEqual(labels({ label2id: { spam: 1, ham: 0 } }), ['ham', 'spam']);
  rejects({ model_type: 'bert', id2label: { 0: 'a', 2: 'b' } }, /field "id2label": keys must be the ids 0\.\.1, got "2"/);
  rejects({ model_type: 'bert', id2label: { 0: 'a', 1: 'a' } }, /field "id2label": has duplicate label names/);
  rejects({ model_type: 'bert', id2label: { 0: 'a', 1: 'b' }, label2id: { a: 1, b: 0 } }, /field "label2id": disagrees with id2label/);
  rejects({ model_type: 'bert', id2label: { 0: 'a', 1: 'b' }, num_labels: 3 }, /field "num_labels": \(3\) disagrees with id2label \(2 labels\)/);
});

test('every invalid value is named by file and field', () => {
  rejects([], /must contain a JSON object/);
  rejects({}, /field "model_type": is missing/);
  rejects({ model_type: 'gpt2' }, /field "model_type": unsupported model_type "gpt2": supported are "bert", "distilbert", "roberta", "electra"/);
  rejects({ model_type: 'bert', hidden_size: 'big' }, /field "hidden_size": must be an integer >= 1, got "big"/);
  rejects({ model_type: 'bert', num_hidden_layers: 0 }, /field "num_hidden_layers": must be an integer >= 1/);
  rejects({ model_type: 'bert', hidden_dropout_prob: 1 }, /field "hidden_dropout_prob": must be a probability in \[0, 1\), got 1/);
  rejects({ model_type: 'bert', layer_norm_eps: 0 }, /field "layer_norm_eps": must be a finite number > 0/);
  rejects({ model_type: 'bert', hidden_act: 'swish' }, /field "hidden_act": must be one of gelu, gelu_new, gelu_pytorch_tanh, relu, tanh, got "swish"/);
  rejects({ model_type: 'bert', hidden_size: 10, num_attention_heads: 4 }, /field "hidden_size": \(10\) must be a multiple of the number of attention heads \(4\)/);
  rejects({ model_type: 'bert', position_embedding_type: 'relative_key' }, /field "position_embedding_type": only "absolute"/);
  rejects({ model_type: 'bert', is_decoder: true }, /field "is_decoder": must be false/);
  rejects({ model_type: 'distilbert', sinusoidal_pos_embds: true }, /field "sinusoidal_pos_embds": sinusoidal position embeddings are not supported/);
  rejects({ model_type: 'distilbert', dim: 10, n_heads: 3 }, /field "dim"/);
});

test('--dropout overrides every dropout probability', () => {
  const { config } = readConfig({ model_type: 'bert', hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.2, classifier_dropout: 0.3 }, 'c', 0);
  assert.deepEqual([config.hiddenDropout, config.attentionDropout, config.classifierDropout], [0, 0, 0]);
  assert.throws(() => readConfig({ model_type: 'bert' }, 'c', 1), /dropout must be a probability/);
});

test('a saved config keeps the file\'s other keys, names the task\'s architecture and the labels, and parses back', () => {
  const { family, config } = readConfig({ ...tinyConfigJson(), transformers_version: '4.40.0', classifier_dropout: 0.2 }, 'c');
  const model = new SequenceClassifier({ family, config, labels: ['ham', 'spam'] });
  const json = JSON.parse(modelConfigJson(model as never)) as Record<string, unknown>;
  model.dispose();
  assert.deepEqual(json.architectures, ['BertForSequenceClassification']);
  assert.equal(json.model_type, 'bert');
  assert.deepEqual(json.id2label, { '0': 'ham', '1': 'spam' });
  assert.deepEqual(json.label2id, { ham: 0, spam: 1 });
  assert.equal(json.problem_type, 'single_label_classification');
  assert.equal(json.transformers_version, '4.40.0');
  assert.equal(json.classifier_dropout, 0.2);
  assert.deepEqual(readConfig(json, 'c').config.labels, ['ham', 'spam']);
});

test('training labels: the model\'s named labels when they cover the data; else the data\'s with a fresh head and a notice', () => {
  const config = (labels?: string[]) =>
    readConfig({ model_type: 'bert', ...(labels ? { id2label: Object.fromEntries(labels.map((label, id) => [String(id), label])) } : {}) }, 'c').config;
  assert.deepEqual(chooseTrainingLabels(config(['neg', 'pos']), ['neg', 'pos']), { labels: ['neg', 'pos'], keepHead: true });
  assert.deepEqual(chooseTrainingLabels(config(['neg', 'neu', 'pos']), ['pos', 'neg']), { labels: ['neg', 'neu', 'pos'], keepHead: true });
  const changed = chooseTrainingLabels(config(['ham', 'spam']), ['negative', 'positive']);
  assert.deepEqual([changed.labels, changed.keepHead], [['negative', 'positive'], false]);
  assert.match(changed.notice!, /the model's labels \(ham, spam\) are not the data's \(negative, positive\): training a new classification head/);
  assert.deepEqual(chooseTrainingLabels(config(['LABEL_0', 'LABEL_1']), ['b', 'a']), { labels: ['b', 'a'], keepHead: true });
  assert.deepEqual(chooseTrainingLabels(config(['LABEL_0', 'LABEL_1']), ['a', 'b', 'c']), { labels: ['a', 'b', 'c'], keepHead: false });
  assert.deepEqual(chooseTrainingLabels(config(), ['a', 'b']), { labels: ['a', 'b'], keepHead: false });
});
