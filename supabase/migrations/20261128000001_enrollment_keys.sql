-- Enrollment keys: a scenario with "entry": {"key": "trigger.reservationId"} keeps one
-- active enrollment per user and key value, so a customer with two bookings gets both
-- reminders, each on its own clock. Enrollments without a key (every scenario without
-- one, and a trigger that lacks the key) have enrollment_key null and count as one key.

alter table enrollments add column if not exists enrollment_key text;
comment on column enrollments.enrollment_key is 'The value of the scenario''s entry.key in the trigger (a reservation id, a shipment id); null without a key. One active enrollment per scenario, user and key.';

-- At most one active enrollment per scenario, user and key (null: one key of its own).
create unique index if not exists enrollments_one_active_per_key
  on enrollments (scenario_id, line_user_id, enrollment_key) nulls not distinct
  where status = 'active';

select lsd_secure_functions();
select lsd_migration_applied('20261128000001_enrollment_keys.sql');
