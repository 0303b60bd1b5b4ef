/**
 * bfloat16 rounding of float32 values, as torch's `.to(torch.bfloat16)`: round to nearest,
 * ties to even, on the bit pattern (the upper 16 bits of a float32 are a bfloat16); every NaN
 * becomes the canonical quiet NaN 0x7FC0. The JavaScript path of bf16 autocast
 * (docs/design.md §6, `Precision`): matMul operands rounded here, then an fp32 product.
 */

/** out[i] = float32(bfloat16(x[i])); out may be x. */
export function roundToBf16(x: Float32Array, out: Float32Array): Float32Array {
  if (out.length < x.length) throw new RangeError(`roundToBf16: out has ${out.length} elements, needs ${x.length}`);
  const bits = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const outBits = new Uint32Array(out.buffer, out.byteOffset, x.length);
  for (let i = 0; i < bits.length; i++) {
    const value = bits[i]!;
    outBits[i] = (value & 0x7fffffff) > 0x7f800000 ? 0x7fc00000 : ((value + 0x7fff + ((value >>> 16) & 1)) & 0xffff0000) >>> 0;
  }
  return out;
}
