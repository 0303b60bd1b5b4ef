/**
 * `--model` on the command line: a local Hugging Face directory, or a hub id `org/name[@revision]`
 * downloaded into the standard cache (HF_HOME / HF_HUB_CACHE, HF_ENDPOINT, HF_TOKEN,
 * HF_HUB_OFFLINE) with a progress bar on stderr. A local folder of that name always wins.
 */
import { createDownloadProgressBar } from '../node/hub-progress.js';
import { resolveModelSource } from '../node/hub.js';

export const MODEL_HELP = 'a Hugging Face model: a local directory (config.json, model.safetensors, tokenizer files) or a hub id org/name[@revision]';

/** The local directory of `spec`, downloading a hub model first when it is not in the cache. */
export async function modelDirectory(spec: string): Promise<string> {
  const progress = createDownloadProgressBar();
  try {
    const source = await resolveModelSource(spec, { onProgress: progress.onProgress, log: (line) => process.stderr.write(`${line}\n`) });
    if (source.source !== 'local') process.stderr.write(`model: ${source.repo}@${source.revision} (${source.commit?.slice(0, 12) ?? ''}) ${source.source === 'hub-cache' ? 'from the cache' : 'downloaded'} → ${source.dir}\n`);
    return source.dir;
  } finally {
    progress.stop();
  }
}
