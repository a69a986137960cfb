/**
 * CDK app entry (cdk.json runs `node bin/app.ts`): synthesises the tasklane
 * stack from the context configuration, e.g.
 * `npm run synth -- -c allowlistCidrs=203.0.113.0/24`.
 */
import { createTasklaneApp } from '../lib/infra/app.ts';
import { InvalidConfigurationError } from '../lib/infra/settings.ts';

try {
  createTasklaneApp().app.synth();
} catch (error) {
  if (!(error instanceof InvalidConfigurationError)) throw error;
  // A configuration mistake needs its message, not a stack trace.
  console.error(`tasklane: ${error.message}`);
  process.exitCode = 1;
}
