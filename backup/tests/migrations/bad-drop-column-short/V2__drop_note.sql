alter table item drop note;
