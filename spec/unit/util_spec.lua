local util = require "homie.util"
local errors = require "homie.errors"

describe("util", function()
  it("accepts any 8-4-4-4-12 hex id and rejects other shapes", function()
    assert.has_no.errors(function() util.check_id("id", "ab12cd34-ef56-7890-abcd-ef1234567890") end)
    assert.has_no.errors(function() util.check_id("id", "00000000-0000-0000-0000-000000000000") end)
    assert.has_error(function() util.check_id("chatId", "ab12cd34-ef56-7890-abcd") end,
      'homie: chatId must be an id of the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx (hex), got "ab12cd34-ef56-7890-abcd"')
    assert.has_error(function() util.check_id("chatId", "../../v1/chats/x") end)
    assert.has_error(function() util.check_id("chatId", 12) end, "homie: chatId must be a string, got number")
  end)

  it("pcall: a wait inside may yield across it, on every Lua (5.1 included)", function()
    local step = coroutine.wrap(function()
      local ok, v = util.pcall(function(a) return coroutine.yield(a) + 1 end, 40)
      local bad, err = util.pcall(function() coroutine.yield("again") error("broke", 0) end)
      return ok, v, bad, err
    end)
    assert.equal(40, step())
    assert.equal("again", step(41))
    local ok, v, bad, err = step()
    assert.same({ true, 42, false, "broke" }, { ok, v, bad, err })
    -- A C function too (5.1's coroutine.create takes only Lua functions),
    -- and the same function is the public homie.pcall.
    assert.same({ false, "c raised" }, { coroutine.wrap(function() return util.pcall(error, "c raised", 0) end)() })
    assert.equal(util.pcall, require("homie").pcall)
  end)

  it("measures edit distance", function()
    assert.are.equal(0, util.edit_distance("timeout", "timeout"))
    assert.are.equal(1, util.edit_distance("timeuot", "timeout"))   -- a swap is one edit
    assert.are.equal(1, util.edit_distance("sned", "send"))
    assert.are.equal(1, util.edit_distance("ab", "ba"))
    assert.are.equal(1, util.edit_distance("abc", "acb"))
    assert.are.equal(3, util.edit_distance("abc", "ca"))  -- no edit inside a swapped pair
    assert.are.equal(1, util.edit_distance("tmeout", "timeout"))
    assert.are.equal(3, util.edit_distance("", "abc"))
    assert.are.equal(3, util.edit_distance("kitten", "sitting"))
  end)

  it("names the nearest known option of a typo, and none for an unrelated name", function()
    local allowed = { timeout = true, connect_timeout = true, deadline = true, api_key = true }
    assert.has_error(function() util.check_opts("homie.new", { timeuot = 1 }, allowed) end,
      "homie: unknown option 'timeuot' for homie.new; did you mean 'timeout'?")
    assert.has_error(function() util.check_opts("homie.new", { deadlin = 1 }, allowed) end,
      "homie: unknown option 'deadlin' for homie.new; did you mean 'deadline'?")
    assert.has_error(function() util.check_opts("homie.new", { colour = 1 }, allowed) end,
      "homie: unknown option 'colour' for homie.new")
    assert.has_error(function() util.check_opts("homie.new", { [1] = "x" }, allowed) end,
      "homie: unknown option '1' for homie.new")
    -- equally near names: the alphabetically first, every time
    assert.are.equal("ab", util.nearest("aa", { bb = true, ab = true, ba = true }))
    assert.is_nil(util.nearest("x", {}))
  end)

  it("suggests through the public API", function()
    local homie = require "homie"
    assert.has_error(function() homie.new{ api_key = "k", timeuot = 5 } end,
      "homie: unknown option 'timeuot' for homie.new; did you mean 'timeout'?")
  end)

  it("validates UTF-8", function()
    -- Decimal escapes: Lua 5.1 has no \x.
    assert.is_true(util.is_utf8("Größe L? 👕"))
    assert.is_false(util.is_utf8("\255\254"))
    assert.is_false(util.is_utf8("\192\175"))          -- overlong
    assert.is_false(util.is_utf8("\224\128\175"))     -- overlong in three bytes
    assert.is_false(util.is_utf8("\240\130\130\172")) -- overlong in four bytes
    assert.is_false(util.is_utf8("\237\160\128"))      -- surrogate
    assert.is_false(util.is_utf8("abc\226\130"))       -- truncated
  end)

  it("refuses header values that could forge headers", function()
    assert.has_error(function() util.check_header_value("x", "a\r\nb: c") end,
      "homie: x must not contain CR, LF or NUL")
    assert.has_error(function() util.check_header_value("x", "a\0b") end)
  end)

  it("percent-encodes query values", function()
    assert.are.equal("?store=a%20b%26c%3Dd&page=2", util.query({ { "store", "a b&c=d" }, { "page", "2" }, { "size", nil } }))
  end)

  it("decodes JSON with null as nil and whole numbers as integers", function()
    local t = util.decode('{"a":null,"n":12,"p":59.99,"l":[1,{"b":null}]}')
    assert.is_nil(t.a)
    assert.are.equal(12, t.n)
    if math.type then assert.are.equal("integer", math.type(t.n)) end
    assert.are.equal(59.99, t.p)
    assert.is_nil(t.l[2].b)
    local v, err = util.decode("{oops")
    assert.is_nil(v)
    assert.is_string(err)
  end)

  it("checks spans: numbers, not negative, finite, not NaN, naming the argument", function()
    assert.are.equal(0, util.check_span("timeout", 0))
    assert.are.equal(2.5, util.check_span("timeout", 2.5))
    for _, bad in ipairs({ -1, math.huge, 0 / 0 }) do
      assert.has_error(function() util.check_span("timeout", bad) end, "homie: timeout must be a non-negative finite number")
    end
    assert.has_error(function() util.check_span("timeout", "5") end, "homie: timeout must be a number, got string")
  end)

  it("treats absent options as none and refuses a non-table", function()
    assert.same({}, util.check_opts("x", nil, {}))
    assert.has_error(function() util.check_opts("x", "a", {}) end, "homie: x options must be a table, got string")
  end)

  it("refuses text that is not UTF-8, naming it", function()
    assert.are.equal("ok ✓", util.check_text("text", "ok ✓"))
    assert.has_error(function() util.check_text("text", "\255") end, "homie: text must be valid UTF-8")
  end)

  it("leaves the query out when no value is given", function()
    assert.are.equal("", util.query({}))
    assert.are.equal("", util.query({ { "store", nil } }))
    assert.are.equal("?a=1", util.query({ { "a", 1 } }))
  end)

  it("counts UTC seconds on the Gregorian calendar, leap days included", function()
    assert.are.equal(0, util.utc_seconds(1970, 1, 1, 0, 0, 0))
    assert.are.equal(-1, util.utc_seconds(1969, 12, 31, 23, 59, 59))
    assert.are.equal(1709208000, util.utc_seconds(2024, 2, 29, 12, 0, 0))
    assert.are.equal(951868800, util.utc_seconds(2000, 3, 1, 0, 0, 0))
  end)

  it("picks the earlier of two optional deadlines", function()
    assert.are.equal(3, util.earliest(5, 3))
    assert.are.equal(3, util.earliest(3, 5))
    assert.are.equal(4, util.earliest(nil, 4))
    assert.are.equal(4, util.earliest(4, nil))
    assert.is_nil(util.earliest(nil, nil))
  end)

  it("errors redact the secret everywhere", function()
    local e = errors.new({ kind = "authentication", message = "bad key sk-123.x", body = { detail = "sk-123.x" } }, "sk-123.x")
    assert.are.equal("bad key [redacted]", e.message)
    assert.are.equal("[redacted]", e.body.detail)
    assert.is_nil(tostring(e):find("sk-123", 1, true))
    assert.is_true(errors.is_error(e))
  end)

  it("builds errors from any error body", function()
    local dec = util.decode
    local e = errors.from_response(400, { ["x-request-id"] = "r1" },
      '{"statusCode":400,"message":["message must be a string","currentUrl is required"]}', dec)
    assert.are.equal("invalid_request", e.kind)
    assert.are.equal("message must be a string; currentUrl is required", e.message)
    assert.are.equal("r1", e.request_id)
    assert.are.equal("HTTP 502", errors.from_response(502, {}, "5", dec).message)
    assert.are.equal("HTTP 503", errors.from_response(503, {}, "<html>busy</html>", dec).message)
    assert.are.equal("<html>busy</html>", errors.from_response(503, {}, "<html>busy</html>", dec).body)
  end)

  it("maps statuses to kinds", function()
    local want = { [400] = "invalid_request", [401] = "authentication", [403] = "permission",
      [404] = "not_found", [409] = "invalid_request", [413] = "invalid_request",
      [415] = "invalid_request", [422] = "invalid_request", [429] = "rate_limit",
      [500] = "server", [503] = "server", [302] = "protocol" }
    for status, kind in pairs(want) do assert.are.equal(kind, errors.kind_of_status(status), status) end
  end)
end)
