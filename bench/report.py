#!/usr/bin/env python3
"""Turn bench/run.sh's raw records into results.json and a table (stdlib only).

  report.py WORK    # reads WORK/meta.tsv, WORK/records.tsv, WORK/logs/snapshots.*.json
                    # writes WORK/results.json, prints the table on stdout
"""
import json
import os
import sys

TOOLS = ["hokan", "restic", "rustic", "borg"]
PEERS = ["restic", "rustic", "borg"]
FIELDS = ["phase", "tool", "status", "exit_code", "seconds", "peak_rss_kib",
          "repo_bytes", "local_state_bytes", "load1", "note"]
NUMERIC = {"exit_code": int, "seconds": float, "peak_rss_kib": int, "repo_bytes": int,
           "local_state_bytes": int, "load1": float}
USABLE = ("ok", "partial", "warning")   # a number we can compare


def human(n):
    n = float(n)
    for u in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or u == "TiB":
            return "%d %s" % (n, u) if u == "B" else "%.2f %s" % (n, u)
        n /= 1024


def read_meta(work):
    meta = {}
    with open(os.path.join(work, "meta.tsv")) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("\t")
            meta[k] = v
    return meta


def read_records(work):
    runs = []
    with open(os.path.join(work, "records.tsv")) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            parts += [""] * (len(FIELDS) - len(parts))
            r = dict(zip(FIELDS, parts))
            for k, conv in NUMERIC.items():
                try:
                    r[k] = conv(r[k]) if r[k] != "" else None
                except ValueError:
                    r[k] = None
            r["night"] = int(r["phase"].split("-")[1]) if r["phase"].startswith("backup-") else None
            runs.append(r)
    return runs


def snapshot_count(work, tool):
    p = os.path.join(work, "logs", "snapshots.%s.json" % tool)
    try:
        with open(p) as f:
            doc = json.load(f)
    except (OSError, ValueError):
        return None
    if isinstance(doc, list):
        # rustic groups them: a list of {"group_key": …, "snapshots": […]}.
        if doc and all(isinstance(g, dict) and isinstance(g.get("snapshots"), list) for g in doc):
            return sum(len(g["snapshots"]) for g in doc)
        return len(doc)
    if isinstance(doc, dict):
        for key in ("snapshots", "archives"):
            if isinstance(doc.get(key), list):
                return len(doc[key])
    return None


