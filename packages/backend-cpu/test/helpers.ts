/** Deterministic values in [-1, 1) (a 32-bit LCG), so failures reproduce. */
export function fillRandom(out: Float32Array, seed: number): void {
  let s = seed >>> 0;
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
}

/** Number of elements whose bit patterns differ (a fast `toEqual` for big float arrays). */
export function bitDifferences(x: Float32Array, y: Float32Array): number {
  if (x.length !== y.length) return Math.max(x.length, y.length);
  const a = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const b = new Uint32Array(y.buffer, y.byteOffset, y.length);
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}
