#!/usr/bin/env python3
"""Write small valid inputs for each fuzz target into fuzz/seeds/<target>/.

Valid encodings let the fuzzer start deep inside the parsers instead of
discovering the magic numbers by chance. Layouts: docs/repository-format.md.
"""
import json, os, struct

here = os.path.dirname(os.path.abspath(__file__))
golden = os.path.join(here, "..", "crates", "cli", "tests", "fixtures", "golden-v1")

def put(target, name, data):
    d = os.path.join(here, "seeds", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

def entry(kind, idb, off, length, raw):
    return bytes([kind, 0]) + idb + struct.pack("<III", off, length, raw)

e1 = entry(0, bytes(range(32)), 8, 100, 90)
e2 = entry(1, bytes(range(32, 64)), 108, 50, 200)
put("pack_header", "two-entries", bytes([1]) + struct.pack("<I", 2) + e1 + e2)
put("pack_header", "empty", bytes([1]) + struct.pack("<I", 0))
put("pack_header", "tail", struct.pack("<I", 77) + b"HKPKTRL\x01")

put("index_file", "one-pack", b"HKINDEX\x01" + struct.pack("<I", 1) + bytes(range(100, 132)) + struct.pack("<I", 2) + e1 + e2)
put("index_file", "empty", b"HKINDEX\x01" + struct.pack("<I", 0))

with open(os.path.join(golden, "config"), "rb") as f:
    put("json_documents", "config", f.read())
keys = os.path.join(golden, "keys")
with open(os.path.join(keys, sorted(os.listdir(keys))[0]), "rb") as f:
    put("json_documents", "key-slot", f.read())
node = {"name": "scan.dcm", "type": "file", "mode": 0o600, "uid": 0, "gid": 0, "mtime_ns": 1, "ctime_ns": 2,
        "inode": 3, "dev": 4, "nlink": 1, "size": 5, "content": ["00" * 32]}
put("json_documents", "tree", json.dumps({"nodes": [node, dict(node, name="d", type="dir", subtree="11" * 32, content=[])]}).encode())
put("json_documents", "snapshot", json.dumps({"version": 1, "time": "2026-11-22T03:00:00Z", "source": "emr", "hostname": "h",
    "username": "u", "paths": ["/data"], "tree": "22" * 32, "program": "hokan 0.1.0"}).encode())

# Trees: ordinary and raw names, and each hostile shape (which must not
# decode) so the fuzzer starts next to the names it must never let through.
def tnode(name, raw=None, kind="file"):
    n = dict(node, name=name, type=kind, content=[] if kind != "file" else node["content"])
    if kind == "dir":
        n["subtree"] = "11" * 32
    if raw is not None:
        n["name_raw"] = raw.hex()
    return n
def tree(*nodes):
    return json.dumps({"nodes": list(nodes)}).encode()
put("tree_document", "ordinary", tree(tnode("a"), tnode("b", kind="dir"), tnode("\ufffd", b"\xff"), tnode("..a"), tnode("...")))
for label, n in [("dotdot", tnode("..")), ("dot", tnode(".")), ("empty", tnode("")), ("absolute", tnode("/etc/passwd")),
                 ("slash", tnode("a/b")), ("nul", tnode("a\0b")), ("raw-dotdot", tnode("innocent", b"..")),
                 ("raw-slash", tnode("x", b"../\xffx")), ("raw-not-hex", dict(tnode("x"), name_raw="zz"))]:
    put("tree_document", "hostile-" + label, tree(tnode("ok"), n))
put("tree_document", "hostile-twice", tree(dict(tnode("a", kind="symlink"), target="/etc"), tnode("a", kind="dir")))

with open(os.path.join(golden, "paper-key.txt"), "rb") as f:
    put("paper_key", "sheet", f.read())

put("sealed_object", "short", bytes(range(40)))
put("pack_file", "small", bytes([3, 0, 1, 2]) + b"patient record " * 20)
put("pack_file", "truncate", bytes([17, 1, 9, 0]) + bytes(range(256)))
