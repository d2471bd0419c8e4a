"""The sample data world: generator, CSV input/output and the SQLite CRM."""
