"""PostgreSQL store: connection pool, migrations, the embedded server, repositories."""
