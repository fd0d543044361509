-- Programming errors raise at the boundary: every public function, given a
-- wrong-typed option or a misspelled one, raises a message that names the
-- option and points at the caller's own file and line, before any request.
local h = require "spec.unit.helpers"
local homie = require "homie"

local THIS = debug.getinfo(1, "S").short_src

-- Calls fn (which makes the bad call on its first line) and checks the
-- error: it names `what` and points at that line of this file.
local function raises_here(fn, what)
  local line = debug.getinfo(fn, "S").linedefined
  local ok, msg = pcall(fn)
  assert.is_false(ok, "no error for " .. what)
  msg = tostring(msg)
  assert.is_truthy(msg:find(what, 1, true), ("%q does not name %s"):format(msg, what))
  local where = ("%s:%d:"):format(THIS, line)
  assert.are.equal(where, msg:sub(1, #where), "error position of " .. what)
end

describe("usage errors", function()
  local client, fake, chat
  before_each(function()
    client, fake = h.client()
    chat = client:chat(h.CHAT)
  end)
  after_each(function()
    assert.are.equal(0, #fake.log, "a usage error sent a request")
  end)

  it("homie.new names every wrong option at the caller's line", function()
    raises_here(function() local _ = homie.new{ api_key = "k", environment = 5 } end, "environment")
    raises_here(function() local _ = homie.new{ api_key = 5 } end, "api_key")
    raises_here(function() local _ = homie.new{ api_key = "k", base_url = 5 } end, "base_url")
    raises_here(function() local _ = homie.new{ api_key = "k", auth = 5 } end, "auth")
    raises_here(function() local _ = homie.new{ api_key = "k", insecure = "yes" } end, "insecure")
    raises_here(function() local _ = homie.new{ api_key = "k", logger = "stderr" } end, "logger")
    raises_here(function() local _ = homie.new{ api_key = "k", ca_file = 1 } end, "ca_file")
    raises_here(function() local _ = homie.new{ api_key = "k", ca_path = 1 } end, "ca_path")
    raises_here(function() local _ = homie.new{ api_key = "k", reconcile = "on" } end, "reconcile")
    raises_here(function() local _ = homie.new{ api_key = "k", timeout = "5" } end, "timeout")
    raises_here(function() local _ = homie.new{ api_key = "k", retry = { base = "1" } } end, "retry.base")
    raises_here(function() local _ = homie.new{ api_key = "k", timeuot = 5 } end, "did you mean 'timeout'")
    raises_here(function() local _ = homie.new{ api_key = "k", transport = "carrier-pigeon" } end, "transport")
    raises_here(function() local _ = homie.new{ api_key = "k", transport = { version = "x" } } end,
      "transport object lacks method 'now'")
  end)

  it("every client method names a wrong or misspelled option at the caller's line", function()
    local text, url = "hi", { currentUrl = h.PAGE }
    raises_here(function() local _ = client:create_chat{ chatbotId = h.BOT, timeout = "1" } end, "timeout")
    raises_here(function() local _ = client:create_chat{ chatbotid = h.BOT } end, "chatbotId")
    raises_here(function() local _ = client:send_message(h.CHAT, text, { currentUrl = h.PAGE, deadline = -1 }) end, "deadline")
    raises_here(function() local _ = client:send_message(h.CHAT, text, { currentURL = h.PAGE }) end, "currentUrl")
    raises_here(function() local _ = client:send_message(h.CHAT, text, { currentUrl = h.PAGE, reconcile = 1 }) end, "reconcile")
    raises_here(function() local _ = client:list_messages(h.CHAT, { page = 0 }) end, "page")
    raises_here(function() local _ = client:list_messages(h.CHAT, { max_retires = 1 }) end, "max_retries")
    raises_here(function() local _ = client:messages(h.CHAT, { size = "9" }) end, "size")
    raises_here(function() local _ = client:events(h.CHAT, { idle_timeout = "9" }) end, "idle_timeout")
    raises_here(function() local _ = client:events(h.CHAT, { last_event = "9" }) end, "last_event_id")
    raises_here(function() local _ = client:chat("nope") end, "chat_id")
    raises_here(function() local _ = client:gather{ 1 } end, "gather task 1")
    raises_here(function() local _ = chat:send(text, { currentUrl = 5 }) end, "currentUrl")
    raises_here(function() local _ = chat:list_messages{ size = -1 } end, "size")
    raises_here(function() local _ = chat:events{ max_reconnects = "x" } end, "max_reconnects")
    assert.is_truthy(url)
  end)

  it("chat:ask checks every option before any request: currentUrl, timeout, deadline, max_retries", function()
    raises_here(function() local _ = chat:ask("hi", {}) end, "currentUrl")
    raises_here(function() local _ = chat:ask("hi", { currentUrl = h.PAGE, timeout = "2" }) end, "timeout")
    raises_here(function() local _ = chat:ask("hi", { currentUrl = h.PAGE, deadline = -2 }) end, "deadline")
    raises_here(function() local _ = chat:ask("hi", { currentUrl = h.PAGE, max_retries = {} }) end, "max_retries")
    raises_here(function() local _ = chat:ask("hi", { currentUrl = h.PAGE, on_event = 1 }) end, "on_event")
    raises_here(function() local _ = chat:ask("hi", { currentUrl = h.PAGE, final_wait = "5" }) end, "final_wait")
    raises_here(function() local _ = chat:ask("hi", { currentUrl = h.PAGE, on_evnet = print }) end, "on_event")
    raises_here(function() local _ = chat:ask(5, { currentUrl = h.PAGE }) end, "text")
  end)

  it("stream methods name a wrong timeout at the caller's line", function()
    local stream = client:events(h.CHAT)
    raises_here(function() local _ = stream:next_event(-1) end, "timeout")
    raises_here(function() local _ = stream:open("1") end, "timeout")
  end)

  it("a method called with a dot says to use a colon", function()
    raises_here(function() local _ = chat.send("hi", { currentUrl = h.PAGE }) end, "chat:send(...) with a colon")
    raises_here(function() local _ = client.list_messages(h.CHAT) end, "client:list_messages(...) with a colon")
    local stream = client:events(h.CHAT)
    raises_here(function() local _ = stream.next_event(1) end, "stream:next_event(...) with a colon")
  end)
end)
