-- an evaluation is claimed by the instance working on it, which renews claimed_at while it works; a row left running
-- (its owner died) or pending (released after a transient failure) past the lease is taken over by another attempt
ALTER TABLE evaluations ADD COLUMN claimed_at TIMESTAMPTZ;
UPDATE evaluations SET claimed_at = created_at;
CREATE INDEX evaluations_unfinished ON evaluations (claimed_at) WHERE status IN ('pending', 'running');
