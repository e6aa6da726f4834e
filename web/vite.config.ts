// The dashboard builds to static files in dist/ that normbase-server serves
// (--web.root); nothing of Node runs in production. `npm run dev` proxies the
// API to a local server for development.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // ECharts (only the charts used, see src/charts.ts) is most of the bundle.
    chunkSizeWarningLimit: 1500,
  },
  server: {
    proxy: {
      '/api': { target: process.env.NORMBASE_URL ?? 'http://127.0.0.1:8080', ws: true },
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
  },
});
