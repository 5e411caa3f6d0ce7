/**
 * The dashboard's build: `vite build web` writes web/dist, which the gateway serves at `/`.
 * `vite web` is the dev loop; /api goes to a gateway on 127.0.0.1:8787 (TOLLGATE_DEV_API overrides).
 */
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { precompress } from './precompress.ts';

const api = process.env['TOLLGATE_DEV_API'] ?? 'http://127.0.0.1:8787';

export default defineConfig({
  base: '/',
  plugins: [react(), precompress()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // ECharts alone is ~400 kB minified; it sits in its own lazily loaded chunk.
    chunkSizeWarningLimit: 700,
  },
  server: {
    // The Host header is kept (no changeOrigin): the gateway's CSRF check compares Origin with Host.
    proxy: { '/api': { target: api } },
  },
});
