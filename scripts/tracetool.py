#!/usr/bin/env python3
"""tracetool: generate the tracepoint wrappers, gates, schema and contract.

USAGE: tracetool.py EVENTS_FILE header|source|contract > OUTPUT

EVENTS_FILE (src/trace-events) declares each tracepoint once: its name, a
one-line description, whether it is guarded, and its arguments in order
with names and types. From it this script writes:

  header    build/gen/tracepoints.h: for each tracepoint CTX:EV, the
            wrapper trace_CTX_EV(args...) that call sites use. It fires
            the USDT probe through include/trace.h (same name, argument
            order, sizes and semaphore as a hand-written TRACEPOINT) and,
            while a stream client subscribes, hands the event to
            lib/tracestream. A guarded tracepoint's wrapper is a macro
            that evaluates its arguments only while its gate is raised;
            trace_CTX_EV_active() tells the same for code that prepares
            an argument in statements.
  source    build/gen/tracepoints.c: the gates, the stream encoders, and
            tracepoints_events[], the schema lib/tracestream sends.
  contract  build/gen/tracepoints.md: the contract in the format
            contrib/devtools/check-tracepoints.py reads.

The model is QEMU's trace-events file and scripts/tracetool: one
declaration, several generated consumers. Standard library only; other
scripts import parse() (the tests check doc/tracing.md with it).
"""
import re
import sys

INT_TYPES = {  # name -> (C type, size in bytes, signed)
    "int32": ("int32_t", 4, True), "uint32": ("uint32_t", 4, False),
    "int64": ("int64_t", 8, True), "uint64": ("uint64_t", 8, False),
    "bool": ("bool", 1, False),
}
EVENT_LINE = re.compile(r'^([a-z][a-z0-9_]*):([a-z][a-z0-9_]*)((?:\s+guarded)?)\s+"([^"\\]+)"$')
ARG_LINE = re.compile(r"^\s+(int32|int64|uint32|uint64|bool|string\[(\d+)\]|"
                      r"bytes\[(\d+|[a-z][a-z0-9_]*)\])\s+([a-z][a-z0-9_]*)$")
MAX_ARGS = 12  # sys/sdt.h's limit


class Arg:
    def __init__(self, kind, name, size=None, len_arg=None):
        self.kind = kind          # int32 ... bool, "string" or "bytes"
        self.name = name
        self.size = size          # string: max length; bytes: fixed length
        self.len_arg = len_arg    # bytes[ARG]: index of the length argument

    @property
    def ctype(self):
        if self.kind == "string":
            return "const char *"
        if self.kind == "bytes":
            return "const uint8_t *"
        return INT_TYPES[self.kind][0] + " "

    @property
    def contract_type(self):
        """The type as doc/tracing.md and the checker spell it."""
        return {"string": "char*", "bytes": "u8*"}.get(self.kind, self.kind)


class Event:
    def __init__(self, context, name, guarded, description, line):
        self.context, self.name = context, name
        self.guarded = guarded
        self.description = description
        self.line = line
        self.args = []

    @property
    def full(self):
        return f"{self.context}:{self.name}"

    @property
    def ident(self):
        return f"{self.context}_{self.name}"


class DefinitionError(Exception):
    pass


