-- The one-shot commands of bin/homie: send, history, events. Each takes the
-- context, its options and positionals, and returns nothing on success or
-- an error (a homie.Error, or a table with kind and message).
local args = require "homie.cli.args"
local context = require "homie.cli.context"
local json = require "homie.cli.json"
local mock = require "homie.cli.mock"
local render = require "homie.cli.render"

local M = {}

-- TEXT, or stdin's whole text for "-"; checked before anything is created.
local function message_text(ctx, text)
  if text == "-" then text = (ctx.stdin:read("*a") or ""):gsub("%s+$", "") end
  if not text:find("%S") then
    args.usage_error("the message is empty: give TEXT, or - to read it from stdin", "send")
  end
  return text
end

function M.send(ctx, opts, rest)
  local text = message_text(ctx, rest[1])
  local chat, created = ctx:open_chat(opts.chat)
  if not chat then return created end
  local reply, err = chat:send(text, { currentUrl = opts.url or context.DEFAULT_PAGE, store = opts.store })
  if not reply then return err end
  if opts.json then
    ctx:out(json.encode(reply) .. "\n")
  else
    ctx:out(render.reply(reply, ctx.paint, ctx.width))
    if created then ctx:note("homie: new chat " .. chat.id .. " (continue it with --chat " .. chat.id .. ")") end
  end
end

-- --mock starts an empty emulator for one command: it knows no chat.
local function no_mock(opts, command)
  if opts.mock then
    args.usage_error(("--mock starts an empty emulator for this one command, which knows no chat. Run "
      .. "`homie mock` in another terminal, paste the export lines it prints, then run homie %s "
      .. "without --mock"):format(command), command)
  end
end

function M.history(ctx, opts, rest)
  no_mock(opts, "history")
  local client, err = ctx:client()
  if not client then return err end
  local list = {}
  for m, e in client:messages(rest[1]) do
    if not m then return e end
    list[#list + 1] = m
  end
  if opts.json then
    ctx:out(json.encode(list, "items") .. "\n")
    return
  end
  for _, m in ipairs(list) do
    ctx:out(render.history_line(m, ctx.paint, ctx.width) .. render.products(m.products, ctx.paint, ctx.width))
  end
end

-- One event as one line of JSON. The data is the server's own JSON text
-- when it is JSON on one line, so nothing is lost in a decode/encode.
function M.event_line(ev)
  local data
  if type(ev.data) == "table" then
    data = ev.raw:find("[\r\n]") and json.encode(ev.data) or ev.raw
  else
    data = json.encode(ev.raw or ev.data)
  end
  return ('{"data":%s,"id":%s,"type":%s}'):format(data, json.encode(ev.id), json.encode(ev.type))
end

function M.events(ctx, opts, rest)
  no_mock(opts, "events")
  local client, err = ctx:client()
  if not client then return err end
  local stream = client:events(rest[1], { last_event_id = opts.last_event_id })
  -- Connect first, so the shopper knows the wait that follows is for events.
  local opened, why = stream:open(client.timeout)
  if opened == false then return why end
  if opened then ctx:note("homie: connected, following chat " .. rest[1] .. " (Ctrl-C stops)") end
  for ev, e in stream do
    if not ev then return e end
    ctx:out(M.event_line(ev) .. "\n")
  end
end

-- `homie mock`: an emulator that runs until Ctrl-C, and the lines that
-- point other shells at it (its own fresh key, never HOMIE_API_KEY).
function M.mock(ctx, opts)
  local port = opts.port and tonumber(opts.port)
  if opts.port and not (port and port == math.floor(port) and port >= 1 and port <= 65535) then
    args.usage_error("--port must be a port number (1 to 65535)", "mock")
  end
  local key = mock.new_key()
  local m, why = mock.start(ctx.root, key, port)
  if not m then return { kind = "emulator", message = why } end
  ctx.mock = m
  ctx:out(("export HOMIE_BASE_URL=%s\nexport HOMIE_API_KEY=%s\nexport HOMIE_CHATBOT_ID=%s\n")
    :format(m.url, key, context.MOCK_CHATBOT))
  ctx:note("homie: the emulator runs until Ctrl-C; in another shell, paste the lines above, then "
    .. "e.g. homie chat")
  m:wait()
  return { kind = "emulator", message = "the emulator stopped by itself" }
end

return M
