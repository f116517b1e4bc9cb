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
  | { t: 'warn'; message: string }
  | { t: 'retention'; deleted: number }
  | { t: 'closed' };
