-- The one-shot commands of bin/homie: send, history, events. Each takes the
-- context, its options and positionals, and returns nothing on success or
-- an error (a homie.Error, or a table with kind and message).
local args = require "homie.cli.args"
local json = require "homie.cli.json"
local render = require "homie.cli.render"

local M = {}

function M.send(ctx, opts, rest)
  if not opts.url then
    args.usage_error("homie send needs --url PAGE (the page the shopper is on)", "send")
  end
  local chat, created = ctx:open_chat(opts.chat)
  if not chat then return created end
  local reply, err = chat:send(rest[1], { currentUrl = opts.url, store = opts.store })
  if not reply then return err end
  if opts.json then
    ctx:out(json.encode(reply) .. "\n")
  else
    ctx:out(render.reply(reply, ctx.paint))
    if created then ctx:note("homie: new chat " .. chat.id .. " (continue it with --chat " .. chat.id .. ")") end
  end
end

function M.history(ctx, opts, rest)
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
    ctx:out(render.history_line(m, ctx.paint) .. render.products(m.products, ctx.paint))
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
  local client, err = ctx:client()
  if not client then return err end
  local stream = client:events(rest[1], { last_event_id = opts.last_event_id })
  for ev, e in stream do
    if not ev then return e end
    ctx:out(M.event_line(ev) .. "\n")
  end
end

return M
