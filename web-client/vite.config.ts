/// <reference types="vitest/config" />
import { defineConfig } from 'vite';

// Plenum's web client. Vite transpiles TSX itself (automatic JSX runtime from tsconfig "jsx": "react-jsx");
// the built dist/ is embedded and served by the `plenum` binary, so every asset path is absolute ("/").
export default defineConfig({
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // No inline scripts or data: URLs (strict CSP: default-src 'self').
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  server: {
    // `npm run dev` against a local `plenum serve` on the default address.
    proxy: { '/ws': { target: 'ws://127.0.0.1:8080', ws: true } },
  },
  test: {
    environment: 'node',
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx'],
  },
});