def main():
    work = sys.argv[1]
    meta = read_meta(work)
    runs = read_records(work)
    nights = int(meta["nights"])
    tools = [t for t in TOOLS if t in meta.get("tools", "").split(",")]
    by = {(r["phase"], r["tool"]): r for r in runs}

    summary = {}
    for t in tools:
        mine = [r for r in runs if r["tool"] == t]
        last = by.get(("backup-%d" % nights, t), {})
        rss = [r["peak_rss_kib"] for r in mine if r["peak_rss_kib"] is not None]
        rest = by.get(("restore", t), {})
        summary[t] = {
            "first_backup_seconds": by.get(("backup-0", t), {}).get("seconds"),
            "night_seconds": [by.get(("backup-%d" % n, t), {}).get("seconds") for n in range(1, nights + 1)],
            "restore_seconds": rest.get("seconds"),
            "restore_status": rest.get("status"),
            "restore_identical": rest.get("status") in USABLE,
            "repo_bytes": last.get("repo_bytes"),
            "local_state_bytes": last.get("local_state_bytes"),
            "peak_rss_kib": max(rss) if rss else None,
            "snapshots": snapshot_count(work, t),
            "all_ok": all(r["status"] == "ok" for r in mine),
        }

    # ---- table rows: (label, kind, getter) ; kind: time | bytes | kib | count
    rows = [("first backup (night 0)", "time", "backup-0")]
    rows += [("night %d" % n, "time", "backup-%d" % n) for n in range(1, nights + 1)]
    rows += [("restore (night %d)" % nights, "time", "restore"),
             ("repo size (after night %d)" % nights, "bytes", "repo"),
             ("peak memory (max over runs)", "kib", "rss"),
             ("local cache/state (not in repo)", "bytes", "state"),
             ("snapshots in repo (expect %d)" % (nights + 1), "count", "snaps")]

    def value(t, key):
        """(number or None, cell text)"""
        if key in ("repo", "rss", "state", "snaps"):
            s = summary[t]
            v = {"repo": s["repo_bytes"], "rss": s["peak_rss_kib"], "state": s["local_state_bytes"],
                 "snaps": s["snapshots"]}[key]
            if v is None:
                return None, "-"
            if key == "rss":
                return v, human(v * 1024)
            if key == "snaps":
                return v, str(v)
            return v, human(v)
        r = by.get((key, t))
        if r is None:
            return None, "-"
        st = r["status"]
        if st in ("FAILED", "SKIPPED"):
            return None, "%s%s" % (st, " (exit %s)" % r["exit_code"] if r["exit_code"] is not None else "")
        secs = r["seconds"]
        txt = "%.2f s" % secs if secs is not None else "?"
        if st == "MISMATCH":
            return None, txt + " !!MISMATCH!!"
        if st != "ok":
            txt += " (%s)" % st
        elif key == "restore":
            txt += " identical"
        return secs, txt

    ratios = {}
    header = ["", *tools] + ["%s/hokan" % p for p in PEERS if p in tools and "hokan" in tools]
    table = []
    for label, kind, key in rows:
        cells = [label]
        vals = {}
        for t in tools:
            v, txt = value(t, key)
            vals[t] = v
            cells.append(txt)
        for p in PEERS:
            if p in tools and "hokan" in tools:
                h, v = vals.get("hokan"), vals.get(p)
                if kind != "count" and h and v is not None:
                    ratio = v / h
                    cells.append("%.2fx" % ratio)
                    ratios.setdefault("%s/hokan" % p, {})[label] = round(ratio, 4)
                else:
                    cells.append("-")
        table.append(cells)

    # ---- results.json
    results = {
        "meta": meta,
        "runs": runs,
        "summary": summary,
        "ratios": ratios,
        "ratio_meaning": "peer / hokan. Time: >1 means hokan is faster. Repo size, memory: >1 means hokan uses less.",
    }
    with open(os.path.join(work, "results.json"), "w") as f:
        json.dump(results, f, indent=2, sort_keys=False)
        f.write("\n")

    # ---- print
    out = []
    d0, dn = meta.get("data_bytes_night_0"), meta.get("data_bytes_night_%d" % nights)
    out.append("hokan benchmark: scale %s (seed %s), first backup + %d night(s); %s cache (%s)" % (
        meta["scale"], meta["seed"], nights, meta["cache_mode"],
        "page cache dropped before every run" if meta["cache_mode"] == "cold"
        else "could not drop the page cache; tools run in the same order each night"))
    if d0 and nights == 0:
        out.append("data set: %s / %s files" % (human(int(d0)), meta.get("data_files_night_0")))
    elif d0 and dn:
        out.append("data set: %s / %s files at night 0, %s / %s files at night %d" % (
            human(int(d0)), meta.get("data_files_night_0"), human(int(dn)),
            meta.get("data_files_night_%d" % nights), nights))
    out.append("machine: %s CPUs (%s), %s RAM, kernel %s; load avg at start %s, at end %s (shared, noisy)" % (
        meta.get("host_cpus"), meta.get("host_cpu"), human(int(meta.get("host_mem_kib", 0)) * 1024),
        meta.get("host_kernel"), meta.get("load_at_start"), meta.get("load_at_end")))
    for t in tools:
        line = "%-7s %s" % (t + ":", meta.get("version_" + t, "?"))
        if t == "hokan":
            line += " (commit %s, %s)" % (meta.get("hokan_commit"), meta.get("hokan_binary"))
        if t == "restic":
            line += "; defaults: repo format v%s, compression auto" % meta.get("restic_repo_version", "?")
        if t == "borg":
            line += "; repokey-blake2, --compression zstd,3 (borg's default is lz4; zstd,3 compares like with like)"
        out.append(line)
    if "hokan" in tools and any(p in tools for p in PEERS):
        out.append("ratios = peer / hokan: for times >1 means hokan is faster; "
                   "for repo size and memory >1 means hokan uses less.")
    out.append("")
    widths = [max(len(str(r[i])) for r in [header] + table) for i in range(len(header))]
    fmt = lambda r: "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                              for i, (c, w) in enumerate(zip(r, widths)))
    out.append(fmt(header))
    out.append("  ".join("-" * w for w in widths))
    out.extend(fmt(r) for r in table)

    problems = [r for r in runs if r["status"] not in ("ok",)]
    if problems:
        out.append("")
        for r in problems:
            loud = r["status"] in ("FAILED", "MISMATCH", "SKIPPED")
            out.append("%s %s %s: %s (exit %s) %s" % ("!!!" if loud else "note:", r["tool"], r["phase"],
                                                  r["status"], r["exit_code"], r["note"]))
    for t in tools:
        rr = by.get(("restore", t))
        if rr and rr["status"] in USABLE:
            out.append("%s restore: %s" % (t, rr["note"]))
    print("\n".join(out))


if __name__ == "__main__":
    main()
