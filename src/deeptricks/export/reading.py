"""Reading an exported page back: its stored states, its models, its arrays.

The tests and the size report look inside the files :func:`deeptricks.export.export_page`
writes: :func:`stored_tables` gives the tables of states as :func:`.states.store_states`
filed them, :func:`model_ids` finds models by name, and :func:`decode_array` turns a
serialized array back into numpy.
"""

from __future__ import annotations

import base64
import gzip
import json

import numpy as np

from .offline import document_json
from .states import STATES_NAME


def stored_tables(page_html: str) -> list[dict]:
    """The tables of stored states in an exported page (for tests and reports).

    Each is ``{"names": [control, ...], "patches": {key: [event, ...]}}``; a key joins the
    JSON of each control's stored value (a slider's index into its values, a button
    group's index, a switch's true/false) with ``|``.
    """
    out = []
    for docs in document_json(page_html):
        for doc in docs.values():
            for cb in _objects(doc, "CustomJS"):
                attrs = cb.get("attributes", {})
                if attrs.get("name") != STATES_NAME:
                    continue
                for table in _unmap(attrs["args"])["tables"]:
                    out.append({"names": table["names"],
                                "patches": {k: json.loads(v)["events"] for k, v in table["patches"].items()}})
                return out
    return out


def model_ids(page_html: str, name: str) -> list[str]:
    """Ids of the Bokeh models called ``name`` in an exported page."""
    ids = []
    for docs in document_json(page_html):
        for doc in docs.values():
            ids += [o["id"] for o in _objects(doc) if o.get("attributes", {}).get("name") == name]
    return ids


def decode_array(node: dict) -> np.ndarray:
    """A serialized ndarray (``{"type": "ndarray", ...}``) as numpy."""
    data = base64.b64decode(node["array"]["data"])
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return np.frombuffer(data, dtype=node["dtype"]).reshape(node["shape"])


def _objects(node, name: str | None = None) -> list[dict]:
    out = []
    if isinstance(node, dict):
        if node.get("type") == "object" and "id" in node and (name is None or node.get("name") == name):
            out.append(node)
        for v in node.values():
            out += _objects(v, name)
    elif isinstance(node, list):
        for v in node:
            out += _objects(v, name)
    return out


def _unmap(node):
    """Bokeh's serialized {"type": "map", "entries": [...]} back into dicts."""
    if isinstance(node, dict) and node.get("type") == "map" and "entries" in node:
        return {k: _unmap(v) for k, v in node["entries"]}
    if isinstance(node, dict):
        return {k: _unmap(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_unmap(v) for v in node]
    return node
