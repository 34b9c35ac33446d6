"""Matching a question to an entry: Slack text normalised, entities found, entries ranked,
then the decision fitted to the knowledge base (index, rank, decide), and the lint that shows
curators what the fit finds."""
