/**
 * The one way microbatch replaces files and directories on disk: a crash at any moment leaves
 * either the old or the new version, never a mix, and the leftovers are recovered or cleaned
 * on the next run.
 *
 * * file: write a sibling temp file, fsync it, rename it over the target, fsync the directory;
 * * directory: fill a sibling `<dir>.tmp-<id>` (every file fsynced), rename the old one to
 *   `<dir>.old-<id>`, rename the new one to `<dir>`, fsync the parent, remove the old one.
 *   Between the two renames `<dir>` is absent while both complete versions exist:
 *   `recoverDirectory` finishes the swap.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

function uniqueSuffix(): string {
  return `${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** File content: text, bytes, or byte chunks written one after the other (no concatenated copy). */
export type FileContent = string | Uint8Array | readonly Uint8Array[];

/** Writes `data` to `file` and flushes it to disk (the caller publishes it by renaming). */
export async function writeDurable(file: string, data: FileContent): Promise<void> {
  const handle = await fs.open(file, 'w');
  try {
    if (typeof data === 'string' || data instanceof Uint8Array) await handle.writeFile(data);
    else for (const chunk of data) await handle.writeFile(chunk);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** fsync of a directory, so that renames inside it survive a power loss (best effort where unsupported). */
async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch {
    // Some platforms (Windows) cannot open or fsync directories; the rename is still atomic.
  } finally {
    await handle?.close();
  }
}

/** Replaces `file` with `data` atomically. */
export async function writeFileAtomic(file: string, data: FileContent): Promise<void> {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${uniqueSuffix()}`);
  try {
    await writeDurable(temporary, data);
    await fs.rename(temporary, file);
  } catch (error) {
    await fs.rm(temporary, { force: true });
    throw error;
  }
  await syncDirectory(path.dirname(path.resolve(file)));
}

/**
 * Replaces directory `dir` with a new one that `fill(temporaryDir)` writes (use `writeDurable`
 * for its files). `dir` is never a partial directory.
 */
export async function replaceDirectory(dir: string, fill: (temporaryDir: string) => Promise<void>): Promise<void> {
  const target = path.resolve(dir);
  await fs.mkdir(path.dirname(target), { recursive: true });
  const suffix = uniqueSuffix();
  const temporary = `${target}.tmp-${suffix}`;
  await fs.mkdir(temporary);
  try {
    await fill(temporary);
    await syncDirectory(temporary);
  } catch (error) {
    await fs.rm(temporary, { recursive: true, force: true });
    throw error;
  }
  const previous = `${target}.old-${suffix}`;
  let hadPrevious = true;
  try {
    await fs.rename(target, previous);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      await fs.rm(temporary, { recursive: true, force: true });
      throw error;
    }
    hadPrevious = false;
  }
  await fs.rename(temporary, target);
  await syncDirectory(path.dirname(target));
  if (hadPrevious) await fs.rm(previous, { recursive: true, force: true });
}

/**
 * After a crash between `replaceDirectory`'s two renames `dir` is missing while
 * `<dir>.old-<id>` and `<dir>.tmp-<id>` exist: moves the newer complete one (`isComplete`) into
 * place. Returns whether it recovered anything.
 */
export async function recoverDirectory(dir: string, isComplete: (candidate: string) => Promise<boolean>): Promise<boolean> {
  const target = path.resolve(dir);
  if (await exists(target)) return false;
  const parent = path.dirname(target);
  const base = path.basename(target);
  let names: string[];
  try {
    names = await fs.readdir(parent);
  } catch {
    return false;
  }
  for (const name of names) {
    if (!name.startsWith(`${base}.old-`)) continue;
    const newer = path.join(parent, `${base}.tmp-${name.slice(base.length + '.old-'.length)}`);
    for (const candidate of [newer, path.join(parent, name)]) {
      if ((await exists(candidate)) && (await isComplete(candidate))) {
        await fs.rename(candidate, target);
        await syncDirectory(parent);
        return true;
      }
    }
  }
  return false;
}

/** Removes what interrupted replacements of `dir` left beside it (`.tmp-` and `.old-` copies). */
export async function removeLeftovers(dir: string): Promise<void> {
  const target = path.resolve(dir);
  const parent = path.dirname(target);
  const base = path.basename(target);
  let names: string[];
  try {
    names = await fs.readdir(parent);
  } catch {
    return;
  }
  for (const name of names) {
    if (name.startsWith(`${base}.tmp-`) || name.startsWith(`${base}.old-`)) {
      await fs.rm(path.join(parent, name), { recursive: true, force: true });
    }
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.stat(file);
    return true;
  } catch {
    return false;
  }
}

/** Removes the temp files interrupted `writeFileAtomic` calls left in `dir` (`.<name>.tmp-<id>`). */
export async function removeTempFiles(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return;
  }
  for (const name of names) if (/^\..+\.tmp-\d+-[0-9a-f]{8}$/.test(name)) await fs.rm(path.join(dir, name), { force: true });
}
