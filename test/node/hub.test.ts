/**
 * `--model org/name[@revision]` against a fake hub on 127.0.0.1 (test/helpers/hub-server.ts):
 * downloads, the Python-compatible cache, offline runs with zero requests, revisions, tokens,
 * interrupted downloads, sharded weights, and the errors. No real network anywhere.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, readlink, symlink, truncate, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { test, type TestContext } from 'node:test';
import { scanCachedRepo } from '@huggingface/hub';
import { CheckpointError, ConfigError } from '../../src/core/errors.js';
import { writeBlob } from '../../src/node/hub-cache.js';
import { createDownloadProgressBar, formatBytes } from '../../src/node/hub-progress.js';
import { HubError, hubSettings, parseHubModelId, resolveModelSource, type DownloadProgress, type ResolveModelOptions } from '../../src/node/hub.js';
import { FakeHub, gitBlobId, sha256Hex, tinyCheckpointFiles, type FakeFiles } from '../helpers/hub-server.js';
import { tempDir } from '../helpers/tempdir.js';

const NEEDED = ['config.json', 'model.safetensors', 'special_tokens_map.json', 'tokenizer_config.json', 'vocab.txt'];

/** A fresh fake hub (closed after the test) and an empty HF_HOME pointed at it. */
async function setup(t: TestContext): Promise<{ hub: FakeHub; home: string; env: NodeJS.ProcessEnv; cache: string }> {
  const hub = await FakeHub.start();
  t.after(() => hub.close());
  const home = tempDir('hub-home');
  return { hub, home, env: { HF_HOME: home, HF_ENDPOINT: hub.url }, cache: path.join(home, 'hub') };
}

function bytes(content: string | Uint8Array): Uint8Array {
  return typeof content === 'string' ? new TextEncoder().encode(content) : content;
}

async function assertSnapshotHas(dir: string, files: FakeFiles, names: readonly string[]): Promise<void> {
  assert.deepEqual((await readdir(dir)).sort(), [...names].sort());
  for (const name of names) assert.deepEqual(new Uint8Array(await readFile(path.join(dir, name))), bytes(files[name]!), name);
}

