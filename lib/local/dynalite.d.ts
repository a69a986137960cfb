declare module 'dynalite' {
  import type { Server } from 'node:http';

  interface DynaliteOptions {
    path?: string;
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
    maxItemSizeKb?: number;
  }

  /** Returns a DynamoDB-compatible HTTP server, not yet listening. */
  export default function dynalite(options?: DynaliteOptions): Server;
}
