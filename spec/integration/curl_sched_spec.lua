-- The curl transport's scheduler (homie.transport.curl_sched) and the ready
-- list homie.curl fills for it, over real loopback sockets.
local curl = require "homie.curl"
local sched = require "homie.transport.curl_sched"
local mock = require "spec.support.mock"
local script_server = require "spec.support.script_server"
local now = require("homie.sse").now

describe("curl scheduler", function()
  it("reports a finished transfer's id in the ready list of the step that saw it end", function()
    local m = curl.multi()
    local port = mock.dead_port() -- nobody listens: the connect is refused
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

  it("lists each transfer that progressed once per step", function()
    local srv = script_server.start{ { status = 200, sse = true, body = { "data: 1\n\n", 0.05, "data: 2\n\ndata: 3\n\n" } } }
    finally(function() srv:stop() end) -- also when an assertion fails
    local m = curl.multi()
    local plain = m:request{ url = srv.url .. "/a" }
    local stream = m:request{ url = srv.url .. "/b", stream = true }
    local give_up = now() + 10
    while not (plain:done() and stream:done()) do
      assert(now() < give_up, "the transfers did not end")
      local ready = {}
      local _, count = m:step(0.05, ready)
      local seen = {}
      for i = 1, count do
        assert.is_nil(seen[ready[i]], "id " .. tostring(ready[i]) .. " twice in one step")
        seen[ready[i]] = true
      end
      if stream:pending() > 0 then stream:take() end
    end
    m:close()
  end)

  it("starts each task with no arguments, then resumes it with its wait's answer", function()
    local m = curl.multi()
    local out = sched.gather(m, {
      function(...)
        local n = select("#", ...)
        return n, sched.wait(m, nil, function() return false end, 0)
      end,
    })
    assert.same({ 0, false }, { out[1][1], out[1][2] })
    m:close()
  end)

  it("returns from sleep(0) at once, without letting other tasks run first", function()
    local m = curl.multi()
    local order = {}
    sched.gather(m, {
      function() sched.sleep(m, 0); order[#order + 1] = "a" end,
      function() order[#order + 1] = "b" end,
    })
    assert.same({ "a", "b" }, order)
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

  it("wakes 40 sleepers started in random order each in deadline order", function()
    local m = curl.multi()
    local never = function() return false end
    local t0 = now() + 0.05
    -- Deadlines 2 ms apart, all on one base: the order cannot depend on
    -- when each task happened to start, only on the scheduler's heap.
    local n, perm = 40, {}
    for i = 1, n do perm[i] = i end
    math.randomseed(20)
    for i = n, 2, -1 do
      local j = math.random(i)
      perm[i], perm[j] = perm[j], perm[i]
    end
    local order, tasks = {}, {}
    for k, i in ipairs(perm) do
      tasks[k] = function()
        assert.is_false(sched.wait(m, nil, never, t0 + i * 0.002))
        order[#order + 1] = i
      end
    end
    sched.gather(m, tasks)
    local want = {}
    for i = 1, n do want[i] = i end
    assert.same(want, order)
    m:close()
  end)

  it("wakes sleepers in deadline order also when new ones join while others sleep", function()
    local m = curl.multi()
    local order = {}
    local never = function() return false end
    local t0 = now() + 0.05
    local function sleeper(i) return function() sched.wait(m, nil, never, t0 + i * 0.003); order[#order + 1] = i end end
    -- Each early waker starts more sleepers in a nested gather, so pushes
    -- and pops interleave on the same heap.
    local tasks = {}
    for _, i in ipairs({ 9, 3, 14, 1, 12, 6 }) do tasks[#tasks + 1] = sleeper(i) end
    tasks[#tasks + 1] = function()
      sched.wait(m, nil, never, t0)
      sched.gather(m, { sleeper(13), sleeper(2), sleeper(11), sleeper(5), sleeper(8), sleeper(4) })
    end
    tasks[#tasks + 1] = function()
      sched.wait(m, nil, never, t0 + 0.0045)
      sched.gather(m, { sleeper(10), sleeper(7) })
    end
    sched.gather(m, tasks)
    assert.same({ 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14 }, order)
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

  it("stops the siblings of a raising task even when the caller catches the error", function()
    local m = curl.multi()
    local sibling_ran_on = false
    local res = sched.gather(m, {
      function()
        local ok, err = pcall(sched.gather, m, {
          function() sched.sleep(m, 0.05); sibling_ran_on = true end,
          function() sched.sleep(m, 0.01); error("boom", 0) end,
        })
        -- Outlive the sibling's sleep: a sibling left running would wake now.
        sched.sleep(m, 0.15)
        return ok, err
      end,
    })
    assert.is_false(res[1][1])
    assert.equal("homie: gather task 2 failed: boom", res[1][2])
    assert.is_false(sibling_ran_on)
    m:close()
  end)

  it("also stops what a stopped sibling's own gather was running", function()
    local m = curl.multi()
    local grandchild_ran_on = false
    local res = sched.gather(m, {
      function()
        local ok = pcall(sched.gather, m, {
          function()
            sched.gather(m, { function() sched.sleep(m, 0.05); grandchild_ran_on = true end })
          end,
          function() sched.sleep(m, 0.01); error("boom", 0) end,
        })
        sched.sleep(m, 0.15)
        return ok
      end,
    })
    assert.is_false(res[1][1])
    assert.is_false(grandchild_ran_on)
    m:close()
  end)

  it("beside: runs main in the calling task's own coroutine and side beside it, and waits for both", function()
    local m = curl.multi()
    local order = {}
    local res = sched.gather(m, {
      function()
        local caller = coroutine.running()
        local a, b = sched.beside(m, function()
          assert.equal(caller, coroutine.running())  -- no coroutine of its own
          sched.sleep(m, 0.02); order[#order + 1] = "main"; return "sent", 2
        end, function() sched.sleep(m, 0.06); order[#order + 1] = "side" end)
        order[#order + 1] = "returned"
        return a, b
      end,
    })
    assert.same({ "sent", 2 }, { res[1][1], res[1][2] })
    assert.same({ "main", "side", "returned" }, order)
    -- Outside a gather it is a gather of the two.
    assert.equal("alone", (sched.beside(m, function() sched.sleep(m, 0.01) return "alone" end, function() end)))
    m:close()
  end)

  it("beside: a side that raises ends at once; main still runs to its end, then the error is raised", function()
    local m = curl.multi()
    local main_done = false
    local res = sched.gather(m, {
      function()
        return pcall(sched.beside, m, function() sched.sleep(m, 0.05); main_done = true end,
          function() sched.sleep(m, 0.01); error("side broke", 0) end)
      end,
    })
    assert.is_false(res[1][1])
    assert.equal("homie: gather task 2 failed: side broke", res[1][2])
    assert.is_true(main_done)
    m:close()
  end)

  it("beside: a main that raises stops its side and raises as it is", function()
    local m = curl.multi()
    local side_ran_on = false
    local res = sched.gather(m, {
      function()
        local ok, err = pcall(sched.beside, m, function() sched.sleep(m, 0.01); error("main broke", 0) end,
          function() sched.sleep(m, 0.05); side_ran_on = true end)
        sched.sleep(m, 0.15)
        return ok, err
      end,
    })
    assert.same({ false, "main broke" }, { res[1][1], res[1][2] })
    assert.is_false(side_ran_on)
    m:close()
  end)

  it("checks its tasks and refuses a task that yields what no homie wait yields", function()
    local m = curl.multi()
    assert.has_error(function() sched.gather(m, { function() end, "x" }) end, "homie: gather task 2 must be a function")
    local ok, err = pcall(sched.gather, m, { function() coroutine.yield("mine") end })
    assert.is_false(ok)
    assert.equal("homie: gather task 1 yielded outside homie", err)
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
