/**
 * Writes schema/envelope-v1.json from the zod schema, for producers not
 * written in TypeScript. Run with `npm run schema`; a test keeps the
 * shipped file in sync.
 */
import { writeFileSync } from 'node:fs';
import { envelopeJsonSchema } from '../lib/envelope.ts';

const file = new URL('../schema/envelope-v1.json', import.meta.url);
writeFileSync(file, `${JSON.stringify(envelopeJsonSchema(), null, 2)}\n`);
console.log(`wrote ${file.pathname}`);
