-- contract: V1 releases since 1.4 read remark (V1 expanded); nothing reads note any more
ALTER TABLE item DROP COLUMN note;
