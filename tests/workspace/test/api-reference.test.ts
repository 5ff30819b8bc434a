import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Application, type DeclarationReflection, type ProjectReflection, ReflectionKind, TSConfigReader, TypeDocReader } from "typedoc";
import { beforeAll, describe, expect, it } from "vitest";
import { root } from "./scratch.js";

// The API reference as `pnpm api-docs` makes it (TypeDoc with typedoc.json, over the built
// declarations: turbo builds the packages before this test), checked for what users import.
const published = readdirSync(join(root, "packages"))
  .map((name) => ({ dir: join(root, "packages", name), manifest: join(root, "packages", name, "package.json") }))
  .filter((p) => existsSync(p.manifest))
  .map((p) => ({ ...p, pkg: JSON.parse(readFileSync(p.manifest, "utf8")) as { name: string; private?: boolean; exports: Record<string, unknown> } }))
  .filter((p) => !p.pkg.private);

const described = (r: DeclarationReflection) =>
  [r.comment, ...(r.signatures ?? []).map((s) => s.comment), ...(r.getSignature ? [r.getSignature.comment] : [])].some(
    (c) => c?.summary.some((part) => part.text.trim().length > 0) === true,
  );

describe("the API reference", () => {
  let project: ProjectReflection;
  beforeAll(async () => {
    for (const p of published) expect(existsSync(join(p.dir, "dist", "index.d.ts")), `${p.pkg.name} is built (pnpm build)`).toBe(true);
    const app = await Application.bootstrapWithPlugins({ options: join(root, "typedoc.json"), logLevel: "Error" }, [new TypeDocReader(), new TSConfigReader()]);
    const converted = await app.convert();
    expect(converted, "TypeDoc converted the packages").toBeDefined();
    project = converted!;
  });

  it("has a module for every entry point of every published package", () => {
    const modules = new Set(project.getReflectionsByKind(ReflectionKind.Module).map((m) => m.name));
    const wanted = published.flatMap((p) => Object.keys(p.pkg.exports).map((subpath) => `${p.pkg.name}${subpath.slice(1)}`));
    expect(wanted).toContain("@tessera/tensor/testing");
    expect(wanted).toContain("@tessera/autograd/testing");
    expect(wanted.filter((w) => !modules.has(w))).toEqual([]);
  });

  it("describes every function and method", () => {
    const kinds = ReflectionKind.Function | ReflectionKind.Method | ReflectionKind.Accessor;
    const all = project.getReflectionsByKind(kinds) as DeclarationReflection[];
    expect(all.length).toBeGreaterThan(300);
    const silent = all.filter((r) => !r.flags.isExternal && !described(r)).map((r) => r.getFullName());
    expect(silent).toEqual([]);
  });

  it("lists no function as a variable", () => {
    const variables = project.getReflectionsByKind(ReflectionKind.Variable) as DeclarationReflection[];
    const functions = variables.filter((v) => v.type?.type === "reflection" && (v.type.declaration.signatures?.length ?? 0) > 0).map((v) => v.getFullName());
    expect(functions).toEqual([]);
    const names = new Set(project.getReflectionsByKind(ReflectionKind.Function).map((f) => f.getFullName()));
    for (const op of ["sum", "prod", "max", "min", "argmax", "argmin"]) expect(names).toContain(`@tessera/tensor.@tessera/tensor.${op}`);
  });
});
