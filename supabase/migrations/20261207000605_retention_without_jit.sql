-- line-step-delivery: retention pages without JIT compilation (issue 22 item 3).
-- With sequential scans off, the planner's cost estimate of a retention page (an index scan
-- with two correlated subplans per row) passes jit_above_cost, and compiling the statement
-- took 1.8 of its 1.9 seconds on a page that found nothing (measured on the retention
-- benchmark's database: 50,000 enrollments). The pages are small: JIT off, as lsd_report.
alter function lsd_retention(jsonb) set jit = off;
alter function lsd_retention_events(timestamptz, timestamptz, integer) set jit = off;
alter function lsd_retention_enrollments(timestamptz, timestamptz, integer) set jit = off;
alter function lsd_retention_batches(timestamptz, timestamptz, integer) set jit = off;
alter function lsd_retention_runs(timestamptz, timestamptz, integer) set jit = off;
alter function lsd_retention_dispatches(timestamptz, timestamptz, integer) set jit = off;
alter function lsd_retention_replies(timestamptz, timestamptz, integer) set jit = off;

select lsd_secure_functions();
select lsd_migration_applied('20261207000605_retention_without_jit.sql');
