-- The curl transport's scheduler (homie.transport.curl_sched) and the ready
-- list homie.curl fills for it, over real loopback sockets.
local curl = require "homie.curl"
local sched = require "homie.transport.curl_sched"
local mock = require "spec.support.mock"
local now = require("homie.sse").now

describe("curl scheduler", function()
  it("reports a finished transfer's id in the ready list of the step that saw it end", function()
    local m = curl.multi()
    local port = mock.free_port() -- nobody listens: the connect is refused
    local r = m:request{ url = "http://127.0.0.1:" .. port .. "/", connect_timeout = 5 }
    local seen, give_up = {}, now() + 10
    while not r:done() do
      assert(now() < give_up, "the refused transfer did not end")
      local ready = {}
      local _, count = m:step(0.05, ready)
      for i = 1, count do seen[ready[i]] = (seen[ready[i]] or 0) + 1 end
    end
    assert.equal(1, seen[r:id()])
    -- Reported once: the next step's list no longer has it.
    local ready = {}
    local _, count = m:step(0, ready)
    assert.equal(0, count)
    r:close()
    m:close()
  end)

  it("wakes sleeping tasks in deadline order, however they were started", function()
    local m = curl.multi()
    local order = {}
    local function sleeper(name, s)
      return function()
        sched.sleep(m, s)
        order[#order + 1] = name
      end
    end
    sched.gather(m, { sleeper("c", 0.06), sleeper("a", 0.01), sleeper("b", 0.03) })
    assert.same({ "a", "b", "c" }, order)
    m:close()
  end)

  it("runs a gather inside a task on the same scheduler and returns its results", function()
    local m = curl.multi()
    local res = sched.gather(m, {
      function()
        local inner = sched.gather(m, {
          function() sched.sleep(m, 0.02); return "x", 1 end,
          function() return "y" end,
          function() return end,
        })
        return inner[1][1], inner[1][2], inner[2][1], inner[3].n
      end,
      function() sched.sleep(m, 0.01); return "outer" end,
      function() return sched.gather(m, {}) end,
    })
    assert.same({ "x", 1, "y", 0 }, { res[1][1], res[1][2], res[1][3], res[1][4] })
    assert.equal("outer", res[2][1])
    assert.same({}, res[3][1])
    m:close()
  end)

  it("raises in the nested gather's caller, naming both tasks, and stops its siblings", function()
    local m = curl.multi()
    local sibling_finished = false
    local ok, err = pcall(sched.gather, m, {
      function()
        sched.gather(m, {
          function() sched.sleep(m, 0.2); sibling_finished = true end,
          function() sched.sleep(m, 0.01); error("boom", 0) end,
        })
      end,
    })
    assert.is_false(ok)
    assert.equal("homie: gather task 1 failed: homie: gather task 2 failed: boom", err)
    assert.is_false(sibling_finished)
    m:close()
  end)

  it("lets a task catch a nested gather's failure and carry on", function()
    local m = curl.multi()
    local res = sched.gather(m, {
      function()
        local ok, err = pcall(sched.gather, m, { function() error("inner", 0) end })
        sched.sleep(m, 0.01)
        return ok, err
      end,
    })
    assert.is_false(res[1][1])
    assert.equal("homie: gather task 1 failed: inner", res[1][2])
    m:close()
  end)
end)
