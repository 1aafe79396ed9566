"""The ``json`` backend: the canonical snapshot of the whole set."""

from __future__ import annotations

from .. import collector
from .. import model as m
from ..snapshot import to_json

LANG = "json"
OWNS = "kstate-snapshot.json"


@collector.paused()
def render(schema_set: m.SchemaSet) -> dict[str, str]:
    return {OWNS: to_json(schema_set)}
