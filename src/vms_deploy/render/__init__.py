"""Renderers: plan dict in, backend text or data out."""
