"""Hidden suites: one module per exercise slug, each with a `CASES` table of `Case` rows."""
