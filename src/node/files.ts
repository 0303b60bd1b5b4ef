/** Reading input files with errors that name the file (data files: DataError). */
import { promises as fs } from 'node:fs';
import { parseLabelledText, type LabelledData, type ReadOptions } from '../app/data/index.js';
import { DataError } from '../core/errors.js';

/** The UTF-8 text of a data file. */
export async function readTextFile(file: string): Promise<string> {
  try {
    const stat = await fs.stat(file);
    if (!stat.isFile()) throw new DataError('not a regular file', { file });
    return await fs.readFile(file, 'utf8');
  } catch (error) {
    if (error instanceof DataError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new DataError(code === 'ENOENT' ? 'file not found' : `cannot read file (${(error as Error).message})`, { file });
  }
}

/** Reads and parses a labelled JSONL/CSV/TSV file (errors name the file, line and field). */
export async function readLabelledFile(file: string, options: ReadOptions = {}): Promise<LabelledData> {
  return parseLabelledText(await readTextFile(file), file, options);
}
