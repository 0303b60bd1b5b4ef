// Types of scripts/make-tiny-checkpoints.mjs (plain JavaScript so that it runs without a build).

export type TinyFamily = 'bert' | 'distilbert' | 'roberta' | 'electra';
export type TinyHead = 'base' | 'sequence-classification' | 'token-classification' | 'masked-lm';
export type TinyVariant = 'legacy-layernorm' | 'position-ids';

export interface TinyCheckpointFolder {
  /** `<family>-<head>[-<variant>]`, the folder's name under the output directory. */
  name: string;
  dir: string;
  family: TinyFamily;
  head: TinyHead;
  variant: TinyVariant | null;
  /** The HF class, config.json's architectures[0]. */
  architecture: string;
  /** config.json's content. */
  config: Record<string, unknown>;
  /** id2label in id order for the classification heads, else null. */
  labels: string[] | null;
}

export const FAMILIES: readonly TinyFamily[];
export const HEADS: readonly TinyHead[];
export const ARCHITECTURES: Readonly<Record<TinyFamily, Readonly<Record<TinyHead, string>>>>;
export const BASE_MODEL_PREFIX: Readonly<Record<TinyFamily, string>>;
export const SEQUENCE_LABELS: readonly string[];
export const TOKEN_LABELS: readonly string[];
export const TINY_SIZES: Readonly<{
  hidden: number;
  layers: number;
  heads: number;
  intermediate: number;
  electraEmbedding: number;
  maxLength: number;
  bpeMerges: number;
  wordPieceWords: number;
}>;

/** Writes every tiny checkpoint under `outDir` (created if needed); the same seed gives the same bytes. */
export function makeTinyCheckpoints(outDir: string, options?: { seed?: number }): Promise<TinyCheckpointFolder[]>;
