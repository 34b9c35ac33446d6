"""Renderers: each turns one engine result type into one output format."""
