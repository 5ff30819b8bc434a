/** Element types a tensor can hold. `bool` is stored as one byte per element (0 or 1). */
export type DType = "float32" | "int32" | "bool";

/** The typed array that holds the elements of each dtype. */
export type TypedArray = Float32Array | Int32Array | Uint8Array;

/** Maps a dtype to its typed array type. */
export type TypedArrayFor<D extends DType> = D extends "float32" ? Float32Array : D extends "int32" ? Int32Array : Uint8Array;

/** Every dtype Tessera supports, in promotion order (lowest first). */
export const DTYPES: readonly DType[] = ["bool", "int32", "float32"];

/** Bytes per element of each dtype. */
export function bytesPerElement(dtype: DType): number {
  return dtype === "bool" ? 1 : 4;
}

/** Allocates a zeroed typed array of `size` elements of `dtype`. */
export function allocTypedArray(dtype: DType, size: number): TypedArray {
  switch (dtype) {
    case "float32":
      return new Float32Array(size);
    case "int32":
      return new Int32Array(size);
    case "bool":
      return new Uint8Array(size);
  }
}

/** The dtype whose storage is this typed array, or undefined for other arrays. */
export function dtypeOfTypedArray(a: ArrayLike<number>): DType | undefined {
  if (a instanceof Float32Array) return "float32";
  if (a instanceof Int32Array) return "int32";
  if (a instanceof Uint8Array) return "bool";
  return undefined;
}

/** The dtype both operands are promoted to in a binary op (bool < int32 < float32). */
export function promoteTypes(a: DType, b: DType): DType {
  return DTYPES.indexOf(a) >= DTYPES.indexOf(b) ? a : b;
}

export function isDType(x: unknown): x is DType {
  return x === "float32" || x === "int32" || x === "bool";
}
