// Builds the dashboard into ui/dist, which the daemon serves (daemon/server/http.ts). Everything
// it needs (code, icons, map data) is in the bundle: no request leaves the box.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [svelte()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // The map's TopoJSON is one chunk of its own, loaded with the overview.
    chunkSizeWarningLimit: 300,
    reportCompressedSize: true,
  },
  server: {
    // `npx vite ui` during development, beside a running `vigie run --port 8090`.
    proxy: { '/api': { target: 'http://127.0.0.1:8090', ws: true }, '/metrics': 'http://127.0.0.1:8090' },
  },
});
