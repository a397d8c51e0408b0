-- The first schema: the directory (SDS), demographics (PDS), local
-- authorities, CP-IS records and the access history.
--
-- Conventions: civil dates are TEXT 'YYYY-MM-DD' (NULL when absent, so that
-- they sort and compare as dates); instants are INTEGER nanoseconds since the
-- Unix epoch, UTC, so that they round-trip exactly and order in an index;
-- given names are a JSON array of strings; booleans are 0 or 1.

CREATE TABLE endpoints (
    asid TEXT PRIMARY KEY,
    ods  TEXT NOT NULL,
    name TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE users (
    id          TEXT PRIMARY KEY,
    name_prefix TEXT NOT NULL,
    name_given  TEXT NOT NULL,
    name_family TEXT NOT NULL,
    enabled     INTEGER NOT NULL CHECK (enabled IN (0, 1))
) WITHOUT ROWID;

-- A role profile id is unique across SDS; seq keeps the user's order.
CREATE TABLE role_profiles (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    seq           INTEGER NOT NULL,
    job_role_code TEXT NOT NULL,
    job_role_name TEXT NOT NULL,
    org_ods       TEXT NOT NULL,
    org_name      TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX role_profiles_user ON role_profiles (user_id, seq);

-- A table rather than a list column, so that "who holds B0107" stays a query.
CREATE TABLE role_profile_activities (
    role_profile_id TEXT NOT NULL REFERENCES role_profiles (id) ON DELETE CASCADE,
    seq             INTEGER NOT NULL,
    activity        TEXT NOT NULL,
    PRIMARY KEY (role_profile_id, seq)
) WITHOUT ROWID;

CREATE TABLE patients (
    nhs_number    TEXT PRIMARY KEY,
    name_prefix   TEXT NOT NULL,
    name_given    TEXT NOT NULL,
    name_family   TEXT NOT NULL,
    birth_date    TEXT,
    gender        TEXT NOT NULL,
    superseded_by TEXT NOT NULL,
    sensitive     INTEGER NOT NULL CHECK (sensitive IN (0, 1)),
    date_of_death TEXT
) WITHOUT ROWID;

CREATE TABLE local_authorities (
    ods             TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    emergency       TEXT NOT NULL,
    office          TEXT NOT NULL,
    uploads_enabled INTEGER NOT NULL CHECK (uploads_enabled IN (0, 1))
) WITHOUT ROWID;

-- What one LA holds for one NHS number (for UCP, the mother's): one record
-- per pair, replaced whole by a later upload or world (CP-IS020), several
-- LAs side by side (CP-IS034). The unique index also serves Subject, which
-- reads every LA's record for a number in LA order.
CREATE TABLE records (
    id         INTEGER PRIMARY KEY,
    nhs_number TEXT NOT NULL,
    la_ods     TEXT NOT NULL REFERENCES local_authorities (ods),
    local_id   TEXT NOT NULL,
    file_id    TEXT NOT NULL,
    UNIQUE (nhs_number, la_ods)
);

-- A record's information items: CPP, LAC and UCP side by side (CP-IS035).
CREATE TABLE plans (
    id          INTEGER PRIMARY KEY,
    record_id   INTEGER NOT NULL REFERENCES records (id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    type        TEXT NOT NULL CHECK (type IN ('CPP', 'LAC', 'UCP')),
    start_date  TEXT NOT NULL,
    end_date    TEXT,
    delete_date TEXT
);
CREATE INDEX plans_record ON plans (record_id, seq);

-- Every access, shown or not (CP-IS047: record every single access event).
-- The accessor is a snapshot: history must show who looked as they were
-- then, whatever SDS says later (CP-IS026, CP-IS036).
CREATE TABLE access_events (
    id              INTEGER PRIMARY KEY,
    message_id      TEXT NOT NULL,
    nhs_number      TEXT NOT NULL,
    at              INTEGER NOT NULL,
    accessor_key    TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    role_profile_id TEXT NOT NULL,
    name_prefix     TEXT NOT NULL,
    name_given      TEXT NOT NULL,
    name_family     TEXT NOT NULL,
    job_role_code   TEXT NOT NULL,
    job_role_name   TEXT NOT NULL,
    org_ods         TEXT NOT NULL,
    org_name        TEXT NOT NULL,
    system          INTEGER NOT NULL CHECK (system IN (0, 1)),
    asid            TEXT NOT NULL,
    shown           INTEGER NOT NULL CHECK (shown IN (0, 1))
);
-- Subject's history: shown events of a number, newest first (CP-IS048). The
-- implicit trailing rowid breaks ties in the same order the query asks.
CREATE INDEX access_events_history ON access_events (nhs_number, shown, at);
-- RecordAccess: the accessor's latest shown access to the number (CP-IS047).
CREATE INDEX access_events_accessor ON access_events (nhs_number, accessor_key, shown, at);

-- The local authorities whose plans an access returned (CP-IS023), in the
-- order returned.
CREATE TABLE access_event_las (
    event_id INTEGER NOT NULL REFERENCES access_events (id),
    seq      INTEGER NOT NULL,
    la_ods   TEXT NOT NULL,
    PRIMARY KEY (event_id, seq)
) WITHOUT ROWID;
