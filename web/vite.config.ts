import { defineConfig } from 'vite';

/**
 * The dashboard is static files that `tally serve` hands out at `/`; nothing
 * is loaded from the network. Build with `vite build web`, the folder being
 * the root.
 */
export default defineConfig({
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 1200,
  },
  logLevel: 'warn',
});
