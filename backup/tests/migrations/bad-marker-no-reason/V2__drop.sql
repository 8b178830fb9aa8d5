-- contract: V1
ALTER TABLE item DROP COLUMN note;
