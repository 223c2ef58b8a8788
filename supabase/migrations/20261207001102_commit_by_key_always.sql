-- As 20261207001101, on a table whose statistics are older than the burst it holds (a
-- queue filled since autovacuum last looked, 0 rows as far as the planner knows): the
-- planner read the page's enrollments by a sequential scan of the whole table, cheap for
-- the empty table it believed in. Sequential and bitmap scans off for the commit, as for
-- the claims since 20261202000001: the page's enrollments are read through the primary key.
-- (test/distance/commit-by-key.test.ts: 6,600 enrollment rows read to commit a page of
-- 200 among 6,000 due without this; about 400 with it.)
alter function lsd_commit_plans(jsonb) set enable_seqscan = off;
alter function lsd_commit_plans(jsonb) set enable_bitmapscan = off;

select lsd_secure_functions();
select lsd_migration_applied('20261207001102_commit_by_key_always.sql');
