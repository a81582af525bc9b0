#!/usr/bin/env python3
"""Hold a binary's USDT tracepoints to their contract document.

USAGE: check-tracepoints.py BINARY CONTRACT.md [CONTRACT.md...] [--partial] [--quiet]

Reads the binary's systemtap probe notes (the ELF section .note.stapsdt)
and the tracepoints documented in CONTRACT.md, and reports every
difference: a tracepoint documented but not in the binary, one in the
binary but not documented, a different argument count, or an argument
whose size or signedness differs from its documented type. A tracepoint
compiled in at several sites is checked at every site.

Contract format: a markdown heading holding the name in backticks
(`context:event`), then a numbered list with one item per argument, in
order; the first backticked token of an item that is a known type
(`int64`, `char*`, ...) is that argument's type. A tracepoint without
arguments says "Arguments passed: none." A guarded tracepoint (one whose
arguments are prepared only while a tracer is attached) says "Guarded: yes"
on a line of its own; the binary must then give every site of it one
semaphore, inside the `.probes` section, and must give no other tracepoint
a semaphore.

Several contracts are read as one (a test program's own tracepoints plus
the node's generated contract, build/gen/tracepoints.md).

Exit status: 0 all match, 1 mismatch, 2 usage or I/O error.
--quiet prints nothing when everything matches. --partial is for a program
that links only part of what the contract documents (a benchmark over the
chain code, say): a documented tracepoint missing from the binary is then
not a mismatch; everything else is checked as usual.

Standard library only: the ELF notes are parsed here with `struct`.
"""
import re
import struct
import sys

EXIT_OK, EXIT_MISMATCH, EXIT_ERROR = 0, 1, 2

# Type vocabulary: name -> (size in bytes, signed). Pointers are unsigned
# and as wide as an address, which depends on the ELF class (None here).
TYPES = {
    "int8": (1, True), "uint8": (1, False),
    "int16": (2, True), "uint16": (2, False),
    "int32": (4, True), "uint32": (4, False),
    "int64": (8, True), "uint64": (8, False),
    "bool": (1, False),
    "char*": (None, False), "u8*": (None, False),
}

TRACEPOINT_NAME = re.compile(r"^[a-z0-9_]+:[a-z0-9_]+$")
HEADING = re.compile(r"^ {0,3}#{1,6}(\s|$)")
FENCE = re.compile(r"^ {0,3}(```|~~~)")
LIST_ITEM = re.compile(r"^ {0,3}(\d+)[.)]\s+(.*)$")
BACKTICKED = re.compile(r"`([^`]+)`")
NO_ARGS = re.compile(r"arguments\s+passed\s*:\s*none\b", re.IGNORECASE)
GUARDED = re.compile(r"^\s*guarded\s*:\s*yes\b", re.IGNORECASE)
# One sdt argument is "[-]SIZE@OPERAND"; operands may hold spaces on some
# architectures ("8@[sp, 16]" on arm64), so split before each "SIZE@".
SDT_ARG = re.compile(r"(?:^|(?<=\s))(-?\d+)@")

NT_STAPSDT = 3


class CheckError(Exception):
    """A usage or I/O problem: reported on stderr, exit status 2."""


# ---- The binary --------------------------------------------------------------

class Site:
    """One probe site: a .note.stapsdt entry."""

    def __init__(self, provider, name, pc, semaphore, args):
        self.name = f"{provider}:{name}"
        self.pc = pc
        self.semaphore = semaphore
        self.args = args  # list of (size, signed)


def _elf_layout(data):
    """Return (struct prefix, pointer size) for an ELF image, or raise."""
    if len(data) < 64 or data[:4] != b"\x7fELF":
        raise CheckError("not an ELF file")
    elf_class, elf_data = data[4], data[5]
    if elf_class not in (1, 2) or elf_data not in (1, 2):
        raise CheckError("unsupported ELF class or byte order")
    return ("<" if elf_data == 1 else ">"), (8 if elf_class == 2 else 4)


