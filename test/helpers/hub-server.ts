/**
 * A fake Hugging Face hub on 127.0.0.1 (a free port) for tests that must not touch the network.
 * It answers the requests @huggingface/hub's `modelInfo`, `listFiles` and `downloadFile` make —
 *
 *   GET  /api/models/{repo}/revision/{revision}      model info with the commit `sha`
 *   GET  /api/models/{repo}/tree/{revision}[/{dir}]  file listing: size, git oid, lfs {oid, size}
 *   GET  /{repo}/resolve/{revision}/{file}           (also HEAD, and `Range: bytes=0-0` probes)
 *   GET  /_cdn/{sha256}/{file}                       where LFS files are redirected to
 *
 * — with the real hub's behaviour where it matters to a client: X-Repo-Commit, ETag /
 * X-Linked-Etag / X-Linked-Size, a 302 to a "CDN" for LFS files, 206 for ranges, and the error
 * statuses with `X-Error-Code` (RepoNotFound 401 without a token and 404 with one, GatedRepo 401
 * / 403, RevisionNotFound, EntryNotFound, 401 for an unknown token).
 *
 * Knobs: private and gated repositories readable by given tokens, branches and tags, cutting a
 * file's download after N bytes, and a log of every request (to prove a run made none).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fillNormal } from '../../src/core/random.js';
import { serializeSafetensors, type F32Tensor } from '../../src/core/safetensors.js';

export interface FakeHubRequest {
  method: string;
  /** Path and query, as received. */
  url: string;
  authorization?: string;
}

export type FakeRepoAccess = 'public' | 'private' | 'gated';

export interface FakeRepoOptions {
  /** `private`: unknown to anyone but `readers`; `gated`: listed for all, contents for `readers` only. */
  access?: FakeRepoAccess;
  /** Tokens that may read a private or gated repository (they are also valid tokens hub-wide). */
  readers?: string[];
}

export type FakeFiles = Record<string, string | Uint8Array>;

export interface FakeFile {
  path: string;
  content: Uint8Array;
  sha256: string;
  /** git blob id of what git stores: the contents, or the LFS pointer of an LFS file. */
  gitOid: string;
  lfs: boolean;
  pointerSize: number;
}

interface FakeCommit {
  sha: string;
  date: string;
  files: Map<string, FakeFile>;
}

/** Files git would store through LFS under the hub's default .gitattributes. */
const LFS_NAME = /\.(safetensors|bin|h5|msgpack|ckpt|onnx|pt|pth|pkl|model|tflite|ot)$/;

export class FakeRepo {
  readonly commits = new Map<string, FakeCommit>();
  /** Branches and tags → commit sha. */
  readonly refs = new Map<string, string>();

  constructor(
    readonly id: string,
    readonly access: FakeRepoAccess,
    readonly readers: ReadonlySet<string>,
  ) {}

  /** A commit whose tree is exactly `files`, on `branch` (default main). Returns its sha. */
  commit(files: FakeFiles, options: { branch?: string } = {}): string {
    const branch = options.branch ?? 'main';
    const tree = new Map<string, FakeFile>();
    for (const [name, contents] of Object.entries(files)) tree.set(name, fakeFile(name, typeof contents === 'string' ? new TextEncoder().encode(contents) : contents));
    const parent = this.refs.get(branch) ?? '';
    const sha = createHash('sha1')
      .update(`${this.id}\0${parent}\0${this.commits.size}\0`)
      .update([...tree.values()].map((file) => `${file.path}:${file.gitOid}`).join('\n'))
      .digest('hex');
    this.commits.set(sha, { sha, date: new Date(Date.UTC(2024, 0, 1 + this.commits.size)).toISOString(), files: tree });
    this.refs.set(branch, sha);
    return sha;
  }

  /** A commit of every file under `dir` (e.g. a checkpoint another helper wrote). */
  commitDirectory(dir: string, options: { branch?: string } = {}): string {
    const files: FakeFiles = {};
    const walk = (relative: string): void => {
      for (const entry of readdirSync(path.join(dir, relative), { withFileTypes: true })) {
        const name = relative === '' ? entry.name : `${relative}/${entry.name}`;
        if (entry.isDirectory()) walk(name);
        else files[name] = readFileSync(path.join(dir, name));
      }
    };
    walk('');
    return this.commit(files, options);
  }

