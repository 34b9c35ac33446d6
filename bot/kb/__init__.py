"""The knowledge base: loading and validating entries and records (providers, networks,
codes, the ISPDB snapshot). The data lives in `knowledge/`; this is the code that reads it."""