def _section_headers(data, endian, ptr):
    """Yield (name, type, offset, size, align, address) for each section."""
    if ptr == 8:
        shoff, = struct.unpack_from(endian + "Q", data, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from(endian + "HHH", data, 0x3A)
        fmt = endian + "IIQQQQIIQQ"
    else:
        shoff, = struct.unpack_from(endian + "I", data, 0x20)
        shentsize, shnum, shstrndx = struct.unpack_from(endian + "HHH", data, 0x2E)
        fmt = endian + "IIIIIIIIII"
    if shoff == 0 or shnum == 0:
        return
    if shoff + shnum * shentsize > len(data) or shstrndx >= shnum:
        raise CheckError("truncated or corrupt section header table")
    headers = [struct.unpack_from(fmt, data, shoff + i * shentsize)
               for i in range(shnum)]
    strtab_off, strtab_size = headers[shstrndx][4], headers[shstrndx][5]
    strtab = data[strtab_off:strtab_off + strtab_size]
    for sh_name, sh_type, _flags, addr, off, size, _l, _i, align, _e in headers:
        end = strtab.find(b"\0", sh_name)
        name = strtab[sh_name:end if end >= 0 else None].decode("ascii", "replace")
        yield name, sh_type, off, size, align, addr


def _parse_sdt_args(text):
    """Turn "-8@%rax 8@x(%rip)" into [(8, True), (8, False)]."""
    return [(abs(int(size)), size.startswith("-"))
            for size in SDT_ARG.findall(text)]


def _parse_notes(section, endian, ptr, align):
    """Yield a Site for each stapsdt note in a NOTE section's bytes."""
    pad = (lambda n: (n + align - 1) & ~(align - 1))
    pos = 0
    while pos + 12 <= len(section):
        namesz, descsz, ntype = struct.unpack_from(endian + "III", section, pos)
        name_at = pos + 12
        desc_at = name_at + pad(namesz)
        pos = desc_at + pad(descsz)
        if desc_at + descsz > len(section):
            raise CheckError("truncated .note.stapsdt entry")
        owner = section[name_at:name_at + namesz].rstrip(b"\0")
        if owner != b"stapsdt" or ntype != NT_STAPSDT:
            continue
        desc = section[desc_at:desc_at + descsz]
        if len(desc) < 3 * ptr:
            raise CheckError("truncated .note.stapsdt descriptor")
        word = endian + ("Q" if ptr == 8 else "I")
        pc, = struct.unpack_from(word, desc, 0)
        semaphore, = struct.unpack_from(word, desc, 2 * ptr)
        strings = desc[3 * ptr:].split(b"\0")
        if len(strings) < 3:
            raise CheckError("malformed .note.stapsdt descriptor")
        provider, probe, args = (s.decode("ascii", "replace") for s in strings[:3])
        yield Site(provider, probe, pc, semaphore, _parse_sdt_args(args))


def read_sites(path):
    """Return (sites, pointer size, .probes address ranges) for the ELF file
    at `path`."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise CheckError(f"cannot read binary {path}: {e.strerror}") from None
    try:
        endian, ptr = _elf_layout(data)
        sites, probes = [], []
        for name, sh_type, off, size, align, addr in _section_headers(data, endian, ptr):
            if name == ".probes":
                probes.append((addr, addr + size))
            if name == ".note.stapsdt" and sh_type == 7:  # SHT_NOTE
                note_align = 8 if align == 8 else 4
                sites.extend(_parse_notes(data[off:off + size], endian, ptr,
                                          note_align))
    except CheckError as e:
        raise CheckError(f"{path}: {e}") from None
    except struct.error:
        raise CheckError(f"{path}: truncated or corrupt ELF file") from None
    return sites, ptr, probes


# ---- The contract document ---------------------------------------------------

class Documented:
    """A tracepoint as the contract describes it."""

    def __init__(self, name, line):
        self.name = name
        self.line = line
        self.types = []          # type names, in argument order
        self.numbers = []        # list numbers as written, to catch gaps
        self.says_none = False
        self.guarded = False
        self.problems = []       # contract-format errors for this entry


def _heading_tracepoint(line):
    """The `context:event` named in a heading line, or None."""
    for token in BACKTICKED.findall(line):
        if TRACEPOINT_NAME.match(token.strip()):
            return token.strip()
    return None


def _item_type(text):
    """The first backticked known type in a list item, or None."""
    for token in BACKTICKED.findall(text):
        if token.strip() in TYPES:
            return token.strip()
    return None


def _close_item(entry, item):
    """Record a finished list item (number, text) on entry."""
    if entry is None or item is None:
        return
    number, text = item
    entry.numbers.append(number)
    arg_type = _item_type(text)
    if arg_type is None:
        entry.problems.append(f"argument {number} names no known type "
                              f"(one of {', '.join(TYPES)})")
        arg_type = "?"
    entry.types.append(arg_type)


def parse_contract(text):
    """Return {name: Documented} for every tracepoint heading in `text`."""
    entries, order = {}, []
    entry, item, in_fence = None, None, False
    for lineno, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        if HEADING.match(line):
            _close_item(entry, item)
            item = None
            name = _heading_tracepoint(line)
            entry = Documented(name, lineno) if name else None
            if entry:
                if name in entries:
                    entries[name].problems.append(
                        f"documented twice (lines {entries[name].line} and {lineno})")
                    entry = None
                else:
                    entries[name] = entry
                    order.append(name)
            continue
        if entry is None:
            continue
        m = LIST_ITEM.match(line)
        if m:
            _close_item(entry, item)
            item = (int(m.group(1)), m.group(2))
        elif item is not None and line.strip() and line[:1].isspace():
            item = (item[0], item[1] + " " + line.strip())  # continuation
        else:
            _close_item(entry, item)
            item = None
            if NO_ARGS.search(line):
                entry.says_none = True
            if GUARDED.search(line):
                entry.guarded = True
    _close_item(entry, item)
    for e in entries.values():
        _check_entry_shape(e)
    return {name: entries[name] for name in order}


def _check_entry_shape(entry):
    """Note an entry whose argument list is missing or misnumbered."""
    if entry.says_none and entry.types:
        entry.problems.append("says 'Arguments passed: none.' but lists arguments")
    elif not entry.says_none and not entry.types:
        entry.problems.append("has no argument list (write 'Arguments passed: none.' "
                              "if it takes none)")
    if entry.numbers != list(range(1, len(entry.numbers) + 1)):
        entry.problems.append("arguments are not numbered 1, 2, 3, ... in order")


def read_contract(path):
    """Parse the contract at `path`, raising CheckError if unreadable."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise CheckError(f"cannot read contract {path}: {e.strerror}") from None
    except UnicodeDecodeError:
        raise CheckError(f"cannot read contract {path}: not UTF-8 text") from None
    return parse_contract(text)


# ---- Comparison --------------------------------------------------------------

def _describe(size, signed):
    return f"{size} bytes {'signed' if signed else 'unsigned'}"


def _type_shape(type_name, ptr):
    size, signed = TYPES[type_name]
    return (ptr if size is None else size), signed


def compare_site(site, entry, ptr, where):
    """Return mismatch lines for one binary site against its entry."""
    if len(site.args) != len(entry.types):
        return [f"{where}: has {len(site.args)} arguments in the binary, "
                f"documented {len(entry.types)}"]
    problems = []
    for i, ((size, signed), type_name) in enumerate(zip(site.args, entry.types), 1):
        if type_name == "?":
            continue
        want = _type_shape(type_name, ptr)
        if (size, signed) != want:
            problems.append(f"{where}: argument {i} is {_describe(size, signed)} in "
                            f"the binary, documented {type_name} ({_describe(*want)})")
    return problems


def compare_semaphores(name, group, guarded, probes):
    """Mismatches of one tracepoint's semaphores: a guarded one has the same
    nonzero semaphore at every site, inside `.probes`; any other has none."""
    addresses = sorted({site.semaphore for site in group})
    if not guarded:
        if addresses != [0]:
            return [f"{name}: has a semaphore in the binary but is not documented "
                    f"as guarded (add 'Guarded: yes')"]
        return []
    if 0 in addresses:
        return [f"{name}: documented as guarded but a site has no semaphore"]
    if len(addresses) > 1:
        return [f"{name}: its sites have different semaphores "
                f"({', '.join(hex(a) for a in addresses)})"]
    if not any(lo <= addresses[0] and addresses[0] + 2 <= hi for lo, hi in probes):
        return [f"{name}: semaphore {addresses[0]:#x} is not in the .probes section"]
    return []


def compare(sites, ptr, contract, partial=False, probes=()):
    """Return every mismatch between the binary's sites and the contract;
    with `partial`, documented tracepoints may be absent from the binary.
    `probes` are the address ranges of the binary's `.probes` sections."""
    by_name = {}
    for site in sites:
        by_name.setdefault(site.name, []).append(site)
    problems = []
    for name, entry in contract.items():
        problems += [f"{name}: contract: {p}" for p in entry.problems]
        if name not in by_name:
            if not partial:
                problems.append(f"{name}: documented but not in the binary")
            continue
        group = by_name[name]
        for n, site in enumerate(group, 1):
            where = name if len(group) == 1 else \
                f"{name} (site {n} of {len(group)}, pc {site.pc:#x})"
            problems += compare_site(site, entry, ptr, where)
        problems += compare_semaphores(name, group, entry.guarded, probes)
    for name in by_name:
        if name not in contract:
            problems.append(f"{name}: in the binary but not documented")
    return problems


def main(argv):
    flags = {a for a in argv[1:] if a in ("--quiet", "--partial")}
    args = [a for a in argv[1:] if a not in flags]
    quiet, partial = "--quiet" in flags, "--partial" in flags
    if len(args) < 2 or any(a.startswith("-") for a in args):
        print("usage: check-tracepoints.py BINARY CONTRACT.md [CONTRACT.md...] "
              "[--partial] [--quiet]", file=sys.stderr)
        return EXIT_ERROR
    binary, docs = args[0], args[1:]
    doc = " + ".join(docs)
    try:
        sites, ptr, probes = read_sites(binary)
        contract = {}
        for path in docs:
            for name, entry in read_contract(path).items():
                if name in contract:
                    entry.problems.append(f"documented in more than one of {doc}")
                contract[name] = entry
    except CheckError as e:
        print(f"check-tracepoints: {e}", file=sys.stderr)
        return EXIT_ERROR
    problems = compare(sites, ptr, contract, partial, probes)
    for line in problems:
        print(line)
    names = {s.name for s in sites}
    counts = (f"{len(contract)} documented, {len(names)} in the binary "
              f"at {len(sites)} sites{', partial' if partial else ''}")
    if problems:
        print(f"check-tracepoints: {binary} vs {doc}: {len(problems)} "
              f"mismatch{'es' if len(problems) != 1 else ''} ({counts})")
        return EXIT_MISMATCH
    if not quiet:
        print(f"check-tracepoints: {binary} vs {doc}: all match ({counts})")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main(sys.argv))
