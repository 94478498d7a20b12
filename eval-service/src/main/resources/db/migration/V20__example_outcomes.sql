-- Per validation example (file order) whether the evaluated model predicted it right: the paired bootstrap interval
-- of an adapter-vs-baseline accuracy delta resamples these. NULL for causal-LM evaluations.
ALTER TABLE evaluations ADD COLUMN IF NOT EXISTS example_correct BOOLEAN[];
