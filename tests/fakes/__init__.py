"""Spec-bound fakes of Discord objects shared by tests and the streaming benchmark."""
