-- A record's plans move onto the record row, and records become a
-- WITHOUT ROWID table keyed by (nhs_number, la_ods).
--
-- Why: an LA upload replaces up to 230,000 records in one transaction, each
-- replacing what the LA holds for the number (CP-IS020), in about 3 s. With
-- a plans table that was a record upsert or delete, then one insert per
-- plan, into four B-trees with foreign-key checks: 6-10 s for such a file
-- on the 2-core reference machine. One row per record in one B-tree is one
-- INSERT OR REPLACE: 1-2.5 s there. A query reads one row per LA instead
-- of one per plan.
--
-- plans is a JSON array, one element per plan, each [type, start, end,
-- delete]: type 'CPP', 'LAC' or 'UCP'; dates 'YYYY-MM-DD', null when absent
-- (end is an unborn plan's due date, CP-IS011; delete the logical deletion
-- date, CP-IS009). Elements are kept in display order: CPP, LAC, UCP, then
-- by start date (CP-IS035 side by side). SQL can still look inside:
--   SELECT nhs_number FROM records, json_each(records.plans) p WHERE p.value->>0 = 'UCP'
CREATE TABLE records_inline (
    nhs_number TEXT NOT NULL,
    la_ods     TEXT NOT NULL REFERENCES local_authorities (ods),
    local_id   TEXT NOT NULL,
    file_id    TEXT NOT NULL,
    plans      TEXT NOT NULL,
    PRIMARY KEY (nhs_number, la_ods)
) WITHOUT ROWID;

INSERT INTO records_inline (nhs_number, la_ods, local_id, file_id, plans)
SELECT r.nhs_number, r.la_ods, r.local_id, r.file_id,
       (SELECT json_group_array(json_array(p.type, p.start_date, p.end_date, p.delete_date))
        FROM (SELECT type, start_date, end_date, delete_date FROM plans WHERE record_id = r.id
              ORDER BY CASE type WHEN 'CPP' THEN 0 WHEN 'LAC' THEN 1 ELSE 2 END, start_date, seq) p)
FROM records r;

DROP TABLE plans;
DROP TABLE records;
ALTER TABLE records_inline RENAME TO records;
