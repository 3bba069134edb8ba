"""Catalogues with provenance: regions, machine types, database tiers and prices."""

from cloud_engine.data.catalog import Catalog, MachineType, ProviderCatalog, load_catalog

__all__ = ["Catalog", "MachineType", "ProviderCatalog", "load_catalog"]
