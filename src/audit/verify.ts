// `mcp-guard logs verify`: walk the hash chain from the retention checkpoint to the chain head and
// report the first row that was edited, inserted or deleted. Needs no key: the chain covers the
// stored (encrypted) values. Ids are assigned contiguously by the writer, so a gap is a deletion;
// the chain head in `meta` (updated in each batch's transaction) catches deleted tail rows.
import Database from 'better-sqlite3';
import { HASHED_COLUMNS, readMeta, selectList } from './schema.js';
import { rowHash, type StoredValue } from './chain.js';

export type TamperKind = 'edited' | 'inserted' | 'deleted';

export interface VerifyResult {
  ok: boolean;
  /** Rows checked. */
  rows: number;
  head: { id: number; hash: string };
  checkpoint: { id: number; hash: string; ts?: number };
  firstBad?: { id: number; reason: TamperKind; detail: string };
}

interface ChainRow {
  id: number;
  hash: Buffer;
  values: StoredValue[];
}


function toRow(raw: unknown[]): ChainRow {
  return { id: raw[0] as number, hash: raw[1] as Buffer, values: raw.slice(2) as StoredValue[] };
}

/** Verify an open database (read access is enough). */
export function verifyDb(db: Database.Database): VerifyResult {
  const meta = readMeta(db);
  if (!meta) throw new Error('not an mcp-guard audit database (no meta table)');
  const head = { id: meta.headId, hash: meta.headHash };
  const checkpoint = { id: meta.checkpointId, hash: meta.checkpointHash, ts: meta.checkpointTs };
  const SELECT = `SELECT id, hash, ${selectList(db, HASHED_COLUMNS)} FROM audit`;
  const nextAfter = db.prepare(`${SELECT} WHERE id > ? ORDER BY id LIMIT 1`).raw();
  const bad = (rows: number, id: number, reason: TamperKind, detail: string): VerifyResult => ({
    ok: false,
    rows,
    head,
    checkpoint,
    firstBad: { id, reason, detail },
  });

  let prev: Buffer = Buffer.from(meta.checkpointHash, 'hex');
  let prevPrev: Buffer | undefined;
  let prevId = meta.checkpointId;
  let rows = 0;
  for (const raw of db.prepare(`${SELECT} ORDER BY id`).raw().iterate() as IterableIterator<unknown[]>) {
    const r = toRow(raw);
    if (r.id <= meta.checkpointId) {
      return bad(rows, r.id, 'inserted', `row ${r.id} is older than the retention checkpoint (row ${meta.checkpointId})`);
    }
    if (r.id > meta.headId) {
      return bad(rows, r.id, 'inserted', `row ${r.id} is beyond the chain head (row ${meta.headId})`);
    }
    if (r.id !== prevId + 1) {
      const missing = r.id - prevId - 1;
      return bad(rows, prevId + 1, 'deleted', `${missing} row(s) missing: ids ${prevId + 1}..${r.id - 1}`);
    }
    if (!rowHash(prev, r.values).equals(r.hash)) {
      // Classify: was the previous row slipped in (this one chains from the row before it)? Does
      // the chain carry on from this row's stored hash (content edited)? Or does the next row
      // chain from our predecessor (this row was inserted)?
      if (prevPrev && rowHash(prevPrev, r.values).equals(r.hash)) {
        return bad(rows - 1, prevId, 'inserted', `row ${prevId} is not part of the chain`);
      }
      const nraw = nextAfter.get(r.id) as unknown[] | undefined;
      if (nraw) {
        const n = toRow(nraw);
        if (!rowHash(r.hash, n.values).equals(n.hash) && rowHash(prev, n.values).equals(n.hash)) {
          return bad(rows, r.id, 'inserted', `row ${r.id} is not part of the chain`);
        }
      }
      return bad(rows, r.id, 'edited', `row ${r.id} does not match its hash`);
    }
    prevPrev = prev;
    prev = r.hash;
    prevId = r.id;
    rows++;
  }
  if (prevId < meta.headId) {
    return bad(rows, prevId + 1, 'deleted', `rows ${prevId + 1}..${meta.headId} missing (the chain head is row ${meta.headId})`);
  }
  if (prev.toString('hex') !== meta.headHash) {
    return bad(rows, prevId, 'edited', `row ${prevId} does not match the recorded chain head`);
  }
  return { ok: true, rows, head, checkpoint };
}

/** Verify a database file. Opens it read-only, so it can run while the daemon writes. */
export function verify(dbPath: string): VerifyResult {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    return verifyDb(db);
  } finally {
    db.close();
  }
}
