// Writes assets/rgb-pattern.png, the picture `lenet-cli demo conv` uses when given none: a
// synthetic 128x128 RGB pattern (a red disc, green diagonal stripes, a blue square on a soft
// vertical gradient) with edges in every direction for the random filters to respond to.
// Run: node scripts/make-demo-image.mjs
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import pngjs from "pngjs";

const { PNG } = pngjs;
const size = 128;
const png = new PNG({ width: size, height: size });
for (let y = 0; y < size; y++) {
  for (let x = 0; x < size; x++) {
    const bg = 200 - Math.round((y / size) * 80);
    let rgb = [bg, bg, Math.min(255, bg + 30)];
    if ((x + y) % 24 < 8 && x > 64) rgb = [40, 170, 60];
    if (x >= 16 && x < 56 && y >= 72 && y < 112) rgb = [40, 70, 200];
    if ((x - 44) ** 2 + (y - 40) ** 2 < 26 ** 2) rgb = [210, 40, 40];
    const i = (y * size + x) * 4;
    png.data[i] = rgb[0];
    png.data[i + 1] = rgb[1];
    png.data[i + 2] = rgb[2];
    png.data[i + 3] = 255;
  }
}
const out = fileURLToPath(new URL("../assets/rgb-pattern.png", import.meta.url));
writeFileSync(out, PNG.sync.write(png, { colorType: 2 }));
console.log(`wrote ${out}`);
