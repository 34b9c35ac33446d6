"""The answering engine: the knowledge base and its matcher loaded once (`facade.Engine`),
settings discovery for any domain, and the plain result types every renderer reads."""
