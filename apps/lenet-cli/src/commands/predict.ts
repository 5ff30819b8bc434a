import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { ParsedArgs } from "../cli/args.js";
import { CliError, EXIT, oneLine } from "../cli/errors.js";
import { type CliIo, println } from "../cli/io.js";
import { shownPath } from "../cli/user-paths.js";
import { useBackend } from "../backend/select.js";
import { toMnistDigit } from "@tessera/datasets";
import { decodeImage } from "../images/raster.js";
import { classProbabilities } from "../train/evaluate.js";
import { checkpointPath, loadModel } from "./model-file.js";

/** An image file made into a 28x28 MNIST input; `shown` is how errors name it. */
export async function digitFromFile(path: string, shown: string): Promise<Float32Array> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch {
    throw new CliError(`${shownPath(shown, path)}: cannot read the file`);
  }
  const digit = toMnistDigit(decodeImage(bytes, shown));
  if (!digit) throw new CliError(`${shown}: no digit found (the image is blank)`);
  return digit;
}

/**
 * `lenet-cli predict CHECKPOINT IMAGE...`: the class and the probabilities of each image, in
 * order. An image that cannot be read or holds no digit gets an error line on stderr in its
 * place and the others are still classified; the exit code is then 1.
 */
export async function predictCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const [ckpt, ...images] = args.positionals as [string, ...string[]];
  const path = await checkpointPath(ckpt, io.cwd);
  await useBackend(args.flags.backend ?? "cpu");
  const digits: Array<Float32Array | CliError> = [];
  for (const name of images) {
    try {
      digits.push(await digitFromFile(resolve(io.cwd, name), name));
    } catch (err) {
      if (!(err instanceof CliError)) throw err;
      digits.push(err);
    }
  }
  const good = digits.filter((d): d is Float32Array => d instanceof Float32Array);
  const inputs = new Float32Array(good.length * 784);
  good.forEach((d, i) => inputs.set(d, i * 784));
  const { model } = await loadModel(path);
  try {
    const probs = good.length > 0 ? await classProbabilities(model, inputs, good.length) : [];
    let next = 0;
    for (const [i, name] of images.entries()) {
      const d = digits[i]!;
      if (d instanceof CliError) {
        println(io.stderr, `lenet-cli: ${oneLine(d)}`);
        continue;
      }
      const p = probs[next++]!;
      let best = 0;
      for (let k = 1; k < p.length; k++) if (p[k]! > p[best]!) best = k;
      println(io.stdout, `${name}: ${best} (probability ${p[best]!.toFixed(4)})`);
      println(io.stdout, "  " + Array.from(p, (v, k) => `${k}: ${v.toFixed(4)}`).join("  "));
    }
    return good.length === images.length ? EXIT.ok : EXIT.failure;
  } finally {
    model.dispose();
  }
}