def parse(text, path="trace-events"):
    """Return the list of Events declared in `text`; raise DefinitionError."""
    events, seen = [], set()
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip()
        where = f"{path}:{n}"
        if not line or line.lstrip().startswith("#"):
            continue
        m = EVENT_LINE.match(line)
        if m:
            ev = Event(m.group(1), m.group(2), bool(m.group(3).strip()), m.group(4), n)
            if ev.full in seen:
                raise DefinitionError(f"{where}: {ev.full} defined twice")
            seen.add(ev.full)
            events.append(ev)
            continue
        m = ARG_LINE.match(line)
        if not m or not events:
            raise DefinitionError(f"{where}: neither an event nor an argument line: {line!r}")
        ev = events[-1]
        typ, strmax, blen, name = m.group(1), m.group(2), m.group(3), m.group(4)
        if any(a.name == name for a in ev.args):
            raise DefinitionError(f"{where}: {ev.full}: argument {name} twice")
        if strmax:
            arg = Arg("string", name, size=int(strmax))
        elif blen and blen.isdigit():
            arg = Arg("bytes", name, size=int(blen))
        elif blen:
            idx = [i for i, a in enumerate(ev.args) if a.name == blen]
            if not idx or ev.args[idx[0]].kind not in ("int32", "uint32", "int64", "uint64"):
                raise DefinitionError(f"{where}: bytes[{blen}]: no earlier integer argument {blen}")
            arg = Arg("bytes", name, len_arg=idx[0])
        else:
            arg = Arg(typ, name)
        ev.args.append(arg)
        if len(ev.args) > MAX_ARGS:
            raise DefinitionError(f"{where}: {ev.full}: more than {MAX_ARGS} arguments")
    return events


# ---- build/gen/tracepoints.h -------------------------------------------------

HEADER_TOP = """\
/* Generated by scripts/tracetool.py from src/trace-events. Do not edit. */
#ifndef MONEYROCKET_TRACEPOINTS_H
#define MONEYROCKET_TRACEPOINTS_H

#include <stdbool.h>
#include <stdint.h>

#include "trace.h"
#include "tracestream.h"

/*
 * TRACE_DISABLE compiles every tracepoint away, USDT and stream alike;
 * without <sys/sdt.h> (TRACE_ENABLED 0) the stream still works.
 */
#ifndef TRACE_DISABLE
#define TRACEPOINTS_ON 1
#else
#define TRACEPOINTS_ON 0
#endif

/*
 * A guarded tracepoint's gate: its USDT semaphore (the note holds the
 * address of `usdt`; tracers count themselves there) with the stream's
 * subscriber count beside it, so one 4-byte compare tells whether anybody
 * listens. A plain tracepoint has only the stream count.
 */
union tracepoints_gate {
	struct {
		volatile uint16_t usdt;
		volatile uint16_t stream;
	} half;
	volatile uint32_t both;
};

/* Gates are the program's own, never another shared object's. */
#define TRACEPOINTS_HIDDEN __attribute__((visibility("hidden")))

/* The stream the node serves (NULL: none); set by its owner. */
extern struct tracestream *tracepoints_stream;
/* The schema: one entry per tracepoint, in src/trace-events order. */
extern const struct tracestream_event tracepoints_events[];
extern const unsigned tracepoints_n_events;

/* On x86 compare the counter in memory and branch: no load into a register. */
#if (defined(__x86_64__) || defined(__i386__)) && \\
	(defined(__clang__) ? __clang_major__ >= 9 : __GNUC__ >= 5)
static inline __attribute__((always_inline)) int
tracepoints_raised32(volatile uint32_t *gate)
{
	__asm__ goto("cmpl $0, %0\\n\\tjne %l1" : : "m"(*gate) : "cc" : raised);
	return 0;
raised:
	return 1;
}
static inline __attribute__((always_inline)) int
tracepoints_raised16(volatile uint16_t *count)
{
	__asm__ goto("cmpw $0, %0\\n\\tjne %l1" : : "m"(*count) : "cc" : raised);
	return 0;
raised:
	return 1;
}
#else
static inline int tracepoints_raised32(volatile uint32_t *gate)
{
	return *gate != 0;
}
static inline int tracepoints_raised16(volatile uint16_t *count)
{
	return *count != 0;
}
#endif
"""


def params(ev):
    return ", ".join(f"{a.ctype}{a.name}" for a in ev.args) or "void"


def names(ev):
    return ", ".join(a.name for a in ev.args)


