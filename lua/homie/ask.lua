-- ask: send a message and watch its reply being written, live. A function
-- the chat handle calls (chat:ask); it installs nothing.
local util = require "homie.util"
local message = require "homie.message"
local api = require "homie.api"
local stream_mod = require "homie.stream"
local observe = require "homie.observe"

local M = {}

local OPTIONS = api.with_call_options({ "currentUrl", "store", "on_event", "idle_timeout",
  "final_wait" })

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
--
-- Bounds, all from one homie.clock bounds: the stream opens within
-- `timeout` (and `deadline`); the send has the call's `timeout` per attempt
-- and the same `deadline`; the final wait ends `final_wait` after the send
-- returned, and never past `deadline`. Every option is checked before any
-- request goes out.
function M.ask(session, chat, text, opts)
  opts = api.check_send(text, opts, OPTIONS, "ask")
  local on_event = opts.on_event
  if on_event ~= nil then util.check_type("on_event", on_event, "function") end
  if opts.final_wait ~= nil then util.check_span("final_wait", opts.final_wait) end
  if opts.idle_timeout ~= nil then util.check_span("idle_timeout", opts.idle_timeout) end
  local b = session:bounds(opts)
  local hook = session:hook(opts)
  local stream = stream_mod.new(session, chat.id, { idle_timeout = opts.idle_timeout,
    observe = opts.observe, traceparent = opts.traceparent, tracestate = opts.tracestate })
  local first_chunk, finals = nil, {}  -- ids of the final answers the stream carried
  local open_ok = stream:_open(b:attempt_at())
  local reply, err, sent_at, streamed
  local started = os.time()  -- wall clock: compared with the answer's createdAt
  local send_opts = api.call_options(opts, { currentUrl = opts.currentUrl, store = opts.store })
  local final_wait = opts.final_wait or 5
  -- Reads the stream until it carried the reply's final event (or the
  -- bounds end it). `early`: while the send is out, an answer stored since
  -- the ask began ends the read at once ("early"), so the ask ends when the
  -- send returns rather than up to a slice later; whether that answer was
  -- the reply's is known then, and if not the read resumes.
  local function watch(early)
    if not open_ok then return end
    while true do
      if reply and finals[reply.id] then return end
      if err and (streamed or not err.maybe_stored) then return end
      if sent_at and b:now() >= b:cap(sent_at + final_wait) then return end
      if b:expired() then return end
      if early and streamed and not sent_at then return "early" end
      -- Short slices, so the end of the send is noticed promptly.
      local ev, why = stream:_next(b:within(0.1))
      if ev then
        if hook and not first_chunk and ev.type == "chunk" then first_chunk = b:now() - b.started_at end
        if on_event then on_event(ev) end
        if ev.type == "message" and message.is_answer(ev.data) then
          finals[ev.data.id] = true
          if message.stored_since(ev.data, started) then streamed = ev.data end
        end
      elseif why ~= "timeout" then
        return  -- the stream ended or failed: the reply still stands
      end
    end
  end
  -- pcall: a raising on_event must not leave the stream open.
  local read
  local function send()
    reply, err = api.send(session, chat.id, text, send_opts, b)
    sent_at = b:now()
  end
  local function side() read = watch(true) end
  local t = session.transport
  local ok, raised
  if t.beside then ok, raised = util.pcall(t.beside, t, send, side)
  else ok, raised = util.pcall(t.gather, t, { send, side }) end
  if ok and read == "early" then ok, raised = util.pcall(watch, false) end
  stream:_finish((reply and finals[reply.id] or not reply and streamed) and "final" or "closed")
  if not ok then error(raised, 0) end
  if not reply and err.maybe_stored and streamed then reply = message.recovered(streamed, err) end
  if hook then
    session:emit(hook, { type = "ask", first_chunk = first_chunk,
      final = reply and b:now() - b.started_at or nil, recovered = reply and reply.recovered == true or false,
      outcome = reply and "ok" or err.kind, trace_id = observe.trace_id((session:trace(opts))) })
  end
  if reply then return reply end
  return nil, err
end

return M
