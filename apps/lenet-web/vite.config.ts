import { mnistAssets } from "./scripts/mnist-assets.js";
import { defineConfig } from "vite";

/**
 * Cross-origin isolation: with these headers the page may share WebAssembly memory with a
 * worker, so the CPU backend runs its kernels on two threads (one thread without them).
 */
export const ISOLATION_HEADERS = { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" };

export default defineConfig({
  // relative asset URLs: the built app works from any folder of a static server
  base: "./",
  plugins: [mnistAssets()],
  worker: { format: "es" },
  build: { target: "es2022", chunkSizeWarningLimit: 1024 },
  server: { headers: ISOLATION_HEADERS },
  preview: { headers: ISOLATION_HEADERS },
});
