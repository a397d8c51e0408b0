-- Every LA upload file processed (LA Upload and Acknowledgement): its file
-- id is unique for its LA (CP-SC016), and a file sent again with the same
-- id and the same bytes (digest) is answered with the FileResponse it got
-- the first time, without being applied twice.
--
-- No foreign key to local_authorities: this is a log of what was received
-- and answered, and it must outlive any change to the directory. A rowid
-- table, not WITHOUT ROWID: response can be megabytes (one outcome per
-- failed record of a 230,000-record file).
CREATE TABLE uploads (
    id          INTEGER PRIMARY KEY,
    la_ods      TEXT NOT NULL,
    file_id     TEXT NOT NULL,
    digest      TEXT NOT NULL,       -- hex SHA-256 of the file's bytes
    received_at INTEGER NOT NULL,    -- nanoseconds since the Unix epoch, UTC
    route       TEXT NOT NULL,       -- how the file came: mailbox, soap, cli
    code        TEXT NOT NULL,       -- the file-level code answered (CPF01..CPF04)
    succeeded   INTEGER NOT NULL,
    failed      INTEGER NOT NULL,
    response    BLOB NOT NULL,       -- the FileResponse document sent
    UNIQUE (la_ods, file_id)
);
