"""The part of CloudWatch Logs Insights' query language the runbook's queries use, run over log
lines the functions printed: so that every query in docs/operations.md is checked against the
lines the deployed functions really write (their JSON logs and their EMF metric lines).

Logs Insights discovers the fields of a JSON log event, nested ones by a dotted path
(`fields.message`), and adds `@timestamp`, `@message` and `@log`. Commands: `fields`, `filter`
(`and`, `or`, `not`, `=`, `!=`, `<`, `<=`, `>`, `>=`, `like /regex/`, `in [...]`, `ispresent`),
`stats` (`count`, `sum`, `avg`, `min`, `max`, `latest`, `pct`, grouped `by` fields or
`bin(period)`), `sort` (with its direction) and `limit`. Anything else is refused: a query that
uses more than this cannot be checked here, and says so.
"""

import json
import re


class Unsupported(Exception):
    pass


def events(lines, log):
    """The log events of `lines` (one log group's), as Logs Insights sees them."""
    found, stamp = [], 0
    for line in lines:
        try:
            doc = json.loads(line)
        except ValueError:
            doc = None
        # Lambda stamps each line as it arrives; here an EMF line's own stamp stands for the lines
        # around it.
        if isinstance(doc, dict) and isinstance(doc.get("_aws"), dict):
            stamp = doc["_aws"].get("Timestamp", stamp)
        event = {"@message": line, "@log": log, "@timestamp": stamp}
        if isinstance(doc, dict):
            flatten(doc, "", event)
        found.append(event)
    return found


def flatten(value, prefix, into):
    if isinstance(value, dict):
        for key, inner in value.items():
            flatten(inner, f"{prefix}{key}.", into)
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            flatten(inner, f"{prefix}{i}.", into)
    else:
        into[prefix[:-1]] = value


TOKEN = re.compile(r"""\s*(?:(?P<string>"[^"]*"|'[^']*')|(?P<regex>/(?:[^/\\]|\\.)*/)|(?P<number>-?\d+(?:\.\d+)?)
    |(?P<op><=|>=|!=|=|<|>|\(|\)|\[|\]|,|\*)|(?P<name>[@A-Za-z_][\w.@]*))""", re.X)


def tokens(text):
    out, at = [], 0
    text = text.strip()
    while at < len(text):
        m = TOKEN.match(text, at)
        if not m or m.end() == at:
            raise Unsupported(f"cannot read {text[at:]!r}")
        kind = m.lastgroup
        value = m.group(kind)
        if kind == "string":
            value = value[1:-1]
        elif kind == "number":
            value = float(value)
        elif kind == "regex":
            value = re.compile(value[1:-1])
        out.append((kind, value))
        at = m.end()
    return out


class Parser:
    def __init__(self, text):
        self.toks, self.at = tokens(text), 0
        self.fields = set()

    def peek(self, value=None):
        if self.at >= len(self.toks):
            return None
        tok = self.toks[self.at]
        return tok if value is None or tok[1] == value else None

    def take(self, value=None):
        tok = self.peek(value)
        if tok is None:
            raise Unsupported(f"expected {value or 'more'} at token {self.at}")
        self.at += 1
        return tok

    def done(self):
        if self.at != len(self.toks):
            raise Unsupported(f"unexpected {self.toks[self.at][1]!r}")

    def field(self):
        kind, name = self.take()
        if kind != "name":
            raise Unsupported(f"expected a field, found {name!r}")
        self.fields.add(name)
        return name

    # filter expressions: each returns a function of an event
    def expression(self):
        left = self.conjunction()
        while self.peek("or"):
            self.take()
            right, prev = self.conjunction(), left
            left = lambda e, a=prev, b=right: a(e) or b(e)  # noqa: E731
        return left

    def conjunction(self):
        left = self.negation()
        while self.peek("and"):
            self.take()
            right, prev = self.negation(), left
            left = lambda e, a=prev, b=right: a(e) and b(e)  # noqa: E731
        return left

    def negation(self):
        if self.peek("not"):
            self.take()
            inner = self.negation()
            return lambda e: not inner(e)
        if self.peek("("):
            self.take()
            inner = self.expression()
            self.take(")")
            return inner
        if self.peek("ispresent"):
            self.take()
            self.take("(")
            name = self.field()
            self.take(")")
            return lambda e: name in e
        name = self.field()
        kind, op = self.take()
        if op == "like":
            kind, pattern = self.take()
            if kind == "string":
                pattern = re.compile(re.escape(pattern))
            elif kind != "regex":
                raise Unsupported("like takes a regex or a string")
            return lambda e: isinstance(e.get(name), str) and bool(pattern.search(e[name]))
        if op == "in":
            self.take("[")
            values = [self.take()[1]]
            while self.peek(","):
                self.take()
                values.append(self.take()[1])
            self.take("]")
            return lambda e: name in e and e[name] in values
        if op not in ("=", "!=", "<", "<=", ">", ">="):
            raise Unsupported(f"operator {op!r}")
        kind, value = self.take()
        if kind not in ("string", "number"):
            raise Unsupported(f"compare with a literal, not {value!r}")
        return lambda e: compare(e.get(name), op, value)


