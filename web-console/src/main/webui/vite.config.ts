import { defineConfig } from 'vite';

// Built by Maven (web-console/pom.xml runs `npm ci` and `npm run build`) straight into the Quarkus
// static-resources folder, so the jar serves it at / with nothing fetched from a CDN at run time.
export default defineConfig({
  base: '/',
  build: {
    outDir: '../../../target/classes/META-INF/resources',
    emptyOutDir: true,
    chunkSizeWarningLimit: 400,
  },
});
