"""Reports: settlement statements (assembly, PDF, idempotent generation) and the scheduled jobs."""
