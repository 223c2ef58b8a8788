-- The engine's triggers (their functions are in functions/).
CREATE TRIGGER enrollments_keep_deliveries AFTER DELETE ON public.enrollments REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION lsd_keep_deliveries_linked();
CREATE TRIGGER line_users_tag_form BEFORE INSERT OR UPDATE OF attributes ON public.line_users FOR EACH ROW EXECUTE FUNCTION lsd_line_users_tag_form();
CREATE TRIGGER outbox_batches_count_sent_insert AFTER INSERT ON public.outbox_batches REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lsd_count_sent();
CREATE TRIGGER outbox_batches_count_sent_update AFTER UPDATE ON public.outbox_batches REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lsd_count_sent();
CREATE TRIGGER outbox_batches_keep_deliveries AFTER DELETE ON public.outbox_batches REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION lsd_keep_deliveries_linked();
CREATE TRIGGER outbox_batches_rich_menu_events AFTER UPDATE ON public.outbox_batches REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lsd_record_rich_menu_events();
