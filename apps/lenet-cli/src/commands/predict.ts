import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { ParsedArgs } from "../cli/args.js";
import { CliError, EXIT } from "../cli/errors.js";
import { type CliIo, println } from "../cli/io.js";
import { useBackend } from "../backend/select.js";
import { toMnistDigit } from "@tessera/datasets";
import { decodeImage } from "../images/raster.js";
import { classProbabilities } from "../train/evaluate.js";
import { checkpointPath, loadModel } from "./model-file.js";

/** An image file made into a 28x28 MNIST input. */
export async function digitFromFile(path: string, shown: string): Promise<Float32Array> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch {
    throw new CliError(`${shown}: cannot read the file`);
  }
  const digit = toMnistDigit(decodeImage(bytes, shown));
  if (!digit) throw new CliError(`${shown}: no digit found (the image is blank)`);
  return digit;
}

/** `lenet-cli predict CHECKPOINT IMAGE...`: the class and the probabilities of each image. */
export async function predictCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const [ckpt, ...images] = args.positionals as [string, ...string[]];
  const path = await checkpointPath(ckpt, io.cwd);
  await useBackend(args.flags.backend ?? "cpu");
  const inputs = new Float32Array(images.length * 784);
  for (const [i, name] of images.entries()) inputs.set(await digitFromFile(resolve(io.cwd, name), name), i * 784);
  const { model } = await loadModel(path);
  try {
    const probs = await classProbabilities(model, inputs, images.length);
    for (const [i, name] of images.entries()) {
      const p = probs[i]!;
      let best = 0;
      for (let k = 1; k < p.length; k++) if (p[k]! > p[best]!) best = k;
      println(io.stdout, `${name}: ${best} (probability ${p[best]!.toFixed(4)})`);
      println(io.stdout, "  " + Array.from(p, (v, k) => `${k}: ${v.toFixed(4)}`).join("  "));
    }
    return EXIT.ok;
  } finally {
    model.dispose();
  }
}
