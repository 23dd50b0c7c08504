"""The audit log: writing each record (one JSON line per decision, durable before the next file),
reading them back (versioned, old lines too), and each file's current state from them. The record
and its vocabulary (AuditRecord, AuditAction, SCHEMA) are cleaner.records', which every layer reads."""
