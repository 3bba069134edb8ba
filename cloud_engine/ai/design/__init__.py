"""Designing from a request: the requirement model, a design per part, and claim-by-claim citations."""
