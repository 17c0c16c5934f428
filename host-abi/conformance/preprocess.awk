# Expands the conformance guests' placeholders (see prelude.wat) and appends
# the data segment that holds the strings and module bytes, at __memory_base.
#   {{"text"}}     (address of the NUL-terminated "text")
#   {{bytes NAME}} (address) (length) of $dir/NAME.str, a WAT-escaped binary
#   {{ptr NAME}}   its address;  {{len NAME}}  its length
# Writes the size of the data, rounded to 16, to $sizefile.
# Text may not contain quotes, backslashes or braces.
BEGIN { off = 0; data = "" }
function addr(o) { return "(i32.add (global.get $__memory_base) (i32.const " o "))" }
function die(msg) { print "preprocess: " msg > "/dev/stderr"; failed = 1; exit 1 }
function expand(tok,    s, w, name, file, bytes) {
    if (substr(tok, 1, 1) == "\"") {
        s = substr(tok, 2, length(tok) - 2)
        if (!(s in strs)) { strs[s] = off; data = data s "\\00"; off += length(s) + 1 }
        return addr(strs[s])
    }
    split(tok, w, " ")
    name = w[2]
    if (!(name in mods)) {
        file = dir "/" name ".str"
        if ((getline bytes < file) <= 0) die("cannot read " file)
        close(file)
        mods[name] = off; lens[name] = length(bytes) / 3
        data = data bytes; off += lens[name]
    }
    if (w[1] == "bytes") return addr(mods[name]) " (i32.const " lens[name] ")"
    if (w[1] == "ptr") return addr(mods[name])
    if (w[1] == "len") return "(i32.const " lens[name] ")"
    die("unknown placeholder {{" tok "}}")
}
{
    line = $0; out = ""
    while (match(line, /[{][{][^}]*[}][}]/)) {
        out = out substr(line, 1, RSTART - 1) expand(substr(line, RSTART + 2, RLENGTH - 4))
        line = substr(line, RSTART + RLENGTH)
    }
    print out line
}
END {
    if (failed) exit 1
    aligned = int((off + 15) / 16) * 16
    print "  (data (global.get $__memory_base) \"" data "\")"
    print "  (global $scratch_offset i32 (i32.const " aligned "))"
    print ")"
    print aligned > sizefile
}
