import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import jpeg from "jpeg-js";
import pngjs from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PANEL_GAP, convOpLayer } from "../src/demos/convop.js";
import { formatMatrix, numpyFormatter } from "../src/demos/numpy-format.js";
import { decodeImage, encodePng } from "../src/images/raster.js";
import { cli, tempDir } from "./helpers.js";

const { PNG } = pngjs;

/**
 * The output block of the chapter's max-pooling example, as shared/seed/lenet-tutorial.rst shows
 * it (its reStructuredText rendering collapsed numpy's runs of spaces and indentation).
 */
const CHAPTER_OUTPUT = `
With ignore_border set to True:
invals[0,0,:,:] =
[[ 4.17022005e-01 7.20324493e-01 1.14374817e-04 3.02332573e-01 1.46755891e-01]
[ 9.23385948e-02 1.86260211e-01 3.45560727e-01 3.96767474e-01 5.38816734e-01]
[ 4.19194514e-01 6.85219500e-01 2.04452250e-01 8.78117436e-01 2.73875932e-02]
[ 6.70467510e-01 4.17304802e-01 5.58689828e-01 1.40386939e-01 1.98101489e-01]
[ 8.00744569e-01 9.68261576e-01 3.13424178e-01 6.92322616e-01 8.76389152e-01]]
output[0,0,:,:] =
[[ 0.72032449 0.39676747]
[ 0.6852195 0.87811744]]
With ignore_border set to False:
invals[1,0,:,:] =
[[ 0.01936696 0.67883553 0.21162812 0.26554666 0.49157316]
[ 0.05336255 0.57411761 0.14672857 0.58930554 0.69975836]
[ 0.10233443 0.41405599 0.69440016 0.41417927 0.04995346]
[ 0.53589641 0.66379465 0.51488911 0.94459476 0.58655504]
[ 0.90340192 0.1374747 0.13927635 0.80739129 0.39767684]]
output[1,0,:,:] =
[[ 0.67883553 0.58930554 0.69975836]
[ 0.66379465 0.94459476 0.58655504]
[ 0.90340192 0.80739129 0.39767684]]
`;

/** Lines with runs of white space collapsed and ends trimmed, as the chapter's rendering shows them. */
const normalise = (text: string) =>
  text
    .split("\n")
    .map((l) => l.trim().replace(/\s+/g, " "))
    .filter(Boolean);

