import tailwindcss from "@tailwindcss/vite";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";
import { kilnSource } from "./kiln/source-plugin.ts";

// Kiln runs this dev server in a sandbox and shows it at http://<project>--<org>.localhost:4000 through a
// proxy. Read KILN.md before changing the `server` block: the preview depends on it.
const port = Number(process.env.PORT) || 3000;
const hmrClientPort = Number(process.env.KILN_HMR_CLIENT_PORT) || undefined;

export default defineConfig({
  // kilnSource: dev only, marks each JSX element with its file and line for the studio's element picker.
  plugins: [kilnSource(), react(), tailwindcss()],
  // node_modules may be a shared, read-only dependency cache: keep Vite's own cache in the project.
  cacheDir: ".kiln/vite",
  server: {
    host: process.env.HOST || "0.0.0.0",
    port,
    strictPort: true,
    // The preview proxy forwards the browser's Host header (<project>--<org>.localhost).
    allowedHosts: true,
    // Without a client port, the HMR client connects to the page's own origin (the proxy), which
    // forwards the WebSocket upgrade. Set KILN_HMR_CLIENT_PORT only when the proxy listens elsewhere.
    ...(hmrClientPort ? { ws: { clientPort: hmrClientPort } } : {}),
  },
  preview: { host: process.env.HOST || "0.0.0.0", port, strictPort: true, allowedHosts: true },
});
