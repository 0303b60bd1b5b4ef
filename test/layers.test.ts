/**
 * The layers of docs/design.md §5 point one way: a module imports only from its own layer or the
 * layers before it, and no imports go round in a cycle. Parsed from the sources (src/**), so a
 * new upward import fails here with the offending file and line.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SRC = path.join(ROOT, 'src');
export const LAYERS = ['core', 'plan', 'optim', 'backend', 'train', 'nn', 'models', 'tasks', 'tokenizers', 'app', 'node', 'cli'] as const;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

/** The layer of a file under src/ (index.ts at the top is the package entry, outside every layer). */
function layerOf(file: string): number | undefined {
  const top = path.relative(SRC, file).split(path.sep)[0]!;
  const index = LAYERS.indexOf(top as (typeof LAYERS)[number]);
  return index === -1 ? undefined : index;
}

/** Relative imports (static, dynamic and re-exports) with their line numbers, resolved to .ts files. */
function imports(file: string): { target: string; line: number }[] {
  const text = readFileSync(file, 'utf8');
  const found: { target: string; line: number }[] = [];
  const pattern = /(?:^|[^\w.])(?:import|export)\s*(?:[^'";]*?\sfrom\s*)?\(?\s*['"](\.{1,2}\/[^'"]+)['"]/gm;
  for (const match of text.matchAll(pattern)) {
    const line = text.slice(0, match.index).split('\n').length;
    found.push({ target: path.resolve(path.dirname(file), match[1]!.replace(/\.js$/, '.ts')), line });
  }
  return found;
}

const files = sources(SRC);
const graph = new Map(files.map((file) => [file, imports(file)]));

test('every source file belongs to a layer (or is the package entry)', () => {
  const outside = files.filter((file) => layerOf(file) === undefined && path.relative(SRC, file) !== 'index.ts');
  assert.deepEqual(outside, []);
});

test('imports only point to the same layer or an earlier one', () => {
  const violations: string[] = [];
  for (const [file, targets] of graph) {
    const layer = layerOf(file);
    if (layer === undefined) continue;
    for (const { target, line } of targets) {
      const targetLayer = layerOf(target);
      if (targetLayer !== undefined && targetLayer > layer) {
        violations.push(`${path.relative(ROOT, file)}:${line} (${LAYERS[layer]}) imports ${path.relative(ROOT, target)} (${LAYERS[targetLayer]})`);
      }
    }
  }
  assert.deepEqual(violations, []);
});

test('no import cycles between modules', () => {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const cycles: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    stack.push(file);
    for (const { target } of graph.get(file) ?? []) {
      if (!graph.has(target)) continue;
      if (state.get(target) === 'open') cycles.push([...stack.slice(stack.indexOf(target)), target].map((item) => path.relative(SRC, item)).join(' → '));
      else if (state.get(target) === undefined) visit(target);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of files) if (state.get(file) === undefined) visit(file);
  assert.deepEqual(cycles, []);
});
