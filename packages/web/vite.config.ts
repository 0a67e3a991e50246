import tailwindcss from "@tailwindcss/vite";
import { tanstackRouter } from "@tanstack/router-plugin/vite";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

/** `npm run dev -w packages/web` proxies the API to a Kiln on :4000 (`npm start`). */
const KILN = process.env.KILN_URL ?? "http://localhost:4000";

export default defineConfig({
  plugins: [
    // Generates src/routeTree.gen.ts from src/routes (committed, so `tsc` works before a build).
    tanstackRouter({
      target: "react",
      autoCodeSplitting: true,
      quoteStyle: "double",
      semicolons: true,
      addExtensions: true,
    }),
    react(),
    tailwindcss(),
  ],
  worker: { format: "es" },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    // Monaco is one large lazily loaded chunk by design; the initial bundle is what is budgeted.
    chunkSizeWarningLimit: 5000,
    reportCompressedSize: false,
    // Monaco's workers make the build slow by nature; the timing report says so on every build.
    rolldownOptions: { checks: { bundlerTimings: false } },
  },
  server: {
    proxy: {
      "/api": {
        target: KILN,
        ws: true,
        changeOrigin: true,
        // The terminal socket only accepts the studio's own origin (the Kiln public URL).
        configure: (proxy) => {
          proxy.on("proxyReqWs", (req) => req.setHeader("origin", new URL(KILN).origin));
        },
      },
      "/health": KILN,
    },
  },
});
