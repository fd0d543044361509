-- An in-memory transport for unit specs (doc/transport.md): scripted
-- answers, no socket, and a virtual clock. Waiting moves the clock instead
-- of sleeping, so a spec of reconnect backoffs or Retry-After runs in
-- microseconds and can assert the exact waits.
--
--   local fake = require("spec.support.fake_transport").new()
--   fake:on("POST", "/v1/chats", { status = 201, json = {...}, delay = 0.2 })
--   fake:on("GET", "/v1/chats/ID/messages", { {status = 503}, {status = 200, json = {...}} })
--   fake:on("GET", "/v1/chats/ID/messages/events", { status = 200, stream = {
--     "id: 1\ndata: a\n\n", { wait = 0.5, data = "..." }, { fail = { kind = "connection" } } } })
--   local client = homie.new{ api_key = "k", base_url = "http://fake", transport = fake }
--
-- A route's answer is a table, a list of tables (one per request, the last
-- repeating) or a function(req, n) returning one. Answer fields: status,
-- headers, body or json, delay (virtual seconds before the head), fail (a
-- transport failure instead of an answer), stream (items read one by one:
-- a string, or { wait = s, data = string } / { wait = s, fail = {...} };
-- after the last item the body ends cleanly, unless the last is { stall = true }).
-- fake.log holds every request as { method, path, headers, body, at }.
-- fake.early = s: a read that times out returns s seconds before its
-- deadline, as a cosocket's does on nginx's millisecond clock.
local cjson = require "cjson"

local M = {}
local Fake = {}
Fake.__index = Fake

local WAIT = {}  -- yield marker of a task that waits for the clock

function M.new()
  return setmetatable({ name = "fake", version = "fake 1", clock = 1000, routes = {},
    log = {}, opened = 0, open_now = 0, tasks = setmetatable({}, { __mode = "k" }), closed = false },
    Fake)
end

function Fake:now() return self.clock end

-- Waits until the virtual time `at`: inside a gather task, by yielding to
-- the scheduler (other tasks run meanwhile); outside, by moving the clock.
function Fake:wait_until(at)
  if at <= self.clock then return end
  local co = coroutine.running()
  if co and self.tasks[co] then
    coroutine.yield(WAIT, at)
  else
    self.clock = at
  end
end

function Fake:sleep(s)
  if s > 0 then self:wait_until(self.clock + s) end
end

local pack = table.pack or function(...) return { n = select("#", ...), ... } end
local unpack = table.unpack or unpack

-- Runs the tasks in virtual time: always the one whose wait ends first.
function Fake:gather(fns)
  local results, wake, cos, live = {}, {}, {}, 0
  local function run(i)
    local r = pack(coroutine.resume(cos[i]))
    if not r[1] then
      for j in pairs(wake) do wake[j] = nil end
      error(("homie: gather task %d failed: %s"):format(i, tostring(r[2])), 0)
    end
    if coroutine.status(cos[i]) == "dead" then
      results[i], wake[i], live = pack(unpack(r, 2, r.n)), nil, live - 1
    else
      assert(r[2] == WAIT, "a gather task yielded outside homie")
      wake[i] = r[3]
    end
  end
  for i, fn in ipairs(fns) do
    cos[i] = coroutine.create(fn)
    self.tasks[cos[i]], live = true, live + 1
    run(i)
  end
  while live > 0 do
    local next_i
    for i, at in pairs(wake) do
      if not next_i or at < wake[next_i] or (at == wake[next_i] and i < next_i) then next_i = i end
    end
    self:wait_until(wake[next_i])  -- nested gathers wait in their parent's task
    wake[next_i] = nil
    run(next_i)
  end
  return results
end

function Fake:close() self.closed = true end

function Fake:on(method, path, answer)
  self.routes[method .. " " .. path] = { answer = answer, n = 0 }
end

-- The requests so far whose "METHOD path" (query included) matches `pattern`.
function Fake:count(pattern)
  local n = 0
  for _, r in ipairs(self.log) do
    if (r.method .. " " .. r.path):find(pattern) then n = n + 1 end
  end
  return n
end

local function answer_for(self, req)
  assert(not self.closed, "homie: attempt to use a closed client")
  local path = req.url:gsub("^https?://[^/]+", "")
  self.log[#self.log + 1] = { method = req.method, path = path, headers = req.headers,
    body = req.body, at = self.clock, idempotent = req.idempotent }
  local route = self.routes[req.method .. " " .. path]
    or self.routes[req.method .. " " .. path:gsub("%?.*$", "")]
  if not route then return { status = 404, json = { statusCode = 404, message = "no fake route " .. path } } end
  route.n = route.n + 1
  local a = route.answer
  if type(a) == "function" then return a(req, route.n) end
  if a[1] then return a[math.min(route.n, #a)] end
  return a
end

local function headers_of(a)
  local h = {}
  for k, v in pairs(a.headers or {}) do h[k:lower()] = v end
  if a.json and not h["content-type"] then h["content-type"] = "application/json" end
  if a.stream and not h["content-type"] then h["content-type"] = "text/event-stream" end
  return h
end

local function timeout_fail() return { kind = "timeout", message = "deadline exceeded", sent = true, retryable = true } end

function Fake:request(req)
  local a = answer_for(self, req)
  local done_at = self.clock + (a.delay or 0)
  if req.deadline_at and done_at > req.deadline_at then
    self:wait_until(req.deadline_at)
    return nil, timeout_fail()
  end
  self:wait_until(done_at)
  if a.fail then return nil, a.fail end
  return { status = a.status, headers = headers_of(a), body = a.body or (a.json and cjson.encode(a.json)) or "" }
end

local Stream = {}
Stream.__index = Stream

function Fake:open(req)
  local a = answer_for(self, req)
  self.opened, self.open_now = self.opened + 1, self.open_now + 1
  return setmetatable({ fake = self, a = a, i = 0, ready_at = self.clock + (a.delay or 0) }, Stream)
end

function Stream:head(deadline_at)
  local fake, a = self.fake, self.a
  if deadline_at and self.ready_at > deadline_at then
    fake:wait_until(deadline_at)
    return nil, { kind = "timeout", message = "no response headers in time", sent = true, retryable = true }
  end
  fake:wait_until(self.ready_at)
  if a.fail then return nil, a.fail end
  self:advance()
  return a.status, headers_of(a)
end

-- Moves to the next item and computes when it is ready.
function Stream:advance()
  self.i = self.i + 1
  local item = (self.a.stream or {})[self.i]
  self.ready_at = self.fake.clock + (type(item) == "table" and item.wait or 0)
  if type(item) == "table" and item.stall then self.ready_at = math.huge end
end

function Stream:read(deadline_at)
  local fake = self.fake
  assert(not self.closed, "read on a closed fake stream")
  if deadline_at and self.ready_at > deadline_at then
    fake:wait_until(deadline_at - (fake.early or 0))
    return nil, { kind = "timeout", message = "no bytes in time", sent = true, retryable = true, idle = true }
  end
  assert(self.ready_at < math.huge, "fake stream: read with no deadline on a stalled stream")
  fake:wait_until(self.ready_at)
  local item = (self.a.stream or {})[self.i]
  if item == nil then return nil end
  self:advance()
  if type(item) == "string" then return item end
  if item.fail then return nil, item.fail end
  return item.data
end

function Stream:rest()
  return self.a.body or (self.a.json and cjson.encode(self.a.json)) or ""
end

function Stream:close()
  if not self.closed then
    self.closed = true
    self.fake.open_now = self.fake.open_now - 1
  end
end

return M
