//! Local state: config.json, shared-sessions.json, client-id.
