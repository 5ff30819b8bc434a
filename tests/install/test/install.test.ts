import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { packAll, tempFolder } from "./packages.js";

// What a user does: npm-install the published tarballs into an empty project (outside the
// workspace) and train a small conv net through the public API only.
const program = `
import "@tessera/backend-cpu";
import "@tessera/autograd";
import * as T from "@tessera/tensor";
import { Conv2d, Flatten, Linear, MaxPool2d, Sequential, SGD, Tanh, crossEntropyLoss } from "@tessera/nn";

const rng = new T.RandomState(5);
// Two classes of 8x8 images: a bright bar either horizontal or vertical.
const n = 64;
const images = new Float32Array(n * 64);
const labels = new Int32Array(n);
for (let i = 0; i < n; i++) {
  labels[i] = i % 2;
  const at = 1 + (i % 6);
  for (let k = 0; k < 8; k++) images[i * 64 + (labels[i] ? k * 8 + at : at * 8 + k)] = 1;
  for (let k = 0; k < 64; k++) images[i * 64 + k] += 0.1 * rng.randomSample();
}
const x = T.tensor(images, { shape: [n, 1, 8, 8] });
const y = T.tensor(labels);
const model = new Sequential(new Conv2d(1, 4, 3, { generator: rng }), new MaxPool2d(2), new Tanh(), new Flatten(), new Linear(36, 2, { generator: rng }));
const optimizer = new SGD(model.parameters(), { lr: 0.5, momentum: 0.9 });
let loss = Infinity;
for (let step = 0; step < 60; step++) {
  loss = T.tidy(() => {
    const l = crossEntropyLoss(model.forward(x), y);
    l.backward();
    optimizer.step();
    optimizer.zeroGrad();
    return l.item();
  });
}
const accuracy = T.tidy(() => T.mean(T.cast(T.equal(T.argmax(model.forward(x), 1), y), "float32")).item());
console.log(JSON.stringify({ loss, accuracy, tensors: T.memory().tensors }));
`;

describe("installed from tarballs with npm", () => {
  it("trains a small conv net through the public API", () => {
    const packed = packAll();
    const user = tempFolder("tessera-user-");
    onTestFinished(() => {
      packed.remove();
      user.remove();
    });
    const { tarballs } = packed;
    const project = user.dir;
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "user-project", private: true, type: "module" }));
    const wanted = ["@tessera/tensor", "@tessera/autograd", "@tessera/backend-cpu", "@tessera/nn"].map((n) => tarballs.get(n)!);
    execFileSync("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", ...wanted], { cwd: project, stdio: "pipe" });
    writeFileSync(join(project, "train.mjs"), program);
    const out = execFileSync(process.execPath, ["train.mjs"], { cwd: project, encoding: "utf8" });
    const result = JSON.parse(out.trim().split("\n").pop()!);
    expect(result.loss).toBeLessThan(0.1);
    expect(result.accuracy).toBe(1);
  });
});
