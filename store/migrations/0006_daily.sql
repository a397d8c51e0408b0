-- The service's own daily cycle: notifications to local authorities, an
-- outbox they are delivered from, the runs made, and the audit trace of
-- what the retention purge removes.
--
-- 1. The outbox: every notification to a local authority, as the document
-- sent. The UNIQUE key makes "exactly once" structural: one Access to
-- Service Notification per LA per day (key = the day, YYYY-MM-DD; CP-IS025),
-- one Inactive NHS Number Notification per LA per replaced number (key =
-- 'OLD>NEW', or 'OLD>' when PDS knows no replacement; CP-IS012, CP-IS023).
-- A second attempt to enqueue the same notification, after a crash or by a
-- second process, inserts nothing. message_id is the document's own id
-- (id/@root, CP-IS019), and the id the HTTP mailbox lists it under.
-- Delivery to the mailbox folder sets delivered_at; an LA acknowledging it
-- over the HTTP mailbox sets acknowledged_at (then it leaves that inbox).
-- Instants are nanoseconds since the Unix epoch, as everywhere.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN ('access', 'inactive')),
    la_ods          TEXT NOT NULL,
    key             TEXT NOT NULL,
    message_id      TEXT NOT NULL UNIQUE,
    records         INTEGER NOT NULL, -- records (access) or subjects (inactive) it names
    document        BLOB NOT NULL,
    created_at      INTEGER NOT NULL,
    delivered_at    INTEGER,
    acknowledged_at INTEGER,
    UNIQUE (kind, la_ods, key)
);
-- Delivery reads only what is still to be delivered, the inbox only what is
-- not acknowledged: partial indexes hold just those.
CREATE INDEX outbox_undelivered ON outbox (id) WHERE delivered_at IS NULL;
CREATE INDEX outbox_inbox ON outbox (la_ods, id) WHERE acknowledged_at IS NULL;

-- 2. One row per daily cycle: the civil day in England it belongs to and
-- the period [period_from, period_to) its notifications cover. notified_at
-- is written in the transaction that writes the day's notifications to the
-- outbox, so a day is notified entirely or not at all; purged_at by the
-- purge's own transaction. The counts are for operators.
CREATE TABLE daily_runs (
    day            TEXT PRIMARY KEY,
    period_from    INTEGER NOT NULL,
    period_to      INTEGER NOT NULL,
    notified_at    INTEGER NOT NULL,
    notifications  INTEGER NOT NULL,
    accesses       INTEGER NOT NULL,
    purged_at      INTEGER,
    purged_plans   INTEGER,
    purged_records INTEGER,
    end_dated      INTEGER,
    stale_cpps     INTEGER
) WITHOUT ROWID;

-- 3. What the purge changed, one row per plan: removed (expired, with the
-- rule that expired it) or end-dated on the 18th birthday (CP-IS030, the end
-- date before in end_date, the new one in new_end_date). No history of
-- records is kept as such (CP-IS075), but it must stay possible to derive
-- that a record existed, which LA held it and what it was: this is that
-- audit data. keep_until is the first day the row may go (CP-IS076: the
-- child's 26th birthday, or 8 years after the child's death); NULL when the
-- birth date is unknown, and then it is kept.
CREATE TABLE record_history (
    id           INTEGER PRIMARY KEY,
    nhs_number   TEXT NOT NULL,
    la_ods       TEXT NOT NULL,
    local_id     TEXT NOT NULL,
    file_id      TEXT NOT NULL,
    plan_type    TEXT NOT NULL CHECK (plan_type IN ('CPP', 'LAC', 'UCP')),
    start_date   TEXT NOT NULL,
    end_date     TEXT,
    delete_date  TEXT,
    event        TEXT NOT NULL CHECK (event IN ('purged', 'end-dated')),
    reason       TEXT NOT NULL,
    new_end_date TEXT,
    day          TEXT NOT NULL,
    keep_until   TEXT
);
CREATE INDEX record_history_nhs ON record_history (nhs_number, day);
CREATE INDEX record_history_keep ON record_history (keep_until) WHERE keep_until IS NOT NULL;

-- 4. A day's notifications read the shown access events of a period
-- (CP-IS025, CP-IS047): without an index on the time that is a scan of
-- every event ever recorded. Partial, as only shown events are notified.
-- Its cost on the access writer (BenchmarkRecordAccessParallel) was within
-- the run-to-run noise, 28-30 cpu-µs per event with and without it.
CREATE INDEX access_events_shown_at ON access_events (at) WHERE shown = 1;

-- 5. Inactive NHS Number Notifications are owed for every record held under
-- a number PDS has superseded (CP-IS012), however PDS came to say so (a
-- world file, spinegw pds supersede): the sweep that finds them reads only
-- superseded patients.
CREATE INDEX patients_superseded ON patients (nhs_number) WHERE superseded_by <> '';
