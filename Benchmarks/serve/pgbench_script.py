#!/usr/bin/env python3
"""scripts/bench-serve's pgbench baseline: the statements `shopbulk serve` issued for one contact lookup,
as PostgreSQL logged them (log_statement = all on the server's own sessions, through PGOPTIONS, during one
request), turned into a pgbench script.

  pgbench_script.py LOG OFFSET --shop NAME --shop-id ID --email ADDR --ids '{..}' --limit N --existing E --total T

Reads LOG from byte OFFSET, keeps the server's `execute <name>: …` entries (the API-key check and the
shop's row, which the server keeps for a second, and anything not of the lookup left out), maps every
bound parameter back to what it was by its value (the shop name, the shop id, the address, the
customers' ids, the order limit) and replaces
`$n` with the pgbench variable holding it. The statements are otherwise byte for byte what the server
sent, except for one thing pgbench forces: it reads `:name` anywhere, string literals included, as a
variable, so a literal with a colon (the to_char formats `HH24:MI:SS`) is written as the equal Unicode
escape literal U&'…\\003A…'. Prints the script: pick an address (the same numbered list as wrk, same
share of existing ones; one primary-key lookup in bench_addresses, which pgbench needs because it cannot
build strings), then the lookup's two statements (the people; their orders with the orders' lines).
Its first line says how the server ran them: `-- mode: extended` (unnamed
statements, parsed and planned every time) or `-- mode: prepared` (named, prepared once per connection),
the pgbench -M to use.
"""
import argparse
import re
import sys

ENTRY = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? \S+ \[\d+\] (\w+):  (.*)$")


def entries(text):
    """(pid-less) log entries: (level, message with continuation lines)."""
    out = []
    for line in text.split("\n"):
        m = ENTRY.match(line)
        if m:
            out.append([m.group(1), m.group(2)])
        elif out:
            # PostgreSQL indents a message's further lines with a tab.
            out[-1][1] += "\n" + (line[1:] if line.startswith("\t") else line)
    return out


def parameters(detail):
    """`parameters: $1 = '…', $2 = NULL` → {1: '…', 2: None}."""
    values = {}
    rest = detail[len("parameters: "):].rstrip("\n")
    pos = 0
    pat = re.compile(r"\$(\d+) = (NULL|'((?:[^']|'')*)')(, |$)", re.S)
    while pos < len(rest):
        m = pat.match(rest, pos)
        if not m:
            raise SystemExit(f"pgbench_script.py: cannot read the parameters: {detail[:200]}")
        values[int(m.group(1))] = None if m.group(2) == "NULL" else m.group(3).replace("''", "'")
        pos = m.end()
    return values


def escape_colons(sql):
    """Rewrites '…:…' literals as U&'…\\003A…' (pgbench would read :MI as a variable)."""
    out, i = [], 0
    while i < len(sql):
        c = sql[i]
        if c == "'":
            j = i + 1
            while True:
                j = sql.index("'", j)
                if j + 1 < len(sql) and sql[j + 1] == "'":
                    j += 2
                    continue
                break
            literal = sql[i + 1:j]
            if ":" in literal:
                if "\\" in literal or (i > 0 and sql[i - 1] in "EeUu&"):
                    raise SystemExit(f"pgbench_script.py: cannot rewrite the literal '{literal}'")
                literal = literal.replace(":", "\\003A")
                out.append("U&'" + literal + "'")
            else:
                out.append("'" + literal + "'")
            i = j + 1
        elif c == '"':
            j = sql.index('"', i + 1)
            out.append(sql[i:j + 1])
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("log")
    ap.add_argument("offset", type=int)
    for name in ("shop", "shop-id", "email", "ids", "limit", "existing", "total"):
        ap.add_argument("--" + name, required=True)
    a = ap.parse_args()
    with open(a.log, "rb") as f:
        f.seek(a.offset)
        text = f.read().decode("utf-8", "replace")
    statements = []
    names = set()
    log = entries(text)
    for k, (level, message) in enumerate(log):
        m = re.match(r"execute (\S+): ", message)
        if level != "LOG" or not m:
            continue
        sql = message[m.end():]
        detail = log[k + 1][1] if k + 1 < len(log) and log[k + 1][0] == "DETAIL" else ""
        values = parameters(detail) if detail.startswith("parameters: ") else {}
        # The key check and the shop's row: the server keeps both for a second (ExpiringCache), so a
        # lookup in steady state issues neither.
        if "api_keys" in sql or re.search(r"\bFROM shops\b", sql):
            continue
        statements.append((sql, values))
        names.add(m.group(1))
    known = {a.shop: "shop", a.shop_id: "shop_id", a.email: "email", a.ids: "ids", a.limit: "order_limit"}
    script = []
    for sql, values in statements:
        for n in sorted(values, reverse=True):
            v = values[n]
            name = known.get(v)
            if name is None:
                raise SystemExit(f"pgbench_script.py: parameter ${n} = {v!r} of a statement is none of the lookup's values:\n{sql}")
            sql = re.sub(r"\$%d(?!\d)" % n, ":" + name, sql)
        script.append(escape_colons(sql))
    kinds = ["FROM contacts", "LIMIT :order_limit"]
    if len(script) != len(kinds) or any(k not in s for k, s in zip(kinds, script)) or "FROM order_lines" not in script[1]:
        sys.stderr.write("pgbench_script.py: expected the two statements of a lookup (people; orders with their count and lines), got:\n")
        sys.stderr.write("\n---\n".join(script) + "\n")
        raise SystemExit(1)
    existing, total = int(a.existing), int(a.total)
    # The server's statements are unnamed (PQexecParams: pgbench -M extended) or prepared once per
    # connection and executed by name (pgbench -M prepared).
    mode = "extended" if names == {"<unnamed>"} else "prepared"
    print(f"-- mode: {mode}")
    print("-- generated by Benchmarks/serve/pgbench_script.py from the statements shopbulk serve issued for one lookup")
    print("\\set r random(1, 100)")
    print("\\if :r <= :share")
    print(f"\\set k random(1, {existing})")
    print("\\else")
    print(f"\\set k random({existing + 1}, {total})")
    print("\\endif")
    print("SELECT email, ids FROM bench_addresses WHERE n = :k \\gset")
    for s in script:
        print(s + ";")

main()