async function rejectsWith<T extends Error>(promise: Promise<unknown>, type: new (...args: never[]) => T, ...patterns: RegExp[]): Promise<T> {
  const error = await promise.then(
    () => assert.fail('expected an error'),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
  assert.ok(!error.message.includes('\n'), `one line: ${error.message}`);
  for (const pattern of patterns) assert.match(error.message, pattern);
  return error;
}

test('first run downloads only the needed files into HF_HOME/hub, reporting progress; an offline second run makes no request', async (t) => {
  const { hub, env, cache } = await setup(t);
  const files = { ...tinyCheckpointFiles(), 'README.md': '# tiny\n', 'pytorch_model.bin': new Uint8Array(64), 'onnx/model.onnx': new Uint8Array(32) };
  const commit = hub.createRepo('org/tiny').commit(files);
  const events: DownloadProgress[] = [];

  const first = await resolveModelSource('org/tiny', { env, onProgress: (event) => events.push(event) });
  assert.deepEqual(first, {
    dir: path.join(cache, 'models--org--tiny', 'snapshots', commit),
    source: 'hub-download',
    repo: 'org/tiny',
    revision: 'main',
    commit,
  });
  await assertSnapshotHas(first.dir, files, NEEDED);
  assert.equal(hub.downloadsOf('pytorch_model.bin') + hub.downloadsOf('README.md') + hub.downloadsOf('model.onnx'), 0);

  // Per file: starts at 0, never goes back, ends at the file's size.
  assert.deepEqual([...new Set(events.map((event) => event.file))].sort(), NEEDED);
  for (const name of NEEDED) {
    const done = events.filter((event) => event.file === name).map((event) => event.bytesDone);
    const total = bytes(files[name as keyof typeof files]!).byteLength;
    assert.equal(done[0], 0, name);
    assert.equal(done.at(-1), total, name);
    assert.deepEqual(done, [...done].sort((a, b) => a - b), name);
    assert.ok(events.filter((event) => event.file === name).every((event) => event.bytesTotal === total && event.repo === 'org/tiny'));
  }

  hub.requests.length = 0;
  const offline = await resolveModelSource('org/tiny', { env: { ...env, HF_HUB_OFFLINE: '1' } });
  assert.deepEqual(offline, { ...first, source: 'hub-cache' });
  assert.equal(hub.requests.length, 0);

  // Online again: two metadata requests, nothing downloaded.
  const again = await resolveModelSource('org/tiny', { env });
  assert.deepEqual(again, { ...first, source: 'hub-cache' });
  assert.deepEqual(
    hub.requests.map((request) => request.url.split('?')[0]),
    ['/api/models/org/tiny/revision/main', `/api/models/org/tiny/tree/${commit}`],
  );
});

test('what is downloaded has the layout of Python huggingface_hub: blobs by sha256 / git blob id, relative snapshot symlinks, refs/main', async (t) => {
  const { hub, env, cache } = await setup(t);
  const files = tinyCheckpointFiles();
  const commit = hub.createRepo('org/tiny').commit(files);
  await resolveModelSource('org/tiny', { env });

  const repoDir = path.join(cache, 'models--org--tiny');
  assert.equal(await readFile(path.join(repoDir, 'refs', 'main'), 'utf8'), commit); // no newline, as Python writes it
  const blobNames: string[] = [];
  for (const name of NEEDED) {
    const content = bytes(files[name]!);
    // LFS files are named by their sha256 (X-Linked-Etag), the others by their git blob id (ETag).
    const etag = name === 'model.safetensors' ? sha256Hex(content) : gitBlobId(content);
    blobNames.push(etag);
    const pointer = path.join(repoDir, 'snapshots', commit, name);
    assert.ok((await lstat(pointer)).isSymbolicLink(), name);
    assert.equal(await readlink(pointer), `../../blobs/${etag}`);
    assert.deepEqual(new Uint8Array(await readFile(path.join(repoDir, 'blobs', etag))), content);
  }
  assert.deepEqual((await readdir(path.join(repoDir, 'blobs'))).sort(), blobNames.sort()); // nothing partial left over
  assert.deepEqual((await readdir(cache)).sort(), ['models--org--tiny']);

  // @huggingface/hub's port of Python's scan_cache_dir reads it as one revision with ref main.
  const scanned = await scanCachedRepo(repoDir);
  assert.deepEqual(scanned.id, { name: 'org/tiny', type: 'model' });
  assert.equal(scanned.revisions.length, 1);
  assert.equal(scanned.revisions[0]!.commitOid, commit);
  assert.deepEqual(scanned.revisions[0]!.refs, ['main']);
  assert.equal(scanned.filesCount, NEEDED.length);
});

test('a cache built by hand as Python huggingface_hub writes it is read offline, and online it is reused without downloading', async (t) => {
  const { hub, env, cache } = await setup(t);
  const files = tinyCheckpointFiles();
  const commit = hub.createRepo('google/tiny-bert').commit(files);
  const repoDir = path.join(cache, 'models--google--tiny-bert');
  const python = ['config.json', 'model.safetensors', 'vocab.txt'];
  for (const name of python) {
    const content = bytes(files[name]!);
    const etag = name.endsWith('.safetensors') ? sha256Hex(content) : gitBlobId(content);
    await mkdir(path.join(repoDir, 'blobs'), { recursive: true });
    await writeFile(path.join(repoDir, 'blobs', etag), content);
    await mkdir(path.join(repoDir, 'snapshots', commit), { recursive: true });
    await symlink(`../../blobs/${etag}`, path.join(repoDir, 'snapshots', commit, name));
  }
  await mkdir(path.join(repoDir, 'refs'), { recursive: true });
  await writeFile(path.join(repoDir, 'refs', 'main'), commit);
  // Python records files the repository does not have here; it must not confuse us.
  await mkdir(path.join(repoDir, '.no_exist', commit), { recursive: true });
  await writeFile(path.join(repoDir, '.no_exist', commit, 'tokenizer.json'), '');

  const offline = await resolveModelSource('google/tiny-bert', { env: { ...env, HF_HUB_OFFLINE: '1' } });
  assert.deepEqual(offline, { dir: path.join(repoDir, 'snapshots', commit), source: 'hub-cache', repo: 'google/tiny-bert', revision: 'main', commit });
  await assertSnapshotHas(offline.dir, files, python);
  assert.equal(hub.requests.length, 0);

  // Online: what Python cached is kept, only the two tokenizer files it lacked are fetched.
  const online = await resolveModelSource('google/tiny-bert', { env });
  assert.equal(online.source, 'hub-download');
  await assertSnapshotHas(online.dir, files, NEEDED);
  for (const name of python) assert.equal(hub.downloadsOf(name), 0, name);
});

test('@revision: a branch and a commit hash, each cached under its commit; refs/<branch> recorded; both work offline', async (t) => {
  const { hub, env, cache } = await setup(t);
  const repo = hub.createRepo('org/tiny');
  const v1Files = tinyCheckpointFiles({ seed: 1 });
  const v1 = repo.commit(v1Files);
  const v2Files = tinyCheckpointFiles({ seed: 2 });
  const v2 = repo.commit(v2Files, { branch: 'experiment' });
  repo.ref('refs/pr/3', v2);

  const branch = await resolveModelSource('org/tiny@experiment', { env });
  assert.equal(branch.commit, v2);
  assert.equal(branch.revision, 'experiment');
  await assertSnapshotHas(branch.dir, v2Files, NEEDED);
  assert.equal(await readFile(path.join(cache, 'models--org--tiny', 'refs', 'experiment'), 'utf8'), v2);

  const pinned = await resolveModelSource(`org/tiny@${v1}`, { env });
  assert.equal(pinned.commit, v1);
  assert.equal(pinned.dir, path.join(cache, 'models--org--tiny', 'snapshots', v1));
  await assertSnapshotHas(pinned.dir, v1Files, NEEDED);
  // A commit is not a ref: Python writes none for it either.
  assert.deepEqual((await readdir(path.join(cache, 'models--org--tiny', 'refs'))).sort(), ['experiment']);

  // The revision option is the same as @revision; refs/pr/N is a nested ref, as in Python's cache.
  const pr = await resolveModelSource('org/tiny', { env, revision: 'refs/pr/3' });
  assert.equal(pr.commit, v2);
  assert.equal(pr.source, 'hub-cache'); // same commit as the branch: nothing new to fetch
  assert.equal(await readFile(path.join(cache, 'models--org--tiny', 'refs', 'refs', 'pr', '3'), 'utf8'), v2);

  hub.requests.length = 0;
  const offlineEnv = { ...env, HF_HUB_OFFLINE: 'true' };
  assert.equal((await resolveModelSource('org/tiny@experiment', { env: offlineEnv })).commit, v2);
  assert.equal((await resolveModelSource(`org/tiny@${v1}`, { env: offlineEnv })).commit, v1);
  await rejectsWith(resolveModelSource('org/tiny', { env: offlineEnv }), HubError, /org\/tiny@main is not in the hub cache/, /HF_HUB_OFFLINE/);
  assert.equal(hub.requests.length, 0);

  await rejectsWith(resolveModelSource('org/tiny@nope', { env }), HubError, /revision "nope" not found in org\/tiny/);
});

test('a local directory with the name always wins, and no request is made', async (t) => {
  const { hub, env } = await setup(t);
  hub.createRepo('org/tiny').commit(tinyCheckpointFiles());
  const work = tempDir('hub-cwd');
  await mkdir(path.join(work, 'org', 'tiny'), { recursive: true });
  const previous = process.cwd();
  process.chdir(work);
  try {
    assert.deepEqual(await resolveModelSource('org/tiny', { env }), { dir: path.join(work, 'org', 'tiny'), source: 'local' });
    assert.deepEqual(await resolveModelSource('org/tiny', { env: { ...env, HF_HUB_OFFLINE: '1' } }), { dir: path.join(work, 'org', 'tiny'), source: 'local' });
    await writeFile(path.join(work, 'weights.bin'), '');
    await rejectsWith(resolveModelSource('weights.bin', { env }), ConfigError, /"weights\.bin" is a file/);
    await rejectsWith(resolveModelSource('./missing', { env }), ConfigError, /directory "\.\/missing" does not exist/);
  } finally {
    process.chdir(previous);
  }
  assert.equal(hub.requests.length, 0);
});

test('a repository with only pytorch_model.bin (or TF / Flax weights) gets a CheckpointError naming the fix, before any download', async (t) => {
  const { hub, env, cache } = await setup(t);
  const { 'model.safetensors': _safetensors, ...withoutSafetensors } = tinyCheckpointFiles();
  hub.createRepo('org/pt-only').commit({ ...withoutSafetensors, 'pytorch_model.bin': new Uint8Array(128) });
  const error = await rejectsWith(
    resolveModelSource('org/pt-only', { env }),
    CheckpointError,
    /^org\/pt-only@main: has pytorch_model\.bin but no model\.safetensors/,
    /save_pretrained\(DIR, safe_serialization=True\)/,
    /org\/pt-only@refs\/pr\/N/,
  );
  assert.equal(error.file, 'org/pt-only@main');
  assert.equal(hub.requests.filter((request) => !request.url.startsWith('/api/')).length, 0);

  hub.createRepo('org/tf-only').commit({ ...withoutSafetensors, 'tf_model.h5': new Uint8Array(128) });
  await rejectsWith(resolveModelSource('org/tf-only', { env }), CheckpointError, /has tf_model\.h5/, /from_pretrained\("org\/tf-only", from_tf=True\)/);

  // The same from a cache Python filled with pickled weights, offline.
  const repoDir = path.join(cache, 'models--org--py-cache');
  const commit = 'c'.repeat(40);
  await mkdir(path.join(repoDir, 'snapshots', commit), { recursive: true });
  await mkdir(path.join(repoDir, 'refs'), { recursive: true });
  await writeFile(path.join(repoDir, 'refs', 'main'), commit);
  await writeFile(path.join(repoDir, 'snapshots', commit, 'config.json'), '{}');
  await writeFile(path.join(repoDir, 'snapshots', commit, 'pytorch_model.bin'), '');
  await rejectsWith(resolveModelSource('org/py-cache', { env: { ...env, HF_HUB_OFFLINE: '1' } }), CheckpointError, /has pytorch_model\.bin/, /safe_serialization=True/);

  const { 'config.json': _config, ...withoutConfig } = tinyCheckpointFiles();
  hub.createRepo('org/no-config').commit(withoutConfig);
  await rejectsWith(resolveModelSource('org/no-config', { env }), CheckpointError, /org\/no-config@main: has no config\.json/);
});

test('a private repository: 401 without a token names HF_TOKEN; HF_TOKEN, the token file or the option work; a bad token is named', async (t) => {
  const { hub, env, home } = await setup(t);
  const files = tinyCheckpointFiles();
  hub.createRepo('org/private', { access: 'private', readers: ['hf_reader'] }).commit(files);

  const anonymous = await rejectsWith(resolveModelSource('org/private', { env }), HubError, /org\/private not found/, /no token was sent/, /HF_TOKEN/);
  assert.equal(anonymous.status, 401);

  const withEnv = await resolveModelSource('org/private', { env: { ...env, HF_TOKEN: 'hf_reader' } });
  await assertSnapshotHas(withEnv.dir, files, NEEDED);
  assert.ok(hub.requests.filter((request) => request.authorization !== undefined).every((request) => request.authorization === 'Bearer hf_reader'));

  // `hf auth login` stores the token in $HF_HOME/token; huggingface_hub strips its newline.
  await writeFile(path.join(home, 'token'), 'hf_reader\n');
  assert.equal((await resolveModelSource('org/private', { env })).source, 'hub-cache');
  await unlink(path.join(home, 'token'));

  // With nothing cached, a rejected token is an error naming where it came from …
  const emptyHome = { ...env, HF_HOME: tempDir('hub-home') };
  const rejected = await rejectsWith(resolveModelSource('org/private', { env: { ...emptyHome, HF_TOKEN: 'hf_revoked' } }), HubError, /401/, /Invalid credentials/, /the token from HF_TOKEN/);
  assert.equal(rejected.status, 401);
  // … and with the revision cached, huggingface_hub's fallback applies: the cache serves, with a notice.
  const notices: string[] = [];
  const fallback = await resolveModelSource('org/private', { env: { ...env, HF_TOKEN: 'hf_revoked' }, log: (line) => notices.push(line) });
  assert.equal(fallback.dir, withEnv.dir);
  assert.match(notices.join('\n'), /refused org\/private@main \(401 Invalid credentials in Authorization header; the token from HF_TOKEN was sent\).*; using the cached org\/private@main/);

  // Any token shape is sent (a mirror's need not start with hf_, which @huggingface/hub's accessToken insists on).
  await rejectsWith(resolveModelSource('org/private', { token: 'mirror-token', env: emptyHome }), HubError, /the token from the token option/);
  assert.ok(hub.requests.some((request) => request.authorization === 'Bearer mirror-token'));
});

test('a gated repository: 401 without a token, 403 with a token that has no access, both saying what to do', async (t) => {
  const hub = await FakeHub.start({ tokens: ['hf_other'] });
  t.after(() => hub.close());
  const env = { HF_HOME: tempDir('hub-home'), HF_ENDPOINT: hub.url };
  const files = tinyCheckpointFiles();
  hub.createRepo('org/gated', { access: 'gated', readers: ['hf_granted'] }).commit(files);

  const anonymous = await rejectsWith(resolveModelSource('org/gated', { env }), HubError, /org\/gated is gated \(401, no token was sent\)/, /accept its conditions/, /HF_TOKEN/);
  assert.equal(anonymous.status, 401);
  const denied = await rejectsWith(resolveModelSource('org/gated', { env: { ...env, HF_TOKEN: 'hf_other' } }), HubError, /is gated \(403, the token from HF_TOKEN was sent\)/);
  assert.equal(denied.status, 403);
  await assertSnapshotHas((await resolveModelSource('org/gated', { env: { ...env, HF_TOKEN: 'hf_granted' } })).dir, files, NEEDED);
});

test('a nonexistent repository: one line saying so, and that there is no such local directory either', async (t) => {
  const { env } = await setup(t);
  const error = await rejectsWith(resolveModelSource('org/missing', { env }), HubError, /hub repository org\/missing not found on http:\/\/127\.0\.0\.1:\d+ and there is no local directory "org\/missing"/);
  assert.equal(error.repo, 'org/missing');
  await rejectsWith(resolveModelSource('bert-base-nowhere', { env }), HubError, /hub repository bert-base-nowhere not found/);
});

test('a bare name like distilbert-base-uncased is a hub id', async (t) => {
  const { hub, env, cache } = await setup(t);
  const commit = hub.createRepo('distilbert-base-uncased').commit(tinyCheckpointFiles());
  const source = await resolveModelSource('distilbert-base-uncased', { env });
  assert.equal(source.dir, path.join(cache, 'models--distilbert-base-uncased', 'snapshots', commit));
  assert.equal(source.repo, 'distilbert-base-uncased');
});

test('an interrupted download leaves no blob: offline then names the missing file, and the next run downloads only it, intact', async (t) => {
  const { hub, env, cache } = await setup(t);
  const files = tinyCheckpointFiles();
  const weights = bytes(files['model.safetensors']!);
  hub.createRepo('org/tiny').commit(files);
  hub.interruptDownload('model.safetensors', Math.floor(weights.byteLength / 2));

  await rejectsWith(
    resolveModelSource('org/tiny', { env }),
    HubError,
    new RegExp(`downloading model\\.safetensors of org/tiny@main failed after \\d+ of ${weights.byteLength} bytes`),
    /run again/,
  );
  const repoDir = path.join(cache, 'models--org--tiny');
  const blobs = await readdir(path.join(repoDir, 'blobs'));
  assert.ok(!blobs.includes(sha256Hex(weights)));
  assert.deepEqual(blobs.filter((name) => name.includes('.')), []); // no *.incomplete left behind

  const offline = await rejectsWith(resolveModelSource('org/tiny', { env: { ...env, HF_HUB_OFFLINE: '1' } }), HubError, /^model\.safetensors of org\/tiny@main \(commit [0-9a-f]{12}\) is not in the hub cache/, /without HF_HUB_OFFLINE/);
  assert.equal(offline.repo, 'org/tiny');

  const before = hub.downloadsOf('config.json');
  const retry = await resolveModelSource('org/tiny', { env });
  assert.equal(retry.source, 'hub-download');
  assert.equal(hub.downloadsOf('config.json'), before); // kept from the first run
  const downloaded = new Uint8Array(await readFile(path.join(retry.dir, 'model.safetensors')));
  assert.equal(sha256Hex(downloaded), sha256Hex(weights));
  assert.equal((await resolveModelSource('org/tiny', { env: { ...env, HF_HUB_OFFLINE: '1' } })).dir, retry.dir);
});

test('a non-LFS file cut short is not kept either, and a blob truncated by someone else is downloaded again', async (t) => {
  const { hub, env, cache } = await setup(t);
  const files = tinyCheckpointFiles();
  hub.createRepo('org/tiny').commit(files);
  hub.interruptDownload('vocab.txt', 10);
  await rejectsWith(resolveModelSource('org/tiny', { env }), HubError, /downloading vocab\.txt of org\/tiny@main failed after \d+ of \d+ bytes/);
  const source = await resolveModelSource('org/tiny', { env });
  await assertSnapshotHas(source.dir, files, NEEDED);

  const weightsBlob = path.join(cache, 'models--org--tiny', 'blobs', sha256Hex(bytes(files['model.safetensors']!)));
  await truncate(weightsBlob, 100);
  assert.equal((await resolveModelSource('org/tiny', { env })).source, 'hub-download');
  await assertSnapshotHas(source.dir, files, NEEDED);
});

test('sharded safetensors: the index and every shard it lists are downloaded; offline checks every shard', async (t) => {
  const { hub, env, cache } = await setup(t);
  const files = tinyCheckpointFiles({ shards: 3 });
  const shards = Object.keys(files).filter((name) => /^model-\d{5}-of-00003\.safetensors$/.test(name));
  assert.equal(shards.length, 3);
  const commit = hub.createRepo('org/sharded').commit(files);
  const source = await resolveModelSource('org/sharded', { env });
  await assertSnapshotHas(source.dir, files, [...NEEDED.filter((name) => name !== 'model.safetensors'), 'model.safetensors.index.json', ...shards]);
  const offlineEnv = { ...env, HF_HUB_OFFLINE: '1' };
  assert.equal((await resolveModelSource('org/sharded', { env: offlineEnv })).commit, commit);

  await unlink(path.join(source.dir, shards[1]!));
  await rejectsWith(resolveModelSource('org/sharded', { env: offlineEnv }), HubError, new RegExp(`^${shards[1]} of org/sharded@main`));
  await unlink(path.join(cache, 'models--org--sharded', 'refs', 'main'));

  // An index naming a shard the repository lacks, or one outside it.
  const broken = { ...files, 'model.safetensors.index.json': JSON.stringify({ weight_map: { a: shards[0], b: 'model-00009-of-00009.safetensors' } }) };
  hub.createRepo('org/broken').commit(broken);
  await rejectsWith(resolveModelSource('org/broken', { env }), CheckpointError, /lists model-00009-of-00009\.safetensors in model\.safetensors\.index\.json/);
  hub.createRepo('org/escape').commit({ ...files, 'model.safetensors.index.json': JSON.stringify({ weight_map: { a: '../../../../etc/passwd' } }) });
  await rejectsWith(resolveModelSource('org/escape', { env }), CheckpointError, /org\/escape@main\/model\.safetensors\.index\.json, field "a": maps it to "\.\.\/\.\.\/\.\.\/\.\.\/etc\/passwd"/);
});

test('an unreachable hub falls back to the cache (with a notice), or says it cannot be reached', async (t) => {
  const { hub, env } = await setup(t);
  hub.createRepo('org/tiny').commit(tinyCheckpointFiles());
  const cached = await resolveModelSource('org/tiny', { env });
  // A port that was listened on and is closed now: connections are refused.
  const gone = await FakeHub.start();
  await gone.close();
  const unreachable = { ...env, HF_ENDPOINT: gone.url };
  const notices: string[] = [];
  const fallback = await resolveModelSource('org/tiny', { env: unreachable, log: (line) => notices.push(line) });
  assert.deepEqual(fallback, { ...cached, source: 'hub-cache' });
  assert.equal(notices.length, 1);
  assert.match(notices[0]!, /^cannot reach http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\); using the cached org\/tiny@main \(commit [0-9a-f]{12}\)$/);
  await rejectsWith(resolveModelSource('org/other', { env: unreachable }), HubError, /^org\/other@main is not in the hub cache .* and http:\/\/127\.0\.0\.1:\d+ cannot be reached \(ECONNREFUSED\)/);
});

