/**
 * The Hugging Face hub cache on disk, in the layout Python's `huggingface_hub` writes and reads,
 * so that one cache serves both:
 *
 *     $HF_HUB_CACHE/models--org--name/
 *       blobs/<etag>                      file contents, named by sha256 (LFS) or git blob id
 *       snapshots/<commit>/<file>         relative symlink ../../blobs/<etag> (a copy where
 *                                         symlinks are not allowed)
 *       refs/<revision>                   the commit a branch or tag pointed to, no newline
 *
 * A blob appears under its final name only once its bytes are complete and verified: they are
 * written to a private `*.incomplete` file first, which is renamed in one step. Readers therefore
 * never see a truncated file, whatever happens to a download.
 */
import { createHash, randomBytes } from 'node:crypto';
import { copyFile, mkdir, open, readFile, rename, rm, stat, symlink } from 'node:fs/promises';
import path from 'node:path';
import { getRepoFolderName } from '@huggingface/hub';

export const COMMIT_HASH = /^[0-9a-f]{40}$/;

/** `<cacheDir>/models--org--name` (the same function Python and @huggingface/hub use). */
export function repoCacheDir(cacheDir: string, repo: string): string {
  return path.join(cacheDir, getRepoFolderName({ type: 'model', name: repo }));
}

export function snapshotDir(repoDir: string, commit: string): string {
  return path.join(repoDir, 'snapshots', commit);
}

/**
 * A repository-relative file name that stays inside the snapshot once joined to it: the names
 * come from the hub's listing and from an index file, neither of which we control.
 */
export function isSafeRelativePath(name: string): boolean {
  if (name === '' || name.includes('\\') || name.includes('\0') || path.posix.isAbsolute(name)) return false;
  return name.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

/** The commit `refs/<revision>` records, if the cache has that ref. */
export async function readRef(repoDir: string, revision: string): Promise<string | undefined> {
  if (!isSafeRelativePath(revision)) return undefined;
  try {
    // Python writes the bare hash; tolerate a trailing newline from hand-made caches.
    const commit = (await readFile(path.join(repoDir, 'refs', revision), 'utf8')).trim();
    return COMMIT_HASH.test(commit) ? commit : undefined;
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

/**
 * Records `revision → commit` (not for a revision that is itself the commit, as Python does not).
 * Unchanged refs are not rewritten, so a read-only cache that is already up to date still works.
 */
export async function writeRef(repoDir: string, revision: string, commit: string): Promise<void> {
  if (revision === commit || (await readRef(repoDir, revision)) === commit) return;
  const refPath = path.join(repoDir, 'refs', revision);
  await mkdir(path.dirname(refPath), { recursive: true });
  const temp = `${refPath}.${uniqueSuffix()}.tmp`;
  try {
    await writeFileAtomically(temp, refPath, commit);
  } finally {
    await rm(temp, { force: true });
  }
}

/** The size of a regular file (following symlinks), or undefined when absent or dangling. */
export async function fileSize(file: string): Promise<number | undefined> {
  try {
    const stats = await stat(file);
    return stats.isFile() ? stats.size : undefined;
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

export interface ExpectedBlob {
  /** Bytes the hub's listing announces. */
  size: number;
  /** sha256 hex of the contents (LFS files: the listing's `lfs.oid`). */
  sha256?: string;
  /** git blob id (sha1 of `blob <size>\0` + contents) of a regular, non-LFS file. */
  gitBlobId?: string;
}

/**
 * Streams `chunks` into `blobs/<etag>`: written to a private temporary file, checked against
 * `expected` (size, and sha256 or git blob id), then renamed into place. On any failure — a cut
 * connection, a short or corrupt body — the temporary file is removed and no blob appears.
 */
export async function writeBlob(
  repoDir: string,
  etag: string,
  chunks: AsyncIterable<Uint8Array>,
  expected: ExpectedBlob,
  onBytes: (bytesDone: number) => void,
): Promise<string> {
  const blobPath = path.join(repoDir, 'blobs', etag);
  await mkdir(path.dirname(blobPath), { recursive: true });
  // A name of our own (not Python's `<etag>.incomplete`): two processes downloading the same blob
  // never write into the same file, and neither mistakes the other's bytes for a resumable part.
  const temp = `${blobPath}.${uniqueSuffix()}.incomplete`;
  const sha256 = expected.sha256 !== undefined ? createHash('sha256') : undefined;
  const gitHash = expected.gitBlobId !== undefined ? createHash('sha1').update(`blob ${expected.size}\0`) : undefined;
  const handle = await open(temp, 'w');
  try {
    let bytesDone = 0;
    for await (const chunk of chunks) {
      bytesDone += chunk.byteLength;
      if (bytesDone > expected.size) throw new Error(`received more than the ${expected.size} bytes announced`);
      sha256?.update(chunk);
      gitHash?.update(chunk);
      await handle.write(chunk);
      onBytes(bytesDone);
    }
    if (bytesDone !== expected.size) throw new Error(`received ${bytesDone} of ${expected.size} bytes`);
    const sha256Hex = sha256?.digest('hex');
    if (sha256Hex !== undefined && sha256Hex !== expected.sha256) throw new Error(`sha256 ${sha256Hex} does not match the hub's ${expected.sha256}`);
    const gitHex = gitHash?.digest('hex');
    if (gitHex !== undefined && gitHex !== expected.gitBlobId) throw new Error(`git blob id ${gitHex} does not match the hub's ${expected.gitBlobId}`);
    // On disk before it has its final name: a crash right after the rename must not leave an empty blob.
    await handle.sync();
    await handle.close();
    await rename(temp, blobPath);
    return blobPath;
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw error;
  }
}

/**
 * Points `snapshots/<commit>/<file>` at `blobs/<etag>` with a relative symlink, like Python (the
 * cache can be moved). Created under a temporary name and renamed over any previous entry, so the
 * snapshot never has a moment without the file. Where symlinks are refused (Windows without
 * developer mode) the blob is copied instead, as Python does; `onCopy` is told.
 */
export async function linkSnapshotFile(repoDir: string, commit: string, file: string, etag: string, onCopy: (file: string) => void): Promise<string> {
  const pointer = path.join(snapshotDir(repoDir, commit), ...file.split('/'));
  const blobPath = path.join(repoDir, 'blobs', etag);
  await mkdir(path.dirname(pointer), { recursive: true });
  const temp = `${pointer}.${uniqueSuffix()}.tmp`;
  try {
    try {
      await symlink(path.relative(path.dirname(pointer), blobPath), temp);
    } catch (error) {
      if (!isSymlinkRefused(error)) throw error;
      onCopy(file);
      await copyFile(blobPath, temp);
    }
    await rename(temp, pointer);
  } finally {
    await rm(temp, { force: true });
  }
  return pointer;
}

async function writeFileAtomically(temp: string, target: string, contents: string): Promise<void> {
  const handle = await open(temp, 'w');
  try {
    await handle.writeFile(contents);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, target);
}

function uniqueSuffix(): string {
  return `${process.pid}-${randomBytes(4).toString('hex')}`;
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function isSymlinkRefused(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'EPERM' || code === 'EACCES' || code === 'ENOSYS' || code === 'EOPNOTSUPP';
}
