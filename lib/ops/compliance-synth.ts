/**
 * The template `tasklane verify` checks when given none: the stack as
 * `cdk synth` would write it, synthesized in this process.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTasklaneApp } from '../infra/app.ts';
import type { CfnTemplate } from './compliance-template.ts';

/**
 * Synthesizes the tasklane stack with the context of `root`'s cdk.json and
 * `context` on top, cdk-nag and Control Tower checks included (about 10 s).
 * Asset bundling is skipped: the checks read the template, not the code.
 */
export function synthesizeTemplate(
  root: string,
  context: Record<string, unknown> = {},
): CfnTemplate {
  const outdir = mkdtempSync(join(tmpdir(), 'tasklane-verify-'));
  try {
    const { app, stack } = createTasklaneApp({
      outdir,
      context: {
        ...cdkJsonContext(root),
        ...context,
        'aws:cdk:bundling-stacks': [],
      },
    });
    const assembly = app.synth();
    return assembly.getStackArtifact(stack.artifactId).template;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

function cdkJsonContext(root: string): Record<string, unknown> {
  const file = join(root, 'cdk.json');
  if (!existsSync(file)) return {};
  return JSON.parse(readFileSync(file, 'utf8')).context ?? {};
}
