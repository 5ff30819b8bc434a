/**
 * Walks the rows (last axis) of up to three strided views of one shape, calling `row` with each
 * row's start offsets. Adjacent axes that are contiguous in every view are merged first, so a
 * contiguous tensor is a single long row.
 */
export function forEachRow(
  shape: readonly number[],
  strides: ReadonlyArray<readonly number[]>,
  offsets: readonly number[],
  row: (length: number, starts: number[], steps: number[]) => void,
): void {
  const k = strides.length;
  // Merge axes (drop size-1 axes, join axes whose strides chain in every view).
  const dims: number[] = [];
  const st: number[][] = strides.map(() => []);
  for (let i = 0; i < shape.length; i++) {
    const n = shape[i]!;
    if (n === 1) continue;
    const last = dims.length - 1;
    if (last >= 0 && strides.every((s, v) => st[v]![last] === s[i]! * n)) {
      dims[last] = dims[last]! * n;
      for (let v = 0; v < k; v++) st[v]![last] = strides[v]![i]!;
    } else {
      dims.push(n);
      for (let v = 0; v < k; v++) st[v]!.push(strides[v]![i]!);
    }
  }
  if (dims.length === 0) {
    row(
      1,
      [...offsets],
      strides.map(() => 0),
    );
    return;
  }
  const r = dims.length;
  const length = dims[r - 1]!;
  const steps = st.map((s) => s[r - 1]!);
  const outer = dims.slice(0, r - 1);
  const idx = new Array<number>(outer.length).fill(0);
  const starts = [...offsets];
  const rows = outer.reduce((a, b) => a * b, 1);
  for (let n = 0; n < rows; n++) {
    row(length, starts, steps);
    // Odometer increment over the outer axes.
    for (let a = outer.length - 1; a >= 0; a--) {
      idx[a]!++;
      for (let v = 0; v < k; v++) starts[v]! += st[v]![a]!;
      if (idx[a]! < outer[a]!) break;
      for (let v = 0; v < k; v++) starts[v]! -= st[v]![a]! * outer[a]!;
      idx[a] = 0;
    }
  }
}