describe("demo maxpool", () => {
  it("prints the chapter's example line for line and digit for digit", async () => {
    const r = await cli(["demo", "maxpool"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(normalise(r.stdout)).toEqual(normalise(CHAPTER_OUTPUT));
  });

  it("matches the copy of the chapter in shared/, when it is there", async () => {
    let rst: string;
    try {
      rst = await readFile(join(__dirname, "../../../../shared/seed/lenet-tutorial.rst"), "utf8");
    } catch {
      return; // outside the project's workspace
    }
    const start = rst.indexOf("With ignore_border set to True:\ninvals");
    const end = rst.indexOf("Note that contrary to most Theano code");
    expect(start).toBeGreaterThan(0);
    expect(normalise(rst.slice(start, end))).toEqual(normalise(CHAPTER_OUTPUT));
  });

  it("prints numpy's own layout: aligned columns, a sign column, trailing zeros blanked", async () => {
    const r = await cli(["demo", "maxpool"]);
    expect(r.stdout).toContain("[[ 0.72032449  0.39676747]\n [ 0.6852195   0.87811744]]");
    expect(r.stdout).toContain(" [ 0.90340192  0.1374747   0.13927635  0.80739129  0.39767684]]");
  });
});

describe("numpy formatting", () => {
  it("switches to scientific notation for small or widely spread values", () => {
    expect(numpyFormatter([0.5, 1.14374817e-4])(0.5)).toBe(" 5.00000000e-01");
    expect(numpyFormatter([1, 2000])(1)).toBe(" 1.00000000e+00");
    expect(numpyFormatter([0.5, 0.001])(0.5)).toBe(" 0.5  ");
    expect(numpyFormatter([0.5, 0.001])(0.001)).toBe(" 0.001");
    expect(formatMatrix([[0.25, -0.5]])).toBe("[[ 0.25 -0.5 ]]");
  });
});

describe("demo conv", () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    tmp = await tempDir();
  });
  afterAll(async () => tmp.cleanup());

  it("draws the chapter's filters: W ~ U(+-1/sqrt(243)), then b ~ U(-0.5, 0.5)", () => {
    const { weight, bias } = convOpLayer();
    expect(weight.length).toBe(2 * 3 * 9 * 9);
    const bound = 1 / Math.sqrt(243);
    expect(Math.max(...weight)).toBeLessThan(bound);
    expect(Math.min(...weight)).toBeGreaterThanOrEqual(-bound);
    expect(bias.length).toBe(2);
    expect(Math.max(...bias.map(Math.abs))).toBeLessThan(0.5);
  });

  it("writes one PNG: the bundled picture and its two filtered maps side by side", async () => {
    const r = await cli(["demo", "conv", "--out", tmp.dir]);
    expect(r.code).toBe(0);
    // Convolution against cross-correlation, in two sentences.
    expect(r.stdout).toContain(
      "Cross-correlation (conv2d in Tessera and PyTorch) slides each filter over the image as it is; convolution (Theano's conv2d, which the tutorial used) first flips the filter on both spatial axes.\n" +
        "So a cross-correlation with each filter flipped computes the convolution with the filters as drawn",
    );
    const png = PNG.sync.read(await readFile(join(tmp.dir, "convop-demo.png")));
    expect([png.width, png.height]).toEqual([3 * 128 + 2 * PANEL_GAP, 128]);
    // The maps are stretched to the full grey range and grey (r = g = b).
    const px = (x: number, y: number) => [...png.data.subarray((y * png.width + x) * 4, (y * png.width + x) * 4 + 3)];
    const map0 = [];
    for (let y = 4; y < 124; y++) for (let x = 128 + PANEL_GAP + 4; x < 2 * 128 + PANEL_GAP - 4; x++) map0.push(px(x, y));
    expect(map0.every(([r, g, b]) => r === g && g === b)).toBe(true);
    expect(Math.min(...map0.map((p) => p[0]!))).toBe(0);
    expect(Math.max(...map0.map((p) => p[0]!))).toBe(255);
    expect(px(44, 40)).toEqual([210, 40, 40]); // the original's red disc
  });

  it("takes a picture of any size, PNG or JPEG, from the command line", async () => {
    const w = 40;
    const h = 30;
    const data = new Uint8Array(w * h * 4).map((_, i) => (i % 4 === 3 ? 255 : (i * 37) % 256));
    await writeFile(join(tmp.dir, "in.png"), encodePng({ width: w, height: h, data }));
    const r = await cli(["demo", "conv", "in.png", "--out", "pics"], { cwd: tmp.dir });
    expect(r.code).toBe(0);
    const png = PNG.sync.read(await readFile(join(tmp.dir, "pics", "convop-demo.png")));
    expect([png.width, png.height]).toEqual([3 * w + 2 * PANEL_GAP, h]);

    // A JPEG of another size (a smooth gradient, so the encoder keeps it close): its decoded
    // pixels are the left panel, and the maps are drawn beside them.
    const [jw, jh] = [36, 44];
    const rgba = new Uint8Array(jw * jh * 4);
    for (let y = 0; y < jh; y++) for (let x = 0; x < jw; x++) rgba.set([x * 7, y * 5, 128, 255], (y * jw + x) * 4);
    const jpegBytes = new Uint8Array(jpeg.encode({ width: jw, height: jh, data: rgba }, 90).data);
    await writeFile(join(tmp.dir, "in.jpg"), jpegBytes);
    const rj = await cli(["demo", "conv", "in.jpg", "--out", "jpics"], { cwd: tmp.dir });
    expect(rj.stderr).toBe("");
    expect(rj.code).toBe(0);
    expect(rj.stdout).toContain(`input ${jw}x${jh} (in.jpg)`);
    const out = PNG.sync.read(await readFile(join(tmp.dir, "jpics", "convop-demo.png")));
    expect([out.width, out.height]).toEqual([3 * jw + 2 * PANEL_GAP, jh]);
    const decoded = decodeImage(jpegBytes, "in.jpg");
    for (let y = 0; y < jh; y++) {
      const row = (img: { data: Uint8Array | Buffer }, width: number) => [...img.data.subarray(y * width * 4, (y * width + jw) * 4)];
      expect(row(out, out.width), `row ${y}`).toEqual(row(decoded, jw));
    }
    expect(Math.abs(out.data[(10 * out.width + 10) * 4]! - 70)).toBeLessThan(12); // red = 7x, near what was encoded
    const map0 = [...out.data.subarray((20 * out.width + jw + PANEL_GAP + 18) * 4, (20 * out.width + jw + PANEL_GAP + 18) * 4 + 3)];
    expect(map0[0] === map0[1] && map0[1] === map0[2]).toBe(true); // a grey map pixel
  });

  it("ends with exit code 130 as soon as Ctrl-C aborts the signal, without waiting for the demo", async () => {
    const stop = new AbortController();
    const running = cli(["demo", "conv", "--out", join(tmp.dir, "stopped")], { signal: stop.signal });
    stop.abort();
    const r = await running;
    expect(r.code).toBe(130);
    expect(r.stderr).toBe("lenet-cli: interrupted\n");
    expect(r.stdout).toBe("");
  });

  it("refuses a missing or undecodable picture with exit code 1", async () => {
    const missing = await cli(["demo", "conv", "nope.png"], { cwd: tmp.dir });
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe(`lenet-cli: nope.png (${join(tmp.dir, "nope.png")}): cannot read the image`);
    await import("node:fs/promises").then((fs) => fs.writeFile(join(tmp.dir, "junk.png"), "not an image"));
    const junk = await cli(["demo", "conv", "junk.png"], { cwd: tmp.dir });
    expect(junk.code).toBe(1);
    expect(junk.stderr.trim()).toBe("lenet-cli: junk.png: not a PNG or JPEG image");
  });
});
