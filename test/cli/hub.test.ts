/**
 * `--model org/name` end to end: train downloads a (sharded) checkpoint from a hub endpoint
 * (a local stand-in on 127.0.0.1) into the standard cache, then eval runs offline from it.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { FakeHub, tinyCheckpointFiles } from '../helpers/hub-server.js';
import { runCli, sentimentRows, tempDir, writeJsonl } from './helpers.js';

test('train --model org/name downloads into HF_HOME; eval --model org/name then works with HF_HUB_OFFLINE=1 and no hub', async () => {
  const dir = tempDir('cli-hub');
  const hub = await FakeHub.start();
  try {
    hub.createRepo('acme/tiny-bert').commit(tinyCheckpointFiles({ shards: 2 }));
    const data = writeJsonl(path.join(dir, 'train.jsonl'), sentimentRows(12));
    const env = { HF_HOME: path.join(dir, 'hf'), HF_ENDPOINT: hub.url };
    const out = path.join(dir, 'out');
    const trained = await runCli(['train', '--data', data, '--model', 'acme/tiny-bert', '--out', out, '--epochs', '1', '--batch', '4', '--micro-batch', '2', '--backend', 'cpu', '--workers', '1'], undefined, env);
    assert.equal(trained.code, 0, trained.stderr);
    assert.match(trained.stderr, /model: acme\/tiny-bert@main \([0-9a-f]{12}\) downloaded/);
    assert.ok(existsSync(path.join(dir, 'hf', 'hub', 'models--acme--tiny-bert', 'refs', 'main')));
    assert.ok(existsSync(path.join(out, 'model.safetensors')));
    await hub.close();
    const offline = await runCli(['tokenize', '--model', 'acme/tiny-bert', '--text', 'good movie'], undefined, { ...env, HF_HUB_OFFLINE: '1' });
    assert.equal(offline.code, 0, offline.stderr);
    assert.deepEqual(JSON.parse(offline.stdout).tokens, ['[CLS]', 'good', 'movie', '[SEP]']);
    const missing = await runCli(['tokenize', '--model', 'acme/other', '--text', 'x'], undefined, { ...env, HF_HUB_OFFLINE: '1' });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^microbatch: error: .*acme\/other/m);
  } finally {
    await hub.close();
  }
});
