import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import react from '@vitejs/plugin-react';
import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';

// The gateway serves dist/ at `/` and the services under `/api`, so the dev server proxies `/api` to it.
const gateway = process.env.STOREFRONT_GATEWAY_URL ?? 'http://127.0.0.1:8080';

/** Writes `.gz` and `.br` beside every text asset, so the gateway serves them precompressed at the
 *  highest levels (nginx `gzip_static` / `brotli_static`) without compressing per request. */
function precompress(): Plugin {
  let outDir = 'dist';
  return {
    name: 'storefront-precompress',
    apply: 'build',
    configResolved(config) {
      outDir = config.build.outDir;
    },
    closeBundle() {
      const walk = (dir: string) => {
        for (const name of readdirSync(dir)) {
          const path = join(dir, name);
          if (statSync(path).isDirectory()) {
            walk(path);
          } else if (/\.(js|css|html|svg|json|txt)$/.test(name) && statSync(path).size >= 512) {
            const data = readFileSync(path);
            writeFileSync(`${path}.gz`, gzipSync(data, { level: 9 }));
            writeFileSync(`${path}.br`, brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
          }
        }
      };
      walk(outDir);
    },
  };
}

export default defineConfig({
  plugins: [react(), precompress()],
  server: { proxy: { '/api': gateway } },
  build: {
    target: 'es2022',
    sourcemap: false,
    // Hashed file names under assets/ are cached for a year by the gateway.
    assetsDir: 'assets',
    chunkSizeWarningLimit: 600,
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['src/test/setup.ts'],
    css: false,
  },
});
