"""The scenario-parameter reference (docs/parameters.md), generated from the schema in :mod:`sim.scenario`.

Regenerate with ``python -m sim.scenario.reference > docs/parameters.md``; a test checks it is current.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from sim.scenario.events import EVENT_MODELS
from sim.scenario.schema import Scenario


def _allowed(info) -> str:
    """What a field accepts, in words: type, bounds or choices."""
    from typing import get_args, get_origin

    import annotated_types

    annotation = info.annotation
    parts: list[str] = []
    if get_origin(annotation) is Literal:
        return "one of " + ", ".join(f"`{v}`" for v in get_args(annotation))
    if get_origin(annotation) is list:
        inner = get_args(annotation)[0]
        if get_origin(inner) is Literal:
            return "list of " + ", ".join(f"`{v}`" for v in get_args(inner))
        return f"list of {getattr(inner, '__name__', str(inner))}"
    if get_origin(annotation) is dict:
        _key, value = get_args(annotation)
        if get_origin(value) is Literal:
            return "table of province or group = strategy"
        if get_origin(value) is list:
            return "table of field = list of numbers"
        return "table of name = number"
    parts.append(getattr(annotation, "__name__", str(annotation)))
    for meta in info.metadata:
        for attr, sign in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            value = getattr(meta, attr, None)
            if value is not None and isinstance(meta, annotated_types.BaseMetadata):
                parts.append(f"{sign} {value}")
    return " ".join(parts[:1]) + (" " + ", ".join(parts[1:]) if len(parts) > 1 else "")


def parameter_reference() -> str:
    """Every scenario key with its default, what it accepts and what it means, as Markdown."""
    lines = ["# Scenario parameters", "",
             "Every key a scenario file may set, generated from the schema in `sim/scenario/` "
             "(`python -m sim.scenario.reference > docs/parameters.md`). The basis of each value is in "
             "[ODD.md](ODD.md). Events (`[[events]]`) are listed at the end.", ""]

    def table(model: type[BaseModel], prefix: str) -> None:
        rows = []
        for name, info in model.model_fields.items():
            annotation = info.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                continue
            default = info.default
            shown = f"`{default!r}`" if not isinstance(default, str) else f'`"{default}"`'
            if info.is_required():
                shown = "required"
            description = (info.description or "").replace("\n", " ").replace("|", "/")
            rows.append(f"| `{prefix}{name}` | {shown} | {_allowed(info)} | {description} |")
        if rows:
            lines.extend(["| key | default | allowed | meaning |", "|---|---|---|---|", *rows, ""])

    def walk(model: type[BaseModel], prefix: str, heading: str) -> None:
        lines.extend([f"## {heading}", ""])
        doc = (model.__doc__ or "").strip().splitlines()
        if doc:
            lines.extend([doc[0], ""])
        table(model, prefix)
        for name, info in model.model_fields.items():
            annotation = info.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                walk(annotation, f"{prefix}{name}.", f"`[{prefix}{name}]`")

    walk(Scenario, "", "Top level")
    for kind, model in EVENT_MODELS.items():
        lines.extend([f"## Event `{kind}`", ""])
        table(model, "")
    return "\n".join(lines).rstrip() + "\n"




if __name__ == "__main__":
    print(parameter_reference(), end="")
