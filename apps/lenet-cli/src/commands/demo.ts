import { mkdir, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { writeFileAtomic } from "@tessera/nn";
import type { ParsedArgs } from "../cli/args.js";
import { CliError, EXIT, oneLine } from "../cli/errors.js";
import { type CliIo, println } from "../cli/io.js";
import { shownPath } from "../cli/user-paths.js";
import { useBackend } from "../backend/select.js";
import { CONVOLUTION_NOTE } from "../demos/convolution-note.js";
import { convOpMaps, convOpPicture } from "../demos/convop.js";
import { maxPoolDemoText } from "../demos/maxpool.js";
import { decodeImage, encodePng } from "../images/raster.js";
import { demoImagePath } from "../paths.js";

/** The file `demo conv` writes. */
export const CONV_DEMO_FILE = "convop-demo.png";

/** `lenet-cli demo maxpool` and `lenet-cli demo conv [IMAGE]`. */
export async function demoCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const [which, image] = args.positionals;
  if (which === "maxpool") {
    await useBackend("cpu");
    println(io.stdout, maxPoolDemoText());
    return EXIT.ok;
  }
  await useBackend(args.flags.backend ?? "cpu");
  const source = image !== undefined ? resolve(io.cwd, image) : demoImagePath();
  let bytes: Uint8Array;
  try {
    bytes = await readFile(source);
  } catch {
    throw new CliError(`${image === undefined ? source : shownPath(image, source)}: cannot read the image`);
  }
  const img = decodeImage(bytes, image ?? source);
  let maps: Awaited<ReturnType<typeof convOpMaps>>;
  try {
    maps = await convOpMaps(img);
  } catch (err) {
    throw new CliError(`demo conv: ${oneLine(err)}`);
  }
  const picture = convOpPicture(img, maps);
  const outDir = resolve(io.cwd, args.flags.out ?? ".");
  await mkdir(outDir, { recursive: true });
  const path = join(outDir, CONV_DEMO_FILE);
  await writeFileAtomic(path, encodePng(picture));
  println(io.stdout, `input ${img.width}x${img.height} (${image ?? "the bundled test pattern"}), two 9x9 filters from RandomState(23455), sigmoid(conv + b)`);
  println(io.stdout, `wrote ${path} (${picture.width}x${picture.height}: original | filter 0 | filter 1)`);
  for (const sentence of CONVOLUTION_NOTE) println(io.stdout, sentence);
  println(io.stdout, "This demo flips its two filters, so its maps are the ones the chapter's Theano code drew.");
  return EXIT.ok;
}
