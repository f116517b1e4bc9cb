// Schema of the `audit` section: where records go, how long they stay, encryption, back-pressure.
import { z } from 'zod';

export const AuditSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** SQLite file; default `<daemon.home>/audit.db`. */
  path: z.string().optional(),
  retention_days: z.number().int().positive().default(90),
  /** Records queued in the daemon before new requests are refused (back-pressure). */
  queue_limit: z.number().int().positive().default(100_000),
  /** What happens when the queue is full: refuse new requests (default) or wait for the writer. */
  on_full: z.enum(['refuse', 'block']).default('refuse'),
  /**
   * When an answer may leave: `buffered` (default) at once, its row committed within flush_ms;
   * `acknowledged` only once its row is committed (group commit), so a killed daemon never leaves
   * an answered call without its row.
   */
  durability: z.enum(['buffered', 'acknowledged']).default('buffered'),
  flush_ms: z.number().int().positive().default(50),
  batch_size: z.number().int().positive().default(500),
  encryption: z
    .strictObject({
      key_file: z.string().optional(),
      key_env: z.string().optional(),
      /** A key file in the database's own directory is refused unless this is set. */
      allow_key_beside_db: z.boolean().default(false),
    })
    .optional(),
});

export type AuditConfig = z.infer<typeof AuditSchema>;
