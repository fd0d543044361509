-- The whole client (homie.new) inside a real nginx: the transport is chosen
-- by itself, and every endpoint, error kind and gather work on cosockets
-- against the emulator. Stream resume and idle reconnects, with the other
-- failure cases, are in spec/integration/ngx_reliability_spec.lua.
local mock = require "spec.support.mock"
local nginx = require "spec.support.nginx"

local PRELUDE = [[
local cjson = require "cjson"
local homie = require "homie"
local T = require "spec.support.ngx_t"
local client = homie.new{ api_key = T.KEY, base_url = T.mock_url() }
local HOODIE, PAGE = "Does the blue hoodie come in size L?", "https://store.com/products/blue-hoodie"
local function control(path, body)
  local t = client.transport
  local resp = assert(t:request(T.req(t, body and "POST" or "GET", path, { body = body and cjson.encode(body) })))
  return cjson.decode(resp.body)
end
local function err_table(err)
  return err and { kind = err.kind, status = err.status, attempts = err.attempts, retryable = err.retryable,
                   message = err.message } or nil
end
]]

local LOCATIONS = {
  ["/c/endpoints"] = [[
    control("/__mock/reset", {})
    local chat = assert(client:create_chat{ chatbotId = T.BOT })
    local reply = assert(client:send_message(chat.id, HOODIE, { currentUrl = PAGE }))
    local page = assert(client:list_messages(chat.id, { page = 1, size = 1 }))
    local all = {}
    for msg, err in chat:messages{ size = 1 } do
      assert(msg, err)
      all[#all + 1] = msg.type
    end
    local seen = {}
    local asked = assert(chat:ask(HOODIE, { currentUrl = PAGE, on_event = function(ev)
      seen[#seen + 1] = ev.type end }))
    T.reply({ transport = client.transport.name, user_agent = client.user_agent,
      reply = reply.content, product = reply.products[1].designation,
      page_items = #page.items, total = page.totalItems, all = all,
      asked = asked.content, seen = seen, received = control("/__mock/stats").messages_received })
  ]],
  ["/c/errors"] = [[
    local out = {}
    local chat = assert(client:create_chat{ chatbotId = T.BOT })
    local function try(name, fault, fn)
      control("/__mock/reset", {})
      if fault then control("/__mock/faults", fault) end
      local ok, err = fn()
      out[name] = ok and { ok = true } or err_table(err)
    end
    local send = function(opts) return function() return chat:send(HOODIE, opts or { currentUrl = PAGE }) end end
    try("authentication", nil, function()
      return homie.new{ api_key = "wrong", base_url = T.mock_url() }:create_chat{ chatbotId = T.BOT } end)
    try("not_found", nil, function() return client:list_messages("00000000-0000-0000-0000-000000000000") end)
    try("invalid_request", nil, function() return client:list_messages(chat.id, { size = 1000 }) end)
    try("permission", { path = "/messages$", fault = { status = 403 } }, send())
    try("rate_limit", { path = "/messages$", times = 5, fault = { status = 429, headers = { ["Retry-After"] = "0" } } },
      send({ currentUrl = PAGE, max_retries = 1 }))
    try("server_retried", { path = "/messages$", fault = { status = 503, headers = { ["Retry-After"] = "0" } } }, send())
    out.server_retried.received = control("/__mock/stats").messages_received
    try("timeout", { path = "/messages$", method = "GET", fault = { stall = true } }, function()
      return chat:list_messages({ timeout = 0.3, max_retries = 0 }) end)
    try("protocol", { path = "/messages$", method = "GET", fault = { malformed = true } }, function()
      return chat:list_messages({ max_retries = 0 }) end)
    try("connection", nil, function()
      return homie.new{ api_key = T.KEY, base_url = "http://127.0.0.1:" .. os.getenv("DEAD_PORT"), max_retries = 0 }
        :create_chat{ chatbotId = T.BOT } end)
    try("max_body", nil, function()
      return homie.new{ api_key = T.KEY, base_url = T.mock_url(), max_body = 20 }:list_messages(chat.id) end)
    -- A send cut after the server stored it is not sent again.
    try("send_cut", { path = "/messages$", method = "POST", fault = { reset = "mid_body" } }, send())
    out.send_cut.received = control("/__mock/stats").messages_received
    try("send_reset", { path = "/messages$", method = "POST", fault = { reset = "before_headers" } }, send())
    out.send_reset.received = control("/__mock/stats").messages_received
    T.reply(out)
  ]],
  ["/c/gather"] = [[
    local chats = {}
    for i = 1, 3 do chats[i] = assert(client:create_chat{ chatbotId = T.BOT }) end
    local order = {}
    local tasks = {}
    for i = 1, 3 do
      tasks[i] = function()
        local r = assert(chats[i]:send(HOODIE, { currentUrl = PAGE }))
        order[#order + 1] = i
        return r.products[1].designation
      end
    end
    tasks[4] = function() client.transport:sleep(0.01); error("task four gives up") end
    local ok, err = pcall(client.gather, client, { tasks[4] })
    local results = client:gather({ tasks[1], tasks[2], tasks[3] })
    T.reply({ names = { results[1][1], results[2][1], results[3][1] }, raised = tostring(err), ok = ok })
  ]],
}
for path, code in pairs(LOCATIONS) do LOCATIONS[path] = PRELUDE .. code end

describe("homie client in nginx", function()
  local server, app

  setup(function()
    server = mock.start{ chunk_delay_ms = 5 }
    nginx.build()
    app = nginx.start{ locations = LOCATIONS, env = { MOCK_URL = server.url, DEAD_PORT = mock.dead_port() } }
  end)
  teardown(function()
    if app then app:stop() end
    if server then server:stop() end
  end)

  it("picks the ngx transport by itself and serves every endpoint and ask", function()
    local r = app:json("/c/endpoints")
    assert.equal("ngx", r.transport)
    assert.truthy(r.user_agent:find("; ngx_lua 0.", 1, true), r.user_agent)
    assert.truthy(r.reply:find("Size L is in stock", 1, true), r.reply)
    assert.equal("Blue Hoodie", r.product)
    assert.equal(1, r.page_items)
    assert.equal(2, r.total)
    assert.same({ "question", "answer" }, r.all)
    assert.equal(r.reply, r.asked)
    for _, want in ipairs({ "typing", "chunk", "message" }) do
      local found = false
      for _, t in ipairs(r.seen) do found = found or t == want end
      assert.is_true(found, want)
    end
    assert.equal(2, r.received)
  end)

  it("reports every error kind, and never stores a message twice", function()
    local r = app:json("/c/errors")
    assert.equal("authentication", r.authentication.kind)
    assert.equal("not_found", r.not_found.kind)
    assert.equal("invalid_request", r.invalid_request.kind)
    assert.equal("permission", r.permission.kind)
    assert.equal("rate_limit", r.rate_limit.kind)
    assert.equal(2, r.rate_limit.attempts)
    assert.is_true(r.server_retried.ok)
    assert.equal(1, r.server_retried.received)
    assert.equal("timeout", r.timeout.kind)
    assert.equal("protocol", r.protocol.kind)
    assert.equal("connection", r.connection.kind)
    assert.equal("protocol", r.max_body.kind)
    assert.is_nil(r.send_cut.ok)
    assert.equal(1, r.send_cut.attempts)
    assert.equal(1, r.send_cut.received)
    assert.equal(1, r.send_reset.attempts)
    assert.equal(0, r.send_reset.received)
  end)

  it("gathers sends on ngx.thread and re-raises a task's error", function()
    local r = app:json("/c/gather")
    assert.same({ "Blue Hoodie", "Blue Hoodie", "Blue Hoodie" }, r.names)
    assert.is_false(r.ok)
    assert.truthy(r.raised:find("homie: gather task 1 failed: ", 1, true), r.raised)
    assert.truthy(r.raised:find("task four gives up", 1, true), r.raised)
  end)
end)
