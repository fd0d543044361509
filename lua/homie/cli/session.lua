-- `homie chat`: the interactive conversation. Reads the shopper's lines,
-- sends each with chat:ask and shows the reply as it streams in; slash
-- commands steer the session.
local input = require "homie.cli.input"
local render = require "homie.cli.render"
local term = require "homie.cli.term"
local usage = require "homie.cli.usage"
local wrap = require "homie.cli.wrap"

local M = {}

local PROMPT = "homie> "
-- Raised from on_event when Ctrl-C was typed during an answer; chat:ask
-- closes its stream and passes it on (inside a gather message).
local CANCELLED = "homie-cli: answer cancelled"

local COMMANDS_HELP = usage.TEXT.chat:match("Commands inside the chat:\n(.*)$")

-- The live view of one answer: typing and tool steps on a status line
-- rewritten in place (only on a terminal: a pipe gets no transient lines),
-- a finished step as a lasting line, then the text chunk by chunk, wrapped
-- to the terminal's width.
local function live_view(ctx)
  local paint, tty, width = ctx.paint, ctx.tty, ctx.width
  local view = { text = nil }
  local status_on = false
  local text_out  -- the answer's wrapper, once the answer has started
  local function out(s) ctx:out(s) end

  local function clear()
    if status_on then out("\r\27[2K") end
    status_on = false
  end

  local function status(s)
    if view.text or not tty then return end  -- the answer has started, or a pipe
    out("\r\27[2K" .. paint("dim", s))
    status_on = true
  end

  -- A finished step stays on screen; Homie is still at work until the
  -- answer starts.
  local function step_done(s)
    clear()
    out(paint("dim", wrap.text("  ✓ " .. s, width, 0, 4)) .. "\n")
    status("homie is typing…")
  end

  local function start_text()
    clear()
    view.text = ""
    out(paint("magenta", PROMPT))
    text_out = wrap.new(out, width, #PROMPT)
  end

  function view.on_event(ev)
    local d = ev.data
    if type(d) ~= "table" then return end
    if ev.type == "typing" then
      if d.typing then status("homie is typing…") else clear() end
    elseif ev.type == "message" and d.toolName then
      local step = render.step(d.toolName)
      if d.status == "inProgress" then
        status(step)
      elseif d.status == "completed" or d.status == "failed" then
        local what = d.content and term.clean(d.content) or step
        if d.status == "failed" then what = "failed: " .. what end
        if not view.text then step_done(what) end
      end
    elseif ev.type == "chunk" and type(d.content) == "string" then
      if not view.text then start_text() end
      view.text = view.text .. d.content
      text_out:write(term.clean(d.content, true))
    end
  end

  -- After the reply: the rest of its text (all of it when no chunk came),
  -- products and suggestions.
  function view.finish(reply)
    local content = reply.content or ""
    local seen = view.text
    if not seen then start_text() end
    if not seen then
      text_out:write(term.clean(content, true))
    elseif content:sub(1, #seen) == seen then
      text_out:write(term.clean(content:sub(#seen + 1), true))
    end
    text_out:finish()
    out("\n" .. render.products(reply.products, paint, width)
      .. render.suggestions(reply.suggestions, paint, width))
  end

  -- Cancelled: the status goes, a half-written answer ends its line.
  function view.abort()
    clear()
    if text_out then
      text_out:finish()
      out("\n")
    end
  end
  return view
end

local Session = {}
Session.__index = Session

function Session:error(err)
  self.ctx:note(render.error_line(err, self.ctx.secret))
end

-- Sends one question and shows the answer live. On a terminal, Ctrl-C
-- (read as a byte between events: term.keys_as_bytes) cancels the answer
-- and the session goes on.
function Session:ask(text)
  local ctx = self.ctx
  local view = live_view(ctx)
  local guard = ctx.stdin_tty and term.keys_as_bytes(ctx.stdin)
  local function on_event(ev)
    if guard and guard:interrupted() then error(CANCELLED, 0) end
    view.on_event(ev)
  end
  local ok, reply, err = pcall(self.chat.ask, self.chat, text,
    { currentUrl = self.page, store = self.store, on_event = on_event })
  if guard then guard:restore() end
  if not ok then
    if not tostring(reply):find(CANCELLED, 1, true) then error(reply, 0) end
    view.abort()
    ctx:out(ctx.paint("yellow", "(answer cancelled)") .. "\n")
    collectgarbage()  -- the abandoned send's transfer goes now, not at some later collection
    return
  end
  if not reply then
    view.abort()
    return self:error(err)
  end
  view.finish(reply)
  self.suggestions = reply.suggestions or {}
end

function Session:history()
  local paint, n = self.ctx.paint, 0
  for m, err in self.chat:messages() do
    if not m then return self:error(err) end
    n = n + 1
    self.ctx:out(render.history_line(m, paint, self.ctx.width) .. render.products(m.products, paint, self.ctx.width))
  end
  if n == 0 then self.ctx:out(paint("dim", "(no messages yet)") .. "\n") end
end

function Session:new_chat()
  local chat, err = self.ctx:open_chat(nil)
  if not chat then return self:error(err) end
  self.chat, self.suggestions = chat, {}
  self.ctx:out(self.ctx.paint("dim", "new chat " .. chat.id) .. "\n")
end

function Session:set_page(page)
  if page ~= "" then self.page = page end
  self.ctx:out(self.ctx.paint("dim", "page: " .. term.clean(self.page)) .. "\n")
end

-- Returns true when the session should end.
function Session:command(line)
  local name, rest = line:match("^/(%S*)%s*(.-)%s*$")
  if name == "quit" or name == "exit" or name == "q" then return true
  elseif name == "history" then self:history()
  elseif name == "new" then self:new_chat()
  elseif name == "url" then self:set_page(rest)
  elseif name == "help" then self.ctx:out(COMMANDS_HELP)
  else
    self.ctx:out(self.ctx.paint("yellow", "unknown command /" .. term.clean(name) .. "; /help lists them") .. "\n")
  end
end

-- A number picks one of the last answer's suggestions: its text, or nil
-- (and a note) when there is no such suggestion.
function Session:suggestion(n)
  local list, paint = self.suggestions, self.ctx.paint
  if list[n] then
    self.ctx:out(paint("dim", "→ " .. term.clean(list[n])) .. "\n")
    return list[n]
  end
  local why = #list == 0 and "there are no suggestions yet" or ("pick 1 to %d"):format(#list)
  self.ctx:out(paint("yellow", ("no suggestion %d: %s"):format(n, why)) .. "\n")
end

-- Returns nothing when the shopper leaves, or an error when the chat
-- could not even be opened.
function M.run(ctx, opts)
  local chat, err = ctx:open_chat(opts.chat)
  if not chat then return err end
  local self = setmetatable({ ctx = ctx, chat = chat, page = opts.url or ctx.DEFAULT_PAGE, store = opts.store,
    suggestions = {} }, Session)
  local paint = ctx.paint
  ctx:out(paint("dim", wrap.text(("chat %s · page %s · /help for commands, /quit to leave")
    :format(chat.id, term.clean(self.page)), ctx.width)) .. "\n")
  local reader = input.new(ctx)
  while true do
    local line = reader:read(paint("bold", paint("cyan", "you> ")))
    if not line then return end  -- end of input (Ctrl-D)
    line = line:match("^%s*(.-)%s*$")
    local n = line:match("^%d+$") and tonumber(line)
    if n then line = self:suggestion(n) or "" end
    if line:sub(1, 1) == "/" then
      if self:command(line) then return end
    elseif line ~= "" then
      self:ask(line)
    end
  end
end

return M