def header_event(i, ev):
    out = [f"/* {ev.full}{' (guarded)' if ev.guarded else ''}: {ev.description} */",
           f"#define TRACEPOINTS_{ev.ident.upper()} {i}"]
    stream_fn = f"tracepoints_stream_{ev.ident}"
    out.append(f"void {stream_fn}({params(ev)});")
    probe_args = ", ".join([ev.context, ev.name] + [a.name for a in ev.args])
    if ev.guarded:
        out += [f"extern TRACEPOINTS_HIDDEN union tracepoints_gate {ev.ident}_semaphore;",
                f"#define trace_{ev.ident}_active() \\",
                f"\t(TRACEPOINTS_ON && __builtin_expect("
                f"tracepoints_raised32(&{ev.ident}_semaphore.both), 0))",
                f"static inline void trace_{ev.ident}_fire({params(ev)})",
                "{",
                f"\tTRACEPOINT({probe_args});",
                f"\tif ({ev.ident}_semaphore.half.stream)",
                f"\t\t{stream_fn}({names(ev)});",
                "}",
                f"#define trace_{ev.ident}({names(ev)}) \\",
                "\tdo { \\",
                f"\t\tif (trace_{ev.ident}_active()) \\",
                f"\t\t\ttrace_{ev.ident}_fire({names(ev)}); \\",
                "\t} while (0)"]
    else:
        out += [f"extern TRACEPOINTS_HIDDEN volatile uint16_t {ev.ident}_stream;",
                f"#define trace_{ev.ident}_active() \\",
                f"\t(TRACEPOINTS_ON && (TRACE_ENABLED || __builtin_expect("
                f"tracepoints_raised16(&{ev.ident}_stream), 0)))",
                f"static inline __attribute__((always_inline)) void "
                f"trace_{ev.ident}({params(ev)})",
                "{",
                "#if TRACEPOINTS_ON",
                f"\tTRACEPOINT({probe_args});",
                f"\tif (__builtin_expect(tracepoints_raised16(&{ev.ident}_stream), 0))",
                f"\t\t{stream_fn}({names(ev)});",
                "#else"]
        out += [f"\t(void){a.name};" for a in ev.args] + ["#endif", "}"]
    return "\n".join(out) + "\n"


def gen_header(events):
    parts = [HEADER_TOP]
    parts += [header_event(i, ev) for i, ev in enumerate(events)]
    parts.append(f"#define TRACEPOINTS_COUNT {len(events)}\n\n#endif\n")
    return "\n".join(parts)


# ---- build/gen/tracepoints.c -------------------------------------------------

SOURCE_TOP = """\
/* Generated by scripts/tracetool.py from src/trace-events. Do not edit. */
#include "tracepoints.h"

#include <string.h>

struct tracestream *tracepoints_stream;

/*
 * Gates of guarded tracepoints live in .probes like any USDT semaphore; the
 * symbol is the one the probe notes name, so the note holds its address.
 */
#if TRACE_ENABLED
#define TRACEPOINTS_GATE __attribute__((section(".probes"), used, aligned(4), \\
					 visibility("hidden")))
#else
#define TRACEPOINTS_GATE __attribute__((aligned(4)))
#endif
"""

STREAM_TYPE = {"int32": "TRACESTREAM_INT32", "uint32": "TRACESTREAM_UINT32",
               "int64": "TRACESTREAM_INT64", "uint64": "TRACESTREAM_UINT64",
               "bool": "TRACESTREAM_BOOL", "string": "TRACESTREAM_STRING",
               "bytes": "TRACESTREAM_BYTES"}


def field_entry(a):
    size = a.size if a.size is not None else 0
    len_arg = a.len_arg if a.len_arg is not None else -1
    return f'\t{{ "{a.name}", {STREAM_TYPE[a.kind]}, {size}, {len_arg} }},'


