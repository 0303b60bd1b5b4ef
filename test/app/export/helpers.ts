/**
 * Shared pieces of the export tests: the tiny checkpoints of every family × head, the TF.js
 * model of a folder (the reference the exports are compared with), and real bundled texts cut
 * to several lengths.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildModel, readConfig } from '../../../src/app/checkpoint.js';
import type { EncoderConfig, ModelFamily } from '../../../src/models/index.js';
import { readTokenizerFiles, readWeights } from '../../../src/node/checkpoint.js';
import { taskOfArchitectures } from '../../../src/node/export.js';
import type { TaskModel } from '../../../src/tasks/model.js';
import { loadTokenizer, type Tokenizer } from '../../../src/tokenizers/index.js';
import { makeTinyCheckpoints, type TinyCheckpointFolder } from '../../fixtures/tiny-checkpoints.js';
import { tempDir } from '../../helpers/tempdir.js';

export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** Every tiny checkpoint with a task head (12 folders: 4 families × 3 heads). */
export async function tinyHeadFolders(): Promise<TinyCheckpointFolder[]> {
  const folders = await makeTinyCheckpoints(tempDir('export-tiny'), { seed: 1 });
  return folders.filter((folder) => folder.head !== 'base' && folder.variant === null);
}

/** Texts of the bundled training data (real e-mails). */
export function bundledTexts(count: number): string[] {
  return readFileSync(path.join(REPO_ROOT, 'data', 'spam', 'train.jsonl'), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .slice(0, count)
    .map((line) => (JSON.parse(line) as { text: string }).text);
}

export interface ReferenceModel {
  family: ModelFamily;
  config: EncoderConfig;
  model: TaskModel<unknown>;
  tokenizer: Tokenizer;
  /** The longest input the position table allows. */
  lengthLimit: number;
}

/** The TF.js model and tokenizer of a checkpoint folder, for the task its architecture names. */
export async function referenceModel(dir: string): Promise<ReferenceModel> {
  const file = path.join(dir, 'config.json');
  const { family, config } = readConfig(JSON.parse(readFileSync(file, 'utf8')), file);
  const task = taskOfArchitectures(family, config, file);
  const weights = (await readWeights(dir))!;
  const { model } = buildModel(family, config, { task, labels: config.labels ?? [], tensors: weights.tensors, source: weights.file, mask: ((sample: never) => sample) as never });
  const tokenizer = loadTokenizer(await readTokenizerFiles(dir), family.modelType, dir);
  const lengthLimit = config.positionStyle === 'padding-offset' ? config.maxPositions - config.padTokenId - 1 : config.maxPositions;
  return { family, config, model, tokenizer, lengthLimit };
}

/**
 * Word prefixes of real texts whose encodings have about `lengths[i]` tokens (never more), so
 * that no tokenizer truncates them.
 */
export function textsOfLengths(tokenizer: Tokenizer, texts: readonly string[], lengths: readonly number[]): string[] {
  return lengths.map((length, i) => {
    const words = texts[i % texts.length]!.split(/\s+/).filter((word) => word !== '');
    let best = words[0]!;
    for (let count = 1; count <= words.length; count++) {
      const candidate = words.slice(0, count).join(' ');
      if (tokenizer.encode(candidate, { maxLength: 100_000 }).ids.length > length) break;
      best = candidate;
    }
    return best;
  });
}

/** max |a − b| / max |a| over two sets of logits shaped as `TaskModel.logits` returns them. */
export function relativeDifference(ours: Float32Array[][], theirs: Float32Array[][]): number {
  let worst = 0;
  let scale = 0;
  ours.forEach((rows, sample) =>
    rows.forEach((row, position) => {
      const other = theirs[sample]![position]!;
      if (other.length !== row.length) throw new Error(`row width ${other.length} != ${row.length}`);
      row.forEach((value, k) => {
        worst = Math.max(worst, Math.abs(value - other[k]!));
        scale = Math.max(scale, Math.abs(value));
      });
    }),
  );
  return worst / scale;
}

export function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let k = 1; k < row.length; k++) if (row[k]! > row[best]!) best = k;
  return best;
}

/** Softmax in float64 (max subtracted), as the pipelines compute scores. */
export function softmax(row: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let k = 0; k < row.length; k++) max = Math.max(max, row[k]!);
  const exps = Array.from(row, (value) => Math.exp(value - max));
  const sum = exps.reduce((total, value) => total + value, 0);
  return exps.map((value) => value / sum);
}
