"""Where an import that the build could not resolve should have led: the project's own module
resolution (relative paths, `compilerOptions.paths` aliases and `baseUrl` of tsconfig.json or
jsconfig.json) done again case-insensitively, to name the real file of an import whose letter case
is wrong — it resolves on a case-insensitive laptop and fails on the Linux build host."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

EXTENSIONS = ("", ".tsx", ".ts", ".jsx", ".js", ".mjs", ".cjs", ".json")
_SPECIFIER = re.compile(r"""Can't resolve ['"](?P<spec>[^'"]+)['"]""")
_JSONC = re.compile(r'("(?:\\.|[^"\\])*")|//[^\n]*|/\*.*?\*/', re.DOTALL)


def specifier(message: str) -> str | None:
    """`./components/greeting` of "Module not found: Can't resolve './components/greeting'"."""
    m = _SPECIFIER.search(message)
    return m["spec"] if m else None


def load_jsonc(text: str) -> Any:
    """tsconfig.json as TypeScript reads it: comments and trailing commas allowed."""
    stripped = _JSONC.sub(lambda m: m[1] or "", text)
    return json.loads(re.sub(r",(\s*[}\]])", r"\1", stripped))


def _aliases(root: Path) -> tuple[str | None, dict[str, list[str]]]:
    """(baseUrl, paths) of the project's tsconfig.json or jsconfig.json."""
    for name in ("tsconfig.json", "jsconfig.json"):
        try:
            options = load_jsonc((root / name).read_text("utf-8")).get("compilerOptions") or {}
        except (OSError, ValueError, AttributeError):
            continue
        paths = {str(k): [str(t) for t in v] for k, v in (options.get("paths") or {}).items() if isinstance(v, list)}
        base = options.get("baseUrl")
        return (str(base) if isinstance(base, str) else None), paths
    return None, {}


def _candidates(root: Path, importer: str, spec: str) -> list[str]:
    """Project-relative paths (without extension) the specifier may name."""
    if spec.startswith(("./", "../")) or spec in (".", ".."):
        return [os.path.normpath(os.path.join(os.path.dirname(importer), spec))]
    base_url, paths = _aliases(root)
    base = base_url or "."
    found = []
    for pattern, targets in paths.items():
        prefix, star, suffix = pattern.partition("*")
        if star and spec.startswith(prefix) and spec.endswith(suffix) and len(spec) >= len(prefix) + len(suffix):
            rest = spec[len(prefix):len(spec) - len(suffix)]
            found += [os.path.normpath(os.path.join(base, t.replace("*", rest, 1))) for t in targets]
        elif not star and spec == pattern:
            found += [os.path.normpath(os.path.join(base, t)) for t in targets]
    if base_url is not None:
        found.append(os.path.normpath(os.path.join(base_url, spec)))
    return found


def _exists(root: Path, rel: str) -> bool:
    path = root / rel
    return any((path.parent / (path.name + ext)).is_file() for ext in EXTENSIONS) or \
        any((path / ("index" + ext)).is_file() for ext in EXTENSIONS[1:])


def _entries(folder: Path) -> list[str]:
    try:
        return sorted(e.name for e in folder.iterdir())
    except OSError:
        return []


def _walk_ignoring_case(root: Path, rel: str) -> str | None:
    """The real project-relative file `rel` names when letter case is ignored (with an extension
    or as a folder's index file); None when there is none."""
    parts = [p for p in rel.split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        return None
    folder = root
    real: list[str] = []
    for part in parts[:-1]:
        match = next((e for e in _entries(folder) if e.lower() == part.lower() and (folder / e).is_dir()), None)
        if match is None:
            return None
        real.append(match)
        folder = folder / match
    last = parts[-1].lower()
    entries = _entries(folder)
    for ext in EXTENSIONS:
        match = next((e for e in entries if e.lower() == last + ext and (folder / e).is_file()), None)
        if match is not None:
            return "/".join([*real, match])
    sub = next((e for e in entries if e.lower() == last and (folder / e).is_dir()), None)
    if sub is not None:
        index = next((e for e in _entries(folder / sub) for ext in EXTENSIONS[1:] if e == "index" + ext), None)
        if index is not None:
            return "/".join([*real, sub, index])
    return None


def case_mismatch(root: Path, importer: str | None, message: str) -> tuple[str, str] | None:
    """(specifier, real file) when the unresolved import of `message` in `importer` names an
    existing file of the project in another letter case; None otherwise (a missing file, a package)."""
    spec = specifier(message)
    if spec is None or importer is None:
        return None
    for rel in _candidates(root, importer, spec):
        if rel.startswith("..") or os.path.isabs(rel) or _exists(root, rel):
            continue
        real = _walk_ignoring_case(root, rel)
        if real is not None:
            return spec, real
    return None
