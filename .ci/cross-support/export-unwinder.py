#!/usr/bin/env python3
"""Give the unwinder's symbols in gcc's libgcc_eh.a objects default visibility.

libgcc_eh.a is the unwinder for static links, so its symbols are hidden; the
emulation runtime's libgcc_s.so.1 (see .ci/cross) is linked from those objects
and must export them. Rewrites st_other of the defined global and weak `_Unwind_*`,
`__gcc_personality_v0`, `__(de)register_frame*` and ARM EHABI symbols in place; any ELF
class and byte order.

usage: export-unwinder.py OBJECT...
"""
import struct
import sys

EXPORTED = (
    "_Unwind_",
    "__gcc_personality_v0",
    "__register_frame",
    "__deregister_frame",
    # ARM EHABI: the personality routines and the unwinder's entry points
    "__aeabi_unwind_cpp_pr",
    "__gnu_Unwind_",
    "__gnu_unwind_",
)


def unhide(path):
    with open(path, "rb") as f:
        elf = bytearray(f.read())
    if elf[:4] != b"\x7fELF":
        raise SystemExit(f"{path}: not ELF")
    wide = elf[4] == 2
    order = "<" if elf[5] == 1 else ">"
    if wide:
        shoff, = struct.unpack_from(order + "Q", elf, 0x28)
        shentsize, shnum = struct.unpack_from(order + "HH", elf, 0x3A)
    else:
        shoff, = struct.unpack_from(order + "I", elf, 0x20)
        shentsize, shnum = struct.unpack_from(order + "HH", elf, 0x2E)
    sections = []
    for i in range(shnum):
        at = shoff + i * shentsize
        if wide:
            _, kind, _, _, off, size, link, _, _, entsize = struct.unpack_from(order + "IIQQQQIIQQ", elf, at)
        else:
            _, kind, _, _, off, size, link, _, _, entsize = struct.unpack_from(order + "IIIIIIIIII", elf, at)
        sections.append((kind, off, size, link, entsize))
    changed = 0
    for kind, off, size, link, entsize in sections:
        if kind != 2:  # SHT_SYMTAB
            continue
        strtab = sections[link][1]
        for at in range(off, off + size, entsize):
            name_at, = struct.unpack_from(order + "I", elf, at)
            info_at, other_at, shndx_at = (at + 4, at + 5, at + 6) if wide else (at + 12, at + 13, at + 14)
            shndx, = struct.unpack_from(order + "H", elf, shndx_at)
            end = elf.index(b"\0", strtab + name_at)
            name = elf[strtab + name_at:end].decode()
            if elf[info_at] >> 4 in (1, 2) and shndx != 0 and name.startswith(EXPORTED) and elf[other_at] & 3:
                elf[other_at] &= ~3
                changed += 1
    with open(path, "wb") as f:
        f.write(elf)
    return changed


if __name__ == "__main__":
    total = sum(unhide(p) for p in sys.argv[1:])
    print(f"export-unwinder: {total} symbols exported")