  /** A branch or tag (`v1`, `refs/pr/1`) at `sha`. */
  ref(name: string, sha: string): void {
    if (!this.commits.has(sha)) throw new Error(`no commit ${sha} in ${this.id}`);
    this.refs.set(name, sha);
  }

  resolve(revision: string): FakeCommit | undefined {
    return this.commits.get(this.refs.get(revision) ?? revision);
  }
}

export class FakeHub {
  readonly requests: FakeHubRequest[] = [];
  private readonly repos = new Map<string, FakeRepo>();
  private readonly tokens = new Set<string>();
  private readonly interruptions: Array<{ file: string; afterBytes: number }> = [];
  private readonly server: http.Server;
  url = '';

  private constructor() {
    this.server = http.createServer((request, response) => {
      try {
        this.handle(request, response);
      } catch (error) {
        response.writeHead(500, { 'Content-Type': 'text/plain' }).end(String(error));
      }
    });
  }

  /** Listens on 127.0.0.1 at a free port; `url` is then `http://127.0.0.1:PORT`. */
  static async start(options: { tokens?: string[] } = {}): Promise<FakeHub> {
    const hub = new FakeHub();
    for (const token of options.tokens ?? []) hub.tokens.add(token);
    await new Promise<void>((resolve) => hub.server.listen(0, '127.0.0.1', resolve));
    hub.url = `http://127.0.0.1:${(hub.server.address() as AddressInfo).port}`;
    return hub;
  }

  createRepo(id: string, options: FakeRepoOptions = {}): FakeRepo {
    const readers = new Set(options.readers ?? []);
    for (const token of readers) this.tokens.add(token);
    const repo = new FakeRepo(id, options.access ?? 'public', readers);
    this.repos.set(id, repo);
    return repo;
  }

  /** The next full download of `file` (a path in any repository) sends `afterBytes` bytes, then drops the connection. */
  interruptDownload(file: string, afterBytes: number): void {
    this.interruptions.push({ file, afterBytes });
  }

  /** Full-body GETs of `file` (not range probes), from the log. */
  downloadsOf(file: string): number {
    return this.requests.filter((request) => request.method === 'GET' && request.url.endsWith(`/${file}`) && !request.url.startsWith('/api/')).length;
  }

