-- LPeg, a C module (lpeg.so, a wasm plugin), loaded by require through
-- package.cpath (from LUA_CPATH) and Lua's dlopen loader.
print("cpath: " .. package.cpath)
local lpeg = require "lpeg"
print("lpeg " .. lpeg.version() .. ", loaded from " .. package.searchpath("lpeg", package.cpath))
local P, R, S, C, Ct, Cp, V = lpeg.P, lpeg.R, lpeg.S, lpeg.C, lpeg.Ct, lpeg.Cp, lpeg.V

-- A comma-separated list of numbers, summed.
local space = S(" \t\n")^0
local number = C(P"-"^-1 * R"09"^1 * (P"." * R"09"^1)^-1) / tonumber * space
local list = space * Ct(number * ("," * space * number)^0) * -1
local function sum(s)
  local t = list:match(s)
  if not t then return "no match: " .. s end
  local total = 0
  for _, v in ipairs(t) do total = total + v end
  return string.format("%d numbers, sum %g", #t, total)
end
print(sum("1, 2, 3, 4"))
print(sum(" 10,-2.5 ,0.5"))
print(sum("1,,2"))

-- A list of identifiers.
local alpha = R("az", "AZ") + "_"
local ident = C(alpha * (alpha + R"09")^0)
local idlist = space * Ct(ident * space * ("," * space * ident * space)^0) * -1
local ids = idlist:match("dlopen, dlsym ,dlclose,  dlerror")
print(#ids .. " identifiers: " .. table.concat(ids, "|"))
print("'dlopen, 2bad' matches: " .. tostring(idlist:match("dlopen, 2bad")))

-- A grammar: arithmetic with precedence, evaluated by captures.
local function fold(t)
  local acc = t[1]
  for i = 2, #t, 2 do
    local op, v = t[i], t[i + 1]
    if op == "+" then acc = acc + v elseif op == "-" then acc = acc - v
    elseif op == "*" then acc = acc * v else acc = acc / v end
  end
  return acc
end
local expr = P{ "Exp",
  Exp = space * Ct(V"Term" * (C(S"+-") * space * V"Term")^0) / fold,
  Term = Ct(V"Factor" * (C(S"*/") * space * V"Factor")^0) / fold,
  Factor = number + "(" * space * V"Exp" * ")" * space,
}
for _, e in ipairs{"2 + 3 * (4 - 1) / 2", "(1 + 2) * (3 + 4) - 5", "100 / 8 / 5"} do
  print(e .. " = " .. expr:match(e))
end

-- lpeg.locale(): character classes that call the program's ctype functions
-- (isalpha, isspace, ... exported with -Wl,--export=...).
local l = lpeg.locale()
print(lpeg.match(C(l.alpha^1) * l.space^1 * C(l.digit^1), "wasm   32"))
print(lpeg.match((l.upper + l.punct)^1 * Cp(), "ABC!?xyz"))
print(lpeg.match(C(l.lower^1) * C(l.graph^1) * C(l.print^1), "abcDEF!  x"))

-- re.lua: LPeg's regex module, a Lua module on top of the C module.
local re = require "re"
print(re.find("the dynamic linker", "'linker'"))
print(re.gsub("dlopen dlsym dlclose", "'dl' {%a+}", "wasm_%1"))
local kv = re.compile[[
  list <- {| pair (',' pair)* |} !.
  pair <- %s* {| {:key: [a-z]+ :} %s* '=' %s* {:value: [0-9]+ :} |} %s*
]]
for _, p in ipairs(kv:match("a=1, bb=22, ccc=333")) do io.write(p.key, "->", p.value, " ") end
print()

-- Errors raised inside the plugin (luaL_error, a longjmp from plugin code)
-- unwind to pcall in the program.
print(pcall(lpeg.P, {}))
print(pcall(function() return (P"a"^-1)^0 end))
print(pcall(lpeg.match, P(1), "x", {}))

-- package.loadlib reports dlerror()'s messages.
print(package.loadlib("/mods/lpeg.so", "luaopen_nothere"))
print(package.loadlib("/mods/nothere.so", "luaopen_nothere"))
print(package.loadlib("/mods/re.lua", "luaopen_re"))
-- "*": load the library only (RTLD_GLOBAL), then a symbol from the same handle.
print(package.loadlib("/mods/lpeg.so", "*"))
print(type(package.loadlib("/mods/lpeg.so", "luaopen_lpeg")))
print("done")