def compare(have, op, want):
    if have is None or isinstance(have, bool) or isinstance(have, (int, float)) != isinstance(want, float):
        return op == "!=" and have is not None
    return {"=": have == want, "!=": have != want, "<": have < want, "<=": have <= want,
            ">": have > want, ">=": have >= want}[op]


PERIOD = re.compile(r"(\d+)(ms|s|m|h|d)$")
SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def aggregate(name, args, rows):
    if name == "count":
        return len(rows) if args == ["*"] else sum(1 for r in rows if args[0] in r)
    values = [r[args[0]] for r in rows if args[0] in r]
    if name == "latest":
        return max(((r["@timestamp"], r[args[0]]) for r in rows if args[0] in r), default=(0, None))[1]
    numbers = sorted(v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool))
    if not numbers:
        return None
    if name == "sum":
        return sum(numbers)
    if name == "avg":
        return sum(numbers) / len(numbers)
    if name == "min":
        return numbers[0]
    if name == "max":
        return numbers[-1]
    if name == "pct":
        return numbers[min(len(numbers) - 1, int(len(numbers) * float(args[1]) / 100))]
    raise Unsupported(f"stats function {name}")


def stats(parser, rows):
    wanted = []  # (output name, function, arguments)
    while True:
        function = parser.take()[1]
        parser.take("(")
        args = [parser.take("*")[1] if parser.peek("*") else parser.field()]
        while parser.peek(","):
            parser.take()
            args.append(parser.take()[1])
        parser.take(")")
        label = f"{function}({', '.join(str(a) for a in args)})"
        if parser.peek("as"):
            parser.take()
            label = parser.take()[1]
        wanted.append((label, function, args))
        if not parser.peek(","):
            break
        parser.take()
    keys = []  # (output name, function of an event)
    if parser.peek("by"):
        parser.take()
        while True:
            if parser.peek("bin"):
                parser.take()
                parser.take("(")
                amount, unit = parser.take()[1], parser.take()[1]
                parser.take(")")
                m = isinstance(amount, float) and PERIOD.match(f"{int(amount)}{unit}")
                if not m:
                    raise Unsupported("bin takes a period such as 5m")
                ms = int(m.group(1)) * SECONDS[m.group(2)] * 1000
                keys.append(("bin", lambda e, ms=ms: e["@timestamp"] // ms * ms))
            else:
                name = parser.field()
                keys.append((name, lambda e, name=name: e.get(name)))
            if not parser.peek(","):
                break
            parser.take()
    parser.done()
    groups = {}
    for row in rows:
        groups.setdefault(tuple(k(row) for _, k in keys), []).append(row)
    out = []
    for key, members in groups.items():
        result = {name: value for (name, _), value in zip(keys, key)}
        for label, function, args in wanted:
            result[label] = aggregate(function, args, members)
        out.append(result)
    return out


def run(query, events_):
    """The rows `query` answers over `events_`, and the event fields it reads."""
    rows, read = list(events_), set()
    text = "\n".join(line for line in query.splitlines() if not line.strip().startswith("#"))
    for command in split_commands(text):
        word, _, rest = command.strip().partition(" ")
        parser = Parser(rest)
        if word == "filter":
            test = parser.expression()
            parser.done()
            rows = [r for r in rows if test(r)]
        elif word == "fields":
            names = [parser.field()]
            while parser.peek(","):
                parser.take()
                names.append(parser.field())
            parser.done()
            rows = [{n: r.get(n) for n in names} | {"@timestamp": r.get("@timestamp")} for r in rows]
        elif word == "stats":
            rows = stats(parser, rows)
        elif word == "sort":
            name = parser.field()
            direction = parser.take()[1]
            parser.done()
            if direction not in ("asc", "desc"):
                raise Unsupported("sort needs asc or desc")
            rows.sort(key=lambda r: (r.get(name) is None, r.get(name) if r.get(name) is not None else 0),
                      reverse=direction == "desc")
        elif word == "limit":
            count = parser.take()[1]
            parser.done()
            rows = rows[: int(count)]
        else:
            raise Unsupported(f"command {word!r}")
        read |= {f for f in parser.fields if not f.startswith("@")} if word != "sort" else set()
    return rows, read


def split_commands(text):
    commands, current, quote = [], "", None
    for ch in text:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "\"'/":
            quote = ch
        elif ch == "|":
            commands.append(current)
            current = ""
            continue
        current += ch
    return commands + [current]


def queries_in(markdown):
    """The ```logs-insights blocks of a Markdown text, with the heading each falls under."""
    found, heading = [], ""
    for block in re.finditer(r"^(#+ [^\n]*)$|^```logs-insights\n(.*?)^```", markdown, re.M | re.S):
        if block.group(1):
            heading = block.group(1).lstrip("# ")
        else:
            found.append((heading, block.group(2)))
    return found


def check(query, events_):
    """The rows `query` answers over `events_`, and why it proves nothing on them (empty when it
    answers rows): a field it reads that no event has, no row at all, or a part of the language
    not understood here."""
    try:
        rows, read = run(query, events_)
    except Unsupported as e:
        return [], [f"not understood: {e}"]
    known = set().union(*(e.keys() for e in events_)) if events_ else set()
    wrong = [f"no log line has the field {f}" for f in sorted(read - known)]
    return rows, wrong + ([] if rows else ["it answers no row"])
