#!/bin/sh
# Regenerates the golden captures: for every <case>.nft here, runs `nft --debug=mnl -f <case>.nft` (Debian's
# nftables 1.0.6) inside a throwaway network namespace (`unshare -n`: private, empty ruleset, lo is ifindex 1)
# and writes <case>.hex (the batch's messages, BATCH_BEGIN..BATCH_END, one netlink message per line as hex)
# and <case>.mnl (nft's own --debug=mnl dump of everything it sent and received, kept for humans).
#
# Why a shim and not just --debug=mnl: libmnl's debug printer shows nlmsg_flags only as the letters of the
# four lowest bits (R/M/A/E), not NLM_F_CREATE/EXCL/APPEND/REPLACE, and the issue asks for a comparison
# including the headers. So capture-shim.c (compiled here with gcc, LD_PRELOADed into nft only) records the
# exact datagram bytes nft passes to sendmsg/sendto, keeping only the datagram that carries BATCH_BEGIN.
# The --debug=mnl dump is then used to cross-check every captured message: length, type, the R/M/A/E flag
# bits, sequence number, port id and every payload byte (attribute headers are rebuilt from the printed
# len/flags/type). A capture that disagrees with nft's own dump fails this script.
#
# Usage: sudo ./capture.sh [case ...]     (needs root for unshare -n; nft, gcc and python3 on PATH)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
shim=$(mktemp -d)/nlf-capture-shim.so
gcc -shared -fPIC -O2 -Wall -o "$shim" "$here/capture-shim.c" -ldl

if [ $# -gt 0 ]; then cases="$*"; else cases=$(cd "$here" && ls *.nft | sed 's/\.nft$//'); fi

for c in $cases; do
    rm -f "$here/$c.hex" "$here/$c.mnl"
    unshare -n sh -c "ip link set lo up && NLF_CAPTURE='$here/$c.hex' LD_PRELOAD='$shim' nft --debug=mnl -f '$here/$c.nft'" \
        > "$here/$c.mnl.raw" 2>&1 || { cat "$here/$c.mnl.raw"; echo "capture.sh: nft failed on $c" >&2; exit 1; }
    # strip terminal colours from the debug dump
    sed 's/\x1b\[[0-9;]*m//g' "$here/$c.mnl.raw" > "$here/$c.mnl"
    rm -f "$here/$c.mnl.raw"
    [ -s "$here/$c.hex" ] || { echo "capture.sh: no batch captured for $c" >&2; exit 1; }
    python3 - "$here/$c.hex" "$here/$c.mnl" <<'PY'
import re, struct, sys
hexfile, mnlfile = sys.argv[1], sys.argv[2]
captured = [bytes.fromhex(l.strip()) for l in open(hexfile) if l.strip()]
# Parse libmnl's debug dump into messages: (len, type, letters, seq, pid, body bytes after the 16-byte header).
msgs, cur, state = [], None, None
for line in open(mnlfile):
    line = line.rstrip("\n")
    m = re.match(r"\|\s+(\d{10})\s+\|\s+\| message length \|", line)
    if m:
        cur = {"len": int(m.group(1)), "body": bytearray()}; msgs.append(cur); continue
    if cur is None: continue
    m = re.match(r"\| (\d{5}) \| ([RMAE-]{4}) \|\s+\|  type \| flags  \|", line)
    if m: cur["type"], cur["letters"] = int(m.group(1)), m.group(2); continue
    m = re.match(r"\|\s+(\d{10})\s+\|\s+\| sequence number\|", line)
    if m: cur["seq"] = int(m.group(1)); continue
    m = re.match(r"\|\s+(\d{10})\s+\|\s+\|     port ID    \|", line)
    if m: cur["pid"] = int(m.group(1)); continue
    m = re.match(r"\|(\d{5})\|([N-])([B-])\|(\d{5})\|\s+\|len \|flags\| type\|", line)
    if m:
        t = int(m.group(4)) | (0x8000 if m.group(2) == "N" else 0) | (0x4000 if m.group(3) == "B" else 0)
        cur["body"] += struct.pack("<HH", int(m.group(1)), t); continue
    m = re.match(r"\| ([0-9a-f]{2}) ([0-9a-f]{2}) ([0-9a-f]{2}) ([0-9a-f]{2})  \|\s+\|\s+(data|extra header)\s+\|", line)
    if m: cur["body"] += bytes(int(g, 16) for g in m.groups()[:4]); continue
# the batch: from the first BATCH_BEGIN (16) to the next BATCH_END (17)
start = next(i for i, m in enumerate(msgs) if m.get("type") == 16)
end = next(i for i in range(start, len(msgs)) if msgs[i].get("type") == 17)
batch = msgs[start:end + 1]
if len(batch) != len(captured):
    sys.exit(f"{hexfile}: shim captured {len(captured)} messages, --debug=mnl shows {len(batch)}")
for i, (raw, m) in enumerate(zip(captured, batch)):
    length, mtype, flags, seq, pid = struct.unpack_from("<IHHII", raw)
    letters = "".join(c if flags & b else "-" for c, b in zip("RMAE", (1, 2, 4, 8)))
    if (length, mtype, letters, seq, pid) != (m["len"], m["type"], m["letters"], m["seq"], m["pid"]):
        sys.exit(f"{hexfile}: message {i} header differs from --debug=mnl: {(length, mtype, letters, seq, pid)} vs {m}")
    body = bytes(m["body"])
    if raw[16:16 + len(body)] != body or len(body) < len(raw) - 16 - 3:
        sys.exit(f"{hexfile}: message {i} payload differs from --debug=mnl\n  shim {raw[16:].hex()}\n  mnl  {body.hex()}")
PY
    echo "$c: $(wc -l < "$here/$c.hex") messages (cross-checked with --debug=mnl)"
done
rm -rf "$(dirname "$shim")"
