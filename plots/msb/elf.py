# SPDX-License-Identifier: GPL-2.0-only
"""ELF program headers, read with the standard library: whether a program is dynamically linked
(PT_INTERP), its loader and the libraries it names (DT_NEEDED). `msealbench vm` packs programs
with them; `msealbench try` tells a static program (LD_PRELOAD cannot reach it) from a dynamic one."""
import os
import struct


def elf_info(path):
    """(e_machine, has PT_INTERP) of a 64-bit little-endian ELF file, or None if it is not one."""
    try:
        with open(path, "rb") as f:
            head = f.read(64)
            if len(head) < 64 or head[:4] != b"\x7fELF" or head[4] != 2 or head[5] != 1:
                return None
            machine = struct.unpack_from("<H", head, 18)[0]
            phoff = struct.unpack_from("<Q", head, 32)[0]
            phentsize, phnum = struct.unpack_from("<HH", head, 54)
            f.seek(phoff)
            table = f.read(phentsize * phnum)
    except OSError:
        return None
    interp = any(struct.unpack_from("<I", table, i * phentsize)[0] == 3 for i in range(phnum)
                 if (i + 1) * phentsize <= len(table))
    return machine, interp


def elf_dynamic(path):
    """(PT_INTERP path or None, [DT_NEEDED names]) of a 64-bit little-endian ELF file."""
    with open(path, "rb") as f:
        data = f.read()
    phoff = struct.unpack_from("<Q", data, 32)[0]
    phentsize, phnum = struct.unpack_from("<HH", data, 54)
    interp, dynamic, loads = None, None, []
    for i in range(phnum):
        ptype, _, offset, vaddr, _, filesz = struct.unpack_from("<IIQQQQ", data, phoff + i * phentsize)
        if ptype == 3:
            interp = data[offset:offset + filesz].split(b"\0")[0].decode()
        elif ptype == 2:
            dynamic = (offset, filesz)
        elif ptype == 1:
            loads.append((vaddr, offset, filesz))
    if not dynamic:
        return interp, []
    entries = [struct.unpack_from("<qQ", data, dynamic[0] + i) for i in range(0, dynamic[1], 16)]
    strtab = next((v for t, v in entries if t == 5), None)
    strtab_off = next((o + strtab - va for va, o, sz in loads if va <= (strtab or -1) < va + sz), None)
    if strtab_off is None:
        return interp, []
    names = []
    for tag, value in entries:
        if tag == 1:
            start = strtab_off + value
            names.append(data[start:data.index(b"\0", start)].decode())
    return interp, names


def script_interpreter(path):
    """The interpreter a "#!" script names, or None when path is not such a script."""
    try:
        with open(path, "rb") as f:
            head = f.read(256)
    except OSError:
        return None
    if not head.startswith(b"#!"):
        return None
    words = head[2:].split(b"\n")[0].split()
    return os.fsdecode(words[0]) if words else None


def is_static_program(path):
    """True for an ELF program without PT_INTERP (statically linked, or the loader itself), following
    "#!" scripts to their interpreter; False for a dynamic one; None when path is not an ELF program
    or script that can be read."""
    for _ in range(4):   # the kernel follows at most 4 levels of interpreters
        interpreter = script_interpreter(path)
        if interpreter is None:
            break
        path = interpreter
    info = elf_info(path)
    return None if info is None else not info[1]


def build_id(path):
    """The GNU build ID (NT_GNU_BUILD_ID note of a PT_NOTE segment) of an ELF file as hex, or None."""
    try:
        with open(path, "rb") as f:
            data = f.read(1 << 16)   # the notes sit in the first pages of a program or library
    except OSError:
        return None
    if len(data) < 64 or data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return None
    phoff = struct.unpack_from("<Q", data, 32)[0]
    phentsize, phnum = struct.unpack_from("<HH", data, 54)
    for i in range(phnum):
        at = phoff + i * phentsize
        if at + 56 > len(data):
            break
        ptype, _, offset, _, _, filesz = struct.unpack_from("<IIQQQQ", data, at)
        pos, end = offset, min(offset + filesz, len(data))
        while ptype == 4 and pos + 12 <= end:
            namesz, descsz, ntype = struct.unpack_from("<III", data, pos)
            name_at = pos + 12
            desc_at = name_at + (namesz + 3) // 4 * 4
            if ntype == 3 and data[name_at:name_at + namesz] == b"GNU\0":
                return data[desc_at:desc_at + descsz].hex()
            pos = desc_at + (descsz + 3) // 4 * 4
    return None


def debug_file(path, root="/usr/lib/debug"):
    """The detached debug symbols of an ELF file (Debian's *-dbg packages put them under
    /usr/lib/debug/.build-id/NN/REST.debug), or None when none is installed."""
    bid = build_id(path)
    if not bid or len(bid) < 4:
        return None
    candidate = os.path.join(root, ".build-id", bid[:2], bid[2:] + ".debug")
    return candidate if os.path.isfile(candidate) else None
