-- PDS can mark an NHS number inactive with no replacement known (CP-IS012):
-- every LA holding records under it is then sent an Inactive NHS Number
-- Notification without a new number, keyed 'OLD>' in the outbox (CP-IS023).
-- A number both superseded and inactive is notified as superseded.
ALTER TABLE patients ADD COLUMN inactive INTEGER NOT NULL DEFAULT 0;

-- The sweep that finds the notifications owed reads superseded and inactive
-- patients only: the partial index covers both.
DROP INDEX patients_superseded;
CREATE INDEX patients_inactive ON patients (nhs_number) WHERE superseded_by <> '' OR inactive = 1;