test('hubSettings: the variables and precedence of Python huggingface_hub', async () => {
  const home = tempDir('hub-settings');
  const defaults = hubSettings({}, { HOME: home });
  assert.match(defaults.cacheDir, /\.cache[/\\]huggingface[/\\]hub$/);
  assert.equal(defaults.endpoint, 'https://huggingface.co');
  assert.equal(defaults.offline, false);
  assert.equal(hubSettings({}, { XDG_CACHE_HOME: '/xdg' }).cacheDir, path.resolve('/xdg/huggingface/hub'));
  assert.equal(hubSettings({}, { HF_HOME: '/hf', XDG_CACHE_HOME: '/xdg' }).cacheDir, path.resolve('/hf/hub'));
  assert.equal(hubSettings({}, { HF_HOME: '/hf', HUGGINGFACE_HUB_CACHE: '/legacy' }).cacheDir, path.resolve('/legacy'));
  assert.equal(hubSettings({}, { HF_HOME: '/hf', HUGGINGFACE_HUB_CACHE: '/legacy', HF_HUB_CACHE: '/cache' }).cacheDir, path.resolve('/cache'));
  assert.equal(hubSettings({ cacheDir: '/option' }, { HF_HUB_CACHE: '/cache' }).cacheDir, path.resolve('/option'));
  assert.equal(hubSettings({}, { HF_ENDPOINT: 'https://mirror.example/' }).endpoint, 'https://mirror.example');
  assert.equal(hubSettings({ endpoint: 'http://127.0.0.1:9' }, { HF_ENDPOINT: 'https://mirror.example' }).endpoint, 'http://127.0.0.1:9');

  for (const value of ['1', 'ON', 'yes', 'True']) assert.equal(hubSettings({}, { HF_HUB_OFFLINE: value }).offline, true, value);
  for (const value of ['0', 'false', '']) assert.equal(hubSettings({}, { HF_HUB_OFFLINE: value }).offline, false, value);
  assert.equal(hubSettings({}, { TRANSFORMERS_OFFLINE: '1' }).offline, true);
  assert.equal(hubSettings({}, { HF_HUB_OFFLINE: '0', TRANSFORMERS_OFFLINE: '1' }).offline, false); // Python: HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE
  assert.equal(hubSettings({ offline: false }, { HF_HUB_OFFLINE: '1' }).offline, false);

  await writeFile(path.join(home, 'token'), '  hf_file\r\n');
  const hfHome = { HF_HOME: home };
  assert.deepEqual(pick(hubSettings({}, hfHome)), { token: 'hf_file', tokenSource: path.join(home, 'token') });
  assert.deepEqual(pick(hubSettings({}, { ...hfHome, HUGGING_FACE_HUB_TOKEN: 'hf_legacy' })), { token: 'hf_legacy', tokenSource: 'HUGGING_FACE_HUB_TOKEN' });
  assert.deepEqual(pick(hubSettings({}, { ...hfHome, HUGGING_FACE_HUB_TOKEN: 'hf_legacy', HF_TOKEN: ' hf_env ' })), { token: 'hf_env', tokenSource: 'HF_TOKEN' });
  assert.deepEqual(pick(hubSettings({ token: 'hf_option' }, { ...hfHome, HF_TOKEN: 'hf_env' })), { token: 'hf_option', tokenSource: 'the token option' });
  assert.deepEqual(pick(hubSettings({ token: '' }, { ...hfHome, HF_TOKEN: 'hf_env' })), {});
  const elsewhere = path.join(home, 'elsewhere');
  await writeFile(elsewhere, 'hf_path');
  assert.deepEqual(pick(hubSettings({}, { ...hfHome, HF_TOKEN_PATH: elsewhere })), { token: 'hf_path', tokenSource: elsewhere });
  assert.deepEqual(pick(hubSettings({}, { HF_HOME: path.join(home, 'empty') })), {});
});

