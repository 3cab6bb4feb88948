#!/usr/bin/env python3
"""Derive talhorn's compact Talos config tables from the upstream JSON schemas.

Reads  <shared>/upstream/talos/v1.<minor>/config.schema.json  (draft 2020-12, root `oneOf`
over document types, `$ref` into `$defs`) and writes  data/talos/v1.<minor>.json  with:

  talos          "v1.<minor>"
  source_sha256  sha256 of the schema file it was derived from (the Rust staleness test checks it)
  legacy         the shape of the legacy v1alpha1 document (`machine:`/`cluster:` ...)
  kinds          document kind -> shape, for every other document type of that version
                 (as Talos registers it: see KIND_CORRECTIONS and UNDOCUMENTED_KINDS)

A shape is one of (serde's externally tagged form, read by src/knowledge/talos_schema.rs):

  "string" | "integer" | "boolean" | "anyObject"
  {"boundedInteger": {"minimum": n, "maximum": n}}   (either bound may be absent)
  {"enum": [values]}
  {"list": {"items": shape, "minItems": n}}          (minItems may be absent)
  {"map": shape}                      open map (patternProperties / additionalProperties schema)
  {"oneOf": [shapes]}
  {"object": {"properties": {name: shape}, "required": [names], "removed": {name: "v1.X"}}}

`$ref`s are inlined. Every object also carries the properties that an OLDER supported version
documented at the same place and this version's schema dropped: Talos keeps those fields
(`docgen:nodoc` / `Deprecated`) and still decodes them, so the linter must report them as
deprecated (TAL008), not as unknown keys, and can still type-check them. `removed` maps such a
property to the last version whose schema documented it.

Usage:
  tools/derive-talos-schema.py [--shared DIR] [--out DIR]      write the tables
  tools/derive-talos-schema.py [--shared DIR] [--out DIR] --check
                                                               exit 1 when a table is stale
Python 3 standard library only.
"""

import argparse
import hashlib
import json
import sys
from pathlib import Path

MINORS = range(9, 15)  # the Talos minors talhorn supports: v1.9 ... v1.14
# Where the schema disagrees with what Talos registers (`registry.Register(<Kind>Kind, …)` in
# siderolabs/talos `pkg/machinery/config/types/`, checked on release-1.9 … release-1.14):
# the schema's `kind` enum names these documents differently from the decoder,
KIND_CORRECTIONS = {
    # network/kubespan_endpoints.go: KubespanEndpointsKind = "KubeSpanEndpointsConfig"
    "KubeSpanEndpoints": "KubeSpanEndpointsConfig",
    # runtime/unattended_install.go (release-1.14): UnattendedInstallConfigKind = "UnattendedInstallConfig"
    "UnattendedInstall": "UnattendedInstallConfig",
}
# and these registered kinds have no schema at all (kind -> first minor); their contents are
# not checked.
UNDOCUMENTED_KINDS = {
    # security/image_verification.go (release-1.13 and release-1.14)
    "ImageVerificationConfig": 13,
}
# Types the schema describes by their Go fields that Talos decodes from a string with a custom
# `UnmarshalYAML` (pkg/machinery/config/types/v1alpha1/v1alpha1_types.go: `Endpoint` wraps a
# `*url.URL` parsed from text, e.g. `machine.logging.destinations[].endpoint:
# udp://127.0.0.1:12345`, Talos's own example).
DECODED_FROM_STRING = {"v1alpha1.Endpoint"}
ANNOTATIONS = {"title", "description", "markdownDescription", "x-intellij-html-description"}
MAX_DEPTH = 40  # the schemas are not recursive; this only guards against a future cycle


def version_name(minor):
    return f"v1.{minor}"


class Schema:
    """One version's schema with `$ref` resolution."""

    def __init__(self, minor, path):
        self.minor = minor
        self.raw = path.read_bytes()
        self.doc = json.loads(self.raw)
        self.defs = self.doc["$defs"]

    def resolve(self, node):
        seen = set()
        while isinstance(node, dict) and "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            if name in seen or name not in self.defs:
                raise SystemExit(f"{version_name(self.minor)}: cannot resolve $ref {node['$ref']}")
            seen.add(name)
            if name in DECODED_FROM_STRING:
                return {"type": "string"}
            node = self.defs[name]
        return node

    def roots(self):
        """(kind or None for the legacy document, root schema node) for every document type."""
        for entry in self.doc["oneOf"]:
            node = self.resolve(entry)
            kind_enum = node.get("properties", {}).get("kind", {}).get("enum")
            if kind_enum:
                if len(kind_enum) != 1:
                    raise SystemExit(f"{version_name(self.minor)}: kind enum {kind_enum} is not a single value")
                yield KIND_CORRECTIONS.get(kind_enum[0], kind_enum[0]), node
            else:
                yield None, node