def encoder(i, ev):
    """The body of an event's stream function: sizes, then straight-line
    encoding into the reserved record (tracestream_proto.h's format)."""
    sizes, puts = [], []
    for a in ev.args:
        if a.kind == "string":
            sizes.append(f"2 + n_{a.name}")
            puts.append(f"\tp = tracestream_put_string(p, {a.name}, n_{a.name});")
        elif a.kind == "bytes" and a.len_arg is not None:
            sizes.append(f"4 + (size_t){ev.args[a.len_arg].name}")
            puts.append(f"\tp = tracestream_put_bytes(p, {a.name}, "
                        f"(size_t){ev.args[a.len_arg].name});")
        elif a.kind == "bytes":
            sizes.append(str(a.size))
            puts.append(f"\tp = tracestream_put(p, {a.name}, {a.size});")
        else:
            sizes.append(f"sizeof({a.name})")
            puts.append(f"\tp = tracestream_put(p, &{a.name}, sizeof({a.name}));")
    out = [f"\tsize_t n_{a.name} = tracestream_strnlen({a.name}, {a.size});"
           for a in ev.args if a.kind == "string"]
    out += ["\tstruct tracestream_txn txn;",
            f"\tuint8_t *p = tracestream_begin(tracepoints_stream, {i},",
            "\t\t\t\t\t" + (" +\n\t\t\t\t\t".join(sizes) or "0") + ", &txn);", "",
            "\tif (!p)", "\t\treturn;"]
    out += puts + ["\t(void)p;", "\ttracestream_commit(&txn);"]
    return out


def source_event(i, ev):
    gate = (f"TRACEPOINTS_GATE union tracepoints_gate {ev.ident}_semaphore;" if ev.guarded
            else f"TRACEPOINTS_HIDDEN volatile uint16_t {ev.ident}_stream;")
    counter = (f"&{ev.ident}_semaphore.half.stream" if ev.guarded else f"&{ev.ident}_stream")
    out = [f"/* {ev.full} */", gate]
    if ev.args:
        out += [f"static const struct tracestream_field {ev.ident}_fields[] = {{"]
        out += [field_entry(a) for a in ev.args] + ["};"]
    out += [f"void tracepoints_stream_{ev.ident}({params(ev)})", "{"]
    out += encoder(i, ev) + ["}"]
    return "\n".join(out) + "\n", counter


def gen_source(events):
    parts, counters = [SOURCE_TOP], []
    for i, ev in enumerate(events):
        text, counter = source_event(i, ev)
        parts.append(text)
        counters.append((ev, counter))
    table = ["const struct tracestream_event tracepoints_events[] = {"]
    for ev, counter in counters:
        fields = f"{ev.ident}_fields" if ev.args else "NULL"
        table.append(f'\t{{ "{ev.full}", "{ev.description}", {fields}, {len(ev.args)}, '
                     f"{counter} }},")
    table += ["};", f"const unsigned tracepoints_n_events = {len(events)};"]
    parts.append("\n".join(table) + "\n")
    return "\n".join(parts)


# ---- build/gen/tracepoints.md ------------------------------------------------

def gen_contract(events):
    out = ["# Tracepoints of moneyrocketd (generated from src/trace-events)", "",
           "The contract contrib/devtools/check-tracepoints.py holds each binary to.", ""]
    for ev in events:
        out += [f"### `{ev.full}`", "", ev.description, "",
                "Guarded: yes." if ev.guarded else "Guarded: no.", ""]
        if not ev.args:
            out += ["Arguments passed: none.", ""]
            continue
        out.append("Arguments passed:")
        for n, a in enumerate(ev.args, 1):
            out.append(f"{n}. `{a.contract_type}` {a.name}")
        out.append("")
    return "\n".join(out)


def main(argv):
    if len(argv) != 3 or argv[2] not in ("header", "source", "contract"):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    path = argv[1]
    try:
        with open(path, encoding="utf-8") as f:
            events = parse(f.read(), path)
    except (OSError, DefinitionError) as e:
        print(f"tracetool: {e}", file=sys.stderr)
        return 1
    gen = {"header": gen_header, "source": gen_source, "contract": gen_contract}[argv[2]]
    sys.stdout.write(gen(events))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
