"""Read the Terraform tree with the hcl2 parser checkov uses; write each module's README table.

    python infra/terraform/tfdocs.py          # rewrite the tables in modules/*/README.md
    python infra/terraform/tfdocs.py --check  # exit 1 when a table is out of date

tests/deploy/test_terraform.py uses the same functions to check module calls against the
modules' variables and outputs."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hcl2.api import load as load_hcl

ROOT = Path(__file__).resolve().parent
BEGIN, END = "<!-- tfdocs:begin -->", "<!-- tfdocs:end -->"
# Arguments of a module block that are not input variables.
META_ARGUMENTS = {"source", "version", "providers", "count", "for_each", "depends_on"}


@dataclass
class Variable:
    name: str
    description: str
    type: str
    required: bool
    default: Any = None


@dataclass
class ModuleCall:
    name: str
    source: str
    arguments: set[str]
    file: Path


@dataclass
class Directory:
    path: Path
    variables: dict[str, Variable] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    calls: list[ModuleCall] = field(default_factory=list)
    texts: dict[Path, str] = field(default_factory=dict)


def first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def clean_type(value: Any) -> str:
    text = str(first(value)) if value is not None else "any"
    return re.sub(r"^\$\{(.*)\}$", r"\1", text, flags=re.S)


def parse_file(path: Path) -> dict[str, Any]:
    with path.open() as handle:
        parsed: dict[str, Any] = load_hcl(handle)
    return parsed


def parse_file_values(path: Path) -> dict[str, Any]:
    """A .tfvars file as name => value."""
    return {name: first(value) for name, value in parse_file(path).items()}


def read_directory(path: Path) -> Directory:
    directory = Directory(path)
    for tf in sorted(path.glob("*.tf")):
        directory.texts[tf] = tf.read_text()
        parsed = parse_file(tf)
        for block in parsed.get("variable", []):
            for name, body in block.items():
                directory.variables[name] = Variable(
                    name,
                    str(first(body.get("description", ""))),
                    clean_type(body.get("type")),
                    "default" not in body,
                    first(body.get("default")),
                )
        for block in parsed.get("output", []):
            for name, body in block.items():
                directory.outputs[name] = str(first(body.get("description", "")))
        for block in parsed.get("module", []):
            for name, body in block.items():
                arguments = {key for key in body if not key.startswith("__")} - META_ARGUMENTS
                directory.calls.append(ModuleCall(name, str(first(body["source"])), arguments, tf))
    return directory


def module_dirs() -> list[Path]:
    return sorted(p for p in (ROOT / "modules").iterdir() if p.is_dir())


def root_dirs() -> list[Path]:
    return sorted([*(p for p in (ROOT / "envs").iterdir() if p.is_dir()), ROOT / "bootstrap"])


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table(directory: Directory) -> str:
    lines = ["### Inputs", "", "| Name | Description | Type | Required |", "| --- | --- | --- | --- |"]
    for v in sorted(directory.variables.values(), key=lambda v: (not v.required, v.name)):
        kind = cell(" ".join(v.type.split()))
        lines.append(f"| `{v.name}` | {cell(v.description)} | `{kind}` | {'yes' if v.required else 'no'} |")
    lines += ["", "### Outputs", "", "| Name | Description |", "| --- | --- |"]
    lines += [f"| `{name}` | {cell(text)} |" for name, text in sorted(directory.outputs.items())]
    return "\n".join(lines)


def rendered_readme(path: Path) -> str:
    readme = path / "README.md"
    current = readme.read_text() if readme.exists() else f"# {path.name}\n\n{BEGIN}\n{END}\n"
    if BEGIN not in current:
        current += f"\n{BEGIN}\n{END}\n"
    head, rest = current.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{table(read_directory(path))}\n{END}{tail}"


def main(argv: list[str]) -> int:
    stale = []
    for path in module_dirs():
        wanted = rendered_readme(path)
        readme = path / "README.md"
        if readme.exists() and readme.read_text() == wanted:
            continue
        if "--check" in argv:
            stale.append(str(readme.relative_to(ROOT)))
        else:
            readme.write_text(wanted)
    if stale:
        sys.stderr.write("out of date (run python infra/terraform/tfdocs.py): " + ", ".join(stale) + "\n")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
