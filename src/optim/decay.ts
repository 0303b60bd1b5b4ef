/**
 * Which parameters get no weight decay, by Hugging Face style name — the Trainer's rule:
 * biases and LayerNorm parameters (`…LayerNorm.weight/bias`, old-style `…LayerNorm.gamma/beta`,
 * and `layer_norm` spellings) are exempt; everything else (linear weights, embeddings) decays.
 */
export function isNoDecayParameter(name: string): boolean {
  const lower = name.toLowerCase();
  return lower.endsWith('bias') || lower.includes('layernorm') || lower.includes('layer_norm');
}
