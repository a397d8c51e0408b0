-- The read and write paths of access events, which every query takes:
-- one event written (CP-IS047: every access), up to 25 read (CP-IS048).
--
-- 1. The local authorities an access returned (CP-IS023) move onto the
-- event row as a JSON array of ODS codes, in the order returned, and the
-- access_event_las join table goes. As a table, each LA cost an insert per
-- event and a correlated subquery per history row. Nothing looks events up
-- by LA: a notification to an LA is built from the event as it is recorded,
-- and an occasional audit question ("which accesses returned V145's plans")
-- is still one statement with json_each(las). Keeping the table as well
-- would keep its cost on every write.
ALTER TABLE access_events ADD COLUMN las TEXT NOT NULL DEFAULT '[]';

UPDATE access_events
SET las = (SELECT json_group_array(la_ods)
           FROM (SELECT la_ods FROM access_event_las WHERE event_id = access_events.id ORDER BY seq))
WHERE id IN (SELECT event_id FROM access_event_las);

DROP TABLE access_event_las;

-- 2. RecordAccess asks only for the accessor's latest SHOWN access
-- (CP-IS047): a partial index holds just those, so the repeat accesses
-- within 24 hours, never shown, cost no entry in it.
DROP INDEX access_events_accessor;
CREATE INDEX access_events_last_shown ON access_events (nhs_number, accessor_key, at) WHERE shown = 1;

-- 3. The history a query shows, the newest 25 shown events of the number
-- (CP-IS047, CP-IS048), is kept ready as one row per NHS number, rewritten
-- by the access writer in the transaction that records a shown event:
-- reading 25 event rows cost 110-140 us of CPU per query on the reference
-- machine, one row of about 5 KB costs 8-10 us. access_events stays the
-- record of every access; this is derived from it and never written
-- otherwise.
--
-- nhs is the NHS number as an integer (ten digits, so the mapping is one to
-- one), which makes it the rowid: one B-tree search per query. events is a
-- JSON array, newest first (then the later recorded first), of
--   [at, message_id, user_id, role_profile_id, name_prefix, [given...],
--    name_family, job_role_code, job_role_name, org_ods, org_name, system,
--    asid, [la_ods...]]
-- at in nanoseconds since the Unix epoch, system 0 or 1. It holds at most
-- 25 events, cpis.HistoryLimit: changing that limit needs a migration that
-- rebuilds this table as below.
CREATE TABLE access_history (
    nhs    INTEGER PRIMARY KEY,
    events TEXT NOT NULL
);

INSERT INTO access_history (nhs, events)
SELECT CAST(n.nhs_number AS INTEGER),
       (SELECT json_group_array(json_array(e.at, e.message_id, e.user_id, e.role_profile_id, e.name_prefix,
                    json(e.name_given), e.name_family, e.job_role_code, e.job_role_name, e.org_ods, e.org_name,
                    e.system, e.asid, json(e.las)))
        FROM (SELECT * FROM access_events WHERE nhs_number = n.nhs_number AND shown = 1
              ORDER BY at DESC, id DESC LIMIT 25) e)
FROM (SELECT DISTINCT nhs_number FROM access_events WHERE shown = 1) n;

-- Every event of a number, in time order, for AccessEvents (tests and
-- audit); the history no longer reads this table.
DROP INDEX access_events_history;
CREATE INDEX access_events_nhs ON access_events (nhs_number, at);
