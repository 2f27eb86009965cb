/// <reference types="vitest/config" />
// Vite builds the UI into internal/webui/dist, which the Go binary embeds.
// `npm run dev` serves it with hot reload and proxies the API to a running
// master: HORDE_API=http://127.0.0.1:8089 by default.
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { defineConfig, type Plugin } from "vite";

const api = process.env.HORDE_API ?? "http://127.0.0.1:8089";
const outDir = resolve(import.meta.dirname, "../internal/webui/dist");

// keepPlaceholder puts back the committed, empty dist/.gitkeep that
// emptyOutDir removes, so a build leaves git's view of the tree unchanged.
function keepPlaceholder(): Plugin {
  return {
    name: "horde-keep-gitkeep",
    apply: "build",
    closeBundle() {
      writeFileSync(resolve(outDir, ".gitkeep"), "");
    },
  };
}

export default defineConfig({
  // Relative asset URLs, so the UI also works behind a proxy under a path prefix.
  base: "./",
  plugins: [keepPlaceholder()],
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir,
    emptyOutDir: true,
    assetsDir: "assets",
    chunkSizeWarningLimit: 400,
  },
  server: {
    proxy: { "/api": { target: api, changeOrigin: true } },
  },
  test: { environment: "node", include: ["src/**/*.test.ts"] },
});