  /** Stops listening and drops open connections; closing again does nothing. */
  async close(): Promise<void> {
    if (!this.server.listening) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.server.close((error) => (error ? reject(error) : resolve())));
  }

  private handle(request: http.IncomingMessage, response: http.ServerResponse): void {
    const url = new URL(request.url ?? '/', this.url);
    const authorization = request.headers.authorization;
    this.requests.push({ method: request.method ?? 'GET', url: url.pathname + url.search, ...(authorization !== undefined && { authorization }) });
    const token = authorization?.match(/^Bearer (.+)$/)?.[1];
    if (token !== undefined && !this.tokens.has(token)) {
      return sendError(response, 401, undefined, 'Invalid credentials in Authorization header');
    }
    const api = url.pathname.match(/^\/api\/models\/(.+?)\/(revision|tree)\/(.+)$/);
    if (api !== null && request.method === 'GET') {
      const [, repoId, kind, rest] = api as unknown as [string, string, string, string];
      const repo = this.authorize(response, repoId, token, false, url);
      if (repo === undefined) return;
      if (kind === 'revision') return this.sendInfo(response, repo, decodeURIComponent(rest));
      return this.sendTree(response, repo, rest, url.searchParams.get('recursive') === 'true');
    }
    const cdn = url.pathname.match(/^\/_cdn\/([0-9a-f]{64})\/(.+)$/);
    if (cdn !== null) {
      const file = this.findBlob(cdn[1]!);
      if (file === undefined) return sendError(response, 404, undefined, 'NoSuchKey');
      return this.sendContent(request, response, file, decodeURIComponent(cdn[2]!), { ETag: `"${file.sha256}"` });
    }
    const resolve = url.pathname.match(/^\/((?:[^/]+\/)?[^/]+)\/resolve\/([^/]+)\/(.+)$/);
    if (resolve !== null && (request.method === 'GET' || request.method === 'HEAD')) {
      const [, repoId, encodedRevision, encodedFile] = resolve as unknown as [string, string, string, string];
      const repo = this.authorize(response, repoId, token, true, url);
      if (repo === undefined) return;
      const revision = decodeURIComponent(encodedRevision);
      const commit = repo.resolve(revision);
      if (commit === undefined) return sendError(response, 404, 'RevisionNotFound', `Invalid rev id: ${revision}`);
      const filePath = encodedFile.split('/').map(decodeURIComponent).join('/');
      const file = commit.files.get(filePath);
      if (file === undefined) return sendError(response, 404, 'EntryNotFound', `Entry not found`);
      const headers = { 'X-Repo-Commit': commit.sha, ETag: `"${file.gitOid}"` };
      if (file.lfs) {
        // Like the hub: LFS contents live elsewhere; the redirect carries their etag and size.
        response.writeHead(302, {
          ...headers,
          Location: `/_cdn/${file.sha256}/${encodedFile}`,
          'X-Linked-Etag': `"${file.sha256}"`,
          'X-Linked-Size': String(file.content.byteLength),
          'Content-Length': '0',
        });
        return void response.end();
      }
      return this.sendContent(request, response, file, filePath, headers);
    }
    sendError(response, 404, undefined, `no route for ${request.method} ${url.pathname}`);
  }

  /** The repository if `token` may see it (and, for `content`, read its files); else the hub's error is sent. */
  private authorize(response: http.ServerResponse, repoId: string, token: string | undefined, content: boolean, url: URL): FakeRepo | undefined {
    const repo = this.repos.get(repoId);
    const reader = token !== undefined && repo?.readers.has(token) === true;
    if (repo === undefined || (repo.access === 'private' && !reader)) {
      // The hub does not reveal whether a repository it will not show exists.
      sendError(response, token === undefined ? 401 : 404, 'RepoNotFound', `Repository Not Found for url: ${this.url}${url.pathname}.`);
      return undefined;
    }
    if (repo.access === 'gated' && content && !reader) {
      sendError(
        response,
        token === undefined ? 401 : 403,
        'GatedRepo',
        token === undefined
          ? `Access to model ${repoId} is restricted. You must have access to it and be authenticated to access it. Please log in.`
          : `Access to model ${repoId} is restricted and you are not in the authorized list. Visit ${this.url}/${repoId} to ask for access.`,
      );
      return undefined;
    }
    return repo;
  }

  private sendInfo(response: http.ServerResponse, repo: FakeRepo, revision: string): void {
    const commit = repo.resolve(revision);
    if (commit === undefined) return sendError(response, 404, 'RevisionNotFound', `Invalid rev id: ${revision}`);
    sendJson(response, {
      _id: createHash('sha1').update(repo.id).digest('hex').slice(0, 24),
      id: repo.id,
      modelId: repo.id,
      sha: commit.sha,
      lastModified: commit.date,
      private: repo.access === 'private',
      gated: repo.access === 'gated' ? 'auto' : false,
      disabled: false,
      downloads: 0,
      likes: 0,
      tags: [],
      library_name: 'transformers',
      siblings: [...commit.files.keys()].map((rfilename) => ({ rfilename })),
    });
  }

  /** `rest` is `{revision}[/{dir}]`; @huggingface/hub does not encode the revision here, so `refs/pr/1` arrives with its slashes. */
  private sendTree(response: http.ServerResponse, repo: FakeRepo, rest: string, recursive: boolean): void {
    const parts = rest.split('/').map(decodeURIComponent);
    let commit: FakeCommit | undefined;
    let dir = '';
    for (let length = parts.length; length > 0 && commit === undefined; length--) {
      commit = repo.resolve(parts.slice(0, length).join('/'));
      dir = parts.slice(length).join('/');
    }
    if (commit === undefined) return sendError(response, 404, 'RevisionNotFound', `Invalid rev id: ${parts.join('/')}`);
    const prefix = dir === '' ? '' : `${dir}/`;
    const entries: unknown[] = [];
    const directories = new Set<string>();
    for (const file of commit.files.values()) {
      if (!file.path.startsWith(prefix)) continue;
      const below = file.path.slice(prefix.length);
      if (!recursive && below.includes('/')) {
        directories.add(prefix + below.slice(0, below.indexOf('/')));
        continue;
      }
      entries.push({
        type: 'file',
        oid: file.gitOid,
        size: file.content.byteLength,
        path: file.path,
        ...(file.lfs && { lfs: { oid: file.sha256, size: file.content.byteLength, pointerSize: file.pointerSize } }),
      });
    }
    for (const directory of directories) entries.push({ type: 'directory', oid: createHash('sha1').update(directory).digest('hex'), size: 0, path: directory });
    sendJson(response, entries);
  }

  private findBlob(sha256: string): FakeFile | undefined {
    for (const repo of this.repos.values()) {
      for (const commit of repo.commits.values()) {
        for (const file of commit.files.values()) if (file.sha256 === sha256) return file;
      }
    }
    return undefined;
  }

  /** The file's bytes, honouring `Range: bytes=a-b`; cut short when an interruption is pending for `filePath`. */
  private sendContent(request: http.IncomingMessage, response: http.ServerResponse, file: FakeFile, filePath: string, headers: Record<string, string>): void {
    const size = file.content.byteLength;
    const range = request.headers.range?.match(/^bytes=(\d*)-(\d*)$/);
    let start = 0;
    let end = size - 1;
    if (range != null && size > 0) {
      start = range[1] === '' ? Math.max(0, size - Number(range[2])) : Number(range[1]);
      end = range[1] !== '' && range[2] !== '' ? Math.min(Number(range[2]), size - 1) : size - 1;
      if (start > end) {
        response.writeHead(416, { 'Content-Range': `bytes */${size}` });
        return void response.end();
      }
    }
    const body = file.content.subarray(start, end + 1);
    response.writeHead(range != null && size > 0 ? 206 : 200, {
      ...headers,
      'Accept-Ranges': 'bytes',
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(body.byteLength),
      ...(range != null && size > 0 && { 'Content-Range': `bytes ${start}-${end}/${size}` }),
    });
    if (request.method === 'HEAD') return void response.end();
    const cut = range == null ? this.interruptions.findIndex((interruption) => interruption.file === filePath) : -1;
    if (cut !== -1) {
      const { afterBytes } = this.interruptions.splice(cut, 1)[0]!;
      response.write(body.subarray(0, afterBytes), () => response.socket?.destroy());
      return;
    }
    response.end(body);
  }
}

