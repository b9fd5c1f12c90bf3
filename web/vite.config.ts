import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The dev server proxies the API to a running gateway (`datalab up`), so the UI talks to the real thing.
const gateway = process.env.DATALAB_GATEWAY_URL ?? 'http://127.0.0.1:8000';
const proxied = ['/api', '/docs', '/health', '/metrics', '/openapi.json'];

export default defineConfig({
  plugins: [react()],
  server: {
    port: Number(process.env.WEB_DEV_PORT ?? 5173),
    proxy: Object.fromEntries(proxied.map((prefix) => [prefix, { target: gateway, changeOrigin: false }])),
  },
  build: {
    outDir: 'dist',
    sourcemap: false,
    chunkSizeWarningLimit: 1200,
    rolldownOptions: {
      output: {
        // Vega and CodeMirror are large and change rarely: their own chunks, loaded only by the pages that use them.
        codeSplitting: {
          groups: [
            { name: 'vega', test: /node_modules[\\/](vega|vega-[a-z-]+|d3-[a-z-]+|topojson-client)[\\/]/ },
            {
              name: 'codemirror',
              test: /node_modules[\\/](@codemirror|@lezer|codemirror|style-mod|w3c-keyname|crelt)[\\/]/,
            },
          ],
        },
      },
    },
  },
});
