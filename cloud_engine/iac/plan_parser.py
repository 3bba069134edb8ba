"""Turn `terraform show -json <planfile>` into a `PlanResult` safe to show in chat.

Why a parser of our own: the approval UI must say exactly what will be created, replaced
or destroyed and why, without ever leaking a sensitive value. The JSON plan carries
sensitive values in clear text next to `before_sensitive`/`after_sensitive` masks, so
every value is redacted here, once, before anything renders it.

Format notes (checked against Terraform 1.0.3 and the documented 1.x format):
- `resource_changes[].change.actions` is one of ["no-op"], ["create"], ["read"],
  ["update"], ["delete", "create"], ["create", "delete"] or ["delete"].
- `replace_paths` (attribute paths that force replacement) is emitted by 1.0.3 already,
  but not by older releases (format_version 0.1); when it is absent on a replace, the
  changed top-level attributes stand in for it.
- `after_unknown` marks values known only after apply; they are shown as
  "(known after apply)".
- Output changes use the same action lists as resources.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cloud_engine.iac.plan import ChangeAction, PlanResult, ResourceChange

__all__ = ["REDACTED", "UNKNOWN", "parse_plan_json", "sensitive_values"]

REDACTED = "(sensitive)"
UNKNOWN = "(known after apply)"

_ACTIONS: dict[tuple[str, ...], ChangeAction] = {
    ("create",): "create",
    ("update",): "update",
    ("delete",): "delete",
    ("delete", "create"): "replace",
    ("create", "delete"): "replace",
    ("no-op",): "no-op",
    ("read",): "read",
}


def parse_plan_json(data: dict[str, Any]) -> PlanResult:
    """Build a redacted `PlanResult` from the decoded `terraform show -json` output."""
    version = str(data.get("format_version", ""))
    if not version or version.split(".")[0] not in ("0", "1"):
        raise ValueError(f"unsupported plan format_version {version!r}")
    changes = [_resource_change(rc) for rc in data.get("resource_changes") or []]
    outputs = {
        name: _action(change.get("actions") or [], f"output.{name}")
        for name, change in (data.get("output_changes") or {}).items()
    }
    return PlanResult(
        terraform_version=str(data.get("terraform_version", "")), changes=changes, output_changes=outputs
    )


def sensitive_values(data: dict[str, Any]) -> set[str]:
    """Every string value the plan marks sensitive (resources, outputs, variables).

    The runner adds these to its masker, so a provisioner or error message that echoes
    one is masked in the streamed output too.
    """
    found: set[str] = set()
    for rc in data.get("resource_changes") or []:
        change = rc.get("change") or {}
        found |= _strings_under_mask(change.get("before"), change.get("before_sensitive"))
        found |= _strings_under_mask(change.get("after"), change.get("after_sensitive"))
    for change in (data.get("output_changes") or {}).values():
        found |= _strings_under_mask(change.get("before"), change.get("before_sensitive"))
        found |= _strings_under_mask(change.get("after"), change.get("after_sensitive"))
    sensitive_vars = {
        name
        for name, decl in ((data.get("configuration") or {}).get("root_module") or {})
        .get("variables", {})
        .items()
        if isinstance(decl, dict) and decl.get("sensitive")
    }
    for name, var in (data.get("variables") or {}).items():
        if name in sensitive_vars and isinstance(var, dict):
            found |= set(_strings(var.get("value")))
    return found


def _resource_change(rc: dict[str, Any]) -> ResourceChange:
    change = rc.get("change") or {}
    address = str(rc.get("address", ""))
    actions = [str(a) for a in change.get("actions") or []]
    action = _action(actions, address)
    before_raw = change.get("before")
    after_raw = change.get("after")
    after_unknown = change.get("after_unknown")
    changed = _changed_attributes(action, before_raw, after_raw, after_unknown)
    if "replace_paths" in change:
        replace_paths = [_dotted(path) for path in change.get("replace_paths") or []]
    else:
        replace_paths = list(changed) if action == "replace" else []
    before = _redact(before_raw, change.get("before_sensitive"))
    after = _with_unknowns(_redact(after_raw, change.get("after_sensitive")), after_unknown)
    return ResourceChange(
        address=address,
        type=str(rc.get("type", "")),
        name=str(rc.get("name", "")),
        action=action,
        actions=actions,
        replace_paths=replace_paths,
        changed_attributes=changed,
        before=before if isinstance(before, dict) else None,
        after=after if isinstance(after, dict) else None,
    )


def _action(actions: list[str], address: str) -> ChangeAction:
    try:
        return _ACTIONS[tuple(actions)]
    except KeyError:
        raise ValueError(f"unknown Terraform action list {actions!r} for {address}") from None


def _changed_attributes(action: ChangeAction, before: Any, after: Any, after_unknown: Any) -> list[str]:
    """Top-level attributes whose value differs or becomes unknown; none for no-op and read."""
    if action in ("no-op", "read"):
        return []
    before_map = before if isinstance(before, dict) else {}
    after_map = after if isinstance(after, dict) else {}
    unknown_map = after_unknown if isinstance(after_unknown, dict) else {}
    keys = set(before_map) | set(after_map) | set(unknown_map)
    return sorted(
        key for key in keys if _is_unknown(unknown_map.get(key)) or before_map.get(key) != after_map.get(key)
    )


def _is_unknown(marker: Any) -> bool:
    """True when any part of an `after_unknown` marker is unknown."""
    if marker is True:
        return True
    if isinstance(marker, dict):
        return any(_is_unknown(v) for v in marker.values())
    if isinstance(marker, list):
        return any(_is_unknown(v) for v in marker)
    return False


def _redact(value: Any, mask: Any) -> Any:
    """Replace every value the sensitivity mask marks true with REDACTED, recursively."""
    if mask is True:
        return REDACTED if value is not None else None
    if isinstance(value, dict) and isinstance(mask, dict):
        return {k: _redact(v, mask.get(k)) for k, v in value.items()}
    if isinstance(value, list) and isinstance(mask, list):
        return [_redact(v, mask[i] if i < len(mask) else None) for i, v in enumerate(value)]
    return value


def _with_unknowns(value: Any, unknown: Any) -> Any:
    """Fill in UNKNOWN where `after_unknown` says a value is known only after apply."""
    if unknown is True:
        return UNKNOWN
    if isinstance(unknown, dict):
        base = dict(value) if isinstance(value, dict) else {}
        for key, marker in unknown.items():
            if _is_unknown(marker):
                base[key] = _with_unknowns(base.get(key), marker)
        return base if base or isinstance(value, dict) else value
    if isinstance(unknown, list) and isinstance(value, list):
        return [_with_unknowns(v, unknown[i] if i < len(unknown) else None) for i, v in enumerate(value)]
    return value


def _dotted(path: Any) -> str:
    """['root_block_device', 0, 'volume_type'] -> 'root_block_device.0.volume_type'."""
    if isinstance(path, list):
        return ".".join(str(step) for step in path)
    return str(path)


def _strings_under_mask(value: Any, mask: Any) -> set[str]:
    if mask is True:
        return set(_strings(value))
    if isinstance(value, dict) and isinstance(mask, dict):
        return set().union(*(_strings_under_mask(v, mask.get(k)) for k, v in value.items()))
    if isinstance(value, list) and isinstance(mask, list):
        return set().union(*(_strings_under_mask(v, mask[i]) for i, v in enumerate(value) if i < len(mask)))
    return set()


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield str(value)
