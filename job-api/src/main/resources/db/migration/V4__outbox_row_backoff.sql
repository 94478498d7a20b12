-- a row Kafka refuses (too large, a bad topic) waits with back-off until next_attempt_at instead of blocking the relay
ALTER TABLE outbox ADD COLUMN next_attempt_at TIMESTAMPTZ;
-- the relay claims only the oldest unsent row of each key (job), so one job's rows go out in order: found through this
CREATE INDEX outbox_unpublished_key ON outbox (message_key, id) WHERE published_at IS NULL;
