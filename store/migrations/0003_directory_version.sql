-- The directory (endpoints, users, role profiles and their activities) is
-- read on every query but changes only when a world is merged, so the store
-- keeps it in memory. A process sees its own merges at once; to see another
-- process's (spinegw world load against the file a gateway serves), it polls
-- this one-row counter, which every change to the directory tables bumps.
-- Triggers rather than a bump in MergeWorld, so that a change made any other
-- way (an operator disabling a user with the sqlite3 shell) is seen too.
CREATE TABLE directory_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO directory_version (id, version) VALUES (1, 1);

CREATE TRIGGER endpoints_ins AFTER INSERT ON endpoints BEGIN UPDATE directory_version SET version = version + 1; END;
CREATE TRIGGER endpoints_upd AFTER UPDATE ON endpoints BEGIN UPDATE directory_version SET version = version + 1; END;
CREATE TRIGGER endpoints_del AFTER DELETE ON endpoints BEGIN UPDATE directory_version SET version = version + 1; END;
CREATE TRIGGER users_ins AFTER INSERT ON users BEGIN UPDATE directory_version SET version = version + 1; END;
CREATE TRIGGER users_upd AFTER UPDATE ON users BEGIN UPDATE directory_version SET version = version + 1; END;
CREATE TRIGGER users_del AFTER DELETE ON users BEGIN UPDATE directory_version SET version = version + 1; END;
CREATE TRIGGER role_profiles_ins AFTER INSERT ON role_profiles BEGIN UPDATE directory_version SET version = version + 1; END;
CREATE TRIGGER role_profiles_upd AFTER UPDATE ON role_profiles BEGIN UPDATE directory_version SET version = version + 1; END;
CREATE TRIGGER role_profiles_del AFTER DELETE ON role_profiles BEGIN UPDATE directory_version SET version = version + 1; END;
CREATE TRIGGER role_profile_activities_ins AFTER INSERT ON role_profile_activities BEGIN UPDATE directory_version SET version = version + 1; END;
CREATE TRIGGER role_profile_activities_upd AFTER UPDATE ON role_profile_activities BEGIN UPDATE directory_version SET version = version + 1; END;
CREATE TRIGGER role_profile_activities_del AFTER DELETE ON role_profile_activities BEGIN UPDATE directory_version SET version = version + 1; END;
