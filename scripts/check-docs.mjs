#!/usr/bin/env node
// Lists every exported symbol of the published packages that has no TSDoc comment, and fails if
// any does. Run with `pnpm run check-docs`.
import { createRequire } from "node:module";
import { join } from "node:path";

const require = createRequire(import.meta.url);
const ts = require("typescript");
const root = new URL("..", import.meta.url).pathname;
const entries = ["tensor", "autograd", "backend-cpu", "backend-webgpu", "nn", "datasets"].flatMap((p) => {
  const files = [join(root, "packages", p, "src/index.ts")];
  if (p === "tensor" || p === "autograd") files.push(join(root, "packages", p, "src/testing/index.ts"), join(root, "packages", p, "src/testing/portable.ts"));
  if (p === "datasets" || p === "nn") files.push(join(root, "packages", p, "src/browser.ts"));
  return files;
});
const program = ts.createProgram(entries, {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  customConditions: ["@tessera/source"],
  types: ["node", "@webgpu/types"],
  typeRoots: [join(root, "node_modules/@types"), join(root, "packages/backend-webgpu/node_modules/@webgpu")],
  skipLibCheck: true,
  noEmit: true,
});
const checker = program.getTypeChecker();
const missing = [];
for (const entry of entries) {
  const source = program.getSourceFile(entry);
  const moduleSymbol = source && checker.getSymbolAtLocation(source);
  if (!moduleSymbol) continue;
  for (const exported of checker.getExportsOfModule(moduleSymbol)) {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    // A comment on the declaration, or on the `export * as name` statement that re-exports a module.
    const documented =
      symbol.getDocumentationComment(checker).length > 0 ||
      (symbol.declarations ?? []).some((d) => ts.getJSDocCommentsAndTags(d).length > 0) ||
      (exported.declarations ?? []).some((d) => d.parent && ts.isExportDeclaration(d.parent) && ts.getJSDocCommentsAndTags(d.parent).length > 0);
    if (!documented) missing.push(`${entry.replace(root, "")}: ${exported.getName()}`);
  }
}
for (const m of missing) console.log(`undocumented export ${m}`);
console.log(`${missing.length} undocumented exports`);
process.exitCode = missing.length > 0 ? 1 : 0;
