import { existsSync, readFileSync, readdirSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyFromRepo, linkPackageModules, linkRepoModules, root, scratchDir, sh, transcript } from "./scratch.js";

// `pnpm pack` on a fresh clone: a scratch workspace with @tessera/tensor (no dist/) and a
// private example, the repository's prepack script, and the repository's tools.
describe("pnpm pack", () => {
  let scratch: ReturnType<typeof scratchDir>;
  const tensor = () => join(scratch.dir, "packages", "tensor");
  const packed = () => join(scratch.dir, "packed");
  const pack = (cwd: string) => sh(`pnpm pack --pack-destination ${packed()}`, cwd);
  const files = (tarball: string) => sh(`tar -tzf ${tarball}`, scratch.dir).stdout.trim().split("\n");

  beforeAll(() => {
    scratch = scratchDir("tessera-pack-test-");
    copyFromRepo(scratch.dir, [
      "package.json",
      "pnpm-workspace.yaml",
      "tsconfig.base.json",
      "scripts/prepack.mjs",
      "packages/tensor",
      "examples/mnist/package.json",
    ]);
    linkRepoModules(scratch.dir);
    linkPackageModules(scratch.dir, ["packages/tensor"]);
    expect(existsSync(join(tensor(), "dist"))).toBe(false);
  });
  afterAll(() => scratch.remove());

  it("builds a package that was never built, so the tarball holds its code", () => {
    const r = pack(tensor());
    expect(r.status, transcript("pnpm pack", r)).toBe(0);
    expect(r.stderr).toContain("prepack: building @tessera/tensor (no dist/ yet)");
    const [tarball] = readdirSync(packed());
    expect(tarball).toBe("tessera-tensor-0.1.0.tgz");
    const contents = files(join(packed(), tarball!));
    expect(contents).toContain("package/dist/index.js");
    expect(contents).toContain("package/dist/index.d.ts");
    expect(contents).toContain("package/dist/testing/index.js");
  });

  it("does not rebuild an up-to-date package, and rebuilds one whose sources changed", () => {
    const again = pack(tensor());
    expect(again.status, transcript("pnpm pack", again)).toBe(0);
    expect(again.stderr).not.toContain("prepack: building");
    const source = join(tensor(), "src", "index.ts");
    const later = new Date(Date.now() + 60_000);
    utimesSync(source, later, later);
    const changed = pack(tensor());
    expect(changed.status, transcript("pnpm pack", changed)).toBe(0);
    expect(changed.stderr).toContain("prepack: building @tessera/tensor (dist/ is older than src/)");
  });

  it("refuses, saying why, when the build fails", () => {
    writeFileSync(join(tensor(), "src", "broken.ts"), "export const x: number = 'not a number';\n");
    const r = pack(tensor());
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("prepack: building @tessera/tensor failed, so it is not packed");
  });

  it("refuses to pack a private package, naming the command that packs the published ones", () => {
    const before = readdirSync(packed());
    const r = pack(join(scratch.dir, "examples", "mnist"));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("prepack: @tessera/example-mnist is private (not published), so it is not packed");
    expect(r.stderr).toContain('pnpm -r --filter "./packages/*" pack');
    expect(readdirSync(packed())).toEqual(before);
  });

  it("is the prepack of every workspace package", () => {
    for (const group of ["packages", "apps", "examples", "tests", "benchmarks"]) {
      for (const name of readdirSync(join(root, group))) {
        const manifest = join(root, group, name, "package.json");
        if (!existsSync(manifest)) continue;
        expect(JSON.parse(readFileSync(manifest, "utf8")).scripts?.prepack, manifest).toBe("node ../../scripts/prepack.mjs");
      }
    }
  });
});
