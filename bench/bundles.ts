import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';
import { bundledEntry } from '../lib/infra/consumer-function.ts';

/** A bundle as the stack deploys it, and what it weighs. */
export interface Bundle {
  /** Path of the bundled module, `index.mjs`. */
  readonly file: string;
  readonly bytes: number;
  /** Size once gzipped (level 9), close to what the deployment zip holds. */
  readonly gzipBytes: number;
  /** Bytes each package (or `(project)`) adds, largest first. */
  readonly packages: readonly PackageShare[];
}

export interface PackageShare {
  readonly name: string;
  readonly bytes: number;
}

/**
 * Bundles a Lambda entry into `outdir/index.mjs` with the settings the
 * stack gives its functions (`bundledEntry` of lib/infra), mapped onto
 * esbuild's options as aws-lambda-nodejs maps them: bundled, minified,
 * ES module for node24 on platform node, external source map, the
 * `module` field first and the `require` banner, nothing external.
 */
export async function bundleLikeTheStack(
  entry: string,
  outdir: string,
): Promise<Bundle> {
  const { bundling } = bundledEntry(entry);
  const file = join(outdir, 'index.mjs');
  const result = await build({
    entryPoints: [entry],
    outfile: file,
    bundle: true,
    platform: 'node',
    format: bundling.format,
    target: bundling.target,
    minify: bundling.minify,
    sourcemap: bundling.sourceMap,
    mainFields: bundling.mainFields,
    banner: { js: bundling.banner },
    external: bundling.externalModules,
    metafile: true,
    logLevel: 'warning',
  });
  const code = await readFile(file);
  return {
    file,
    bytes: code.length,
    gzipBytes: gzipSync(code, { level: 9 }).length,
    packages: packageShares(result.metafile),
  };
}

/** Bytes in the output per package, from esbuild's metafile. */
function packageShares(metafile: Metafile): PackageShare[] {
  const code = Object.entries(metafile.outputs).find(([path]) =>
    path.endsWith('.mjs'),
  )?.[1];
  const totals = new Map<string, number>();
  for (const [path, input] of Object.entries(code?.inputs ?? {})) {
    const name = packageOf(path);
    totals.set(name, (totals.get(name) ?? 0) + input.bytesInOutput);
  }
  return [...totals]
    .map(([name, bytes]) => ({ name, bytes }))
    .sort((a, b) => b.bytes - a.bytes);
}

const NODE_MODULES = 'node_modules/';

/**
 * The package a bundled file comes from, `@scope/name` or `name` after the
 * last node_modules folder of its path; `(project)` for tasklane's own.
 */
export function packageOf(path: string): string {
  const at = path.lastIndexOf(NODE_MODULES);
  if (at === -1) return '(project)';
  const [first = '', second = ''] = path
    .slice(at + NODE_MODULES.length)
    .split('/');
  return first.startsWith('@') ? `${first}/${second}` : first;
}
