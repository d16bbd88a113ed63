"""Resource limits a bundle's files must keep before anything reads them whole.

A zip archive declares how large each member inflates to, and an array file declares its shape in a short
header: both are read (a few hundred bytes each) and compared with what the model can need before skops or
NumPy allocates anything. A 1 MiB pipeline file whose schema inflates to 1 GiB, or an array header that
declares 2^40 values in a file of a few bytes, is refused in milliseconds instead of exhausting memory.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import IO, Any

# an archive may inflate to this much plus RATIO times its own size: real pipelines inflate 3 to 15 times
# (many small array headers), a deflate bomb about a thousand times
BASE_INFLATED = 64 << 20
RATIO = 100
MAX_MEMBERS = 500_000
MAX_HEADER = 10_000  # bytes of an .npy header (NumPy's own default limit)
MAX_SAFETENSORS_HEADER = 100 << 20  # the safetensors library's own limit


def archive_problem(path: Path, size: int | None = None) -> str | None:
    """What makes the skops archive at ``path`` unsafe to read, or None."""
    try:
        with zipfile.ZipFile(path) as z:
            return _members_problem(z, path.stat().st_size if size is None else size, depth=0)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        return f"is not a readable archive ({type(exc).__name__}: {str(exc)[:80]})"


def _members_problem(z: zipfile.ZipFile, size: int, depth: int) -> str | None:
    infos = z.infolist()
    if len(infos) > MAX_MEMBERS:
        return f"holds {len(infos):,} members (at most {MAX_MEMBERS:,})"
    inflated = sum(i.file_size for i in infos)
    limit = BASE_INFLATED + RATIO * size
    if inflated > limit:
        return (f"would inflate to {inflated / 2**20:,.0f} MiB from {size / 2**20:,.1f} MiB on disk (at most "
                f"{limit / 2**20:,.0f} MiB): a decompression bomb")
    names = set()
    for info in infos:
        if info.filename in names:
            return f"holds the member {info.filename!r} twice"
        names.add(info.filename)
        if info.flag_bits & 0x1:
            return f"holds an encrypted member {info.filename!r}"
        if info.filename.endswith(".npy"):
            with z.open(info) as fh:
                problem = npy_problem(fh, info.file_size)
            if problem:
                return f"member {info.filename} {problem}"
        elif info.filename.endswith(".npz"):
            if depth > 0:
                return f"nests archives in {info.filename}"
            inner = z.read(info)
            try:
                with zipfile.ZipFile(io.BytesIO(inner)) as nested:
                    problem = _members_problem(nested, len(inner), depth + 1)
            except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
                problem = f"is not a readable archive ({type(exc).__name__})"
            if problem:
                return f"member {info.filename} {problem}"
    return None


def npy_problem(fh: IO[bytes], size: int) -> str | None:
    """What is wrong with the array file open at ``fh`` (``size`` bytes in all), or None: its header must be
    readable, its type plain (no Python objects) and the values it declares must fit in the file."""
    from numpy.lib import format as npy

    try:
        major, _ = npy.read_magic(fh)
        read = npy.read_array_header_1_0 if major == 1 else npy.read_array_header_2_0
        shape, _, dtype = read(fh, max_header_size=MAX_HEADER)
    except (ValueError, OSError, EOFError, SyntaxError, TypeError) as exc:
        return f"is not a readable array file ({str(exc)[:80]})"
    if dtype.hasobject:
        return "holds Python objects"
    count = 1
    for n in shape:
        count *= int(n)
    if count * max(dtype.itemsize, 1) > size:
        return (f"declares {count:,} values of {dtype.itemsize} bytes ({_shape(shape)}) in a file of "
                f"{size:,} bytes")
    return None


def npy_file_problem(path: Path) -> str | None:
    with open(path, "rb") as fh:
        return npy_problem(fh, path.stat().st_size)


def safetensors_problem(path: Path) -> str | None:
    """What is wrong with a safetensors weights file, or None: its JSON header (length in the first 8 bytes)
    must fit in the file and be readable, and every tensor's bytes must lie inside the file."""
    import json
    import struct

    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(8)
        if len(head) < 8:
            return "is not a safetensors file (shorter than its header)"
        (length,) = struct.unpack("<Q", head)
        if length > min(size - 8, MAX_SAFETENSORS_HEADER):
            return f"declares a header of {length:,} bytes in a file of {size:,} bytes: not a safetensors file"
        try:
            header = json.loads(fh.read(length))
        except (ValueError, RecursionError) as exc:
            return f"has an unreadable header ({str(exc)[:60]})"
    if not isinstance(header, dict):
        return "has a header that is not a table of tensors"
    end = size - 8 - length
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        offsets = entry.get("data_offsets") if isinstance(entry, dict) else None
        if (not isinstance(offsets, list) or len(offsets) != 2 or not all(isinstance(v, int) for v in offsets)
                or not 0 <= offsets[0] <= offsets[1] <= end):
            return f"places tensor {str(name)[:40]!r} outside the file"
    return None


def _shape(shape: Any) -> str:
    return "shape " + "x".join(str(n) for n in shape) if shape else "a scalar"