function pick(settings: ReturnType<typeof hubSettings>): { token?: string; tokenSource?: string } {
  return { ...(settings.token !== undefined && { token: settings.token }), ...(settings.tokenSource !== undefined && { tokenSource: settings.tokenSource }) };
}

test('parseHubModelId: org/name, bare names and @revision; paths and invalid ids are ConfigErrors', () => {
  assert.deepEqual(parseHubModelId('org/name'), { repo: 'org/name', revision: 'main' });
  assert.deepEqual(parseHubModelId('bert-base-uncased'), { repo: 'bert-base-uncased', revision: 'main' });
  assert.deepEqual(parseHubModelId('org/name@v1.0'), { repo: 'org/name', revision: 'v1.0' });
  assert.deepEqual(parseHubModelId('org/name@refs/pr/12'), { repo: 'org/name', revision: 'refs/pr/12' });
  assert.deepEqual(parseHubModelId('org/name', 'dev'), { repo: 'org/name', revision: 'dev' });
  assert.deepEqual(parseHubModelId('org/name@dev', 'dev'), { repo: 'org/name', revision: 'dev' });
  assert.throws(() => parseHubModelId('org/name@dev', 'main'), (error: unknown) => error instanceof ConfigError && /names revision "dev" but the revision option is "main"/.test(error.message));
  for (const spec of ['./model', '../model', '/abs/model', '~/model', 'a/b/c', 'org/name/']) {
    assert.throws(() => parseHubModelId(spec), (error: unknown) => error instanceof ConfigError && /directory ".*" does not exist/.test(error.message), spec);
  }
  for (const spec of ['org/na--me', 'org/-name', 'org/name.', 'org/na me', '', 'org/name.git', `org/${'x'.repeat(100)}`]) {
    assert.throws(() => parseHubModelId(spec), (error: unknown) => error instanceof ConfigError && /neither a directory nor a hub model id/.test(error.message), spec);
  }
  for (const spec of ['org/name@', 'org/name@../../x', 'org/name@a//b']) {
    assert.throws(() => parseHubModelId(spec), (error: unknown) => error instanceof ConfigError && /is not a branch, tag or commit name/.test(error.message), spec);
  }
});

