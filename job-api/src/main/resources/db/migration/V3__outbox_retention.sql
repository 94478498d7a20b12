-- the relay deletes published outbox rows once they are older than foundry.outbox.retention: find them by age
CREATE INDEX outbox_published ON outbox (published_at) WHERE published_at IS NOT NULL;
