-- A platform service's own key (trainer worker, eval-service): acts for tenants (Foundry-On-Behalf-Of), reads and
-- writes every tenant's artifacts, manages nothing. Replaces handing the bootstrap admin key to the services.
ALTER TABLE api_keys ADD COLUMN is_service BOOLEAN NOT NULL DEFAULT FALSE;
