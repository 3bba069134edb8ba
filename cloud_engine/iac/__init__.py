"""Infrastructure as code: HCL generation per provider, the sandbox mirror, fmt, and plan models.

`escape_hcl_string` is the only path from user text into HCL; `render` turns resource
specs into a Terraform root's files (or the sandbox mirror); `logical_changes` reads a
sandbox plan back in terms of user resources.
"""

from cloud_engine.iac.fmt import terraform_fmt
from cloud_engine.iac.hcl import escape_hcl_string
from cloud_engine.iac.render import render, render_formatted
from cloud_engine.iac.sandbox import LogicalChange, logical_changes, render_sandbox

__all__ = [
    "LogicalChange",
    "escape_hcl_string",
    "logical_changes",
    "render",
    "render_formatted",
    "render_sandbox",
    "terraform_fmt",
]
