-- Only the service role reaches tables and functions: RLS on every table, no grant to anon or
-- authenticated, execute on the engine's functions for service_role alone (see the two functions).
select lsd_secure_tables(array['line_users', 'events', 'line_link_nonces', 'scenarios', 'scenario_versions', 'enrollments', 'outbox_batches', 'deliveries', 'runs', 'lsd_schema_migrations', 'line_unit_statistics', 'report_sent', 'lsd_dispatcher_settings', 'lsd_dispatches', 'run_lateness', 'replies', 'lsd_retention_cursor', 'lsd_storage_samples']);
select lsd_secure_functions();
