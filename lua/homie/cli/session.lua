-- `homie chat`: the interactive conversation. Reads the shopper's lines,
-- sends each with chat:ask and shows the reply as it streams in; slash
-- commands steer the session.
local render = require "homie.cli.render"
local term = require "homie.cli.term"
local usage = require "homie.cli.usage"

local M = {}

local COMMANDS_HELP = usage.TEXT.chat:match("Commands inside the chat:\n(.*)$")

-- The live view of one answer: typing and tool steps on a status line
-- (rewritten in place on a terminal, one line each otherwise), then the
-- text chunk by chunk.
local function live_view(ctx)
  local paint, tty = ctx.paint, ctx.tty
  local view = { text = nil, shown = {} }
  local status_on = false

  local function clear()
    if tty and status_on then ctx:out("\r\27[2K") end
    status_on = false
  end

  local function status(s)
    if view.text then return end  -- the answer has started: no more status
    if tty then
      ctx:out("\r\27[2K" .. paint("dim", s))
      status_on = true
    elseif not view.shown[s] then
      view.shown[s] = true
      ctx:out(s .. "\n")
    end
  end

  -- A finished step stays on screen; Homie is still at work until the
  -- answer starts.
  local function step_done(s)
    clear()
    ctx:out(paint("dim", "  ✓ " .. s) .. "\n")
    if tty then status("homie is typing…") end
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
      if not view.text then
        clear()
        view.text = ""
        ctx:out(paint("magenta", "homie> "))
      end
      view.text = view.text .. d.content
      ctx:out(term.clean(d.content, true))
    end
  end

  -- After the reply: the rest of its text (all of it when no chunk came),
  -- products and suggestions.
  function view.finish(reply)
    clear()
    local content = reply.content or ""
    if not view.text then
      ctx:out(paint("magenta", "homie> ") .. term.clean(content, true))
    elseif content:sub(1, #view.text) == view.text then
      ctx:out(term.clean(content:sub(#view.text + 1), true))
    end
    ctx:out("\n" .. render.products(reply.products, paint) .. render.suggestions(reply.suggestions, paint))
  end

  function view.abort() clear() end
  return view
end

local Session = {}
Session.__index = Session

function Session:error(err)
  self.ctx:note(render.error_line(err, self.ctx.secret))
end

function Session:ask(text)
  if not self.page then
    self.ctx:out(self.ctx.paint("yellow", "no page set: /url PAGE sets the page the shopper is on") .. "\n")
    return
  end
  local view = live_view(self.ctx)
  local reply, err = self.chat:ask(text, { currentUrl = self.page, store = self.store, on_event = view.on_event })
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
    self.ctx:out(render.history_line(m, paint) .. render.products(m.products, paint))
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
  local paint = self.ctx.paint
  if page ~= "" then self.page = page end
  self.ctx:out(paint("dim", "page: " .. (self.page and term.clean(self.page) or "(none)")) .. "\n")
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

-- Returns nothing when the shopper leaves, or an error when the chat
-- could not even be opened.
function M.run(ctx, opts)
  local chat, err = ctx:open_chat(opts.chat)
  if not chat then return err end
  local self = setmetatable({ ctx = ctx, chat = chat, page = opts.url, store = opts.store, suggestions = {} }, Session)
  self.terminal_echoes = ctx.stdin_tty  -- a terminal shows what was typed
  local paint = ctx.paint
  ctx:out(paint("dim", ("chat %s · page %s · /help for commands, /quit to leave")
    :format(chat.id, self.page and term.clean(self.page) or "(none: /url PAGE)")) .. "\n")
  while true do
    ctx:out(paint("bold", paint("cyan", "you> ")))
    local line = ctx.stdin:read("*l")
    if not line then ctx:out("\n"); return end  -- end of input (Ctrl-D)
    if not self.terminal_echoes then ctx:out(line .. "\n") end  -- a transcript when input is piped
    line = line:match("^%s*(.-)%s*$")
    local n = line:match("^%d+$") and tonumber(line)
    if n and self.suggestions[n] then
      line = self.suggestions[n]
      ctx:out(paint("dim", "→ " .. term.clean(line)) .. "\n")
    end
    if line:sub(1, 1) == "/" then
      if self:command(line) then return end
    elseif line ~= "" then
      self:ask(line)
    end
  end
end

return M
