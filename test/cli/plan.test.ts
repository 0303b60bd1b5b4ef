/** `microbatch plan` prints docs/design.md §3's windows for N = 110, from --size or from a data file. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { runCli, sentimentRows, tempDir, writeJsonl } from './helpers.js';

const EXPECTED = {
  step: { windows: [32, 32, 32, 14], dropped: 0 },
  balance: { windows: [28, 28, 27, 27], dropped: 0 },
  drop: { windows: [32, 32, 32], dropped: 14 },
} as const;

function epochLine(stdout: string): string {
  const line = stdout.split('\n').find((text) => text.startsWith('epoch 1:'));
  assert.ok(line !== undefined, stdout);
  return line;
}

test('plan --size 110 prints the windows of every remainder policy', async () => {
  const policies = Object.keys(EXPECTED) as (keyof typeof EXPECTED)[];
  const results = await Promise.all(policies.map((policy) => runCli(['plan', '--size', '110', '--epochs', '1', '--remainder', policy])));
  policies.forEach((policy, i) => {
    const { code, stdout, stderr } = results[i]!;
    assert.equal(code, 0, stderr);
    const { windows, dropped } = EXPECTED[policy];
    const used = 110 - dropped;
    assert.ok(epochLine(stdout).startsWith(`epoch 1: ${used}/110 samples in ${windows.length} windows [${windows.join(', ')}]`), stdout);
    if (dropped > 0) assert.match(epochLine(stdout), new RegExp(`, ${dropped} dropped \\[(\\d+, ){${dropped - 1}}\\d+\\]`));
    else assert.doesNotMatch(epochLine(stdout), /dropped/);
  });
});

test('plan --data plans the rows of a 110-row file, and --json parses', async () => {
  const data = writeJsonl(path.join(tempDir('cli-plan'), 'data.jsonl'), sentimentRows(110));
  const text = await runCli(['plan', '--data', data, '--epochs', '2']);
  assert.equal(text.code, 0, text.stderr);
  assert.ok(epochLine(text.stdout).startsWith('epoch 1: 110/110 samples in 4 windows [32, 32, 32, 14]; micro-batches 8+8+8+8 | 8+8+8+8 | 8+8+8+8 | 8+6'), text.stdout);
  assert.match(text.stdout, /^epoch 2: 110\/110 samples in 4 windows/m);

  for (const policy of Object.keys(EXPECTED) as (keyof typeof EXPECTED)[]) {
    const json = await runCli(['plan', '--data', data, '--epochs', '2', '--remainder', policy, '--json']);
    assert.equal(json.code, 0, json.stderr);
    const plan = JSON.parse(json.stdout);
    assert.equal(plan.samples, 110);
    assert.equal(plan.steps_per_epoch, EXPECTED[policy].windows.length);
    assert.equal(plan.epochs.length, 2);
    for (const epoch of plan.epochs) {
      assert.deepEqual(epoch.windowSizes, EXPECTED[policy].windows);
      assert.equal(epoch.dropped.length, EXPECTED[policy].dropped);
      // Every sample index is in exactly one window or dropped.
      const seen = [...epoch.windows.flatMap((window: { samples: number[] }) => window.samples), ...epoch.dropped].sort((a: number, b: number) => a - b);
      assert.deepEqual(seen, Array.from({ length: 110 }, (_, i) => i));
    }
  }
});

test('plan refuses --data together with --size, and neither', async () => {
  const both = await runCli(['plan', '--size', '10', '--data', 'x.jsonl']);
  assert.equal(both.code, 1);
  assert.equal(both.stderr, 'microbatch: error: give either --data or --size, not both\n');
  const neither = await runCli(['plan']);
  assert.equal(neither.code, 1);
  assert.equal(neither.stderr, 'microbatch: error: plan needs --data FILE or --size N\n');
});
