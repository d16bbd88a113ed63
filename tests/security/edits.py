"""What an attacker does to a genuine bundle: edit mlcli.json (and recompute the sha256 of what they changed, so
the hash check alone saves nothing), rewrite the skops file's schema node by node, write zips by hand, and
build resource bombs that stay small on disk (deflate streams, sparse files, .npy headers that lie).

Plain data manipulation only: nothing here imports mlcli, skops or the model libraries.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import shutil
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

META = "mlcli.json"
PIPELINE = "pipeline.skops"
ROWS = "train_rows.npy"

GiB = 1 << 30
MiB = 1 << 20


# --------------------------------------------------------------------------------------------- files

def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(MiB), b""):
            h.update(block)
    return h.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_meta(bundle: Path) -> dict[str, Any]:
    return json.loads((bundle / META).read_text())


def write_meta(bundle: Path, meta: Any) -> None:
    """As json.dumps writes it: NaN and Infinity included (Python's json writes and reads them)."""
    (bundle / META).write_text(json.dumps(meta, indent=2))


def edit_meta(bundle: Path, change: Callable[[dict[str, Any]], Any]) -> None:
    """``change`` edits the description in place (what it returns is ignored)."""
    meta = read_meta(bundle)
    change(meta)
    write_meta(bundle, meta)


def rehash(bundle: Path, *names: str) -> None:
    """Record the current sha256 of ``names`` in mlcli.json, as an attacker who edited them would."""
    meta = read_meta(bundle)
    for name in names:
        meta["files"][name] = sha256(bundle / name)
    write_meta(bundle, meta)


def relist_all(bundle: Path) -> None:
    """List every regular file of the bundle (links not followed) with its sha256, and nothing else."""
    meta = read_meta(bundle)
    meta["files"] = {p.relative_to(bundle).as_posix(): sha256(p) for p in sorted(regular_files(bundle))
                     if p.name != META or p.parent != bundle}
    write_meta(bundle, meta)


def regular_files(folder: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(folder):
        for name in files:
            path = Path(root, name)
            if path.is_file() and not path.is_symlink():
                yield path


def flip_byte(path: Path, at: float = 0.5) -> None:
    """Change one byte (the one at the given share of the file's length)."""
    data = bytearray(path.read_bytes())
    i = min(len(data) - 1, int(len(data) * at))
    data[i] ^= 0x5A
    path.write_bytes(bytes(data))


def copy_tree(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, symlinks=True)
    return dst


def replace_with_link(path: Path, target: Path) -> None:
    """``path`` becomes a symbolic link to ``target`` (a file or a directory)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()
    path.symlink_to(target, target_is_directory=target.is_dir())


# --------------------------------------------------------------------------------------------- zips

def zip_members(path: Path) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(path) as z:
        return [(info.filename, z.read(info.filename)) for info in z.infolist()]


def write_zip(path: Path, members: list[tuple[str, bytes]]) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            z.writestr(name, data)


def edit_skops(bundle: Path, change: Callable[[dict[str, Any]], Any], *, name: str = PIPELINE,
               hash_it: bool = True) -> None:
    """Rewrite the skops file's schema.json with ``change`` (in place; what it returns is ignored); the file's
    sha256 is recorded again unless ``hash_it`` is False."""
    path = bundle / name
    members = zip_members(path)
    out = []
    for member, data in members:
        if member == "schema.json":
            schema = json.loads(data)
            change(schema)
            data = json.dumps(schema).encode()
        out.append((member, data))
    write_zip(path, out)
    if hash_it:
        rehash(bundle, name)


def raw_deflate(data: bytes, level: int = 9) -> bytes:
    c = zlib.compressobj(level, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


class RawMember:
    """A zip member given as its raw deflate stream (what ZipFile cannot write: a stream made by hand)."""

    def __init__(self, name: str, stream: bytes, crc: int, size: int):
        self.name, self.stream, self.crc, self.size = name, stream, crc, size


def write_raw_zip(path: Path, members: list[RawMember]) -> None:
    """A plain zip (no zip64: every member under 4 GiB), each member deflated."""
    local, central = bytearray(), bytearray()
    for m in members:
        name = m.name.encode()
        offset = len(local)
        local += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, m.crc, len(m.stream), m.size,
                             len(name), 0) + name + m.stream
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, m.crc, len(m.stream),
                               m.size, len(name), 0, 0, 0, 0, 0, offset) + name
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), len(local), 0)
    path.write_bytes(bytes(local + central + end))


def member(name: str, data: bytes) -> RawMember:
    return RawMember(name, raw_deflate(data), zlib.crc32(data), len(data))


def inflating_member(name: str, prefix: bytes, filler: bytes = b" ", size: int = GiB) -> RawMember:
    """A member that inflates to ``prefix`` followed by ``filler`` bytes up to at least ``size`` bytes, from
    about size / 1000 bytes on disk: the same deflate blocks repeated, each ending at a full flush (so no
    block refers back into the one before it)."""
    chunk = 16 * MiB
    block = filler[:1] * chunk
    head = zlib.compressobj(9, zlib.DEFLATED, -15)
    stream = bytearray(head.compress(prefix) + head.flush(zlib.Z_FULL_FLUSH))
    piece = zlib.compressobj(9, zlib.DEFLATED, -15)
    piece_bytes = piece.compress(block) + piece.flush(zlib.Z_FULL_FLUSH)
    crc = zlib.crc32(prefix)
    total = len(prefix)
    while total < size:
        stream += piece_bytes
        crc = zlib.crc32(block, crc)
        total += chunk
    stream += zlib.compressobj(9, zlib.DEFLATED, -15).flush()  # the final (empty) block
    return RawMember(name, bytes(stream), crc, total)


# --------------------------------------------------------------------------------------------- .npy

def npy_header(descr: str, shape: tuple[int, ...]) -> bytes:
    """A version 1.0 .npy header declaring ``shape`` of ``descr`` values (the data after it may be short)."""
    text = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape!r}, }}"
    pad = 64 - (10 + len(text) + 1) % 64
    header = (text + " " * pad + "\n").encode("latin1")
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header


def sparse_file(path: Path, prefix: bytes, size: int) -> None:
    """``prefix`` then zero bytes up to ``size``: a hole, so nothing of the size is on disk."""
    with open(path, "wb") as fh:
        fh.write(prefix)
        fh.truncate(size)


# --------------------------------------------------------------------------------------------- skops nodes

_ids = itertools.count(7_000_000_000_000_000)


def new_id() -> int:
    """Node ids no genuine file uses: skops memoises nodes by id, so an inserted node must not collide."""
    return next(_ids)


def str_node(text: str) -> dict[str, Any]:
    return {"__class__": "str", "__module__": "builtins", "__loader__": "JsonNode", "content": json.dumps(text),
            "is_json": True, "__id__": new_id()}


def json_node(value: Any) -> dict[str, Any]:
    return {"__class__": type(value).__name__, "__module__": "builtins", "__loader__": "JsonNode",
            "content": json.dumps(value), "is_json": True, "__id__": new_id()}


def type_node(module: str, name: str) -> dict[str, Any]:
    return {"__class__": name, "__module__": module, "__loader__": "TypeNode", "__id__": new_id()}


def tuple_node(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"__class__": "tuple", "__module__": "builtins", "__loader__": "TupleNode", "content": items,
            "__id__": new_id()}


def list_node(items: list[Any]) -> dict[str, Any]:
    return {"__class__": "list", "__module__": "builtins", "__loader__": "ListNode", "content": items,
            "__id__": new_id()}


def dict_node(content: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {"__class__": "dict", "__module__": "builtins", "__loader__": "DictNode", "content": content,
            "key_types": list_node([type_node("builtins", "str") for _ in content]), "__id__": new_id()}


def object_node(module: str, name: str, attrs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {"__class__": name, "__module__": module, "__loader__": "ObjectNode", "content": dict_node(attrs),
            "__id__": new_id()}


def partial_node(func: dict[str, Any], args: list[dict[str, Any]]) -> dict[str, Any]:
    return {"__class__": "partial", "__module__": "functools", "__loader__": "PartialNode",
            "content": {"func": func, "args": tuple_node(args), "kwds": dict_node({}), "namespace": json_node(None)},
            "__id__": new_id()}


def methodcaller_node(method: str, *args: str) -> dict[str, Any]:
    return {"__class__": "methodcaller", "__module__": "operator", "__loader__": "OperatorFuncNode",
            "attrs": tuple_node([str_node(method), *map(str_node, args)]), "__id__": new_id()}


def function_transformer_node(func: dict[str, Any], sklearn_version: str) -> dict[str, Any]:
    """sklearn's FunctionTransformer (a type mlcli trusts) around ``func``, as skops writes it."""
    attrs = {"func": func, "inverse_func": json_node(None), "validate": json_node(False),
             "accept_sparse": json_node(False), "check_inverse": json_node(True), "feature_names_out": json_node(None),
             "kw_args": json_node(None), "inv_kw_args": json_node(None), "_sklearn_version": str_node(sklearn_version)}
    return object_node("sklearn.preprocessing._function_transformer", "FunctionTransformer", attrs)


def walk_nodes(node: Any) -> Iterator[dict[str, Any]]:
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack += list(item.values())
        elif isinstance(item, list):
            stack += item


def nodes_of(schema: dict[str, Any], class_name: str) -> list[dict[str, Any]]:
    return [n for n in walk_nodes(schema) if n.get("__class__") == class_name and "__loader__" in n]


def attrs_of(node: dict[str, Any]) -> dict[str, Any]:
    """The attribute nodes of an ObjectNode (its DictNode's content)."""
    return node["content"]["content"]


def pipeline_steps(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The TupleNodes (name, step) of the bundle's top pipeline."""
    assert schema["__class__"] == "Pipeline", schema["__class__"]
    return attrs_of(schema)["steps"]["content"]


def step_name(step: dict[str, Any]) -> str:
    return json.loads(step["content"][0]["content"])


def rename_step(step: dict[str, Any], name: str) -> None:
    step["content"][0] = str_node(name)


def insert_step(schema: dict[str, Any], name: str, node: dict[str, Any], at: int = 0) -> None:
    pipeline_steps(schema).insert(at, tuple_node([str_node(name), node]))


def sklearn_version(schema: dict[str, Any]) -> str:
    for node in walk_nodes(schema):
        version = node.get("_sklearn_version") if isinstance(node, dict) else None
        if isinstance(version, dict) and version.get("__loader__") == "JsonNode":
            return json.loads(version["content"])
    return "1.9.1"
