"""The AI advisor: knowledge retrieval (RAG over `knowledge/`), guardrails and model providers.

Kept import-light on purpose: importing `cloud_engine.ai` must not pull in model SDKs or
the database, so the CLI and tests only pay for the submodule they use
(e.g. `from cloud_engine.ai.knowledge import KnowledgeIndex`).
"""
