// Messages between the daemon's main thread (AuditLog) and the audit writer thread.
export interface WriterData {
  path: string;
  key?: Uint8Array;
  retentionDays: number;
  retentionEveryMs: number;
}

export type ToWriter =
  | { t: 'batch'; seq: number; bytes: Uint8Array }
  | { t: 'close' }
  // Test hooks: stall the writer (batches queue up unacked), or make it die.
  | { t: 'pause' }
  | { t: 'resume' }
  | { t: 'crash'; afterCommit: boolean };

export type FromWriter =
  | { t: 'ready'; lastSeq: number; headId: number }
  | { t: 'ack'; seq: number; n: number; duplicate: boolean }
  | { t: 'fatal'; message: string }
  // A commit failed (a full disk, an I/O error, a lock held too long): the batches stay queued in
  // the writer and are retried; `recovered` follows the first commit that succeeds again.
  | { t: 'stalled'; message: string }
  | { t: 'recovered' }
  | { t: 'warn'; message: string }
  | { t: 'retention'; deleted: number }
  | { t: 'closed' };