test('writeBlob keeps nothing when the bytes are short, too many, or do not match the hash', async () => {
  const repoDir = tempDir('hub-blob');
  const content = new TextEncoder().encode('hello, hub');
  const sha256 = sha256Hex(content);
  async function* chunks(...parts: Uint8Array[]): AsyncIterable<Uint8Array> {
    yield* parts;
  }
  const cases: Array<[string, AsyncIterable<Uint8Array>, { size: number; sha256?: string; gitBlobId?: string }, RegExp]> = [
    ['short', chunks(content.subarray(0, 4)), { size: content.byteLength, sha256 }, /received 4 of 10 bytes/],
    ['long', chunks(content, content), { size: content.byteLength, sha256 }, /more than the 10 bytes/],
    ['sha256', chunks(new TextEncoder().encode('hello, hum')), { size: content.byteLength, sha256 }, /sha256 .* does not match/],
    ['git', chunks(new TextEncoder().encode('hello, hum')), { size: content.byteLength, gitBlobId: gitBlobId(content) }, /git blob id .* does not match/],
  ];
  for (const [name, source, expected, pattern] of cases) {
    await assert.rejects(writeBlob(repoDir, sha256, source, expected, () => undefined), pattern, name);
    assert.deepEqual(await readdir(path.join(repoDir, 'blobs')), [], name);
  }
  const progress: number[] = [];
  const blob = await writeBlob(repoDir, sha256, chunks(content.subarray(0, 3), content.subarray(3)), { size: content.byteLength, gitBlobId: gitBlobId(content) }, (done) => progress.push(done));
  assert.equal(blob, path.join(repoDir, 'blobs', sha256));
  assert.deepEqual(progress, [3, 10]);
  assert.equal(createHash('sha256').update(await readFile(blob)).digest('hex'), sha256);
  assert.deepEqual(await readdir(path.join(repoDir, 'blobs')), [sha256]);
});

