-- One round trip a page (issue 25): a planning lane commits page n and claims page n+1 in
-- one call, and ingest commits a page of events and claims the next the same way. With the
-- database 100-150 ms away (a GitHub runner in the US, Supabase in Tokyo), a page waited for
-- two round trips one after the other; now it waits for one.
--
-- Nothing changes in what the steps do: each is the existing function, called in the same
-- order as before inside one transaction, so the claim sees the commit (a user's next page
-- after this one, the frequency cap's counts with this page's sends). New functions only:
-- lsd_commit_plans, lsd_claim_due, lsd_ingest_commit and lsd_ingest_claim stay as they are
-- for older callers and for the pages that need only one of the two.

-- p: {commit: <lsd_commit_plans' argument>, claim: <lsd_claim_due's argument>, optional}.
-- Answers {committed: <lsd_commit_plans' answer>, claimed: <lsd_claim_due's answer> | null}.
create or replace function lsd_commit_and_claim(p jsonb) returns jsonb
language plpgsql as $$
declare
  committed jsonb := lsd_commit_plans(p->'commit');
begin
  return jsonb_build_object(
    'committed', committed,
    'claimed', case when jsonb_typeof(p->'claim') = 'object' then lsd_claim_due(p->'claim') end);
end $$;

-- p: {commit: <lsd_ingest_commit's argument>, claim: <lsd_ingest_claim's argument>, optional}.
-- Answers {committed: <lsd_ingest_commit's answer>, claimed: <lsd_ingest_claim's answer> | null}.
create or replace function lsd_ingest_commit_and_claim(p jsonb) returns jsonb
language plpgsql as $$
declare
  committed jsonb := lsd_ingest_commit(p->'commit');
begin
  return jsonb_build_object(
    'committed', committed,
    'claimed', case when jsonb_typeof(p->'claim') = 'object' then lsd_ingest_claim(p->'claim') end);
end $$;

select lsd_secure_functions();
select lsd_migration_applied('20261207001100_commit_and_claim.sql');
