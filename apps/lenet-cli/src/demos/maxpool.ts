import * as T from "@tessera/tensor";
import { RandomState } from "@tessera/tensor";
import { formatMatrix } from "./numpy-format.js";

/** One pooled image of the demo: the input and the output, as float64 rows. */
export interface PoolExample {
  ignoreBorder: boolean;
  label: string;
  input: number[][];
  output: number[][];
}

function rowsOf(values: ArrayLike<number>, offset: number, h: number, w: number): number[][] {
  return Array.from({ length: h }, (_, y) => Array.from({ length: w }, (_, x) => values[offset + y * w + x]!));
}

/**
 * The chapter's max-pooling example: invals = RandomState(1).rand(3, 2, 5, 5), pooled 2x2 with
 * ignore_border True (image [0,0]) and False (image [1,0]). Pooling runs on Tessera's maxPool2d,
 * which computes in float32; each pooled value printed is the float64 input it selected, so the
 * digits are numpy's (float64) digits.
 */
export function maxPoolExamples(): PoolExample[] {
  const invals = new RandomState(1).rand([3, 2, 5, 5]);
  const x = T.tensor(Float32Array.from(invals), { shape: [3, 2, 5, 5], dtype: "float32" });
  try {
    return [true, false].map((ignoreBorder) => {
      const image = ignoreBorder ? 0 : 1;
      const offset = image * 2 * 25;
      const pooled = T.maxPool2d(x, { kernelSize: 2, ignoreBorder });
      try {
        const [, c, oh, ow] = pooled.shape as [number, number, number, number];
        const values = pooled.dataSync();
        const input = rowsOf(invals, offset, 5, 5);
        const output = Array.from({ length: oh }, (_, oy) =>
          Array.from({ length: ow }, (_, ox) => {
            const v32 = values[image * c * oh * ow + oy * ow + ox]!;
            // The float64 input of this window whose float32 value was selected.
            for (let y = oy * 2; y < Math.min(5, oy * 2 + 2); y++) {
              for (let xx = ox * 2; xx < Math.min(5, ox * 2 + 2); xx++) if (Math.fround(input[y]![xx]!) === v32) return input[y]![xx]!;
            }
            return v32;
          }),
        );
        return { ignoreBorder, label: `${image},0`, input, output };
      } finally {
        pooled.dispose();
      }
    });
  } finally {
    x.dispose();
  }
}

/** The demo's printed text, line for line the chapter's output. */
export function maxPoolDemoText(): string {
  const lines: string[] = [];
  for (const ex of maxPoolExamples()) {
    lines.push(`With ignore_border set to ${ex.ignoreBorder ? "True" : "False"}:`);
    lines.push(`invals[${ex.label},:,:] =`);
    lines.push(formatMatrix(ex.input));
    lines.push(`output[${ex.label},:,:] =`);
    lines.push(formatMatrix(ex.output));
  }
  return lines.join("\n");
}
