-- contract: V2 the note column is unused since release 1.1
ALTER TABLE item DROP COLUMN note;
