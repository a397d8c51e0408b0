-- The tamper-evident audit trail (CP-IS073, CP-IS074, CP-IS075): every
-- query, upload, record change, notification, purge, PDS change, world load
-- and admin action, one row each, hash-chained. docs/audit.md describes the
-- format; cpis.AuditEntry the canonical content.
--
-- seq is the entry's place in the chain, 1, 2, 3, ... without gaps, set by
-- the writer as the head's seq + 1 inside the transaction that records the
-- change (one writer connection, immediate transactions: appends are
-- serialised and never reordered). content is the entry's canonical
-- encoding, exactly the bytes hashed: hash = SHA-256(prev_hash || content),
-- prev_hash being the previous entry's hash (32 zero bytes before the first
-- entry ever written). at, kind and nhs_number repeat fields of content for
-- the pruner and the reports; verify checks that they agree with it.
CREATE TABLE audit_log (
    seq        INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL, -- nanoseconds since the Unix epoch
    kind       TEXT NOT NULL,
    nhs_number TEXT NOT NULL DEFAULT '',
    content    TEXT NOT NULL,
    prev_hash  BLOB NOT NULL,
    hash       BLOB NOT NULL
);
-- No index on nhs_number: one cost the access writer 40-50% more per event
-- (BenchmarkRecordAccessParallel, 27 against 40 cpu-µs); a report on one
-- NHS number reads access_events and record_history, which are indexed.

-- Signed checkpoints, written by the daily cycle. A 'pruned' checkpoint
-- stands for the prefix of the chain the retention prune removed (CP-IS076):
-- seq and hash of its last entry, count of entries removed in all; the
-- chain left must link to it. A 'head' checkpoint pins the head as it was
-- (seq and hash of the last entry, count of entries written in all), so
-- that entries removed from the end are found too. signature is Ed25519
-- over the checkpoint's canonical encoding (docs/audit.md), by a key kept
-- outside the database.
CREATE TABLE audit_checkpoints (
    id        INTEGER PRIMARY KEY,
    kind      TEXT NOT NULL CHECK (kind IN ('pruned', 'head')),
    seq       INTEGER NOT NULL,
    hash      BLOB NOT NULL,
    count     INTEGER NOT NULL,
    at        INTEGER NOT NULL,
    signature BLOB NOT NULL
);
