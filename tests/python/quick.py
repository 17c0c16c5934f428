# The quick check (tests/python/quick.sh): the shared extension modules load
# from lib-dynload and work. Prints only values computed here; compared with
# expected/quick.out.
import sys, os
import json, zlib, sqlite3, decimal, datetime, math
import _decimal, _datetime, _json, _sqlite3

def shared(mod):
    f = getattr(mod, "__file__", "") or ""
    return (mod.__name__ not in sys.builtin_module_names
            and os.path.basename(os.path.dirname(f)) == "lib-dynload"
            and f.endswith(".cpython-311-wasm32-wasi.so"))

print("shared:", [os.path.basename(m.__file__) for m in (math, zlib, _json, _sqlite3, _decimal, _datetime) if shared(m)])
print("math:", math.factorial(20), math.isqrt(10**20 + 1), round(math.gamma(0.5) ** 2, 12))
print("json:", json.dumps({"b": [1, 2.5, None], "a": "\u00e9"}, sort_keys=True))
data = b"wasmdl " * 1000
packed = zlib.compress(data, 9)
print("zlib:", len(data), "->", len(packed), zlib.decompress(packed) == data, hex(zlib.crc32(data)), zlib.ZLIB_VERSION)
con = sqlite3.connect(":memory:")
con.execute("create table t (k text, v integer)")
con.executemany("insert into t values (?, ?)", [("a", 1), ("b", 2), ("c", 39)])
print("sqlite3:", sqlite3.sqlite_version, con.execute("select group_concat(k, '+'), sum(v) from t").fetchone())
decimal.getcontext().prec = 40
print("decimal:", decimal.Decimal(1) / decimal.Decimal(7), decimal.Decimal("2").sqrt())
d = datetime.datetime(2024, 2, 28, 23, 30) + datetime.timedelta(hours=1)
print("datetime:", d.isoformat(), d.strftime("%A %j"), datetime.date(2000, 1, 1).toordinal())
print("dlopenflags:", sys.getdlopenflags() == os.RTLD_NOW)
import time
t0 = time.monotonic()
time.sleep(0.1)  # clock_nanosleep to an absolute deadline, as on Linux
print("time.sleep(0.1): slept at least 0.1 s:", time.monotonic() - t0 >= 0.1)
