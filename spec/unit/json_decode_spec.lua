-- util.decode: lua-cjson parses, csrc/ljson.c normalises (null absent, whole
-- numbers integers). The C walk gives what the Lua walk it replaced gave,
-- on generated documents and the bench page; cjson's errors come through.
local util = require "homie.util"
local cjson = require("cjson").new()
cjson.decode_max_depth(1000)

-- What util.decode returned before: cjson, then null -> nil and whole
-- numbers below 2^53 -> integers.
local null = cjson.null
local function walk(v)
  for k, x in pairs(v) do
    if x == null then
      v[k] = nil
    elseif type(x) == "table" then
      walk(x)
    elseif math.tointeger and type(x) == "number" then
      local i = math.tointeger(x)
      if i and i > -2 ^ 53 and i < 2 ^ 53 then v[k] = i end
    end
  end
  return v
end
local function reference(s)
  local v = cjson.decode(s)
  if type(v) == "table" then return walk(v) end
  if v == null then return nil end
  return math.tointeger and type(v) == "number" and math.tointeger(v) and math.abs(v) < 2 ^ 53 and math.tointeger(v) or v
end

-- Deep equality that also compares number subtypes.
local function same(a, b, path)
  path = path or "$"
  if type(a) ~= type(b) then return false, path .. ": " .. type(a) .. " vs " .. type(b) end
  if type(a) == "number" and math.type and math.type(a) ~= math.type(b) then
    return false, path .. ": " .. math.type(a) .. " vs " .. math.type(b)
  end
  if type(a) ~= "table" then
    if a == b or (a ~= a and b ~= b) then return true end
    return false, path .. ": " .. tostring(a) .. " vs " .. tostring(b)
  end
  for k, v in pairs(a) do
    local ok, why = same(v, b[k], path .. "." .. tostring(k))
    if not ok then return false, why end
  end
  for k in pairs(b) do
    if a[k] == nil then return false, path .. "." .. tostring(k) .. ": missing" end
  end
  return true
end

-- A random JSON text (seeded: the same documents every run).
local STRINGS = { '""', '"plain"', '"caf\\u00e9"', '"\\ud83d\\ude00 \\"q\\" \\\\ \\/ \\b\\f\\n\\r\\t"', '"\\u0000x"',
  '"line\nraw"', '"ünïcødé"' }
local NUMBERS = { "0", "-0", "7", "-12", "59.99", "1.0", "1e2", "1E+2", "2.5e-3", "123456789012345",
  "1234567890123456", "9007199254740991", "9007199254740992", "-9007199254740993", "12345678901234567890",
  "0.1", "-0.0", "1e400", "3.0000000000000000000000000000000000000000000000000000000000000000001" }
local function gen(depth)
  local r = math.random(depth > 4 and 6 or 8)
  if r == 1 then return STRINGS[math.random(#STRINGS)] end
  if r == 2 then return NUMBERS[math.random(#NUMBERS)] end
  if r == 3 then return ({ "true", "false", "null" })[math.random(3)] end
  if r <= 6 and depth > 4 then return '"leaf"' end
  local ws = ({ "", " ", "\n\t ", "\r\n" })[math.random(4)]
  local parts = {}
  if r == 7 then
    for i = 1, math.random(0, 6) do parts[i] = ws .. gen(depth + 1) .. ws end
    return "[" .. table.concat(parts, ",") .. "]"
  end
  for i = 1, math.random(0, 6) do
    parts[i] = ws .. '"k' .. math.random(5) .. '"' .. ws .. ":" .. ws .. gen(depth + 1)
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

describe("util.decode", function()
  it("gives what lua-cjson and the null/integer walk gave, on 3,000 generated documents", function()
    math.randomseed(21)
    for _ = 1, 3000 do
      local s = gen(0)
      local ok, why = same(util.decode(s), reference(s))
      assert(ok, why and (why .. "\n  in " .. s))
    end
  end)

  it("gives the same page of messages as before (the bench's page)", function()
    local s = assert(io.open("bench/static/messages.json")):read("*a")
    assert(same(util.decode(s), reference(s)))
    local page = util.decode(s)
    assert.are.equal(12, page.items[2].products[1].availability.quantity)
    if math.type then assert.are.equal("integer", math.type(page.items[2].products[1].availability.quantity)) end
  end)

  it("drops a null member, a later duplicate wins, a null array element is a hole", function()
    local t = util.decode('{"a":1,"a":null,"b":null,"c":2,"c":3,"l":[1,null,3]}')
    assert.is_nil(t.a)
    assert.is_nil(t.b)
    assert.are.equal(3, t.c)
    assert.are.equal(1, t.l[1])
    assert.is_nil(t.l[2])
    assert.are.equal(3, t.l[3])
  end)

  it("walks containers of any size and leaves other values alone", function()
    local items, fields = {}, {}
    for i = 1, 2000 do items[i] = tostring(i); fields[i] = ('"f%d":%d'):format(i, i) end
    local a = util.decode("[" .. table.concat(items, ",") .. "]")
    assert.are.equal(2000, #a)
    assert.are.equal(1999, a[1999])
    if math.type then assert.are.equal("integer", math.type(a[1999])) end
    local o = util.decode("{" .. table.concat(fields, ",") .. "}")
    assert.are.equal(1500, o.f1500)
    local m = util.decode('{"price":59.99,"big":1e300,"s":"12","b":false}')
    assert.are.equal(59.99, m.price)
    if math.type then assert.are.equal("float", math.type(m.big)) end
    assert.are.equal("12", m.s)
    assert.are.equal(false, m.b)
  end)

  it("rejects what is not JSON with lua-cjson's reason", function()
    for _, bad in ipairs({ "", "{oops", "[1,2,]", '{"a"}', "[1 2]", '{"a":1} x', "tru", "'s'", "{a:1}" }) do
      local v, err = util.decode(bad)
      assert(v == nil, "accepted " .. bad)
      assert.is_string(err)
      assert.truthy(err:find("Expected") or err:find("invalid") or err:find("unexpected"), err)
    end
  end)

  it("bounds nesting at 200 levels", function()
    assert.is_table(util.decode(("["):rep(200) .. ("]"):rep(200)))
    local v, err = util.decode(("["):rep(201) .. ("]"):rep(201))
    assert.is_nil(v)
    assert.matches("too many nested", err)
  end)

  it("refuses to walk a table that contains itself, with an error, not a crash", function()
    local t = {}
    t.self = t
    local ok, err = pcall(require("homie.sse").json_normalize, t, require("cjson").null)
    assert.is_false(ok)
    assert.matches("nested deeper than 1000", err)
  end)

  it("says a top-level null is not a value to use", function()
    local v, err = util.decode(" null ")
    assert.is_nil(v)
    assert.are.equal("JSON null", err)
    assert.are.equal("s", util.decode('"s"'))
    assert.are.equal(false, util.decode("false"))
  end)
end)
