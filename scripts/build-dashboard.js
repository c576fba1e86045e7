#!/usr/bin/env node
// `npm run build` (after tsc): bundles the dashboard (dashboard/) into dist/dashboard/: index.html, app.js,
// app.css. Minified, no source maps (the package ships none), no CDN: the admin listener serves all three.
// Deterministic: the same sources give the same bytes. `--outdir DIR` builds elsewhere (the browser tests).
import { copyFileSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const source = resolve(root, 'dashboard');

/** Builds into `outdir`, replacing it whole: a server reading it never sees a half-written build. */
export async function buildDashboard(outdir = resolve(root, 'dist', 'dashboard')) {
  const staging = `${outdir}.building-${String(process.pid)}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    await build({
      absWorkingDir: root,
      entryPoints: [
        { in: resolve(source, 'src', 'main.tsx'), out: 'app' },
        { in: resolve(source, 'src', 'styles.css'), out: 'app' },
      ],
      outdir: staging,
      bundle: true,
      minify: true,
      format: 'iife',
      // Chromium, Firefox and Safari of the last few years: what a Home Assistant frontend runs in.
      target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
      jsx: 'automatic',
      jsxImportSource: 'preact',
      tsconfig: resolve(source, 'tsconfig.json'),
      define: { 'process.env.NODE_ENV': '"production"' },
      legalComments: 'none',
      sourcemap: false,
      logLevel: 'warning',
    });
    copyFileSync(resolve(source, 'index.html'), resolve(staging, 'index.html'));
    rmSync(outdir, { recursive: true, force: true });
    renameSync(staging, outdir);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return outdir;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const flag = process.argv.indexOf('--outdir');
  const outdir = flag === -1 ? undefined : resolve(process.argv[flag + 1] ?? '');
  const built = await buildDashboard(outdir);
  process.stdout.write(`dashboard built in ${built}\n`);
}
