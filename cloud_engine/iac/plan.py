"""The parsed result of `terraform show -json <planfile>`, shared by runner, engine and UI."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

ChangeAction = Literal["create", "update", "delete", "replace", "no-op", "read"]


class ResourceChange(BaseModel):
    """One resource's planned change, straight from the plan JSON's `resource_changes`."""

    address: str
    type: str
    name: str
    action: ChangeAction
    actions: list[str] = Field(description="Terraform's raw action list, e.g. ['delete', 'create']")
    replace_paths: list[str] = Field(default_factory=list, description="attributes that force replacement")
    changed_attributes: list[str] = Field(default_factory=list)
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


class PlanResult(BaseModel):
    """Counts and per-resource changes of one saved plan."""

    terraform_version: str = ""
    changes: list[ResourceChange] = Field(default_factory=list)
    output_changes: dict[str, str] = Field(default_factory=dict)

    def _count(self, action: str) -> int:
        return sum(1 for c in self.changes if c.action == action)

    @property
    def add(self) -> int:
        return self._count("create")

    @property
    def change(self) -> int:
        return self._count("update")

    @property
    def destroy(self) -> int:
        return self._count("delete")

    @property
    def replace(self) -> int:
        return self._count("replace")

    @property
    def has_changes(self) -> bool:
        return any(c.action not in ("no-op", "read") for c in self.changes)

    def summary(self) -> str:
        return f"{self.add} to add, {self.change} to change, {self.replace} to replace, {self.destroy} to destroy"
