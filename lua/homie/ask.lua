-- ask: send a message and watch its reply being written, live. A function
-- the chat handle calls (chat:ask); it installs nothing.
local util = require "homie.util"
local message = require "homie.message"

local M = {}

local OPTIONS = { currentUrl = true, store = true, on_event = true, max_retries = true,
  timeout = true, deadline = true, idle_timeout = true, final_wait = true }

-- Opens the chat's event stream, sends `text` while it is open, calls
-- on_event(ev) for each event as it arrives, and returns the POST's reply
-- once the stream has carried that reply's final `message` event (or
-- `final_wait` seconds after the POST returned, for servers that never send
-- it). Stream trouble is not fatal.
--
-- When the send fails in a way the server may have acted on
-- (err.maybe_stored: bytes went out and no complete answer came back), the
-- stream may still carry the answer: ask keeps watching for up to
-- `final_wait` and returns the newest `message` answer that came after the
-- send began, marked recovered (homie.message). A chat is one shopper's
-- conversation: with two sends to it at once, that answer may be the
-- other's. Returns nil, err when no answer comes, or at once when the
-- failure provably never reached the server.
function M.ask(chat, text, opts)
  util.check_text("text", text, 3)
  opts = util.check_opts("ask", opts, OPTIONS, 3)
  local on_event = opts.on_event
  if on_event ~= nil then util.check_type("on_event", on_event, "function", 3) end
  if opts.final_wait ~= nil then util.check_span("final_wait", opts.final_wait, 3) end
  local client = chat:client()
  local t = client.transport
  local stream = client:events(chat.id, { idle_timeout = opts.idle_timeout })
  local open_ok = stream:open(opts.timeout or client.timeout)
  local reply, err, sent_at, streamed
  local started = os.time()  -- wall clock: compared with the answer's createdAt
  local send_opts = { currentUrl = opts.currentUrl, store = opts.store,
    max_retries = opts.max_retries, timeout = opts.timeout, deadline = opts.deadline }
  -- pcall: a raising on_event must not leave the stream open.
  local ok, raised = pcall(client.gather, client, {
    function()
      reply, err = chat:send(text, send_opts)
      sent_at = t:now()
    end,
    function()
      if not open_ok then return end
      local final_wait, finals = opts.final_wait or 5, {}
      while true do
        if reply and finals[reply.id] then return end
        if err and (streamed or not err.maybe_stored) then return end
        if sent_at and t:now() >= sent_at + final_wait then return end
        -- Short slices, so the end of the send is noticed promptly.
        local ev, why = stream:next_event(0.1)
        if ev then
          if on_event then on_event(ev) end
          if ev.type == "message" and message.is_answer(ev.data) then
            finals[ev.data.id] = true
            if message.stored_since(ev.data, started) then streamed = ev.data end
          end
        elseif why ~= "timeout" then
          return  -- the stream ended or failed: the reply still stands
        end
      end
    end,
  })
  stream:close()
  if not ok then error(raised, 0) end
  if reply then return reply end
  if err.maybe_stored and streamed then return message.recovered(streamed, err) end
  return nil, err
end

return M
