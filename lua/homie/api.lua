-- The API's calls on a session, shared by the client's methods and ask:
-- the checks every call makes before any I/O, a page read, and a send
-- (with reconcile after a failure that may have been stored). The client
-- owns the public methods; this file owns what they do.
local util = require "homie.util"
local session_mod = require "homie.session"
local message = require "homie.message"
local reconcile = require "homie.reconcile"

local M = {}

-- An allowed-options set: the per-call options plus `names`.
function M.with_call_options(names)
  local t = {}
  for _, k in ipairs(session_mod.CALL_OPTIONS) do t[k] = true end
  for _, k in ipairs(names) do t[k] = true end
  return t
end

-- The per-call options of `opts` copied into `o`.
function M.call_options(opts, o)
  for _, k in ipairs(session_mod.CALL_OPTIONS) do o[k] = opts[k] end
  return o
end

-- `opts` checked against `allowed`, the per-call options ranged.
function M.checked_opts(where, opts, allowed)
  opts = util.check_opts(where, opts, allowed)
  return session_mod.check_call_options(opts)
end

M.SEND_OPTIONS = M.with_call_options({ "currentUrl", "store", "reconcile" })

-- Every check of a send, before any I/O; ask makes the same ones first,
-- with its own option set (`allowed`, `where`).
function M.check_send(text, opts, allowed, where)
  util.check_text("text", text)
  opts = M.checked_opts(where or "send_message", opts, allowed or M.SEND_OPTIONS)
  util.check_text("currentUrl", opts.currentUrl)
  if opts.store ~= nil then util.check_text("store", opts.store) end
  if opts.reconcile ~= nil then util.check_type("reconcile", opts.reconcile, "boolean") end
  return opts
end

function M.check_page_number(name, v)
  if v ~= nil and (type(v) ~= "number" or v < 1 or v ~= math.floor(v)) then
    util.fail(name .. " must be a positive integer")
  end
end

local function fmt(v) return v and ("%d"):format(v) end

-- One page of a chat's messages. o: page, size, the per-call options or
-- `bounds`.
function M.read_page(session, chat_id, o)
  local query = ""
  if o.page or o.size then query = util.query({ { "page", fmt(o.page) }, { "size", fmt(o.size) } }) end
  local data, err = session:call("GET", "/v1/chats/" .. chat_id .. "/messages", M.call_options(o, {
    query = query,
    idempotent = true, bounds = o.bounds }))
  if not data then return nil, err end
  for _, m in ipairs(data.items or {}) do message.normalize(m) end
  return data
end

-- A checked send: the POST, then with `reconcile` (the call's, else the
-- client's) a look at the history after a failure that may have been
-- stored, inside the same bounds `b` (ask passes its own).
function M.send(session, chat_id, text, opts, b)
  local recon = session.reconcile
  if opts.reconcile ~= nil then recon = opts.reconcile end
  b = b or session:bounds(opts)
  local started = os.time()  -- wall clock: compared with the server's createdAt
  local data, err = session:call("POST", "/v1/chats/" .. chat_id .. "/messages", M.call_options(opts, {
    query = util.query({ { "store", opts.store } }),
    body = { message = text, currentUrl = opts.currentUrl }, idempotent = false, bounds = b }))
  if data then return message.normalize(data) end
  if recon and err.maybe_stored then
    local reads = b:derive(opts.timeout or session.timeout)
    local function page(n, size)
      return M.read_page(session, chat_id, { page = n, size = size, max_retries = opts.max_retries,
        retry = opts.retry, bounds = reads, observe = opts.observe, traceparent = opts.traceparent,
        tracestate = opts.tracestate })
    end
    local answer = reconcile.find_answer(session, page, chat_id, text, started, b, session:policy_for(opts))
    if answer then return message.recovered(answer, err) end
  end
  return nil, err
end

return M
