-- Heavy allocation and garbage collection: 500,000 strings built, then
-- LPeg (the plugin) splitting 200,000 fields into fresh strings, then the
-- garbage collected, each step printed. On node 20 the Node runner used to
-- abort here with SIGABRT (exit 134, no output): a GC that V8 started inside
-- a WASI call freed the runner's WASI object while the program still ran.
local lpeg = require "lpeg"

local n = 500000
local t = {}
for i = 1, n do t[i] = string.rep("x", i % 97) .. i end
local bytes = 0
for i = 1, n do bytes = bytes + #t[i] end
print(("built %d strings, %d bytes"):format(#t, bytes))
local s = table.concat(t, ",")
print(("concatenated: %d bytes, ends with %s"):format(#s, s:sub(-16)))
local peak = collectgarbage("count")
t, s = nil, nil
collectgarbage()
collectgarbage()
print("collected below a tenth of the peak: " .. tostring(collectgarbage("count") < peak / 10))

-- LPeg captures: every field a new string made by the plugin.
local field = lpeg.C((1 - lpeg.P",")^0)
local fields = lpeg.Ct(field * ("," * field)^0)
for round = 1, 3 do
  local parts = {}
  for i = 1, 200000 do parts[i] = tostring(i * round) end
  local got = fields:match(table.concat(parts, ","))
  local sum = 0
  for i = 1, #got do sum = sum + tonumber(got[i]) end
  print(("round %d: %d fields, sum %d, last %s"):format(round, #got, sum, got[#got]))
end
collectgarbage()
print("collected again: " .. tostring(collectgarbage("count") < peak / 10))

-- Many small writes after all that: each is a WASI call.
for i = 1, 2000 do io.write(i % 100 == 0 and (i .. "\n") or "") end
print("done")