function fakeFile(name: string, content: Uint8Array): FakeFile {
  const sha256 = createHash('sha256').update(content).digest('hex');
  const lfs = LFS_NAME.test(name) || content.byteLength > 10_000_000;
  const stored = lfs ? new TextEncoder().encode(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256}\nsize ${content.byteLength}\n`) : content;
  return { path: name, content, sha256, gitOid: gitBlobId(stored), lfs, pointerSize: lfs ? stored.byteLength : 0 };
}

/** git's object id of a blob: sha1 of `blob <size>\0` and the bytes. */
export function gitBlobId(content: Uint8Array): string {
  return createHash('sha1').update(`blob ${content.byteLength}\0`).update(content).digest('hex');
}

export function sha256Hex(content: Uint8Array): string {
  return createHash('sha256').update(content).digest('hex');
}

function sendJson(response: http.ServerResponse, body: unknown): void {
  const json = JSON.stringify(body);
  response.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(json) }).end(json);
}

function sendError(response: http.ServerResponse, status: number, code: string | undefined, message: string): void {
  const json = JSON.stringify({ error: message });
  response
    .writeHead(status, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(json),
      ...(code !== undefined && { 'X-Error-Code': code, 'X-Error-Message': message }),
    })
    .end(json);
}

/** A small uncased WordPiece vocabulary, special tokens first as in bert-base-uncased. */
export const TINY_HUB_VOCAB: readonly string[] = [
  '[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', '.', ',', '!', '?', 'the', 'a', 'is', 'was', 'it', 'this', 'and', 'not', 'i',
  'good', 'bad', 'great', 'terrible', 'movie', 'love', 'hate', 'fun', 'boring', 'film', '##s', '##ing', '##ed', '##ly',
];

const TINY_HUB_CONFIG = {
  architectures: ['BertModel'],
  model_type: 'bert',
  vocab_size: TINY_HUB_VOCAB.length,
  hidden_size: 16,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  intermediate_size: 32,
  hidden_act: 'gelu',
  hidden_dropout_prob: 0.1,
  attention_probs_dropout_prob: 0.1,
  max_position_embeddings: 64,
  type_vocab_size: 2,
  initializer_range: 0.02,
  layer_norm_eps: 1e-12,
  pad_token_id: 0,
};

/**
 * The weights of a bare `BertModel` (names as its `save_pretrained` writes them, [out, in]
 * linear weights) for the tiny config: seeded normal(0, 0.02) matrices, LayerNorm ones, zero biases.
 */
export function tinyBertTensors(seed = 1): Map<string, F32Tensor> {
  const { hidden_size: hidden, intermediate_size: intermediate } = TINY_HUB_CONFIG;
  const tensors = new Map<string, F32Tensor>();
  const add = (name: string, shape: number[], fill?: number): void => {
    const count = shape.reduce((product, dim) => product * dim, 1);
    const data = fill === undefined ? fillNormal(new Float32Array(count), 0.02, seed * 1000 + tensors.size) : new Float32Array(count).fill(fill);
    tensors.set(name, { dtype: 'F32', shape, data });
  };
  const linear = (prefix: string, inFeatures: number, outFeatures: number): void => {
    add(`${prefix}.weight`, [outFeatures, inFeatures]);
    add(`${prefix}.bias`, [outFeatures], 0);
  };
  const layerNorm = (prefix: string): void => {
    add(`${prefix}.weight`, [hidden], 1);
    add(`${prefix}.bias`, [hidden], 0);
  };
  add('embeddings.word_embeddings.weight', [TINY_HUB_CONFIG.vocab_size, hidden]);
  add('embeddings.position_embeddings.weight', [TINY_HUB_CONFIG.max_position_embeddings, hidden]);
  add('embeddings.token_type_embeddings.weight', [TINY_HUB_CONFIG.type_vocab_size, hidden]);
  layerNorm('embeddings.LayerNorm');
  for (let layer = 0; layer < TINY_HUB_CONFIG.num_hidden_layers; layer++) {
    const prefix = `encoder.layer.${layer}`;
    linear(`${prefix}.attention.self.query`, hidden, hidden);
    linear(`${prefix}.attention.self.key`, hidden, hidden);
    linear(`${prefix}.attention.self.value`, hidden, hidden);
    linear(`${prefix}.attention.output.dense`, hidden, hidden);
    layerNorm(`${prefix}.attention.output.LayerNorm`);
    linear(`${prefix}.intermediate.dense`, hidden, intermediate);
    linear(`${prefix}.output.dense`, intermediate, hidden);
    layerNorm(`${prefix}.output.LayerNorm`);
  }
  linear('pooler.dense', hidden, hidden);
  return tensors;
}

/**
 * A tiny BERT checkpoint as a hub repository holds it: config.json, vocab.txt,
 * tokenizer_config.json, special_tokens_map.json and model.safetensors — or, with `shards` > 1,
 * model-0000i-of-0000n.safetensors files and model.safetensors.index.json, split as
 * `save_pretrained(max_shard_size=…)` splits (whole tensors, in name order).
 */
export function tinyCheckpointFiles(options: { shards?: number; seed?: number } = {}): FakeFiles {
  const shards = options.shards ?? 1;
  const tensors = tinyBertTensors(options.seed ?? 1);
  const files: FakeFiles = {
    'config.json': JSON.stringify(TINY_HUB_CONFIG, null, 2) + '\n',
    'vocab.txt': TINY_HUB_VOCAB.join('\n') + '\n',
    'tokenizer_config.json': JSON.stringify({ do_lower_case: true, model_max_length: 64, tokenizer_class: 'BertTokenizer' }) + '\n',
    'special_tokens_map.json':
      JSON.stringify({ cls_token: '[CLS]', mask_token: '[MASK]', pad_token: '[PAD]', sep_token: '[SEP]', unk_token: '[UNK]' }) + '\n',
  };
  if (shards === 1) {
    files['model.safetensors'] = serializeSafetensors(tensors);
    return files;
  }
  const names = [...tensors.keys()].sort();
  const perShard = Math.ceil(names.length / shards);
  const weightMap: Record<string, string> = {};
  let totalSize = 0;
  for (let shard = 0; shard < shards; shard++) {
    const shardName = `model-${String(shard + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`;
    const part = new Map(names.slice(shard * perShard, (shard + 1) * perShard).map((name) => [name, tensors.get(name)!] as const));
    for (const [name, tensor] of part) {
      weightMap[name] = shardName;
      totalSize += tensor.data.byteLength;
    }
    files[shardName] = serializeSafetensors(part);
  }
  files['model.safetensors.index.json'] = JSON.stringify({ metadata: { total_size: totalSize }, weight_map: weightMap }, null, 2) + '\n';
  return files;
}