test('the download progress display: one line per file without a TTY, a bar per file on a TTY', () => {
  const capture = (isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } => {
    const stream = Object.assign(new PassThrough(), { isTTY, columns: 100 }) as unknown as NodeJS.WriteStream;
    let text = '';
    stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
    return { stream, text: () => text };
  };
  const events: DownloadProgress[] = [
    { repo: 'org/tiny', file: 'config.json', bytesDone: 0, bytesTotal: 612 },
    { repo: 'org/tiny', file: 'config.json', bytesDone: 612, bytesTotal: 612 },
    { repo: 'org/tiny', file: 'model.safetensors', bytesDone: 0, bytesTotal: 438_000_000 },
    { repo: 'org/tiny', file: 'model.safetensors', bytesDone: 219_000_000, bytesTotal: 438_000_000 },
    { repo: 'org/tiny', file: 'model.safetensors', bytesDone: 438_000_000, bytesTotal: 438_000_000 },
  ];
  const plain = capture(false);
  const lines = createDownloadProgressBar(plain.stream);
  for (const event of events) lines.onProgress(event);
  lines.stop();
  assert.equal(plain.text(), 'downloading org/tiny/config.json (612 B)\ndownloading org/tiny/model.safetensors (438.0 MB)\n');

  const tty = capture(true);
  const bars = createDownloadProgressBar(tty.stream);
  for (const event of events) bars.onProgress(event);
  bars.stop();
  assert.match(tty.text(), /org\/tiny\/config\.json \|.*\| 100% 612 B\/612 B/);
  assert.match(tty.text(), /org\/tiny\/model\.safetensors \|.*\| 100% 438\.0 MB\/438\.0 MB/);

  assert.deepEqual([0, 999, 1000, 1_500_000, 2.5e9].map(formatBytes), ['0 B', '999 B', '1.0 kB', '1.5 MB', '2.5 GB']);
});

test('options are used as given, not read from process.env, so one process can resolve against several hubs', async (t) => {
  const { hub, home } = await setup(t);
  const commit = hub.createRepo('org/tiny').commit(tinyCheckpointFiles());
  const options: ResolveModelOptions = { cacheDir: path.join(home, 'elsewhere'), endpoint: hub.url, offline: false, env: {} };
  const source = await resolveModelSource('org/tiny', options);
  assert.equal(source.dir, path.join(home, 'elsewhere', 'models--org--tiny', 'snapshots', commit));
  assert.equal((await resolveModelSource('org/tiny', { ...options, offline: true })).commit, commit);
});
