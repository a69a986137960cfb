import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Bundle, bundleLikeTheStack } from './bundles.ts';
import { measureLoadMs } from './load-time.ts';
import { median, ratio } from './stats.ts';

const ENTRIES = {
  tasklane: fileURLToPath(
    new URL('../lambdas/consumer/handler.ts', import.meta.url),
  ),
  stock: fileURLToPath(new URL('./stock-handler.ts', import.meta.url)),
} as const;

type EntryName = keyof typeof ENTRIES;

/** One bundle's figures. */
export interface BundleSample {
  readonly bytes: number;
  readonly gzipBytes: number;
  readonly loadMsPerRun: number[];
  readonly medianLoadMs: number;
  /** The largest packages in the bundle, bytes each. */
  readonly topPackages: readonly { name: string; bytes: number }[];
}

/** A package whose share differs between the bundles, bytes in each. */
export interface PackageDifference {
  readonly name: string;
  readonly tasklane: number;
  readonly stock: number;
}

export interface ConsumerBundleResult {
  readonly loads: number;
  /** Packages whose share differs by 1 KB or more, largest gap first. */
  readonly differences: readonly PackageDifference[];
  readonly tasklane: BundleSample;
  readonly stock: BundleSample;
  /** tasklane over stock: bytes, gzipped bytes, median load time. */
  readonly ratios: {
    readonly bytes: number;
    readonly gzipBytes: number;
    readonly loadMs: number;
  };
}

/**
 * Bundle size and module load time of the consumer entry against the
 * stock recipe's entry, both bundled as the stack bundles its functions.
 * Loads alternate between the two bundles, each in a fresh process.
 */
export async function benchConsumerBundle(options: {
  /** Fresh processes per bundle. */
  readonly loads: number;
}): Promise<ConsumerBundleResult> {
  const outdir = await mkdtemp(join(tmpdir(), 'tasklane-bench-'));
  try {
    const bundles = {
      tasklane: await bundleLikeTheStack(
        ENTRIES.tasklane,
        join(outdir, 'tasklane'),
      ),
      stock: await bundleLikeTheStack(ENTRIES.stock, join(outdir, 'stock')),
    };
    const loads = await measureLoads(bundles, options.loads);
    const tasklane = sampleOf(bundles.tasklane, loads.tasklane);
    const stock = sampleOf(bundles.stock, loads.stock);
    return {
      loads: options.loads,
      differences: differencesOf(bundles.tasklane, bundles.stock),
      tasklane,
      stock,
      ratios: {
        bytes: ratio(tasklane.bytes, stock.bytes),
        gzipBytes: ratio(tasklane.gzipBytes, stock.gzipBytes),
        loadMs: ratio(tasklane.medianLoadMs, stock.medianLoadMs),
      },
    };
  } finally {
    await rm(outdir, { recursive: true, force: true });
  }
}

/** Load times of each bundle, taken in turns so drift hits both alike. */
async function measureLoads(
  bundles: Record<EntryName, Bundle>,
  count: number,
): Promise<Record<EntryName, number[]>> {
  const loads: Record<EntryName, number[]> = { tasklane: [], stock: [] };
  // One unmeasured load each fills the OS file cache.
  await measureLoadMs(bundles.tasklane.file);
  await measureLoadMs(bundles.stock.file);
  for (let index = 0; index < count; index += 1) {
    loads.tasklane.push(await measureLoadMs(bundles.tasklane.file));
    loads.stock.push(await measureLoadMs(bundles.stock.file));
  }
  return loads;
}

function sampleOf(bundle: Bundle, loadMs: number[]): BundleSample {
  return {
    bytes: bundle.bytes,
    gzipBytes: bundle.gzipBytes,
    loadMsPerRun: loadMs,
    medianLoadMs: median(loadMs),
    topPackages: bundle.packages.slice(0, 8),
  };
}

/** Packages whose bytes in the two bundles differ by 1 KB or more. */
function differencesOf(tasklane: Bundle, stock: Bundle): PackageDifference[] {
  const bytesIn = (bundle: Bundle) =>
    new Map(bundle.packages.map((share) => [share.name, share.bytes]));
  const ours = bytesIn(tasklane);
  const theirs = bytesIn(stock);
  const names = new Set([...ours.keys(), ...theirs.keys()]);
  return [...names]
    .map((name) => ({
      name,
      tasklane: ours.get(name) ?? 0,
      stock: theirs.get(name) ?? 0,
    }))
    .filter((row) => Math.abs(row.tasklane - row.stock) >= 1024)
    .sort(
      (a, b) => Math.abs(b.tasklane - b.stock) - Math.abs(a.tasklane - a.stock),
    );
}
