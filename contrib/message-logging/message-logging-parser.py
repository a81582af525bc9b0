#!/usr/bin/env python3
"""Turn moneyrocketd's -logmessages files into one JSON array.

USAGE:
    message-logging-parser.py FILE_OR_DIR... [-o OUT]

With -logmessages the node writes every message it sends or receives to
DATADIR/message_logging/<peer address>/msgs_sent.dat and msgs_recv.dat
(doc/message-logging.md). Give this script those files, or directories to
search for them. It prints (or writes to OUT) one JSON array holding the
messages of all files, sorted by time:

    {"direction": "recv" | "sent", "time": <microseconds since epoch>,
     "size": <payload bytes>, "msgtype": "<type>", "body": {<decoded>}}

A message of an unknown type or one that does not decode gets an "error"
field, and its body is the payload as hex. A truncated record at the end of a
file (the node was writing it) becomes an entry with an error too; its time
is that of the file's previous record when its own is cut off.

Decoding uses the functional tests' codec, test/functional/framework/
messages.py, found relative to this script.

EXAMPLES:
    message-logging-parser.py ~/.moneyrocket/message_logging -o msgs.json
    message-logging-parser.py DIR/message_logging/127.0.0.1_28444/*.dat
"""
import argparse
import json
import struct
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "test" / "functional"))
from framework.messages import DecodeError, decode_message  # noqa: E402

RECORD_HEADER = struct.Struct("<Q12sI")  # time (us), msgtype, payload length


def direction_of(path):
    """"recv" or "sent" from a file name like msgs_recv.dat."""
    name = path.name
    if "recv" in name:
        return "recv"
    if "sent" in name:
        return "sent"
    raise ValueError(f"{path}: cannot tell the direction from the name "
                     "(expected msgs_recv.dat or msgs_sent.dat)")


def msgtype_of(raw):
    """The type text of a 12-byte NUL-padded field, and an error if it is
    not NUL-padded printable ASCII."""
    text = raw.rstrip(b"\0")
    ok = (len(text) > 0 and b"\0" not in text and all(0x20 <= c <= 0x7e for c in text))
    return text.decode("ascii", errors="replace"), None if ok else "malformed message type"


def entry(direction, time_us, msgtype, payload, error=None):
    """One JSON entry; the body decoded, or hex with an error."""
    e = {"direction": direction, "time": time_us, "size": len(payload), "msgtype": msgtype}
    if error is None:
        try:
            e["body"] = decode_message(msgtype, payload)
            return e
        except DecodeError as exc:
            error = exc.reason
    e["body"] = payload.hex()
    e["error"] = error
    return e


def read_file(path):
    """Every record of one .dat file as an entry, in file order."""
    direction = direction_of(path)
    data = path.read_bytes()
    out, off, last_time = [], 0, 0
    while off < len(data):
        if len(data) - off < RECORD_HEADER.size:
            rest = data[off:]
            msgtype = ""
            if len(rest) >= 8:
                last_time, = struct.unpack_from("<Q", rest)
            if len(rest) >= 20:
                msgtype = msgtype_of(rest[8:20])[0]
            out.append(entry(direction, last_time, msgtype, rest,
                             f"truncated record: {len(rest)} of {RECORD_HEADER.size} "
                             "header bytes"))
            break
        time_us, raw_type, length = RECORD_HEADER.unpack_from(data, off)
        msgtype, type_error = msgtype_of(raw_type)
        start = off + RECORD_HEADER.size
        payload = data[start:start + length]
        if len(payload) < length:
            out.append(entry(direction, time_us, msgtype, payload,
                             f"truncated record: {len(payload)} of {length} payload bytes"))
            break
        out.append(entry(direction, time_us, msgtype, payload, type_error))
        last_time = time_us
        off = start + length
    return out


def find_files(args):
    """The .dat files named, and those under directories named."""
    files = []
    for arg in args:
        p = Path(arg)
        if p.is_dir():
            files.extend(sorted(p.rglob("msgs_*.dat")))
        elif p.exists():
            files.append(p)
        else:
            raise FileNotFoundError(f"{p}: no such file or directory")
    return files


def main():
    ap = argparse.ArgumentParser(
        description="Parse moneyrocketd -logmessages files into one JSON array.",
        epilog="Example: %(prog)s DATADIR/message_logging -o messages.json")
    ap.add_argument("paths", nargs="+", metavar="FILE_OR_DIR",
                    help="msgs_recv.dat / msgs_sent.dat files, or directories to search")
    ap.add_argument("-o", "--output", help="write the JSON here instead of stdout")
    args = ap.parse_args()

    try:
        files = find_files(args.paths)
        entries = []
        for f in files:
            entries.extend(read_file(f))
    except (OSError, ValueError) as e:
        print(f"message-logging-parser: {e}", file=sys.stderr)
        return 1
    # sorted() is stable: equal times keep file order, and each file is in
    # the order the node wrote it.
    entries = sorted(entries, key=lambda e: e["time"])
    text = json.dumps(entries, indent=2) + "\n"
    if args.output:
        Path(args.output).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
