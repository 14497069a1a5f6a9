"""Read character vectors from an R package's lazy-load data base (data/Rdata.rdx + Rdata.rdb)
without R: a minimal reader of R's XDR serialization format (version 2/3) for the object kinds
that data packages hold (character/numeric vectors, lists, pairlists, symbols)."""
import gzip
import struct
import zlib

NILVALUE, SYMSXP, LISTSXP, CHARSXP, LGLSXP, INTSXP, REALSXP, STRSXP, VECSXP = 254, 1, 2, 9, 10, 13, 14, 16, 19
REFSXP = 255
SPECIAL_ENVS = {253, 242, 241, 247, 251, 252}  # global/empty/base env, base namespace, missing, unbound


class Reader:
    def __init__(self, data):
        if data[:2] != b"X\n":
            raise ValueError("not XDR-serialized R data")
        self.d, self.p, self.refs = data, 2, []
        version = self.int()
        self.int(), self.int()
        if version == 3:
            n = self.int()
            self.p += n

    def int(self):
        (v,) = struct.unpack_from(">i", self.d, self.p)
        self.p += 4
        return v

    def item(self):
        flags = self.int()
        t = flags & 0xFF
        has_attr, has_tag = flags & (1 << 9), flags & (1 << 10)
        if t == NILVALUE or t in SPECIAL_ENVS:
            return None
        if t == REFSXP:
            return self.refs[(flags >> 8) - 1]
        if t == SYMSXP:
            name = self.item()
            self.refs.append(name)
            return name
        if t == CHARSXP:
            n = self.int()
            if n == -1:
                return None
            s = self.d[self.p:self.p + n].decode("utf-8", errors="replace")
            self.p += n
            return s
        if t == LISTSXP:
            attr = self.item() if has_attr else None
            tag = self.item() if has_tag else None
            car = self.item()
            cdr = self.item()
            return [(tag, car)] + (cdr if isinstance(cdr, list) else [])
        if t in (LGLSXP, INTSXP):
            n = self.int()
            v = list(struct.unpack_from(f">{n}i", self.d, self.p))
            self.p += 4 * n
        elif t == REALSXP:
            n = self.int()
            v = list(struct.unpack_from(f">{n}d", self.d, self.p))
            self.p += 8 * n
        elif t in (STRSXP, VECSXP):
            n = self.int()
            v = [self.item() for _ in range(n)]
        else:
            raise ValueError(f"unsupported R object type {t}")
        if has_attr:
            self.item()
        return v


def load_lazydata(rdx_path, rdb_path):
    """Return {name: object} for every variable in the lazy-load data base."""
    with gzip.open(rdx_path, "rb") as f:
        index = Reader(f.read()).item()
    # index is a named list; names are in its attributes which the reader drops, so read them
    # again: re-parse keeping the attribute pairlist of the top-level VECSXP.
    with gzip.open(rdx_path, "rb") as f:
        raw = f.read()
    names = _top_names(raw)
    variables = dict(zip(names, index))["variables"]
    var_names = _named_list_names(raw, "variables")
    with open(rdb_path, "rb") as f:
        rdb = f.read()
    out = {}
    for name, (off, length) in zip(var_names, variables):
        blob = rdb[off:off + length]
        (ulen,) = struct.unpack(">I", blob[:4])
        data = zlib.decompress(blob[4:])
        if len(data) != ulen:
            raise ValueError(f"{rdb_path}: entry {name} has a wrong length")
        out[name] = Reader(data).item()
    return out


class _NamesReader(Reader):
    """Reader that keeps the 'names' attribute of vectors as (values, names)."""

    def item(self):
        start = self.p
        flags = self.int()
        t, has_attr = flags & 0xFF, flags & (1 << 9)
        if t in (STRSXP, VECSXP) and has_attr:
            n = self.int()
            v = [self.item() for _ in range(n)]
            attrs = self.item()
            names = dict((k, val) for k, val in attrs).get("names")
            return _Named(v, names)
        self.p = start
        return Reader.item(self)


class _Named(list):
    def __init__(self, values, names):
        super().__init__(values)
        self.names = names


def _top_names(raw):
    return _NamesReader(raw).item().names


def _named_list_names(raw, key):
    top = _NamesReader(raw).item()
    return top[top.names.index(key)].names
