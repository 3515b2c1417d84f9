"""Kernel module files for stand-in packages: a minimal ELF64 object whose `.modinfo` section the real `modinfo`
(kmod) reads, so the roles' checks of the on-disk module version run the real tool."""

from __future__ import annotations

import struct

_ELF_HEADER = "<16sHHIQQQIHHHHHH"
_SECTION = "<IIQQQQIIQQ"
_SHSTRTAB = b"\0.modinfo\0.shstrtab\0"


def _section(name: int, kind: int, flags: int, offset: int, size: int) -> bytes:
    return struct.pack(_SECTION, name, kind, flags, 0, offset, size, 0, 0, 1, 0)


def module_file(fields: dict[str, str]) -> bytes:
    """An x86-64 relocatable ELF with a `.modinfo` section of `key=value` strings (version, license, ...)."""
    modinfo = b"".join(f"{key}={value}".encode() + b"\0" for key, value in fields.items())
    modinfo_at = 64
    names_at = modinfo_at + len(modinfo)
    sections_at = (names_at + len(_SHSTRTAB) + 7) & ~7
    # ELFCLASS64, little endian, ET_REL, EM_X86_64, three section headers, .shstrtab is the third.
    header = struct.pack(
        _ELF_HEADER, b"\x7fELF\x02\x01\x01" + bytes(9), 1, 62, 1, 0, 0, sections_at, 0, 64, 0, 0, 64, 3, 2
    )
    sections = _section(0, 0, 0, 0, 0) + _section(1, 1, 2, modinfo_at, len(modinfo))
    sections += _section(10, 3, 0, names_at, len(_SHSTRTAB))
    body = header + modinfo + _SHSTRTAB
    return body + bytes(sections_at - len(body)) + sections
