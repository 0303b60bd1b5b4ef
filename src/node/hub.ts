/**
 * `--model org/name[@revision]`: a Hugging Face hub model, downloaded through `@huggingface/hub`
 * into the standard cache (the layout Python's `huggingface_hub` shares, see `hub-cache.ts`), with
 * the same environment: HF_HOME, HF_HUB_CACHE, HF_ENDPOINT, HF_TOKEN (and the token file),
 * HF_HUB_OFFLINE. Only what microbatch reads is fetched: config.json, the safetensors weights
 * (single file, or an index and its shards) and the tokenizer files the repository has.
 *
 * From @huggingface/hub we use `modelInfo` (revision → commit), `listFiles` (names, sizes and
 * hashes at that commit) and `downloadFile` (the resolve request, redirects, the xet protocol),
 * and write the cache ourselves rather than through `downloadFileToCacheDir`, which prints to
 * stdout (`console.debug`), has no progress hook, renames a body into `blobs/` without checking
 * its size or hash, and names a snapshot after the file's last commit unless given the commit.
 * The token is added by our `fetch` wrapper for the endpoint's origin only; the library's own
 * `accessToken` option rejects any token not starting with `hf_`, which Python does not.
 */
import { readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { downloadFile, HubApiError, listFiles, modelInfo, type ListFileEntry } from '@huggingface/hub';
import { CheckpointError, ConfigError, MicrobatchError } from '../core/errors.js';
import { COMMIT_HASH, fileSize, isSafeRelativePath, linkSnapshotFile, readRef, repoCacheDir, snapshotDir, writeBlob, writeRef } from './hub-cache.js';

export const DEFAULT_ENDPOINT = 'https://huggingface.co';
export const DEFAULT_REVISION = 'main';
export const CONFIG_FILE = 'config.json';
export const SAFETENSORS_FILE = 'model.safetensors';
export const SAFETENSORS_INDEX_FILE = 'model.safetensors.index.json';
/** Tokenizer files fetched when the repository has them (WordPiece, tokenizer.json, BPE). */
export const TOKENIZER_FILES: readonly string[] = [
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'vocab.txt',
  'vocab.json',
  'merges.txt',
];
/** Weights microbatch does not read, and the `from_pretrained` flag that loads each in Python. */
const OTHER_WEIGHTS: ReadonlyArray<readonly [file: string, loadFlag: string]> = [
  ['pytorch_model.bin', ''],
  ['pytorch_model.bin.index.json', ''],
  ['tf_model.h5', ', from_tf=True'],
  ['tf_model.h5.index.json', ', from_tf=True'],
  ['flax_model.msgpack', ', from_flax=True'],
  ['flax_model.msgpack.index.json', ', from_flax=True'],
];

/** A hub request failed, or the cache cannot serve a repository offline. One line, naming the repository. */
export class HubError extends MicrobatchError {
  constructor(
    detail: string,
    /** `org/name` */
    readonly repo: string,
    /** The HTTP status, when the hub answered with an error. */
    readonly status?: number,
  ) {
    super(detail);
  }
}

/** One file's download, reported as its bytes arrive: first with `bytesDone` 0, last with `bytesDone === bytesTotal`. */
export interface DownloadProgress {
  repo: string;
  /** Path in the repository, e.g. `model.safetensors`. */
  file: string;
  bytesDone: number;
  bytesTotal: number;
}

export interface HubSettingsOptions {
  /** Default: HF_HUB_CACHE, else HUGGINGFACE_HUB_CACHE, else `$HF_HOME/hub` (HF_HOME: `$XDG_CACHE_HOME/huggingface`, `~/.cache/huggingface`). */
  cacheDir?: string;
  /** Default: HF_ENDPOINT, else https://huggingface.co. */
  endpoint?: string;
  /** Default: HF_TOKEN, else HUGGING_FACE_HUB_TOKEN, else the token file (HF_TOKEN_PATH, `$HF_HOME/token`). `''` sends none. */
  token?: string;
  /** Default: HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) is 1, ON, YES or TRUE. */
  offline?: boolean;
}

export interface HubSettings {
  cacheDir: string;
  endpoint: string;
  offline: boolean;
  token?: string;
  /** Where the token came from, for error messages (`HF_TOKEN`, a token file's path, `the token option`). */
  tokenSource?: string;
}

export interface ResolveModelOptions extends HubSettingsOptions {
  /** A branch, tag or commit; the same as `@revision` in the spec (giving both, differently, is an error). Default `main`. */
  revision?: string;
  onProgress?: (progress: DownloadProgress) => void;
  /** Notices that are not errors (the hub was unreachable and the cache served; symlinks refused). */
  log?: (line: string) => void;
  /** The environment the HF_* variables are read from (default `process.env`). */
  env?: NodeJS.ProcessEnv;
}

export interface ModelSource {
  /** The directory to load from: the local folder, or the cache's `snapshots/<commit>`. */
  dir: string;
  source: 'local' | 'hub-cache' | 'hub-download';
  repo?: string;
  revision?: string;
  commit?: string;
}

export interface HubModelId {
  repo: string;
  revision: string;
}

/**
 * Where a model comes from: a local directory named `spec` always wins; otherwise `spec` is a hub
 * id, `org/name[@revision]` or a bare `name`, resolved to a snapshot in the cache — downloading
 * what is missing unless offline. Throws ConfigError for a spec that is neither, HubError for the
 * hub's refusals (the message says what to set) and for files an offline cache lacks, and
 * CheckpointError for a repository without safetensors weights (naming the fix).
 */
export async function resolveModelSource(spec: string, options: ResolveModelOptions = {}): Promise<ModelSource> {
  const local = await stat(spec).catch(() => undefined);
  if (local?.isDirectory()) return { dir: path.resolve(spec), source: 'local' };
  if (local !== undefined) throw new ConfigError(`"${spec}" is a file, not a model directory or a hub id (org/name[@revision])`, { field: 'model' });
  const id = parseHubModelId(spec, options.revision);
  const settings = hubSettings(options, options.env);
  const repoDir = repoCacheDir(settings.cacheDir, id.repo);
  const log = options.log ?? (() => undefined);
  if (settings.offline) return resolveFromCache(id, settings, repoDir, { why: 'offline mode is on (HF_HUB_OFFLINE)', fix: 'run once without HF_HUB_OFFLINE to download it' });

  const client = new HubClient(settings, id, spec);
  let snapshot: HubSnapshot;
  try {
    snapshot = await client.snapshot();
  } catch (error) {
    const failure = client.failure(error);
    if (failure.code === 'RevisionNotFound') throw failure.error;
    // As huggingface_hub does: when the hub cannot (or will not) answer for the revision, the cache may.
    let cached: ModelSource;
    try {
      cached = await resolveFromCache(id, settings, repoDir, {
        why: `${settings.endpoint} cannot be reached (${failure.reason})`,
        fix: 'check the network, HF_ENDPOINT and the proxy settings',
      });
    } catch (cacheError) {
      throw failure.unreachable ? cacheError : failure.error;
    }
    log(`${failure.error.message}; using the cached ${id.repo}@${id.revision} (commit ${cached.commit!.slice(0, 12)})`);
    return cached;
  }
  return downloadSnapshot(client, snapshot, repoDir, options.onProgress, log);
}

/**
 * The hub settings from `options`, else from the environment, with Python huggingface_hub's
 * variables and precedence.
 */
export function hubSettings(options: HubSettingsOptions = {}, env: NodeJS.ProcessEnv = process.env): HubSettings {
  const variable = (name: string): string | undefined => (env[name] === undefined || env[name] === '' ? undefined : env[name]);
  const expandHome = (value: string): string => path.resolve(value === '~' || value.startsWith('~/') ? path.join(os.homedir(), value.slice(1)) : value);
  const hfHome = expandHome(variable('HF_HOME') ?? path.join(variable('XDG_CACHE_HOME') ?? path.join(os.homedir(), '.cache'), 'huggingface'));
  const hubCache = options.cacheDir ?? variable('HF_HUB_CACHE') ?? variable('HUGGINGFACE_HUB_CACHE');
  const settings: HubSettings = {
    cacheDir: hubCache !== undefined ? expandHome(hubCache) : path.join(hfHome, 'hub'),
    endpoint: (options.endpoint ?? variable('HF_ENDPOINT') ?? DEFAULT_ENDPOINT).replace(/\/+$/, ''),
    offline: options.offline ?? isTrue(variable('HF_HUB_OFFLINE') ?? variable('TRANSFORMERS_OFFLINE')),
  };
  const token = findToken(options, variable, expandHome, hfHome);
  if (token !== undefined) {
    settings.token = token.token;
    settings.tokenSource = token.source;
  }
  return settings;
}

/**
 * `org/name[@revision]` or `name[@revision]`, checked as the hub checks repository ids. A
 * `revision` option must agree with an `@revision` in the spec.
 */
export function parseHubModelId(spec: string, revision?: string): HubModelId {
  const at = spec.indexOf('@');
  const repo = at === -1 ? spec : spec.slice(0, at);
  const specRevision = at === -1 ? undefined : spec.slice(at + 1);
  if (looksLikePath(repo)) throw new ConfigError(`directory "${spec}" does not exist`, { field: 'model' });
  if (!isRepoId(repo)) {
    throw new ConfigError(`"${spec}" is neither a directory nor a hub model id (org/name or name, optionally @revision)`, { field: 'model' });
  }
  if (specRevision !== undefined && revision !== undefined && specRevision !== revision) {
    throw new ConfigError(`"${spec}" names revision "${specRevision}" but the revision option is "${revision}"`, { field: 'model' });
  }
  const resolved = specRevision ?? revision ?? DEFAULT_REVISION;
  // The revision becomes a path under refs/, as in Python's cache (refs/pr/1 included).
  if (!isSafeRelativePath(resolved)) throw new ConfigError(`revision "${resolved}" of "${spec}" is not a branch, tag or commit name`, { field: 'model' });
  return { repo, revision: resolved };
}

interface HubSnapshot {
  id: HubModelId;
  commit: string;
  files: Map<string, ListFileEntry>;
}

interface HubFailure {
  error: HubError;
  /** The hub's X-Error-Code (RepoNotFound, GatedRepo, RevisionNotFound, EntryNotFound). */
  code?: string;
  /** No HTTP answer at all (refused, DNS, timeout). */
  unreachable: boolean;
  /** Short cause, for "cannot be reached (…)". */
  reason: string;
}

/** The hub requests, through @huggingface/hub, with our token handling and error wording. */
class HubClient {
  /** X-Error-Code of failed responses by URL: @huggingface/hub's HubApiError keeps the status and body but not the headers. */
  private readonly errorCodes = new Map<string, string>();
  readonly fetch: typeof fetch;

  constructor(
    readonly settings: HubSettings,
    readonly id: HubModelId,
    /** What the user asked for, for "there is no local directory …". */
    private readonly spec: string,
  ) {
    const endpointOrigin = new URL(settings.endpoint).origin;
    this.fetch = async (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      let requestInit = init;
      if (settings.token !== undefined && new URL(url).origin === endpointOrigin) {
        const headers = new Headers(init?.headers);
        if (!headers.has('authorization')) headers.set('authorization', `Bearer ${settings.token}`);
        requestInit = { ...init, headers };
      }
      const response = await fetch(input, requestInit);
      const code = response.headers.get('x-error-code');
      if (!response.ok && code !== null) this.errorCodes.set(response.url || url, code);
      return response;
    };
  }

  get label(): string {
    return `${this.id.repo}@${this.id.revision}`;
  }

  /** The revision's commit and the files at that commit (top level: everything microbatch reads is there). */
  async snapshot(): Promise<HubSnapshot> {
    const info = await modelInfo({ name: this.id.repo, revision: this.id.revision, additionalFields: ['sha'], hubUrl: this.settings.endpoint, fetch: this.fetch });
    const commit = info.sha;
    if (typeof commit !== 'string' || !COMMIT_HASH.test(commit)) {
      throw new HubError(`${this.settings.endpoint} gave no commit hash for ${this.label}`, this.id.repo);
    }
    const files = new Map<string, ListFileEntry>();
    for await (const entry of listFiles({ repo: this.id.repo, revision: commit, hubUrl: this.settings.endpoint, fetch: this.fetch })) {
      if (entry.type === 'file') files.set(entry.path, entry);
    }
    return { id: this.id, commit, files };
  }

  /** The bytes of `file` at `commit`, and their size as the hub announces it. */
  async open(file: string, commit: string): Promise<{ size: number; chunks: AsyncIterable<Uint8Array> }> {
    const blob = await downloadFile({ repo: this.id.repo, path: file, revision: commit, hubUrl: this.settings.endpoint, fetch: this.fetch });
    if (blob === null) throw new HubError(`${file} is listed in ${this.label} but ${this.settings.endpoint} has no such file`, this.id.repo, 404);
    return { size: blob.size, chunks: blob.stream() };
  }

  /** A one-line HubError for whatever a request threw, saying what to set when it is about access. */
  failure(error: unknown): HubFailure {
    if (error instanceof HubError) return { error, unreachable: false, reason: error.message };
    const { endpoint, token, tokenSource } = this.settings;
    const { repo } = this.id;
    if (!(error instanceof HubApiError)) {
      const reason = networkReason(error);
      const detail = reason !== undefined ? `cannot reach ${endpoint} (${reason})` : `unexpected answer from ${endpoint} for ${this.label}: ${describe(error)}`;
      return { error: new HubError(detail, repo), unreachable: reason !== undefined, reason: reason ?? describe(error) };
    }
    const status = error.statusCode;
    const code = this.errorCodes.get(error.url);
    const hubMessage = hubErrorMessage(error);
    const tokenState = token !== undefined ? `the token from ${tokenSource} was sent` : 'no token was sent';
    const setToken = token !== undefined ? `check the token from ${tokenSource}` : 'set HF_TOKEN to a token that can read it';
    let detail: string;
    if (code === 'GatedRepo') {
      detail = `${repo} is gated (${status}, ${tokenState}): accept its conditions on ${endpoint}/${repo} while logged in, then set HF_TOKEN to a token of that account`;
    } else if (code === 'RepoNotFound') {
      detail = `hub repository ${repo} not found on ${endpoint} and there is no local directory "${this.spec}" (${status}, ${tokenState}); if it is private or gated, ${setToken}`;
    } else if (code === 'RevisionNotFound') {
      detail = `revision "${this.id.revision}" not found in ${repo} on ${endpoint}`;
    } else if (code === 'EntryNotFound') {
      detail = `a file of ${this.label} is missing on ${endpoint}: ${hubMessage}`;
    } else if (status === 401 || status === 403) {
      detail = `${endpoint} refused ${this.label} (${status} ${hubMessage}; ${tokenState}): ${setToken}`;
    } else if (status === 404) {
      detail = `${this.label} not found on ${endpoint} (404 ${hubMessage})`;
    } else {
      detail = `${endpoint} answered ${status} for ${this.label}: ${hubMessage}`;
    }
    return { error: new HubError(detail, repo, status), ...(code !== undefined && { code }), unreachable: false, reason: `${status} ${hubMessage}` };
  }
}

/**
 * Puts every file microbatch reads into `snapshots/<commit>`: what the snapshot already has is kept,
 * a blob the cache already has (another revision's) is only linked, the rest is downloaded.
 */
async function downloadSnapshot(
  client: HubClient,
  snapshot: HubSnapshot,
  repoDir: string,
  onProgress: ((progress: DownloadProgress) => void) | undefined,
  log: (line: string) => void,
): Promise<ModelSource> {
  const { id, commit, files } = snapshot;
  const label = client.label;
  if (!files.has(CONFIG_FILE)) throw new CheckpointError(`has no ${CONFIG_FILE}`, { file: label });
  const weightsFile = files.has(SAFETENSORS_FILE) ? SAFETENSORS_FILE : files.has(SAFETENSORS_INDEX_FILE) ? SAFETENSORS_INDEX_FILE : undefined;
  if (weightsFile === undefined) throw missingSafetensors(id, label, (file) => files.has(file));
  // Written before the files, as Python does: offline, an interrupted download then names the file it lacks.
  await writeRef(repoDir, id.revision, commit);

  let downloaded = false;
  const ensure = async (file: string): Promise<string> => {
    const entry = files.get(file);
    if (entry === undefined) throw new CheckpointError(`lists ${file} in ${SAFETENSORS_INDEX_FILE}, but the repository has no such file`, { file: label });
    const pointer = path.join(snapshotDir(repoDir, commit), ...file.split('/'));
    if ((await fileSize(pointer)) === entry.size) return pointer;
    // What Python names the blob after (X-Linked-Etag, else ETag): the sha256 of an LFS file, else its git blob id.
    const etag = entry.lfs?.oid ?? entry.oid;
    if (etag === undefined || !/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(etag)) {
      throw new HubError(`${client.settings.endpoint} lists ${file} of ${label} without a usable hash (${String(etag)})`, id.repo);
    }
    if ((await fileSize(path.join(repoDir, 'blobs', etag))) !== entry.size) {
      await downloadBlob(client, commit, file, entry, etag, repoDir, onProgress);
      downloaded = true;
    }
    return linkSnapshotFile(repoDir, commit, file, etag, (copied) => log(`symlinks are not allowed in ${repoDir}: ${copied} is a copy of its blob`));
  };

  await ensure(CONFIG_FILE);
  for (const file of TOKENIZER_FILES) if (files.has(file)) await ensure(file);
  const weights = await ensure(weightsFile);
  if (weightsFile === SAFETENSORS_INDEX_FILE) {
    for (const shard of await readShardNames(weights, `${label}/${SAFETENSORS_INDEX_FILE}`)) await ensure(shard);
  }
  return { dir: snapshotDir(repoDir, commit), source: downloaded ? 'hub-download' : 'hub-cache', repo: id.repo, revision: id.revision, commit };
}

async function downloadBlob(
  client: HubClient,
  commit: string,
  file: string,
  entry: ListFileEntry,
  etag: string,
  repoDir: string,
  onProgress: ((progress: DownloadProgress) => void) | undefined,
): Promise<void> {
  const report = (bytesDone: number): void => onProgress?.({ repo: client.id.repo, file, bytesDone, bytesTotal: entry.size });
  let bytesDone = 0;
  try {
    const { size, chunks } = await client.open(file, commit);
    if (size !== entry.size) throw new Error(`${client.settings.endpoint} announces ${size} bytes, its file listing ${entry.size}`);
    report(0);
    const expected = entry.lfs !== undefined ? { size: entry.size, sha256: entry.lfs.oid } : { size: entry.size, gitBlobId: etag };
    await writeBlob(repoDir, etag, chunks, expected, (done) => {
      bytesDone = done;
      report(done);
    });
  } catch (error) {
    if (error instanceof HubApiError || error instanceof HubError) throw client.failure(error).error;
    throw new HubError(
      `downloading ${file} of ${client.label} failed after ${bytesDone} of ${entry.size} bytes (${describe(error)}); nothing partial was kept in the cache, run again to retry`,
      client.id.repo,
    );
  }
}

/**
 * The snapshot the cache holds for `id` — `refs/<revision>` names its commit, or the revision is a
 * commit — if it has config.json and complete safetensors weights. Otherwise a HubError names the
 * first missing file, `why` the cache was asked, and the `fix`.
 */
async function resolveFromCache(id: HubModelId, settings: HubSettings, repoDir: string, context: { why: string; fix: string }): Promise<ModelSource> {
  const label = `${id.repo}@${id.revision}`;
  const missing = (what: string): HubError => new HubError(`${what} is not in the hub cache ${settings.cacheDir} and ${context.why}: ${context.fix}`, id.repo);
  const commit = (await readRef(repoDir, id.revision)) ?? (COMMIT_HASH.test(id.revision) ? id.revision : undefined);
  if (commit === undefined) throw missing(label);
  const dir = snapshotDir(repoDir, commit);
  const inCache = async (file: string): Promise<boolean> => (await fileSize(path.join(dir, ...file.split('/')))) !== undefined;
  const fileLabel = (file: string): string => `${file} of ${label} (commit ${commit.slice(0, 12)})`;
  if (!(await inCache(CONFIG_FILE))) throw missing(fileLabel(CONFIG_FILE));
  if (!(await inCache(SAFETENSORS_FILE))) {
    if (!(await inCache(SAFETENSORS_INDEX_FILE))) {
      const present = new Set<string>();
      for (const [file] of OTHER_WEIGHTS) if (await inCache(file)) present.add(file);
      if (present.size > 0) throw missingSafetensors(id, label, (file) => present.has(file));
      throw missing(fileLabel(SAFETENSORS_FILE));
    }
    for (const shard of await readShardNames(path.join(dir, SAFETENSORS_INDEX_FILE), `${label}/${SAFETENSORS_INDEX_FILE}`)) {
      if (!(await inCache(shard))) throw missing(fileLabel(shard));
    }
  }
  return { dir, source: 'hub-cache', repo: id.repo, revision: id.revision, commit };
}

/** The error for a repository without safetensors weights: names what it has and the two ways out. */
function missingSafetensors(id: HubModelId, label: string, has: (file: string) => boolean): CheckpointError {
  const other = OTHER_WEIGHTS.find(([file]) => has(file));
  if (other === undefined) return new CheckpointError(`has no ${SAFETENSORS_FILE} (nor ${SAFETENSORS_INDEX_FILE} with shards)`, { file: label });
  const [file, loadFlag] = other;
  return new CheckpointError(
    `has ${file} but no ${SAFETENSORS_FILE}, and microbatch reads only safetensors (pickled weights can run code when loaded). ` +
      `Convert it once in Python: AutoModel.from_pretrained("${id.repo}"${loadFlag}).save_pretrained(DIR, safe_serialization=True), then --model DIR; ` +
      `or use a revision that has safetensors, such as the hub's conversion pull request: ${id.repo}@refs/pr/N`,
    { file: label },
  );
}

/** The shard files `model.safetensors.index.json` maps tensors to, sorted, each checked to stay inside the snapshot. */
async function readShardNames(indexPath: string, source: string): Promise<string[]> {
  let index: unknown;
  try {
    index = JSON.parse(await readFile(indexPath, 'utf8'));
  } catch (error) {
    throw new CheckpointError(`is not valid JSON (${describe(error)})`, { file: source });
  }
  const weightMap = (index as { weight_map?: unknown } | null)?.weight_map;
  if (typeof weightMap !== 'object' || weightMap === null || Array.isArray(weightMap)) {
    throw new CheckpointError('has no "weight_map" object', { file: source, field: 'weight_map' });
  }
  const shards = new Set<string>();
  for (const [tensor, shard] of Object.entries(weightMap)) {
    if (typeof shard !== 'string' || !isSafeRelativePath(shard)) throw new CheckpointError(`maps it to ${JSON.stringify(shard)}, not a file name in the repository`, { file: source, field: tensor });
    shards.add(shard);
  }
  if (shards.size === 0) throw new CheckpointError('maps no tensor to a shard', { file: source, field: 'weight_map' });
  return [...shards].sort();
}

function findToken(
  options: HubSettingsOptions,
  variable: (name: string) => string | undefined,
  expandHome: (value: string) => string,
  hfHome: string,
): { token: string; source: string } | undefined {
  // huggingface_hub strips whitespace and newlines; an empty token is no token.
  const clean = (token: string | undefined): string | undefined => token?.replace(/[\r\n]/g, '').trim() || undefined;
  if (options.token !== undefined) {
    const token = clean(options.token);
    return token === undefined ? undefined : { token, source: 'the token option' };
  }
  for (const name of ['HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN']) {
    const token = clean(variable(name));
    if (token !== undefined) return { token, source: name };
  }
  const tokenPath = expandHome(variable('HF_TOKEN_PATH') ?? path.join(hfHome, 'token'));
  let fileToken: string | undefined;
  try {
    fileToken = clean(readFileSync(tokenPath, 'utf8'));
  } catch {
    return undefined;
  }
  return fileToken === undefined ? undefined : { token: fileToken, source: tokenPath };
}

/** huggingface_hub's `_is_true`. */
function isTrue(value: string | undefined): boolean {
  return value !== undefined && ['1', 'ON', 'YES', 'TRUE'].includes(value.toUpperCase());
}

/** The hub's rule for repository ids (huggingface_hub `validate_repo_id`): `name` or `org/name`. */
function isRepoId(repo: string): boolean {
  const part = '[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?';
  return repo.length <= 96 && new RegExp(`^(?:${part}/)?${part}$`).test(repo) && !repo.includes('--') && !repo.includes('..') && !repo.endsWith('.git');
}

/** A spec written as a filesystem path (relative, absolute, home, nested) is never sent to the hub. */
function looksLikePath(repo: string): boolean {
  return repo.startsWith('.') || repo.startsWith('~') || repo.includes('\\') || path.isAbsolute(repo) || repo.split('/').length > 2 || repo.endsWith('/');
}

/** undici's `fetch failed` with its cause (ECONNREFUSED, ENOTFOUND, a timeout); undefined for other errors. */
function networkReason(error: unknown): string | undefined {
  if (!(error instanceof TypeError) || error.message !== 'fetch failed') return undefined;
  const cause = error.cause as { code?: unknown; message?: unknown } | undefined;
  if (typeof cause?.code === 'string') return cause.code;
  return typeof cause?.message === 'string' ? cause.message : 'fetch failed';
}

/** The hub's own message (`{"error": …}`), without @huggingface/hub's ". URL: …" trailer. */
function hubErrorMessage(error: HubApiError): string {
  const data = error.data as { error?: unknown; message?: unknown } | undefined;
  if (typeof data?.error === 'string' && data.error !== '') return data.error;
  if (typeof data?.message === 'string' && data.message !== '') return data.message;
  return error.message.replace(/\. URL: .*$/, '');
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error.cause as { message?: unknown } | undefined)?.message;
    return typeof cause === 'string' && cause !== '' ? `${error.message}: ${cause}` : error.message;
  }
  // @huggingface/hub's WebBlob aborts its stream with a bare message string.
  return String(error);
}