def shape_class(node):
    """What kind of shape a resolved schema node is, to decide which older nodes can merge."""
    if "oneOf" in node:
        return "oneOf"
    if "enum" in node:
        return "enum"
    kind = node.get("type")
    if kind == "object":
        if "properties" in node:
            return "object"
        if "patternProperties" in node or isinstance(node.get("additionalProperties"), dict):
            return "map"
        return "anyObject"
    if kind in ("string", "boolean", "integer", "array"):
        return kind
    raise SystemExit(f"unsupported schema node: {json.dumps({k: v for k, v in node.items() if k not in ANNOTATIONS})}")


def map_values(node):
    pattern = node.get("patternProperties")
    if pattern:
        if list(pattern) != [".*"]:
            raise SystemExit(f"unsupported patternProperties {list(pattern)}")
        return pattern[".*"]
    return node["additionalProperties"]


def merge(candidates, current_minor, depth=0):
    """Shape for one place in the tree.

    `candidates` is a list of (schema, node) for every version that has this place, newest
    first. The newest decides the shape; older versions only contribute object properties
    that the newer ones dropped.
    """
    if depth > MAX_DEPTH:
        return "anyObject"
    resolved = [(schema, schema.resolve(node)) for schema, node in candidates]
    newest_schema, newest = resolved[0]
    cls = shape_class(newest)
    same = [(s, n) for s, n in resolved if shape_class(n) == cls]
    if cls == "oneOf":
        return {"oneOf": [merge([(newest_schema, alt)], current_minor, depth + 1) for alt in newest["oneOf"]]}
    if cls == "enum":
        return {"enum": list(newest["enum"])}
    if cls in ("string", "boolean", "anyObject"):
        return cls
    if cls == "integer":
        # `machine.disks[].partitions[].size` is typed integer, but its Go type also decodes
        # "100 GB"; its description says so, and that is the only integer field that does.
        if "human readable" in newest.get("description", ""):
            return {"oneOf": ["integer", "string"]}
        bounds = {k: newest[k] for k in ("minimum", "maximum") if k in newest}
        return {"boundedInteger": bounds} if bounds else "integer"
    if cls == "array":
        items = [(s, n["items"]) for s, n in same if "items" in n]
        item_shape = merge(items, current_minor, depth + 1) if items else "anyObject"
        listed = {"items": item_shape}
        if "minItems" in newest:
            listed["minItems"] = newest["minItems"]
        return {"list": listed}
    if cls == "map":
        return {"map": merge([(s, map_values(n)) for s, n in same], current_minor, depth + 1)}
    # An object: the union of every version's properties at this place.
    names = []
    for _, node in same:
        for name in node["properties"]:
            if name not in names:
                names.append(name)
    properties, removed = {}, {}
    for name in names:
        having = [(s, n["properties"][name]) for s, n in same if name in n["properties"]]
        properties[name] = merge(having, current_minor, depth + 1)
        if newest_schema.minor == current_minor and name not in newest["properties"]:
            removed[name] = version_name(having[0][0].minor)
    return {
        "object": {
            "properties": properties,
            "required": sorted(newest.get("required", [])),
            "removed": removed,
        }
    }


def derive(schemas, minor):
    """The table for `minor`, merging in what older versions documented."""
    history = [schemas[m] for m in sorted(schemas, reverse=True) if m <= minor]
    current = schemas[minor]
    roots_by_version = [(schema, dict(schema.roots())) for schema in history]
    legacy = merge([(s, roots[None]) for s, roots in roots_by_version if None in roots], minor)
    kinds = {}
    for kind, _ in current.roots():
        if kind is None:
            continue
        kinds[kind] = merge([(s, roots[kind]) for s, roots in roots_by_version if kind in roots], minor)
    for kind, since in UNDOCUMENTED_KINDS.items():
        if minor >= since:
            kinds[kind] = "anyObject"
    return {
        "talos": version_name(minor),
        "source_sha256": hashlib.sha256(current.raw).hexdigest(),
        "legacy": legacy,
        "kinds": kinds,
    }


def render(table):
    return json.dumps(table, sort_keys=True, separators=(",", ":")) + "\n"


def main():
    repo = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=repo.parent / "shared")
    parser.add_argument("--out", type=Path, default=repo / "data" / "talos")
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args()

    schemas = {}
    for minor in MINORS:
        path = args.shared / "upstream" / "talos" / version_name(minor) / "config.schema.json"
        if not path.is_file():
            raise SystemExit(f"missing {path}")
        schemas[minor] = Schema(minor, path)

    stale = []
    for minor in MINORS:
        text = render(derive(schemas, minor))
        target = args.out / f"{version_name(minor)}.json"
        if args.check:
            if not target.is_file() or target.read_text(encoding="utf-8") != text:
                stale.append(str(target))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    if stale:
        print("stale derived Talos tables (run tools/derive-talos-schema.py):", *stale, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
