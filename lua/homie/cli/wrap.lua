-- Word wrapping for bin/homie's terminal output, also for text that
-- arrives in pieces (a streamed answer): a word is written once it is
-- complete, on the current line when it fits, else on the next one. Only a
-- word longer than a whole line is cut. Widths count characters (term.width).
local term = require "homie.cli.term"

local M = {}
local Wrapper = {}
Wrapper.__index = Wrapper

-- write(s) receives the output. width nil: text passes through unchanged.
-- col: the column the cursor is at when the first piece comes (after a
-- prompt); indent: spaces that start each continuation line.
function M.new(write, width, col, indent)
  return setmetatable({ emit = write, width = width, col = col or 0, indent = indent or 0,
    word = "", spaces = "" }, Wrapper)
end

function Wrapper:newline()
  self.emit("\n" .. string.rep(" ", self.indent))
  self.col = self.indent
end

function Wrapper:put_word()
  local word, w = self.word, term.width(self.word)
  if w == 0 then return end
  self.word = ""
  local gap = term.width(self.spaces)
  if self.col > self.indent and self.col + gap + w > self.width then
    self:newline()
  else
    self.emit(self.spaces)
    self.col = self.col + gap
  end
  self.spaces = ""
  -- A word wider than a line: cut it at the line's end, as a terminal would.
  while self.col + term.width(word) > self.width and self.width - self.col > 0 do
    local room = self.width - self.col
    local head = word:match("^" .. ("[%z\1-\127\194-\244][\128-\191]*"):rep(room))
    if not head then break end
    self.emit(head)
    word = word:sub(#head + 1)
    self:newline()
  end
  self.emit(word)
  self.col = self.col + term.width(word)
end

-- Adds text; words still open at its end wait for the next piece.
function Wrapper:write(s)
  if not self.width then
    self.emit(s)
    return
  end
  for word, gap in s:gmatch("([^ \n]*)([ \n]*)") do
    self.word = self.word .. word
    if gap ~= "" then
      self:put_word()
      for space, nl in gap:gmatch("( *)(\n?)") do
        self.spaces = self.spaces .. space
        if nl ~= "" then
          self.emit("\n")
          self.col, self.spaces = 0, ""
        end
      end
    end
  end
end

-- Writes the last open word.
function Wrapper:finish()
  if self.width then self:put_word() end
  self.spaces = ""
end

-- A whole text wrapped: the lines joined by "\n" (no final newline).
function M.text(s, width, col, indent)
  local out = {}
  local w = M.new(function(piece) out[#out + 1] = piece end, width, col, indent)
  w:write(s)
  w:finish()
  return table.concat(out)
end

return M
