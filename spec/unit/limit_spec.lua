-- The hard time limit every test runs under (spec/support/limit.lua).
local limit = require "spec.support.limit"
local homie = require "homie"

-- LuaJIT runs compiled loops without count hooks, so the limit cannot stop
-- a busy loop there (the suite's own runs are on Lua 5.4; `make matrix`
-- runs spec/unit under LuaJIT too).
local jit_loops = rawget(_G, "jit") ~= nil

describe("spec limits", function()
  it("stop a loop that never ends, with a message naming it", function()
    if jit_loops then return pending("LuaJIT: no count hook in compiled loops") end
    local ok, err = pcall(limit.within, 0.3, function() while true do end end, "a busy loop")
    assert.is_false(ok)
    assert.matches("a busy loop did not finish within [%d.]+ s", err)
  end)

  it("reach into gather's tasks, which wait without returning", function()
    if jit_loops then return pending("LuaJIT: no count hook in compiled loops") end
    local c = homie.new{ api_key = "k", base_url = "http://127.0.0.1:9" }
    local ok, err = pcall(limit.within, 0.5, function()
      c:gather{ function() while true do c:gather{ function() end } end end }
    end, "the gather")
    assert.is_false(ok)
    assert.matches("the gather did not finish", err)
    c:close()
  end)

  it("return what the function returns when it finishes in time", function()
    assert.are.same({ 1, nil, 3 }, { limit.within(1, function() return 1, nil, 3 end) })
  end)
end)
